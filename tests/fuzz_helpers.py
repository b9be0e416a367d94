"""Machinery of tests/test_fuzz_datasets.py: mutations of a data set folder (hypothesis
strategies), a sandbox to run ``model.cli.main`` in, and the properties every run must keep.

A *case* is a data set (``japan``, ``europe`` or the 6-site synthetic ``synth``), the name
of the folder it is copied to, a list of mutations applied to the copy, and how the tool
is run (base scenario, ``--scenario NAME`` or ``--all``). Every mutation is a frozen
dataclass whose repr says exactly what it did, so a failing example printed by hypothesis
is its own reproducer (:func:`write_case` builds it in a folder of your choice).

The sandbox is one temporary folder::

    root/data/<folder>/   the mutated copy (the tool reads it)
    root/out/             the results root (the only place the tool may write)
    root/victim/          files that must survive (a hostile scenario name aims here)

Properties checked (:func:`problems_of`, :func:`check_case`): the exit code is 0, 2, 3 or
4; no traceback and no exception escapes ``main``; the run ends within RUN_LIMIT_S;
everything outside ``root/out`` is byte-identical after the run (the data copy and the
victim folder included); on exit 2 the message names one of the data set's files; what the
tool prints has no control or invisible formatting characters; a design written by a
single run passes ``solve.py verify``.

To reproduce a failing example by hand (from the repository root)::

    PYTHONPATH=tests .venv/bin/python -c "from fuzz_helpers import *; \
        print(write_case(Case(...pasted from the failure...), Path('/tmp/repro')))"

prints the ``solve.py`` command line to run on the sandbox it built in /tmp/repro.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import functools
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

DATA_FILES = (
    "settings.toml",
    "sites.csv",
    "routes.csv",
    "link_types.csv",
    "offers.csv",
    "routers.csv",
    "cooling.csv",
    "demands.csv",
    "scenarios.csv",
)
REQUIRED_FILES = ("settings.toml", "sites.csv", "link_types.csv", "routers.csv", "cooling.csv")
OPTIONAL_FILES = ("routes.csv", "offers.csv", "demands.csv", "scenarios.csv")
ALLOWED_EXITS = (0, 2, 3, 4)
TIME_LIMIT_S = "5"
RUN_LIMIT_S = 120
"""Wall time after which an in-process run counts as hung (a shipped set solves in 5-25 s
with the 5 s time limit; the limit covers solving only, so this is generous)."""
SANDBOX = "<SANDBOX>"  # replaced by the sandbox's absolute path when a mutation is applied

# --- value pools -------------------------------------------------------------------------

NASTY_CELLS: tuple[str, ...] = (
    "",
    " ",
    "\t",
    "\u00a0",
    "nan",
    "NaN",
    "NA",
    "null",
    "None",
    "inf",
    "-inf",
    "Infinity",
    "-1",
    "-0",
    "0",
    "0.5",
    "1",
    "2",
    "1e300",
    "-1e300",
    "1e-320",
    "1e400",
    "true",
    "false",
    "True",
    "yes",
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "9" * 400,
    "0x1F",
    "1_000",
    "1,5",
    "١٢",  # Arabic-Indic digits: float() accepts them
    "½",
    "1e",
    "--1",
    "+1",
    " 7 ",
    "a;b",
    ";",
    "a>b",
    "[x]",
    "a/b",
    "../..",
    "..",
    "/",
    "\\",
    "x\x00y",
    "\x07",
    "\x1b[31mred\x1b[0m",
    "[bold red]markup[/]",
    "=cmd|' /C calc'!A0",
    "日本語",
    "Zürich",
    "🙂",
    "\u202eevil",
    "zero\u200bwidth",
    "line\u2028sep",
    '"',
    "'",
    "a\nb",
    "a\r\nb",
    "x" * 5000,
    "s1",
    "smf",
    "hcf",
    "apn",
)
EXTREME_CELLS: tuple[str, ...] = (
    "1e15",
    "-1e15",
    "999999999999999",
    "1e14",
    "1e9",
    "1000000",
    "1e-15",
    "1e-9",
    "0.000001",
    "0",
    "0.0",
    "1",
    "-89.999999",
    "180",
    "-180",
    "90",
)
"""Numbers most columns accept: they pass load and stress the network plan and the solver."""
TOML_EXTREMES: tuple[str, ...] = (
    "1e15",
    "1e14",
    "1e-15",
    "1e-9",
    "0.999999",
    "1000000",
    "1000000000",
    "1",
    "0",
    "2",
    "10000",
)
TOML_VALUES: tuple[str, ...] = (
    "inf",
    "-inf",
    "nan",
    "+nan",
    "-1",
    "-0",
    "0",
    "0.0",
    "1",
    "0.5",
    "1e300",
    "1e-300",
    "1e400",
    "true",
    "false",
    '"text"',
    '""',
    '"1"',
    '"inf"',
    '"nan"',
    '"none"',
    '"diverse"',
    '"../../victim"',
    '"\\u001b[31mred"',
    '"a;b"',
    "[]",
    "[1, 2]",
    '["smf", "smf"]',
    '["\\u0000"]',
    "{}",
    "{ a = 1 }",
    "{ smf = -1 }",
    "{ smf = nan }",
    '{ "" = 1 }',
    '{ "a>b" = 1 }',
    "1979-05-27",
    "07:32:00",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999",
    "0x7fffffff",
    "1_000_000",
)
TOML_BREAKAGE: tuple[str, ...] = (
    "[",
    "[demand",
    "= 1",
    "key =",
    "a = 'unterminated",
    'a = """',
    "[demand]",  # a table defined twice
    "demand = 1",  # a key clashing with a table
    "[[demand]]",
    "\x00",
    "x = 1\x1b",
    "\ufeffx = 1",
)
HOSTILE_SCENARIOS: tuple[str, ...] = (
    "../../victim",
    "../victim",
    "..",
    ".",
    "../..",
    f"{SANDBOX}/victim/abs",
    f"{SANDBOX}/victim",
    "a/b",
    "a\\..\\..\\victim",
    "/",
    "",
    " ",
    " base",
    "x" * 300,
    "x" * 101,
    "-x",
    "--all",
    "base/../../../victim",
    "日本",
    "x;y",
    "x>y",
    "esc\x1b[31m",
    "nul\x00x",
    "tab\tx",
    ".hidden",
    "CON",
    "~",
    "$HOME",
)
FOLDER_NAMES: tuple[str, ...] = (
    "data set with spaces",
    "日本",
    "x;y>z",
    "-dash",
    "a" * 200,
    ".hidden",
    "esc\x1b[31mname",
    "[bold]rich[red]",  # rich markup (no '/': the name is one path component)
    "quote'\"",
    "%s%n",
    "$\\frac{x",
    "cost $5 and $6",
)
ENCODINGS = (
    "latin1",
    "utf16",
    "bom",
    "crlf",
    "cr",
    "semicolon",
    "tab",
    "spaces",
    "quote_all",
    "no_final_newline",
    "blank_lines",
    "comment_line",
)


