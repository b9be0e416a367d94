"""``report.html`` of a batch (``results/<data set>/report.html``) and of a Pareto front
(``.../pareto/report.html``): the comparison table, an inline SVG chart, and for each
scenario or point what changes against the reference design (sites opened or closed, GPU
racks moved, routes lit or dark, link types changed). Objectives closer than the MIP gap
are flagged as a tie, not a difference."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from model.families.objective import COST_PARTS
from model.report_html.common import PALETTE, esc, missing, money, num, page, pct, table, text

DESIGNS = ("optimal", "feasible")


#: pareto.csv of a growth plan (periods.csv): the discounted cost of the horizon against
#: the peak power over its periods (the cap holds in every period)
HORIZON_COLUMNS = {"power_mw": "peak_power_mw", "annual_cost_usd": "discounted_cost_usd"}


def read_design(folder: Path) -> dict[str, pd.DataFrame] | None:
    """sites.csv and links.csv of a written design folder, or None."""
    try:
        return {n: pd.read_csv(folder / f"{n}.csv") for n in ("sites", "links")}
    except (OSError, ValueError):
        return None


def write_page(text: str, target: Path) -> Path:
    """Write a page to ``target`` atomically (temporary file beside it, renamed), with the
    permissions of an ordinary file (0666 less the umask)."""
    from model.export import current_umask

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def changes(ref: dict[str, pd.DataFrame], new: dict[str, pd.DataFrame]) -> list[str]:
    """What differs from ``ref`` to ``new``, in planner terms, each list sorted."""
    out = []

    def key(r: Any, name: str) -> str:  # a growth plan's rows: "<period> <name>"
        return f"{r.period} {name}" if hasattr(r, "period") else name

    def opened(d: dict[str, pd.DataFrame]) -> dict[str, int]:
        s = d["sites"]
        return {key(r, str(r.site)): int(r.gpu_racks) for r in s.itertuples() if int(r.open) == 1}

    def lit(d: dict[str, pd.DataFrame]) -> dict[str, str]:
        units: dict[str, list[str]] = {}
        for r in d["links"].itertuples():
            if int(r.units) > 0:
                units.setdefault(key(r, str(r.route)), []).append(f"{r.type}×{int(r.units)}")
        return {k: " + ".join(sorted(v)) for k, v in units.items()}

    a, b = opened(ref), opened(new)
    if sorted(set(b) - set(a)):
        out.append("sites opened: " + ", ".join(sorted(set(b) - set(a))))
    if sorted(set(a) - set(b)):
        out.append("sites closed: " + ", ".join(sorted(set(a) - set(b))))
    moved = [
        f"{s} {a.get(s, 0)}→{b.get(s, 0)}"
        for s in sorted(set(a) | set(b))
        if a.get(s, 0) != b.get(s, 0)
    ]
    if moved:
        out.append("GPU racks: " + ", ".join(moved))
    la, lb = lit(ref), lit(new)
    if sorted(set(lb) - set(la)):
        out.append("routes lit: " + ", ".join(f"{r} ({lb[r]})" for r in sorted(set(lb) - set(la))))
    if sorted(set(la) - set(lb)):
        out.append("routes dark: " + ", ".join(sorted(set(la) - set(lb))))
    other = [f"{r}: {la[r]} → {lb[r]}" for r in sorted(set(la) & set(lb)) if la[r] != lb[r]]
    if other:
        out.append("links changed: " + "; ".join(other))
    return out or ["same sites, racks and links"]


def is_tie(x: float, y: float, gap: float) -> bool:
    """Objectives ``x`` and ``y`` are equal within the relative MIP gap ``gap``."""
    return abs(x - y) <= gap * max(abs(x), abs(y), 1e-9) + 1e-6


def stacked_bars(df: pd.DataFrame, label: str, width: int = 760) -> str:
    """Annual cost per row stacked by part (M$/yr), as SVG; rows without a design show
    their status."""
    n = len(df)
    if n == 0:
        return ""
    h, top_pad, base = 380, 14, 250
    totals = [
        sum(
            0.0 if missing(r.get(f"annual_{p}_usd")) else float(r[f"annual_{p}_usd"])
            for p in COST_PARTS
        )
        for r in df.to_dict("records")
    ]
    top = max(totals, default=0.0) or 1.0
    step = (width - 60) / n
    out = [f'<svg class="chart" width="{width}" height="{h}" viewBox="0 0 {width} {h}">']
    for i, rec in enumerate(df.to_dict("records")):
        x = 50 + i * step + step * 0.15
        y = float(base)
        for j, part in enumerate(COST_PARTS):
            v = rec.get(f"annual_{part}_usd")
            if missing(v) or float(v) <= 0:
                continue
            bh = (base - top_pad) * float(v) / top
            y -= bh
            tip = f"{rec[label]}: {part} {money(v)}/yr"
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{bh:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}" data-tip="{esc(tip)}"/>'
            )
        shown = money(totals[i]) if str(rec.get("status")) in DESIGNS else str(rec.get("status"))
        out.append(
            f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{esc(shown)}</text><text font-size="11" text-anchor="end" '
            f'transform="translate({x + step * 0.35:.1f},{base + 14}) rotate(-35)">'
            f"{esc(rec[label])}</text>"
        )
    out.append(f'<line x1="45" y1="{base}" x2="{width}" y2="{base}" stroke="#444"/>')
    keys = [
        f'<tspan fill="{PALETTE[j % len(PALETTE)]}">■</tspan> {esc(p)} '
        for j, p in enumerate(COST_PARTS)
    ]
    out.append(f'<text x="50" y="{h - 8}" font-size="11">{"".join(keys)} per year</text></svg>')
    return "".join(out)


def _padded(lo: float, hi: float) -> tuple[float, float]:
    """The range widened by 5 % on each side (a single value gets a range around it)."""
    pad = 0.05 * (hi - lo) or 0.05 * abs(lo) or 1.0
    return lo - pad, hi + pad


def front_chart(df: pd.DataFrame, width: int = 640, height: int = 380) -> str:
    """The cost–power front as SVG: annual cost (M$/yr) against power (MW), numbered; a
    growth plan's front: discounted cost of the horizon against peak power."""
    horizon = "discounted_cost_usd" in df.columns
    df = df.rename(columns={v: k for k, v in HORIZON_COLUMNS.items()})
    per = "" if horizon else "/yr"
    ok = df[df["status"].isin(DESIGNS)].sort_values("power_mw")
    if ok.empty:
        return ""
    xs, ys = ok["power_mw"].astype(float), ok["annual_cost_usd"].astype(float) / 1e6
    x0, x1 = _padded(float(xs.min()), float(xs.max()))
    y0, y1 = _padded(float(ys.min()), float(ys.max()))
    sx = (width - 90) / ((x1 - x0) or 1.0)
    sy = (height - 70) / ((y1 - y0) or 1.0)

    def pt(x: float, y: float) -> tuple[float, float]:
        return 70 + (x - x0) * sx, height - 40 - (y - y0) * sy

    pts = [pt(x, y) for x, y in zip(xs, ys, strict=True)]
    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    out.append(f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" points="'
               + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')  # fmt: skip
    labels: dict[tuple[float, float], list[str]] = {}  # points of one design share a label
    for (x, y), rec in zip(pts, ok.to_dict("records"), strict=True):
        labels.setdefault((round(x, 1), round(y, 1)), []).append(str(int(rec["point"])))
        cost = money(rec["annual_cost_usd"])
        tip = f"point {rec['point']}: {num(rec['power_mw'], 3)} MW, {cost}{per}"
        out.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{PALETTE[0]}" '
            f'data-tip="{esc(tip)}"/>'
        )
    for (x, y), names in labels.items():
        out.append(f'<text x="{x + 6:.1f}" y="{y - 6:.1f}" font-size="11">{",".join(names)}</text>')
    out.append(
        f'<text x="{width / 2:.0f}" y="{height - 8}" font-size="12" text-anchor="middle">'
        f"{'peak ' if horizon else ''}facility power, MW ({num(xs.min(), 3)} to "
        f"{num(xs.max(), 3)})</text>"
        f'<text x="12" y="20" font-size="12">'
        f"{'discounted cost of the horizon' if horizon else 'annual cost per year'} "
        f"({money(ys.min() * 1e6)} to {money(ys.max() * 1e6)})</text></svg>"
    )
    return "".join(out)


