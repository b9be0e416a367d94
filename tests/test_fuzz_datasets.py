"""Property-based fuzzing of whole data sets: mutate a copy of data/japan, data/europe or a
6-site synthetic set (cells, columns, rows, whole files, names, encodings, settings.toml,
scenario names) and run ``solve.py`` on it. Whatever the input, the tool must

* exit 0, 2, 3 or 4 (never 1) with no traceback and no exception escaping ``main``;
* write nothing outside the results root (the data copy and a victim folder beside it
  stay byte-identical);
* on exit 2, name the data set file at fault (or ``--scenario`` / the data set folder
  when the command line's scenario name or the folder's name is what is wrong);
* print no control or invisible formatting characters taken from the data;
* finish (in-process runs are stopped after 120 s: a hang is a failure);
* when it writes a design (exit 0, one scenario), write one ``solve.py verify`` accepts.

The machinery (mutations, sandbox, runner, properties) is in ``fuzz_helpers.py``; a failing
example's repr is its reproducer (``Case(...)``: data set, folder name, mutations, how run).

Budget: 132 generated examples, 4 explicit ones and 8 subprocess runs take about 60 s on 2
cores (measured with every example run to the end; the target is at most 90 s). Under
``CI`` examples are derandomized, not shrunk and not stored. Most examples end at load;
those that pass it run a full solve (``--time-limit 5``), mostly of the 6-site synthetic
set (about a second), few of Japan (about 7 s) or Europe (about 17 s). The deep variants
run only when asked for: ``SCALEACROSS_FUZZ_EXAMPLES=300 pytest -m slow
tests/test_fuzz_datasets.py`` (that many mixed examples, a third as many plausible ones, a
fifth as many hostile scenario names).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fuzz_helpers import (
    Case,
    DeleteFile,
    Mutation,
    Reencode,
    ScenarioRow,
    SetCell,
    SetColumn,
    SetSetting,
    Symlink,
    cases,
    check_case,
    hostile_scenario_cases,
    problems_of,
    run_subprocess,
    sandbox_for,
    snapshot,
    snapshot_diff,
)
from hypothesis import HealthCheck, Phase, example, given, settings

CI = bool(os.environ.get("CI"))
DEEP_EXAMPLES = int(os.environ.get("SCALEACROSS_FUZZ_EXAMPLES", "0") or 0)


# Examples copy a data set and may solve it: slow by design.
SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def budget(examples: int) -> settings:
    """Hypothesis settings: ``examples`` per test; deterministic and unshrunk in CI."""
    ci = {"derandomize": True, "database": None, "phases": (Phase.explicit, Phase.generate)}
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=SLOW_IS_FINE,
        print_blob=not CI,
        **(ci if CI else {}),
    )


def assert_kept(case: Case) -> None:
    check_case(case).check()  # one exception class per kind of failure


def test_unmutated_synthetic_set_solves() -> None:
    """The harness itself: the untouched 6-site set gives a design and keeps every rule."""
    verdict = check_case(Case("synth", "synth", ()))
    verdict.check()
    assert verdict.outcome.code == 0, verdict.outcome.stderr


# Most examples mutate the synthetic set: a mutation that survives load then costs a
# second of solving, not the 5 s (Japan) or 12 s (Europe) of a shipped set.
@budget(80)
@given(case=cases(["synth"]))
def test_mutated_synthetic_set(case: Case) -> None:
    assert_kept(case)


# Changes a planner might make on purpose (numbers scaled or pushed to extremes, rows
# dropped or repeated, settings at their bounds): most pass load and are solved, so they
# reach the network plan, the model, the solver and the writer.
@budget(24)
@given(case=cases(["synth"], plausible=True))
# Always tried first: changes that once ended in exit 1 (found by this suite).
@example(case=Case("synth", "synth", (SetSetting("economics.lifetime_years", "site", "10000"),)))
@example(case=Case("synth", "synth", (SetColumn("link_types.csv", "capacity_gbps", "1e15"),)))
@example(case=Case("synth", "synth", (SetColumn("routers.csv", "capacity_gbps", "1e-15"),)))
@example(case=Case("synth", "synth", (SetSetting("resilience", "zone_survival_share", "1e-9"),)))
def test_plausible_changes_to_synthetic_set(case: Case) -> None:
    assert_kept(case)


# The shipped sets, with the real columns, names and settings: few examples, without the
# plausible mutations, since one that survives load costs a full solve (Japan about 7 s,
# Europe about 17 s); the deep run below gives them their share.
@budget(8)
@given(case=cases(["japan", "japan", "europe"], scenario_share=0.05, plausible_weight=0))
def test_mutated_shipped_sets(case: Case) -> None:
    assert_kept(case)


@budget(20)
@given(case=hostile_scenario_cases())
def test_hostile_scenario_names(case: Case) -> None:
    """``../../victim``, an absolute path, ``.``, ``..``, 300 characters, control
    characters ... as a scenarios.csv row run with ``--all`` or ``--scenario NAME``."""
    assert_kept(case)


@pytest.mark.slow
@pytest.mark.skipif(not DEEP_EXAMPLES, reason="set SCALEACROSS_FUZZ_EXAMPLES for a deep run")
@budget(max(DEEP_EXAMPLES, 1))
@given(case=cases(["synth", "synth", "synth", "synth", "japan", "europe"]))
def test_mutated_data_sets_deep(case: Case) -> None:
    assert_kept(case)


@pytest.mark.slow
@pytest.mark.skipif(not DEEP_EXAMPLES, reason="set SCALEACROSS_FUZZ_EXAMPLES for a deep run")
@budget(max(DEEP_EXAMPLES // 3, 1))
@given(case=cases(["synth"] * 6 + ["japan", "europe"], plausible=True))
def test_plausible_changes_deep(case: Case) -> None:
    assert_kept(case)


@pytest.mark.slow
@pytest.mark.skipif(not DEEP_EXAMPLES, reason="set SCALEACROSS_FUZZ_EXAMPLES for a deep run")
@budget(max(DEEP_EXAMPLES // 5, 1))
@given(case=hostile_scenario_cases())
def test_hostile_scenario_names_deep(case: Case) -> None:
    assert_kept(case)


# --- in a real interpreter: real stderr, and inputs that could hang --------------------


REAL_STDERR_CASES = [
    Case("synth", "synth", (SetCell("sites.csv", 0, 0, "s\x1b[31m1\x07"),)),
    Case("synth", "synth", (Reencode("sites.csv", "latin1"),)),
    Case("synth", "synth", (ScenarioRow("../../victim"),), scenario="../../victim"),
    # a batch: the scenario passes the up-front check and is solved in a worker process
    Case(
        "synth",
        "synth",
        (
            DeleteFile("scenarios.csv"),
            ScenarioRow("long", (("economics.lifetime_years.site", "100"),)),
        ),
        all=True,
    ),
]


@pytest.mark.parametrize("case", REAL_STDERR_CASES, ids=lambda c: repr(c.mutations[-1])[:60])
def test_real_stderr_has_no_traceback(case: Case) -> None:
    """A handful of cases in a fresh interpreter (what a user sees, worker output too)."""
    with sandbox_for(case) as box:
        before = snapshot(box.root, box.out)
        outcome = run_subprocess(case.argv(box.data, box.out, box.root), box.root)
        diff = snapshot_diff(before, snapshot(box.root, box.out))
        found = problems_of(case, box, outcome, diff)
        assert not found, f"{found}\n{case!r}\nexit {outcome.code}\n{outcome.stderr[-2000:]}"


class Fifo(Mutation):
    """``file`` becomes a named pipe nobody writes to (a naive open() blocks for ever)."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __repr__(self) -> str:
        return f"Fifo({self.file!r})"

    def apply(self, folder: Path, sandbox: Path) -> str:
        path = folder / self.file
        if path.exists():
            path.unlink()
        os.mkfifo(path)
        assert stat.S_ISFIFO(path.lstat().st_mode)
        return f"{self.file}: named pipe"


@pytest.mark.parametrize(
    "mutation",
    [
        Fifo("sites.csv"),
        Fifo("settings.toml"),
        Fifo("demands.csv"),
        Symlink("sites.csv", "zero"),
    ],
    ids=repr,
)
def test_special_files_do_not_hang(mutation: Mutation) -> None:
    """A FIFO (or a link to /dev/zero) in place of a data file: a prompt exit 2 naming
    the file, not a hang, run in a subprocess with a timeout (and a memory cap)."""
    case = Case("synth", "synth", (mutation,))
    with sandbox_for(case) as box:
        before = snapshot(box.root, box.out)
        argv = case.argv(box.data, box.out, box.root)
        outcome = run_subprocess(argv, box.root, timeout=30, memory_mb=3000)
        diff = snapshot_diff(before, snapshot(box.root, box.out))
        found = problems_of(case, box, outcome, diff)
        if outcome.escaped:
            found.append(outcome.escaped)
        assert not found, f"{found}\nexit {outcome.code}\n{outcome.stderr[-2000:]}"
        assert outcome.code == 2, outcome.stderr