# --- data set profiles -------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What a base data set looks like: every CSV's header and rows, settings lines."""

    name: str
    path: Path
    csv: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]
    settings_lines: tuple[str, ...]
    scenarios: tuple[str, ...]

    @property
    def csv_files(self) -> list[str]:
        return sorted(self.csv)

    def column_values(self, file: str, column: str) -> list[str]:
        header, rows = self.csv[file]
        i = header.index(column)
        return sorted({r[i] for r in rows if i < len(r)})


def _synth_dir() -> Path:
    """The 6-site synthetic data set with a routes.csv, generated once per process."""
    from model.synth import SynthOptions, write_dataset

    folder = Path(tempfile.mkdtemp(prefix="scaleacross-fuzz-synth-")) / "synth"
    write_dataset(folder, SynthOptions(sites=6, seed=1, routes=True))
    atexit.register(shutil.rmtree, folder.parent, True)
    return folder


@functools.cache
def base_dir(name: str) -> Path:
    if name == "synth":
        return _synth_dir()
    return REPO / "data" / name


@functools.cache
def profile(name: str) -> Profile:
    folder = base_dir(name)
    tables = {}
    for p in sorted(folder.glob("*.csv")):
        rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"))))
        tables[p.name] = (tuple(rows[0]), tuple(tuple(r) for r in rows[1:]))
    lines = tuple((folder / "settings.toml").read_text(encoding="utf-8").splitlines())
    scen = tables.get("scenarios.csv")
    names = tuple(r[0] for r in scen[1]) if scen else ()
    return Profile(name, folder, tables, lines, names)


# --- mutations ---------------------------------------------------------------------------


def _sub(text: str, sandbox: Path) -> str:
    return text.replace(SANDBOX, str(sandbox))


def _read_rows(path: Path) -> list[list[str]] | None:
    """The file's rows, or None when it is no longer a readable UTF-8 CSV file."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return None


def _write_rows(path: Path, rows: Sequence[Sequence[str]], raw: tuple[int, int] | None = None):
    """Write ``rows`` as CSV; the cell at ``raw`` (row, column) goes in unquoted."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for r, row in enumerate(rows):
        if raw is not None and raw[0] == r:
            cells = []
            for c, cell in enumerate(row):
                if c == raw[1]:
                    cells.append(cell)
                else:
                    one = io.StringIO()
                    csv.writer(one, lineterminator="").writerow([cell])
                    cells.append(one.getvalue())
            buf.write(",".join(cells) + "\n")
        else:
            writer.writerow(row)
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()


class Mutation:
    """Base: ``apply`` changes the data folder and says what it did ('skipped: ...' when
    an earlier mutation left nothing to act on)."""

    def apply(self, folder: Path, sandbox: Path) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class SetCell(Mutation):
    file: str
    row: int  # data row, 0-based
    column: int
    value: str
    raw: bool = False  # write the value unquoted (commas and quotes then break the row)

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or len(rows) < 2:
            return "skipped: no data rows"
        r = 1 + self.row % (len(rows) - 1)
        if not rows[r]:
            return "skipped: blank row"
        c = self.column % len(rows[r])
        rows[r][c] = _sub(self.value, sandbox)
        _write_rows(folder / self.file, rows, (r, c) if self.raw else None)
        return f"{self.file} line {r + 1} cell {c + 1} := {self.value!r}"


@dataclass(frozen=True)
class SetColumn(Mutation):
    """Every data row's cell in ``column`` becomes ``value``."""

    file: str
    column: str
    value: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or self.column not in rows[0]:
            return "skipped: no such column"
        i = rows[0].index(self.column)
        for r in rows[1:]:
            if i < len(r):
                r[i] = self.value
        _write_rows(folder / self.file, rows)
        return f"{self.file}: column {self.column!r} all {self.value!r}"


def _scaled(text: str, factor: float) -> str | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if re.fullmatch(r"[+-]?\d+", text.strip()):
        return str(round(value * factor))
    return f"{value * factor:.12g}"


@dataclass(frozen=True)
class ScaleColumn(Mutation):
    """Every number in ``column`` (or only data row ``row``) times ``factor`` (whole
    numbers stay whole): plausible data that passes load and reaches the solver."""

    file: str
    column: str
    factor: float
    row: int | None = None

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or len(rows) < 2 or self.column not in rows[0]:
            return "skipped: no such column"
        i = rows[0].index(self.column)
        targets = rows[1:] if self.row is None else [rows[1 + self.row % (len(rows) - 1)]]
        for r in targets:
            new = _scaled(r[i], self.factor) if i < len(r) else None
            if new is not None:
                r[i] = new
        _write_rows(folder / self.file, rows)
        which = "all rows" if self.row is None else f"row {self.row}"
        return f"{self.file}: column {self.column!r} x {self.factor:g} ({which})"


@dataclass(frozen=True)
class DropColumn(Mutation):
    file: str
    column: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or self.column not in rows[0]:
            return "skipped: no such column"
        i = rows[0].index(self.column)
        _write_rows(folder / self.file, [r[:i] + r[i + 1 :] for r in rows])
        return f"{self.file}: column {self.column!r} removed"


