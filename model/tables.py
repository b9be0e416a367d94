"""Read and type the contract's files of a data set folder (docs/contract.md §1).

Only the contract's files are read (``settings.toml`` and the tables of :mod:`model.schema`),
each once, and only when it is a regular file: a folder, pipe, socket, device or symlink loop
in its place is an error and is never opened. Every problem is collected in a
:class:`Problems`, one line per problem naming the file, the row (data rows count from 1; the
line is the file's line, row + 1 unless blank lines or multi-line cells come between), the
row's id, the column, the bad value (quoted, control characters escaped) and what was
expected. The first ``MAX_LISTED`` problems are listed and the rest counted; checking one
table stops after ``TABLE_CAP`` problems in it.
"""

from __future__ import annotations

import csv
import difflib
import errno
import hashlib
import io
import logging
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from model import schema
from model.config import name_problem, number_problem, parse_toml, utf8_problem
from model.errors import InputError, escaped, quoted
from model.schema import (
    MAX_CSV_MB,
    MAX_LISTED,
    MAX_SCENARIO_NAME,
    MAX_SETTINGS_MB,
    NON_FINITE,
    NUMBER,
    SCENARIO_NAME_RULE,
    TABLE_CAP,
    Column,
    Table,
)

log = logging.getLogger(__name__)

MB = 2**20
_SCENARIO_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_SCENARIO_NAME - 1}}}")
_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}
_warned: set[tuple[str, ...]] = set()  # unknown-column warnings already given


def check_scenario_name(name: object) -> str | None:
    """Why ``name`` cannot be a scenario name (it names a results folder), or None.

    Rule: 1 to 100 characters, ASCII letters, digits, ``_``, ``-`` and ``.``, starting with
    a letter or digit (so no ``/``, ``\\``, ``.``, ``..``, control characters)."""
    if not isinstance(name, str):
        return f"scenario name {quoted(name)} is not text; expected {SCENARIO_NAME_RULE}"
    if not name:
        return f"scenario name is empty; expected {SCENARIO_NAME_RULE}"
    if _SCENARIO_NAME.fullmatch(name):
        return None
    if len(name) > MAX_SCENARIO_NAME:
        return (
            f"scenario name {quoted(name)} is {len(name)} characters long; "
            f"expected {SCENARIO_NAME_RULE}"
        )
    return f"scenario name {quoted(name)} is not valid; expected {SCENARIO_NAME_RULE}"


class Problems:
    """Collects validation problems; raises them all at once.

    The first ``limit`` lines are kept, the rest only counted (per file), so a garbage file
    cannot flood the terminal or the memory."""

    def __init__(self, limit: int = MAX_LISTED) -> None:
        self.lines: list[str] = []
        self.limit = limit
        self.count = 0
        self.by_file: Counter[str] = Counter()
        self.stopped: list[str] = []
        self._line: dict[tuple[str, int], int] = {}  # (file, row) -> line, where not row + 1

    def add(self, line: str, file: str = "") -> None:
        self.count += 1
        self.by_file[file or line.split(" ", 1)[0].rstrip(":,")] += 1
        if len(self.lines) < self.limit:
            self.lines.append(line)

    def set_line(self, file: str, row: int, line: int) -> None:
        if line != row + 1:
            self._line[(file, row)] = line

    def line_of(self, file: str, row: int) -> int:
        return self._line.get((file, row), row + 1)

    def where(self, file: str, row: int, ident: str = "") -> str:
        return f"{file} row {row} (line {self.line_of(file, row)}{ident})"

    def at(self, file: str, row: int | None, ident: str, column: str, msg: str) -> None:
        where = file if row is None else self.where(file, row, ident)
        self.add(f"{where}, column {escaped(column)}: {msg}", file)

    def listed(self) -> list[str]:
        """The kept lines, then how many more there are, per file, and where checking
        stopped."""
        out = list(self.lines)
        hidden = self.count - len(self.lines)
        if hidden:
            files = ", ".join(f"{n} in {f}" for f, n in self.by_file.most_common(4))
            more = "s" if hidden > 1 else ""
            out.append(f"… and {hidden} more problem{more} not listed (in all: {files})")
        return out + self.stopped

    def raise_if_any(self, what: str) -> None:
        if self.count:
            n = self.count
            raise InputError(f"{what}: {n} problem{'s' if n > 1 else ''}", self.listed())


