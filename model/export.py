"""Write one scenario's results atomically: a temporary folder beside the target, renamed
into place, so a failed or interrupted run leaves earlier results intact.

Every write stays inside ``RESULTS_ROOT/<data set>/<scenario>/`` (:func:`results_target`
checks both names are plain folder names); :func:`scenario_lock` keeps two runs from
writing the same scenario at once and, while held, tidies what a killed run left behind.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from model import __version__
from model.errors import BusyError, InputError, escaped, quoted
from model.extract import Tables
from model.tables import check_scenario_name

log = logging.getLogger(__name__)

#: What tempfile.mkdtemp appends to a prefix: 8 of [a-z0-9_].
_TEMP_SUFFIX = r"[a-z0-9_]{8}"


def versions() -> dict[str, str]:
    out = {"scaleacross": __version__, "python": platform.python_version()}
    for pkg in ("pyomo", "highspy", "networkx", "pandas", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


# --- where results may go ------------------------------------------------------------------


def dataset_name(data_dir: str | Path) -> str:
    """The data set's name as :func:`model.load.load_dataset` gives it: the resolved
    folder's own name (``python solve.py .`` is named after the current folder)."""
    return Path(data_dir).resolve().name


def _component_problem(name: str, what: str) -> str | None:
    """Why ``name`` is not one plain path component, or None."""
    if not name:
        return f"{what} is empty"
    if name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        return f"{what} {quoted(name)} is not a plain folder name"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"{what} {quoted(name)} contains control characters"
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        return f"{what} {quoted(name)} is longer than 255 bytes"
    return None


def dataset_name_problem(name: str) -> str | None:
    """Why results cannot be written under a data set folder of this name, or None."""
    problem = _component_problem(name, "data set folder name")
    return f"{problem}: results go to RESULTS_ROOT/<data set name>/" if problem else None


