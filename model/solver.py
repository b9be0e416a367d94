"""Solve with HiGHS through Pyomo's ``contrib.solver`` interface; return an outcome record
that keeps the termination condition apart from the solution status."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from model.config import SolverSettings

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
    TerminationCondition.interrupted,
}


def solve(
    m: pyo.ConcreteModel, opts: SolverSettings, tee: bool = False, solver: Any = None
) -> Outcome:
    """Solve ``m`` with HiGHS under ``opts``; load the solution when there is one.

    ``solver``: a (persistent) HiGHS interface to reuse across a sequence of solves of the
    same model, e.g. the points of a Pareto front; a new one per call when None."""
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
    start = time.perf_counter()
    try:
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
