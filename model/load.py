"""Load and validate a data set folder (MODEL.md §1).

Every problem is collected first and raised together as one :class:`InputError`, one line
per problem naming the file, the row (data rows count from 1; line = row + 1 because of
the header), the row's id, the column, the bad value and what was expected.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from model import schema
from model.config import Settings, apply_overrides, parse_settings, read_settings, settings_keys
from model.errors import InputError
from model.schema import Column, Table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """A validated data set with the effective settings of one scenario."""

    name: str
    path: Path
    scenario: str
    settings: Settings
    raw_settings: dict[str, Any]
    overrides: dict[str, Any]
    sites: pd.DataFrame  # index: site
    routes: pd.DataFrame  # index: route id
    link_types: pd.DataFrame  # index: type
    offers: pd.DataFrame  # one row per (route, type) offered
    routers: pd.DataFrame  # index: model
    cooling: pd.DataFrame  # index: method
    demands: pd.DataFrame  # index: demand id
    scenarios: pd.DataFrame  # raw text, index: scenario
    routes_generated: bool = False


class Problems:
    """Collects validation problems; raises them all at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def at(self, file: str, row: int | None, ident: str, column: str, msg: str) -> None:
        where = file if row is None else f"{file} row {row} (line {row + 1}{ident})"
        self.add(f"{where}, column {column}: {msg}")

    def raise_if_any(self, what: str) -> None:
        if self.lines:
            n = len(self.lines)
            raise InputError(f"{what}: {n} problem{'s' if n > 1 else ''}", self.lines)


def _read_csv(path: Path, problems: Problems) -> pd.DataFrame | None:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        problems.add(f"{path.name}: cannot be read as CSV ({exc})")
        return None
    df.columns = [str(c).strip() for c in df.columns]
    return df.apply(lambda s: s.str.strip())


def _parse_cell(col: Column, text: str) -> tuple[Any, str | None]:
    """Return (value, None) or (None, error message) for one non-empty cell."""
    if col.kind in ("id", "str"):
        return text, None
    if col.kind == "list":
        return tuple(sorted({p.strip() for p in text.split(";") if p.strip()})), None
    if col.kind == "bool":
        if text in ("0", "1"):
            return text == "1", None
        return None, f"value {text!r} is not {col.expectation()}"
    try:
        value = float(text)
    except ValueError:
        return None, f"value {text!r} is not {col.expectation()}"
    if not math.isfinite(value):
        return None, f"value {text!r} is not {col.expectation()}"
    if col.kind == "int":
        if value != int(value):
            return None, f"value {text!r} is not {col.expectation()}"
        value = int(value)
    too_low = col.min is not None and (value <= col.min if col.min_exclusive else value < col.min)
    too_high = col.max is not None and value > col.max
    if too_low or too_high:
        return None, f"value {text!r} is not {col.expectation()}"
    return value, None


