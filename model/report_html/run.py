"""``report.html`` of one run: the map, cost and power, latency against bounds, what the
solver proved (gap, bound, routing claim, restrictions) and the single-failure table.
Made from the result tables and run.json alone, so the same results give the same bytes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model.families.objective import COST_PARTS
from model.report_html.common import esc, hbars, missing, money, num, page, pct, table, text
from model.report_html.map import design_map, failure_parts, legend


def _outcome(s: pd.Series, run: dict[str, Any]) -> str:
    status = str(s["status"])
    klass = "ok" if status == "optimal" else "warn" if status == "feasible" else "err"
    out = run.get("outcome", {}) or {}
    lines = [
        f'<p><span class="badge {klass}">{esc(status)}</span> MIP gap {pct(s.get("mip_gap"), 4)}'
        f" · objective {num(s.get('objective'))} · best bound {num(s.get('bound'))} · "
        f"termination {esc(s.get('termination') or out.get('termination') or '–')}</p>"
    ]
    routing = run.get("routing") or {}
    over = s.get("optimal_over") if not missing(s.get("optimal_over")) else None
    over = over or routing.get("optimal_over")
    if over == "all paths":
        claim = "The design is optimal over <b>all paths</b> (within the MIP gap)."
    elif over:
        bound = routing.get("all_path_lp_bound")
        claim = (
            f"The design is optimal over its <b>{esc(over)}</b> only"
            + (
                f"; over all paths the LP relaxation proves at least {money(bound)}/yr "
                f"(gap {pct(routing.get('all_path_gap'))} to this design, the LP relaxation's "
                "own gap rather than a missed path)"
                if bound is not None and routing.get("lp_complete")
                else "; no all-path bound was proven"
            )
            + "."
        )
    else:
        claim = "No routing claim was recorded for this run."
    lines.append(f"<p>{claim}</p>")
    if routing.get("note"):
        lines.append(f'<p class="note">Column generation: {esc(routing["note"])}.</p>')
    restrictions = run.get("restrictions") or []
    if restrictions:
        lines.append("<p>Restrictions the design is optimal under:</p><ul>")
        lines += [f"<li>{esc(r)}</li>" for r in restrictions]
        lines.append("</ul>")
    return "".join(lines)


def _cost_parts(s: pd.Series) -> list[tuple[str, float, str]]:
    out = []
    for p in COST_PARTS:
        v = s.get(f"annual_{p}_usd")
        if not missing(v) and abs(float(v)) > 0.005:
            out.append((p, float(v), f"{p}: {num(v)} USD/yr"))
    return out


def _key_figures(s: pd.Series, sites: pd.DataFrame) -> str:
    status = str(s["status"])
    klass = "ok" if status == "optimal" else "warn"
    over = "" if missing(s.get("optimal_over")) else f", optimal over {s['optimal_over']}"
    worst = s.get("worst_failure")
    rows = [
        ("outcome", f'<span class="badge {klass}">{esc(status)}</span> gap '
         f"{pct(s.get('mip_gap'), 4)}{esc(over)}"),
        ("annual cost", f"{money(s.get('annual_cost_usd'))}/yr"),
        ("one-time capex", money(s.get("capex_usd"))),
        ("facility power", f"{num(s.get('power_mw'), 2)} MW"),
        ("GPU racks", f"{num(s.get('gpu_racks'))} at {num(s.get('gpu_sites'))} sites"),
        ("storage sites", num(s.get("storage_sites"))),
        ("open sites", num(int((sites["open"] == 1).sum()))),
        ("routes lit", f"{num(s.get('routes_lit'))} ({num(s.get('units'))} link units)"),
        ("routers", num(s.get("routers"))),
        ("worst single failure", "none short" if missing(worst) else
         f"{esc(worst)}: {pct(s.get('worst_survival_share'), 0)} survives"),
    ]  # fmt: skip
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<table class="key">{body}</table><h3>Annual cost by part</h3>'
        + hbars(_cost_parts(s), lambda v: f"{money(v)}/yr", width=460)
        + '<p class="note">Hover over the map for each site and route.</p>'
    )


def _costs(s: pd.Series) -> str:
    rows = [
        {"k": "annual cost (annualised)", "v": money(s.get("annual_cost_usd"))},
        {"k": "one-time capex", "v": money(s.get("capex_usd"))},
        {"k": "energy per year", "v": money(s.get("energy_usd_per_year"))},
        {"k": "link opex and flow cost per year", "v": money(s.get("opex_usd_per_year"))},
        {"k": "GPU racks' capex (not in the cost)", "v": money(s.get("rack_capex_usd"))},
    ]
    power = [
        {"k": "facility power", "v": f"{num(s.get('power_mw'), 2)} MW"},
        {"k": "IT power", "v": f"{num(s.get('it_power_mw'), 2)} MW"},
        {"k": "network power (routers, optics)", "v": f"{num(s.get('network_power_kw'), 1)} kW"},
    ]
    parts = [{"k": p, "v": f"{money(v)}/yr"} for p, v, _ in _cost_parts(s)]
    kv = [("k", "", None), ("v", "US$", lambda v: esc(v))]
    return (
        '<div class="cols"><div>'
        + table(rows, kv)
        + "</div><div>"
        + table(parts, [("k", "annual part", None), ("v", "US$", lambda v: esc(v))])
        + "</div><div>"
        + table(power, [("k", "power", None), ("v", "", lambda v: esc(v))])
        + "</div></div>"
    )


def _sites_table(sites: pd.DataFrame, added: str = "") -> str:
    """The open sites; ``added``: the heading of a first column of that name (what a period
    of a growth run adds), rows with something in it marked ``new``."""
    opened = sites[sites["open"] == 1]
    cols = [
        *([("added", added, text)] if added else []),
        ("site", "site", None),
        ("zone", "zone", None),
        ("role", "role", None),
        ("cooling", "cooling", None),
        ("gpu_racks", "racks", lambda v: num(v)),
        ("storage_pb", "storage PB", lambda v: num(v, 1)),
        ("it_kw", "IT kW", lambda v: num(v)),
        ("facility_kw", "facility kW", lambda v: num(v)),
        ("pue", "PUE", lambda v: num(v, 3)),
        ("router_models", "routers", None),
        ("annual_cost_usd", "annual cost", money),
    ]
    return table(opened, [c for c in cols if c[0] in sites.columns], _added_class(added))


def _added_class(added: str) -> Any:
    return (lambda r: "new" if r.get("added") else "") if added else None


def _links_table(links: pd.DataFrame, added: str = "") -> str:
    """The links (route × type); ``added`` as for :func:`_sites_table`."""
    cols = [
        *([("added", added, text)] if added else []),
        ("route", "route", None),
        ("a", "a", None),
        ("b", "b", None),
        ("medium", "medium", None),
        ("km", "km", lambda v: num(v)),
        ("type", "type", None),
        ("units", "units", lambda v: num(v)),
        ("capacity_gbps", "capacity Gbps", lambda v: num(v)),
        ("max_flow_gbps", "max flow Gbps", lambda v: num(v)),
        ("utilization", "utilisation", lambda v: pct(v, 0)),
        ("annual_cost_usd", "annual cost", money),
    ]
    return table(links, [c for c in cols if c[0] in links.columns], _added_class(added))


def latency_rows(flows: pd.DataFrame) -> list[dict[str, Any]]:
    """Per commodity: kind, ends, Gbps, paths used, worst latency of a used path, bound."""
    rows = []
    for c, g in flows.groupby("commodity", sort=True):
        bound = g["bound_ms"].iloc[0]
        worst = float(g["latency_ms"].max())
        rows.append(
            {
                "commodity": c,
                "kind": g["kind"].iloc[0],
                "gbps": float(g["gbps"].sum()),
                "paths": len(g),
                "latency_ms": worst,
                "bound_ms": bound,
                "slack": None if missing(bound) else float(bound) - worst,
                "path": " | ".join(str(p) for p in g["path"]),
            }
        )
    return rows


def _latency(flows: pd.DataFrame) -> str:
    if flows is None or flows.empty:
        return "<p>No traffic is routed in this design.</p>"
    rows = latency_rows(flows)
    cols = [
        ("commodity", "commodity", None),
        ("kind", "kind", None),
        ("gbps", "Gbps", lambda v: num(v)),
        ("paths", "paths", lambda v: num(v)),
        ("latency_ms", "worst path ms", lambda v: num(v, 3)),
        ("bound_ms", "bound ms", lambda v: "none" if missing(v) else num(v, 3)),
        ("slack", "slack ms", lambda v: "–" if missing(v) else num(v, 3)),
        ("path", "paths used", text),
    ]
    return table(rows, cols)


def failure_summary(failures: pd.DataFrame) -> list[dict[str, Any]]:
    """Per single failure: commodities hit, the lowest survival share (lost endpoints
    left out) and the commodity with it, ordered worst first, then by failure id."""
    rows = []
    for f, g in failures.groupby("failure", sort=True):
        alive = g[g["endpoint_lost"] == 0]
        short = alive[alive["survival_share"] < 1 - 1e-9]
        low = alive.loc[alive["survival_share"].idxmin()] if len(alive) else None
        rows.append(
            {
                "failure": f,
                "kind": g["kind"].iloc[0],
                "short": len(short),
                "lost": int(g["endpoint_lost"].sum()),
                "share": None if low is None else float(low["survival_share"]),
                "commodity": "" if low is None else low["commodity"],
            }
        )
    rows.sort(key=lambda r: (1.0 if r["share"] is None else r["share"], str(r["failure"])))
    return rows


def _failures(failures: pd.DataFrame | None, s: pd.Series, links: pd.DataFrame) -> str:
    if failures is None or failures.empty:
        return "<p>No single failure was evaluated (no open site or used route).</p>"
    worst = s.get("worst_failure")
    head = (
        f"<p>Worst single failure: <b>{esc(worst)}</b> leaves "
        f"{pct(s.get('worst_survival_share'), 0)} of the hardest-hit traffic "
        f"(drawn in red on the map); {num(s.get('failures_short'))} failures leave some "
        "traffic short.</p>"
        if not missing(worst)
        else "<p>Every single failure is survived in full.</p>"
    )
    cols = [
        ("failure", "failure", None),
        ("kind", "kind", None),
        ("short", "commodities short", lambda v: num(v)),
        ("lost", "endpoints lost", lambda v: num(v)),
        ("share", "lowest survival", lambda v: pct(v, 0)),
        ("commodity", "hardest hit", None),
    ]
    rows = failure_summary(failures)
    return head + table(rows, cols, lambda r: "bad" if r["failure"] == worst else "")


def render_run(frames: dict[str, pd.DataFrame], run: dict[str, Any]) -> str:
    """The report of one scenario's results folder (design or infeasible)."""
    s = frames["summary"].iloc[0]
    title = f"{s['dataset']} / {s['scenario']}"
    body = [f"<h1>{esc(title)}</h1>"]
    overrides = run.get("overrides") or {}
    if overrides:
        shown = ", ".join(f"{k} = {v}" for k, v in sorted(overrides.items()))
        body.append(f'<p class="note">Scenario overrides: {esc(shown)}</p>')
    if "infeasibility" in frames:
        body.append('<p><span class="badge err">infeasible</span></p>')
        body.append("<h2>Smallest set of moves that would make a design possible</h2>")
        cols = [(c, c, None) for c in frames["infeasibility"].columns]
        body.append(table(frames["infeasibility"], cols))
        return page(f"scaleacross: {title}", "".join(body))
    sites, links = frames["sites"], frames["links"]
    if "period" in sites.columns:  # a growth plan (contract §8): every period
        from model.report_html.growth import render_growth

        return render_growth(frames, run, body)
    flows, failures = frames.get("flows"), frames.get("failures")
    body.append(
        '<div class="cols"><div style="flex:0 0 auto;max-width:650px">'
        + design_map(sites, links, s.get("worst_failure"))
        + legend(sites, links)
        + '</div><div style="flex:1 1 380px">'
        + _key_figures(s, sites)
        + "</div></div>"
    )
    body.append("<h2>Solver outcome</h2>" + _outcome(s, run))
    body.append("<h2>Cost and power</h2>" + _costs(s))
    body.append("<h2>Open sites</h2>" + _sites_table(sites))
    body.append("<h2>Links</h2>" + (_links_table(links) if len(links) else "<p>None.</p>"))
    body.append("<h2>Latency per commodity against its bound</h2>" + _latency(flows))
    body.append("<h2>Single failures</h2>" + _failures(failures, s, links))
    note = worst_note(s.get("worst_failure"), links)
    if note:
        body.append(note)
    body += run_notes(run)
    return page(f"scaleacross: {title}", "".join(body))


def worst_note(worst: Any, links: pd.DataFrame) -> str:
    """What the worst single failure takes out, as a note ("" when nothing)."""
    hit_routes, hit_sites = failure_parts(worst, links)
    if not (hit_routes or hit_sites):
        return ""
    parts = sorted(hit_routes | hit_sites)
    return f'<p class="note">The worst failure takes out: {esc(", ".join(parts))}.</p>'


def run_notes(run: dict[str, Any]) -> list[str]:
    """The phases' times and the versions of run.json."""
    out = []
    timings = run.get("timings_s") or {}
    if timings:
        shown = ", ".join(f"{k} {float(v):.2f} s" for k, v in sorted(timings.items()))
        out.append(f'<h2>Run</h2><p class="note">Phases: {esc(shown)}.</p>')
    versions = run.get("versions") or {}
    if versions:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
        out.append(f'<p class="note">Versions: {esc(shown)}.</p>')
    return out
