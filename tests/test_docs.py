"""The docs: the generated data-format reference matches the declarations, the docs are
self-contained (nothing points outside the project), their links resolve, and ruff is clean."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from builders import REPO

from model.docs import render

# Names of files that live outside the project (the pre-release contract and reference
# notes beside dev checkouts), and any path into the folder beside the checkout. This file
# spells them out, so it is the one file not scanned.
OUTSIDE = re.compile(
    "|".join(
        [
            r"MODEL\.md",
            r"facts\.md",
            r"/work/shared",
            r"\.\./shared",
            r'"shared"\s*/',  # REPO.parent / "shared" / ...
            r'"shared/',  # parents[2] / "shared/..."
        ]
    )
)
# The optional SNDlib benchmark instances are read from beside the checkout (README.md,
# "SNDlib"): exactly these path expressions may name that folder, and only in these files.
SNDLIB_PATHS = {
    "README.md": ["`../shared/data/sndlib/native/<network>/`"],
    "bench/sndlib.py": ['REPO.parent / "shared" / "data" / "sndlib" / "native"'],
    "tests/test_routing.py": [
        'REPO.parent / "shared" / "data" / "sndlib" / "native"',
        '"../shared/data/sndlib is absent"',
    ],
    "tests/test_sndlib_import.py": [
        "``../shared/data/sndlib/native``",
        'parents[2] / "shared/data/sndlib/native"',
    ],
}
MD_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SECTION_REF = re.compile(r"§(\d+(?:\.\d+)?)")


def project_text_files() -> list[Path]:
    """README.md, docs/, the data sets' READMEs and every Python file of the project."""
    files = [REPO / "README.md", REPO / "solve.py"]
    files += sorted((REPO / "docs").rglob("*.md"))
    files += sorted((REPO / "data").glob("*/README.md"))
    files += sorted((REPO / "model").rglob("*.py"))
    files += sorted((REPO / "bench").glob("*.py"))
    files += sorted((REPO / "tests").glob("*.py"))
    return [f for f in files if f.is_file()]


def test_data_format_reference_is_up_to_date() -> None:
    current = (REPO / "docs" / "data-format.md").read_text()
    assert current == render(), "run: python -m model.docs > docs/data-format.md"


def test_nothing_points_outside_the_project() -> None:
    found = []
    for path in project_text_files():
        if path == Path(__file__).resolve():
            continue
        rel = path.relative_to(REPO).as_posix()
        allowed = SNDLIB_PATHS.get(rel, [])
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for expr in allowed:
                line = line.replace(expr, "")
            if OUTSIDE.search(line):
                found.append(f"{rel}:{no}: {line.strip()}")
    assert not found, "cite docs/contract.md or a source in the README instead:\n" + "\n".join(
        found
    )


def test_sndlib_allow_list_is_exact() -> None:
    # A stale entry would silently allow a path that is no longer the SNDlib one.
    for rel, exprs in SNDLIB_PATHS.items():
        text = (REPO / rel).read_text(encoding="utf-8")
        for expr in exprs:
            assert expr in text, f"{rel}: {expr!r} is no longer there; update SNDLIB_PATHS"


@pytest.mark.parametrize(
    "doc",
    [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))],
    ids=lambda p: p.relative_to(REPO).as_posix(),
)
def test_relative_markdown_links_resolve(doc: Path) -> None:
    broken = []
    for target in MD_LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        if not (doc.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert not broken, f"{doc.name}: links to missing files: {broken}"


def test_contract_sections_cited_exist() -> None:
    # "contract §4.5", "docs/contract.md §1": every section cited is a heading of the contract.
    contract = (REPO / "docs" / "contract.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^#+ §(\d+(?:\.\d+)?)\.? ", contract, re.M))
    assert {str(n) for n in range(1, 8)} <= headings
    planned = set(re.findall(r"^- \*\*§(\d+) ", contract, re.M))
    assert planned | (headings & {"8", "9", "10", "11", "12"}) == {"8", "9", "10", "11", "12"}
    assert not planned & headings  # a section is either planned or written
    missing = []
    for path in project_text_files():
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "contract" not in line:
                continue
            for ref in SECTION_REF.findall(line):
                if ref not in headings | planned:
                    missing.append(f"{path.relative_to(REPO)}:{no}: §{ref}")
    assert not missing, "sections cited but not in docs/contract.md:\n" + "\n".join(missing)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_is_clean() -> None:
    proc = subprocess.run(["ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
