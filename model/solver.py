"""Solve with HiGHS through Pyomo's ``contrib.solver`` interface; return an outcome record
that keeps the termination condition apart from the solution status."""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, TextIO

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from model.config import SolverSettings
from model.errors import Interrupted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a solve proved. ``status``: optimal | feasible | infeasible | error."""

    status: str
    termination: str
    solution_status: str
    objective: float | None
    bound: float | None
    mip_gap: float | None
    solve_s: float
    message: str = ""

    @property
    def has_design(self) -> bool:
        return self.status in ("optimal", "feasible")

    def as_dict(self) -> dict:
        return asdict(self)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective − bound| / max(|objective|, 1e-9); 0 when both are 0."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    if objective == bound:
        return 0.0
    return abs(objective - bound) / max(abs(objective), 1e-9)


_INFEASIBLE = {
    TerminationCondition.provenInfeasible,
    TerminationCondition.locallyInfeasible,
    TerminationCondition.infeasibleOrUnbounded,
}
_LIMITS = {
    TerminationCondition.maxTimeLimit,
    TerminationCondition.iterationLimit,
    TerminationCondition.objectiveLimit,
    TerminationCondition.minStepLength,
}


class _InterruptSeen(logging.Filter):
    """Drops Pyomo's warning about HiGHS's ``kInterrupt`` status (Pyomo 6.10 has no
    termination condition for it) and remembers that HiGHS was interrupted."""

    logger = logging.getLogger("pyomo.contrib.solver.solvers.highs")

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "kInterrupt" in record.getMessage():
            self.seen = True
            return False
        return True


@contextmanager
def _cancel_on_ctrl_c(solver: Any, pressed: list[bool]) -> Iterator[None]:
    """While HiGHS runs, Ctrl-C (SIGINT) asks it to stop (``cancelSolve``: it returns at its
    next interrupt check) instead of raising KeyboardInterrupt inside one of its callbacks,
    which HiGHS reports as a solver error. ``pressed`` is non-empty once HiGHS was
    interrupted. A second Ctrl-C, or one before HiGHS has started, raises
    KeyboardInterrupt. The handler is installed only in the main thread and when SIGINT has
    Python's default handler (batch workers ignore SIGINT)."""
    seen = _InterruptSeen()
    seen.logger.addFilter(seen)
    try:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            with _sigint_cancels(solver, pressed):
                yield
        else:
            yield
    finally:
        seen.logger.removeFilter(seen)
        if seen.seen and not pressed:
            pressed.append(True)


@contextmanager
def _sigint_cancels(solver: Any, pressed: list[bool]) -> Iterator[None]:
    """SIGINT handler for the duration of one solve: cancel HiGHS, note it in ``pressed``."""

    def on_sigint(signum: int, frame: Any) -> None:
        highs = getattr(solver, "_solver_model", None)
        if pressed or not hasattr(highs, "cancelSolve"):
            raise KeyboardInterrupt
        pressed.append(True)
        highs.cancelSolve()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def solve(
    m: pyo.ConcreteModel, opts: SolverSettings, tee: bool | TextIO = False, solver: Any = None
) -> Outcome:
    """Solve ``m`` with HiGHS under ``opts``; load the solution when there is one.

    ``solver``: a (persistent) HiGHS interface to reuse across a sequence of solves of the
    same model, e.g. the points of a Pareto front; a new one per call when None. ``tee``:
    copy the HiGHS log to stdout (True) or to the stream given. Ctrl-C stops HiGHS and raises
    :class:`~model.errors.Interrupted`, whatever HiGHS found by then."""
    solver = solver if solver is not None else SolverFactory("highs")
    if not solver.available():
        return Outcome(
            "error",
            "solverUnavailable",
            "noSolution",
            None,
            None,
            None,
            0.0,
            "HiGHS is not available: pip install highspy",
        )
    log.debug(
        "HiGHS: time limit %g s, relative gap %g, %d thread(s), seed %d%s",
        opts.time_limit_s,
        opts.mip_gap,
        opts.threads,
        opts.seed,
        ", warm start" if getattr(solver, "warm_start", False) else "",
    )
    start = time.perf_counter()
    pressed: list[bool] = []
    try:
        with _cancel_on_ctrl_c(solver, pressed):
            res = solver.solve(
                m,
                tee=tee,
                time_limit=opts.time_limit_s,
                rel_gap=opts.mip_gap,
                threads=opts.threads,
                solver_options={"random_seed": opts.seed, "mip_abs_gap": 1e-6},
                load_solutions=False,
                raise_exception_on_nonoptimal_result=False,
            )
    except Exception as exc:  # the solver itself failed: report, never pass off a design
        if pressed:  # ... because Ctrl-C was pressed twice
            raise Interrupted() from None
        log.exception("HiGHS failed")
        return Outcome(
            "error",
            "error",
            "noSolution",
            None,
            None,
            None,
            time.perf_counter() - start,
            f"solver error: {exc}",
        )
    elapsed = time.perf_counter() - start
    tc, ss = res.termination_condition, res.solution_status
    if pressed or tc == TerminationCondition.interrupted:
        log.debug("HiGHS stopped by Ctrl-C after %.2f s (%s, %s)", elapsed, tc.name, ss.name)
        raise Interrupted()
    objective = res.incumbent_objective
    bound = res.objective_bound
    bound = None if bound is None or not math.isfinite(bound) else float(bound)
    has_solution = ss in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_solution:
        res.solution_loader.load_vars()
    if tc == TerminationCondition.convergenceCriteriaSatisfied and has_solution:
        status = "optimal"
    elif has_solution and (tc in _LIMITS or ss == SolutionStatus.feasible):
        status = "feasible"
    elif tc in _INFEASIBLE:
        status = "infeasible"
    else:
        status = "error"
    gap = relative_gap(objective, bound) if has_solution else None
    msg = {
        "optimal": "optimal within the MIP gap",
        "feasible": f"stopped at {tc.name} with a design, gap not closed",
        "infeasible": "HiGHS proved the model infeasible",
        "error": f"no design: {tc.name}",
    }[status]
    log.info(
        "solve: %s (%s, %s) objective=%s bound=%s gap=%s in %.2f s",
        status,
        tc.name,
        ss.name,
        objective,
        bound,
        gap,
        elapsed,
    )
    return Outcome(status, tc.name, ss.name, objective, bound, gap, elapsed, msg)


class WarmStartHighs(Highs):
    """The persistent ``contrib.solver`` HiGHS interface, passing the model's current
    variable values to HiGHS as a MIP start right before each run. It must be set after
    this solve's model updates: HiGHS drops a set solution when the model changes."""

    warm_start: bool = False

    def _solve(self) -> Any:
        if self.warm_start:
            try:
                self._set_mip_start()
            except (AttributeError, KeyError, TypeError) as exc:  # private API moved
                log.warning("MIP warm start unavailable (%s); solving cold", exc)
                self.warm_start = False
        return super()._solve()

    def _set_mip_start(self) -> None:
        columns = self._pyomo_var_to_solver_var_map
        values = np.zeros(len(columns))
        known = 0
        for var_id, col in columns.items():
            var = self._vars[var_id][0]
            if var.value is None:
                continue
            x = float(var.value)
            values[col] = round(x) if var.is_integer() or var.is_binary() else x
            known += 1
        if not known:
            return
        start = highspy.HighsSolution()
        start.col_value = values
        start.value_valid = True
        start.dual_valid = False
        self._solver_model.setSolution(start)
        log.debug("MIP start: %d of %d columns", known, len(columns))
