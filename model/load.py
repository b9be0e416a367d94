"""Load and validate a data set folder (docs/contract.md §1).

The files are read and typed by :mod:`model.tables`; this module applies the scenario's
overrides, cross-checks the tables against each other and assembles the :class:`Dataset`.
Every problem is collected first and raised together as one :class:`InputError`.
:attr:`Dataset.inputs_sha256` holds the sha256 of the bytes actually read.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from model import schema
from model.config import (
    Settings,
    apply_overrides,
    name_problem,
    parse_settings,
    settings_keys,
    shown_value,
)
from model.errors import InputError, escaped
from model.tables import (
    Problems,
    check_scenario_name,
    load_table,
    read_settings,
)

log = logging.getLogger(__name__)

__all__ = ["Dataset", "check_scenario_name", "load_dataset"]


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
    # users.csv (contract §9): index region; empty when the file is absent
    users: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[c.name for c in schema.USERS.columns])
    )
    # sha256 of every contract file read (settings.toml and the CSVs present), from the
    # bytes the loader read: the inputs a result was made from
    inputs_sha256: dict[str, str] = field(default_factory=dict)
    # contract §8, only with periods.csv: the periods in order (empty: a single-period run)
    periods: tuple[Period, ...] = ()
    # site_power.csv (contract §8): site, year, max_power_mw; empty when absent
    site_power: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["site", "year", "max_power_mw"])
    )


@dataclass(frozen=True)
class Period:
    """One row of periods.csv (contract §8) with the settings in force during it."""

    name: str
    year: int
    years: int
    settings: Settings
    row: int  # data row of periods.csv
    overrides: dict[str, Any] = field(default_factory=dict)  # the [demand] values in force


# --- scenarios and the whole data set ----------------------------------------------------


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
        names = list(scenarios["scenario"])
        known = ", ".join(names[:20]) + (f", … ({len(names)} in all)" if len(names) > 20 else "")
        problems.add(f"scenarios.csv: no scenario {scenario!r} (known: {known or 'none'})")
        return {}
    row = rows.iloc[0]
    return {k: v for k, v in row.items() if k not in ("scenario", "src_row") and v != ""}


def check_scenario_columns(scenarios: pd.DataFrame, problems: Problems) -> None:
    """Every column of scenarios.csv must be a settings key in dotted form."""
    keys = settings_keys()
    dict_keys = {k for k in keys if k.startswith("network.latency_us_per_km") or k == "sndlib"}
    for col in scenarios.columns:
        if col in ("scenario", "src_row") or col in keys:
            continue
        head, _, sub = col.rpartition(".")
        if head in dict_keys and sub and name_problem(sub) is None:  # e.g. a latency medium
            continue
        close = difflib.get_close_matches(col, sorted(keys), n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.add(
            f"scenarios.csv, column {escaped(col)}: not a settings key; expected dotted form "
            f"such as demand.gpu_racks or resilience.link_protection{hint}",
            "scenarios.csv",
        )


def _effective_settings(
    raw: dict[str, Any],
    overrides: dict[str, Any],
    scenario: str,
    row: int | None,
    line: int | None = None,
) -> Settings:
    where = f"row {row} (line {line or row + 1}, scenario {scenario!r})" if row else ""
    try:
        merged = apply_overrides(raw, overrides)
    except KeyError as exc:
        raise InputError(
            f"scenario {scenario!r} is invalid",
            [f"scenarios.csv {where}, column {escaped(exc.args[0])}: not a settings key"],
        ) from None
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            dotted = ".".join(escaped(p) for p in err["loc"])
            value = overrides.get(dotted, err.get("input"))
            shown = shown_value(value)
            lines.append(f"scenarios.csv {where}, column {dotted}: value {shown}: {err['msg']}")
        raise InputError(f"scenario {scenario!r} is invalid", lines) from None


def load_dataset(path: str | Path, scenario: str = "base") -> Dataset:
    """Read, type and cross-check every table of the data set at ``path``."""
    from model.network import generate_routes  # graph work lives in model.network

    problem = check_scenario_name(scenario)
    if problem:
        raise InputError(problem)
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(
            f"data set folder {escaped(folder, 200)} does not exist or is not a folder"
        )
    problems = Problems()
    hashes: dict[str, str] = {}
    raw = read_settings(folder, problems, hashes)
    tables = {t.file: load_table(folder, t, problems, hashes) for t in schema.TABLES}
    scenarios = tables["scenarios.csv"]
    problems.raise_if_any(f"data set {escaped(folder.name)} is invalid")

    if scenarios is not None:
        check_scenario_columns(scenarios, problems)
    base_settings = parse_settings(raw)
    overrides = _scenario_overrides(scenarios, scenario, problems)
    problems.raise_if_any(f"data set {escaped(folder.name)} is invalid")
    row = line = None
    if overrides and scenarios is not None:
        row = int(scenarios.loc[scenarios["scenario"] == scenario, "src_row"].iloc[0])
        line = problems.line_of("scenarios.csv", row)
    settings = (
        _effective_settings(raw, overrides, scenario, row, line) if overrides else base_settings
    )

    sites = tables["sites.csv"]
    # an empty zone (read as NaN, which is truthy) is the site's own zone
    sites["zone"] = [
        z if isinstance(z, str) and z else s
        for s, z in zip(sites["site"], sites["zone"], strict=True)
    ]
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
    users = _users(tables["users.csv"], sites, problems)
    if not settings.demand.serve_users:  # checked above, not served in this scenario
        users = users.iloc[0:0]

    def where(key: str) -> str:  # where a [network] key got its value
        if row and f"network.{key}" in overrides:
            return f"scenarios.csv row {row} (line {line}, scenario {scenario!r}), column network."
        return "settings.toml [network] "

    link_types, routers = _stacks(settings, link_types, routers, where("stacks"), problems)
    routes = _macsec(settings, routes, where("macsec_media"), problems)
    offers = _match_offers(offers, routes, link_types, problems)
    site_power = _site_power(tables["site_power.csv"], sites, problems)
    periods = _periods(tables["periods.csv"], raw, overrides, scenario, sites, problems)
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
        inputs_sha256=hashes,
        users=users,
        periods=periods,
        site_power=site_power,
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
    media_list = ", ".join(escaped(m) for m in sorted(media))
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


def _users(users: pd.DataFrame | None, sites: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Contract §9: the entry site is a site of sites.csv; a region with traffic has racks
    (its traffic is split over its racks)."""
    if users is None:
        return pd.DataFrame(columns=[c.name for c in schema.USERS.columns]).set_index(
            "region", drop=False
        )
    for u in users.itertuples():
        ident = f", region {u.region!r}"
        if u.site not in set(sites["site"]):
            problems.at(
                "users.csv", u.src_row, ident, "site", f"site {u.site!r} is not in sites.csv"
            )
        if u.racks == 0 and u.gbps > 0:
            problems.at(
                "users.csv",
                u.src_row,
                ident,
                "gbps",
                f"value {u.gbps:g} needs racks > 0: the traffic runs between the entry site "
                "and the region's inference racks",
            )
    return users.set_index("region", drop=False)


