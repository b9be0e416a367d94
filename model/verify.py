"""Independent check of a written design against the rules of MODEL.md §4–§6.

Reads only the result CSVs (``summary``, ``sites``, ``links``, ``flows``, ``run.json``) and
the data set, and re-implements every rule from MODEL.md without Pyomo and without the
model's own index or families, so that a slip in the formulation, the extraction or a hand
edit of a result shows up as a :class:`Violation` naming the objects and the two numbers
compared. ``python solve.py verify RESULT_DIR [--data DATASET_DIR]`` exits 0 when the
design keeps every rule, 5 when it violates one (``EXIT_VIOLATION``), 2 when a file is
missing or unreadable.

Checks (the ``check`` of a violation):

- ``results``: every row ties to the data (sites, routes, path hops), links.csv max_flow_gbps
  is the busiest direction of flows.csv, the status is a design;
- ``sites``: open is 0/1, existing sites are open;
- ``racks``: Σ racks = gpu_racks; racks only at open GPU sites, within min_racks_per_gpu_site
  and max_racks; at most max_gpu_sites;
- ``storage``: Σ PB = storage_pb × copies, only at open storage sites; with copies > 1 no
  zone holds more than storage_pb;
- ``zone_survival``: racks outside every zone ≥ zone_survival_share × gpu_racks;
- ``cooling``: a method of cooling.csv at open non-transit sites that takes rack_kw where
  racks are; it_kw = racks + storage + routers + ½ optics; facility_kw = (PUE + offset) ×
  it_kw (transit_pue at transit nodes) ≤ 1000 × max_power_mw; nothing at closed sites;
- ``links``: type, medium, reach, offers (types, prices, max_units), route max_units;
  capacity_gbps, power_w, capex_usd, opex per unit; both ends of a lit route open;
- ``capacity``: Σ flow per route and direction (both together when shared) ≤ units ×
  capacity + existing_gbps; nothing against a directed route;
- ``latency``: each path's latency recomputed (km × µs/km + slowest allowed DSP + hops) and
  within the commodity's bound from the data;
- ``traffic``: every commodity carries its demand; storage bandwidth per GPU site and per
  storage site; sync_gbps between every pair of GPU sites; demands.csv in full; with
  diverse protection, protected_share of each protected demand survives every failure;
- ``routers``: ports, switching capacity, min_routers_per_site, deep-buffer ports;
- ``costs``: every cost figure of sites, links and summary recomputed from the data.

Tolerances: 1e-6 relative plus 1e-3 absolute, widened by the rounding of the CSVs where
a figure is a sum of rounded figures (money to the cent, kW to the watt).

Storage roles. A storage commodity in flows.csv is named ``storage:SRC>DST``; when both
ends may hold storage and racks, it can be the read direction of pair (SRC, DST) or the
write direction of pair (DST, SRC). A ``storage_site`` column, or an ``@SITE`` suffix of
the commodity id, names the storage end; without either, the verifier tries every role
assignment that pairs the two directions up and accepts the design if one keeps the rules.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import logging
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from model.errors import EXIT_INPUT, EXIT_OK, InputError
from model.load import Dataset, load_dataset
from model.network import link_options, route_failures

log = logging.getLogger(__name__)

EXIT_VIOLATION = 5
ABS_TOL = 1e-3
REL_TOL = 1e-6
CENT = 0.005  # rounding of one money figure in the CSVs
WATT = 0.0005  # rounding of one kW figure in the CSVs (3 decimals)
HOURS_PER_YEAR_K = 8.76  # kW·year → MWh
MAX_ROLE_COMBINATIONS = 4096
DESIGNS = ("optimal", "feasible")  # summary.csv status of a written design
CHECKS = (
    *("results", "sites", "racks", "storage", "zone_survival", "cooling", "links", "capacity"),
    *("latency", "traffic", "routers", "costs"),
)
COST_PARTS = (
    *("sites", "cooling", "routers", "optics", "link_opex"),
    *("routes", "flow", "energy", "carbon"),
)
REQUIRED = {  # MODEL.md §6 columns the checks read
    "summary.csv": "annual_cost_usd capex_usd opex_usd_per_year energy_usd_per_year power_mw "
    "it_power_mw gpu_sites storage_sites routes_lit units routers",
    "sites.csv": "site open cooling gpu_racks storage_pb it_kw facility_kw routers router_models "
    "annual_cost_usd",
    "links.csv": "a b medium km type units capacity_gbps capex_usd power_w",
    "flows.csv": "commodity kind src dst path gbps latency_ms bound_ms protected demand_gbps",
}
NUMERIC = {  # columns typed as numbers where present (extensions of extract.py included)
    "summary.csv": "objective annual_cost_usd capex_usd opex_usd_per_year energy_usd_per_year "
    "power_mw it_power_mw network_power_kw gpu_sites storage_sites routes_lit units routers "
    "carbon_usd_per_year gpu_racks rack_capex_usd "
    + " ".join(f"annual_{p}_usd" for p in COST_PARTS),
    "sites.csv": "open gpu_racks storage_pb it_kw facility_kw pue routers annual_cost_usd "
    "capex_usd",
    "links.csv": "km units capacity_gbps max_flow_gbps capex_usd power_w opex_usd_per_year "
    "annual_cost_usd",
    "flows.csv": "gbps latency_ms bound_ms protected demand_gbps",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: the check, the objects it concerns, the two numbers compared."""

    check: str
    objects: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.objects}: {self.message}"


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    comparisons: Counter = field(default_factory=Counter)  # check → comparisons made
    notes: list[str] = field(default_factory=list)  # warnings that are not violations

    def fail(self, check: str, objects: str, message: str) -> None:
        self.violations.append(Violation(check, objects, message))

    def count(self, check: str, n: int = 1) -> None:
        self.comparisons[check] += n

    def le(self, check: str, objects: str, what: str, lhs: float, rhs: float, tol: float) -> bool:
        """Record lhs ≤ rhs (within tol); a violation message says both numbers."""
        self.count(check)
        if lhs > rhs + tol:
            self.fail(check, objects, f"{what}: {_f(lhs)} > {_f(rhs)}")
            return False
        return True

    def eq(self, check: str, objects: str, what: str, got: float, want: float, tol: float) -> bool:
        """Record got == want (within tol): ``what`` is the reported figure's name."""
        self.count(check)
        if not (abs(got - want) <= tol):  # NaN fails too
            self.fail(check, objects, f"{what} is {_f(got)}, expected {_f(want)}")
            return False
        return True


def _f(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "empty"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x)}"
    return f"{x:.10g}"


def _tol(*values: float, abs_tol: float = ABS_TOL) -> float:
    return abs_tol + REL_TOL * max((abs(v) for v in values if not pd.isna(v)), default=0.0)


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class FlowPath:
    """One row of flows.csv with its route hops resolved: (route id, traversed a→b)."""

    row: int
    commodity: str
    kind: str
    src: str
    dst: str
    gbps: float
    demand_gbps: float
    nodes: tuple[str, ...]
    hops: tuple[tuple[str, bool], ...]
    latency_ms: float
    bound_ms: float
    protected: int
    storage_site: str | None = None

    @property
    def routes(self) -> frozenset[str]:
        return frozenset(r for r, _ in self.hops)


