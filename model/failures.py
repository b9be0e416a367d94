"""Failure report of a design as built: for every single failure, how much of each
commodity's demand still flows on the paths the design uses, without re-optimising.

Failures: every shared-risk group of a route the design uses (``srlg:<name>``; the whole
group fails, used routes or not), every used route without one (``route:<id>``), every
open site (``site:<id>``). A route is used when it carries units or flow. A site failure
cuts every path through the site; a commodity that starts or ends there is lost with it
(``endpoint_lost`` = 1, surviving 0), since no network can save it. Commodities with no
demand (flow the solver left on a zero-demand commodity) are left out.

Read from the result CSVs and the data set through the verifier's reader
(:mod:`model.verify.readback`), so the report describes what was written, not what the
solver held in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from model.load import Dataset
from model.network import route_failures
from model.verify import Design, load_result_dataset, read_design, resolved_commodities

COLUMNS = [
    "failure",
    "kind",
    "commodity",
    "commodity_kind",
    "src",
    "dst",
    "demand_gbps",
    "surviving_gbps",
    "survival_share",
    "endpoint_lost",
]
KIND_ORDER = {"srlg": 0, "route": 1, "site": 2}


def design_failures(ds: Dataset, design: Design) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Failure id → (kind, what it cuts): routes for srlg/route failures, the site for a
    site failure."""
    used = {r for p in design.paths for r in p.routes}
    units = design.links
    used |= set(units.loc[units["units"].fillna(0) > 0, "route"])
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    every = route_failures(ds.routes, list(ds.routes.index))
    for f, cut in every.items():
        if used.intersection(cut):
            out[f] = (f.split(":", 1)[0], cut)
    for s, row in design.sites.iterrows():
        if row["open"] == 1:
            out[f"site:{s}"] = ("site", (s,))
    return dict(sorted(out.items(), key=lambda kv: (KIND_ORDER[kv[1][0]], kv[0])))


def failure_table(ds: Dataset, design: Design) -> pd.DataFrame:
    """One row per (failure, commodity) of a design read by :func:`model.verify.read_design`."""
    coms = [c for c in resolved_commodities(ds, design) if c.demand_gbps > 1e-9]
    rows: list[dict[str, Any]] = []
    for failure, (kind, cut) in design_failures(ds, design).items():
        for c in coms:
            demand = c.demand_gbps * c.multiplicity
            lost = kind == "site" and cut[0] in (c.src, c.dst)
            if lost:
                alive = 0.0
            elif kind == "site":
                alive = sum(p.gbps for p in c.paths if cut[0] not in p.nodes)
            else:
                alive = sum(p.gbps for p in c.paths if not p.routes.intersection(cut))
            share = min(1.0, alive / demand) if demand > 1e-9 else (0.0 if lost else 1.0)
            rows.append(
                {
                    "failure": failure,
                    "kind": kind,
                    "commodity": c.id,
                    "commodity_kind": c.kind,
                    "src": c.src,
                    "dst": c.dst,
                    "demand_gbps": round(demand, 6),
                    "surviving_gbps": round(alive, 6),
                    "survival_share": round(share, 6),
                    "endpoint_lost": int(lost),
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def failure_report(result_dir: str | Path, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The failure table of the design in ``result_dir`` (data set from run.json unless
    ``data_dir`` is given). Writes nothing."""
    ds = load_result_dataset(Path(result_dir), data_dir)
    return failure_table(ds, read_design(result_dir, ds))


def failure_report_tables(ds: Dataset, tables: Any) -> pd.DataFrame:
    """The failure table of result tables in memory (``model.extract.Tables``)."""
    return failure_table(ds, read_design(Path("."), ds, tables=tables))


def worst_case(df: pd.DataFrame, include_endpoints: bool = False) -> dict[str, Any]:
    """The single failure that leaves the lowest share of any commodity's demand:
    ``failure``, ``kind``, ``commodity``, ``survival_share``, plus how many failures leave
    some commodity short (``failures_short``). Lost endpoints are left out unless
    ``include_endpoints`` (a site failure always loses the traffic of that site)."""
    rows = df if include_endpoints else df[df["endpoint_lost"] == 0]
    if rows.empty:
        return {
            "failure": None,
            "kind": None,
            "commodity": None,
            "survival_share": 1.0,
            "failures_short": 0,
        }
    worst = rows.loc[rows["survival_share"].idxmin()]
    short = rows.loc[rows["survival_share"] < 1.0 - 1e-9, "failure"].nunique()
    return {
        "failure": worst["failure"],
        "kind": worst["kind"],
        "commodity": worst["commodity"],
        "survival_share": float(worst["survival_share"]),
        "failures_short": int(short),
    }