@dataclass(frozen=True)
class RenameColumn(Mutation):
    file: str
    column: str
    new: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or self.column not in rows[0]:
            return "skipped: no such column"
        rows[0][rows[0].index(self.column)] = self.new
        _write_rows(folder / self.file, rows)
        return f"{self.file}: column {self.column!r} renamed {self.new!r}"


@dataclass(frozen=True)
class AddColumn(Mutation):
    file: str
    name: str
    value: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows:
            return "skipped: unreadable"
        rows = [[*rows[0], self.name]] + [[*r, self.value] for r in rows[1:]]
        _write_rows(folder / self.file, rows)
        return f"{self.file}: column {self.name!r} added"


@dataclass(frozen=True)
class DuplicateRow(Mutation):
    file: str
    row: int
    times: int = 1

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or len(rows) < 2:
            return "skipped: no data rows"
        r = 1 + self.row % (len(rows) - 1)
        rows[r + 1 : r + 1] = [list(rows[r]) for _ in range(self.times)]
        _write_rows(folder / self.file, rows)
        return f"{self.file}: line {r + 1} repeated {self.times}x"


@dataclass(frozen=True)
class DeleteRow(Mutation):
    file: str
    row: int

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or len(rows) < 2:
            return "skipped: no data rows"
        r = 1 + self.row % (len(rows) - 1)
        del rows[r]
        _write_rows(folder / self.file, rows)
        return f"{self.file}: line {r + 1} deleted"


@dataclass(frozen=True)
class RaggedRow(Mutation):
    file: str
    row: int
    extra: int  # > 0: cells appended; < 0: cells cut off the end

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows or len(rows) < 2:
            return "skipped: no data rows"
        r = 1 + self.row % (len(rows) - 1)
        rows[r] = rows[r] + ["1"] * self.extra if self.extra > 0 else rows[r][: self.extra]
        _write_rows(folder / self.file, rows)
        return f"{self.file}: line {r + 1} has {self.extra:+d} cells"


@dataclass(frozen=True)
class HeaderOnly(Mutation):
    file: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        rows = _read_rows(folder / self.file)
        if not rows:
            return "skipped: unreadable"
        _write_rows(folder / self.file, rows[:1])
        return f"{self.file}: header only"


@dataclass(frozen=True)
class ReplaceContent(Mutation):
    """The whole file becomes ``content`` (bytes)."""

    file: str
    content: bytes

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        _remove(path)
        path.write_bytes(self.content)
        return f"{self.file}: content {self.content[:40]!r}"


@dataclass(frozen=True)
class DeleteFile(Mutation):
    file: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        if not (path.exists() or path.is_symlink()):
            return "skipped: absent"
        _remove(path)
        return f"{self.file}: deleted"


@dataclass(frozen=True)
class RenameFile(Mutation):
    file: str
    new: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        if not path.is_file() or (folder / self.new).exists():
            return "skipped"
        path.rename(folder / self.new)
        return f"{self.file}: renamed {self.new!r}"


@dataclass(frozen=True)
class FileToDir(Mutation):
    file: str
    with_child: bool = False

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        _remove(path)
        path.mkdir()
        if self.with_child:
            (path / self.file).write_text("a,b\n1,2\n")
        return f"{self.file}: replaced by a folder"


@dataclass(frozen=True)
class Symlink(Mutation):
    """``kind``: 'self' (a link to itself), 'loop' (two links to each other), 'dangling',
    'folder' (to the data folder), 'victim' (to a file outside the data folder), 'zero'
    (to /dev/zero)."""

    file: str
    kind: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        _remove(path)
        if self.kind == "self":
            path.symlink_to(self.file)
        elif self.kind == "loop":
            other = folder / f".{self.file}.loop"
            _remove(other)
            other.symlink_to(self.file)
            path.symlink_to(other.name)
        elif self.kind == "dangling":
            path.symlink_to("does-not-exist.csv")
        elif self.kind == "folder":
            path.symlink_to(".")
        elif self.kind == "zero":  # endless bytes: only in a subprocess with a memory cap
            path.symlink_to("/dev/zero")
        else:
            path.symlink_to(sandbox / "victim" / "precious.txt")
        return f"{self.file}: symlink ({self.kind})"


@dataclass(frozen=True)
class Reencode(Mutation):
    file: str
    how: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        if path.is_symlink() or not path.is_file():
            return "skipped: not a file"
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return "skipped: not UTF-8"
        lines = text.splitlines()
        how = self.how
        if how == "latin1":
            if len(lines) > 1:
                lines[1] = "Zürich" + lines[1]  # a non-ASCII character in the first cell
            out = ("\n".join(lines) + "\n").encode("latin-1", "replace")
        elif how == "utf16":
            out = text.encode("utf-16")
        elif how == "bom":
            out = b"\xef\xbb\xbf" + data
        elif how == "crlf":
            out = ("\r\n".join(lines) + "\r\n").encode()
        elif how == "cr":
            out = ("\r".join(lines) + "\r").encode()
        elif how in ("semicolon", "tab", "spaces", "quote_all"):
            rows = _read_rows(path)
            if rows is None:
                return "skipped: unreadable"
            buf = io.StringIO()
            if how == "semicolon":
                csv.writer(buf, delimiter=";", lineterminator="\n").writerows(rows)
            elif how == "tab":
                csv.writer(buf, delimiter="\t", lineterminator="\n").writerows(rows)
            elif how == "quote_all":
                csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
            else:
                for r in rows:
                    buf.write(" , ".join(f" {c} " for c in r) + "  \n")
            out = buf.getvalue().encode()
        elif how == "no_final_newline":
            out = text.rstrip("\r\n").encode()
        elif how == "blank_lines":
            out = ("\n\n".join(lines) + "\n\n").encode()
        elif how == "comment_line":
            out = ("# a comment, with a comma\n" + text).encode()
        else:
            raise ValueError(how)
        path.write_bytes(out)
        return f"{self.file}: re-encoded {how}"


_KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_]+)(\s*=\s*)(.*?)(\s*#.*)?$")


@dataclass(frozen=True)
class SettingsValue(Mutation):
    """settings.toml: the value of the ``nth`` ``key = value`` line becomes ``literal``."""

    nth: int
    literal: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / "settings.toml"
        lines = _toml_lines(path)
        if lines is None:
            return "skipped: unreadable"
        keys = [i for i, line in enumerate(lines) if _KEY_LINE.match(line)]
        if not keys:
            return "skipped: no key line"
        i = keys[self.nth % len(keys)]
        m = _KEY_LINE.match(lines[i])
        assert m is not None
        lines[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}{self.literal}"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        return f"settings.toml line {i + 1}: {m.group(2)} = {self.literal}"


@dataclass(frozen=True)
class SetSetting(Mutation):
    """settings.toml: ``[section] key = literal`` (the line is edited in place, or added
    at the end of the file under a new ``[section]`` header)."""

    section: str
    key: str
    literal: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / "settings.toml"
        lines = _toml_lines(path)
        if lines is None:
            return "skipped: unreadable"
        current = ""
        for i, line in enumerate(lines):
            head = re.match(r"^\s*\[([^\]]+)\]", line)
            if head:
                current = head.group(1).strip()
            m = _KEY_LINE.match(line)
            if m and current == self.section and m.group(2) == self.key:
                lines[i] = f"{m.group(1)}{self.key}{m.group(3)}{self.literal}"
                break
        else:
            lines += [f"[{self.section}]", f"{self.key} = {self.literal}"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        return f"settings.toml: [{self.section}] {self.key} = {self.literal}"


@dataclass(frozen=True)
class SettingsInsert(Mutation):
    """settings.toml: ``text`` inserted before line ``at`` (-1: at the end), e.g. unknown
    keys, broken syntax, a ``[solver]`` table."""

    at: int
    text: str

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / "settings.toml"
        lines = _toml_lines(path)
        if lines is None:
            return "skipped: unreadable"
        i = len(lines) if self.at < 0 else self.at % (len(lines) + 1)
        lines[i:i] = self.text.split("\n")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        return f"settings.toml: {self.text!r} inserted at line {i + 1}"


@dataclass(frozen=True)
class SettingsDropLine(Mutation):
    at: int

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / "settings.toml"
        lines = _toml_lines(path)
        if not lines:
            return "skipped: unreadable"
        i = self.at % len(lines)
        gone = lines.pop(i)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return f"settings.toml: line {i + 1} {gone!r} deleted"


@dataclass(frozen=True)
class Truncate(Mutation):
    """The file cut to ``fraction`` of its bytes (a partial write)."""

    file: str
    fraction: float

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        if path.is_symlink() or not path.is_file():
            return "skipped: not a file"
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * self.fraction)])
        return f"{self.file}: cut to {int(len(data) * self.fraction)} bytes"


def _toml_lines(path: Path) -> list[str] | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_bytes().decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class ScenarioRow(Mutation):
    """scenarios.csv gets a row named ``name`` (``overrides``: column → value); the file
    is created with just that row when it is absent."""

    name: str
    overrides: tuple[tuple[str, str], ...] = ()

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / "scenarios.csv"
        name = _sub(self.name, sandbox)
        rows = _read_rows(path) if path.exists() else [["scenario"]]
        if not rows:
            return "skipped: unreadable"
        header = rows[0]
        for col, _ in self.overrides:
            if col not in header:
                header.append(col)
                for r in rows[1:]:
                    r.append("")
        row = [""] * len(header)
        row[0] = name
        for col, value in self.overrides:
            row[header.index(col)] = value
        rows.append(row)
        _write_rows(path, rows)
        return f"scenarios.csv: row {name!r}"


# --- strategies --------------------------------------------------------------------------


