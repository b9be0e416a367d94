"""Charts of batch and Pareto results: PNG files drawn with matplotlib's Agg canvas.

No pyplot and no global backend switch: every chart is a :class:`Figure` on its own
:class:`FigureCanvasAgg`, so charts can be drawn from any thread or worker and render offline.
Files are written beside the target and renamed into place (never half-written).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from model.families.objective import COST_PARTS

log = logging.getLogger(__name__)

MUSD = 1e6


def save_png(fig: Figure, target: Path) -> Path:
    """Render ``fig`` to ``target`` atomically (temporary file in the same folder, renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        FigureCanvasAgg(fig)
        fig.savefig(tmp, format="png", dpi=120)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("chart written to %s", target)
    return target


def comparison_chart(df: pd.DataFrame, target: Path, title: str = "") -> Path:
    """Annual cost per scenario stacked by part (M$/yr, bars) and facility power (MW, dots
    on a second axis). A scenario without a design shows its status instead of a bar."""
    n = len(df)
    fig = Figure(figsize=(max(6.0, 1.0 + 0.9 * n), 4.8), layout="constrained")
    ax = fig.add_subplot()
    x = list(range(n))
    bottom = [0.0] * n
    colours = [f"C{i}" for i in range(len(COST_PARTS))]
    for part, colour in zip(COST_PARTS, colours, strict=True):
        col = f"annual_{part}_usd"
        if col not in df:
            continue
        values = [0.0 if pd.isna(v) else float(v) / MUSD for v in df[col]]
        if not any(abs(v) > 1e-9 for v in values):
            continue
        ax.bar(x, values, bottom=bottom, label=part, color=colour, width=0.6)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    failed = [i for i, s in enumerate(df["status"]) if s not in ("optimal", "feasible")]
    top = max(bottom, default=0.0) or 1.0
    for i in failed:
        ax.text(i, 0.02 * top, str(df["status"].iloc[i]), ha="center", va="bottom", rotation=90)
    ax.set_xticks(x, [str(s) for s in df["scenario"]], rotation=30, ha="right")
    ax.set_ylabel("annual cost, M$/yr")
    ax.set_title(title or "scenario comparison")
    power = pd.to_numeric(df.get("power_mw"), errors="coerce")
    if power is not None and power.notna().any():
        ax2 = ax.twinx()
        ax2.plot(x, power, "kD", label="power MW", markersize=6, linestyle="none")
        ax2.set_ylabel("facility power, MW")
        ax2.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        fig.legend(handles + h2, labels + l2, fontsize="small", loc="outside right upper")
    elif ax.get_legend_handles_labels()[0]:
        fig.legend(fontsize="small", loc="outside right upper")
    return save_png(fig, target)


def pareto_chart(df: pd.DataFrame, target: Path, title: str = "") -> Path:
    """The cost–power front: annual cost (M$/yr) against facility power (MW), each point
    labelled with its number; points without a design are left out. A growth plan's front
    (columns ``discounted_cost_usd``, ``peak_power_mw``): discounted cost of the horizon
    (M$) against the peak power over its periods."""
    horizon = "discounted_cost_usd" in df.columns
    if horizon:
        df = df.rename(
            columns={"peak_power_mw": "power_mw", "discounted_cost_usd": "annual_cost_usd"}
        )
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    ok = df[df["status"].isin(["optimal", "feasible"])].sort_values("power_mw")
    ax.plot(ok["power_mw"], ok["annual_cost_usd"] / MUSD, "o-", color="C0")
    labels: dict[tuple[float, float], list[str]] = {}
    for r in ok.itertuples():  # points with the same design share one label: "2,3"
        labels.setdefault((r.power_mw, r.annual_cost_usd), []).append(str(int(r.point)))
    for (power, cost), points in labels.items():
        ax.annotate(
            ",".join(points),
            (power, cost / MUSD),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize="small",
        )
    ax.set_xlabel("peak facility power over the periods, MW" if horizon else "facility power, MW")
    ax.set_ylabel("discounted cost of the horizon, M$" if horizon else "annual cost, M$/yr")
    ax.set_title(title or "cost–power front")
    ax.grid(True, alpha=0.3)
    return save_png(fig, target)
