"""Hostile and careless input (issue 10): every defect is refused at load with exit 2 and a
message naming file, row and column; no control character reaches the terminal raw, no
garbage file floods it, and nothing but the contract's regular files is ever opened.

Each test works on a copy of data/japan in tmp_path and stops at load (no solve)."""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import os
import random
import shutil
import signal
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from builders import REPO, dump_toml

from model import tables as tables_module
from model.cli import main
from model.config import Economics
from model.errors import InputError
from model.load import check_scenario_name, load_dataset
from model.verify import cli as verify_cli

JAPAN = REPO / "data" / "japan"
CONTRACT = {
    "settings.toml",
    "sites.csv",
    "routes.csv",
    "link_types.csv",
    "routers.csv",
    "cooling.csv",
    "users.csv",
    "scenarios.csv",
}
RAW_CONTROL = [chr(c) for c in range(32) if chr(c) not in "\n"] + ["\x7f", "\u202e"]


@pytest.fixture
def japan(tmp_path: Path) -> Path:
    return Path(shutil.copytree(JAPAN, tmp_path / "japan"))


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (a FIFO opened for reading blocks forever)."""

    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set data row ``row`` (from 1) of ``column`` in a CSV file."""
    rows = read_rows(path)
    rows[row][rows[0].index(column)] = value
    write_rows(path, rows)


def load_error(folder: Path, scenario: str = "base") -> str:
    with pytest.raises(InputError) as err:
        load_dataset(folder, scenario)
    assert err.value.exit_code == 2
    return str(err.value)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_no_raw_control(text: str) -> None:
    bad = sorted({repr(c) for c in text if c in RAW_CONTROL})
    assert not bad, f"raw control characters in the message: {bad}"


# --- 1. scenario names are folder names ---------------------------------------------------

BAD_SCENARIO_NAMES = [
    "../../../../tmp/victim",
    "/tmp/x",
    ".",
    "..",
    ".hidden",
    "a/b",
    "a\\b",
    "bell\x07",
    "new\nline",
    "x" * 101,
    "-flag",
    "spa ce",
]