# --- reading files -----------------------------------------------------------------------


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _os_problem(name: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return f"{name} is a symbolic link loop, not a readable regular file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{name} cannot be read: permission denied"
    return f"{name} cannot be read: {exc.strerror or exc}"


def read_input_file(path: Path, limit_bytes: int) -> bytes | None:
    """The bytes of ``path``, or None when there is no file there.

    Anything but a regular file of at most ``limit_bytes`` (a folder, FIFO, socket, device,
    symlink loop or dangling symlink, an unreadable or too large file) raises an InputError
    naming it. The type is checked before opening, so a FIFO is never opened, and again on
    the open file."""
    path = Path(path)
    name = escaped(path.name)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(
                f"{name} is a symbolic link to a missing file, not a readable regular file"
            ) from None
        return None
    except OSError as exc:
        raise InputError(_os_problem(name, exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{name} is not a regular file (it is {_file_kind(st.st_mode)})")
    too_big = (
        f"{name} is larger than {limit_bytes / MB:g} MB ({st.st_size / MB:.1f} MB); "
        "it is refused without being read"
    )
    if st.st_size > limit_bytes:
        raise InputError(too_big)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(_os_problem(name, exc)) from None
    try:
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):  # replaced between the check and the open
                raise InputError(f"{name} is not a regular file (it is {_file_kind(mode)})")
            data = fh.read(limit_bytes + 1)
    except OSError as exc:
        raise InputError(_os_problem(name, exc)) from None
    if len(data) > limit_bytes:
        raise InputError(too_big)
    return data


def _csv_rows(name: str, text: str, problems: Problems) -> Iterator[tuple[int, list[str]]]:
    """(line, stripped fields) of every non-blank record; a CSV syntax error ends the file
    with one problem."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.add(
                f"{name} line {start}: cannot be read as CSV ({exc}); the rest of the file "
                "is not checked",
                name,
            )
            return
        fields = [f.strip() for f in fields]
        if any(fields):
            yield start, fields


def _decode_csv(
    table: Table, data: bytes, problems: Problems
) -> tuple[list[str], Iterator[tuple[int, list[str]]]] | None:
    """The header and an iterator over the data records of one CSV file, or None (with the
    problem recorded) when it cannot be read as comma-separated UTF-8 text."""
    name = table.file
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(utf8_problem(name, data, exc), name)
        return None
    rows = _csv_rows(name, text.removeprefix("\ufeff"), problems)
    first = next(rows, None)
    if first is None:
        if problems.by_file[name] == 0:
            columns = ", ".join(c.name for c in table.columns if c.required)
            problems.add(f"{name} is empty: expected a header line ({columns}, ...)", name)
        return None
    header = first[1]
    if len(header) == 1:
        delim = next((d for d in _DELIMITERS if d in header[0]), None)
        if delim is not None:
            problems.add(
                f"{name}: the header is one column {quoted(header[0])}: this file looks "
                f"{_DELIMITERS[delim]}-delimited; scaleacross reads comma-separated CSV",
                name,
            )
            return None
    dup = [c for c, n in Counter(header).items() if n > 1 and c]
    for col in dup:
        problems.add(f"{name}, column {escaped(col)}: appears more than once in the header", name)
    return None if dup else (header, rows)


def _near_miss(col: str, known: list[str]) -> str | None:
    """The declared column ``col`` seems meant to be (same but for case, '_', '-' or spaces,
    or a close match), or None."""

    def norm(s: str) -> str:
        return re.sub(r"[\s_-]", "", s.lower())

    for k in known:
        if norm(k) == norm(col):
            return k
    close = difflib.get_close_matches(col.lower(), known, n=1, cutoff=0.85)
    return close[0] if close else None


def _check_header(table: Table, header: list[str], problems: Problems) -> list[str]:
    """Errors for near misses of declared columns; returns the other unknown columns."""
    known = [c.name for c in table.columns]
    ignored = []
    for i, col in enumerate(header, start=1):
        if col in known:
            continue
        if not col:
            ignored.append(f"(unnamed column {i})")
            continue
        meant = _near_miss(col, known)
        if meant is None:
            ignored.append(escaped(col))
            continue
        problems.add(
            f"{table.file}, column {escaped(col)}: unknown column; it looks like {meant!r} "
            "(column names are exact, in lower case)",
            table.file,
        )
    return ignored


# --- typing the cells --------------------------------------------------------------------


def _parse_cell(col: Column, text: str) -> tuple[Any, str | None]:
    """Return (value, None) or (None, error message) for one non-empty cell."""
    if col.kind in ("id", "str"):
        problem = name_problem(text)
        return (None, f"value {quoted(text)} {problem}") if problem else (text, None)
    if col.kind == "list":
        parts = sorted({p.strip() for p in text.split(";") if p.strip()})
        for part in parts:
            problem = name_problem(part)
            if problem:
                return None, f"name {quoted(part)} {problem}"
        return tuple(parts), None
    if col.kind == "bool":
        if text in ("0", "1"):
            return text == "1", None
        return None, f"value {quoted(text)} is not {col.expectation()}"
    if not NUMBER.fullmatch(text):
        if NON_FINITE.fullmatch(text):
            return None, f"value {quoted(text)}: {number_problem(float(text))}"
        return None, f"value {quoted(text)} is not {col.expectation()}"
    value = float(text)
    problem = number_problem(value)
    if problem:
        return None, f"value {quoted(text)}: {problem}"
    if col.kind == "int":
        if value != int(value):
            return None, f"value {quoted(text)} is not {col.expectation()}"
        value = int(value)
    too_low = col.min is not None and (value <= col.min if col.min_exclusive else value < col.min)
    too_high = col.max is not None and value > col.max
    if too_low or too_high:
        return None, f"value {quoted(text)} is not {col.expectation()}"
    return value, None


def _id_problem(table: Table, text: str) -> str | None:
    if table is schema.SCENARIOS:
        return check_scenario_name(text)
    problem = name_problem(text)
    return f"value {quoted(text)} {problem}" if problem else None


def parse_table(
    table: Table,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    problems: Problems,
) -> pd.DataFrame:
    """Type every declared column of the records ``rows`` ((line, fields) under
    ``header``); missing optional columns get their default. Checking stops after
    ``TABLE_CAP`` problems in the table."""
    file = table.file
    position = {h: i for i, h in reversed(list(enumerate(header)))}
    missing = [c.name for c in table.columns if c.required and c.name not in position]
    for name in missing:
        problems.add(f"{file}: required column {name!r} is missing", file)
    if missing:
        return pd.DataFrame(columns=[c.name for c in table.columns])
    declared = {c.name for c in table.columns}
    extra = [(h, i) for i, h in enumerate(header) if h and h not in declared]
    id_col = table.key[0] if table.key else table.columns[0].name
    width = len(header)
    records: list[dict[str, Any]] = []
    for i, (line, fields) in enumerate(rows, start=1):
        problems.set_line(file, i, line)
        if (len(fields) > width and any(fields[width:])) or len(fields) < width:
            # Too few fields would silently give the last columns their defaults (an
            # energy price of 0, say): a row is complete or it is an error.
            problems.add(
                f"{problems.where(file, i)}: {len(fields)} fields, but the header has "
                f"{width} columns",
                file,
            )
        fields += [""] * (width - len(fields))
        id_text = fields[position[id_col]] if id_col in position else ""
        ok_id = id_text and (table.key == () or _id_problem(table, id_text) is None)
        ident = f", {id_col} {quoted(id_text)}" if ok_id else ""
        rec: dict[str, Any] = {}
        for col in table.columns:
            text = fields[position[col.name]] if col.name in position else ""
            if text == "":
                if col.required:
                    problems.at(file, i, ident, col.name, f"is empty; expected {col.expectation()}")
                rec[col.name] = col.default
                continue
            if col.name == id_col and table.key:
                value, err = text, _id_problem(table, text)
            else:
                value, err = _parse_cell(col, text)
            if err:
                problems.at(file, i, ident, col.name, err)
            rec[col.name] = value
        if table in (schema.SCENARIOS, schema.PERIODS):  # overrides stay text, typed per key
            rec.update({h: fields[p] for h, p in extra})
        rec["src_row"] = i
        records.append(rec)
        if problems.by_file[file] >= TABLE_CAP:
            problems.stopped.append(
                f"{file}: checking stopped at row {i} (line {line}) after {TABLE_CAP} "
                "problems in it"
            )
            break
    else:
        if table.required_file and not records:
            problems.add(f"{file} has no rows: at least one {table.row_noun} is required", file)
    columns = [c.name for c in table.columns] + ["src_row"]
    if table in (schema.SCENARIOS, schema.PERIODS):
        columns += [h for h, _ in extra]
    out = pd.DataFrame.from_records(records, columns=columns)
    for key in table.key:
        dup = out[key][out[key].duplicated(keep="first") & (out[key] != "")]
        for idx, value in dup.items():
            problems.at(
                file,
                int(out.at[idx, "src_row"]),
                "",
                key,
                f"duplicate id {quoted(value)}; ids must be unique",
            )
    return out


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_table(
    folder: Path, table: Table, problems: Problems, hashes: dict[str, str]
) -> pd.DataFrame | None:
    try:
        data = read_input_file(folder / table.file, MAX_CSV_MB * MB)
    except InputError as exc:
        problems.add(str(exc), table.file)
        return None
    if data is None:
        if table.required_file:
            problems.add(
                f"{table.file}: required file is missing from {escaped(folder, 200)}", table.file
            )
        return None
    hashes[table.file] = _hash(data)
    decoded = _decode_csv(table, data, problems)
    del data
    if decoded is None:
        return None
    header, rows = decoded
    if table not in (schema.SCENARIOS, schema.PERIODS):  # their extra columns are keys
        ignored = _check_header(table, header, problems)
        key = (str(folder.resolve()), table.file, *ignored)
        if ignored and key not in _warned:
            _warned.add(key)
            log.warning("%s: unknown columns ignored: %s", table.file, ", ".join(ignored))
    return parse_table(table, header, rows, problems)


def read_settings(folder: Path, problems: Problems, hashes: dict[str, str]) -> dict[str, Any]:
    try:
        data = read_input_file(folder / "settings.toml", MAX_SETTINGS_MB * MB)
    except InputError as exc:
        problems.add(str(exc), "settings.toml")
        return {}
    if data is None:
        problems.add(
            f"settings.toml: required file is missing from {escaped(folder, 200)}",
            "settings.toml",
        )
        return {}
    hashes["settings.toml"] = _hash(data)
    try:
        return parse_toml(data)
    except InputError as exc:
        problems.add(str(exc), "settings.toml")
        return {}
