"""``report.html`` of a growth plan (docs/contract.md §8): the tables carry a ``period``
column, one block of rows per period, and periods.csv lists the periods.

The page states the discounted objective of the horizon and the number of periods, shows
the build-out period by period (periods.csv and what each period adds), and one panel per
period, picked by radio buttons styled as tabs (plain CSS: no script, works offline and
in print, where every panel shows): the period's map with what is new in it marked, its
key figures, open sites and links (what the period adds in a first column), latency and
single failures. The solver outcome is the horizon's; the cost and power breakdown is the
last period's (summary.csv holds the last period's figures), which the page says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from model.geo import is_open, period_names, period_rows, route_rows
from model.report_html.common import esc, hbars, missing, money, num, page, table, text
from model.report_html.map import NEW, Growth, design_map, legend
from model.report_html.run import (
    _cost_parts,
    _costs,
    _failures,
    _latency,
    _links_table,
    _outcome,
    _sites_table,
    run_notes,
    worst_note,
)

#: Columns of the build-out table: periods.csv's, then what each period adds.
PERIOD_TABLE = [
    ("period", "period", None),
    ("year", "year", lambda v: esc(v)),
    ("years", "years", lambda v: num(v)),
    ("discount_factor", "discount factor", lambda v: num(v, 4)),
    ("annual_cost_usd", "annual cost /yr", money),
    ("capex_added_usd", "capex added", money),
    ("power_mw", "power MW", lambda v: num(v, 2)),
    ("gpu_racks", "GPU racks", lambda v: num(v)),
    ("gpu_sites", "GPU sites", lambda v: num(v)),
    ("storage_pb", "storage PB", lambda v: num(v, 1)),
    ("routes_lit", "routes lit", lambda v: num(v)),
    ("units", "units", lambda v: num(v)),
    ("routers", "routers", lambda v: num(v)),
    ("added", "what the period adds", text),
]

NEW_WORD = f'<span style="color:{NEW}">magenta</span>'


def _css(n: int) -> str:
    """The period selector: radio inputs (visually hidden, still focusable) before their
    labels (the tabs) and the panels, all siblings, so ``:checked ~`` shows one panel."""
    picked = ",".join(f"#period-{i}:checked+label" for i in range(n))
    shown = ",".join(f"#period-{i}:checked~#panel-{i}" for i in range(n))
    return (
        ".periods>input{position:absolute;opacity:0;width:1px;height:1px}"
        ".periods>label{display:inline-block;padding:4px 16px;margin:8px 4px 0 0;"
        "border:1px solid #bbb;border-bottom:none;border-radius:5px 5px 0 0;background:#eee;"
        "cursor:pointer;font-weight:600}"
        ".periods>input:focus-visible+label{outline:2px solid #1f77b4}"
        ".panel{display:none;border-top:2px solid #1f77b4;padding-top:4px}"
        f"{picked}{{background:#1f77b4;color:#fff;border-color:#1f77b4}}"
        f"{shown}{{display:block}}"
        "@media print{.periods>input,.periods>label{display:none}.panel{display:block}}"
        f".new-halo,.grown-halo{{fill:none;stroke:{NEW};stroke-opacity:.35;"
        "stroke-linecap:round}.grown-halo{stroke-opacity:.3;stroke-dasharray:4 4}"
        f".label.new{{fill:{NEW};font-weight:600}}tr.new td{{background:#fce4ec}}"
    )


@dataclass
class Added:
    """What one period adds to the one before it: the sites opened and routes lit for the
    first time (``new_*``), the sites and routes that grew (``grown_*``: racks, storage,
    routers; link units), text per site and per (route, type) for the tables' ``added``
    column, per site and ``route:<id>`` for the map's tooltips, and the racks placed per
    site with the totals of storage, routers and link units added."""

    new_sites: list[str] = field(default_factory=list)
    new_routes: list[str] = field(default_factory=list)
    grown_sites: list[str] = field(default_factory=list)
    grown_routes: list[str] = field(default_factory=list)
    sites: dict[str, str] = field(default_factory=dict)
    routes: dict[tuple[str, str], str] = field(default_factory=dict)
    tips: dict[str, str] = field(default_factory=dict)
    racks: dict[str, float] = field(default_factory=dict)
    storage_pb: float = 0.0
    routers: float = 0.0
    units: int = 0

    def summary(self, first: bool) -> str:
        """One line for the build-out table."""
        if first:
            return (
                f"first build-out: {_plural(len(self.new_sites), 'site', 'sites')}, "
                f"{_plural(len(self.new_routes), 'route', 'routes')}, "
                + _amounts(sum(self.racks.values()), self.storage_pb, self.routers, self.units)
            )
        parts = []
        if self.new_sites:
            parts.append("sites opened: " + ", ".join(self.new_sites))
        if self.new_routes:
            parts.append("routes lit: " + ", ".join(self.new_routes))
        if self.racks:
            parts.append("racks: " + ", ".join(f"{s} +{n:g}" for s, n in self.racks.items()))
        rest = _amounts(0, self.storage_pb, self.routers, self.units)
        if rest:
            parts.append(rest)
        return "; ".join(parts) or "nothing"


def _plural(n: float, one: str, many: str) -> str:
    return f"{n:g} {one if n == 1 else many}"


def _amounts(racks: float, pb: float, routers: float, units: int) -> str:
    """``+400 racks, +72 PB, +2 routers, +2 link units`` (what is zero left out)."""
    parts = []
    if racks:
        parts.append("+" + _plural(racks, "rack", "racks"))
    if pb > 1e-9:
        parts.append(f"+{_round(pb)} PB")
    if routers:
        parts.append("+" + _plural(routers, "router", "routers"))
    if units:
        parts.append("+" + _plural(units, "link unit", "link units"))
    return ", ".join(parts)


def _round(x: float) -> str:
    return f"{round(x, 2):g}"


def _site_state(sites: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Open sites: (racks, storage PB, routers)."""
    out = {}
    for rec in sites[is_open(sites)].to_dict("records"):
        racks, pb, routers = (
            0.0 if missing(rec.get(c)) else float(rec[c])
            for c in ("gpu_racks", "storage_pb", "routers")
        )
        out[str(rec["site"])] = (racks, pb, routers)
    return out