@dataclass
class Commodity:
    """Rows of flows.csv that belong to one commodity (id, direction, demand)."""

    id: str
    kind: str
    src: str
    dst: str
    demand_gbps: float
    paths: list[FlowPath]
    multiplicity: int = 1  # 2 when two same-named storage commodities of equal demand merged

    @property
    def total_gbps(self) -> float:
        return sum(p.gbps for p in self.paths)

    @property
    def name(self) -> str:
        return f"{self.id} ({self.src}→{self.dst})"


@dataclass
class Design:
    """The result tables of one scenario, typed; ``paths`` are the parsed flow rows."""

    result_dir: Path
    run: dict[str, Any]
    summary: pd.Series
    sites: pd.DataFrame  # index: site
    links: pd.DataFrame  # with a resolved 'route' column
    flows: pd.DataFrame
    paths: list[FlowPath]


def _read_csv(
    path: Path, problems: list[str], frame: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """One result table as text, typed column by column (``frame``: an in-memory table,
    read through its CSV text so that it is checked exactly like the file would be)."""
    if frame is None and not path.is_file():
        problems.append(f"{path.name}: file is missing from {path.parent}")
        return None
    source = path if frame is None else io.StringIO(frame.to_csv(index=False))
    try:
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: cannot be read as CSV ({exc})")
        return None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip()) if len(df.columns) else df
    missing = [c for c in REQUIRED[path.name].split() if c not in df.columns]
    if missing:
        problems.append(f"{path.name}: required column(s) missing: {', '.join(missing)}")
        return None
    for col in NUMERIC[path.name].split():
        if col not in df.columns:
            continue
        text = df[col]
        num = pd.to_numeric(text.where(text != ""), errors="coerce")
        for i in df.index[num.isna() & (text != "")]:
            problems.append(
                f"{path.name} row {i + 1} (line {i + 2}), column {col}: value {text[i]!r} "
                "is not a number"
            )
        df[col] = num.astype(float)
    return df


def read_run(result_dir: Path) -> dict[str, Any]:
    """``run.json`` of a result folder ({} when absent); unreadable JSON is an InputError."""
    path = Path(result_dir) / "run.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as JSON ({exc})") from None


def load_result_dataset(
    result_dir: Path, data_dir: str | Path | None = None, scenario: str | None = None
) -> Dataset:
    """The data set a result was solved from: ``data_dir``/``scenario`` of run.json unless
    given."""
    result_dir = Path(result_dir)
    if not result_dir.is_dir():
        raise InputError(f"result folder {result_dir} does not exist or is not a folder")
    run = read_run(result_dir)
    path = data_dir or run.get("data_dir")
    if not path:
        raise InputError(f"{result_dir}: run.json names no data_dir; pass --data DATASET_DIR")
    return load_dataset(path, scenario or run.get("scenario") or "base")


def read_design(
    result_dir: str | Path, ds: Dataset, report: Report | None = None, tables: Any = None
) -> Design:
    """Read and type the result CSVs; rows that cannot be tied to the data set become
    ``results`` violations in ``report``. Missing or unreadable files raise InputError.
    ``tables`` (anything with DataFrame attributes summary, sites, links, flows, such as
    ``model.extract.Tables``) is checked instead of the files, before they are written."""
    report = report if report is not None else Report()
    result_dir = Path(result_dir)
    problems: list[str] = []
    frames = {n: None if tables is None else getattr(tables, n[:-4]) for n in REQUIRED}
    read = {n: _read_csv(result_dir / n, problems, frames[n]) for n in REQUIRED}
    status = _status(result_dir / "summary.csv") if tables is None else None
    if problems and status is not None and status not in DESIGNS:
        raise InputError(f"{result_dir}: status is {status!r}: no design to verify")
    if problems:
        raise InputError(f"results in {result_dir} cannot be read", problems)
    summary_df, sites, links, flows = (read[n] for n in REQUIRED)
    if len(summary_df) != 1:
        raise InputError(f"{result_dir / 'summary.csv'}: expected one row, found {len(summary_df)}")
    summary = summary_df.iloc[0]
    report.count("results", 4)
    if "status" in summary and summary["status"] not in DESIGNS:
        report.fail("results", "summary.csv", f"status is {summary['status']!r}, not a design")
    sites = _tie_sites(sites, ds, report)
    links = _tie_links(links, ds, report)
    paths = _parse_flows(flows, ds, report)
    run = read_run(result_dir) if tables is None else {}
    return Design(result_dir, run, summary, sites, links, flows, paths)


def _status(path: Path) -> str | None:
    """summary.csv's status, read leniently (None when there is none to read)."""
    try:
        status = pd.read_csv(path, dtype=str, keep_default_na=False).get("status")
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return status.iloc[0].strip() if status is not None and len(status) == 1 else None


def _tie_sites(sites: pd.DataFrame, ds: Dataset, report: Report) -> pd.DataFrame:
    for col in ("cooling", "router_models"):
        sites[col] = sites[col].fillna("")
    known = set(ds.sites.index)
    for s in sites["site"]:
        if s not in known:
            report.fail("results", f"site {s}", "sites.csv names a site that is not in the data")
    dup = sites["site"][sites["site"].duplicated()]
    for s in dup:
        report.fail("results", f"site {s}", "sites.csv lists the site more than once")
    sites = sites[sites["site"].isin(known) & ~sites["site"].duplicated()].set_index("site")
    for s in sorted(known - set(sites.index)):
        report.fail("results", f"site {s}", "sites.csv has no row for this site of the data")
    report.count("results", len(known))
    return sites


def _tie_links(links: pd.DataFrame, ds: Dataset, report: Report) -> pd.DataFrame:
    """Resolve each links.csv row to a route id (``route`` column, else ends and medium)."""
    by_ends: dict[tuple[frozenset[str], str], list[str]] = defaultdict(list)
    for r in ds.routes.itertuples():
        by_ends[(frozenset((r.a, r.b)), r.medium)].append(r.route)
    ids = []
    for i, row in links.iterrows():
        given = row.get("route", "")
        if given:
            ids.append(given if given in ds.routes.index else "")
            if given not in ds.routes.index:
                report.fail("results", f"route {given}", "links.csv names an unknown route")
            continue
        found = by_ends.get((frozenset((row["a"], row["b"])), row["medium"] or "smf"), [])
        if len(found) != 1:
            what = "no route" if not found else f"{len(found)} parallel routes"
            report.fail(
                "results",
                f"links.csv row {i + 1} ({row['a']}-{row['b']}, {row['medium']})",
                f"{what} of the data match its ends and medium",
            )
        ids.append(found[0] if len(found) == 1 else "")
    links = links.copy()
    links["route"] = ids
    report.count("results", len(links))
    return links[links["route"] != ""].reset_index(drop=True)


_TOKEN = re.compile(r"^(?P<site>[^\[\]]+?)(?:\[(?P<tag>[^\]]*)\])?$")


