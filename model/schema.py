"""Every input table's columns, declared once.

Validation (``model.load``), the data-format reference (``docs/data-format.md``, generated
by :func:`markdown_reference`) and the error messages all come from these declarations.
Column names are the public contract (docs/contract.md §1); extra columns in a file are allowed
and ignored unless declared here (one warning per file), except near misses of a declared
name (``max_power_MW``), which are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["id", "str", "float", "int", "bool", "list"]

NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
"""A number as the data may write it: plain ASCII decimal, optional exponent."""
NON_FINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)
"""What float() reads as NaN or infinity: recognised only to be refused."""
MAX_ABS = 1e15
"""Largest magnitude of any number in the data (HiGHS treats |x| ≥ 1e20 as infinite)."""
MAX_ABS_TEXT = "1e15"
MAX_CSV_MB = 100
"""Largest CSV file read, MB (a bigger one is refused before it is read)."""
MAX_SETTINGS_MB = 1
"""Largest settings.toml read, MB."""
MAX_SCENARIO_NAME = 100
MAX_LISTED = 50
"""Problems listed in one error; the rest are counted."""
TABLE_CAP = 200
"""Problems in one table after which checking that table stops."""
NAME_FORBIDDEN = ">;[]"
"""Characters no name (site, route, type, zone, ... id) may contain: '>' and ';' join
names in the results (paths, lists), '[' and ']' tag parallel routes in paths. Control and
invisible formatting characters are refused too."""
SCENARIO_NAME_RULE = (
    f"1 to {MAX_SCENARIO_NAME} characters: ASCII letters, digits, '_', '-' and '.', "
    "starting with a letter or digit (it names the results folder)"
)


@dataclass(frozen=True)
class Column:
    """One column: ``required`` means the cell may not be empty; else ``default`` applies."""

    name: str
    kind: Kind
    unit: str
    meaning: str
    required: bool = False
    default: Any = None
    min: float | None = None
    min_exclusive: bool = False
    max: float | None = None

    def expectation(self) -> str:
        """What a valid cell looks like, for error messages and docs."""
        base = {
            "id": "a non-empty name",
            "str": "a name",
            "float": "a number",
            "int": "a whole number",
            "bool": "0 or 1",
            "list": "names separated by ';'",
        }[self.kind]
        if self.min is not None:
            base += f" {'>' if self.min_exclusive else '≥'} {self.min:g}"
        if self.max is not None:
            base += f" and ≤ {self.max:g}"
        return base


@dataclass(frozen=True)
class Table:
    file: str
    meaning: str
    columns: tuple[Column, ...]
    required_file: bool
    key: tuple[str, ...] = ()
    row_noun: str = "row"  # what one row is, for "at least one ... is required"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PLAUSIBLE_MAX: dict[str, float] = {
    "MW": 1e5,  # 100 GW at one site
    "racks": 1e6,
    "units": 1e6,
    "ports": 1e6,
    "USD": 1e13,
    "USD/yr": 1e12,
    "USD/kW": 1e6,
    "USD/MWh": 1e5,
    "USD/Gbps/yr": 1e8,
    "kg/MWh": 1e4,
    "km": 4e4,  # once round the Earth
    "Gbps": 1e7,  # 10 Pb/s
    "W": 1e7,
    "kW": 1e6,
    "µs": 1e6,
    "ms": 1e4,
}
"""The largest value a column of each unit accepts, unless it declares its own ``max``: far
beyond any real design, and close enough that the model's coefficients stay within the range
a MILP solver handles (a link of 1e15 Gbps beside racks of 132 kW made HiGHS return designs
that broke the rules)."""


def _c(name: str, kind: Kind, unit: str, meaning: str, **kw: Any) -> Column:
    if kind in ("float", "int") and "max" not in kw and unit in PLAUSIBLE_MAX:
        kw["max"] = PLAUSIBLE_MAX[unit]
    return Column(name, kind, unit, meaning, **kw)


SITES = Table(
    "sites.csv",
    "candidate sites and transit nodes",
    (
        _c("site", "id", "", "site id", required=True),
        _c("lat", "float", "°", "latitude", required=True, min=-90, max=90),
        _c("lon", "float", "°", "longitude", required=True, min=-180, max=180),
        _c("zone", "str", "", "failure zone (empty: the site is its own zone)"),
        _c("gpu", "bool", "", "may host GPU racks", default=False),
        _c("storage", "bool", "", "may host storage", default=False),
        _c("existing", "bool", "", "already built: no open cost, always open", default=False),
        _c("max_power_mw", "float", "MW", "facility power cap (empty: none)", min=0),
        _c("max_racks", "int", "racks", "GPU rack cap (empty: none)", min=0),
        _c("open_capex_usd", "float", "USD", "one-time cost to open", default=0.0, min=0),
        _c(
            "build_usd_per_kw",
            "float",
            "USD/kW",
            "facility build per facility kW",
            default=0.0,
            min=0,
        ),
        _c("energy_usd_per_mwh", "float", "USD/MWh", "energy price", default=0.0, min=0),
        _c("carbon_kg_per_mwh", "float", "kg/MWh", "grid carbon intensity", default=0.0, min=0),
        _c(
            "pue_offset",
            "float",
            "",
            "climate adjustment added to every PUE",
            default=0.0,
            min=-1,
            max=10,
        ),
        _c(
            "available_year",
            "int",
            "year",
            "first year the site may be open, with periods.csv (contract §8; empty: always)",
            min=0,
            max=9999,
        ),
    ),
    required_file=True,
    key=("site",),
    row_noun="site",
)

ROUTES = Table(
    "routes.csv",
    "candidate fibre routes (undirected); generated from sites when absent",
    (
        _c("a", "id", "", "one end (a site)", required=True),
        _c("b", "id", "", "other end (a site)", required=True),
        _c("km", "float", "km", "route length", required=True, min=0, min_exclusive=True),
        _c("medium", "str", "", "key of [network.latency_us_per_km]", default="smf"),
        _c(
            "srlg", "list", "", "shared-risk groups ';'-separated (none: its own group)", default=()
        ),
        _c(
            "build_capex_usd",
            "float",
            "USD",
            "one-time cost to light the route",
            default=0.0,
            min=0,
        ),
        _c("max_units", "int", "units", "most channels on the route (empty: no limit)", min=0),
        _c("existing_gbps", "float", "Gbps", "capacity already in place, free", default=0.0, min=0),
        _c(
            "flow_usd_per_gbps_year",
            "float",
            "USD/Gbps/yr",
            "cost per Gbps carried",
            default=0.0,
            min=0,
        ),
        _c("route", "str", "", "route id (extension; default a-b, a-b#2 for parallels)"),
        _c("directed", "bool", "", "carries traffic from a to b only (extension)", default=False),
        _c(
            "macsec",
            "bool",
            "",
            "traffic leaves our control here: units land on MACsec routers at both ends "
            "(empty: 1 when the medium is in [network] macsec_media)",
        ),
    ),
    required_file=False,
)

LINK_TYPES = Table(
    "link_types.csv",
    "optical link options; one unit is one end-to-end channel",
    (
        _c("type", "id", "", "link type id", required=True),
        _c("medium", "str", "", "medium it runs on", default="smf"),
        _c(
            "capacity_gbps",
            "float",
            "Gbps",
            "capacity per unit, each direction",
            required=True,
            min=1e-3,
        ),
        _c(
            "reach_km",
            "float",
            "km",
            "longest route it may use",
            required=True,
            min=0,
            min_exclusive=True,
        ),
        _c("capex_usd", "float", "USD", "both ends' optics per unit", default=0.0, min=0),
        _c("opex_usd_per_year", "float", "USD/yr", "running cost per unit", default=0.0, min=0),
        _c("power_w", "float", "W", "both ends together per unit", default=0.0, min=0),
        _c("dsp_latency_us", "float", "µs", "DSP/FEC latency per traversal", default=0.0, min=0),
        _c("ports", "int", "ports", "router ports per unit at each end", default=1, min=0),
        _c(
            "deep_buffer_over_km",
            "float",
            "km",
            "beyond this route length both ends need deep-buffer routers (empty: never)",
            min=0,
        ),
        _c("stack", "str", "", "vendor stack (empty: fits every stack, e.g. a leased service)"),
    ),
    required_file=True,
    key=("type",),
    row_noun="link type",
)

OFFERS = Table(
    "offers.csv",
    "route-specific prices or limits for link types",
    (
        _c("a", "id", "", "one end of the route", required=True),
        _c("b", "id", "", "other end of the route", required=True),
        _c("medium", "str", "", "route medium (empty: smf)", default="smf"),
        _c("type", "id", "", "link type offered", required=True),
        _c("capex_usd", "float", "USD", "price per unit (empty: the type's)", min=0),
        _c(
            "opex_usd_per_year",
            "float",
            "USD/yr",
            "running cost per unit (empty: the type's)",
            min=0,
        ),
        _c("max_units", "int", "units", "most units of this type here (empty: no limit)", min=0),
        _c("route", "str", "", "route id (extension; disambiguates parallel routes)"),
    ),
    required_file=False,
)

ROUTERS = Table(
    "routers.csv",
    "router models",
    (
        _c("model", "id", "", "router model id", required=True),
        _c(
            "capacity_gbps",
            "float",
            "Gbps",
            "switching capacity",
            required=True,
            min=1e-3,
        ),
        _c("ports", "int", "ports", "line ports", required=True, min=0, min_exclusive=True),
        _c("capex_usd", "float", "USD", "price per router", default=0.0, min=0),
        _c("power_kw", "float", "kW", "power per router", default=0.0, min=0),
        _c("deep_buffer", "bool", "", "deep-buffer (long-distance lossless) model", default=False),
        _c("macsec", "bool", "", "encrypts at line rate (MACsec)", default=False),
        _c("stack", "str", "", "vendor stack (empty: fits every stack)"),
    ),
    required_file=True,
    key=("model",),
    row_noun="router model",
)

COOLING = Table(
    "cooling.csv",
    "cooling methods",
    (
        _c("method", "id", "", "cooling method id", required=True),
        _c(
            "max_rack_kw",
            "float",
            "kW",
            "densest rack it cools",
            required=True,
            min=0,
            min_exclusive=True,
        ),
        _c("pue", "float", "", "power usage effectiveness", required=True, min=1, max=10),
        _c("capex_usd_per_kw", "float", "USD/kW", "plant cost per IT kW", default=0.0, min=0),
    ),
    required_file=True,
    key=("method",),
    row_noun="cooling method",
)

DEMANDS = Table(
    "demands.csv",
    "explicit point-to-point traffic",
    (
        _c("src", "id", "", "source site", required=True),
        _c("dst", "id", "", "destination site", required=True),
        _c("gbps", "float", "Gbps", "bandwidth, src → dst", required=True, min=0),
        _c(
            "max_latency_ms",
            "float",
            "ms",
            "one-way latency bound (empty: none)",
            min=0,
            min_exclusive=True,
        ),
        _c("protected", "bool", "", "must survive any single failure", default=False),
        _c("demand", "str", "", "demand id (extension; default src>dst)"),
    ),
    required_file=False,
)

USERS = Table(
    "users.csv",
    "customer regions served by inference racks near them (contract §9)",
    (
        _c("region", "id", "", "region id", required=True),
        _c(
            "site",
            "id",
            "",
            "where the region's traffic enters the network (often a transit PoP)",
            required=True,
        ),
        _c(
            "racks",
            "int",
            "racks",
            "inference racks (of [demand] rack_kw) serving the region",
            required=True,
            min=0,
        ),
        _c(
            "gbps",
            "float",
            "Gbps",
            "traffic between the entry site and the region's racks, each direction",
            required=True,
            min=0,
        ),
        _c(
            "max_latency_ms",
            "float",
            "ms",
            "one-way latency bound entry site → serving site (empty: none)",
            min=0,
            min_exclusive=True,
        ),
        _c("protected", "bool", "", "its traffic must survive any single failure", default=False),
    ),
    required_file=False,
    key=("region",),
    row_noun="region",
)

SCENARIOS = Table(
    "scenarios.csv",
    "one row per scenario: settings overrides in dotted form",
    (
        _c(
            "scenario",
            "id",
            "",
            f"scenario name: {SCENARIO_NAME_RULE}; `base` is the settings without overrides",
            required=True,
        ),
    ),
    required_file=False,
    key=("scenario",),
)

PERIODS = Table(
    "periods.csv",
    "growth over time: one row per period, with the [demand] values in force (contract §8); "
    "any [demand] key may be a further column (an empty cell keeps the previous period's "
    "value)",
    (
        _c("period", "id", "", "period name", required=True),
        _c(
            "year",
            "int",
            "year",
            "first year of the period (strictly increasing)",
            required=True,
            min=0,
            max=9999,
        ),
        _c(
            "years",
            "int",
            "years",
            "how long the period lasts (empty: the next row's year minus this one; 1 for the "
            "last row)",
            min=1,
            max=1000,
        ),
        _c(
            "scenario",
            "str",
            "",
            "extension: the row belongs to this scenario only (a scenario with rows of its own "
            "takes those, the others the rows with an empty cell)",
        ),
    ),
    required_file=False,
    row_noun="period",
)

SITE_POWER = Table(
    "site_power.csv",
    "steps of a site's facility power cap over time (contract §8)",
    (
        _c("site", "id", "", "site id (of sites.csv)", required=True),
        _c("year", "int", "year", "first year of the new cap", required=True, min=0, max=9999),
        _c(
            "max_power_mw",
            "float",
            "MW",
            "the site's facility cap from that year on (replaces sites.csv max_power_mw)",
            required=True,
            min=0,
        ),
    ),
    required_file=False,
)

TABLES: tuple[Table, ...] = (
    SITES,
    ROUTES,
    LINK_TYPES,
    OFFERS,
    ROUTERS,
    COOLING,
    DEMANDS,
    USERS,
    SCENARIOS,
    PERIODS,
    SITE_POWER,
)


GENERAL_RULES = f"""\
Rules for every file (inputs that break them are refused with exit 2):

