"""The cost–power front of one scenario by the epsilon-constraint method (docs/contract.md §5).

1. min annual_cost_usd → the cost-optimal design, power P_max;
2. min power_mw → P_min; the power-optimal end point is then the cheapest design within
   P_min (point 1 below: min cost with power_mw ≤ P_min);
3. N caps evenly spaced from P_min to P_max (both ends included): min annual_cost_usd
   subject to ``pareto_power_cap``: power_mw [MW] ≤ pareto_cap_mw [MW]. The cap P_max is
   met by the design of step 1, which is therefore point N without another solve.

Points are numbered from the power-optimal end (point 1, cap P_min) to the cost-optimal end
(point N, cap P_max). The front minimises ``annual_cost_usd`` itself: the objective's
``power_weight_usd_per_mw_year`` is what the front replaces (``objective`` in pareto.csv is
still the scenario's weighted objective of each design, as in summary.csv). Every cap is
applied with a relative slack of :data:`CAP_RTOL` so an end point stays feasible under the
solver's tolerances.

Reuse: the Pyomo model is built once and handed to one persistent HiGHS interface; between
solves only the objective and the value of the mutable Param ``pareto_cap_mw`` change (a
row bound in HiGHS). Caps are solved loosening, so each point's design is feasible for the
next one and is passed to HiGHS as a MIP start (``Highs.setSolution``); Pyomo 6.10's
``contrib.solver`` HiGHS interface has no ``warmstart`` option (``appsi_highs`` has one,
doing the same call), hence :class:`WarmStartHighs`.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import numpy as np
import pandas as pd
import pyomo.core as pyo

from model.build import build_model, model_size
from model.charts import pareto_chart
from model.errors import InfeasibleError, NoDesignError
from model.export import (
    dataset_name,
    make_temp_dir,
    replace_folder,
    results_target,
    scenario_lock,
    versions,
    write_results,
)
from model.extract import Tables, extract
from model.index import build_index
from model.load import Dataset, load_dataset
from model.network import NetworkPlan, plan_network
from model.periods import Horizon, horizon_tables, period_records, prepare_horizon
from model.pipeline import SolveOptions, effective, self_check
from model.precheck import check_feasibility
from model.report_html.compare import HORIZON_COLUMNS
from model.solver import Outcome, WarmStartHighs, solve

log = logging.getLogger(__name__)

CAP_RTOL = 1e-6  # relative slack on every power cap (and on the lexicographic P_min step)
PARETO_COLUMNS = [
    "point",
    "cap_mw",
    "power_mw",
    "annual_cost_usd",
    "objective",
    "status",
    "gap",
    "solve_s",
    "notes",
]
Goal = Literal["cost", "power"]


@dataclass(frozen=True)
class ParetoOptions:
    """``points`` caps (≥ 2); ``reuse``: one model and one persistent solver for every solve
    (False rebuilds the model for each, as separate runs would); ``warm_start``: MIP start
    from the previous solution (needs ``reuse``)."""

    points: int = 5
    reuse: bool = True
    warm_start: bool = True


@dataclass
class ParetoResult:
    """pareto.csv as a table, its folder (None when nothing was written), the power range
    of the front and the time spent in HiGHS."""

    table: pd.DataFrame
    out_dir: Path | None
    p_min_mw: float
    p_max_mw: float
    solve_s: float  # sum over every HiGHS call, end points included
    timings: dict[str, float] = field(default_factory=dict)


def add_pareto(m: pyo.ConcreteModel) -> None:
    """Two objectives and the power cap: ``pareto_cost`` min annual_cost [USD/yr],
    ``pareto_power`` min power_mw [MW]; ``pareto_power_cap``: power_mw ≤ pareto_cap_mw."""
    m.objective.deactivate()
    m.pareto_cost = pyo.Objective(expr=m.annual_cost, sense=pyo.minimize)
    m.pareto_power = pyo.Objective(expr=m.power_mw, sense=pyo.minimize)
    m.pareto_power.deactivate()
    m.pareto_cap_mw = pyo.Param(mutable=True, initialize=0.0, within=pyo.Reals)
    m.pareto_power_cap = pyo.Constraint(expr=m.power_mw <= m.pareto_cap_mw)
    m.pareto_power_cap.deactivate()


def add_pareto_horizon(m: pyo.ConcreteModel, dfs: list[float]) -> None:
    """The same for a growth plan (contract §8): ``pareto_cost`` min Σ_p DF_p
    annual_cost_p [USD], ``pareto_power`` min the peak power over the periods
    (``peak_power_mw`` ≥ power_mw_p) and ``pareto_power_cap``: power_mw_p ≤ pareto_cap_mw in
    every period p."""
    m.horizon_objective.deactivate()
    blocks = [m.period[n] for n in m.PERIODS]
    m.pareto_cost = pyo.Objective(
        expr=sum(df * b.annual_cost for df, b in zip(dfs, blocks, strict=True)),
        sense=pyo.minimize,
    )
    m.peak_power_mw = pyo.Var(domain=pyo.NonNegativeReals)
    m.peak_power_rows = pyo.Constraint(
        m.PERIODS, rule=lambda mm, n: mm.peak_power_mw >= mm.period[n].power_mw
    )
    m.pareto_power = pyo.Objective(expr=m.peak_power_mw, sense=pyo.minimize)
    m.pareto_power.deactivate()
    m.pareto_cap_mw = pyo.Param(mutable=True, initialize=0.0, within=pyo.Reals)
    m.pareto_power_cap = pyo.Constraint(
        m.PERIODS, rule=lambda mm, n: mm.period[n].power_mw <= mm.pareto_cap_mw
    )
    m.pareto_power_cap.deactivate()


class _Front:
    """The scenario's model with the Pareto objectives, solved again and again. With
    periods.csv the model is the whole horizon (model/periods.py): cost is the discounted
    cost of the horizon, power the peak over the periods, the cap holds in every period."""

    def __init__(
        self, ds: Dataset, plan: NetworkPlan | None, opts: ParetoOptions, tee: bool | TextIO
    ) -> None:
        self.ds, self.opts, self.tee = ds, opts, tee
        self.horizon: Horizon | None = None
        if ds.periods:
            self.horizon = prepare_horizon(ds, {})
            self.plan, self.ix = self.horizon.plans[-1], self.horizon.ixs[-1]
        else:
            assert plan is not None
            self.plan = plan
            self.ix = build_index(ds, plan)
            check_feasibility(ds, plan, self.ix)
            plan.forget_dropped()  # as the pipeline does: only the precheck reads them
        self.model: pyo.ConcreteModel | None = None
        self.solver: WarmStartHighs | None = None
        self.build_s = 0.0
        self.solve_s = 0.0
        if opts.reuse:
            self._fresh()

    def _fresh(self) -> None:
        start = time.perf_counter()
        if self.horizon is not None:
            self.model = self.horizon.build(f"scaleacross:{self.ds.name}:{self.ds.scenario}")
            add_pareto_horizon(self.model, self.horizon.dfs)
        else:
            self.model, self.ix = build_model(self.ds, self.plan, self.ix)
            add_pareto(self.model)
        self.build_s += time.perf_counter() - start
        self.solver = WarmStartHighs()

    def power_mw(self) -> float:
        """The solved design's power: power_mw, or its peak over the periods."""
        m = self.model
        if self.horizon is None:
            return float(pyo.value(m.power_mw))
        return max(float(pyo.value(m.period[n].power_mw)) for n in m.PERIODS)

    def solve(self, goal: Goal, cap_mw: float | None) -> Outcome:
        """Minimise ``goal`` subject to power_mw ≤ cap_mw·(1 + CAP_RTOL) (no cap: None)."""
        if not self.opts.reuse:
            self._fresh()
        m = self.model
        for objective, wanted in (
            (m.pareto_cost, goal == "cost"),
            (m.pareto_power, goal == "power"),
        ):
            (objective.activate if wanted else objective.deactivate)()
        if cap_mw is None:
            m.pareto_power_cap.deactivate()
        else:
            m.pareto_cap_mw.set_value(cap_mw * (1.0 + CAP_RTOL))
            m.pareto_power_cap.activate()
        self.solver.warm_start = self.opts.reuse and self.opts.warm_start
        outcome = solve(m, self.ds.settings.solver, tee=self.tee, solver=self.solver)
        self.solve_s += outcome.solve_s
        log.info(
            "pareto: min %s, %s: %s in %.2f s",
            goal,
            "no cap" if cap_mw is None else f"cap {cap_mw:.6g} MW",
            outcome.status,
            outcome.solve_s,
        )
        return outcome

    def tables(self, outcome: Outcome) -> Tables:
        """The point's result tables, re-checked by the independent verifier (a violation
        stops the front) and with its single-failure survival table."""
        timings = {"build": self.build_s}
        if self.horizon is not None:
            return horizon_tables(self.horizon, self.model, outcome, timings)
        return self_check(
            self.ds, extract(self.model, self.ds, self.ix, self.plan, outcome, timings)
        )

    def cost_and_power(self, tables: Tables) -> tuple[float, float]:
        """pareto.csv's cost (annual, or discounted over the horizon) and power (the
        design's, or its peak over the periods), read from the point's tables."""
        if tables.periods is None:
            s = tables.summary.iloc[0]
            return float(s["annual_cost_usd"]), float(s["power_mw"])
        p = tables.periods
        cost = float((p["discount_factor"] * p["annual_cost_usd"]).sum())
        return round(cost, 2), float(p["power_mw"].max())