def _parse_flows(flows: pd.DataFrame, ds: Dataset, report: Report) -> list[FlowPath]:
    routes = ds.routes
    by_ends: dict[frozenset[str], list[str]] = defaultdict(list)
    for r in routes.itertuples():
        by_ends[frozenset((r.a, r.b))].append(r.route)
    has_routes = "routes" in flows.columns
    has_site = "storage_site" in flows.columns
    out = []
    for i, row in flows.iterrows():
        where = f"flows.csv row {i + 1} ({row['commodity']} {row['path']})"
        report.count("results")
        tokens = [_TOKEN.match(t) for t in str(row["path"]).split(">")]
        if any(t is None for t in tokens) or len(tokens) < 2:
            report.fail("results", where, "path is not site ids joined by '>'")
            continue
        nodes = tuple(t["site"] for t in tokens)
        unknown = [n for n in nodes if n not in ds.sites.index]
        if unknown:
            report.fail("results", where, f"path names unknown site(s) {', '.join(unknown)}")
            continue
        if nodes[0] != row["src"] or nodes[-1] != row["dst"]:
            report.fail("results", where, f"path does not run from {row['src']} to {row['dst']}")
        given = [r for r in str(row["routes"]).split(";") if r] if has_routes else None
        hops, bad = [], ""
        for h in range(len(nodes) - 1):
            ends = frozenset(nodes[h : h + 2])
            if given is not None:
                rid = given[h] if h < len(given) else ""
                if rid not in routes.index or frozenset(routes.loc[rid, ["a", "b"]]) != ends:
                    bad = f"route {rid or '(none)'} does not join {nodes[h]} and {nodes[h + 1]}"
                    break
            else:
                cands, tag = by_ends.get(ends, []), tokens[h]["tag"]
                if tag:
                    cands = [r for r in cands if r == tag or routes.at[r, "medium"] == tag]
                if len(cands) != 1:
                    bad = f"{len(cands)} routes match hop {nodes[h]}>{nodes[h + 1]}"
                    break
                rid = cands[0]
            hops.append((rid, routes.at[rid, "a"] == nodes[h]))
        if given is not None and not bad and len(given) != len(hops):
            bad = f"{len(given)} routes listed for {len(hops)} hops"
        if bad:
            report.fail("results", where, bad)
            continue
        site = row["storage_site"] if has_site and row["storage_site"] else None
        if site is None and "@" in row["commodity"]:
            site = row["commodity"].rsplit("@", 1)[1]
        out.append(
            FlowPath(
                row=i + 1,
                commodity=row["commodity"],
                kind=row["kind"],
                src=row["src"],
                dst=row["dst"],
                gbps=row["gbps"],
                demand_gbps=row["demand_gbps"],
                nodes=nodes,
                hops=tuple(hops),
                latency_ms=row["latency_ms"],
                bound_ms=row["bound_ms"],
                protected=0 if pd.isna(row["protected"]) else int(row["protected"]),
                storage_site=site,
            )
        )
    return out


def commodities(paths: Iterable[FlowPath]) -> list[Commodity]:
    """Group flow rows by commodity id, direction and demand (a commodity's rows share one
    demand_gbps; two same-named commodities differ in it or merge, see the module doc)."""
    groups: dict[tuple, Commodity] = {}
    for p in paths:
        demand = None if pd.isna(p.demand_gbps) else round(p.demand_gbps, 6)
        key = (p.commodity, p.src, p.dst, demand, p.storage_site)
        if key not in groups:
            groups[key] = Commodity(p.commodity, p.kind, p.src, p.dst, p.demand_gbps, [])
        groups[key].paths.append(p)
    for c in groups.values():
        if pd.isna(c.demand_gbps):  # an empty cell: the carried flow stands for it
            c.demand_gbps = c.total_gbps
    return list(groups.values())


# ----------------------------------------------------------------------------- checks


