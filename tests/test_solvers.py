"""The solver road: HiGHS handed the compiled model directly (model/highs_direct.py), any
other MILP solver Pyomo drives (``--solver NAME``), the outcome record both give, and the
live progress line of a long solve.

CBC (Debian's coinor-cbc, installed by .ci/run) is the second open solver: where it is
missing the CBC tests skip, except under ``CI=true``, where a missing CBC is a failure."""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from builders import REPO, solve_past_the_watchdog, two_sites
from test_batch import THREE

from model import pipeline
from model.build import build_model
from model.cli import main
from model.config import AUTO_THREADS_SITES, SolverSettings
from model.errors import EXIT_INPUT
from model.highs_direct import DirectHighs, compile_model
from model.load import load_dataset
from model.pipeline import SolveOptions, effective, run_scenario
from model.progress import Progress
from model.solver import solve
from model.synth import main as synth

HAVE_CBC = shutil.which("cbc") is not None
needs_cbc = pytest.mark.skipif(
    not HAVE_CBC and os.environ.get("CI") != "true",
    reason="CBC is not installed (apt-get install coinor-cbc)",
)
#: the hand-computed optima of tests/test_batch.py's three scenarios (see check_three)
EXPECTED = {"one_site": 40.0, "split": 67.0, "big_split": 127.0}


