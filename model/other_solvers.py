"""Any MILP solver Pyomo drives (``[solver] name``, ``solve.py --solver NAME``): CBC, SCIP,
GLPK, Gurobi, CPLEX, ... where installed. HiGHS (the default) goes through
model/highs_direct.py; this module is the other road, Pyomo's own solver interfaces.

The outcome record is the same as HiGHS's: status (optimal within the gap, feasible at a
limit, infeasible, error), objective, best bound (what the solver reports; none when it
reports none) and the gap between them. The time limit, relative gap, threads and seed
are passed under each solver's own option names where scaleacross knows them (below);
a solver not listed gets the time limit and gap only through Pyomo's ``timelimit``
where it has one, and the run says so. The LP relaxations that price paths
(model/pricing.py) use HiGHS whatever the name: they need its duals.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import TYPE_CHECKING, Any, TextIO

from pyomo.common.tee import capture_output
from pyomo.opt import SolverStatus, TerminationCondition

if TYPE_CHECKING:
    import pyomo.core as pyo

log = logging.getLogger(__name__)

HIGHS = "highs"
#: name → (time limit, relative gap, threads, seed) option names; None: not passed.
OPTIONS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "cbc": ("sec", "ratioGap", "threads", "randomCbcSeed"),
    "glpk": ("tmlim", "mipgap", None, None),
    "scip": ("limits/time", "limits/gap", None, "randomization/randomseedshift"),
    "gurobi": ("TimeLimit", "MIPGap", "Threads", "Seed"),
    "gurobi_direct": ("TimeLimit", "MIPGap", "Threads", "Seed"),
    "gurobi_persistent": ("TimeLimit", "MIPGap", "Threads", "Seed"),
    "cplex": ("timelimit", "mipgap", "threads", "randomseed"),
    "cplex_direct": ("timelimit", "mip_tolerances_mipgap", "threads", "randomseed"),
    "xpress": ("maxtime", "miprelstop", "threads", "randomseed"),
}
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,40}")

_INFEASIBLE = {
    TerminationCondition.infeasible,
    TerminationCondition.infeasibleOrUnbounded,
    TerminationCondition.invalidProblem,
}
_LIMITS = {
    TerminationCondition.maxTimeLimit,
    TerminationCondition.maxIterations,
    TerminationCondition.maxEvaluations,
    TerminationCondition.userInterrupt,
    TerminationCondition.resourceInterrupt,
    TerminationCondition.other,
}


def problem(name: str) -> str | None:
    """Why ``name`` cannot solve here (None: it can)."""
    if name == HIGHS:
        return None
    if not NAME.fullmatch(name):
        return f"--solver {name!r}: expected a solver name such as highs, cbc, scip, gurobi"
    import pyomo.environ as pyo  # Pyomo's solver plugins: only when another solver is named

    with capture_output(capture_fd=True):  # Pyomo warns on stderr about unknown names
        opt = pyo.SolverFactory(name)
        ok = opt is not None and opt.available(exception_flag=False)
    if not ok:
        return (
            f"solver {name!r} is not available on this machine (Pyomo cannot run it): "
            "install it (CBC: apt-get install coinor-cbc) or use --solver highs"
        )
    return None


def _options(name: str, opts: Any) -> dict[str, Any]:
    keys = OPTIONS.get(name)
    if keys is None:
        return {}
    values = (opts.time_limit_s, opts.mip_gap, opts.threads, opts.seed)
    out: dict[str, Any] = {}
    for key, value in zip(keys, values, strict=True):
        if key is not None:
            out[key] = math.ceil(value) if name == "glpk" and key == "tmlim" else value
    return out


def solve_other(
    m: pyo.ConcreteModel, opts: Any, tee: bool | TextIO = False, warm_start: bool = False
) -> dict[str, Any]:
    """Solve ``m`` with ``opts.name``; load the design when there is one. Returns the
    fields of the outcome record (model/solver.py builds it)."""
    import pyomo.environ as pyo  # Pyomo's solver plugins: only when another solver is named

    name = opts.name
    start = time.perf_counter()
    opt = pyo.SolverFactory(name)
    kwargs: dict[str, Any] = {"options": _options(name, opts), "load_solutions": False}
    if name not in OPTIONS:
        log.warning("solver %s: time limit and gap are not passed (unknown option names)", name)
    if warm_start and getattr(opt, "warm_start_capable", lambda: False)():
        kwargs["warmstart"] = True
    res = opt.solve(m, tee=bool(tee), **kwargs)
    elapsed = time.perf_counter() - start
    tc = res.solver.termination_condition
    has_solution = len(res.solution) > 0 and res.solver.status != SolverStatus.error
    if has_solution and tc not in _INFEASIBLE:
        m.solutions.load_from(res)
    else:
        has_solution = False
    objective = None
    if has_solution:
        obj = next(m.component_data_objects(pyo.Objective, active=True))
        objective = float(pyo.value(obj))
    sense_min = next(m.component_data_objects(pyo.Objective, active=True)).sense == pyo.minimize
    raw = res.problem.lower_bound if sense_min else res.problem.upper_bound
    bound = float(raw) if raw is not None and math.isfinite(float(raw)) else None
    if tc == TerminationCondition.optimal and has_solution:
        status, termination = "optimal", "convergenceCriteriaSatisfied"
        bound = objective if bound is None else bound
    elif has_solution:
        status, termination = "feasible", str(tc)
    elif tc in _INFEASIBLE:
        status, termination = "infeasible", "provenInfeasible"
    else:
        status, termination = "error", str(tc)
    return {
        "status": status,
        "termination": termination,
        "solution_status": status if has_solution else "noSolution",
        "objective": objective,
        "bound": bound,
        "solve_s": elapsed,
        "message": f"{name}: {res.solver.termination_message or tc}",
    }
