"""Read a written design back: the result CSVs, typed and tied to the data set.

Reads only ``summary``, ``sites``, ``links``, ``flows`` and ``run.json`` (or the same
tables in memory, through their CSV text). Rows that cannot be tied to the data (unknown
sites, routes, path hops) become ``results`` violations; a missing or unreadable file is
an :class:`~model.errors.InputError`.
"""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, escaped, quoted
from model.load import Dataset, check_scenario_name, load_dataset
from model.tables import read_input_file
from model.verify.violations import COST_PARTS, Report

DESIGNS = ("optimal", "feasible")  # summary.csv status of a written design
RESULT_LIMIT_BYTES = 2**30  # a result CSV larger than this is refused unread
RUN_LIMIT_BYTES = 2**24  # run.json
REQUIRED = {  # docs/contract.md §6 columns the checks read
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
    "sites.csv": "open gpu_racks inference_racks storage_pb it_kw facility_kw pue routers "
    "annual_cost_usd capex_usd",
    "links.csv": "km units capacity_gbps max_flow_gbps capex_usd power_w opex_usd_per_year "
    "annual_cost_usd",
    "flows.csv": "gbps latency_ms bound_ms protected demand_gbps",
    "users.csv": "racks gbps latency_ms",
}
#: Result tables written only when the run has them (users.csv: contract §9), with their
#: required columns; their numeric columns may not be empty.
OPTIONAL = {"users.csv": "region site serving_site racks gbps latency_ms"}


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
    users: pd.DataFrame | None = None  # users.csv result (contract §9), when written


def _read_csv(
    path: Path, problems: list[str], frame: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """One result table as text, typed column by column (``frame``: an in-memory table,
    read through its CSV text so that it is checked exactly like the file would be). A
    missing table of ``OPTIONAL`` is None without a problem."""
    optional = path.name in OPTIONAL
    if frame is None:
        try:
            data = read_input_file(path, RESULT_LIMIT_BYTES)
        except InputError as exc:
            problems.append(str(exc))
            return None
        if data is None:
            if not optional:
                problems.append(f"{path.name}: file is missing from {escaped(path.parent, 200)}")
            return None
        source: Any = io.BytesIO(data)
    else:
        source = io.StringIO(frame.to_csv(index=False))
    try:
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: cannot be read as CSV ({escaped(exc, 300)})")
        return None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip()) if len(df.columns) else df
    required = OPTIONAL[path.name] if optional else REQUIRED[path.name]
    missing = [c for c in required.split() if c not in df.columns]
    if missing:
        problems.append(f"{path.name}: required column(s) missing: {', '.join(missing)}")
        return None
    for col in NUMERIC[path.name].split():
        if col not in df.columns:
            continue
        text = df[col]
        num = pd.to_numeric(text.where(text != ""), errors="coerce")
        for i in df.index[num.isna() & ((text != "") | optional)]:
            problems.append(
                f"{path.name} row {i + 1} (line {i + 2}), column {col}: value {text[i]!r} "
                "is not a number"
            )
        df[col] = num.astype(float)
    return df


RUN_SHAPE = (
    "expected an object with data_dir (a string), scenario (a scenario name) and "
    "inputs_sha256 (file name to sha256), as solve.py writes it"
)


def read_run(result_dir: Path) -> dict[str, Any]:
    """``run.json`` of a result folder ({} when absent). Unreadable or malformed JSON (not
    an object, data_dir or scenario not text, ...) is an InputError naming the key."""
    path = Path(result_dir) / "run.json"
    data = read_input_file(path, RUN_LIMIT_BYTES)
    if data is None:
        return {}
    try:
        run = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"run.json: {RUN_SHAPE}; it is not valid JSON ({exc})") from None
    problem = _run_problem(run)
    if problem:
        raise InputError(f"run.json: {RUN_SHAPE}; {problem}")
    return run


def _run_problem(run: Any) -> str | None:
    """What is wrong with the shape of a parsed run.json, or None."""
    if not isinstance(run, dict):
        return f"found {_json_kind(run)}"
    for key in ("data_dir", "scenario"):
        if key in run and not isinstance(run[key], str):
            return f"{key} is {_json_kind(run[key])}"
    if isinstance(run.get("data_dir"), str) and ("\0" in run["data_dir"] or not run["data_dir"]):
        return f"data_dir {quoted(run['data_dir'])} is not a folder name"
    if "scenario" in run:
        problem = check_scenario_name(run["scenario"])
        if problem:
            return problem
    hashes = run.get("inputs_sha256", {})
    if hashes is not None and (
        not isinstance(hashes, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in hashes.items())
    ):
        return f"inputs_sha256 is {_json_kind(hashes)}, not an object of strings"
    return None


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    kind = "null" if value is None else kinds.get(type(value), "a number")
    shown = json.dumps(value)
    return f"{kind} {shown if len(shown) <= 40 else shown[:39] + '…'}"


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
        raise InputError(
            f"{escaped(result_dir, 200)}: run.json names no data_dir; pass --data DATASET_DIR"
        )
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
    users = _read_users(result_dir, tables, problems)
    if problems:
        raise InputError(f"results in {result_dir} cannot be read", problems)
    return Design(result_dir, run, summary, sites, links, flows, paths, users)


def _read_users(result_dir: Path, tables: Any, problems: list[str]) -> pd.DataFrame | None:
    """The users.csv result (contract §9) typed, or None when there is none."""
    frame = None if tables is None else getattr(tables, "users", None)
    if frame is None and tables is not None:
        return None
    return _read_csv(result_dir / "users.csv", problems, frame)


def _status(path: Path) -> str | None:
    """summary.csv's status, read leniently (None when there is none to read)."""
    try:
        data = read_input_file(path, RESULT_LIMIT_BYTES)
        if data is None:
            return None
        status = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False).get("status")
    except (InputError, OSError, ValueError, UnicodeDecodeError):
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
