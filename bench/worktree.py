"""A git revision of this repository checked out beside it, for the benchmarks that run
two versions side by side (bench/wall.py, bench/plan.py). Not a benchmark itself."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def checkout(rev: str, where: Path) -> Iterator[Path]:
    """Revision ``rev`` in a detached git worktree at ``where`` (which must not exist),
    removed again when the block ends."""
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(where), rev],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(where)], cwd=REPO, capture_output=True
        )