def _change_list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>"


def render_batch(
    name: str,
    comparison: pd.DataFrame,
    designs: dict[str, dict[str, pd.DataFrame] | None],
    mip_gap: float,
) -> str:
    """A batch's page: ``comparison`` (comparison.csv), each scenario's design (sites and
    links) where one was written, and the configured relative MIP gap."""
    rows = comparison.to_dict("records")
    ok = [r for r in rows if str(r.get("status")) in DESIGNS]
    ref = next((r for r in ok if r["scenario"] == "base"), ok[0] if ok else None)
    notes: dict[str, str] = {}
    body = [f"<h1>{esc(name)}: {len(rows)} scenarios</h1>"]
    for r in ok:
        if ref is None or r is ref:
            continue
        gap = max(
            mip_gap, *(0.0 if missing(g) else float(g) for g in (r["mip_gap"], ref["mip_gap"]))
        )
        tie = is_tie(float(r["objective"]), float(ref["objective"]), gap)
        delta = float(r["objective"]) - float(ref["objective"])
        notes[r["scenario"]] = (
            f"tie with {ref['scenario']} (within the MIP gap {pct(gap, 4)})"
            if tie
            else f"{'+' if delta > 0 else ''}{money(delta)}/yr against {ref['scenario']}"
        )
    for r in rows:
        r["against"] = "reference" if r is ref else notes.get(r["scenario"], "")
    override_cols = [c for c in comparison.columns if "." in str(c)]  # scenarios.csv keys
    for r in rows:
        r["overrides"] = "; ".join(
            f"{c} = {r[c]}" for c in override_cols if not missing(r.get(c)) and r[c] != ""
        )
        r["link"] = r["scenario"] if designs.get(str(r["scenario"])) is not None else None
    cols = [
        ("scenario", "scenario", None),
        (
            "link",
            "report",
            lambda v: "" if v is None else f'<a href="{esc(v)}/report.html">open</a>',
        ),
        ("overrides", "overrides", None),
        ("status", "status", None),
        ("mip_gap", "gap", lambda v: pct(v, 4)),
        ("objective", "objective /yr", money),
        ("annual_cost_usd", "annual cost /yr", money),
        ("power_mw", "power MW", lambda v: num(v, 2)),
        ("gpu_sites", "GPU sites", lambda v: num(v)),
        ("routes_lit", "routes lit", lambda v: num(v)),
        ("units", "units", lambda v: num(v)),
        ("against", "objective against the reference", text),
        ("error", "error", text),
    ]

    def klass(r: dict[str, Any]) -> str:
        if str(r.get("status")) not in DESIGNS:
            return "bad"
        return "tie" if str(r.get("against", "")).startswith("tie") else ""

    body.append("<h2>Comparison</h2>" + table(rows, cols, klass))
    body.append(
        '<p class="note">Rows in yellow are ties: their objective differs from the reference '
        "by less than the MIP gap, so the difference is not evidence of a better design.</p>"
    )
    body.append("<h2>Annual cost by part</h2>" + stacked_bars(comparison, "scenario"))
    body.append(_changes_section(rows, designs, "scenario", ref))
    return page(f"scaleacross: {name} scenarios", "".join(body))