class _Verifier:
    def __init__(self, ds: Dataset, design: Design, report: Report) -> None:
        self.ds, self.d, self.r = ds, design, report
        self.s = ds.settings
        opts = link_options(ds)
        self.dsp = opts.groupby("route")["dsp_latency_us"].max().to_dict() if len(opts) else {}
        self.options = opts.set_index(["route", "type"], drop=False)
        sites = design.sites
        self.rack_count = {s: round(v) for s, v in sites["gpu_racks"].fillna(0).items()}
        self.pb = sites["storage_pb"].fillna(0.0).to_dict()
        self.open = {s: round(v) if not pd.isna(v) else 0 for s, v in sites["open"].items()}
        self.units: dict[tuple[str, str], float] = {}
        for row in design.links.itertuples():
            if row.type in ds.link_types.index and not pd.isna(row.units):
                key = (row.route, row.type)
                self.units[key] = self.units.get(key, 0.0) + row.units
        self.lit = sorted({r for (r, _), n in self.units.items() if n > 0})
        self.router_counts = {s: self._router_models(s) for s in sites.index}
        self.load: dict[tuple[str, str], float] = defaultdict(float)
        self.route_flow: dict[str, float] = defaultdict(float)
        shared = self.s.network.capacity_sharing == "shared"
        for p in design.paths:
            for r, fwd in p.hops:
                self.load[(r, "both" if shared else ("ab" if fwd else "ba"))] += p.gbps
                self.route_flow[r] += p.gbps

    # -- helpers
    def _cmp(self, check: str) -> tuple[Callable[..., bool], Callable[..., bool]]:
        """``eq`` and ``le`` of the report, bound to one check."""
        return partial(self.r.eq, check), partial(self.r.le, check)

    def _router_models(self, s: str) -> dict[str, int]:
        text = self.d.sites.at[s, "router_models"]
        out: dict[str, int] = {}
        for item in filter(None, (t.strip() for t in str(text).split(";"))):
            name, _, n = item.partition(":")
            try:
                count = float(n)
            except ValueError:
                count = math.nan
            if name not in self.ds.routers.index:
                self.r.fail("routers", f"site {s}", f"router model {name!r} is not in routers.csv")
            elif not count >= 0 or count != int(count):
                self.r.fail("routers", f"site {s}", f"router count {n!r} of {name} is not ≥ 0")
            else:
                out[name] = out.get(name, 0) + int(count)
        return out

    def _site_links(self, s: str) -> list[tuple[str, str, float]]:
        routes = self.ds.routes
        return [
            (r, t, n)
            for (r, t), n in self.units.items()
            if n > 0 and s in (routes.at[r, "a"], routes.at[r, "b"])
        ]

    def _type(self, r: str, t: str) -> pd.Series:
        """Price and data of a placed unit: the offer where there is one, else the type."""
        if (r, t) in self.options.index:
            return self.options.loc[(r, t)]
        lt = self.ds.link_types.loc[t]
        return pd.Series({**lt.to_dict(), "max_units": None})

    def _transit(self, s: str) -> bool:
        return not (self.ds.sites.at[s, "gpu"] or self.ds.sites.at[s, "storage"])

    def _pue(self, s: str) -> float | None:
        off = self.ds.sites.at[s, "pue_offset"]
        if self._transit(s):
            return self.s.network.transit_pue + off
        method = self.d.sites.at[s, "cooling"]
        return self.ds.cooling.at[method, "pue"] + off if method in self.ds.cooling.index else None

    # -- families
    def sites(self) -> None:
        for s, row in self.d.sites.iterrows():
            self.r.count("sites")
            if self.open[s] not in (0, 1):
                self.r.fail("sites", f"site {s}", f"open is {_f(row['open'])}, not 0 or 1")
            if self.ds.sites.at[s, "existing"] and self.open[s] != 1:
                self.r.fail("sites", f"site {s}", "an existing site must be open, open is 0")

    def racks(self) -> None:
        eq, le = self._cmp("racks")
        dem, rep = self.s.demand, self.r
        total = sum(self.rack_count.values())
        eq("all sites", "Σ gpu_racks", total, dem.gpu_racks, 0.5)
        gpu_sites = [s for s, n in self.rack_count.items() if n > 0]
        for s, n in self.rack_count.items():
            raw = self.d.sites.at[s, "gpu_racks"]
            rep.count("racks")
            if raw != n or n < 0:
                rep.fail("racks", f"site {s}", f"gpu_racks {_f(raw)} is not a whole number ≥ 0")
            if n <= 0:
                continue
            if not self.ds.sites.at[s, "gpu"]:
                rep.fail("racks", f"site {s}", f"{n} racks at a site with gpu = 0")
            if self.open[s] != 1:
                rep.fail("racks", f"site {s}", f"{n} racks at a closed site")
            le(f"site {s}", "min_racks_per_gpu_site > racks", dem.min_racks_per_gpu_site, n, 0)
            cap = self.ds.sites.at[s, "max_racks"]
            if cap is not None and not pd.isna(cap):
                le(f"site {s}", "racks > max_racks", n, cap, 0)
        if dem.max_gpu_sites is not None:
            le(
                ", ".join(gpu_sites) or "none",
                "GPU sites > max_gpu_sites",
                len(gpu_sites),
                dem.max_gpu_sites,
                0,
            )

    def storage(self) -> None:
        eq, le = self._cmp("storage")
        dem, rep = self.s.demand, self.r
        total = sum(self.pb.values())
        want = dem.storage_pb * dem.storage_copies
        eq("all sites", "Σ storage_pb", total, want, _tol(want, abs_tol=1e-6 * (1 + len(self.pb))))
        zones: dict[str, float] = defaultdict(float)
        for s, pb in self.pb.items():
            rep.count("storage")
            if pb < -1e-9:
                rep.fail("storage", f"site {s}", f"storage_pb {_f(pb)} < 0")
            if pb <= 1e-9:
                continue
            zones[self.ds.sites.at[s, "zone"]] += pb
            if not self.ds.sites.at[s, "storage"]:
                rep.fail("storage", f"site {s}", f"{_f(pb)} PB at a site with storage = 0")
            if self.open[s] != 1:
                rep.fail("storage", f"site {s}", f"{_f(pb)} PB at a closed site")
        if dem.storage_copies > 1:
            for z, pb in sorted(zones.items()):
                members = [s for s in self.pb if self.ds.sites.at[s, "zone"] == z]
                le(
                    f"zone {z} ({', '.join(sorted(members))})",
                    f"PB in one zone > storage_pb (copies {dem.storage_copies} need distinct "
                    "zones)",
                    pb,
                    dem.storage_pb,
                    _tol(pb, abs_tol=1e-6),
                )

    def zone_survival(self) -> None:
        le = self._cmp("zone_survival")[1]
        share = self.s.resilience.zone_survival_share
        if share <= 0:
            return
        need = share * self.s.demand.gpu_racks
        total = sum(self.rack_count.values())
        zones: dict[str, int] = defaultdict(int)
        for s, n in self.rack_count.items():
            zones[self.ds.sites.at[s, "zone"]] += n
        for z in sorted(set(self.ds.sites["zone"])):
            le(
                f"zone {z}",
                f"{share:g} × gpu_racks > racks outside the zone",
                need,
                total - zones.get(z, 0),
                1e-9,
            )

    def cooling(self) -> None:
        eq, le = self._cmp("cooling")
        dem, rep, ds = self.s.demand, self.r, self.ds
        for s, row in self.d.sites.iterrows():
            method, it, fac = row["cooling"], row["it_kw"], row["facility_kw"]
            obj = f"site {s}"
            rep.count("cooling")
            if self.open[s] != 1:
                if method or (it or 0) > WATT or (fac or 0) > WATT:
                    rep.fail(
                        "cooling",
                        obj,
                        f"closed site has cooling {method!r}, it_kw "
                        f"{_f(it)}, facility_kw {_f(fac)}",
                    )
                continue
            if self._transit(s):
                if method not in ("transit", ""):
                    rep.fail("cooling", obj, f"transit node reports cooling {method!r}")
            elif method not in ds.cooling.index:
                rep.fail(
                    "cooling", obj, f"open site has cooling {method!r}, not a method of cooling.csv"
                )
            elif self.rack_count[s] > 0:
                le(
                    f"{obj} ({method})",
                    "rack_kw > max_rack_kw of its method",
                    dem.rack_kw,
                    ds.cooling.at[method, "max_rack_kw"],
                    1e-9,
                )
            expect = dem.rack_kw * self.rack_count[s] + dem.storage_kw_per_pb * self.pb[s]
            expect += sum(
                ds.routers.at[m, "power_kw"] * n for m, n in self.router_counts[s].items()
            )
            expect += sum(
                self._type(r, t)["power_w"] / 2000.0 * n for r, t, n in self._site_links(s)
            )
            eq(
                obj,
                "it_kw (racks + storage + routers + ½ optics)",
                it,
                expect,
                _tol(it, expect, abs_tol=ABS_TOL + 1e-6 * dem.storage_kw_per_pb),
            )
            pue = self._pue(s)
            if pue is not None:
                eq(
                    f"{obj} ({method or 'transit'})",
                    f"facility_kw (PUE {pue:g} × it_kw {_f(it)})",
                    fac,
                    pue * it,
                    _tol(fac, abs_tol=ABS_TOL * (1 + pue)),
                )
            cap = ds.sites.at[s, "max_power_mw"]
            if cap is not None and not pd.isna(cap):
                le(obj, "facility_kw > 1000 × max_power_mw", fac, 1000 * cap, _tol(fac))

    def links(self) -> None:
        eq, le = self._cmp("links")
        rep, ds = self.r, self.ds
        routes, types = ds.routes, ds.link_types
        excluded = set(self.s.network.exclude_media)
        seen: set[tuple[str, str]] = set()
        for i, row in self.d.links.iterrows():
            r, t, n = row["route"], row["type"], row["units"]
            route = routes.loc[r]
            obj = f"route {r} type {t}"
            rep.count("links")
            if (r, t) in seen:
                rep.fail("links", obj, f"links.csv row {i + 1} repeats the route and type")
            seen.add((r, t))
            if {row["a"], row["b"]} != {route["a"], route["b"]} or row["medium"] != route["medium"]:
                rep.fail(
                    "links",
                    obj,
                    f"ends and medium are {row['a']}-{row['b']} "
                    f"{row['medium']}, routes.csv says {route['a']}-{route['b']} "
                    f"{route['medium']}",
                )
            eq(obj, "km", row["km"], route["km"], _tol(route["km"]))
            if t == "existing":
                eq(obj, "units on a route carried by existing capacity", n, 0, 0)
                continue
            if not (n >= 0 and n == int(n)):
                rep.fail("links", obj, f"units {_f(n)} is not a whole number ≥ 0")
                continue
            if t not in types.index:
                rep.fail("links", obj, f"type {t!r} is not in link_types.csv")
                continue
            lt = types.loc[t]
            if n > 0 and (r, t) not in self.options.index:
                if lt["medium"] != route["medium"]:
                    why = f"type runs on {lt['medium']}, route is {route['medium']}"
                elif lt["reach_km"] < route["km"]:
                    why = f"reach_km {_f(lt['reach_km'])} < route km {_f(route['km'])}"
                elif route["medium"] in excluded:
                    why = f"medium {route['medium']} is excluded"
                else:
                    why = "the route has offers and none for this type"
                rep.fail("links", obj, f"{_f(n)} units of a type not allowed here: {why}")
            opt = self._type(r, t)
            if opt["max_units"] is not None and not pd.isna(opt["max_units"]):
                le(obj, "units > offer max_units", n, opt["max_units"], 0)
            eq(
                obj,
                f"capacity_gbps ({_f(n)} × {_f(lt['capacity_gbps'])})",
                row["capacity_gbps"],
                n * lt["capacity_gbps"],
                _tol(row["capacity_gbps"]),
            )
            eq(
                obj,
                f"power_w ({_f(n)} × {_f(lt['power_w'])})",
                row["power_w"],
                n * lt["power_w"],
                _tol(row["power_w"]),
            )
            eq(
                obj,
                f"capex_usd ({_f(n)} × {_f(opt['capex_usd'])})",
                row["capex_usd"],
                n * opt["capex_usd"],
                _tol(row["capex_usd"], abs_tol=0.01),
            )
            if "opex_usd_per_year" in row and not pd.isna(row["opex_usd_per_year"]):
                eq(
                    obj,
                    f"opex_usd_per_year ({_f(n)} × {_f(opt['opex_usd_per_year'])})",
                    row["opex_usd_per_year"],
                    n * opt["opex_usd_per_year"],
                    _tol(n * opt["opex_usd_per_year"], abs_tol=0.01),
                )
        per_route: dict[str, float] = defaultdict(float)
        for (r, _), n in self.units.items():
            per_route[r] += n
        for r, n in sorted(per_route.items()):
            cap = routes.at[r, "max_units"]
            if cap is not None and not pd.isna(cap):
                le(f"route {r}", "Σ units > route max_units", n, cap, 0)
            if n > 0:
                for end in (routes.at[r, "a"], routes.at[r, "b"]):
                    rep.count("links")
                    if self.open.get(end) != 1:
                        rep.fail(
                            "links", f"route {r}", f"lit ({_f(n)} units) but end {end} is closed"
                        )
        for r in sorted(self.route_flow):
            rep.count("links")
            if routes.at[r, "medium"] in excluded:
                rep.fail(
                    "links",
                    f"route {r}",
                    f"carries traffic on excluded medium {routes.at[r, 'medium']}",
                )

    def capacity(self) -> None:
        le = self._cmp("capacity")[1]
        routes = self.ds.routes
        cap: dict[str, float] = defaultdict(float)
        for (r, t), n in self.units.items():
            if t in self.ds.link_types.index:
                cap[r] += n * self.ds.link_types.at[t, "capacity_gbps"]
        for (r, way), load in sorted(self.load.items()):
            a, b = routes.at[r, "a"], routes.at[r, "b"]
            label = {"ab": f"{a}→{b}", "ba": f"{b}→{a}", "both": "both directions"}[way]
            if way == "ba" and self._directed(r):
                self.r.count("capacity")
                msg = f"{_f(load)} Gbps {label} on a route directed {a}→{b}"
                self.r.fail("capacity", f"route {r}", msg)
            total = cap[r] + routes.at[r, "existing_gbps"]
            le(
                f"route {r} {label}",
                "Σ flow Gbps > Σ units × capacity_gbps + existing_gbps",
                load,
                total,
                _tol(load, total, abs_tol=ABS_TOL + 1e-6 * len(self.d.paths)),
            )
        if "max_flow_gbps" not in self.d.links.columns:
            return
        for r, rows in self.d.links.groupby("route"):
            want = max((v for (rr, _), v in self.load.items() if rr == r), default=0.0)
            self.r.eq(
                "results",
                f"route {r} (links.csv against the busiest direction in flows.csv)",
                "max_flow_gbps",
                rows["max_flow_gbps"].max(),
                want,
                _tol(want, abs_tol=2e-3),
            )

    def _directed(self, r: str) -> bool:
        routes = self.ds.routes
        return "directed" in routes.columns and bool(routes.at[r, "directed"])

    def _bound(self, p: FlowPath) -> float | None:
        dem = self.s.demand
        if p.kind == "storage":
            return dem.storage_latency_ms
        if p.kind == "sync":
            return dem.sync_latency_ms
        d = p.commodity.removeprefix("demand:")
        if d in self.ds.demands.index and not pd.isna(self.ds.demands.at[d, "max_latency_ms"]):
            return float(self.ds.demands.at[d, "max_latency_ms"])
        return None

    def _route_latency_us(self, r: str) -> float:
        route = self.ds.routes.loc[r]
        per_km = self.s.network.latency_us_per_km[route["medium"]]
        return route["km"] * per_km + self.dsp.get(r, 0.0)

    def latency(self) -> None:
        eq, le = self._cmp("latency")
        hop_us = self.s.network.hop_latency_us
        for p in self.d.paths:
            obj = f"{p.commodity} path {'>'.join(p.nodes)}"
            us = sum(self._route_latency_us(r) for r, _ in p.hops)
            ms = (us + hop_us * max(0, len(p.nodes) - 2)) / 1000.0
            eq(obj, "latency_ms", p.latency_ms, ms, 2e-6 + 1e-9 * ms)
            bound = self._bound(p)
            given = None if pd.isna(p.bound_ms) else p.bound_ms
            self.r.count("latency")
            if (given is None) != (bound is None) or (
                bound is not None and abs(given - bound) > 1e-9
            ):
                self.r.fail("latency", obj, f"bound_ms is {_f(given)}, the data says {_f(bound)}")
            if bound is not None:
                le(obj, "latency_ms > bound", ms, bound, 1e-9)
        dem = self.s.demand
        if dem.sync_latency_ms is not None and dem.sync_gbps <= 0:
            gpu = sorted(s for s, n in self.rack_count.items() if n > 0)
            for a, b in itertools.combinations(gpu, 2):
                best = self._best_latency_ms(a, b)
                if best is None:
                    self.r.count("latency")
                    self.r.fail("latency", f"GPU sites {a}, {b}", "no route path joins them")
                else:
                    le(
                        f"GPU sites {a}, {b}",
                        "best path latency_ms > sync_latency_ms",
                        best,
                        dem.sync_latency_ms,
                        1e-9,
                    )

    def _best_latency_ms(self, a: str, b: str) -> float | None:
        hop = self.s.network.hop_latency_us
        g = nx.DiGraph()
        excluded = set(self.s.network.exclude_media)
        for r in self.ds.routes.itertuples():
            if r.medium in excluded or (r.route not in self.dsp and r.existing_gbps <= 0):
                continue
            w = self._route_latency_us(r.route) + hop
            ways = [(r.a, r.b)] if self._directed(r.route) else [(r.a, r.b), (r.b, r.a)]
            for u, v in ways:
                if not g.has_edge(u, v) or g[u][v]["w"] > w:
                    g.add_edge(u, v, w=w)
        try:
            return (nx.dijkstra_path_length(g, a, b, weight="w") - hop) / 1000.0
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None

    def traffic(self) -> None:
        le = self._cmp("traffic")[1]
        rep, dem = self.r, self.s.demand
        coms = commodities(self.d.paths)
        storage = [c for c in coms if c.kind == "storage"]
        self._storage(storage)
        for c in coms:
            if c.kind not in ("storage", "sync", "demand"):
                rep.fail("traffic", c.name, f"kind {c.kind!r} is not storage, sync or demand")
            need = c.demand_gbps * c.multiplicity
            le(
                c.name,
                "demand_gbps > Σ flow on its paths",
                need,
                c.total_gbps,
                _tol(need, abs_tol=1e-6 * (1 + len(c.paths))),
            )
        sync = defaultdict(float)
        for c in coms:
            if c.kind == "sync":
                sync[(c.src, c.dst)] += c.total_gbps
                le(c.name, "demand_gbps > sync_gbps", c.demand_gbps, dem.sync_gbps, 1e-6)
        if dem.sync_gbps > 0:
            gpu = sorted(s for s, n in self.rack_count.items() if n > 0)
            for a, b in itertools.permutations(gpu, 2):
                le(
                    f"sync {a}→{b}",
                    "sync_gbps > Σ flow",
                    dem.sync_gbps,
                    sync.get((a, b), 0.0),
                    _tol(dem.sync_gbps, abs_tol=1e-5),
                )
        for d in self.ds.demands.itertuples():
            if d.gbps <= 0:
                continue
            mine = [c for c in coms if c.kind == "demand" and c.id == f"demand:{d.demand}"]
            for c in mine:
                rep.count("traffic")
                if (c.src, c.dst) != (d.src, d.dst):
                    rep.fail(
                        "traffic", c.name, f"runs {c.src}→{c.dst}, demands.csv says {d.src}→{d.dst}"
                    )
            got = sum(c.total_gbps for c in mine if (c.src, c.dst) == (d.src, d.dst))
            le(
                f"demand {d.demand} ({d.src}→{d.dst})",
                "gbps > Σ flow",
                d.gbps,
                got,
                _tol(d.gbps, abs_tol=1e-5),
            )
        self._protection(coms)

    def _storage(self, coms: list[Commodity]) -> None:
        """Storage: Σ_a h_{a,b} + local ≥ storage_gbps_per_rack × racks_b at every GPU site b;
        Σ_b h_{a,b} + local ≤ storage_gbps_per_pb × PB_a at every storage site a."""
        dem = self.s.demand
        if dem.storage_gbps_per_rack <= 0 and not coms:
            return
        pairs: dict[frozenset[str], list[Commodity]] = defaultdict(list)
        for c in coms:  # zero demand (h = 0) needs no pairing, whatever it carries
            if c.demand_gbps > 1e-9:
                pairs[frozenset((c.src, c.dst))].append(c)
        options = []
        for key, group in sorted(pairs.items(), key=lambda kv: sorted(kv[0])):
            opts = self._pair_options(group)
            if not opts:
                x, y = sorted(key)
                detail = "; ".join(f"{c.src}→{c.dst} {_f(c.demand_gbps)} Gbps" for c in group)
                self.r.fail(
                    "traffic",
                    f"storage {x}↔{y}",
                    "storage flows do not pair up into "
                    f"read and write directions of equal demand: {detail}",
                )
                opts = [self._unpaired(group)]
            options.append(opts)
        best: list[Violation] | None = None
        best_mult: dict[int, int] = {}
        combos = itertools.islice(itertools.product(*options), MAX_ROLE_COMBINATIONS)
        for combo in combos:
            h: dict[tuple[str, str], float] = defaultdict(float)
            mult: dict[int, int] = {}
            for pair_h, pair_mult in combo:
                for k, v in pair_h.items():
                    h[k] += v
                mult.update(pair_mult)
            found = self._storage_sites(h)
            if best is None or len(found) < len(best):
                best, best_mult = found, mult
            if not found:
                break
        for c in coms:
            c.multiplicity = best_mult.get(id(c), 1)
        self.r.count("traffic", len(self.rack_count) + len(self.pb))
        self.r.violations.extend(best or [])

    def _roles(self, c: Commodity) -> list[str]:
        """Which end of a storage commodity holds the storage: ``read`` (src, flow to the GPU
        site), ``write`` (dst), ``both`` (two same-named commodities merged). Roles that
        the design supports (PB at the storage end, racks at the other) come first."""
        if c.paths[0].storage_site:
            return ["read" if c.paths[0].storage_site == c.src else "write"]
        sites = self.ds.sites
        able = {
            "read": sites.at[c.src, "storage"] and sites.at[c.dst, "gpu"],
            "write": sites.at[c.dst, "storage"] and sites.at[c.src, "gpu"],
        }
        used = {
            "read": self.pb.get(c.src, 0) > 1e-9 and self.rack_count.get(c.dst, 0) > 0,
            "write": self.pb.get(c.dst, 0) > 1e-9 and self.rack_count.get(c.src, 0) > 0,
        }
        roles = [r for r in ("read", "write") if able[r] and used[r]]
        roles += [r for r in ("read", "write") if able[r] and not used[r]]
        if len(roles) == 2 and c.total_gbps >= 2 * c.demand_gbps - _tol(c.demand_gbps):
            roles.append("both")
        return roles

    def _pair_options(self, group: list[Commodity]) -> list[tuple[dict, dict]]:
        """Role assignments of one site pair's storage commodities that pair every read
        direction (storage a → GPU b) with a write direction (b → a) of equal demand."""
        out = []
        for roles in itertools.product(*(self._roles(c) for c in group)):
            side: dict[tuple[str, str, str], list[float]] = defaultdict(list)
            mult = {}
            for c, role in zip(group, roles, strict=True):
                mult[id(c)] = 2 if role == "both" else 1
                if role in ("read", "both"):
                    side[("read", c.src, c.dst)].append(c.demand_gbps)
                if role in ("write", "both"):
                    side[("write", c.dst, c.src)].append(c.demand_gbps)
            pairs = {(a, b) for _, a, b in side}
            ok, h = True, {}
            for a, b in pairs:
                rd, wr = side.get(("read", a, b), []), side.get(("write", a, b), [])
                if len(rd) != 1 or len(wr) != 1 or abs(rd[0] - wr[0]) > _tol(rd[0]):
                    ok = False
                    break
                h[(a, b)] = min(rd[0], wr[0])
            if ok:
                out.append((h, mult))
        return out

    def _unpaired(self, group: list[Commodity]) -> tuple[dict, dict]:
        """Fallback for pairs that do not pair up: only what is carried both ways counts."""
        flow = defaultdict(float)
        for c in group:
            flow[(c.src, c.dst)] += c.total_gbps
        h = {}
        for (x, y), v in flow.items():
            if self.ds.sites.at[x, "storage"] and self.ds.sites.at[y, "gpu"]:
                h[(x, y)] = min(v, flow.get((y, x), 0.0))
        return h, {}

    def _storage_sites(self, h: dict[tuple[str, str], float]) -> list[Violation]:
        dem = self.s.demand
        per_rack, per_pb = dem.storage_gbps_per_rack, dem.storage_gbps_per_pb or 0.0
        into, out = defaultdict(float), defaultdict(float)
        for (a, b), v in h.items():
            into[b] += v
            out[a] += v
        found = []
        local = {}
        for b, n in sorted(self.rack_count.items()):
            need = per_rack * n
            if need <= 0:
                continue
            short = need - into[b]
            if short > _tol(need, abs_tol=1e-5) and self.pb[b] <= 1e-9:
                found.append(
                    Violation(
                        "traffic",
                        f"GPU site {b}",
                        f"storage bandwidth from other sites {_f(into[b])} Gbps < "
                        f"storage_gbps_per_rack × racks {_f(need)} Gbps and no storage on site",
                    )
                )
            local[b] = max(0.0, short) if self.pb[b] > 1e-9 else 0.0
        for a in sorted(set(out) | {s for s, v in local.items() if v > 0}):
            serve, cap = out[a] + local.get(a, 0.0), per_pb * self.pb.get(a, 0.0)
            if serve > cap + _tol(serve, cap, abs_tol=1e-5):
                found.append(
                    Violation(
                        "traffic",
                        f"storage site {a}",
                        f"serves {_f(serve)} Gbps ({_f(out[a])} to other sites + "
                        f"{_f(local.get(a, 0.0))} on site) > storage_gbps_per_pb × PB {_f(cap)}",
                    )
                )
        return found

    def _protection(self, coms: list[Commodity]) -> None:
        le = self._cmp("traffic")[1]
        res = self.s.resilience
        diverse = res.link_protection == "diverse"
        usable = [
            r
            for r in self.ds.routes.index
            if self.ds.routes.at[r, "medium"] not in set(self.s.network.exclude_media)
        ]
        failures = route_failures(self.ds.routes, usable)
        for c in coms:
            if c.kind == "demand":
                d = c.id.removeprefix("demand:")
                prot = (
                    diverse
                    and res.protected_share > 0
                    and d in self.ds.demands.index
                    and self.ds.demands.at[d, "protected"]
                )
            else:
                prot = diverse and res.protected_share > 0
            flagged = {p.protected for p in c.paths}
            self.r.count("traffic")
            if flagged != {int(bool(prot))}:
                self.r.fail(
                    "traffic",
                    c.name,
                    f"protected column is {sorted(flagged)}, the settings say {int(bool(prot))}",
                )
            if not prot or res.protected_share <= 0:
                continue
            need = res.protected_share * c.demand_gbps * c.multiplicity
            used = frozenset().union(*(p.routes for p in c.paths))
            for f, cut in failures.items():
                if not used.intersection(cut):
                    continue
                alive = sum(p.gbps for p in c.paths if not p.routes.intersection(cut))
                le(
                    f"{c.name} under failure {f}",
                    "protected_share × demand > flow on paths avoiding it",
                    need,
                    alive,
                    _tol(need, abs_tol=1e-5),
                )

    def routers(self) -> None:
        eq, le = self._cmp("routers")
        rep, routers = self.r, self.ds.routers
        n_min = self.s.resilience.min_routers_per_site
        for s, row in self.d.sites.iterrows():
            counts = self.router_counts[s]
            n = sum(counts.values())
            obj = f"site {s}"
            eq(obj, "routers (Σ router_models)", row["routers"], n, 0)
            if n and self.open[s] != 1:
                rep.count("routers")
                rep.fail("routers", obj, f"{n} routers at a closed site")
            links = self._site_links(s)
            if not links:
                continue
            lts = self.ds.link_types
            ports = sum(lts.at[t, "ports"] * u for _, t, u in links if t in lts.index)
            gbps = sum(lts.at[t, "capacity_gbps"] * u for _, t, u in links if t in lts.index)
            have_ports = sum(routers.at[m, "ports"] * k for m, k in counts.items())
            have_gbps = sum(routers.at[m, "capacity_gbps"] * k for m, k in counts.items())
            lit = ", ".join(sorted({r for r, _, _ in links}))
            le(obj, f"ports of units on {lit} > router ports", ports, have_ports, 0)
            le(obj, f"Gbps of units on {lit} > router capacity_gbps", gbps, have_gbps, _tol(gbps))
            le(obj, "min_routers_per_site > routers", n_min, n, 0)
            deep = 0.0
            for r, t, u in links:
                over = lts.at[t, "deep_buffer_over_km"] if t in lts.index else None
                if over is not None and not pd.isna(over) and self.ds.routes.at[r, "km"] > over:
                    deep += lts.at[t, "ports"] * u
            if deep > 0:
                have = sum(
                    routers.at[m, "ports"] * k
                    for m, k in counts.items()
                    if routers.at[m, "deep_buffer"]
                )
                le(
                    obj,
                    "ports of units past deep_buffer_over_km > ports of deep-buffer routers",
                    deep,
                    have,
                    0,
                )

    def costs(self) -> None:
        eq = self._cmp("costs")[0]
        ds, econ = self.ds, self.s.economics
        crf = {c: econ.crf(c) for c in ("site", "cooling", "router", "optics")}
        parts: dict[str, float] = defaultdict(float)
        capex = slack = capex_slack = 0.0
        reported = 0.0
        for s, row in self.d.sites.iterrows():
            site = ds.sites.loc[s]
            fac, it = row["facility_kw"], row["it_kw"]
            fac, it = (0.0 if pd.isna(fac) else fac), (0.0 if pd.isna(it) else it)
            opening = 0.0 if site["existing"] else site["open_capex_usd"] * self.open[s]
            method = row["cooling"]
            per_kw = (
                ds.cooling.at[method, "capex_usd_per_kw"] if method in ds.cooling.index else 0.0
            )
            router_capex = sum(
                ds.routers.at[m, "capex_usd"] * n for m, n in self.router_counts[s].items()
            )
            carbon_k = econ.carbon_usd_per_t * HOURS_PER_YEAR_K * site["carbon_kg_per_mwh"] / 1000
            mine = {
                "sites": crf["site"] * (opening + site["build_usd_per_kw"] * fac),
                "cooling": crf["cooling"] * per_kw * it,
                "routers": crf["router"] * router_capex,
                "energy": HOURS_PER_YEAR_K * site["energy_usd_per_mwh"] * fac,
                "carbon": carbon_k * fac,
            }
            d_fac = (
                crf["site"] * site["build_usd_per_kw"]
                + HOURS_PER_YEAR_K * site["energy_usd_per_mwh"]
                + carbon_k
            )
            tol = _tol(sum(mine.values()), abs_tol=0.01 + WATT * (d_fac + crf["cooling"] * per_kw))
            slack += tol
            eq(f"site {s}", "annual_cost_usd", row["annual_cost_usd"], sum(mine.values()), tol)
            reported += 0.0 if pd.isna(row["annual_cost_usd"]) else row["annual_cost_usd"]
            for k, v in mine.items():
                parts[k] += v
            one_time = opening + site["build_usd_per_kw"] * fac + per_kw * it + router_capex
            capex += one_time
            tol = _tol(one_time, abs_tol=0.01 + WATT * (site["build_usd_per_kw"] + per_kw))
            capex_slack += tol
            if "capex_usd" in row and not pd.isna(row["capex_usd"]):
                eq(f"site {s}", "capex_usd", row["capex_usd"], one_time, tol)
        links_by_route = dict(list(self.d.links.groupby("route")))
        for r in sorted(set(links_by_route) | set(self.route_flow) | {r for r, _ in self.units}):
            route = ds.routes.loc[r]
            units = {t: n for (rr, t), n in self.units.items() if rr == r}
            lit = any(n > 0 for n in units.values())
            mine = defaultdict(float)
            mine["routes"] = crf["site"] * route["build_capex_usd"] * lit
            mine["flow"] = route["flow_usd_per_gbps_year"] * self.route_flow.get(r, 0.0)
            for t, n in units.items():
                opt = self._type(r, t)
                mine["optics"] += crf["optics"] * opt["capex_usd"] * n
                mine["link_opex"] += opt["opex_usd_per_year"] * n
                capex += opt["capex_usd"] * n
            capex += route["build_capex_usd"] * lit
            for k, v in mine.items():
                parts[k] += v
            rows = links_by_route.get(r)
            tol = _tol(sum(mine.values()), abs_tol=0.01 * (1 + len(units)))
            slack += tol
            if rows is not None and "annual_cost_usd" in rows:
                got = rows["annual_cost_usd"].fillna(0.0).sum()
                reported += got
                eq(f"route {r}", "Σ links.csv annual_cost_usd", got, sum(mine.values()), tol)
        capex_slack += 0.01 * len(links_by_route)
        self._summary(parts, capex, slack, capex_slack, reported)

    def _summary(
        self,
        parts: dict[str, float],
        capex: float,
        slack: float,
        capex_slack: float,
        reported: float,
    ) -> None:
        eq = self._cmp("costs")[0]
        sm = self.d.summary
        sites = self.d.sites
        annual = sum(parts.values())
        n_rows = len(sites) + len(self.d.links)

        def check(col: str, want: float, tol: float) -> None:
            optional = col not in REQUIRED["summary.csv"].split()
            if col in sm and not (pd.isna(sm[col]) and optional):
                eq("summary.csv", col, sm[col], want, tol)

        check("annual_cost_usd", annual, slack + _tol(annual))
        if "annual_cost_usd" in self.d.links.columns:
            eq(
                "summary.csv",
                "annual_cost_usd (vs Σ sites + Σ links annual_cost_usd)",
                sm["annual_cost_usd"],
                reported,
                _tol(reported, abs_tol=0.01 + CENT * n_rows),
            )
        for p in COST_PARTS:
            check(f"annual_{p}_usd", parts[p], slack + _tol(parts[p]))
        fac = sites["facility_kw"].fillna(0.0).sum()
        power_mw = fac / 1000.0
        check("capex_usd", capex, capex_slack + _tol(capex))
        check("opex_usd_per_year", parts["link_opex"] + parts["flow"], slack + 0.01)
        check("energy_usd_per_year", parts["energy"], slack + 0.01)
        check("carbon_usd_per_year", parts["carbon"], slack + 0.01)
        weight = self.s.economics.power_weight_usd_per_mw_year
        check(
            "objective",
            annual + weight * power_mw,
            slack + _tol(annual) + weight * WATT * len(sites) / 1000,
        )
        check("power_mw", power_mw, _tol(power_mw, abs_tol=1e-6 + WATT * len(sites) / 1000))
        it_mw = sites["it_kw"].fillna(0.0).sum() / 1000.0
        check("it_power_mw", it_mw, _tol(it_mw, abs_tol=1e-6 + WATT * len(sites) / 1000))
        net = (
            sum(
                self.ds.routers.at[m, "power_kw"] * n
                for c in self.router_counts.values()
                for m, n in c.items()
            )
            + sum(self._type(r, t)["power_w"] * n for (r, t), n in self.units.items()) / 1000.0
        )
        check("network_power_kw", net, _tol(net))
        check("gpu_sites", sum(1 for n in self.rack_count.values() if n > 0), 0)
        check("storage_sites", sum(1 for v in self.pb.values() if v > 1e-6), 0)
        check("routes_lit", len(self.lit), 0)
        check("units", sum(self.units.values()), 0)
        check("routers", sum(sum(c.values()) for c in self.router_counts.values()), 0)
        check("gpu_racks", sum(self.rack_count.values()), 0)
        rack_capex = sum(self.rack_count.values()) * self.s.demand.rack_capex_usd
        check("rack_capex_usd", rack_capex, _tol(rack_capex, abs_tol=0.01))