def _weighted(*pairs: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """``one_of`` with integer weights (a strategy listed w times)."""
    return st.one_of(*[s for w, s in pairs for _ in range(w)])


def cell_values(prof: Profile, file: str, column: str) -> st.SearchStrategy[str]:
    everything = sorted({c for _, rows in prof.csv.values() for r in rows for c in r})
    return _weighted(
        (6, st.sampled_from(NASTY_CELLS)),
        (3, st.sampled_from(EXTREME_CELLS)),
        (2, st.sampled_from(prof.column_values(file, column) or [""])),
        (1, st.sampled_from(everything)),
        (1, st.text(max_size=12)),
        (1, st.integers(-(2**70), 2**70).map(str)),
        (1, st.floats().map(repr)),
    )


def column_names(name: str) -> st.SearchStrategy[str]:
    typos = [name.upper(), name.title(), name + " ", " " + name, name + "_", name[:-1]]
    typos += [name[1:], name.replace("_", "-"), name.replace("_", ""), name + name[-1]]
    if len(name) > 2:
        typos.append(name[0] + name[2] + name[1] + name[3:])
    return _weighted(
        (4, st.sampled_from(typos)),
        (1, st.sampled_from(["", "site", "a", "scenario", "\x00", "日本", "x;y", name])),
        (1, st.text(max_size=10)),
    )


@st.composite
def set_cell(draw, prof: Profile) -> SetCell:
    file = draw(st.sampled_from(prof.csv_files))
    header, rows = prof.csv[file]
    col = draw(st.integers(0, len(header) - 1))
    row = draw(st.integers(0, max(0, len(rows) - 1)))
    value = draw(cell_values(prof, file, header[col]))
    raw = draw(st.sampled_from([False, False, False, True]))
    return SetCell(file, row, col, value, raw)


@st.composite
def column_mutation(draw, prof: Profile) -> Mutation:
    file = draw(st.sampled_from(prof.csv_files))
    header = prof.csv[file][0]
    column = draw(st.sampled_from(header))
    kind = draw(st.sampled_from(["drop", "rename", "rename", "add", "duplicate", "set", "set"]))
    if kind == "set":
        return SetColumn(file, column, draw(cell_values(prof, file, column)))
    if kind == "drop":
        return DropColumn(file, column)
    if kind == "rename":
        return RenameColumn(file, column, draw(column_names(column)))
    if kind == "duplicate":
        return AddColumn(file, column, draw(cell_values(prof, file, column)))
    return AddColumn(file, draw(st.sampled_from(["notes", "extra", "", "x;y"])), "1")


@st.composite
def row_mutation(draw, prof: Profile) -> Mutation:
    file = draw(st.sampled_from(prof.csv_files))
    _, rows = prof.csv[file]
    row = draw(st.integers(0, max(0, len(rows) - 1)))
    kind = draw(st.sampled_from(["dup", "dup", "delete", "ragged", "header_only"]))
    if kind == "dup":
        return DuplicateRow(file, row, draw(st.sampled_from([1, 1, 2, 50])))
    if kind == "delete":
        return DeleteRow(file, row)
    if kind == "ragged":
        return RaggedRow(file, row, draw(st.sampled_from([-3, -1, 1, 5])))
    return HeaderOnly(file)


CONTENTS = (
    b"",
    b"\n",
    b" ",
    b"\x00\x00\x00",
    b"\xff\xfe\x00",
    b'"unterminated\n',
    b"a,b\n1,2\n",
    b"<html><body>not a csv</body></html>\n",
    b"\xef\xbb\xbf",
)


@st.composite
def file_mutation(draw, prof: Profile) -> Mutation:
    file = draw(st.sampled_from(DATA_FILES))
    kind = draw(
        st.sampled_from(
            ["content", "delete", "delete", "dir", "symlink", "rename", "truncate", "encode"]
        )
    )
    if kind == "content":
        return ReplaceContent(file, draw(st.sampled_from(CONTENTS)))
    if kind == "delete":
        return DeleteFile(file)
    if kind == "dir":
        return FileToDir(file, draw(st.booleans()))
    if kind == "symlink":
        kinds = ["self", "loop", "dangling", "folder", "victim"]
        return Symlink(file, draw(st.sampled_from(kinds)))
    if kind == "rename":
        new = draw(st.sampled_from([file.upper(), file.title(), file + ".bak", " " + file]))
        return RenameFile(file, new)
    if kind == "truncate":
        return Truncate(file, draw(st.sampled_from([0.1, 0.5, 0.9, 0.99])))
    csv_file = draw(st.sampled_from(prof.csv_files))
    return Reencode(csv_file, draw(st.sampled_from(ENCODINGS)))


@st.composite
def settings_mutation(draw, prof: Profile) -> Mutation:
    n_keys = sum(1 for line in prof.settings_lines if _KEY_LINE.match(line))
    kind = draw(st.sampled_from(["value", "value", "value", "unknown", "broken", "drop"]))
    if kind == "value":
        values = _weighted((3, st.sampled_from(TOML_VALUES)), (2, st.sampled_from(TOML_EXTREMES)))
        return SettingsValue(draw(st.integers(0, n_keys - 1)), draw(values))
    at = draw(st.integers(0, len(prof.settings_lines)))
    if kind == "unknown":
        text = draw(
            st.sampled_from(
                [
                    "bogus_key = 1",
                    "gpu_rack = 400",
                    "[bogus]\nx = 1",
                    "[solver]\ntime_limit_s = -1",
                    "[solver]\nmip_gap = nan",
                    "[solver]\nthreads = 0",
                    "[solver]\nthreads = true",
                    "[solver]\nthreads = 2147483648",
                    "[solver]\nseed = -1",
                    "[solver]\nseed = 9223372036854775808",
                    "[solver]\nscreen_gpu_sites = -1",
                    "[network.latency_us_per_km]\nhcf = -1",
                    "[economics.lifetime_years]\nsite = 0",
                ]
            )
        )
        return SettingsInsert(-1 if text.startswith("[") else at, text)
    if kind == "broken":
        return SettingsInsert(at, draw(st.sampled_from(TOML_BREAKAGE)))
    return SettingsDropLine(at)


@st.composite
def optional_file(draw, prof: Profile) -> Mutation:
    """A demands.csv or offers.csv that the shipped sets lack, with nasty cells."""
    sites = prof.column_values("sites.csv", "site")
    cell = st.one_of(st.sampled_from(sites), st.sampled_from(NASTY_CELLS))
    if draw(st.booleans()):
        header = b"src,dst,gbps,max_latency_ms,protected,demand\n"
        row = [draw(cell), draw(cell), draw(cell), draw(cell), draw(cell), draw(cell)]
        name = "demands.csv"
    else:
        header = b"a,b,medium,type,capex_usd,opex_usd_per_year,max_units,route\n"
        types = prof.column_values("link_types.csv", "type")
        row = [draw(cell), draw(cell), "smf", draw(st.sampled_from(types)), draw(cell)]
        row += [draw(cell), draw(cell), ""]
        name = "offers.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return ReplaceContent(name, header + buf.getvalue().encode("utf-8", "surrogatepass"))


FACTORS = (0.0, 1e-9, 1e-3, 0.1, 0.5, 0.9, 1.1, 2.0, 10.0, 1000.0, 1e6, 1e9, -1.0)
PLAUSIBLE_TOML = ("0", "1", "2", "3", "0.5", "0.99", "1e-6", "1000", "100000", "1e9", "1e12")
PLAUSIBLE_KINDS = ("scale", "scale", "scale_one", "extreme", "settings", "settings", "row")
PLAUSIBLE_KINDS += ("drop_optional", "encode")
PLAUSIBLE_ENCODINGS = ("bom", "crlf", "quote_all", "spaces", "no_final_newline")


@st.composite
def plausible_mutation(draw, prof: Profile) -> Mutation:
    """Changes a planner could make on purpose: numbers scaled, extreme but in range,
    rows removed or repeated, optional files dropped, settings pushed to extremes."""
    file = draw(st.sampled_from(prof.csv_files))
    header, rows = prof.csv[file]
    kind = draw(st.sampled_from(PLAUSIBLE_KINDS))
    if kind in ("scale", "scale_one"):
        row = draw(st.integers(0, max(0, len(rows) - 1))) if kind == "scale_one" else None
        return ScaleColumn(file, draw(st.sampled_from(header)), draw(st.sampled_from(FACTORS)), row)
    if kind == "extreme":
        col = draw(st.integers(0, len(header) - 1))
        row = draw(st.integers(0, max(0, len(rows) - 1)))
        return SetCell(file, row, col, draw(st.sampled_from(EXTREME_CELLS)))
    if kind == "settings":
        n_keys = sum(1 for line in prof.settings_lines if _KEY_LINE.match(line))
        values = st.sampled_from(PLAUSIBLE_TOML + TOML_EXTREMES)
        return SettingsValue(draw(st.integers(0, n_keys - 1)), draw(values))
    if kind == "row":
        row = draw(st.integers(0, max(0, len(rows) - 1)))
        if draw(st.booleans()):
            return DeleteRow(file, row)
        return DuplicateRow(file, row)
    if kind == "drop_optional":
        return DeleteFile(draw(st.sampled_from(["routes.csv", "scenarios.csv"])))
    return Reencode(file, draw(st.sampled_from(PLAUSIBLE_ENCODINGS)))


def mutations(prof: Profile, plausible_weight: int = 2) -> st.SearchStrategy[Mutation]:
    """Any mutation; ``plausible_weight`` 0 leaves out the plausible ones (fewer cases
    then pass load, so fewer full solves)."""
    return _weighted(
        (plausible_weight, plausible_mutation(prof)),
        (6, set_cell(prof)),
        (2, column_mutation(prof)),
        (2, row_mutation(prof)),
        (2, file_mutation(prof)),
        (3, settings_mutation(prof)),
        (1, optional_file(prof)),
    )


@functools.cache
def settings_keys(name: str) -> tuple[str, ...]:
    """Dotted keys of the data set's settings.toml, plus a few it does not set and near
    misses (``[solver] threads`` is left out: a valid huge value would start that many
    solver threads)."""
    import tomllib

    def flat(d: dict[str, Any], prefix: str) -> list[str]:
        out = []
        for k, v in d.items():
            out += flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]
        return out

    keys = sorted(flat(tomllib.loads("\n".join(profile(name).settings_lines)), ""))
    return (*keys, *(k for k in UNSET_KEYS + NEAR_MISS_KEYS if k not in keys))


