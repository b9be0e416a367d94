"""Pieces every report page shares: escaping, number formats, tables, small SVG charts
and the page shell (inline CSS and a few lines of inline JS; nothing is loaded from
anywhere)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

#: Colours for categories (cooling methods, link types, cost parts), in order of use.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
)  # fmt: skip

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:22px;margin:10px 0 4px}h2{font-size:17px;margin:26px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:3px}
table{border-collapse:collapse;margin:6px 0 10px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fdecea}tr.tie td{background:#fff7d6}
.note{color:#555}.ok{color:#1a7f37}.warn{color:#b35900}.err{color:#c62828}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;background:#eee;font-size:12px}
.map{background:#dbe9f4;border:1px solid #bbb;max-width:100%;height:auto}
.land{fill:#f3f1ea;stroke:#b9b4a5;stroke-width:.6}.border{fill:none;stroke:#a09a8a;
stroke-width:.6;stroke-dasharray:3 2}
.route{fill:none;stroke-linecap:round}.route:hover,.site:hover{opacity:.7}
.worst-halo{fill:none;stroke:#e53935;stroke-opacity:.45;stroke-linecap:round}
.candidate{fill:#9e9e9e;opacity:.55}.label{font-size:11px;fill:#222;paint-order:stroke;
stroke:#fff;stroke-width:3px}
#tip{position:fixed;pointer-events:none;background:#222;color:#fff;padding:4px 8px;
border-radius:4px;font-size:12px;white-space:pre;display:none;z-index:9}
.cols{display:flex;gap:28px;flex-wrap:wrap}.cols>div{min-width:0}
table.key th{text-align:left;font-weight:600;background:#f3f3f3}
"""

JS = """
(function(){var t=document.getElementById('tip');if(!t)return;
document.addEventListener('mouseover',function(e){var n=e.target.closest('[data-tip]');
if(!n){t.style.display='none';return;}t.textContent=n.getAttribute('data-tip');
t.style.display='block';});
document.addEventListener('mousemove',function(e){t.style.left=(e.clientX+12)+'px';
t.style.top=(e.clientY+12)+'px';});})();
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value (quotes too: safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def num(value: Any, digits: int = 0) -> str:
    """``12,345.6``; ``–`` for a missing value."""
    if missing(value):
        return "–"
    x = float(value)
    if not math.isfinite(x):
        return "–"
    return f"{x:,.{digits}f}"


def money(value: Any) -> str:
    """US dollars at a readable scale: ``146.32 M$``, ``12.5 k$``, ``64.00 $``."""
    if missing(value):
        return "–"
    x = float(value)
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} M$"
    if abs(x) >= 1e3:
        return f"{x / 1e3:,.1f} k$"
    return f"{x:,.2f} $"


def text(value: Any) -> str:
    """A cell shown as escaped text, left-aligned (see :func:`table`)."""
    return "" if missing(value) else esc(value)


def pct(value: Any, digits: int = 2) -> str:
    return "–" if missing(value) else f"{100 * float(value):.{digits}f} %"


def colours(names: Iterable[str], offset: int = 0) -> dict[str, str]:
    """A colour per name, in sorted order of the names (same names, same colours), from
    ``offset`` on in the palette (so two keys on one map do not share colours)."""
    return {n: PALETTE[(offset + i) % len(PALETTE)] for i, n in enumerate(sorted(set(names)))}


Cell = Callable[[Any], str]


def table(
    rows: Sequence[dict[str, Any]] | pd.DataFrame,
    columns: Sequence[tuple[str, str, Cell | None]],
    row_class: Callable[[dict[str, Any]], str] | None = None,
    cls: str = "",
) -> str:
    """An HTML table: ``columns`` are (key, heading, formatter); a formatter's output is
    trusted HTML, raw values are escaped. Numeric-looking columns align right."""
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)

    def right(fmt: Cell | None) -> bool:
        return fmt is not None and fmt is not text

    head = "".join(
        f'<th class="{"n" if right(fmt) else ""}">{esc(title)}</th>' for _, title, fmt in columns
    )
    body = []
    for rec in records:
        klass = row_class(rec) if row_class else ""
        cells = []
        for key, _, fmt in columns:
            value = rec.get(key)
            if fmt is None or fmt is text:
                cells.append(f"<td>{'' if missing(value) else esc(value)}</td>")
            else:
                cells.append(f'<td class="n">{fmt(value)}</td>')
        body.append(f'<tr class="{klass}">' + "".join(cells) + "</tr>")
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def hbars(
    items: Sequence[tuple[str, float, str]], fmt: Callable[[float], str], width: int = 520
) -> str:
    """Horizontal bars (label, value, tooltip), each value written by ``fmt``; values ≤ 0
    get no bar."""
    if not items:
        return ""
    top = max((v for _, v, _ in items), default=0.0) or 1.0
    bar_h, label_w = 20, 170
    h = bar_h * len(items) + 6
    out = [f'<svg class="chart" width="{width}" height="{h}" viewBox="0 0 {width} {h}">']
    for i, (label, value, tip) in enumerate(items):
        y = 3 + i * bar_h
        w = max(0.0, (width - label_w - 110) * value / top)
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<g data-tip="{esc(tip)}"><text x="0" y="{y + 14}" font-size="12">{esc(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 6}" '
            f'fill="{colour}"/><text x="{label_w + w + 5:.1f}" y="{y + 14}" font-size="12">'
            f"{esc(fmt(value))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def page(title: str, body: str, css: str = "") -> str:
    """The whole document: one file, no external reference of any kind; ``css`` is added
    to the shared style sheet."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        # No request of any kind: not even a favicon.
        '<link rel="icon" href="data:,">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(title)}</title><style>{CSS}{css}</style></head>\n"
        f'<body><main>{body}</main><div id="tip"></div><script>{JS}</script></body></html>\n'
    )