def verify(result_dir: str | Path, data_dir: str | Path | None = None) -> Report:
    """Every check of a design; the report holds the violations and comparison counts.
    Raises InputError when a file is missing or unreadable."""
    ds = load_result_dataset(Path(result_dir), data_dir)
    report = Report()
    design = read_design(result_dir, ds, report)
    report.notes.extend(_changed_inputs(ds, design.run))
    _run_checks(ds, design, report)
    log.info(
        "verify %s: %d comparisons, %d violations",
        result_dir,
        sum(report.comparisons.values()),
        len(report.violations),
    )
    return report


def verify_design(result_dir: str | Path, data_dir: str | Path | None = None) -> list[Violation]:
    """The rules of MODEL.md the design in ``result_dir`` breaks (empty: none).

    The data set and scenario come from ``run.json`` unless ``data_dir`` is given."""
    return verify(result_dir, data_dir).violations


def verify_tables(ds: Dataset, tables: Any) -> list[Violation]:
    """The same checks on result tables in memory (``model.extract.Tables``), e.g. before
    they are written."""
    report = Report()
    return _run_checks(ds, read_design(Path("."), ds, report, tables), report).violations


def _run_checks(ds: Dataset, design: Design, report: Report) -> Report:
    checker = _Verifier(ds, design, report)
    for family in CHECKS[1:]:  # "results" is checked while reading
        getattr(checker, family)()
    return report