def _units(links: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {
        (str(r), str(t)): int(float(u))
        for r, t, u in zip(links["route"], links["type"], links["units"], strict=True)
        if not missing(u)
    }


def _lit(links: pd.DataFrame) -> set[str]:
    return {r["route"] for r in route_rows(links) if r["lit"]}


def added(
    before: tuple[pd.DataFrame, pd.DataFrame] | None, now: tuple[pd.DataFrame, pd.DataFrame]
) -> Added:
    """What period ``now`` (sites, links) adds to ``before`` (None: the first period,
    where every open site and lit route is new)."""
    out = Added()
    had = _site_state(before[0]) if before else {}
    for site, (racks, pb, routers) in sorted(_site_state(now[0]).items()):
        new = site not in had
        r0, pb0, rt0 = had.get(site, (0.0, 0.0, 0.0))
        parts = []
        if racks > r0 + 1e-9:
            out.racks[site] = racks - r0
            parts.append("+" + _plural(racks - r0, "rack", "racks"))
        if pb > pb0 + 1e-9:
            out.storage_pb += pb - pb0
            parts.append(f"+{_round(pb - pb0)} PB")
        if routers > rt0 + 1e-9:
            out.routers += routers - rt0
            parts.append("+" + _plural(routers - rt0, "router", "routers"))
        if new:
            out.new_sites.append(site)
            out.sites[site] = "new" + (f": {', '.join(parts)}" if parts else "")
        elif parts:
            out.grown_sites.append(site)
            out.sites[site] = out.tips[site] = ", ".join(parts)
    lit_before = _lit(before[1]) if before else set()
    units_before = _units(before[1]) if before else {}
    out.new_routes = sorted(_lit(now[1]) - lit_before)
    more: dict[str, list[str]] = {}
    for (route, kind), units in sorted(_units(now[1]).items()):
        grown = units - units_before.get((route, kind), 0)
        if grown <= 0:
            continue
        out.units += grown
        if route in out.new_routes:
            out.routes[(route, kind)] = f"new: {grown} × {kind}"
        else:
            out.routes[(route, kind)] = "+" + _plural(grown, "unit", "units")
            more.setdefault(route, []).append(f"+{grown} × {kind}")
    for route, parts in more.items():
        out.grown_routes.append(route)
        out.tips[f"route:{route}"] = ", ".join(parts)
    return out


def _periods(frames: dict[str, pd.DataFrame], run: dict[str, Any]) -> pd.DataFrame | None:
    """periods.csv as a table: the frame, else run.json's ``periods`` list, else None."""
    if frames.get("periods") is not None:
        return frames["periods"]
    rows = run.get("periods")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        return pd.DataFrame(rows)
    return None


def _block(frame: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    if frame is None or "period" not in frame.columns:
        return None
    return period_rows(frame, name)


def _worst(failures: pd.DataFrame | None) -> pd.Series:
    """summary.csv's worst-failure figures for one period's failures."""
    from model.failures import worst_case

    if failures is None or failures.empty:
        return pd.Series({"worst_failure": None})
    w = worst_case(failures)
    return pd.Series(
        {
            "worst_failure": w["failure"],
            "worst_survival_share": round(w["survival_share"], 6),
            "failures_short": w["failures_short"],
        }
    )


def _when(name: str, row: dict[str, Any]) -> str:
    """A period as a heading: its name, with its years when they say more."""
    year, years = row.get("year"), row.get("years")
    if missing(year):
        return esc(name)
    first = int(float(year))
    span = 1 if missing(years) else int(float(years))
    if span > 1:
        return esc(f"{name} ({first}–{first + span - 1}, {span} years)")
    return esc(name if name == str(first) else f"{name} ({first})")


def _figures(
    name: str, row: dict[str, Any], sites: pd.DataFrame, w: pd.Series, add: Added, first: bool
) -> str:
    """Key figures of one period (periods.csv's row; counts from the tables without it)."""
    opened = sites[is_open(sites)]
    pb = pd.to_numeric(opened["storage_pb"], errors="coerce").fillna(0)
    worst = w.get("worst_failure")
    share = w.get("worst_survival_share")
    rows = [
        ("annual cost", f"{money(row.get('annual_cost_usd'))}/yr"),
        ("discount factor", num(row.get("discount_factor"), 4)),
        ("capex added in the period", money(row.get("capex_added_usd"))),
        ("facility power", f"{num(row.get('power_mw'), 2)} MW"),
        ("GPU racks", f"{num(row.get('gpu_racks'))} at {num(row.get('gpu_sites'))} sites"),
        ("storage", f"{num(row.get('storage_pb', pb.sum()), 1)} PB at {num(int((pb > 0).sum()))} "
         "sites"),
        ("open sites", num(len(opened))),
        ("routes lit", f"{num(row.get('routes_lit'))} ({num(row.get('units'))} link units)"),
        ("routers", num(row.get("routers"))),
        ("added in the period", esc(add.summary(first))),
        ("worst single failure", "none short" if missing(worst) else
         f"{esc(worst)}: {'–' if missing(share) else f'{100 * float(share):.0f} %'} survives"),
    ]  # fmt: skip
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="key">{body}</table>'


def _panel(
    i: int,
    name: str,
    row: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    add: Added,
) -> str:
    sites, links = (period_rows(frames[n], name) for n in ("sites", "links"))
    flows, failures = _block(frames.get("flows"), name), _block(frames.get("failures"), name)
    first = i == 0
    growth = Growth(
        sites=frames["sites"],
        links=frames["links"],
        period=name,
        map_id=f"map-{i}",
        new_sites=frozenset() if first else frozenset(add.new_sites),
        new_routes=frozenset() if first else frozenset(add.new_routes),
        grown_sites=frozenset() if first else frozenset(add.grown_sites),
        grown_routes=frozenset() if first else frozenset(add.grown_routes),
        added={} if first else add.tips,
    )
    w = _worst(failures)
    note = (
        f"The first period: everything shown is built in {esc(name)}."
        if first
        else f"Marked in {NEW_WORD}: what is new in {esc(name)} (a ring and a label: sites "
        "opened; a halo: routes lit for the first time) and, dashed, what grew (racks, "
        "storage or routers at a site, link units on a route); the tables' first column "
        "says what the period adds."
    )
    out = [
        f'<div class="panel" id="panel-{i}" data-period="{esc(name)}">',
        f'<h3>{_when(name, row)}</h3><p class="note">{note}</p>',
        '<div class="cols"><div style="flex:0 0 auto;max-width:650px">',
        design_map(sites, links, w.get("worst_failure"), growth=growth),
        legend(sites, links, growth),
        '</div><div style="flex:1 1 380px">',
        _figures(name, row, sites, w, add, first),
        '<p class="note">Hover over the map for each site and route.</p></div></div>',
    ]
    if not first:
        sites = sites.assign(added=[add.sites.get(str(s), "") for s in sites["site"]])
        links = links.assign(
            added=[
                add.routes.get((str(r), str(t)), "")
                for r, t in zip(links["route"], links["type"], strict=True)
            ]
        )
    label = "" if first else f"added in {name}"
    out.append(f"<h3>Open sites in {esc(name)}</h3>" + _sites_table(sites, label))
    out.append(
        f"<h3>Links in {esc(name)}</h3>"
        + (_links_table(links, label) if len(links) else "<p>None.</p>")
    )
    out.append(f"<h3>Latency per commodity against its bound in {esc(name)}</h3>" + _latency(flows))
    out.append(f"<h3>Single failures in {esc(name)}</h3>" + _failures(failures, w, links))
    out.append(worst_note(w.get("worst_failure"), links))
    out.append("</div>")
    return "".join(out)


def render_growth(frames: dict[str, pd.DataFrame], run: dict[str, Any], body: list[str]) -> str:
    """The report of a growth plan; ``body`` holds the page's start (the heading and the
    scenario's overrides) as :func:`model.report_html.run.render_run` made it."""
    s = frames["summary"].iloc[0]
    title = f"{s['dataset']} / {s['scenario']}"
    periods = _periods(frames, run)
    names = period_names(frames["sites"], periods)
    rows = {n: {} for n in names}
    if periods is not None and "period" in periods.columns:
        rows.update({str(r["period"]): r for r in periods.to_dict("records")})
    blocks = [(period_rows(frames["sites"], n), period_rows(frames["links"], n)) for n in names]
    adds = [added(blocks[i - 1] if i else None, blocks[i]) for i in range(len(names))]
    n, last = len(names), names[-1] if names else ""
    shown = ", ".join(names)
    body[0] = f"<h1>{esc(title)}: growth plan over {n} period{'s' if n != 1 else ''}</h1>"
    body.append(
        f"<p>Growth plan over <b>{n} period{'s' if n != 1 else ''}</b> ({esc(shown)}): "
        f"discounted objective of the horizon <b>{money(s.get('objective'))}</b> "
        f"({num(s.get('objective'))}: each period's objective times its discount factor, "
        "summed). Pick a period below for its map, sites, links, latency and failures, with "
        "what it adds marked. The solver outcome is the horizon's; the cost and power "
        f"breakdown is the last period's ({esc(last)}).</p>"
    )
    table_rows = []
    for i, (name, add) in enumerate(zip(names, adds, strict=True)):
        table_rows.append(
            {
                "period": name,
                **{k: v for k, v in rows[name].items() if k != "period"},
                "added": add.summary(i == 0),
            }
        )
    have = set().union(*(r.keys() for r in table_rows)) if table_rows else set()
    body.append(
        "<h2>Build-out by period</h2>"
        + table(table_rows, [c for c in PERIOD_TABLE if c[0] in have])
        + '<p class="note">Capex added: the one-time spend of the period. What is built '
        "stays built; flows are chosen afresh in every period.</p>"
    )
    tabs = [
        f'<input type="radio" name="period" id="period-{i}" value="{esc(name)}"'
        f'{" checked" if i == n - 1 else ""}><label for="period-{i}">{esc(name)}</label>'
        for i, name in enumerate(names)
    ]
    panels = [_panel(i, name, rows[name], frames, adds[i]) for i, name in enumerate(names)]
    body.append(
        "<h2>The design period by period</h2>"
        f'<div class="periods">{"".join(tabs)}{"".join(panels)}</div>'
    )
    body.append(
        "<h2>Solver outcome (the whole horizon)</h2>"
        + _outcome(s, run)
        + '<p class="note">Objective and best bound: the discounted total of the horizon.</p>'
    )
    body.append(
        f"<h2>Cost and power in the last period ({esc(last)})</h2>"
        + hbars(_cost_parts(s), lambda v: f"{money(v)}/yr", width=460)
        + _costs(s)
        + '<p class="note">Every period\'s annual cost and power: the build-out table above.</p>'
    )
    body += run_notes(run)
    return page(f"scaleacross: {title}", "".join(body), _css(n))
