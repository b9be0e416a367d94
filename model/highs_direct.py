"""HiGHS through its own Python API: the Pyomo model is compiled to matrices by Pyomo's
standard-form compiler and handed to ``highspy`` in one call.

Why not Pyomo's ``contrib.solver`` HiGHS interface: it builds the HiGHS model row by row
through Python (about 23 s of CPU per hand-over at 200 generated sites, which HiGHS's own
time limit does not see). The compiler walks each expression once and hands over NumPy
arrays (``bench/handover.py`` measures both side by side). The compiled model is the same
model: every active constraint and the active objective, variable bounds and integrality.

The solve runs in a thread of its own while the caller's thread waits, so that Ctrl-C
reaches Python at once (``cancelSolve``), so that a live progress line can be drawn from
HiGHS's MIP logging callback (model/progress.py), and so that a HiGHS that does not stop
when cancelled cannot hold the run: each improving design is kept as HiGHS reports it
(``cbMipImprovingSolution``), and ``STOP_GRACE_S`` after the watchdog's cancel the run
ends with the last one (see ``DirectHighs._run``).
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn, TextIO

import highspy
import numpy as np
import pyomo.core as pyo
from pyomo.common.tee import capture_output
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from model import memory
from model.errors import InputError

log = logging.getLogger(__name__)

_STATUS = highspy.HighsModelStatus
#: HiGHS model status → the termination names the outcome record has always used
#: (those of Pyomo's TerminationCondition, kept so run.json reads the same).
TERMINATION = {
    _STATUS.kOptimal: "convergenceCriteriaSatisfied",
    _STATUS.kInfeasible: "provenInfeasible",
    _STATUS.kUnboundedOrInfeasible: "infeasibleOrUnbounded",
    _STATUS.kUnbounded: "unbounded",
    _STATUS.kObjectiveBound: "objectiveLimit",
    _STATUS.kObjectiveTarget: "objectiveLimit",
    _STATUS.kTimeLimit: "maxTimeLimit",
    _STATUS.kIterationLimit: "iterationLimit",
    _STATUS.kInterrupt: "interrupted",
}
if hasattr(_STATUS, "kSolutionLimit"):
    TERMINATION[_STATUS.kSolutionLimit] = "iterationLimit"


#: HiGHS's default ``mip_feasibility_tolerance``: an integer variable within it of an
#: integer counts as integral.
FEASIBILITY_TOLERANCE = 1e-6


def integrality_tolerance(m: pyo.Block) -> float | None:
    """A tighter ``mip_feasibility_tolerance`` for ``m``, or None (HiGHS's default is
    safe). ``Σ units_r ≤ M_r·lit_r`` (``links_lit``) lets ``lit_r`` = 1e-6, which HiGHS
    counts as 0, carry M_r·1e-6 units: once that reaches ½, a unit could run on a route
    counted unlit (no routers at its ends; the self-check would stop the run). With M the
    largest ``largest_big_m`` of ``m``'s blocks (model/families/links.py) at ½·10⁶ or more,
    the tolerance is ½/M. Every data set measured stays below (1,000 generated nodes:
    475,426)."""
    big_m = max((getattr(b, "largest_big_m", 0) for b in m.block_data_objects()), default=0)
    if big_m * FEASIBILITY_TOLERANCE < 0.5:
        return None
    return max(1e-10, 0.5 / big_m)


_RUN_SECONDS = [0.0]  # every HiGHS run of this process, summed (highs_seconds)

#: Seconds HiGHS gets to stop after the watchdog's cancel before the run goes on without it.
#: HiGHS checks its interrupt only between some of its steps: at 200 generated sites one
#: step of branch and bound took 150 s, and the run ended 125 s past its limit.
STOP_GRACE_S = 5.0
#: Seconds between two trims of the heap during branch and bound (model/memory.py; a
#: trim took 0.02-0.07 s at 200 generated sites and lowered the peak from 3.10 to 2.95 GiB).
TRIM_EVERY_S = 15.0
_LEFT_BEHIND: list[threading.Thread] = []  # HiGHS threads the runs went on without


def left_behind() -> bool:
    """A HiGHS run this process went on without is still running."""
    return any(t.is_alive() for t in _LEFT_BEHIND)


def exit_now(code: int) -> NoReturn:
    """End the process with ``code``. With a HiGHS run left behind and still running, at
    once (output flushed, ``os._exit``): HiGHS's C++ runtime aborts the whole process
    (exit 134, "terminate called without an active exception") when it is torn down under
    a running solve, and waiting for the run could take minutes."""
    if left_behind():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


@atexit.register
def _wait_for_left_behind() -> None:
    """At the end of a Python process that did not use :func:`exit_now`: wait for HiGHS
    runs left behind to reach their next interrupt check (they were cancelled), rather
    than let their teardown abort the process."""
    for thread in _LEFT_BEHIND:
        thread.join()


def highs_seconds() -> float:
    """Seconds HiGHS itself has run in this process so far (MIPs and LPs alike)."""
    return _RUN_SECONDS[0]


@dataclass
class Compiled:
    """A Pyomo model as HiGHS sees it: column j is ``columns[j]``, row i belongs to the
    constraint ``rows[i]`` (a ranged constraint has two rows, its ≤ and its ≥); ``matrix`` the
    rows × columns coefficients (SciPy CSC). :meth:`highs_lp` makes the
    ``highspy.HighsLp`` HiGHS copies in (made per solve, not kept: at 200 generated sites
    it is some 60 MB)."""

    columns: list[Any]
    rows: list[Any]
    integer: np.ndarray
    sign: float  # +1 minimise, −1 maximise (HiGHS minimises −objective)
    n_model_vars: int  # the model's unfixed variables (compiled or not)
    matrix: Any = field(repr=False)
    cost: np.ndarray = field(repr=False)
    offset: float
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    row_lower: np.ndarray = field(repr=False)
    row_upper: np.ndarray = field(repr=False)

    def highs_lp(self) -> Any:
        """The model as a ``highspy.HighsLp``."""
        n, nr = len(self.columns), len(self.rows)
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = nr
        lp.col_cost_ = self.cost
        lp.col_lower_ = self.lower
        lp.col_upper_ = self.upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        lp.offset_ = self.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = nr
        lp.a_matrix_.start_ = self.matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.matrix.data.astype(float)
        if self.integer.any():
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[int(k)] for k in self.integer]
        return lp

    def variant(
        self,
        *,
        relax: bool = False,
        fix_integers: bool = False,
        values: np.ndarray | None = None,
        drop: frozenset[str] | tuple[str, ...] = (),
    ) -> Compiled:
        """The same model changed without compiling it again (a compile of 200 generated
        sites takes some 7 s): integrality dropped (``relax``); every integer column fixed
        at its rounded value (``fix_integers``: ``values`` by column, else each variable's
        current value, None as 0), as a bound, which is the model with those variables
        fixed; the rows of the constraint components named in ``drop`` left out."""
        changes: dict[str, Any] = {}
        if fix_integers:
            if values is None:
                values = np.fromiter(
                    (v.value or 0.0 for v in self.columns), dtype=float, count=len(self.columns)
                )
            at = np.round(np.asarray(values, dtype=float))
            changes["lower"] = np.where(self.integer, at, self.lower)
            changes["upper"] = np.where(self.integer, at, self.upper)
        if drop:
            keep = np.fromiter(
                (con.parent_component().local_name not in drop for con in self.rows),
                dtype=bool,
                count=len(self.rows),
            )
            if not keep.all():
                changes["rows"] = [r for r, k in zip(self.rows, keep.tolist(), strict=True) if k]
                changes["matrix"] = self.matrix[keep, :].tocsc()
                changes["row_lower"] = self.row_lower[keep]
                changes["row_upper"] = self.row_upper[keep]
        if relax:
            changes["integer"] = np.zeros_like(self.integer)
        return replace(self, **changes)


def _sparse_only(module: Any, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401  (what the standard-form compiler uses)


def lean_scipy() -> None:
    """Let Pyomo's first use of SciPy import ``scipy.sparse`` only. The standard-form
    compiler needs SciPy's sparse matrices, and Pyomo's callback for SciPy imports
    ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial`` along with it: 0.5-0.8 s of
    every run, a tenth to a sixth of a whole run on the built-in data sets, for modules
    nothing here uses. A Pyomo whose dependency table differs keeps its own callback."""
    from pyomo.common import dependencies as deps

    indicator = getattr(deps, "scipy_available", None)
    if getattr(indicator, "_callback", None) is getattr(deps, "_finalize_scipy", None):
        indicator._callback = _sparse_only


def compile_model(m: pyo.ConcreteModel) -> Compiled:
    """Compile ``m``'s active objective and constraints for HiGHS."""
    lean_scipy()
    objectives = list(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise ValueError(f"expected one active objective, found {len(objectives)}")
    sign = 1.0 if objectives[0].sense == pyo.minimize else -1.0
    info = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=pyo.minimize)
    # The rows keep their constraints, not Pyomo's RowEntry tuples: those are allocated
    # among the compiler's temporaries and, kept, pin the heap they sit in (at 200
    # generated sites 97 of the compiled model's 149 MiB, measured with gc and a trim).
    columns, rows = list(info.columns), [r.constraint for r in info.rows]
    n, nr = len(columns), len(rows)
    lower = np.empty(n)
    upper = np.empty(n)
    integer = np.zeros(n, dtype=bool)
    for j, v in enumerate(columns):
        lb, ub = v.bounds
        lower[j] = -math.inf if lb is None else lb
        upper[j] = math.inf if ub is None else ub
        integer[j] = v.is_integer()
    rhs = np.asarray(info.rhs, dtype=float).reshape(-1)
    sense = np.fromiter((r.bound_type for r in info.rows), dtype=np.int8, count=nr)
    row_lower = np.where(sense == 1, -math.inf, rhs)
    row_upper = np.where(sense == -1, math.inf, rhs)
    cost = info.c.toarray().reshape(-1) if n else np.zeros(0)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    free = sum(1 for v in m.component_data_objects(pyo.Var, descend_into=True) if not v.fixed)
    matrix = info.A.tocsc()
    return Compiled(
        columns, rows, integer, sign, free, matrix, cost, offset, lower, upper, row_lower, row_upper
    )


