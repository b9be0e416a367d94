"""The generated data-format reference matches the declarations, and ruff is clean."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from builders import REPO

from model.docs import render


def test_data_format_reference_is_up_to_date() -> None:
    current = (REPO / "docs" / "data-format.md").read_text()
    assert current == render(), "run: python -m model.docs > docs/data-format.md"


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_is_clean() -> None:
    proc = subprocess.run(["ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