UNSET_KEYS = (
    "solver.time_limit_s",
    "solver.mip_gap",
    "solver.seed",
    "solver.screen_gpu_sites",
    "network.latency_us_per_km.newmedium",
)
NEAR_MISS_KEYS = (
    "network.latency_us_per_km",
    "demand.gpu_rack",
    "Demand.gpu_racks",
    "demand..gpu_racks",
    "demand",
    "demand.gpu_racks.x",
    "economics.lifetime_years",
)


OVERRIDE_WORDS = ("none", "diverse", "duplex", "shared", "smf", "hcf", "smf;hcf", "[]", "{}")


@st.composite
def scenario_override(draw, name: str, plausible: bool = False) -> ScenarioRow:
    """A scenarios.csv row ``fuzzed`` overriding 1-2 settings with odd values
    (``plausible``: real keys, numbers in range)."""
    keys = settings_keys(name)
    if plausible:
        keys = tuple(k for k in keys if k not in NEAR_MISS_KEYS)
        value = st.sampled_from(EXTREME_CELLS + PLAUSIBLE_TOML)
    else:
        value = _weighted(
            (3, st.sampled_from(NASTY_CELLS)),
            (3, st.sampled_from(EXTREME_CELLS)),
            (1, st.sampled_from(OVERRIDE_WORDS)),
        )
    key = st.sampled_from(keys)
    pairs = draw(st.lists(st.tuples(key, value), min_size=1, max_size=2, unique_by=lambda p: p[0]))
    return ScenarioRow("fuzzed", tuple(pairs))


@dataclass(frozen=True)
class Case:
    """One run: copy data set ``dataset`` to ``folder``, apply ``mutations``, run with
    ``--scenario scenario`` (None: the base settings) or ``--all``."""

    dataset: str
    folder: str
    mutations: tuple[Mutation, ...]
    scenario: str | None = None
    all: bool = False

    def argv(self, data: Path, out: Path, sandbox: Path, quiet: bool = True) -> list[str]:
        args = [str(data), "--out", str(out), "--time-limit", TIME_LIMIT_S, "--workers", "1"]
        if self.all:
            args.append("--all")
        elif self.scenario is not None:
            args.append(f"--scenario={_sub(self.scenario, sandbox)}")
        args.append("-q" if quiet else "-v")
        return args


@st.composite
def cases(
    draw,
    datasets: Sequence[str],
    scenario_share: float = 0.1,
    override_share: float = 0.15,
    plausible: bool = False,
    plausible_weight: int = 2,
) -> Case:
    """A data set, 1-4 mutations and how to run: ``scenario_share`` of the cases run an
    existing scenario of scenarios.csv (its overrides, maybe mutated, apply),
    ``override_share`` a new scenario overriding settings with odd values. ``plausible``:
    only :func:`plausible_mutation` (most such cases pass load and are solved);
    ``plausible_weight``: their weight among all mutations otherwise."""
    dataset = draw(st.sampled_from(list(datasets)))
    prof = profile(dataset)
    folder = dataset
    if draw(st.integers(0, 19)) == 0:
        folder = draw(st.sampled_from(FOLDER_NAMES))
    kinds = plausible_mutation(prof) if plausible else mutations(prof, plausible_weight)
    muts = draw(st.lists(kinds, min_size=0, max_size=3))
    scenario = None
    pick = 1 - draw(st.floats(0, 1))  # shrinks to 1: the base scenario
    if pick < override_share:
        muts.append(draw(scenario_override(dataset, plausible)))
        scenario = "fuzzed"
    elif prof.scenarios and pick < override_share + scenario_share:
        scenario = draw(st.sampled_from(prof.scenarios))
    if not muts:
        muts.append(draw(kinds))
    return Case(dataset, folder, tuple(muts), scenario)


