"""The short readable summary printed after a solve (rich tables; plain text when piped)."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from model.families.objective import COST_PARTS
from model.pipeline import RunResult


def _usd(x: float) -> str:
    return f"{x / 1e6:,.2f} M$"


def _paths_line(s: pd.Series) -> str:
    """What the design is optimal over (run.json ``routing``, model/colgen.py)."""
    if s.get("optimal_over") == "all paths":
        return "optimal over all paths"
    bound, gap = s.get("all_path_bound_usd"), s.get("all_path_gap")
    if bound is None or pd.isna(bound):
        return "optimal over the candidate paths (no all-path bound proven)"
    return f"optimal over the candidate paths (all-path bound {_usd(bound)}/yr, gap {gap:.2%})"


def print_summary(result: RunResult, console: Console | None = None) -> None:
    console = console or Console()
    if not console.is_terminal:  # piped or in CI: wide enough for site and router names
        console.width = max(console.width, 120)
    s = result.tables.summary.iloc[0]
    gap = "n/a" if pd.isna(s["mip_gap"]) else f"{s['mip_gap']:.4%}"
    console.print(
        f"[bold]{s['dataset']} / {s['scenario']}[/bold]: {s['status']} (gap {gap}), "
        f"solved in {s['solve_s']:.1f} s, built in {s['build_s']:.1f} s"
    )
    console.print(_paths_line(s))
    console.print(
        f"annual cost {_usd(s['annual_cost_usd'])}/yr · capex {_usd(s['capex_usd'])} · "
        f"power {s['power_mw']:.2f} MW (IT {s['it_power_mw']:.2f} MW, network "
        f"{s['network_power_kw']:.1f} kW) · racks capex {_usd(s['rack_capex_usd'])} (not in cost)"
    )
    costs = Table(title="annual cost by part", show_edge=False)
    costs.add_column("part")
    costs.add_column("USD/yr", justify="right")
    costs.add_column("share", justify="right")
    total = s["annual_cost_usd"] or 1.0
    for part in COST_PARTS:
        value = s[f"annual_{part}_usd"]
        if abs(value) > 0.005:
            costs.add_row(part, f"{value:,.0f}", f"{value / total:.1%}")
    costs.add_row("[bold]total[/bold]", f"[bold]{s['annual_cost_usd']:,.0f}[/bold]", "100%")
    console.print(costs)
    sites = result.tables.sites
    title = "open sites"
    if "period" in sites.columns and len(sites):  # contract §8: the last period's build-out
        last = sites["period"].iloc[-1]
        sites = sites[sites["period"] == last]
        title = f"open sites in the last period ({last}; every period: periods.csv, sites.csv)"
        console.print(
            f"growth over periods: objective {_usd(s['objective'])} discounted over the "
            "horizon; the figures above are the last period's"
        )
    used = sites[sites["open"] == 1]
    st = Table(title=title, show_edge=False)
    for col in ("site", "zone", "cooling", "racks", "storage PB", "facility kW", "PUE", "routers"):
        st.add_column(col, justify="right" if col not in ("site", "zone", "cooling") else "left")
    for r in used.itertuples():
        st.add_row(
            r.site,
            str(r.zone),
            r.cooling,
            str(r.gpu_racks),
            f"{r.storage_pb:g}",
            f"{r.facility_kw:,.0f}",
            "" if pd.isna(r.pue) else f"{r.pue:.3f}",
            r.router_models or "-",
        )
    console.print(st)
    links = result.tables.links
    if "period" in links.columns and "period" in result.tables.sites.columns and len(links):
        links = links[links["period"] == links["period"].iloc[-1]]
    if not links.empty:
        by_type = links.groupby("type").agg(
            routes=("route", "nunique"), units=("units", "sum"), gbps=("capacity_gbps", "sum")
        )
        lt = Table(title=f"links: {int(s['routes_lit'])} routes lit", show_edge=False)
        for col in ("type", "routes", "units", "capacity Gbps"):
            lt.add_column(col, justify="left" if col == "type" else "right")
        for t, r in zip(by_type.index, by_type.itertuples(index=False), strict=True):
            lt.add_row(str(t), str(r.routes), str(r.units), f"{r.gbps:,.0f}")
        console.print(lt)
    if "worst_failure" in s and isinstance(s["worst_failure"], str):
        console.print(
            f"worst single failure: {s['worst_failure']} leaves "
            f"{s['worst_survival_share']:.0%} of the hardest-hit traffic; "
            f"{int(s['failures_short'])} failures leave some traffic short (failures.csv)"
        )
    elif "worst_failure" in s:
        console.print("every single failure is survived in full (failures.csv)")
    if result.run.get("restrictions"):
        console.print("restrictions: " + "; ".join(result.run["restrictions"]))
    if result.out_dir is not None:
        console.print(f"results: {result.out_dir}")