def knapsack() -> pyo.ConcreteModel:
    """max 5a + 4b + 3c s.t. 2a + 3b + c ≤ 5, a, b, c ∈ {0, 1}. a + b + c weighs 6; of the
    pairs a + b gives 9, a + c 8, b + c 7: a = b = 1, c = 0 is the only optimum, 9. A
    maximisation, to test the sense."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(["a", "b", "c"], domain=pyo.Binary)
    m.w = pyo.Constraint(expr=2 * m.x["a"] + 3 * m.x["b"] + m.x["c"] <= 5)
    m.o = pyo.Objective(expr=5 * m.x["a"] + 4 * m.x["b"] + 3 * m.x["c"], sense=pyo.maximize)
    return m


def test_the_compiled_model_is_the_pyomo_model() -> None:
    m = knapsack()
    compiled = compile_model(m)
    assert [v.name for v in compiled.columns] == ["x[a]", "x[b]", "x[c]"]
    assert compiled.integer.tolist() == [True, True, True]
    assert compiled.sign == -1.0  # a maximisation: HiGHS minimises the negative
    lp = compiled.highs_lp()
    assert list(lp.col_cost_) == [-5.0, -4.0, -3.0]
    assert list(lp.row_upper_) == [5.0]


def test_variants_of_a_compiled_model_relax_fix_and_drop_without_a_recompile() -> None:
    # the knapsack's LP relaxation takes c (3 per weight), a (2.5), then b for the 2 of
    # weight left: 3 + 5 + 4 * 2/3 = 32/3. a = 0, b = c = 1 fixed: 7. Without the weight
    # row everything fits: 12. The model itself is untouched: no value loaded (load=False)
    m = knapsack()
    base = compile_model(m)

    def run(variant: Any) -> float:
        res = DirectHighs().solve(
            m, time_limit=60, rel_gap=0.0, threads=1, seed=0, compiled=variant, load=False
        )
        assert res.optimal
        return res.objective

    assert run(base.variant(relax=True)) == pytest.approx(32 / 3)
    fixed = base.variant(relax=True, fix_integers=True, values=np.array([0.0, 1.0, 1.0]))
    assert fixed.integer.tolist() == [False, False, False]
    assert run(fixed) == pytest.approx(7.0)
    assert run(base.variant(relax=True, drop=("w",))) == pytest.approx(12.0)
    assert run(base) == pytest.approx(9.0)  # the base itself is still the MIP
    assert [v.value for v in m.x.values()] == [None, None, None]
    for k, x in zip("abc", (1, 1, 0), strict=True):  # fixed at the values the model holds
        m.x[k].set_value(x)
    assert run(base.variant(fix_integers=True)) == pytest.approx(9.0)


def test_a_solve_imports_no_more_of_scipy_than_sparse_matrices() -> None:
    # Pyomo's SciPy callback imports scipy.stats and more (0.5-0.8 s of every run); the
    # standard-form compiler needs only scipy.sparse (model/highs_direct.py, lean_scipy)
    from pyomo.common import dependencies

    if not hasattr(dependencies, "_finalize_scipy"):
        pytest.skip("this Pyomo has no SciPy callback to narrow")
    code = (
        "import sys; from model.pipeline import run_scenario; "
        "r = run_scenario('data/japan', out_root=None); "
        "print(r.outcome.status, 'scipy.sparse' in sys.modules, 'scipy.stats' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["optimal", "True", "False"]


def test_direct_highs_solves_and_loads_a_maximisation() -> None:
    m = knapsack()
    out = solve(m, SolverSettings(mip_gap=0))
    assert out.status == "optimal" and out.objective == pytest.approx(9.0)
    assert out.bound == pytest.approx(9.0) and out.mip_gap == pytest.approx(0.0)
    assert [round(m.x[k].value) for k in "abc"] == [1, 1, 0]
    assert out.handover_s > 0 and out.highs_s > 0 and out.solve_s >= out.highs_s


def test_two_threads_search_the_tree_in_parallel_and_find_the_same_optimum(
    tmp_path: Path,
) -> None:
    # threads ≥ 2 switch on HiGHS's parallel tree search for a MILP (not for an LP, nor
    # with one thread); the optimum is the hand-computed one either way
    for threads, parallel in ((1, "choose"), (2, "on")):
        highs = DirectHighs()
        res = highs.solve(knapsack(), time_limit=60, rel_gap=0.0, threads=threads, seed=0)
        assert res.objective == pytest.approx(9.0)
        assert highs._solver_model.getOptionValue("parallel")[1] == parallel
    lp = knapsack()
    for v in lp.x.values():
        v.domain = pyo.UnitInterval
    highs = DirectHighs()
    highs.solve(lp, time_limit=60, rel_gap=0.0, threads=2, seed=0)
    assert highs._solver_model.getOptionValue("parallel")[1] == "choose"
    ds = two_sites(tmp_path / "tiny", THREE)
    res = run_scenario(ds, "split", None, SolveOptions(threads=2))
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == pytest.approx(EXPECTED["split"])


def test_sets_of_more_than_80_sites_get_two_threads_unless_a_count_is_named(
    tmp_path: Path,
) -> None:
    # more than AUTO_THREADS_SITES sites and no count anywhere: 2; a count in settings.toml,
    # in the scenario or on the command line (even 1) is kept; 80 sites or fewer keep 1
    assert AUTO_THREADS_SITES == 80
    for n in (80, 81):
        assert synth(["--sites", str(n), "--seed", "2", str(tmp_path / f"s{n}")]) == 0

    def threads(name: str, scenario: str = "base", opts: SolveOptions | None = None) -> int:
        ds = load_dataset(tmp_path / name, scenario)
        return effective(ds, opts or SolveOptions()).settings.solver.threads

    assert threads("s80") == 1
    assert threads("s81") == 2
    assert threads("s81", opts=SolveOptions(threads=1)) == 1
    assert threads("s81", opts=SolveOptions(threads=3)) == 3
    (tmp_path / "s81" / "scenarios.csv").write_text("scenario,solver.threads\nbase,\none,1\n")
    assert threads("s81") == 2
    assert threads("s81", "one") == 1
    with (tmp_path / "s81" / "settings.toml").open("a") as f:
        f.write("\n[solver]\nthreads = 1\n")
    assert threads("s81") == 1


def test_lp_duals_follow_pyomos_sign_convention() -> None:
    # min x + 2y s.t. x + y ≥ 3 (dual 1: the cheaper x carries it), y ≥ 0.5 (dual 1 = 2 − 1)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(domain=pyo.NonNegativeReals)
    m.both = pyo.Constraint(expr=m.x + m.y >= 3)
    m.some_y = pyo.Constraint(expr=m.y >= 0.5)
    m.o = pyo.Objective(expr=m.x + 2 * m.y)
    highs = DirectHighs()
    res = highs.solve(m, time_limit=10, rel_gap=None, threads=1, seed=0, want_duals=True)
    assert res.optimal and res.objective == pytest.approx(3.5)
    assert highs.duals[m.both] == pytest.approx(1.0)
    assert highs.duals[m.some_y] == pytest.approx(1.0)


def test_an_unknown_solver_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = two_sites(tmp_path / "tiny", THREE)
    code = main([str(ds), "--solver", "no-such-solver", "--out", str(tmp_path / "res")])
    assert code == EXIT_INPUT
    assert "solver 'no-such-solver' is not available" in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


def test_a_solver_name_that_is_not_a_name_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = two_sites(tmp_path / "tiny", THREE)
    assert main([str(ds), "--solver", "../bin/sh", "--out", str(tmp_path / "r")]) == EXIT_INPUT
    assert "expected a solver name" in capsys.readouterr().err


@needs_cbc
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_cbc_finds_the_hand_computed_optimum(tmp_path: Path, scenario: str) -> None:
    ds = two_sites(tmp_path / "tiny", THREE)
    out = tmp_path / "res"
    assert main([str(ds), "--scenario", scenario, "--solver", "cbc", "--out", str(out)]) == 0
    folder = out / "tiny" / scenario
    summary = pd.read_csv(folder / "summary.csv").iloc[0]
    assert summary["status"] == "optimal"
    assert summary["annual_cost_usd"] == pytest.approx(EXPECTED[scenario])
    run = json.loads((folder / "run.json").read_text())
    assert run["settings"]["solver"]["name"] == "cbc"
    outcome = run["outcome"]
    assert outcome["objective"] == pytest.approx(EXPECTED[scenario])
    assert outcome["bound"] == pytest.approx(EXPECTED[scenario])
    assert outcome["mip_gap"] == pytest.approx(0.0)
    assert outcome["highs_s"] == 0.0  # HiGHS did not solve the MIP


@needs_cbc
def test_cbc_and_highs_agree_on_a_generated_set(tmp_path: Path) -> None:
    assert synth(["--sites", "6", "--seed", "2", str(tmp_path / "s6")]) == 0
    from model.pipeline import SolveOptions

    highs = run_scenario(tmp_path / "s6", out_root=None, opts=SolveOptions(mip_gap=0.0))
    cbc = run_scenario(tmp_path / "s6", out_root=None, opts=SolveOptions(mip_gap=0.0, name="cbc"))
    assert highs.outcome.status == cbc.outcome.status == "optimal"
    assert cbc.outcome.objective == pytest.approx(highs.outcome.objective, rel=1e-6)


def test_the_progress_line_reports_incumbent_bound_and_gap(tmp_path: Path) -> None:
    assert synth(["--sites", "6", "--seed", "2", str(tmp_path / "s6")]) == 0
    stream = io.StringIO()  # not a terminal: plain lines
    progress = Progress(stream, quiet_s=0, plain_interval=0)
    result = run_scenario(tmp_path / "s6", out_root=None, progress=progress)
    lines = stream.getvalue().splitlines()
    assert progress.lines == len(lines) >= 1 and "\r" not in stream.getvalue()
    assert all(line.startswith("solving: ") for line in lines)
    designs = [line for line in lines if "best design —" not in line]
    assert designs, lines
    shown = float(designs[-1].split("best design ")[1].split(" M$")[0].replace(",", ""))
    # incumbents only improve: the last one shown is no better than the final design
    assert shown >= round(result.outcome.objective / 1e6, 2) - 0.01


def test_the_progress_line_is_redrawn_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    class Data:
        mip_primal_bound, mip_dual_bound, mip_gap = 2.5e8, 2.0e8, 0.2

    stream = Tty()
    progress = Progress(stream, quiet_s=0, interval=0)
    progress(Data())
    progress(Data())
    progress.close()
    text = stream.getvalue()
    assert text.count("\r\x1b[2K") == 3 and "\n" not in text
    assert "best design 250.00 M$ · bound 200.00 M$ · gap 20.00%" in text


def test_highs_options_reach_highs_and_a_refused_one_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = knapsack()
    options = {"presolve": "off", "mip_detect_symmetry": False}
    out = solve(m, SolverSettings(mip_gap=0, highs_options=options))
    assert out.status == "optimal" and out.objective == pytest.approx(9.0)
    ds = two_sites(tmp_path / "tiny", THREE)
    with (ds / "settings.toml").open("a") as f:
        f.write("\n[solver.highs_options]\nno_such_option = 1\n")
    code = main([str(ds), "--scenario", "split", "--out", str(tmp_path / "res")])
    assert code == EXIT_INPUT
    assert "HiGHS refuses no_such_option = 1" in capsys.readouterr().err


def test_a_watchdog_stops_highs_when_it_overruns_its_time_limit(tmp_path: Path) -> None:
    # HiGHS's own limit lifted through highs_options: only the watchdog, at 1.02 × the
    # limit + 2 s, can stop it. It ends as a time limit, not as a Ctrl-C (no Interrupted).
    # 40 generated sites: HiGHS needs more than 20 s for a gap of 0 (12 sites, used until
    # the relay rows, now take 1.3 s, less than the watchdog's 3.04 s).
    assert synth(["--sites", "40", "--seed", "3", str(tmp_path / "s40")]) == 0
    from model.build import build_model
    from model.load import load_dataset
    from model.network import plan_network

    ds = load_dataset(tmp_path / "s40")
    m, _ = build_model(ds, plan_network(ds))
    highs = DirectHighs()
    res = highs.solve(
        m, time_limit=1.0, rel_gap=0.0, threads=1, seed=0, options={"time_limit": 1e4}
    )
    assert highs.overtime and res.termination == "maxTimeLimit" and not res.interrupted
    assert res.handover_s + res.run_s < 3.0 + 2.0  # stopped within a couple of seconds


def test_a_highs_that_ignores_the_cancel_is_left_behind_with_its_last_design(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HiGHS checks its interrupt only between some of its steps (at 200 generated sites one
    # step took 150 s). Here the cancel does nothing at all and, once HiGHS has a design,
    # each of its checks takes 0.5 s (builders.solve_past_the_watchdog), so it cannot
    # prove the optimum before the watchdog however fast the machine (12 sites alone:
    # 4.3 s, its design at 1.0 s, against the watchdog's 4.04 s and the grace's 1 s; with
    # the twin rows, 0.2 s a check let it finish inside the grace): the run must still end
    # STOP_GRACE_S after the watchdog, as a time limit, with the last improving design
    # HiGHS reported, its objective recomputed from the compiled objective.
    import model.highs_direct as hd
    from model.build import build_model
    from model.load import load_dataset
    from model.network import plan_network

    assert synth(["--sites", "12", "--seed", "3", str(tmp_path / "s12")]) == 0
    ds = load_dataset(tmp_path / "s12")
    m, _ = build_model(ds, plan_network(ds))
    really_cancel = hd.cancel
    monkeypatch.setattr(hd, "cancel", lambda h: None)
    monkeypatch.setattr(hd, "STOP_GRACE_S", 1.0)
    highs = DirectHighs()
    try:
        res = solve_past_the_watchdog(highs, m)
        assert highs.overtime and highs.abandoned
        assert res.handover_s + res.run_s < 2.0 * 1.02 + 2.0 + 1.0 + 1.0
        assert res.termination == "maxTimeLimit" and not res.optimal and not res.interrupted
        assert res.has_solution, "HiGHS found no design within 5 s on 12 sites"
        assert res.objective == pytest.approx(pyo.value(m.objective), rel=1e-9)
        assert res.bound is not None and res.bound <= res.objective + 1e-6
    finally:
        assert highs._thread is not None
        really_cancel(highs._solver_model)  # stop the HiGHS left behind
        highs._thread.join(60)
    assert not highs._thread.is_alive()


LEAVE_HIGHS_BEHIND = """
import sys
sys.path.insert(0, "tests")  # run from the checkout (cwd)
from builders import solve_past_the_watchdog
import model.highs_direct as hd
from model.build import build_model
from model.load import load_dataset
from model.network import plan_network
ds = load_dataset(sys.argv[1])
m, _ = build_model(ds, plan_network(ds))
really_cancel, hd.cancel, hd.STOP_GRACE_S = hd.cancel, lambda h: None, 1.0
solver = hd.DirectHighs()
solve_past_the_watchdog(solver, m)
assert hd.left_behind()
if sys.argv[2] == "exit_now":
    hd.exit_now(3)  # what solve.py does: at once, HiGHS still running