* UTF-8 text, comma-separated; at most {MAX_CSV_MB} MB per CSV, {MAX_SETTINGS_MB} MB for \
`settings.toml`.
* A regular file (a symbolic link to one is fine): a folder, pipe, socket, device or \
symlink loop in a file's place is an error and is never opened.
* Every required table has at least one data row.
* Numbers are plain decimals (`12`, `-0.5`, `1.5e6`), finite, of magnitude at most \
{MAX_ABS_TEXT} (the solver treats larger values as infinite); the same holds in \
`settings.toml` and `scenarios.csv`, where `true`/`false` is not a number.
* Names (ids, zones, media, route and demand ids, srlg groups) contain no \
{", ".join(f"`{c}`" for c in NAME_FORBIDDEN)} and no control or invisible formatting \
characters.
* A column whose name differs from a declared one only in case, `_`, `-` or spaces, or \
nearly (`max_power`), is an error; other extra columns are ignored with one warning per \
file.
* Error messages list the first {MAX_LISTED} problems and count the rest; checking a \
table stops after {TABLE_CAP} problems in it.
"""


def markdown_reference() -> str:
    """The column reference of every table, as Markdown (used for docs/data-format.md)."""
    out = [GENERAL_RULES]
    for table in TABLES:
        need = "required" if table.required_file else "optional"
        out.append(f"### `{table.file}` ({need}): {table.meaning}\n")
        out.append("| column | unit | required | default | valid values | meaning |")
        out.append("|---|---|---|---|---|---|")
        for col in table.columns:
            default = "" if col.default is None else str(col.default)
            if col.kind == "bool" and col.default is not None:
                default = str(int(col.default))
            if col.kind == "list":
                default = "(empty)"
            out.append(
                f"| `{col.name}` | {col.unit} | {'yes' if col.required else ''} | {default} "
                f"| {col.expectation()} | {col.meaning} |"
            )
        out.append("")
    return "\n".join(out)