def _stacks(
    settings: Settings,
    link_types: pd.DataFrame,
    routers: pd.DataFrame,
    where: str,
    problems: Problems,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contract §11: an empty ``stack`` cell fits every stack; every stack listed in
    ``[network] stacks`` must be the stack of some router model or link type (a typo would
    otherwise leave only the stack-free ones)."""
    link_types, routers = link_types.copy(), routers.copy()
    link_types["stack"] = [x if isinstance(x, str) else "" for x in link_types["stack"]]
    routers["stack"] = [x if isinstance(x, str) else "" for x in routers["stack"]]
    known = sorted({x for x in [*link_types["stack"], *routers["stack"]] if x})
    for stack in settings.network.stacks:
        if stack not in known:
            close = difflib.get_close_matches(stack, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.add(
                f"{where}stacks: stack {escaped(stack)!r} is not the stack of any router model "
                f"(routers.csv) or link type (link_types.csv); known: "
                f"{', '.join(known) or 'none'}{hint}"
            )
    return link_types, routers


def _macsec(
    settings: Settings, routes: pd.DataFrame, where: str, problems: Problems
) -> pd.DataFrame:
    """Contract §10: a route's ``macsec`` where the cell is empty (or the column absent, or
    the routes generated) is 1 when its medium is in ``[network] macsec_media``."""
    net = settings.network
    for medium in net.macsec_media:
        if medium not in net.latency_us_per_km:
            known = ", ".join(escaped(m) for m in sorted(net.latency_us_per_km))
            problems.add(
                f"{where}macsec_media: medium {escaped(medium)!r} is not a key of "
                f"[network.latency_us_per_km] (known: {known})"
            )
    routes = routes.copy()
    given = routes["macsec"] if "macsec" in routes.columns else [None] * len(routes)
    media = set(net.macsec_media)
    medium = routes["medium"] if "medium" in routes.columns else ["smf"] * len(routes)
    routes["macsec"] = [
        bool(v) if v is not None and not pd.isna(v) else md in media
        for v, md in zip(given, medium, strict=True)
    ]
    return routes


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


# --- growth over periods (contract §8) ---------------------------------------------------


def _site_power(
    steps: pd.DataFrame | None, sites: pd.DataFrame, problems: Problems
) -> pd.DataFrame:
    """site_power.csv: every site is a site of sites.csv, one step per site and year."""
    if steps is None:
        return pd.DataFrame(columns=["site", "year", "max_power_mw"])
    for s in steps.itertuples():
        if s.site not in sites.index:
            problems.at(
                "site_power.csv",
                s.src_row,
                f", site {s.site!r}",
                "site",
                f"site {s.site!r} is not in sites.csv",
            )
    for idx in steps.index[steps.duplicated(["site", "year"])]:
        problems.at(
            "site_power.csv",
            int(steps.at[idx, "src_row"]),
            f", site {steps.at[idx, 'site']!r}",
            "year",
            f"a second step for the same site and year {steps.at[idx, 'year']}",
        )
    return steps.sort_values(["site", "year"]).reset_index(drop=True)


def _periods(
    rows: pd.DataFrame | None,
    raw: dict[str, Any],
    overrides: dict[str, Any],
    scenario: str,
    sites: pd.DataFrame,
    problems: Problems,
) -> tuple[Period, ...]:
    """periods.csv (contract §8): years strictly increasing, every further column a
    [demand] key, an empty cell keeps the previous period's value (the first period's:
    the scenario's settings), gpu_racks and storage_pb never decrease."""
    if rows is None:
        return ()
    file = "periods.csv"
    if "scenario" in rows.columns and rows["scenario"].notna().any():
        own = rows[rows["scenario"] == scenario]
        rows = own if len(own) else rows[rows["scenario"].isna()]
    if rows.empty:
        problems.add(f"{file}: no period for scenario {scenario!r}", file)
        return ()
    demand_keys = {k.split(".", 1)[1] for k in settings_keys() if k.startswith("demand.")}
    fixed = {"period", "year", "years", "scenario", "src_row"}
    extra = [c for c in rows.columns if c not in fixed]
    for col in extra:
        key = col.removeprefix("demand.")
        if key not in demand_keys:
            close = difflib.get_close_matches(key, sorted(demand_keys), n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.add(
                f"{file}, column {escaped(col)}: not a [demand] key of settings.toml{hint}", file
            )
    if problems.count:
        return ()
    for idx in rows.index[rows["period"].duplicated()]:
        problems.at(
            file,
            int(rows.at[idx, "src_row"]),
            "",
            "period",
            f"duplicate period {rows.at[idx, 'period']!r}",
        )
    out: list[Period] = []
    in_force: dict[str, Any] = {}
    records = rows.to_dict("records")
    for n, rec in enumerate(records):
        row = int(rec["src_row"])
        ident = f", period {rec['period']!r}"
        year = rec["year"]
        if year is None or pd.isna(year):
            continue  # reported by the table check
        year = int(year)
        if out and year <= out[-1].year:
            problems.at(
                file,
                row,
                ident,
                "year",
                f"value {year} is not after the previous period's year {out[-1].year}; "
                "years must increase strictly",
            )
            continue
        years = rec["years"]
        if years is None or pd.isna(years):
            nxt = records[n + 1]["year"] if n + 1 < len(records) else None
            years = int(nxt) - year if nxt is not None and not pd.isna(nxt) and nxt > year else 1
        changed = {}
        for col in extra:
            text = rec[col]
            if text is not None and text != "":
                changed[f"demand.{col.removeprefix('demand.')}"] = text
        merged_over = {**overrides, **in_force, **changed}
        try:
            settings = Settings.model_validate(apply_overrides(raw, merged_over))
        except ValidationError as exc:
            for err in exc.errors():
                dotted = ".".join(escaped(p) for p in err["loc"])
                col = dotted.removeprefix("demand.")
                value = merged_over.get(dotted, err.get("input"))
                problems.at(file, row, ident, col, f"value {shown_value(value)}: {err['msg']}")
            continue
        if out:
            prev = out[-1].settings.demand
            for key in ("gpu_racks", "storage_pb"):
                was, now = getattr(prev, key), getattr(settings.demand, key)
                if now < was:
                    problems.at(
                        file,
                        row,
                        ident,
                        key,
                        f"value {now:g} is below the previous period's {was:g}; "
                        f"{key} must not decrease (what is built stays built)",
                    )
        in_force.update(changed)
        out.append(Period(str(rec["period"]), year, int(years), settings, row, dict(in_force)))
    for s in sites.itertuples():
        year = getattr(s, "available_year", None)
        if year is not None and not pd.isna(year) and s.existing:
            problems.at(
                "sites.csv",
                s.src_row,
                f", site {s.site!r}",
                "available_year",
                "an existing site is open in every period; leave available_year empty",
            )
    return tuple(out)