def scenario_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a scenario's results folder, or None: the loader's rule
    (:func:`model.load.check_scenario_name`) and, in any case, one plain component."""
    problem = check_scenario_name(name)
    return problem or _component_problem(name, "scenario name")


def results_target(out_root: str | Path, dataset: str, scenario: str) -> Path:
    """``out_root/<dataset>/<scenario>``, after checking that it cannot lead anywhere else:
    both names are plain single components, the target a direct child of
    ``resolved(out_root)/<dataset>``. Raises InputError (exit 2) otherwise."""
    for problem in (dataset_name_problem(dataset), scenario_name_problem(scenario)):
        if problem:
            raise InputError(problem)
    root = Path(out_root).resolve()
    folder = root / dataset
    resolved = folder / scenario
    if folder.parent != root or resolved.parent != folder or resolved.name != scenario:
        raise InputError(
            f"results folder {escaped(resolved, 200)} is not inside {escaped(folder, 200)}"
        )
    return Path(out_root) / dataset / scenario


def _first_blocker(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (or itself) that is not a folder."""
    for p in (folder, *folder.parents):
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def prepare_results_folder(out_root: str | Path, dataset: str) -> list[Path]:
    """Create ``out_root/<dataset>`` when missing and check a file can be created in it, so
    an unusable ``--out`` stops the run before anything is solved. Returns the folders it
    created, outermost first (:func:`remove_if_empty` takes them back after a run that wrote
    nothing). Raises InputError ``--out X: not a writable folder (why)``."""
    problem = dataset_name_problem(dataset)
    if problem:
        raise InputError(problem)
    folder = Path(out_root) / dataset
    missing = []
    for p in (folder, *folder.parents):
        if p.exists() or p.is_symlink():
            break
        missing.append(p)

    def fail(why: str) -> InputError:
        return InputError(f"--out {escaped(out_root, 200)}: not a writable folder ({why})")

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        blocker = _first_blocker(folder)
        kind = "a broken symbolic link" if blocker and not blocker.exists() else "a file"
        why = f"{escaped(blocker, 200)} is {kind}" if blocker else exc.strerror
        raise fail(why) from None
    except OSError as exc:
        raise fail(f"cannot create {escaped(folder, 200)}: {exc.strerror}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        remove_if_empty(list(reversed(missing)))
        raise fail(f"cannot create a file in {escaped(folder, 200)}: {exc.strerror}") from None
    created = list(reversed(missing))
    log.debug("results folder %s is writable (created: %s)", folder, created or "none")
    return created


def remove_if_empty(folders: list[Path]) -> None:
    """Remove each of ``folders`` (outermost first) that is empty, innermost first."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


# --- permissions ---------------------------------------------------------------------------


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """``tempfile.mkdtemp`` in ``parent``, with the permissions of an ordinary ``mkdir``
    (0777 less the umask) instead of 0700: results are for colleagues to read."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(tmp, 0o777 & ~current_umask())
    return tmp


# --- one writer per scenario ---------------------------------------------------------------


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def _open_locked(path: Path, shown: Path) -> int:
    """An open descriptor of ``path`` holding an exclusive flock; BusyError when another
    process holds it. Retries when the file was removed between open and lock."""
    for _ in range(100):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except FileNotFoundError:  # the folder went away meanwhile (an empty one tidied)
            continue
        except PermissionError:
            fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            pid = _read_pid(fd)
            os.close(fd)
            raise BusyError(
                f"{escaped(shown, 200)} is being written by another run{pid}; "
                "run again when it has finished"
            ) from None
        try:  # the previous holder removes the file before letting go: ours may be gone
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
    raise BusyError(f"{escaped(shown, 200)}: could not take its lock file {path}")


def _stale(folder: Path, name: str) -> list[Path]:
    pattern = re.compile(rf"\.{re.escape(name)}\.(tmp|old)-{_TEMP_SUFFIX}")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return [p for p in entries if pattern.fullmatch(p.name)]


def tidy_stale(folder: Path, name: str) -> None:
    """What a killed run left of ``folder/name``: ``.<name>.tmp-*`` (half-written) and
    ``.<name>.old-*`` (the earlier results, moved aside for the rename) folders. When
    ``name`` itself is missing, the newest earlier folder is put back; the rest are
    removed. Only call it holding the scenario's lock."""
    stale = _stale(folder, name)
    target = folder / name
    olds = sorted((p for p in stale if p.name[len(name) + 1 :].startswith(".old-")), key=_mtime)
    if olds and not target.exists():
        newest = olds.pop()
        os.rename(newest, target)
        stale.remove(newest)
        log.warning("restored %s from %s, left by an interrupted run", target, newest.name)
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
        log.info("removed %s, left by an interrupted run", p)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


@contextmanager
def scenario_lock(target: Path) -> Iterator[Path]:
    """Hold ``<parent>/.<scenario>.lock`` (flock, never waits) while the scenario's folder
    ``target`` is solved and written; BusyError (exit 2) when another run holds it. The
    lock file carries the holder's pid and is removed on release; a killed holder's lock
    is released by the kernel. Stale temporary folders are tidied once it is held."""
    path = target.parent / f".{target.name}.lock"
    fd = _open_locked(path, target)
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # a read-only lock file of someone else's: the lock still holds
            pass
        log.debug("lock %s taken (pid %d)", path, os.getpid())
        tidy_stale(target.parent, target.name)
        if target.is_dir():
            tidy_stale(target, "pareto")
        yield target
    finally:
        # removed while still held: a run that opened it meanwhile retries on a fresh file
        with suppress(OSError):
            os.unlink(path)
        os.close(fd)
        log.debug("lock %s released", path)


# --- writing -------------------------------------------------------------------------------


def write_results(target: Path, tables: Tables, run: dict[str, Any]) -> Path:
    """Write summary/sites/links/flows(/failures) CSVs, run.json and the documented extras
    (report.html, design.geojson, design.xlsx: :func:`extra_files`) to ``target``
    atomically."""
    names = ("summary", "sites", "links", "flows", "failures", "users", "periods")
    frames = {n: getattr(tables, n) for n in names if getattr(tables, n) is not None}
    return write_folder(target, frames, run, extra_files(frames, run))


def extra_files(frames: dict[str, pd.DataFrame], run: dict[str, Any]) -> dict[str, str | bytes]:
    """What a results folder holds besides the CSVs and run.json: ``report.html`` always;
    for a design also ``design.geojson`` and ``design.xlsx``. All made from the tables and
    run.json, so the same results give the same files. A growth plan's (contract §8: the
    tables carry a ``period`` column, ``frames["periods"]`` is periods.csv, else run.json's
    ``periods`` stands in) show every period."""
    from model.report_html import render_run  # not needed by a plain ``import model``
    from model.workbook import workbook_bytes

    if "period" in getattr(frames.get("sites"), "columns", ()) and "periods" not in frames:
        from model.periods import PERIOD_COLUMNS

        rows = run.get("periods")
        if isinstance(rows, list) and rows:
            table = pd.DataFrame([{c: r.get(c) for c in PERIOD_COLUMNS} for r in rows])
            frames = {**frames, "periods": table}
    out: dict[str, str | bytes] = {"report.html": render_run(frames, run)}
    if "sites" in frames and "links" in frames:
        from model.geo import geojson_text

        sites, links = frames["sites"], frames["links"]
        out["design.geojson"] = geojson_text(sites, links, frames.get("periods"))
    out["design.xlsx"] = workbook_bytes(frames)
    return out


def write_folder(
    target: Path,
    frames: dict[str, pd.DataFrame],
    run: dict[str, Any],
    extras: dict[str, str | bytes] | None = None,
) -> Path:
    """Write ``<name>.csv`` per frame, run.json and ``extras`` (file name → text or bytes;
    by default :func:`extra_files` of an infeasible run's frames, none otherwise) into a
    temporary folder beside ``target``, then rename it into place (an earlier folder is
    replaced only then; when the run stops between the two renames the earlier folder is
    put back)."""
    problem = _component_problem(target.name, "results folder name")
    if problem:
        raise InputError(problem)
    if extras is None:
        extras = extra_files(frames, run) if "infeasibility" in frames else {}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(target.parent, f".{target.name}.tmp-")
    log.debug("writing %d tables, run.json and %s to %s", len(frames), sorted(extras), tmp)
    try:
        for name, frame in frames.items():
            frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        (tmp / "run.json").write_text(json.dumps(run, indent=2, sort_keys=True, default=str) + "\n")
        for name, content in extras.items():
            path = tmp / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("results written to %s", target)
    return target


def replace_folder(tmp: Path, target: Path) -> None:
    """Rename a finished ``tmp`` folder to ``target``. An earlier ``target`` is moved aside
    first (``.<name>.old-*``, which a killed run leaves for :func:`tidy_stale`), moved back
    if the second rename fails, and removed once the new folder is in place."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if old is not None and not target.exists():
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
