"""Hostile and careless input on the output and process side: nothing is written outside
RESULTS_ROOT/<data set>/<scenario>/, --out and every name are checked before anything is
solved, Ctrl-C is exit 130 and leaves earlier results alone, two runs never write one
scenario at once, result folders follow the umask, -v shows the debug log and -q one line."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from builders import REPO, two_sites

from model import export, pipeline
from model.batch import (
    BatchConfig,
    BatchInterrupted,
    Job,
    PlainReporter,
    ScenarioRow,
    execute,
    interrupted_batch,
)
from model.cli import main
from model.errors import EXIT_INTERRUPTED, BusyError, InputError, Interrupted
from model.export import results_target, scenario_lock, tidy_stale, write_folder

INTERRUPTED = "interrupted: earlier results are left as they were"


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- 1. nothing outside RESULTS_ROOT/<data set>/<scenario>/ ---------------------------------


@pytest.mark.parametrize("name", ["..", "../escape", "a/b", "/abs", "x" * 300, ".hidden", ""])
def test_scenario_name_that_leaves_the_results_folder_is_refused(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = two_sites(tmp_path / "tiny")
    out = tmp_path / "box" / "res"
    assert main([str(ds), "--scenario", name, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--scenario: scenario name" in err
    assert listing(tmp_path) == ["tiny"]  # nothing created, not even the results root


def test_results_target_stays_a_direct_child(tmp_path: Path) -> None:
    assert results_target(tmp_path, "japan", "base") == tmp_path / "japan" / "base"
    for dataset, scenario in [("japan", ".."), ("japan", "a/b"), ("..", "base"), ("", "base")]:
        with pytest.raises(InputError):
            results_target(tmp_path, dataset, scenario)
    with pytest.raises(InputError, match="not a plain folder name"):
        write_folder(tmp_path / "..", {}, {})


def test_scenarios_csv_row_named_to_escape_stops_the_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = two_sites(tmp_path / "tiny", [{"scenario": "ok"}, {"scenario": "../../evil"}])
    out = tmp_path / "res"
    assert main([str(ds), "--all", "--out", str(out)]) == 2
    assert "'../../evil'" in capsys.readouterr().err
    assert not out.exists() and listing(tmp_path) == ["tiny"]


def test_dot_as_data_set_is_named_after_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = two_sites(tmp_path / "tiny")
    monkeypatch.chdir(ds)
    assert main([".", "--out", str(tmp_path / "res"), "-q"]) == 0
    assert listing(tmp_path / "res") == ["tiny"]
    assert listing(tmp_path / "res" / "tiny") == ["base"]


def test_root_folder_as_data_set_is_refused() -> None:
    with pytest.raises(InputError, match="data set folder name is empty"):
        export.prepare_results_folder("/nonexistent-out", export.dataset_name("/"))


# --- 2. Ctrl-C --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 generated sites: HiGHS needs about a minute, far longer than the tests wait."""
    from model.synth import main as synth

    out = tmp_path_factory.mktemp("synth") / "s40"
    assert synth(["--sites", "40", "--seed", "1", str(out)]) == 0
    return out


