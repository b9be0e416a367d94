"""Solve with HiGHS (model/highs_direct.py); return an outcome record that keeps the
termination condition apart from the solution status."""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, TextIO

import pyomo.core as pyo
from pyomo.common.errors import InfeasibleConstraintException

from model.config import SolverSettings
from model.errors import InputError, Interrupted
from model.highs_direct import Compiled, DirectHighs, RawResult, cancel
from model.other_solvers import HIGHS, solve_other

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
    handover_s: float = 0.0  # compiling the model and handing it to HiGHS, part of solve_s
    highs_s: float = 0.0  # HiGHS's own run, part of solve_s

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


_INFEASIBLE = {"provenInfeasible", "locallyInfeasible", "infeasibleOrUnbounded"}


@contextmanager
def _cancel_on_ctrl_c(solver: Any, pressed: list[bool]) -> Iterator[None]:
    """While HiGHS runs, Ctrl-C (SIGINT) asks it to stop (``cancelSolve``: it returns at its
    next interrupt check) instead of raising KeyboardInterrupt inside one of its callbacks,
    which HiGHS reports as a solver error. ``pressed`` is non-empty once HiGHS was
    interrupted. A second Ctrl-C, or one before HiGHS has started, raises
    KeyboardInterrupt. The handler is installed only in the main thread and when SIGINT has
    Python's default handler (batch workers ignore SIGINT)."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        with _sigint_cancels(solver, pressed):
            yield
    else:
        yield


@contextmanager
def _sigint_cancels(solver: Any, pressed: list[bool]) -> Iterator[None]:
    """SIGINT handler for the duration of one solve: cancel HiGHS, note it in ``pressed``."""

    def on_sigint(signum: int, frame: Any) -> None:
        highs = getattr(solver, "_solver_model", None)
        if pressed or highs is None:
            raise KeyboardInterrupt
        pressed.append(True)
        cancel(highs)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def solve(
    m: pyo.ConcreteModel,
    opts: SolverSettings,
    tee: bool | TextIO = False,
    solver: Any = None,
    progress: Callable[[Any], None] | None = None,
    compiled: Compiled | None = None,
) -> Outcome:
    """Solve ``m`` with HiGHS under ``opts``; load the solution when there is one.

    ``solver``: a :class:`DirectHighs` (``warm_start`` set: the variables' current values
    start HiGHS); a new one per call when None. The time limit counts from this call: the
    hand-over of the model to HiGHS is part of it. ``tee``: copy the HiGHS log to stdout
    (True) or to the stream given. ``progress``: called with HiGHS's MIP logging data
    (model/progress.py). ``compiled``: ``m`` as compiled for HiGHS before, when nothing
    but the variables' values has changed since (see ``DirectHighs.solve``). Ctrl-C stops
    HiGHS and raises :class:`~model.errors.Interrupted`, whatever HiGHS found by then."""
    if opts.name != HIGHS:
        warm = bool(solver is not None and solver.warm_start)
        return _other(m, opts, tee, warm)
    solver = solver if solver is not None else DirectHighs()
    log.debug(
        "HiGHS: time limit %.2f s, relative gap %g, %d thread(s), seed %d%s",
        opts.time_limit_s,
        opts.mip_gap,
        opts.threads,
        opts.seed,
        ", warm start" if solver.warm_start else "",
    )
    start = time.perf_counter()
    pressed: list[bool] = []
    try:
        with _cancel_on_ctrl_c(solver, pressed):
            raw = solver.solve(
                m,
                time_limit=opts.time_limit_s,
                rel_gap=opts.mip_gap,
                threads=opts.threads,
                seed=opts.seed,
                tee=tee,
                on_log=progress,
                started=start,
                options=opts.highs_options,
                compiled=compiled,
            )
    except InputError:  # [solver] highs_options that HiGHS refuses
        raise
    except InfeasibleConstraintException as exc:  # a constant row that cannot hold
        elapsed = time.perf_counter() - start
        log.info("solve: infeasible before HiGHS ran (%s)", exc)
        return Outcome(
            "infeasible", "provenInfeasible", "noSolution", None, None, None, elapsed, str(exc)
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
    if pressed or raw.interrupted:
        log.debug("HiGHS stopped by Ctrl-C after %.2f s (%s)", elapsed, raw.termination)
        raise Interrupted()
    return _outcome(raw, elapsed)


def _other(m: pyo.ConcreteModel, opts: SolverSettings, tee: bool | TextIO, warm: bool) -> Outcome:
    """A solve by another solver than HiGHS (model/other_solvers.py)."""
    log.debug("%s: time limit %.2f s, relative gap %g", opts.name, opts.time_limit_s, opts.mip_gap)
    try:
        rec = solve_other(m, opts, tee, warm)
    except KeyboardInterrupt:
        raise Interrupted() from None
    except Exception as exc:  # the solver failed: report, never pass off a design
        log.exception("%s failed", opts.name)
        return Outcome("error", "error", "noSolution", None, None, None, 0.0, f"{exc}")
    gap = relative_gap(rec["objective"], rec["bound"]) if rec["objective"] is not None else None
    log.info(
        "solve (%s): %s (%s) objective=%s bound=%s gap=%s in %.2f s",
        opts.name,
        rec["status"],
        rec["termination"],
        rec["objective"],
        rec["bound"],
        gap,
        rec["solve_s"],
    )
    return Outcome(mip_gap=gap, highs_s=0.0, **rec)


def _outcome(raw: RawResult, elapsed: float) -> Outcome:
    """The outcome record of one HiGHS run."""
    tc = raw.termination
    if tc == "convergenceCriteriaSatisfied" and raw.has_solution:
        status = "optimal"
    elif raw.has_solution:
        status = "feasible"
    elif tc in _INFEASIBLE:
        status = "infeasible"
    else:
        status = "error"
    solution = (
        "optimal"
        if raw.optimal and raw.has_solution
        else ("feasible" if raw.has_solution else "noSolution")
    )
    gap = relative_gap(raw.objective, raw.bound) if raw.has_solution else None
    msg = {
        "optimal": "optimal within the MIP gap",
        "feasible": f"stopped at {tc} with a design, gap not closed",
        "infeasible": "HiGHS proved the model infeasible",
        "error": f"no design: {tc}",
    }[status]
    log.info(
        "solve: %s (%s, %s) objective=%s bound=%s gap=%s in %.2f s "
        "(hand-over %.2f s, HiGHS %.2f s)",
        status,
        tc,
        solution,
        raw.objective,
        raw.bound,
        gap,
        elapsed,
        raw.handover_s,
        raw.run_s,
    )
    return Outcome(
        status,
        tc,
        solution,
        raw.objective,
        raw.bound,
        gap,
        elapsed,
        msg,
        handover_s=round(raw.handover_s, 6),
        highs_s=round(raw.run_s, 6),
    )


#: Kept for callers that reuse one solver object across solves with a MIP start.
WarmStartHighs = DirectHighs
