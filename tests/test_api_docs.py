"""docs/api.md is a notebook: its python blocks run as written, in order, in one namespace,
in a temporary folder holding a copy of data/japan (the page's paths are relative to the
project folder). Its own asserts check what the data determine."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from builders import REPO

BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def blocks() -> list[str]:
    return BLOCK.findall((REPO / "docs" / "api.md").read_text(encoding="utf-8"))


def test_api_md_has_a_walkthrough() -> None:
    assert len(blocks()) >= 6


def test_api_md_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "data" / "japan", tmp_path / "data" / "japan")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_md"}
    for n, code in enumerate(blocks(), 1):
        try:
            exec(compile(code, f"docs/api.md block {n}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"docs/api.md block {n} failed: {exc!r}\n{code}") from exc
    result = namespace["result"]
    folder = tmp_path / "results" / "japan" / "base"
    for name in ("summary.csv", "run.json", "report.html", "design.geojson", "design.xlsx"):
        assert (folder / name).is_file(), name
    assert result.folder == folder.relative_to(tmp_path)


def test_import_model_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, model; print(sorted(m for m in ('pandas', 'pyomo') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