def _require_design(outcome: Outcome, what: str, ds: Dataset) -> None:
    if outcome.status == "infeasible":
        raise InfeasibleError(f"{what}: HiGHS proved the requirements infeasible")
    if not outcome.has_design:
        raise NoDesignError(
            f"{what}: no design found within the limits ({outcome.termination}; time limit "
            f"{ds.settings.solver.time_limit_s:g} s): raise --time-limit or --mip-gap"
        )


def caps(p_min: float, p_max: float, points: int) -> list[float]:
    """``points`` caps evenly spaced from p_min to p_max, both included."""
    return [float(c) for c in np.linspace(p_min, p_max, points)]


def monotone_notes(table: pd.DataFrame, rel_gap: float) -> dict[int, str]:
    """Cost never falls as the cap tightens: for every point, a looser point may not cost
    more, beyond the looser point's MIP gap (and 1e-6 USD). Returns a note per violator."""
    ok = table[table["status"].isin(["optimal", "feasible"])].sort_values("cap_mw")
    notes: dict[int, str] = {}
    rows = list(ok.itertuples())
    for i, tight in enumerate(rows):
        for loose in rows[i + 1 :]:
            gap = max(rel_gap, 0.0 if pd.isna(loose.gap) else float(loose.gap))
            tol = gap * abs(loose.annual_cost_usd) + 1e-6
            if tight.annual_cost_usd < loose.annual_cost_usd - tol:
                notes[int(tight.point)] = (
                    f"warning: cost {tight.annual_cost_usd:,.2f} is below point "
                    f"{int(loose.point)}'s {loose.annual_cost_usd:,.2f} at a looser cap, beyond "
                    "the MIP gap: the front is not monotone"
                )
                log.warning("pareto point %d: %s", int(tight.point), notes[int(tight.point)])
                break
    return notes