def _changes_section(
    rows: Sequence[dict[str, Any]],
    designs: dict[str, dict[str, pd.DataFrame] | None],
    key: str,
    ref: dict[str, Any] | None,
) -> str:
    if ref is None or designs.get(str(ref[key])) is None:
        return "<h2>What changes</h2><p>No reference design to compare with.</p>"
    base = designs[str(ref[key])]
    out = [f"<h2>What changes against {esc(key)} {esc(ref[key])}</h2>"]
    for r in rows:
        if r is ref:
            continue
        d = designs.get(str(r[key]))
        head = f"<h3>{esc(key)} {esc(r[key])}</h3>"
        if d is None:
            out.append(head + f"<p>No design ({esc(r.get('status'))}).</p>")
        else:
            out.append(head + _change_list(changes(base, d)))
    return "".join(out)


def render_pareto(
    title: str, front: pd.DataFrame, designs: dict[str, dict[str, pd.DataFrame] | None]
) -> str:
    """A Pareto front's page: pareto.csv, the front as SVG, and per point what changes
    from the point before it (point 1 is the power-optimal end)."""
    rows = front.to_dict("records")
    width = max(2, len(str(len(rows))))
    for r in rows:  # the point's own folder, as pareto.py names it
        ok = designs.get(str(r["point"])) is not None
        r["link"] = f"point_{int(r['point']):0{width}d}/report.html" if ok else None
    cols = [
        ("point", "point", lambda v: num(v)),
        ("link", "report", lambda v: "" if v is None else f'<a href="{esc(v)}">open</a>'),
        ("cap_mw", "cap MW", lambda v: num(v, 4)),
        ("power_mw", "power MW", lambda v: num(v, 4)),
        ("annual_cost_usd", "annual cost /yr", money),
        ("peak_power_mw", "peak power MW", lambda v: num(v, 4)),
        ("discounted_cost_usd", "discounted cost", money),
        ("status", "status", None),
        ("gap", "gap", lambda v: pct(v, 4)),
        ("notes", "notes", text),
    ]
    cols = [c for c in cols if c[0] in front.columns or c[0] == "link"]
    body = [f"<h1>{esc(title)}</h1><h2>Points</h2>", table(rows, cols)]
    body.append("<h2>The front</h2>" + front_chart(front))
    body.append("<h2>What changes from point to point</h2>")
    prev = None
    for r in rows:
        d = designs.get(str(r["point"]))
        head = f"<h3>point {esc(r['point'])}</h3>"
        if d is None:
            body.append(head + f"<p>No design ({esc(r.get('status'))}).</p>")
            continue
        if prev is None:
            body.append(head + "<p>The power-optimal end: the reference.</p>")
        else:
            body.append(
                head + f"<p>Against point {esc(prev[0])}:</p>" + _change_list(changes(prev[1], d))
            )
        prev = (r["point"], d)
    return page(f"scaleacross: {title}", "".join(body))
