"""Growth over periods (docs/contract.md §8): plan the build-out period by period.

Every period is the single-period model of §2–§5, built unchanged by :func:`build_model`
into a block of its own, from the period's data set (:func:`period_dataset`: its
``[demand]`` values, the sites available in its first year with their power cap then).
What is built stays built: the installed-asset variables of consecutive blocks are linked
by ``x_p ≥ x_{p−1}`` over the indices both periods have (an asset the later period cannot
hold is fixed to 0 in the earlier one). Flows are chosen afresh in every period. The
blocks' objectives are deactivated; the model minimises Σ_p DF_p × objective_p.

Results: every period is extracted and re-checked by the independent verifier on its own
data set, like a single-period run; the tables get a ``period`` column, and
:func:`stays_built_problems` re-checks from the tables alone that nothing built went away.
Column generation and the first-design screening do not run: the design is optimal over
each period's candidate paths (run.json ``routing``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
import pyomo.core as pyo

from model.build import build_model, model_size
from model.errors import DesignCheckError, InfeasibleError, NoDesignError
from model.explain import COLUMNS as EXPLAIN_COLUMNS
from model.explain import explain_infeasibility
from model.extract import Tables
from model.index import ModelIndex, build_index
from model.load import Dataset, Period
from model.network import NetworkPlan, plan_network
from model.precheck import check_feasibility
from model.solver import Outcome, solve

log = logging.getLogger(__name__)

#: The installed-asset variables of contract §8 (what is built stays built).
STAYS_BUILT = ("open", "cool", "racks", "stor", "units", "lit", "routers")
#: Linked the same way, implied at integer points: racks that stay keep a GPU site one
#: (racks ≥ min_racks·gpu > 0), and a scale-across pair is gpu_a·gpu_b (families/traffic.py)
#: — rows that only tighten the LP relaxation.
STAYS_IMPLIED = ("gpu",)
PERIOD_COLUMNS = [
    "period",
    "year",
    "years",
    "discount_factor",
    "annual_cost_usd",
    "capex_added_usd",
    "power_mw",
    "gpu_racks",
    "gpu_sites",
    "storage_pb",
    "routes_lit",
    "units",
    "routers",
]
ROUTING_NOTE = (
    "growth over periods: no column generation; the design is optimal over the candidate "
    "paths of each period"
)


def label(p: Period) -> str:
    """How messages name a period: its year, with its name when that differs."""
    return str(p.year) if p.name == str(p.year) else f"{p.name} ({p.year})"


def discount_factor(p: Period, first_year: int, rate: float) -> float:
    """DF_p = Σ_{y = year_p}^{year_p + years_p − 1} (1 + i)^−(y − year_1)."""
    return sum((1.0 + rate) ** -(y - first_year) for y in range(p.year, p.year + p.years))


def period_dataset(ds: Dataset, p: Period) -> Dataset:
    """The single-period data set of period ``p``: its settings, the sites available in
    its first year (with the power cap in force then), the routes and offers between them.
    A demand or customer region at a site not yet available makes the period infeasible."""
    sites = ds.sites
    avail = sites["available_year"] if "available_year" in sites else pd.Series(dtype=float)
    keep = [s for s in sites.index if pd.isna(avail.get(s)) or int(avail[s]) <= p.year]
    sites = sites.loc[keep].copy()
    for step in ds.site_power.itertuples():
        if step.site in sites.index and int(step.year) <= p.year:  # sorted by site, year
            sites.at[step.site, "max_power_mw"] = float(step.max_power_mw)
    kept = set(keep)
    problems = []
    for d in ds.demands.itertuples():
        for end in (d.src, d.dst):
            if end not in kept:
                problems.append(
                    f"{label(p)}: demand {d.demand!r} ends at site {end!r}, available only "
                    f"from {int(avail[end])} (sites.csv available_year)"
                )
    for u in ds.users.itertuples():
        if u.site not in kept:
            problems.append(
                f"{label(p)}: region {u.region!r} enters at site {u.site!r}, available only "
                f"from {int(avail[u.site])} (sites.csv available_year)"
            )
    if problems:
        raise InfeasibleError("the requirements cannot all be met", problems)
    routes = ds.routes[ds.routes["a"].isin(kept) & ds.routes["b"].isin(kept)]
    offers = ds.offers[ds.offers["route"].isin(set(routes.index))]
    return replace(
        ds,  # the period's settings, with the run's solver options (command line included)
        settings=p.settings.model_copy(update={"solver": ds.settings.solver}),
        sites=sites,
        routes=routes,
        offers=offers,
        periods=(),
        site_power=ds.site_power.iloc[0:0],
    )


def build_periods(
    dss: list[Dataset], plans: list[NetworkPlan], ixs: list[ModelIndex], dfs: list[float], name: str
) -> pyo.ConcreteModel:
    """One block per period (``m.period[n]``, n = 0, 1, ...), the stays-built rows
    between consecutive blocks, and the discounted objective."""
    m = pyo.ConcreteModel(name=name)
    m.PERIODS = pyo.Set(initialize=list(range(len(dss))), ordered=True)
    m.period = pyo.Block(m.PERIODS)
    for n, (d, plan, ix) in enumerate(zip(dss, plans, ixs, strict=True)):
        build_model(d, plan, ix, into=m.period[n])
        m.period[n].objective.deactivate()
    m.stays_built = pyo.ConstraintList()
    m.stays_rows = []  # (period, variable, index) of each row, for the explanation
    for n in range(1, len(dss)):
        prev, cur = m.period[n - 1], m.period[n]
        for var in STAYS_BUILT + STAYS_IMPLIED:
            a, b = prev.component(var), cur.component(var)
            if a is None:
                continue
            for idx in a:
                if b is not None and idx in b:
                    if a[idx].fixed and b[idx].fixed:
                        continue
                    m.stays_built.add(b[idx] >= a[idx])
                    m.stays_rows.append((n, var, idx))
                elif var in STAYS_BUILT and not a[idx].fixed:
                    m.stays_built.add(a[idx] <= 0)
                    m.stays_rows.append((n, var, idx))
    m.horizon_objective = pyo.Objective(
        expr=sum(df * m.period[n].objective.expr for n, df in enumerate(dfs)), sense=pyo.minimize
    )
    return m


def unlight_empty_routes(m: pyo.ConcreteModel) -> int:
    """Set lit_{r,p} = 0 where route r carries no unit in period p. Within the MIP gap HiGHS
    may return a route lit early, paid for but empty; the result tables list the routes
    with units, so the figures would not add up. Unlighting only relaxes rows (units ≤
    M·lit, routers ≥ n·lit, open ≥ lit, lit_p ≥ lit_{p−1} where the later one is unlit
    too) and lowers the cost. Returns how many were unlit."""
    count = 0
    for n in m.PERIODS:
        block = m.period[n]
        units: dict[str, float] = {}
        for (r, _t), var in block.units.items():
            units[r] = units.get(r, 0.0) + (pyo.value(var, exception=False) or 0.0)
        for r, var in block.lit.items():
            if (pyo.value(var, exception=False) or 0.0) > 0.5 and units.get(r, 0.0) < 0.5:
                var.set_value(0)
                count += 1
    if count:
        log.info("%d route-periods lit without units set to unlit", count)
    return count


def stays_built_problems(
    periods: list[Period], sites: list[pd.DataFrame], links: list[pd.DataFrame]
) -> list[str]:
    """From the result tables alone: nothing built in a period is gone in the next (open
    sites, their cooling, racks, storage, routers per model, units per route and type)."""
    out = []
    for n in range(1, len(periods)):
        what = f"{label(periods[n - 1])} → {label(periods[n])}"
        before, after = _typed(sites[n - 1]), _typed(sites[n])
        for s, row in before.iterrows():
            if not row["open"]:
                continue
            if s not in after.index or not after.at[s, "open"]:
                out.append(f"{what}: site {s} was open and is closed")
                continue
            if row["cooling"] and after.at[s, "cooling"] != row["cooling"]:
                out.append(f"{what}: site {s} cooling {row['cooling']} → {after.at[s, 'cooling']}")
            for col in ("gpu_racks", "storage_pb"):
                if after.at[s, col] < row[col] - 1e-6:
                    out.append(f"{what}: site {s} {col} {row[col]} → {after.at[s, col]}")
            had, has = _models(row["router_models"]), _models(after.at[s, "router_models"])
            for model_name, count in had.items():
                if has.get(model_name, 0) < count:
                    out.append(
                        f"{what}: site {s} routers {model_name} {count} → {has.get(model_name, 0)}"
                    )
        units_after = {
            (r.route, r.type): int(float(r.units)) for r in links[n].itertuples() if float(r.units)
        }
        for r in links[n - 1].itertuples():
            if float(r.units) and units_after.get((r.route, r.type), 0) < float(r.units):
                out.append(
                    f"{what}: route {r.route} type {r.type} units {int(float(r.units))} → "
                    f"{units_after.get((r.route, r.type), 0)}"
                )
    return out


def _typed(sites: pd.DataFrame) -> pd.DataFrame:
    """sites.csv rows by site, the compared columns as numbers (the CSV text works too)."""
    out = sites.set_index("site", drop=False)
    for col in ("open", "gpu_racks", "storage_pb"):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0.0)
    out["cooling"] = out["cooling"].fillna("").astype(str)
    return out


def _models(text: Any) -> dict[str, int]:
    if not isinstance(text, str) or not text:
        return {}
    return {k: int(v) for k, v in (part.split(":") for part in text.split(";"))}


def _with_period(frame: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    out = frame.copy()
    out.insert(0, "period", name)
    return out


def _concat(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    present = [f for f in frames if f is not None]
    if not present:
        return None
    return pd.concat(present, ignore_index=True)


def _explain(
    periods: list[Period],
    dss: list[Dataset],
    plans: list[NetworkPlan],
    ixs: list[ModelIndex],
    model: pyo.ConcreteModel,
) -> pd.DataFrame:
    """The infeasibility explanation of the first period that is infeasible on its own,
    its messages prefixed with the period; when every period alone has a design, the
    stays-built rows that must give way (:func:`_stays_explain`)."""
    for p, d, plan, ix in zip(periods, dss, plans, ixs, strict=True):
        alone, _ = build_model(d, plan, ix)
        rows = explain_infeasibility(alone, d, ix, plan)
        if len(rows):
            rows = rows.copy()
            rows["message"] = [f"{label(p)}: {msg}" for msg in rows["message"]]
            return rows
    return _stays_explain(periods, dss[0], model)


def _stays_explain(periods: list[Period], ds: Dataset, m: pyo.ConcreteModel) -> pd.DataFrame:
    """Every period alone has a design: make the stays-built rows elastic (in place),
    minimise their total slack, and name each asset that could not stay."""
    m.horizon_objective.deactivate()
    m.stays_built.deactivate()
    rows = list(m.stays_rows)
    m.stays_slack = pyo.Var(range(len(rows)), domain=pyo.NonNegativeReals)
    m.stays_elastic = pyo.ConstraintList()
    for i, (n, var, idx) in enumerate(rows):
        a, b = m.period[n - 1].component(var), m.period[n].component(var)
        if b is not None and idx in b:
            m.stays_elastic.add(b[idx] + m.stays_slack[i] >= a[idx])
        else:
            m.stays_elastic.add(a[idx] - m.stays_slack[i] <= 0)
    m.stays_objective = pyo.Objective(expr=sum(m.stays_slack[i] for i in range(len(rows))))
    outcome = solve(m, ds.settings.solver)
    out = []
    if outcome.has_design:
        for i, (n, var, idx) in enumerate(rows):
            short = pyo.value(m.stays_slack[i], exception=False) or 0.0
            if short <= 1e-6:
                continue
            before, after = label(periods[n - 1]), label(periods[n])
            what = f"{var}[{', '.join(map(str, idx)) if isinstance(idx, tuple) else idx}]"
            out.append(
                {
                    "requirement": "stays_built",
                    "objects": what,
                    "amount": round(short, 6),
                    "unit": "",
                    "message": f"{before} → {after}: {what} built in {before} cannot stay in "
                    f"{after} (short by {short:g}); every period alone has a design",
                }
            )
    if not out:
        out.append(
            {
                "requirement": "stays_built",
                "objects": "",
                "amount": None,
                "unit": "",
                "message": "every period alone has a design, but not together: what is built "
                "in one period must stay in the next (a power cap that falls, say)",
            }
        )
    return pd.DataFrame(out, columns=EXPLAIN_COLUMNS)


@dataclass
class Horizon:
    """The periods of a growth run, each with its data set, network plan and index, and
    their discount factors (contract §8)."""

    periods: list[Period]
    dfs: list[float]
    dss: list[Dataset]
    plans: list[NetworkPlan]
    ixs: list[ModelIndex]

    def build(self, name: str) -> pyo.ConcreteModel:
        return build_periods(self.dss, self.plans, self.ixs, self.dfs, name)


def check_rows(problems: list[str]) -> pd.DataFrame:
    """infeasibility.csv rows of precheck messages."""
    return pd.DataFrame(
        [
            {"requirement": "check", "objects": "", "amount": None, "unit": "", "message": p}
            for p in problems
        ],
        columns=EXPLAIN_COLUMNS,
    )


def prepare_horizon(ds: Dataset, timings: dict[str, float]) -> Horizon:
    """Every period's data set, network plan and index, prechecked; InfeasibleError (its
    messages prefixed with the period) when a period cannot be met on its own."""
    from model.pipeline import _timed

    periods = list(ds.periods)
    rate = ds.settings.economics.discount_rate
    dfs = [discount_factor(p, periods[0].year, rate) for p in periods]
    dss: list[Dataset] = []
    problems: list[str] = []
    for p in periods:
        try:
            dss.append(period_dataset(ds, p))
        except InfeasibleError as exc:
            problems += exc.problems
    if problems:
        raise InfeasibleError("the requirements cannot all be met", problems)
    plans = _timed(timings, "network", lambda: [plan_network(d) for d in dss])
    ixs = _timed(
        timings, "index", lambda: [build_index(d, pl) for d, pl in zip(dss, plans, strict=True)]
    )

    def precheck() -> list[str]:
        found = []
        for p, d, plan, ix in zip(periods, dss, plans, ixs, strict=True):
            try:
                check_feasibility(d, plan, ix)
            except InfeasibleError as exc:
                found += [f"{label(p)}: {msg}" for msg in exc.problems]
        return found

    problems = _timed(timings, "validate", precheck)
    if problems:
        raise InfeasibleError("the requirements cannot all be met", problems)
    for plan in plans:  # as the pipeline does: only the precheck reads them
        plan.forget_dropped()
    return Horizon(periods, dfs, dss, plans, ixs)


def horizon_tables(
    h: Horizon, model: pyo.ConcreteModel, outcome: Outcome, timings: dict[str, float]
) -> Tables:
    """The solved plan's tables: every period extracted and re-checked by the independent
    verifier on its own data set, nothing built gone in a later period, the tables with a
    ``period`` column, ``periods`` (one row per period) and summary.csv (the discounted
    objective of the horizon, the other figures those of the last period)."""
    from model.colgen import Routing
    from model.extract import extract
    from model.pipeline import _timed, _with_routing, self_check

    _timed(timings, "tidy", lambda: unlight_empty_routes(model))
    routing = Routing(note=ROUTING_NOTE).as_dict()

    def extract_all() -> list[Tables]:
        out = []
        for n, (d, plan, ix) in enumerate(zip(h.dss, h.plans, h.ixs, strict=True)):
            t = extract(model.period[n], d, ix, plan, outcome, timings)
            out.append(replace(t, summary=_with_routing(t.summary, routing)))
        return out

    per = _timed(timings, "extract", extract_all)

    def verify_all() -> list[Tables]:
        out = []
        for p, d, t in zip(h.periods, h.dss, per, strict=True):
            try:
                out.append(self_check(d, t))
            except DesignCheckError as exc:
                raise DesignCheckError(f"{label(p)}: {exc.args[0]}", exc.problems) from None
        broken = stays_built_problems(h.periods, [t.sites for t in out], [t.links for t in out])
        if broken:
            raise DesignCheckError(
                f"the solved plan breaks 'what is built stays built' {len(broken)} time(s) "
                "on independent re-check; this is a bug in scaleacross, nothing was written",
                broken[:20],
            )
        return out

    per = _timed(timings, "verify", verify_all)
    annual = [float(pyo.value(model.period[n].objective.expr)) for n in range(len(h.periods))]
    total = sum(df * a for df, a in zip(h.dfs, annual, strict=True))
    rows = []
    capex_before = 0.0
    for p, df, t in zip(h.periods, h.dfs, per, strict=True):
        s = t.summary.iloc[0]
        rows.append(
            {
                "period": p.name,
                "year": p.year,
                "years": p.years,
                "discount_factor": round(df, 8),
                "annual_cost_usd": round(float(s["annual_cost_usd"]), 2),
                "capex_added_usd": round(float(s["capex_usd"]) - capex_before, 2),
                "power_mw": float(s["power_mw"]),
                "gpu_racks": int(s["gpu_racks"]),
                "gpu_sites": int(s["gpu_sites"]),
                "storage_pb": round(float(t.sites["storage_pb"].sum()), 6),
                "routes_lit": int(s["routes_lit"]),
                "units": int(s["units"]),
                "routers": int(s["routers"]),
            }
        )
        capex_before = float(s["capex_usd"])
    summary = per[-1].summary.copy()
    summary["objective"] = round(total, 2)
    summary["bound"] = None if outcome.bound is None else round(float(outcome.bound), 2)
    summary["build_s"] = round(timings.get("build", 0.0), 3)
    names = [p.name for p in h.periods]

    def stacked(name: str) -> pd.DataFrame | None:
        return _concat([_with_period(getattr(t, name), n) for t, n in zip(per, names, strict=True)])

    return Tables(
        summary=summary,
        sites=stacked("sites"),
        links=stacked("links"),
        flows=stacked("flows"),
        failures=stacked("failures"),
        users=stacked("users"),
        periods=pd.DataFrame(rows, columns=PERIOD_COLUMNS),
    )


def period_records(h: Horizon, tables: Tables) -> list[dict[str, Any]]:
    """run.json's ``periods``: each periods.csv row with its demand and model size."""
    return [
        {
            **row,
            "demand": p.overrides,
            "sites_available": len(d.sites),
            "candidate_paths": len(ix.paths),
        }
        for row, p, d, ix in zip(
            tables.periods.to_dict("records"), h.periods, h.dss, h.ixs, strict=True
        )
    ]