def _run_record(
    ds: Dataset, front: _Front, outcome: Outcome, tables: Tables, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "dataset": ds.name,
        "scenario": ds.scenario,
        "data_dir": str(Path(ds.path).resolve()),
        "settings": ds.settings.model_dump(mode="json"),
        "overrides": ds.overrides,
        "outcome": outcome.as_dict(),
        "model_size": model_size(front.model),
        "versions": versions(),
        "inputs_sha256": ds.inputs_sha256,
        "restrictions": front.plan.restrictions,
        "rack_capex_usd": float(tables.summary.at[0, "rack_capex_usd"]),
        "pareto": extra,
        **({"periods": period_records(front.horizon, tables)} if front.horizon else {}),
    }


def pareto_front(
    data_dir: str | Path,
    scenario: str = "base",
    out_root: str | Path | None = "results",
    solve_opts: SolveOptions | None = None,
    opts: ParetoOptions | None = None,
    tee: bool | TextIO = False,
) -> ParetoResult:
    """Solve the front; write ``out_root/<data set>/<scenario>/pareto/`` (pareto.csv,
    pareto.png, report.html, one design folder per point) atomically unless ``out_root`` is
    None. The scenario's lock (:func:`~model.export.scenario_lock`) is held from the first
    solve to the rename."""
    opts = opts or ParetoOptions()
    if opts.points < 2:
        raise ValueError(f"a front needs at least 2 points, got {opts.points}")
    start = time.perf_counter()
    scenario_dir = (
        None if out_root is None else results_target(out_root, dataset_name(data_dir), scenario)
    )
    ds = effective(load_dataset(data_dir, scenario), solve_opts or SolveOptions())
    if scenario_dir is None:
        return _front(ds, None, opts, tee, start)
    with scenario_lock(scenario_dir):
        return _front(ds, scenario_dir / "pareto", opts, tee, start)