def interrupt_after(args: list[str], marker: str, cwd: Path) -> tuple[int, str, str]:
    """Run solve.py in a session of its own; once ``marker`` appears on stderr (and a
    second more, so HiGHS is busy) send SIGINT to the whole group, as a terminal's Ctrl-C
    does. Returns exit code, stdout, stderr; fails when the group outlives it."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "solve.py"), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a suite started in the background of a shell without job control inherits SIGINT
        # ignored, and so would solve.py: Ctrl-C is what is tested, so it gets its default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if marker in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert seen.wait(60), "".join(lines)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        out = proc.stdout.read()
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(10)
    proc.stdout.close()
    proc.stderr.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # every worker of the group is gone
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("processes of the run outlived it")
    return code, out, "".join(lines)


def earlier_results(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True)
    (folder / "summary.csv").write_text("status\nearlier\n")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.slow  # a fresh interpreter, a 40-site model built, then interrupted
def test_ctrl_c_during_the_solve_exits_130_and_writes_nothing(
    tmp_path: Path, slow_set: Path
) -> None:
    out = tmp_path / "res"
    before = earlier_results(out / "s40" / "base")
    args = [str(slow_set), "--out", str(out), "-v"]
    code, _, stderr = interrupt_after(args, "phase solve: started", tmp_path)
    assert code == EXIT_INTERRUPTED, stderr[-2000:]
    assert INTERRUPTED in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "raise --time-limit" not in stderr
    assert listing(out / "s40") == ["base"]  # no other folder, no temporary or lock file
    assert {p.name: p.read_bytes() for p in (out / "s40" / "base").iterdir()} == before


@pytest.mark.slow  # two worker processes each build a 40-site model, then are stopped
def test_ctrl_c_during_a_batch_stops_the_workers_quietly(tmp_path: Path, slow_set: Path) -> None:
    out = tmp_path / "res"
    before = earlier_results(out / "s40" / "base")
    (out / "s40" / "comparison.csv").write_text("scenario\nearlier\n")
    args = [str(slow_set), "--scenario", "base", "--scenario", "no_protection"]
    args += ["--workers", "2", "--out", str(out), "-v"]
    code, _, stderr = interrupt_after(args, "phase solve: started", tmp_path)
    assert code == EXIT_INTERRUPTED, stderr[-2000:]
    assert INTERRUPTED in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    # nothing finished: the earlier comparison still describes the folders beside it
    assert listing(out / "s40") == ["base", "comparison.csv"]
    assert (out / "s40" / "comparison.csv").read_text() == "scenario\nearlier\n"
    assert {p.name: p.read_bytes() for p in (out / "s40" / "base").iterdir()} == before


def test_keyboard_interrupt_is_exit_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def ctrl_c(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "plan_network", ctrl_c)
    ds = two_sites(tmp_path / "tiny")
    assert main([str(ds), "--out", str(tmp_path / "res")]) == EXIT_INTERRUPTED
    assert INTERRUPTED in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


def test_an_interrupted_highs_solve_is_not_a_missing_design(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from model.highs_direct import DirectHighs

    real = DirectHighs._run

    def interrupted(self: DirectHighs, h: object, deadline: float) -> object:
        # HiGHS as Ctrl-C leaves it: stopped at its first interrupt check (kInterrupt)
        h.cbSimplexInterrupt.subscribe(lambda e: e.interrupt())
        h.cbMipInterrupt.subscribe(lambda e: e.interrupt())
        return real(self, h, deadline)

    monkeypatch.setattr(DirectHighs, "_run", interrupted)
    ds = two_sites(tmp_path / "tiny")
    assert main([str(ds), "--out", str(tmp_path / "res")]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert INTERRUPTED in err and "kInterrupt" not in err
    assert not (tmp_path / "res").exists()


class Stopped:
    """A backend where 'done' has finished when Ctrl-C arrives and 'busy' has not."""

    def __init__(self) -> None:
        self.cancelled = False
        self.calls = 0

    def submit(self, job: Job) -> Future:
        fut: Future = Future()
        if job.scenario == "done":
            fut.set_result(ScenarioRow("done", 0, {"status": "optimal"}))
        return fut

    def wait(self, pending: set, timeout: float) -> tuple[set, set]:
        self.calls += 1
        if self.calls > 1:
            raise KeyboardInterrupt
        return {f for f in pending if f.done()}, {f for f in pending if not f.done()}

    def running(self, pending: dict) -> int:
        return len(pending)

    def cancel(self) -> None:
        self.cancelled = True


def test_ctrl_c_cancels_the_backend_and_keeps_the_finished_rows() -> None:
    backend = Stopped()
    jobs = [Job("/x", "done", None), Job("/x", "busy", None)]
    with pytest.raises(BatchInterrupted) as caught:
        execute(jobs, backend, PlainReporter(enabled=False))
    assert backend.cancelled
    assert [r.scenario for r in caught.value.rows] == ["done"]
    assert isinstance(caught.value, KeyboardInterrupt)


def test_interrupted_batch_removes_a_comparison_that_no_longer_matches(tmp_path: Path) -> None:
    folder = tmp_path / "res" / "tiny"
    folder.mkdir(parents=True)
    for name in ("comparison.csv", "comparison.png"):
        (folder / name).write_text("earlier")
    cfg = BatchConfig(tmp_path / "tiny", ("done", "busy"), tmp_path / "res")
    jobs = [Job("/x", "done", None), Job("/x", "busy", None)]
    nothing = interrupted_batch(cfg, "tiny", jobs, [], set())
    assert str(nothing) == "earlier results are left as they were"
    assert listing(folder) == ["comparison.csv", "comparison.png"]
    done = [ScenarioRow("done", 0, {"status": "optimal"})]
    err = interrupted_batch(cfg, "tiny", jobs, done, {"done", "busy"})
    assert isinstance(err, Interrupted) and err.exit_code == EXIT_INTERRUPTED
    assert "1 of 2 scenarios had finished and were written (done)" in str(err)
    assert "the earlier comparison.csv and comparison.png were removed" in str(err)
    assert listing(folder) == []


# --- 3. flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--time-limit", "nan"),
        ("--time-limit", "inf"),
        ("--time-limit", "0"),
        ("--mip-gap", "nan"),
        ("--mip-gap", "2"),
        ("--mip-gap", "-0.1"),
        ("--seed", "-1"),
        ("--seed", "2147483648"),
        ("--threads", "0"),
        ("--workers", "0"),
    ],
)
def test_bad_flag_value_is_exit_2_naming_the_flag(
    tmp_path: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = two_sites(tmp_path / "tiny")
    assert main([str(ds), flag, value, "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {flag} ") and value.lstrip("-") in err
    assert not (tmp_path / "res").exists()


# --- 4. an unusable --out, found before anything is loaded ---------------------------------


@pytest.fixture
def no_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kw: object) -> None:
        raise AssertionError("loaded although --out is unusable")

    monkeypatch.setattr(pipeline, "load_dataset", refuse)


def test_out_is_a_file(tmp_path: Path, no_load: None, capsys: pytest.CaptureFixture) -> None:
    ds = two_sites(tmp_path / "tiny")
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "under"):
        assert main([str(ds), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}: not a writable folder ({tmp_path / 'file'} is a file)" in err
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_out_is_read_only(tmp_path: Path, no_load: None, capsys: pytest.CaptureFixture) -> None:
    ds = two_sites(tmp_path / "tiny")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main([str(ds), "--out", str(ro)]) == 2
        assert f"--out {ro}: not a writable folder (" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)
    assert listing(ro) == []


def test_out_where_no_file_can_be_created(
    tmp_path: Path, no_load: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def refused(*_args: object, **_kw: object) -> None:  # as in a read-only folder, for root
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkstemp", refused)
    ds = two_sites(tmp_path / "tiny")
    out = tmp_path / "res"
    assert main([str(ds), "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--out {out}: not a writable folder (cannot create a file in {out}/tiny:" in err
    assert not out.exists()  # the folders made for the check are gone again


def test_out_checked_before_the_load(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ds = two_sites(tmp_path / "tiny")
    (ds / "sites.csv").write_text("garbage\n")  # a load error would be exit 2 as well
    (tmp_path / "file").write_text("x")
    assert main([str(ds), "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    assert "not a writable folder" in err and "sites.csv" not in err


# --- 5. one writer per scenario ---------------------------------------------------------------


def test_a_second_run_on_a_scenario_being_written_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = two_sites(tmp_path / "tiny")
    out = tmp_path / "res"
    (out / "tiny").mkdir(parents=True)
    with scenario_lock(out / "tiny" / "base"):
        assert (out / "tiny" / ".base.lock").read_text() == f"{os.getpid()}\n"
        assert main([str(ds), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"busy: {out}/tiny/base is being written by another run (pid {os.getpid()})" in (
            " ".join(err.split())
        )
        assert main([str(ds), "--scenario", "big", "--out", str(out), "-q"]) == 0  # another
    assert listing(out / "tiny") == ["big"]  # the lock file went with the lock
    assert main([str(ds), "--out", str(out), "-q"]) == 0  # and a later run is not blocked
    assert listing(out / "tiny") == ["base", "big"]


def test_lock_is_held_by_another_process(tmp_path: Path) -> None:
    target = tmp_path / "res" / "tiny" / "base"
    target.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\nfrom model.export import scenario_lock\n"
            f"with scenario_lock(Path({str(target)!r})):\n"
            "    print('held', flush=True)\n    sys.stdin.read()\n",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(BusyError, match=rf"pid {holder.pid}\)"), scenario_lock(target):
            pass
    finally:
        holder.communicate("", timeout=30)
    with scenario_lock(target):  # released with its holder
        pass
    assert listing(target.parent) == []


def test_stale_folders_of_a_killed_run_are_tidied(tmp_path: Path) -> None:
    ds = two_sites(tmp_path / "tiny")
    folder = tmp_path / "res" / "tiny"
    for name in (".base.tmp-abcd1234", ".base.old-abcd_123", ".big.tmp-abcd1234"):
        (folder / name).mkdir(parents=True)
        (folder / name / "summary.csv").write_text("half")
    (folder / ".base.tmp-notours").mkdir()  # not a name tempfile makes: left alone
    assert main([str(ds), "--out", str(tmp_path / "res"), "-q"]) == 0
    assert listing(folder) == [".base.tmp-notours", ".big.tmp-abcd1234", "base"]


def test_earlier_results_moved_aside_by_a_killed_run_are_put_back(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    older, newer = folder / ".base.old-aaaaaaaa", folder / ".base.old-bbbbbbbb"
    for p, t in ((older, 1_000_000), (newer, 2_000_000)):
        p.mkdir(parents=True)
        (p / "summary.csv").write_text(p.name)
        os.utime(p, (t, t))
    (folder / ".base.tmp-cccccccc").mkdir()
    tidy_stale(folder, "base")
    assert listing(folder) == ["base"]
    assert (folder / "base" / "summary.csv").read_text() == newer.name


def test_a_stop_between_the_two_renames_puts_the_earlier_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "tiny" / "base"
    target.mkdir(parents=True)
    (target / "summary.csv").write_text("earlier")
    real = os.rename

    def rename(src: os.PathLike, dst: os.PathLike) -> None:
        if ".tmp-" in str(src):
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(export.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        write_folder(target, {}, {"new": True})
    assert listing(target.parent) == ["base"]
    assert (target / "summary.csv").read_text() == "earlier"


# --- 6. permissions ---------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_result_folders_follow_the_umask(tmp_path: Path, umask: None) -> None:
    ds = two_sites(tmp_path / "tiny", [{"scenario": "a"}, {"scenario": "b"}])
    out = tmp_path / "res"
    assert main([str(ds), "--out", str(out), "-q"]) == 0
    assert main([str(ds), "--all", "--workers", "1", "--out", str(out), "-q"]) == 0
    for folder in ("base", "a", "b"):
        assert stat.S_IMODE((out / "tiny" / folder).stat().st_mode) == 0o755
        assert stat.S_IMODE((out / "tiny" / folder / "summary.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "tiny" / "comparison.csv").stat().st_mode) == 0o644
    os.umask(0o002)
    assert export.make_temp_dir(tmp_path, ".x.tmp-").stat().st_mode & 0o777 == 0o775


# --- 7. -v and -q ----------------------------------------------------------------------------


def test_verbose_shows_the_debug_log(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    ds = two_sites(tmp_path / "tiny")
    assert main([str(ds), "--out", str(tmp_path / "res"), "-v"]) == 0
    out, err = capfd.readouterr()
    for line in (
        "DEBUG model.pipeline: phase solve: started",
        "DEBUG model.pipeline: data set tiny (",
        "DEBUG model.solver: HiGHS: time limit 5",  # what is left of the run's 60 s
        f"DEBUG model.export: lock {tmp_path}/res/tiny/.base.lock taken",
    ):
        assert line in err
    assert "Presolving model" in err  # the solver's own log, on stderr
    assert "Presolving model" not in out and "DEBUG" not in out  # stdout: the summary


def test_quiet_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ds = two_sites(tmp_path / "tiny")
    out = tmp_path / "res"
    assert main([str(ds), "--out", str(out), "-q"]) == 0
    captured = capsys.readouterr()
    # 4 racks of 10 kW at A, 1 USD/kW: 40 USD/yr
    assert captured.out == f"optimal 40 USD/yr, gap 0.00 %, {out}/tiny/base\n"
    assert captured.err == ""
    assert main([str(ds), "--all", "--out", str(out), "-q"]) == 0
    assert capsys.readouterr().out == f"1 of 1 solved, {out}/tiny/comparison.csv\n"


# --- 8. run.json ------------------------------------------------------------------------------


def test_run_json_hashes_the_files_read(tmp_path: Path) -> None:
    ds = two_sites(tmp_path / "tiny")
    (ds / "notes.csv").write_text("not an input\n")
    out = tmp_path / "res"
    assert main([str(ds), "--out", str(out), "-q"]) == 0
    run = json.loads((out / "tiny" / "base" / "run.json").read_text())
    hashes = run["inputs_sha256"]
    assert "settings.toml" in hashes and "sites.csv" in hashes
    assert "notes.csv" not in hashes