def parse_table(table: Table, df: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Type every declared column of ``df``; missing optional columns get their default."""
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
    for name in missing:
        problems.add(f"{table.file}: required column {name!r} is missing")
    if missing:
        return pd.DataFrame(columns=[c.name for c in table.columns])
    id_col = table.key[0] if table.key else table.columns[0].name
    records: list[dict[str, Any]] = []
    for i, row in enumerate(df.to_dict("records"), start=1):
        ident = f", {id_col} {row.get(id_col, '')!r}" if row.get(id_col, "") else ""
        rec: dict[str, Any] = {}
        for col in table.columns:
            text = row.get(col.name, "")
            if text == "":
                if col.required:
                    problems.at(
                        table.file, i, ident, col.name, f"is empty; expected {col.expectation()}"
                    )
                rec[col.name] = col.default
                continue
            value, err = _parse_cell(col, text)
            if err:
                problems.at(table.file, i, ident, col.name, err)
            rec[col.name] = value
        if table is schema.SCENARIOS:  # overrides stay text; pydantic types them per key
            rec.update({k: v for k, v in row.items() if k not in rec})
        rec["src_row"] = i
        records.append(rec)
    columns = [c.name for c in table.columns] + ["src_row"]
    if table is schema.SCENARIOS:
        columns += [c for c in df.columns if c not in columns]
    out = pd.DataFrame.from_records(records, columns=columns)
    for key in table.key:
        dup = out[key][out[key].duplicated(keep="first")]
        for idx, value in dup.items():
            problems.at(
                table.file,
                int(out.at[idx, "src_row"]),
                "",
                key,
                f"duplicate id {value!r}; ids must be unique",
            )
    return out


def _load_table(folder: Path, table: Table, problems: Problems) -> pd.DataFrame | None:
    path = folder / table.file
    if not path.exists():
        if table.required_file:
            problems.add(f"{table.file}: required file is missing from {folder}")
        return None
    df = _read_csv(path, problems)
    if df is None:
        return None
    return parse_table(table, df, problems)


def _scenario_overrides(
    scenarios: pd.DataFrame | None, scenario: str, problems: Problems
) -> dict[str, Any]:
    if scenario == "base" and (scenarios is None or "base" not in set(scenarios["scenario"])):
        return {}
    if scenarios is None:
        problems.add(f"scenarios.csv: file is missing, so scenario {scenario!r} is unknown")
        return {}
    rows = scenarios[scenarios["scenario"] == scenario]
    if rows.empty:
        known = ", ".join(scenarios["scenario"]) or "none"
        problems.add(f"scenarios.csv: no scenario {scenario!r} (known: {known})")
        return {}
    row = rows.iloc[0]
    return {k: v for k, v in row.items() if k not in ("scenario", "src_row") and v != ""}


def check_scenario_columns(scenarios: pd.DataFrame, problems: Problems) -> None:
    """Every column of scenarios.csv must be a settings key in dotted form."""
    keys = settings_keys()
    for col in scenarios.columns:
        if col in ("scenario", "src_row") or col in keys:
            continue
        if any(col.startswith(k + ".") for k in keys):  # dict-valued key, e.g. latency table
            continue
        problems.add(
            f"scenarios.csv, column {col}: not a settings key; expected dotted form such as "
            "demand.gpu_racks or resilience.link_protection"
        )


def _effective_settings(
    raw: dict[str, Any], overrides: dict[str, Any], scenario: str, row: int | None
) -> Settings:
    merged = apply_overrides(raw, overrides)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        if not overrides:
            raise
        lines = []
        for err in exc.errors():
            dotted = ".".join(str(p) for p in err["loc"])
            where = f"row {row} (line {row + 1}, scenario {scenario!r})" if row else ""
            value = overrides.get(dotted, err.get("input"))
            lines.append(f"scenarios.csv {where}, column {dotted}: value {value!r}: {err['msg']}")
        raise InputError(f"scenario {scenario!r} is invalid", lines) from None


def load_dataset(path: str | Path, scenario: str = "base") -> Dataset:
    """Read, type and cross-check every table of the data set at ``path``."""
    from model.network import generate_routes  # graph work lives in model.network

    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"data set folder {folder} does not exist or is not a folder")
    problems = Problems()
    settings_path = folder / "settings.toml"
    raw: dict[str, Any] = {}
    if not settings_path.exists():
        problems.add(f"settings.toml: required file is missing from {folder}")
    else:
        raw = read_settings(settings_path)
    tables = {t.file: _load_table(folder, t, problems) for t in schema.TABLES}
    scenarios = tables["scenarios.csv"]
    problems.raise_if_any(f"data set {folder.name} is invalid")

    if scenarios is not None:
        check_scenario_columns(scenarios, problems)
    base_settings = parse_settings(raw)
    overrides = _scenario_overrides(scenarios, scenario, problems)
    problems.raise_if_any(f"data set {folder.name} is invalid")
    row = None
    if overrides and scenarios is not None:
        row = int(scenarios.loc[scenarios["scenario"] == scenario, "src_row"].iloc[0])
    settings = _effective_settings(raw, overrides, scenario, row) if overrides else base_settings

    sites = tables["sites.csv"]
    sites["zone"] = [z if z else s for s, z in zip(sites["site"], sites["zone"], strict=True)]
    sites = sites.set_index("site", drop=False)
    routes_generated = tables["routes.csv"] is None
    if routes_generated:
        routes = generate_routes(sites, settings.network)
        log.info("routes.csv absent: generated %d candidate routes", len(routes))
    else:
        routes = tables["routes.csv"]
    routes = _assign_route_ids(routes, problems)
    link_types = tables["link_types.csv"].set_index("type", drop=False)
    routers = tables["routers.csv"].set_index("model", drop=False)
    cooling = tables["cooling.csv"].set_index("method", drop=False)
    demands = _demand_ids(tables["demands.csv"], problems)
    offers = tables["offers.csv"]

    _cross_check(settings, sites, routes, link_types, routers, cooling, demands, problems)
    offers = _match_offers(offers, routes, link_types, problems)
    problems.raise_if_any(f"data set {folder.name} is invalid")

    return Dataset(
        name=folder.resolve().name,
        path=folder,
        scenario=scenario,
        settings=settings,
        raw_settings=raw,
        overrides=overrides,
        sites=sites,
        routes=routes,
        link_types=link_types,
        offers=offers,
        routers=routers,
        cooling=cooling,
        demands=demands,
        scenarios=scenarios if scenarios is not None else pd.DataFrame(columns=["scenario"]),
        routes_generated=routes_generated,
    )


def _assign_route_ids(routes: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    routes = routes.copy()
    seen: dict[str, int] = {}
    ids = []
    for a, b, given in zip(routes["a"], routes["b"], routes["route"], strict=True):
        if given:
            ids.append(given)
            continue
        base = f"{a}-{b}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    routes["route"] = ids
    for idx in routes.index[routes["route"].duplicated()]:
        problems.at(
            "routes.csv",
            int(routes.at[idx, "src_row"]),
            "",
            "route",
            f"duplicate route id {routes.at[idx, 'route']!r}",
        )
    return routes.set_index("route", drop=False)


def _demand_ids(demands: pd.DataFrame | None, problems: Problems) -> pd.DataFrame:
    if demands is None:
        demands = pd.DataFrame(columns=[c.name for c in schema.DEMANDS.columns] + ["src_row"])
    demands = demands.copy()
    ids, seen = [], {}
    for src, dst, given in zip(demands["src"], demands["dst"], demands["demand"], strict=True):
        base = given or f"{src}>{dst}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 or given else f"{base}#{seen[base]}")
    demands["demand"] = ids
    for idx in demands.index[demands["demand"].duplicated()]:
        problems.at(
            "demands.csv",
            int(demands.at[idx, "src_row"]),
            "",
            "demand",
            f"duplicate demand id {demands.at[idx, 'demand']!r}",
        )
    return demands.set_index("demand", drop=False)


def _cross_check(
    settings: Settings,
    sites: pd.DataFrame,
    routes: pd.DataFrame,
    link_types: pd.DataFrame,
    routers: pd.DataFrame,
    cooling: pd.DataFrame,
    demands: pd.DataFrame,
    problems: Problems,
) -> None:
    known = set(sites["site"])
    media = settings.network.latency_us_per_km
    media_list = ", ".join(sorted(media))
    for r in routes.itertuples():
        ident = f", route {r.route!r}"
        for end in ("a", "b"):
            if getattr(r, end) not in known:
                problems.at(
                    "routes.csv",
                    r.src_row,
                    ident,
                    end,
                    f"site {getattr(r, end)!r} is not in sites.csv",
                )
        if r.a == r.b:
            problems.at(
                "routes.csv", r.src_row, ident, "b", "a route must join two different sites"
            )
        if r.medium not in media:
            problems.at(
                "routes.csv",
                r.src_row,
                ident,
                "medium",
                f"medium {r.medium!r} is not a key of [network.latency_us_per_km] "
                f"in settings.toml (known: {media_list})",
            )
    for t in link_types.itertuples():
        if t.medium not in media:
            problems.at(
                "link_types.csv",
                t.src_row,
                f", type {t.type!r}",
                "medium",
                f"medium {t.medium!r} is not a key of [network.latency_us_per_km] "
                f"in settings.toml (known: {media_list})",
            )
    for d in demands.itertuples():
        ident = f", demand {d.demand!r}"
        for end in ("src", "dst"):
            if getattr(d, end) not in known:
                problems.at(
                    "demands.csv",
                    d.src_row,
                    ident,
                    end,
                    f"site {getattr(d, end)!r} is not in sites.csv",
                )
        if d.src == d.dst:
            problems.at("demands.csv", d.src_row, ident, "dst", "src and dst must differ")
    if cooling.empty:
        problems.add("cooling.csv: has no rows; at least one cooling method is needed")
    if routers.empty:
        problems.add("routers.csv: has no rows; at least one router model is needed")
    for s in sites.itertuples():
        for k in cooling.itertuples():
            if k.pue + s.pue_offset < 1.0:
                problems.at(
                    "sites.csv",
                    s.src_row,
                    f", site {s.site!r}",
                    "pue_offset",
                    f"value {s.pue_offset:g} makes {k.method!r} PUE "
                    f"{k.pue + s.pue_offset:.3f} < 1; a facility cannot draw "
                    "less than its IT load",
                )
        if settings.network.transit_pue + s.pue_offset < 1.0 and not (s.gpu or s.storage):
            problems.at(
                "sites.csv",
                s.src_row,
                f", site {s.site!r}",
                "pue_offset",
                f"value {s.pue_offset:g} makes the transit PUE < 1",
            )
    d = settings.demand
    wants_storage = d.gpu_racks > 0 and d.storage_gbps_per_rack > 0
    if wants_storage and d.storage_gbps_per_pb is None:
        problems.add(
            "settings.toml [demand] storage_gbps_per_pb: required when storage traffic is asked "
            "for (storage_gbps_per_rack > 0 and gpu_racks > 0)"
        )


def _match_offers(
    offers: pd.DataFrame | None,
    routes: pd.DataFrame,
    link_types: pd.DataFrame,
    problems: Problems,
) -> pd.DataFrame:
    cols = ["route", "type", "capex_usd", "opex_usd_per_year", "max_units"]
    if offers is None or offers.empty:
        return pd.DataFrame(columns=cols)
    by_ends: dict[tuple[frozenset[str], str], list[str]] = {}
    for r in routes.itertuples():
        by_ends.setdefault((frozenset((r.a, r.b)), r.medium), []).append(r.route)
    rows = []
    for o in offers.itertuples():
        ident = f", type {o.type!r}"
        if o.route:
            if o.route not in routes.index:
                problems.at(
                    "offers.csv",
                    o.src_row,
                    ident,
                    "route",
                    f"route {o.route!r} is not in routes.csv",
                )
                continue
            route = o.route
        else:
            matches = by_ends.get((frozenset((o.a, o.b)), o.medium), [])
            if not matches:
                problems.at(
                    "offers.csv",
                    o.src_row,
                    ident,
                    "a",
                    f"no route {o.a}-{o.b} of medium {o.medium!r} in routes.csv",
                )
                continue
            if len(matches) > 1:
                problems.at(
                    "offers.csv",
                    o.src_row,
                    ident,
                    "route",
                    f"{len(matches)} parallel routes {o.a}-{o.b} ({o.medium}) match; "
                    "name one in a 'route' column",
                )
                continue
            route = matches[0]
        if o.type not in link_types.index:
            problems.at(
                "offers.csv",
                o.src_row,
                ident,
                "type",
                f"link type {o.type!r} is not in link_types.csv",
            )
            continue
        if link_types.at[o.type, "medium"] != routes.at[route, "medium"]:
            problems.at(
                "offers.csv",
                o.src_row,
                ident,
                "type",
                f"type {o.type!r} runs on {link_types.at[o.type, 'medium']!r}, "
                f"route {route!r} is {routes.at[route, 'medium']!r}",
            )
            continue
        rows.append((route, o.type, o.capex_usd, o.opex_usd_per_year, o.max_units))
    out = pd.DataFrame(rows, columns=cols)
    for _, dup in out[out.duplicated(["route", "type"])].iterrows():
        problems.add(f"offers.csv: route {dup['route']!r} offers type {dup['type']!r} twice")
    return out