def _front(
    ds: Dataset, target: Path | None, opts: ParetoOptions, tee: bool | TextIO, start: float
) -> ParetoResult:
    front = _Front(ds, None if ds.periods else plan_network(ds), opts, tee)

    cheapest = front.solve("cost", None)
    _require_design(cheapest, "min annual cost", ds)
    p_max = front.power_mw()
    cost_optimal = (cheapest, front.tables(cheapest))  # point N: no need to solve it again
    frugal = front.solve("power", None)
    _require_design(frugal, "min power", ds)
    p_min = min(front.power_mw(), p_max)
    log.info("pareto: power from %.6f MW (power-optimal) to %.6f MW (cost-optimal)", p_min, p_max)

    tmp: Path | None = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = make_temp_dir(target.parent, ".pareto.tmp-")
    try:
        cap_list = caps(p_min, p_max, opts.points)
        table = _solve_points(front, ds, cap_list, cost_optimal, tmp)
        if front.horizon is not None:
            table = table.rename(columns=HORIZON_COLUMNS)
        if tmp is not None and target is not None:
            _write_front(table, tmp, f"{ds.name} / {ds.scenario}: cost–power front")
            replace_folder(tmp, target)
            log.info("pareto front written to %s", target)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    timings = {"build": front.build_s, "solve": front.solve_s, "total": time.perf_counter() - start}
    return ParetoResult(table, target, p_min, p_max, front.solve_s, timings)


def _solve_points(
    front: _Front,
    ds: Dataset,
    cap_list: list[float],
    cost_optimal: tuple[Outcome, Tables],
    tmp: Path | None,
) -> pd.DataFrame:
    """Min cost under each cap, loosening; the last cap is P_max, whose answer is the
    cost-optimal design already found (min cost without a cap meets it): not solved again."""
    n = len(cap_list)
    width = max(2, len(str(n)))
    p_min, p_max = cap_list[0], cap_list[-1]
    rows = []
    for i, cap in enumerate(cap_list, start=1):
        notes = []
        if i == 1:
            notes.append("power-optimal end point")
        if i == n:
            notes.append("cost-optimal end point (the min-cost solve)")
            outcome, tables = cost_optimal
        else:
            outcome = front.solve("cost", cap)
            tables = front.tables(outcome) if outcome.has_design else None
        row: dict[str, Any] = {
            "point": i,
            "cap_mw": round(cap, 9),
            "status": outcome.status,
            "gap": outcome.mip_gap,
            "solve_s": round(outcome.solve_s, 3),
        }
        if tables is not None:
            cost, power = front.cost_and_power(tables)
            row.update(
                power_mw=power,
                annual_cost_usd=cost,
                objective=tables.summary.at[0, "objective"],
            )
            if tmp is not None:
                extra = {
                    "point": i,
                    "points": n,
                    "cap_mw": cap,
                    "cap_rtol": CAP_RTOL,
                    "minimised": "discounted_cost_usd" if front.horizon else "annual_cost_usd",
                    "p_min_mw": p_min,
                    "p_max_mw": p_max,
                }
                run = _run_record(ds, front, outcome, tables, extra)
                write_results(tmp / f"point_{i:0{width}d}", tables, run)
        else:
            notes.append(outcome.message)
        row["notes"] = "; ".join(notes)
        rows.append(row)
    table = pd.DataFrame(rows, columns=PARETO_COLUMNS)
    for point, note in monotone_notes(table, ds.settings.solver.mip_gap).items():
        idx = table.index[table["point"] == point][0]
        table.at[idx, "notes"] = "; ".join(x for x in (table.at[idx, "notes"], note) if x)
    return table


def _write_front(table: pd.DataFrame, folder: Path, title: str) -> None:
    """pareto.csv, pareto.png and report.html (the front and what changes from point to
    point, read back from the point folders already written in ``folder``)."""
    from model.report_html.compare import read_design, render_pareto, write_page

    table.to_csv(folder / "pareto.csv", index=False, lineterminator="\n")
    pareto_chart(table, folder / "pareto.png", title)
    width = max(2, len(str(len(table))))
    designs = {
        str(p): read_design(folder / f"point_{int(p):0{width}d}")
        if s in ("optimal", "feasible")
        else None
        for p, s in zip(table["point"], table["status"], strict=True)
    }
    write_page(render_pareto(title, table, designs), folder / "report.html")