@st.composite
def hostile_scenario_cases(draw, dataset: str = "synth") -> Case:
    """A scenarios.csv row with a hostile name, run with ``--all`` or ``--scenario``."""
    name = draw(st.sampled_from(HOSTILE_SCENARIOS))
    overrides = draw(
        st.sampled_from(
            [(), (("demand.sync_latency_ms", "3"),), (("resilience.link_protection", "none"),)]
        )
    )
    use_all = draw(st.booleans())
    # With --all, scenarios.csv holds only the hostile row: at most one scenario is solved.
    replace_file = use_all or draw(st.booleans())
    muts: list[Mutation] = []
    if replace_file:
        muts.append(DeleteFile("scenarios.csv"))
    muts.append(ScenarioRow(name, overrides))
    folder = dataset if draw(st.integers(0, 4)) else draw(st.sampled_from(FOLDER_NAMES))
    return Case(dataset, folder, tuple(muts), None if use_all else name, use_all)


# --- sandbox, snapshot, run --------------------------------------------------------------


@dataclass
class Sandbox:
    root: Path
    data: Path
    out: Path
    applied: list[str] = field(default_factory=list)


def build_sandbox(case: Case, root: Path) -> Sandbox:
    """The sandbox of ``case`` in the (new or empty) folder ``root``."""
    data = root / "data" / case.folder
    shutil.copytree(base_dir(case.dataset), data, ignore=shutil.ignore_patterns("README*"))
    victim = root / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "precious.txt").write_text("do not touch\n")
    (victim / "sub" / "also.txt").write_text("nor this\n")
    box = Sandbox(root, data, root / "out")
    for m in case.mutations:
        box.applied.append(m.apply(data, root))
    return box


def write_case(case: Case, root: Path) -> str:
    """Build ``case``'s sandbox in ``root`` to keep; the command line that reproduces it."""
    box = build_sandbox(case, root.resolve())
    argv = case.argv(box.data, box.out, box.root, quiet=False)
    return "python solve.py " + " ".join(shlex.quote(a) for a in argv)


@contextlib.contextmanager
def sandbox_for(case: Case) -> Iterator[Sandbox]:
    with tempfile.TemporaryDirectory(prefix="scaleacross-fuzz-") as tmp:
        yield build_sandbox(case, Path(tmp))


Snapshot = dict[str, tuple[str, Any]]