really_cancel(solver._solver_model)  # a cancel HiGHS sees, at its next check
sys.exit(3)  # the interpreter's exit waits for it
"""


@pytest.mark.parametrize("how", ["exit_now", "sys.exit"])
def test_a_process_that_left_highs_behind_exits_with_its_own_code(tmp_path: Path, how: str) -> None:
    # Torn down under a running solve, HiGHS's C++ runtime aborted the process: exit 134,
    # "terminate called without an active exception", instead of the run's exit code.
    assert synth(["--sites", "12", "--seed", "3", str(tmp_path / "s12")]) == 0
    done = subprocess.run(
        [sys.executable, "-c", LEAVE_HIGHS_BEHIND, str(tmp_path / "s12"), how],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "terminate called" not in done.stderr


def test_a_scenario_gives_its_frozen_heap_back_to_the_garbage_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pipeline freezes the heap once the model is final (docs/model.md, *The garbage
    # collector*). A process that solves one scenario after another (the Python API) must
    # get it back: a Pyomo model holds reference cycles, so only the collector frees it.
    built: list[weakref.ref] = []

    def build_and_watch(*args: Any, **kwargs: Any) -> Any:
        m, ix = build_model(*args, **kwargs)
        built.append(weakref.ref(m))
        return m, ix

    monkeypatch.setattr(pipeline, "build_model", build_and_watch)
    res = run_scenario(two_sites(tmp_path / "tiny", THREE), "split", None)
    assert res.outcome.status == "optimal"
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert len(built) == 1
    assert built[0]() is None  # frozen, the collector would not have freed it