def solve_periods(
    ds: Dataset,
    data_dir: str | Path,
    target: Path | None,
    timings: dict[str, float],
    tee: bool | TextIO,
    progress: Callable[[Any], None] | None,
    started: float,
) -> Any:
    """run_scenario's second half for a data set with periods.csv (contract §8)."""
    from model.colgen import Routing
    from model.export import write_results
    from model.highs_direct import highs_seconds
    from model.pipeline import RunResult, _timed, _write_infeasible, run_record

    highs_before = highs_seconds()
    try:
        h = prepare_horizon(ds, timings)
    except InfeasibleError as exc:
        _write_infeasible(target, ds, check_rows(exc.problems), timings)
        raise
    name = f"scaleacross:{ds.name}:{ds.scenario}:periods"
    model = _timed(timings, "build", lambda: h.build(name))
    size = model_size(model)
    log.info(
        "model, %d periods: %d variables (%d integer), %d constraints",
        len(h.periods),
        size["variables"],
        size["integer_variables"],
        size["constraints"],
    )
    settings = ds.settings.solver
    spent = time.perf_counter() - started
    left = max(min(1.0, settings.time_limit_s), settings.time_limit_s - spent)
    settings = settings.model_copy(update={"time_limit_s": left})
    outcome: Outcome = _timed(
        timings, "solve", lambda: solve(model, settings, tee=tee, progress=progress)
    )
    if outcome.status == "infeasible":
        rows = _timed(timings, "explain", lambda: _explain(h.periods, h.dss, h.plans, h.ixs, model))
        _write_infeasible(target, ds, rows, timings)
        raise InfeasibleError(
            "HiGHS proved the growth plan infeasible although every single check passed; "
            "the smallest set of moves found that makes a design possible "
            "(infeasibility.csv):",
            rows["message"].tolist(),
        )
    if not outcome.has_design:
        raise NoDesignError(
            f"no design found within the limits ({outcome.termination}; time limit "
            f"{ds.settings.solver.time_limit_s:g} s): raise --time-limit or --mip-gap"
        )
    tables = horizon_tables(h, model, outcome, timings)
    run = run_record(
        ds,
        data_dir,
        outcome,
        size,
        timings,
        h.plans[-1],
        len(h.ixs[-1].paths),
        Routing(note=ROUTING_NOTE).as_dict(),
        None,
        float(tables.summary.at[0, "rack_capex_usd"]),
        highs_seconds() - highs_before,
    )
    run["periods"] = period_records(h, tables)
    out_dir = None
    if target is not None:
        # report.html, design.geojson and design.xlsx show every period (the tables carry
        # a ``period`` column and periods.csv says which periods there are)
        out_dir = _timed(timings, "export", lambda: write_results(target, tables, run))
    return RunResult(ds, outcome, tables, timings, size, out_dir, run)