@pytest.mark.parametrize("name", BAD_SCENARIO_NAMES)
def test_scenario_names_that_are_not_folder_names_are_refused(
    japan: Path, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = read_rows(japan / "scenarios.csv")
    rows.insert(3, [name] + [""] * (len(rows[0]) - 1))  # data row 3, line 4
    write_rows(japan / "scenarios.csv", rows)
    msg = load_error(japan)
    assert "scenarios.csv row 3 (line 4), column scenario: scenario name " in msg
    assert "ASCII letters, digits, '_', '-' and '.'" in msg
    assert_no_raw_control(msg)
    out = tmp_path / "out"
    code, text = run_cli([str(japan), "--out", str(out), "-q"], capsys)
    assert code == 2 and "scenarios.csv row 3 (line 4), column scenario" in text
    assert_no_raw_control(text)
    assert not out.exists() and not (tmp_path / "tmp").exists()


def test_empty_scenario_name_is_refused(japan: Path) -> None:
    rows = read_rows(japan / "scenarios.csv")
    rows.insert(3, ["", "5"] + [""] * (len(rows[0]) - 2))
    write_rows(japan / "scenarios.csv", rows)
    assert "scenarios.csv row 3 (line 4), column scenario: is empty" in load_error(japan)


@pytest.mark.parametrize("name", [*BAD_SCENARIO_NAMES, ""])
def test_scenario_name_from_the_command_line_is_checked(
    japan: Path, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = check_scenario_name(name)
    assert problem is not None and "scenario name" in problem
    assert_no_raw_control(problem)
    assert load_error(japan, name) == problem
    out = tmp_path / "out"
    code, text = run_cli([str(japan), f"--scenario={name}", "--out", str(out), "-q"], capsys)
    assert code == 2 and "scenario name" in text
    assert_no_raw_control(text)
    assert not out.exists()


@pytest.mark.parametrize("name", ["base", "sync_5ms", "A-1.b", "x" * 100, "9lives"])
def test_good_scenario_names_pass(name: str) -> None:
    assert check_scenario_name(name) is None


# --- 2. ids with separators or control characters ----------------------------------------


@pytest.mark.parametrize(
    ("file", "column", "value", "expected"),
    [
        ("sites.csv", "site", "tokyo>osaka", "contains '>'"),
        ("sites.csv", "zone", "kanto;x", "contains ';'"),
        ("sites.csv", "site", "tok\x07yo", "control"),
        ("routes.csv", "srlg", "duct>1", "contains '>'"),
        ("routes.csv", "medium", "smf\x1b[31m", "contains '['"),
        ("link_types.csv", "type", "zr\x00", "control"),
        ("routers.csv", "model", "r;1", "contains ';'"),
        ("cooling.csv", "method", "d\u202elc", "control or invisible"),
    ],
)
def test_ids_with_separators_or_control_characters_are_refused(
    japan: Path, file: str, column: str, value: str, expected: str
) -> None:
    set_cell(japan / file, 1, column, value)
    msg = load_error(japan)
    assert f"{file} row 1 (line 2" in msg and f"column {column}: " in msg
    assert expected in msg
    assert_no_raw_control(msg)


def test_demand_and_route_ids_are_checked(japan: Path) -> None:
    write_rows(
        japan / "demands.csv",
        [["src", "dst", "gbps", "demand"], ["tokyo", "osaka", "10", "d>1"]],
    )
    msg = load_error(japan)
    assert "demands.csv row 1 (line 2, src 'tokyo'), column demand: value 'd>1' contains '>'" in (
        msg
    )


def test_control_character_in_a_column_name_is_escaped(japan: Path) -> None:
    rows = read_rows(japan / "scenarios.csv")
    rows[0][1] = "demand.gpu_racks\x1b[2J"
    write_rows(japan / "scenarios.csv", rows)
    msg = load_error(japan)
    assert "column demand.gpu_racks\\x1b[2J: not a settings key" in msg
    assert_no_raw_control(msg)


# --- 3. only the contract's regular files are opened --------------------------------------


def test_stray_folder_fifo_and_symlink_loop_beside_the_data_are_never_opened(
    japan: Path,
) -> None:
    (japan / "notes.csv").mkdir()
    os.mkfifo(japan / "pipe.csv")
    os.symlink("loop.csv", japan / "loop.csv")
    with deadline(20):
        ds = load_dataset(japan)
    assert set(ds.inputs_sha256) == CONTRACT
    for name, digest in ds.inputs_sha256.items():
        assert digest == hashlib.sha256((japan / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["folder", "fifo", "loop", "dangling", "socket"])
def test_a_contract_file_that_is_not_a_regular_file_is_refused(
    japan: Path, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = japan / "sites.csv"
    target.unlink()
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "loop":
        os.symlink("sites.csv", target)
    elif kind == "dangling":
        os.symlink("nowhere.csv", target)
    else:
        import socket

        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(target))
        except OSError:  # path too long for a socket on this system
            pytest.skip("cannot bind a unix socket here")
        sock.close()
    with deadline(20):
        msg = load_error(japan)
        code, text = run_cli([str(japan), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2
    expected = {
        "folder": "sites.csv is not a regular file (it is a folder)",
        "fifo": "sites.csv is not a regular file (it is a named pipe (FIFO))",
        "loop": "sites.csv is a symbolic link loop, not a readable regular file",
        "dangling": "sites.csv is a symbolic link to a missing file",
        "socket": "sites.csv is not a regular file (it is a socket)",
    }[kind]
    assert expected in msg and expected in text
    assert "missing from" not in msg


def test_optional_file_that_is_a_fifo_is_refused_not_opened(japan: Path) -> None:
    os.mkfifo(japan / "demands.csv")
    with deadline(20):
        msg = load_error(japan)
    assert "demands.csv is not a regular file (it is a named pipe (FIFO))" in msg


def test_a_symlink_to_a_regular_file_is_fine(japan: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.csv"
    (japan / "cooling.csv").rename(real)
    os.symlink(real, japan / "cooling.csv")
    ds = load_dataset(japan)
    assert ds.inputs_sha256["cooling.csv"] == hashlib.sha256(real.read_bytes()).hexdigest()


def test_missing_and_unreadable_files_are_told_apart(
    japan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (japan / "cooling.csv").unlink()
    real_open = os.open

    def deny(path: object, flags: int, *args: object, **kw: object) -> int:
        if Path(str(path)).name == "routers.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    msg = load_error(japan)
    assert "cooling.csv: required file is missing from" in msg
    assert "routers.csv cannot be read: permission denied" in msg


# --- 4. near misses of column names -------------------------------------------------------


@pytest.mark.parametrize("typo", ["max_power_MW", "Max_Power_MW", "maxpower_mw", "max power mw"])
def test_a_column_name_typo_is_an_error(japan: Path, typo: str) -> None:
    rows = read_rows(japan / "sites.csv")
    rows[0][rows[0].index("max_power_mw")] = typo
    write_rows(japan / "sites.csv", rows)
    msg = load_error(japan)
    assert f"sites.csv, column {typo}: unknown column; it looks like 'max_power_mw'" in msg


def test_other_unknown_columns_give_one_warning_per_file(
    japan: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = read_rows(japan / "sites.csv")
    write_rows(japan / "sites.csv", [[*rows[0], "note"]] + [[*r, "x"] for r in rows[1:]])
    model_log = logging.getLogger("model")  # the CLI, run in-process, configured it
    monkeypatch.setattr(model_log, "propagate", True)
    monkeypatch.setattr(model_log, "handlers", [])
    with caplog.at_level(logging.WARNING, logger="model.tables"):
        load_dataset(japan)
        load_dataset(japan)  # the same warning is not repeated
    warnings = [r.getMessage() for r in caplog.records if r.name == "model.tables"]
    assert "sites.csv: unknown columns ignored: utility_area, note" in warnings
    assert "routes.csv: unknown columns ignored: corridor" in warnings
    assert len(warnings) == 2


@pytest.mark.parametrize("name", ["japan", "europe"])
def test_shipped_data_sets_still_load(name: str) -> None:
    ds = load_dataset(REPO / "data" / name)
    assert len(ds.sites) > 10 and "sites.csv" in ds.inputs_sha256


# --- 5. a garbage file does not flood the terminal or the memory --------------------------


def test_garbage_csv_is_reported_in_a_bounded_number_of_lines(
    japan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(10)
    header = read_rows(japan / "sites.csv")[0]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -.é>\x07"
    lines = [",".join(header)]
    size = 0
    while size < 3_000_000:
        cells = ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in header]
        line = ",".join(cells)
        lines.append(line)
        size += len(line) + 1
    (japan / "sites.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, text = run_cli([str(japan), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2
    assert len(text.splitlines()) < 60
    assert "more problems not listed (in all: " in text and " in sites.csv" in text
    assert "sites.csv: checking stopped at row" in text
    assert_no_raw_control(text)


def test_garbage_bytes_without_structure(japan: Path) -> None:
    rng = random.Random(5)
    (japan / "routes.csv").write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    msg = load_error(japan)
    assert len(msg.splitlines()) < 10 and "routes.csv line " in msg and "not UTF-8" in msg


def test_a_file_above_the_size_limit_is_refused_unread(
    japan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables_module, "MAX_CSV_MB", 1)
    with (japan / "routes.csv").open("a") as fh:
        fh.write("#" * 2_200_000 + "\n")
    msg = load_error(japan)
    assert "routes.csv is larger than 1 MB (2.1 MB); it is refused without being read" in msg


def test_a_huge_single_field_is_one_problem(japan: Path) -> None:
    (japan / "cooling.csv").write_text("method,max_rack_kw,pue\n" + '"' + "x" * 300_000 + "\n")
    msg = load_error(japan)
    assert "cooling.csv line 2: cannot be read as CSV" in msg
    assert len(msg) < 2000


# --- 6. numbers the solver would treat as infinite ----------------------------------------


@pytest.mark.parametrize("value", ["1e300", "-1e16", "nan", "inf", "-Infinity", "1e400"])
def test_numbers_beyond_the_bound_are_refused(japan: Path, value: str) -> None:
    set_cell(japan / "sites.csv", 2, "pue_offset", value)
    msg = load_error(japan)
    assert f"sites.csv row 2 (line 3, site 'sapporo'), column pue_offset: value '{value}'" in msg
    assert "1e15" in msg


@pytest.mark.parametrize("value", ["+-nan", "--inf", "nan nan", "1e5e5"])
def test_malformed_numbers_are_not_numbers(japan: Path, value: str) -> None:
    # '+-nan' passed a loose non-finite check, then float() raised: a traceback, exit 1.
    set_cell(japan / "sites.csv", 2, "pue_offset", value)
    msg = load_error(japan)
    assert f"column pue_offset: value '{value}' is not a number" in msg


def test_a_number_at_its_units_plausible_bound_is_fine(japan: Path) -> None:
    # Each unit has a plausible largest value (schema.PLAUSIBLE_MAX): USD 1e13.
    set_cell(japan / "sites.csv", 1, "open_capex_usd", "1e13")
    assert load_dataset(japan).sites["open_capex_usd"].iloc[0] == 1e13


@pytest.mark.parametrize(
    ("file", "column", "value", "expected"),
    [
        # A link of 1e15 Gbps, or a router of 1e-15 Gbps, beside racks of 132 kW made HiGHS
        # return a design that broke the rules (exit 1); now refused at load.
        ("link_types.csv", "capacity_gbps", "1e15", "a number ≥ 0.001 and ≤ 1e+07"),
        ("routers.csv", "capacity_gbps", "1e-15", "a number ≥ 0.001 and ≤ 1e+07"),
        ("sites.csv", "open_capex_usd", "1.1e13", "a number ≥ 0 and ≤ 1e+13"),
    ],
)
def test_numbers_beyond_their_units_plausible_bound_are_refused(
    japan: Path, file: str, column: str, value: str, expected: str
) -> None:
    set_cell(japan / file, 1, column, value)
    msg = load_error(japan)
    assert f"column {column}: value '{value}' is not {expected}" in msg


@pytest.mark.parametrize(("key", "value"), [("sync_gbps", 1e15), ("min_routers_per_site", 10**15)])
def test_settings_beyond_their_plausible_bound_are_refused(
    japan: Path, key: str, value: float
) -> None:
    section = "demand" if key == "sync_gbps" else "resilience"
    set_setting(japan, section, key, value)
    msg = load_error(japan)
    assert f"[{section}] {key}" in msg and "less than or equal to" in msg


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("gpu_racks", math.inf, "[demand] gpu_racks: value inf"),
        ("gpu_racks", 1e300, "[demand] gpu_racks: value 1e+300"),
        ("sync_gbps", math.nan, "[demand] sync_gbps: value nan"),
        ("rack_kw", -math.inf, "[demand] rack_kw: value -inf"),
    ],
)
def test_settings_numbers_beyond_the_bound_are_refused(
    japan: Path, key: str, value: float, expected: str
) -> None:
    set_setting(japan, "demand", key, value)
    msg = load_error(japan)
    assert expected in msg and "1e15" in msg


@pytest.mark.parametrize("value", ["1e300", "nan", "inf"])
def test_scenario_overrides_beyond_the_bound_are_refused(japan: Path, value: str) -> None:
    set_cell(japan / "scenarios.csv", 3, "demand.storage_latency_ms", value)
    name = read_rows(japan / "scenarios.csv")[3][0]
    msg = load_error(japan, name)
    assert f"scenarios.csv row 3 (line 4, scenario '{name}'), column demand.storage_latency_ms" in (
        msg
    )
    assert "1e15" in msg


# --- 7. settings types: no bool for a number, limits checked ------------------------------


def set_setting(folder: Path, section: str, key: str, value: object) -> None:
    raw = tomllib.loads((folder / "settings.toml").read_text())
    raw.setdefault(section, {})[key] = value
    (folder / "settings.toml").write_text(dump_toml(raw))


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("demand", "gpu_racks", True, "[demand] gpu_racks: value True: Value error, expected"),
        ("demand", "rack_kw", False, "[demand] rack_kw: value False"),
        ("solver", "seed", -1, "[solver] seed: value -1"),
        ("solver", "time_limit_s", math.nan, "[solver] time_limit_s: value nan"),
        ("solver", "mip_gap", math.nan, "[solver] mip_gap: value nan"),
        ("solver", "threads", True, "[solver] threads: value True"),
    ],
)
def test_settings_values_of_the_wrong_type_are_refused(
    japan: Path,
    tmp_path: Path,
    section: str,
    key: str,
    value: object,
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_setting(japan, section, key, value)
    assert expected in load_error(japan)
    code, out = run_cli([str(japan), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2 and expected in out


@pytest.mark.parametrize("years", [101, 10_000, 1e15])
def test_a_lifetime_beyond_a_century_is_refused(japan: Path, years: float) -> None:
    # (1 + i)^n overflowed a float in the capital recovery factor: a traceback, exit 1.
    set_setting(japan, "economics", "lifetime_years", {"site": years})
    msg = load_error(japan)
    assert "lifetime_years.site" in msg and "less than or equal to 100" in msg


@pytest.mark.parametrize("years", [1e-15, 0.09])
def test_a_lifetime_under_a_tenth_of_a_year_is_refused(
    japan: Path, tmp_path: Path, years: float, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1e-15 years made the capital recovery factor divide by zero: a traceback, exit 1.
    set_setting(japan, "economics", "lifetime_years", {"site": years})
    msg = load_error(japan)
    assert "lifetime_years.site" in msg and "greater than or equal to 0.1" in msg
    code, out = run_cli([str(japan), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2 and "greater than or equal to 0.1" in out


def test_a_discount_rate_too_small_to_change_one_still_annualises() -> None:
    # 1 + 1e-17 is 1.0 in floating point: (1 + i)^n − 1 was 0, a division by zero. The
    # factor is then 1/n to within the rate (i(1+i)^n/((1+i)^n − 1) → 1/n as i → 0).
    eco = Economics(discount_rate=1e-17, lifetime_years={"site": 20, "cooling": 0.1})
    assert eco.crf("site") == pytest.approx(1 / 20, rel=1e-12)
    assert eco.crf("cooling") == pytest.approx(10, rel=1e-12)
    # where the rate is plain, the textbook value to the last bit (8 % over 20 years):
    # HiGHS's search at 200 generated sites changed with a one-bit change of the factor
    assert Economics(discount_rate=0.08).crf("site") == 0.08 * 1.08**20 / (1.08**20 - 1)
    # and both ways of computing it hold on either side of where one hands over to the
    # other (i·n = 1e-4), against the factor in 40-digit decimals
    for rate in (0.99999e-5, 1.00001e-5):
        with localcontext() as ctx:
            ctx.prec = 40
            i = Decimal(rate)
            exact = i * (1 + i) ** 10 / ((1 + i) ** 10 - 1)
        got = Economics(discount_rate=rate, lifetime_years={"site": 10}).crf("site")
        assert got == pytest.approx(float(exact), rel=1e-12)


def test_a_bool_scenario_override_is_not_a_number(japan: Path) -> None:
    set_cell(japan / "scenarios.csv", 3, "demand.gpu_racks", "true")
    name = read_rows(japan / "scenarios.csv")[3][0]
    assert "column demand.gpu_racks: value 'true'" in load_error(japan, name)


# --- 8. clear messages ---------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "called"), [(";", "';'-delimited"), ("\t", "tab-delimited")])
def test_a_file_with_another_delimiter_says_so(japan: Path, delimiter: str, called: str) -> None:
    rows = read_rows(japan / "sites.csv")
    (japan / "sites.csv").write_text("\n".join(delimiter.join(r) for r in rows) + "\n")
    msg = load_error(japan)
    assert "sites.csv: the header is one column 'site" in msg
    assert f"this file looks {called}; scaleacross reads comma-separated CSV" in msg
    assert "is missing" not in msg


def test_a_latin1_byte_is_located(japan: Path) -> None:
    data = (japan / "sites.csv").read_bytes().split(b"\n")
    data[4] = b"caf\xe9" + data[4][4:]
    (japan / "sites.csv").write_bytes(b"\n".join(data))
    msg = load_error(japan)
    assert "sites.csv line 5: byte 0xe9 at position 4 is not UTF-8; save the file as UTF-8" in msg


@pytest.mark.parametrize(
    ("file", "noun"),
    [
        ("sites.csv", "site"),
        ("link_types.csv", "link type"),
        ("routers.csv", "router model"),
        ("cooling.csv", "cooling method"),
    ],
)
def test_a_required_table_without_rows_is_an_input_error(
    japan: Path, file: str, noun: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = (japan / file).read_text().splitlines()[0]
    (japan / file).write_text(header + "\n")
    assert f"{file} has no rows: at least one {noun} is required" in load_error(japan)
    code, _ = run_cli([str(japan), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2


def test_an_empty_file_has_no_header(japan: Path) -> None:
    (japan / "routers.csv").write_text("")
    assert "routers.csv is empty: expected a header line (model, capacity_gbps, ports" in (
        load_error(japan)
    )


def test_blank_lines_keep_line_numbers_right(japan: Path) -> None:
    set_cell(japan / "sites.csv", 2, "lat", "north")
    text = (japan / "sites.csv").read_text().splitlines()
    text.insert(1, "")
    (japan / "sites.csv").write_text("\n".join(text) + "\n")
    msg = load_error(japan)
    assert "sites.csv row 2 (line 4, site 'sapporo'), column lat: value 'north'" in msg


def test_duplicate_and_surplus_columns(japan: Path) -> None:
    rows = read_rows(japan / "cooling.csv")
    write_rows(japan / "cooling.csv", [[*rows[0], "pue"], *rows[1:]])
    assert "cooling.csv, column pue: appears more than once in the header" in load_error(japan)
    rows[1] += ["", "surplus"]
    write_rows(japan / "cooling.csv", rows)
    width = len(rows[0])
    assert f"fields, but the header has {width} columns" in load_error(japan)


def test_a_row_with_too_few_fields_is_refused(japan: Path) -> None:
    # Missing trailing cells used to take their defaults silently (an energy price of 0).
    rows = read_rows(japan / "sites.csv")
    width = len(rows[0])
    rows[2] = rows[2][: width - 3]
    write_rows(japan / "sites.csv", rows)
    msg = load_error(japan)
    assert f"sites.csv row 2 (line 3): {width - 3} fields, but the header has {width}" in msg


# --- 9. verify on a malformed run.json ----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[1, 2]", "found a list [1, 2]"),
        ('{"data_dir": 5}', "data_dir is a number 5"),
        ("{not json", "it is not valid JSON"),
        ('{"data_dir": "x", "scenario": "../../etc"}', "scenario name '../../etc' is not valid"),
        ('{"data_dir": "x", "inputs_sha256": [1]}', "inputs_sha256 is a list [1]"),
        ("{}", "run.json names no data_dir; pass --data DATASET_DIR"),
        ("null", "found null"),
        (b"\xff\xfe", "it is not valid JSON"),
        ("[" * 100_000, "it is not valid JSON"),
    ],
)
def test_verify_refuses_a_malformed_run_json(
    tmp_path: Path, content: str | bytes, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "result"
    result.mkdir()
    run = result / "run.json"
    if isinstance(content, bytes):
        run.write_bytes(content)
    else:
        run.write_text(content)
    assert verify_cli.main([str(result)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    if expected != "run.json names no data_dir; pass --data DATASET_DIR":
        assert "run.json: expected an object with data_dir (a string)" in err


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_verify_refuses_a_run_json_that_is_not_a_file(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "result"
    result.mkdir()
    if kind == "folder":
        (result / "run.json").mkdir()
    else:
        os.mkfifo(result / "run.json")
    with deadline(20):
        assert verify_cli.main([str(result), "--data", str(JAPAN)]) == 2
    assert "run.json is not a regular file" in capsys.readouterr().err
