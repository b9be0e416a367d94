"""Write one scenario's results atomically: a temporary folder beside the target, renamed
into place, so a failed or interrupted run leaves earlier results intact."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from model import __version__
from model.extract import Tables

log = logging.getLogger(__name__)


def versions() -> dict[str, str]:
    out = {"scaleacross": __version__, "python": platform.python_version()}
    for pkg in ("pyomo", "highspy", "networkx", "pandas", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def input_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every input file, so a result can be matched to the data it came from."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.suffix in (".csv", ".toml")
    }


def write_results(target: Path, tables: Tables, run: dict[str, Any]) -> Path:
    """Write summary/sites/links/flows(/failures) CSVs and run.json to ``target``
    atomically."""
    names = ("summary", "sites", "links", "flows", "failures")
    frames = {n: getattr(tables, n) for n in names if getattr(tables, n) is not None}
    return write_folder(target, frames, run)


def write_folder(target: Path, frames: dict[str, pd.DataFrame], run: dict[str, Any]) -> Path:
    """Write ``<name>.csv`` per frame and run.json into a temporary folder beside
    ``target``, then rename it into place (an earlier folder is replaced only then)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for name, frame in frames.items():
            frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        (tmp / "run.json").write_text(json.dumps(run, indent=2, sort_keys=True, default=str) + "\n")
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("results written to %s", target)
    return target