def cancel(h: Any) -> None:
    """Stop a running HiGHS at its next interrupt check. highspy's ``cancelSolve`` acts only
    through interrupt callbacks (its ``HandleUserInterrupt``), which would cost a Python call
    at every check of the whole solve; they are subscribed here, when they are needed."""
    stop = getattr(h, "_scaleacross_stop", None)
    if stop is not None:
        return

    def stop(e: Any) -> None:
        e.interrupt()

    h._scaleacross_stop = stop
    for kind in ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt"):
        callback = getattr(h, kind, None)
        if callback is not None:
            callback.subscribe(stop)


class _Best:
    """The last improving design HiGHS reported and the last dual bound it reported
    (written from HiGHS's thread through its MIP callbacks; the interrupt check comes a
    few dozen times a second at most: 872 calls in a 38 s solve of 50 generated sites,
    which took 38.3 s with the callback and 38.2 s without). The interrupt check also
    trims the heap every ``TRIM_EVERY_S``."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None
        self.bound = -math.inf
        self.lock = threading.Lock()
        self.trimmed = time.perf_counter()

    def keep(self, e: Any) -> None:
        x = np.array(e.data_out.mip_solution, dtype=float)
        with self.lock:
            self.x = x
        self.track(e)

    def track(self, e: Any) -> None:
        bound = float(e.data_out.mip_dual_bound)
        if math.isfinite(bound):
            with self.lock:
                self.bound = max(self.bound, bound)
        if time.perf_counter() - self.trimmed > TRIM_EVERY_S:
            memory.trim()  # what HiGHS freed (a sub-MIP's copy of the model, say)
            self.trimmed = time.perf_counter()


@dataclass
class RawResult:
    """What one HiGHS run gave, in the model's own sense."""

    termination: str
    has_solution: bool
    optimal: bool
    objective: float | None
    bound: float | None
    interrupted: bool
    handover_s: float
    run_s: float