def snapshot(root: Path, exclude: Path) -> Snapshot:
    """Every path under ``root`` except ``exclude``'s subtree: type and bytes (files),
    target (symlinks). Symlinks are not followed."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if here == exclude:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = here / name
            rel = str(p.relative_to(root))
            if p == exclude:
                continue
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", None)
            elif p.is_file():
                out[rel] = ("file", p.read_bytes())
            else:
                out[rel] = ("other", p.lstat().st_mode)
    return out


def snapshot_diff(before: Snapshot, after: Snapshot) -> list[str]:
    lines = []
    for rel in sorted(set(before) | set(after)):
        if rel not in after:
            lines.append(f"removed {rel}")
        elif rel not in before:
            lines.append(f"created {rel}")
        elif before[rel] != after[rel]:
            lines.append(f"modified {rel}")
    return lines


@dataclass
class Outcome:
    code: int | None
    stderr: str
    stdout: str
    escaped: str = ""  # traceback of an exception that escaped main
    wall_s: float = 0.0
    warnings: list[str] = field(default_factory=list)


_COLOR_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


class RunTimeout(BaseException):
    """Raised by SIGALRM in a run that took longer than RUN_LIMIT_S (not an Exception, so
    the tool's own handlers let it through)."""


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def fire(signum: int, frame: Any) -> None:
        raise RunTimeout(f"still running after {seconds} s")

    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _fd2_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 (worker processes' stderr) to ``path`` meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as f:
        os.dup2(f.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_main(
    argv: list[str],
    cwd: Path,
    limit_s: int = RUN_LIMIT_S,
    main: Callable[[list[str]], int] | None = None,
) -> Outcome:
    """``model.cli.main(argv)`` (or ``main``) in this process, cwd ``cwd``, stdout and
    stderr (also of worker processes) captured; warnings recorded, not raised; stopped
    after ``limit_s``."""
    if main is None:
        from model.cli import main

    err, out = io.StringIO(), io.StringIO()
    handle, name = tempfile.mkstemp(prefix="scaleacross-fuzz-fd2-")  # not in the sandbox
    os.close(handle)
    fd_log = Path(name)
    old_cwd = os.getcwd()
    saved_env = {k: os.environ.pop(k) for k in _COLOR_ENV if k in os.environ}
    code: int | None = None
    escaped = ""
    start = time.perf_counter()
    os.chdir(cwd)
    try:
        with (
            warnings.catch_warnings(record=True) as caught,
            _fd2_to(fd_log),
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(out),
        ):
            warnings.simplefilter("always")
            try:
                with _alarm(limit_s):
                    code = main(argv)
            except RunTimeout as exc:
                escaped = f"{exc}: " + "".join(traceback.format_tb(exc.__traceback__)[-3:])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else None
                if code is None:
                    escaped = f"SystemExit({exc.code!r})"
            except Exception:
                escaped = traceback.format_exc()
    finally:
        os.chdir(old_cwd)
        os.environ.update(saved_env)
        fd_text = fd_log.read_text(errors="replace") if fd_log.exists() else ""
        fd_log.unlink(missing_ok=True)
    shown = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    return Outcome(
        code, err.getvalue() + fd_text, out.getvalue(), escaped, time.perf_counter() - start, shown
    )


def _cap_memory(mb: int) -> Callable[[], None]:
    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))

    return cap


def run_subprocess(
    argv: list[str], cwd: Path, timeout: float = 120, memory_mb: int | None = None
) -> Outcome:
    """``python solve.py argv`` in a fresh interpreter (address space capped at
    ``memory_mb``); a timeout is an outcome too."""
    env = {k: v for k, v in os.environ.items() if k not in _COLOR_ENV}
    env["PYTHONPATH"] = str(REPO)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [PYTHON, str(REPO / "solve.py"), *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=timeout,
            preexec_fn=_cap_memory(memory_mb) if memory_mb else None,
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(
            None,
            (exc.stderr or b"").decode(errors="replace"),
            (exc.stdout or b"").decode(errors="replace"),
            f"timed out after {timeout} s",
            time.perf_counter() - start,
        )
    return Outcome(
        proc.returncode,
        proc.stderr.decode(errors="replace"),
        proc.stdout.decode(errors="replace"),
        "",
        time.perf_counter() - start,
    )


def traceback_of(argv: list[str], cwd: Path) -> str:
    """The traceback behind an exit 1: the same run with -v (which re-raises)."""
    loud = [a for a in argv if a != "-q"] + ["-v"]
    o = run_main(loud, cwd)
    return o.escaped or o.stderr[-3000:]


def _unsafe_chars(text: str) -> list[str]:
    bad = {
        c
        for c in text
        if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
    }
    return sorted(repr(c) for c in bad)


def problems_of(case: Case, box: Sandbox, o: Outcome, diff: list[str]) -> list[str]:
    """Every property the run broke, one line each (empty: all kept)."""
    found = []
    text = o.stderr + o.stdout
    if o.escaped.startswith(("still running", "timed out")):
        found.append(f"hung: {o.escaped.splitlines()[0]}")
    elif o.escaped:
        found.append(f"exception escaped main: {o.escaped.strip().splitlines()[-1]}")
    if o.code not in ALLOWED_EXITS:
        found.append(f"exit code {o.code} (allowed: {ALLOWED_EXITS})")
    if "Traceback" in text:
        found.append("a traceback was printed")
    if diff:
        found.append("outside the results root: " + "; ".join(diff[:10]))
    if o.code == 2:
        names = list(DATA_FILES)
        if case.scenario is not None:  # the name on the command line may be what is wrong
            names.append("--scenario")
        if case.folder != case.dataset:  # so may the data set folder's name
            names.append("data set folder")
        if not any(n in text for n in names):
            found.append("exit 2 without naming a data set file")
    bad = _unsafe_chars(text)
    if bad:
        found.append(f"control/invisible characters printed: {', '.join(bad)}")
    return found


def describe(case: Case, box: Sandbox, o: Outcome, found: list[str], tb: str = "") -> str:
    lines = [
        "properties broken:",
        *(f"  - {p}" for p in found),
        f"case: {case!r}",
        "applied:",
        *(f"  - {a}" for a in box.applied),
        f"exit {o.code} after {o.wall_s:.1f} s",
        "stderr (last 1500 chars):",
        o.stderr[-1500:],
    ]
    if tb:
        lines += ["traceback (re-run with -v):", tb[-2500:]]
    if o.warnings:
        lines += ["warnings:", *o.warnings[:5]]
    return "\n".join(lines)


def verify_written(case: Case, box: Sandbox) -> str | None:
    """``solve.py verify`` on the design a single run wrote; why it failed, or None."""
    from model.verify import main as verify_main

    folder = box.out / case.folder / (case.scenario or "base")
    v = run_main([str(folder)], box.root, main=verify_main)
    if v.code == 0 and not v.escaped:
        return None
    tail = (v.escaped or v.stdout + v.stderr).strip().splitlines()[-3:]
    return f"the written design fails solve.py verify (exit {v.code}): {' | '.join(tail)}"


def failure_class(found: list[str], o: Outcome, tb: str) -> str:
    """A short name for the kind of failure: the property broken and, for an exit 1, where
    in ``model`` the exception came from (so distinct bugs get distinct names)."""
    first = found[0]
    if first.startswith("exit code 1") and "Traceback" not in tb:
        kinds = re.findall(r"^(\w+): ", o.stderr, re.M)  # e.g. "designcheck: ..."
        return f"exit1 {kinds[-1] if kinds else 'without traceback'}"
    if first.startswith("exit code 1"):
        frames = re.findall(r'File "([^"]*/model/[^"]*)", line \d+, in (\w+)', tb)
        last = tb.strip().splitlines()[-1].split(":")[0].strip()
        where = ""
        if frames:
            path, func = frames[-1]
            where = f"{Path(path).stem}.{func}"
        return f"exit1 {last} at {where or 'unknown'}"
    return re.split(r"[:(]", first)[0].strip()


class FuzzFailure(AssertionError):
    """A broken property; :func:`fuzz_failure` makes one subclass per failure class, so
    hypothesis reports each distinct bug, not only the first."""


@functools.cache
def fuzz_failure(kind: str) -> type[FuzzFailure]:
    name = "Fuzz_" + re.sub(r"\W+", "_", kind).strip("_")[:80]
    return type(name, (FuzzFailure,), {"__module__": __name__})


@dataclass
class Verdict:
    found: list[str]  # the properties broken, one line each (empty: all kept)
    report: str  # what to show when some are
    outcome: Outcome
    kind: str = ""  # failure_class()

    def check(self) -> None:
        """Raise the failure class's own exception when a property is broken."""
        if self.found:
            raise fuzz_failure(self.kind)(self.report)


def check_case(case: Case) -> Verdict:
    """Run one case in a fresh sandbox and check every property. A design written by a
    single run must also pass ``solve.py verify``."""
    with sandbox_for(case) as box:
        before = snapshot(box.root, box.out)
        argv = case.argv(box.data, box.out, box.root)
        o = run_main(argv, box.root)
        verified = verify_written(case, box) if o.code == 0 and not case.all else None
        diff = snapshot_diff(before, snapshot(box.root, box.out))
        found = problems_of(case, box, o, diff)
        if verified:
            found.append(verified)
        if not found:
            return Verdict([], "", o)
        tb = traceback_of(argv, box.root) if o.code == 1 else ""
        kind = failure_class(found, o, tb)
        return Verdict(found, f"[{kind}]\n" + describe(case, box, o, found, tb), o, kind)