def resolved_commodities(ds: Dataset, design: Design) -> list[Commodity]:
    """The design's commodities, with same-named storage commodities resolved as the
    traffic check resolves them (module doc, "Storage roles")."""
    checker = _Verifier(ds, design, Report())
    coms = commodities(design.paths)
    checker._storage([c for c in coms if c.kind == "storage"])
    return coms


def _changed_inputs(ds: Dataset, run: dict[str, Any]) -> list[str]:
    """A note when the data set's files differ from those the result was solved from."""
    hashes = run.get("inputs_sha256") or {}
    changed = [
        name
        for name, digest in sorted(hashes.items())
        if not (ds.path / name).is_file()
        or hashlib.sha256((ds.path / name).read_bytes()).hexdigest() != digest
    ]
    if not changed:
        return []
    return [
        f"data set {ds.path} changed since the run ({', '.join(changed)}): the design is "
        "checked against the data as it is now"
    ]


def main(argv: list[str] | None = None) -> int:
    """``solve.py verify RESULT_DIR [--data DATASET_DIR]``: 0 no violation, 5 violations,
    2 a file is missing or unreadable."""
    p = argparse.ArgumentParser(
        prog="solve.py verify",
        description="Check a written design against every rule of the model, independently "
        "of the solver: from the result CSVs and the data set only.",
        epilog="Exit codes: 0 the design keeps every rule; 5 the design violates a rule; "
        "2 a result or data file is missing or unreadable.",
    )
    p.add_argument("result_dir", type=Path, help="results/<data set>/<scenario>/ folder")
    p.add_argument("--data", type=Path, help="data set folder (default: data_dir of run.json)")
    args = p.parse_args(argv)
    try:
        report = verify(args.result_dir, args.data)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    n_checks, n_cmp = len(report.comparisons), sum(report.comparisons.values())
    if not report.violations:
        print(f"OK: {args.result_dir}: no violation ({n_checks} checks, {n_cmp} comparisons)")
        return EXIT_OK
    width = max(len(v.check) for v in report.violations)
    for v in report.violations:
        print(f"{v.check:<{width}}  {v.objects}: {v.message}")
    by_check = Counter(v.check for v in report.violations)
    summary = ", ".join(f"{c} {n}" for c, n in sorted(by_check.items()))
    print(
        f"{len(report.violations)} violation(s) ({summary}) in {args.result_dir}; "
        f"{n_checks} checks, {n_cmp} comparisons"
    )
    return EXIT_VIOLATION