class DirectHighs:
    """One HiGHS instance per solve. ``warm_start``: pass the variables' current values to
    HiGHS as a MIP start. ``_solver_model`` is the running ``highspy.Highs`` (Ctrl-C cancels
    it; None after :meth:`release`). ``duals`` after an LP solve: constraint → dual (Pyomo's
    sign convention)."""

    name = "highs"

    def __init__(self) -> None:
        self.warm_start = False
        self.overtime = False  # the watchdog stopped the last run (see solve)
        self.abandoned = False  # ... and HiGHS had not stopped STOP_GRACE_S later
        self._thread: threading.Thread | None = None  # the last run's HiGHS thread
        #: the start is a design of the model (a left-behind run may fall back to it)
        self.start_is_design = False
        self._solver_model: Any = None
        self.compiled: Compiled | None = None
        self.duals: dict[Any, float] | None = None

    @staticmethod
    def available() -> bool:
        return True

    def solve(
        self,
        m: pyo.ConcreteModel,
        *,
        time_limit: float,
        rel_gap: float | None,
        threads: int,
        seed: int,
        tee: bool | TextIO = False,
        on_log: Callable[[Any], None] | None = None,
        started: float | None = None,
        want_duals: bool = False,
        options: dict[str, Any] | None = None,
        compiled: Compiled | None = None,
        load: bool = True,
    ) -> RawResult:
        """Compile, hand over, run. ``started``: the ``perf_counter`` from which
        ``time_limit`` counts (the hand-over is part of it). ``compiled``: ``m`` as
        compiled before (or a :meth:`Compiled.variant` of it), not compiled again; the
        caller vouches that ``m``'s constraints, bounds and fixed variables have not
        changed since. ``load``: set the variables' values to the solution (False leaves
        ``m`` as it was: an LP solved for its duals only)."""
        started = time.perf_counter() if started is None else started
        self._solver_model = self.duals = None
        compiled = self.compiled = compile_model(m) if compiled is None else compiled
        with capture_output(capture_fd=True):  # HiGHS's banner, printed once per process
            h = highspy.Highs()
        self._solver_model = h
        h.setOptionValue("output_flag", bool(tee))
        if tee and tee is not True:
            h.setOptionValue("log_to_console", False)
            h.cbLogging.subscribe(lambda e: tee.write(e.message))
        h.passModel(compiled.highs_lp())
        left = time_limit - (time.perf_counter() - started)
        h.setOptionValue("time_limit", max(0.0, float(left)))
        if rel_gap is not None:
            h.setOptionValue("mip_rel_gap", float(rel_gap))
        h.setOptionValue("mip_abs_gap", 1e-6)
        h.setOptionValue("threads", int(threads))
        if threads > 1 and compiled.integer.any():
            # HiGHS searches the branch-and-bound tree with several workers only with
            # parallel = "on" (threads alone parallelise little more than symmetry
            # detection); highs_options may still set it "off"
            h.setOptionValue("parallel", "on")
        h.setOptionValue("random_seed", int(seed))
        tolerance = integrality_tolerance(m) if compiled.integer.any() else None
        if tolerance is not None:
            log.info(
                "HiGHS: mip_feasibility_tolerance %.3g, as a route may take %s units",
                tolerance,
                f"{0.5 / tolerance:,.0f}",
            )
            h.setOptionValue("mip_feasibility_tolerance", tolerance)
        for key, value in sorted((options or {}).items()):
            if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
                raise InputError(
                    f"[solver] highs_options: HiGHS refuses {key} = {value!r} (see HiGHS's "
                    "option list: https://ergo-code.github.io/HiGHS/stable/options/definitions/)"
                )
        start = None
        if self.warm_start and compiled.integer.any():
            start = self._set_start(h, compiled)
        best = _Best()
        if compiled.integer.any():
            h.cbMipImprovingSolution.subscribe(best.keep)
            h.cbMipInterrupt.subscribe(best.track)
        if on_log is not None and hasattr(h, "cbMipInterrupt"):
            # called often during branch and bound (the logging callback only when HiGHS
            # prints, which it does not with output_flag off); on_log throttles itself
            h.cbMipInterrupt.subscribe(lambda e: on_log(e.data_out))
        handover = time.perf_counter() - started
        log.debug(
            "HiGHS: %d columns (%d integer), %d rows handed over in %.2f s",
            len(compiled.columns),
            int(compiled.integer.sum()),
            len(compiled.rows),
            handover,
        )
        run_start = time.perf_counter()
        # HiGHS keeps to its time limit, but not inside every phase (at 200 generated sites
        # a root LP or a sub-MIP overran it by minutes): a watchdog cancels it a little
        # after the limit, and the run ends as a time limit, with whatever HiGHS found.
        self.overtime = self.abandoned = False
        with memory.for_highs():  # the compile's temporaries trimmed first
            status = self._run(h, started + time_limit * 1.02 + 2.0)
        run_s = time.perf_counter() - run_start
        _RUN_SECONDS[0] += run_s
        if status is None:
            return self._abandoned(m, compiled, best, start, handover, run_s)
        return self._result(m, h, compiled, status, handover, run_s, want_duals, load)

    def release(self) -> None:
        """Let the last run's HiGHS go (unless it was left behind running) and trim the
        heap: its memory goes now, not when the next solve replaces it."""
        if not self.abandoned:
            self._solver_model = None
        memory.trim()

    def _run(self, h: Any, deadline: float) -> Any:
        """Run HiGHS in a thread of its own while this one waits; cancel it at ``deadline``
        (a ``perf_counter`` time) if it still runs (``overtime``). The model status, or
        None when HiGHS has not stopped ``STOP_GRACE_S`` after that cancel (``abandoned``):
        the caller then takes the last design HiGHS reported, and HiGHS's thread ends at
        its next interrupt check, in the background, touching nothing but ``h``. In the
        main thread Ctrl-C's handler runs at once (it cancels HiGHS); a second Ctrl-C
        raises here, cancels HiGHS and waits for it. (highspy's own ``startSolve`` keeps
        its locks on the class: two solves in two batch threads would share them.)"""
        done = threading.Event()

        def target() -> None:
            try:
                h.run()  # releases the GIL while HiGHS works
            finally:
                done.set()

        thread = self._thread = threading.Thread(target=target, name="highs", daemon=True)
        thread.start()
        cancelled = math.inf  # when the watchdog cancelled HiGHS
        try:
            while not done.wait(0.1):
                now = time.perf_counter()
                if not self.overtime and now > deadline:
                    self.overtime, cancelled = True, now
                    log.warning("HiGHS ran past its time limit: stopped by the watchdog")
                    cancel(h)
                elif self.overtime and now > cancelled + STOP_GRACE_S:
                    self.abandoned = True
                    _LEFT_BEHIND.append(thread)
                    log.warning(
                        "HiGHS had not stopped %g s after the watchdog's cancel: the run "
                        "goes on with the last design HiGHS reported",
                        STOP_GRACE_S,
                    )
                    return None
        except BaseException:
            cancel(h)
            thread.join()
            raise
        thread.join()
        return h.getModelStatus()

    def _abandoned(
        self,
        m: pyo.ConcreteModel,
        compiled: Compiled,
        best: _Best,
        start: np.ndarray | None,
        handover: float,
        run_s: float,
    ) -> RawResult:
        """The result of a run left to stop in the background: a time limit, with the last
        improving design HiGHS reported, else the complete MIP start it was given when
        ``start_is_design`` (the objective recomputed from the compiled objective), and the
        last dual bound it reported."""
        with best.lock:
            x, bound = best.x, best.bound
        if x is None and self.start_is_design and start is not None:
            # HiGHS takes its start only once its presolve is over; the caller vouched for
            # the start (model/screen.py: an LP of the full model completed it)
            x = start
        objective = None
        if x is not None:
            objective = compiled.sign * (float(compiled.cost @ x) + compiled.offset)
            self._load(m, compiled, x)
        return RawResult(
            "maxTimeLimit",
            x is not None,
            False,
            objective,
            compiled.sign * bound if math.isfinite(bound) else None,
            False,
            handover,
            run_s,
        )

    @staticmethod
    def _set_start(h: Any, compiled: Compiled) -> np.ndarray | None:
        values = np.zeros(len(compiled.columns))
        known = 0
        for j, v in enumerate(compiled.columns):
            if v.value is None:
                continue
            x = float(v.value)
            values[j] = round(x) if compiled.integer[j] else x
            known += 1
        if not known:
            return None
        complete = known == len(compiled.columns)
        start = highspy.HighsSolution()
        start.col_value = values
        start.value_valid = True
        start.dual_valid = False
        h.setSolution(start)
        log.debug("MIP start: %d of %d columns", known, len(compiled.columns))
        return values if complete else None

    def _result(
        self,
        m: pyo.ConcreteModel,
        h: Any,
        compiled: Compiled,
        status: Any,
        handover: float,
        run_s: float,
        want_duals: bool,
        load: bool = True,
    ) -> RawResult:
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        termination = TERMINATION.get(status, "error" if "Error" in status.name else "unknown")
        optimal = status == _STATUS.kOptimal
        objective = bound = None
        sol = h.getSolution()
        if has_solution:
            objective = compiled.sign * info.objective_function_value
            if load:
                self._load(m, compiled, np.asarray(sol.col_value))
        if info.mip_node_count == -1:  # an LP
            bound = objective if optimal and has_solution else None
        elif math.isfinite(info.mip_dual_bound):
            bound = compiled.sign * info.mip_dual_bound
        if want_duals and optimal and sol.dual_valid:
            duals: dict[Any, float] = {}
            row_dual = np.asarray(sol.row_dual) * compiled.sign
            for con, y in zip(compiled.rows, row_dual.tolist(), strict=True):
                duals[con] = duals.get(con, 0.0) + y
            self.duals = duals
        interrupted = status == _STATUS.kInterrupt and not self.overtime
        if status == _STATUS.kInterrupt and self.overtime:
            termination = "maxTimeLimit"
        return RawResult(
            termination, has_solution, optimal, objective, bound, interrupted, handover, run_s
        )

    @staticmethod
    def _load(m: pyo.ConcreteModel, compiled: Compiled, x: np.ndarray) -> None:
        """Set every compiled column's value. A variable the compiler left out (no
        non-zero coefficient anywhere) takes the value nearest 0 within its bounds when it
        has none yet: any value within its bounds is as good."""
        for v, value in zip(compiled.columns, x.tolist(), strict=True):
            v.set_value(value, skip_validation=True)
        if len(compiled.columns) == compiled.n_model_vars:
            return
        seen = {id(v) for v in compiled.columns}
        for v in m.component_data_objects(pyo.Var, descend_into=True):
            if v.value is None and not v.fixed and id(v) not in seen:
                lb, ub = v.bounds
                v.set_value(
                    min(
                        max(0.0, lb if lb is not None else -math.inf),
                        ub if ub is not None else math.inf,
                    ),
                    skip_validation=True,
                )
