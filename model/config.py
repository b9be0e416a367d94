"""Typed settings (``settings.toml``), defaults in one place, scenario overrides.

Every key of contract §1 is a field here with its unit, default and meaning. Two
extensions are documented in ``docs/data-format.md``: ``[network] exclude_media`` and the
``[solver]`` table. Unknown keys are errors (a typo must not silently keep a default).
"""

from __future__ import annotations

import math
import tomllib
import types
import unicodedata
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from model.errors import InputError, escaped, quoted
from model.schema import MAX_ABS, MAX_ABS_TEXT, NAME_FORBIDDEN, NON_FINITE, NUMBER


def number_problem(value: float) -> str | None:
    """Why ``value`` is no usable number (non-finite, or beyond ±MAX_ABS); None if fine."""
    if not math.isfinite(value):
        return f"not a finite number; expected a number with |value| ≤ {MAX_ABS_TEXT}"
    if abs(value) > MAX_ABS:
        return (
            f"beyond the bound |value| ≤ {MAX_ABS_TEXT} (the solver treats larger numbers "
            "as infinite)"
        )
    return None


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name (site, route, zone, medium, ... id); None if fine."""
    bad = sorted({c for c in text if c in NAME_FORBIDDEN})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return (
            f"contains {shown}; names may not contain "
            f"{', '.join(repr(c) for c in NAME_FORBIDDEN)} (separators in the results)"
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text):
        return "contains a control or invisible formatting character"
    return None


def _is_number_type(ann: Any) -> bool:
    if ann in (int, float):
        return True
    if get_origin(ann) in (Union, types.UnionType):
        return any(_is_number_type(a) for a in get_args(ann) if a is not type(None))
    return False


def _check_number(value: Any) -> Any:
    """Refuse a bool where a number is expected, and non-finite or huge numbers (also
    when written as text, as in scenarios.csv); other values go on to pydantic."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    number = value
    if isinstance(value, str):
        text = value.strip()
        if not (NUMBER.fullmatch(text) or NON_FINITE.fullmatch(text)):
            return value
        number = float(value)
    if isinstance(number, int | float):
        problem = number_problem(float(number))
        if problem:
            raise ValueError(problem)
    return value


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _finite_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        ann = field.annotation
        if _is_number_type(ann):
            return _check_number(value)
        if get_origin(ann) is dict and isinstance(value, dict):
            args = get_args(ann)
            mixed = bool({bool, str} & set(get_args(args[1]))) if len(args) == 2 else False
            if len(args) == 2 and _is_number_type(args[1]) and not mixed:
                for key, item in value.items():
                    try:
                        _check_number(item)
                    except ValueError as exc:
                        raise ValueError(f"key {quoted(key)}: {exc}") from None
        return value


class Demand(_Section):
    gpu_racks: int = Field(0, ge=0, le=1e6, description="GPU racks to place in total")
    rack_kw: float = Field(132.0, gt=0, le=1e4, description="IT power of one GPU rack, kW")
    rack_capex_usd: float = Field(
        0.0, ge=0, le=1e9, description="capex of one rack, USD (reported, not in annual_cost_usd)"
    )
    storage_pb: float = Field(0.0, ge=0, le=1e6, description="usable storage to place, PB")
    storage_kw_per_pb: float = Field(0.0, ge=0, le=1e5, description="IT power per stored PB, kW/PB")
    storage_copies: int = Field(
        1, ge=1, le=10, description="copies of every PB, each in its own zone"
    )
    storage_gbps_per_rack: float = Field(
        0.0, ge=0, le=1e5, description="GPU-rack-to-storage bandwidth, Gbps each direction"
    )
    storage_gbps_per_pb: float | None = Field(
        None, gt=0, le=1e5, description="throughput one stored PB can serve, Gbps"
    )
    storage_latency_ms: float | None = Field(
        None,
        gt=0,
        le=1e4,
        description="max one-way latency GPU site → storage site, ms (empty: none)",
    )
    sync_gbps: float = Field(
        0.0,
        ge=0,
        le=1e7,
        description="scale-across bandwidth per GPU site pair, each direction, Gbps",
    )
    sync_latency_ms: float | None = Field(
        None, gt=0, le=1e4, description="max one-way latency between GPU sites, ms (empty: none)"
    )
    max_gpu_sites: int | None = Field(
        None, ge=1, le=1e5, description="most GPU sites (empty: no limit)"
    )
    min_racks_per_gpu_site: int = Field(1, ge=1, le=1e6, description="fewest racks at a GPU site")
    serve_users: bool = Field(
        True,
        description="serve the regions of users.csv (extension; false: the file is checked "
        "but not served, so scenarios can compare designs with and without users)",
    )
    replication_gbps_per_pb: float = Field(
        0.0,
        ge=0,
        le=1e5,
        description="replication each storage site sends per PB it holds to storage sites of "
        "other zones, Gbps/PB (0: off; only with storage_copies > 1)",
    )
    replication_latency_ms: float | None = Field(
        None,
        gt=0,
        le=1e4,
        description="max one-way latency of replication traffic, ms (empty: none)",
    )


class Resilience(_Section):
    link_protection: Literal["none", "diverse"] = Field(
        "none", description="'diverse': storage and sync traffic survive any single failure"
    )
    protected_share: float = Field(
        1.0, ge=0, le=1, description="share of a protected demand surviving any single failure"
    )
    zone_survival_share: float = Field(
        0.0, ge=0, le=1, description="share of GPU racks left after losing any one zone (0: off)"
    )
    min_routers_per_site: int = Field(
        1, ge=0, le=1000, description="routers at every site with a lit route"
    )


MAX_LIFETIME_YEARS = 100.0  # beyond a century the annuity is the interest alone
#: below about five weeks the annuity is not a yearly cost (1e-15 years gave a capital
#: recovery factor of 1e15 and a division by zero, found by the fuzz tests)
MIN_LIFETIME_YEARS = 0.1


class Lifetimes(_Section):
    site: float = Field(
        20.0,
        ge=MIN_LIFETIME_YEARS,
        le=MAX_LIFETIME_YEARS,
        description="years: sites, facility build, route lighting",
    )
    cooling: float = Field(
        15.0, ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS, description="years: cooling plant"
    )
    router: float = Field(
        5.0, ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS, description="years: routers"
    )
    optics: float = Field(
        5.0, ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS, description="years: link optics"
    )


class Economics(_Section):
    discount_rate: float = Field(0.08, ge=0, lt=1, description="real discount rate per year")
    lifetime_years: Lifetimes = Field(default_factory=Lifetimes)
    power_weight_usd_per_mw_year: float = Field(
        0.0, ge=0, le=1e9, description="extra objective weight on facility MW, USD/MW/year"
    )
    carbon_usd_per_t: float = Field(
        0.0, ge=0, le=1e5, description="carbon price, USD/t CO2 (0: off)"
    )

    def crf(self, asset_class: str) -> float:
        """Capital recovery factor i(1+i)^n/((1+i)^n−1); 1/n when i = 0. (n ≤ 100 and
        i < 1 keep (1+i)^n below 2^100.) Where i·n < 1e-4, (1+i)^n − 1 is taken as
        expm1(n·log1p(i)): where 1 + i rounds to 1 (i = 1e-17) the plain difference was 0,
        a division by zero. Above that the plain formula stays (its error is below 1e-12
        there): the two differ in the last bit, and a cost coefficient one bit off sends
        HiGHS down another search (200 generated sites: optimal in 400 s, or 2.49 % at
        600 s), so every other data set keeps the coefficients it always had."""
        n = getattr(self.lifetime_years, asset_class)
        i = self.discount_rate
        if i == 0:
            return 1.0 / n
        if i * n < 1e-4:
            rate = n * math.log1p(i)
            return i * math.exp(rate) / math.expm1(rate)
        growth = (1.0 + i) ** n
        return i * growth / (growth - 1.0)


class Network(_Section):
    route_factor: float = Field(1.25, ge=1, le=10, description="fibre km per great-circle km")
    candidate_k: int = Field(
        4, ge=1, le=1000, description="nearest neighbours per site in generated routes"
    )
    max_route_km: float = Field(1500.0, gt=0, le=4e4, description="longest generated route, km")
    paths_per_pair: int = Field(4, ge=1, le=1000, description="candidate paths per commodity")
    enumerate_paths_up_to: int = Field(
        128,
        ge=0,
        le=100_000,
        description="give path-routed commodities every simple path inside their bound when "
        "each has at most this many (then optimal over all paths); 0: off",
    )
    hop_latency_us: float = Field(
        5.0, ge=0, le=1e6, description="router traversal per intermediate site"
    )
    latency_us_per_km: dict[str, float] = Field(
        default_factory=lambda: {"smf": 4.9, "hcf": 3.46},
        description="propagation latency per medium, µs/km",
    )
    transit_pue: float = Field(
        1.5, gt=0, le=10, description="facility overhead factor at transit nodes"
    )
    capacity_sharing: Literal["duplex", "shared"] = Field(
        "duplex", description="'duplex': full capacity each direction; 'shared': both together"
    )
    exclude_media: tuple[str, ...] = Field(
        (), description="media whose routes may not be used (extension, e.g. ['hcf'])"
    )
    macsec_media: tuple[str, ...] = Field(
        (),
        description="media whose routes need MACsec at both ends where routes.csv macsec is "
        "empty or absent (e.g. ['apn'])",
    )
    stacks: tuple[str, ...] = Field(
        (),
        description="router and link-type stacks that may be placed, mixed freely (empty: "
        "all); models and types with an empty stack fit every stack",
    )

    @field_validator("latency_us_per_km")
    @classmethod
    def _positive_latency(cls, value: dict[str, float]) -> dict[str, float]:
        for medium, us in value.items():
            problem = name_problem(medium) or ("is empty" if not medium.strip() else None)
            if problem:
                raise ValueError(f"medium {quoted(medium)} {problem}")
            if not math.isfinite(us) or us < 0:
                raise ValueError(f"medium {quoted(medium)}: {us} is not a latency ≥ 0 µs/km")
        return value

    @field_validator("exclude_media", "macsec_media", "stacks", mode="before")
    @classmethod
    def _split_media(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(";") if m.strip())
        return value


#: Sets of more than this many sites are solved with two HiGHS threads (HiGHS's parallel
#: tree search) unless ``[solver] threads``, the scenario or ``--threads`` names a count.
#: Measured alone on 2 cores (docs/model.md): 100 generated sites at 300 s over seeds 0/1,
#: 7.21 % / 7.73 % → 4.63 % / optimal (seed 2 optimal too); 200 at 600 s over seeds 0/1/2,
#: optimal / 2.28 % / optimal → optimal / 1.77 % / optimal. Smaller sets solve at or near
#: the root, where a second thread adds nothing.
AUTO_THREADS_SITES = 80


class SolverSettings(_Section):
    """Extension: solver limits; ``solve.py`` flags override them."""

    time_limit_s: float = Field(300.0, gt=0, description="wall-clock limit of one solve, s")
    mip_gap: float = Field(1e-4, ge=0, description="relative MIP gap at which to stop")
    threads: int = Field(
        1,
        ge=1,
        description="solver threads (2 or more switch on HiGHS's parallel tree search); "
        f"sets of more than {AUTO_THREADS_SITES} sites get 2 when no count is named",
    )
    seed: int = Field(0, ge=0, description="solver random seed")
    name: str = Field(
        "highs",
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,40}$",
        description="MILP solver: highs (built in), or any solver Pyomo drives where "
        "installed (cbc, scip, glpk, gurobi, cplex, ...); the pricing LPs use HiGHS",
    )
    highs_options: dict[str, bool | int | float | str] = Field(
        default_factory=dict,
        description="more HiGHS options by HiGHS's own names, e.g. "
        "{ mip_heuristic_effort = 0.3 } (an unknown name or value stops the run)",
    )
    screen_gpu_sites: int | None = Field(
        None,
        ge=0,
        description="first design from a model restricted to this many GPU sites (the "
        "cheapest per rack, and in the cheapest one's zone enough besides it to hold the racks "
        "zone survival keeps outside another zone), as a MIP start for the full model; empty: 12 "
        "when more than 60 sites may host GPUs, else off; 0: off",
    )

    @field_validator("highs_options")
    @classmethod
    def _finite_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                try:
                    _check_number(item)
                except ValueError as exc:
                    raise ValueError(f"key {quoted(key)}: {exc}") from None
        return value

    def screen_keep(self, gpu_candidates: int) -> int:
        """GPU sites the first-design model keeps; 0 when screening is off."""
        if self.screen_gpu_sites is None:
            return 12 if gpu_candidates > 60 else 0
        return self.screen_gpu_sites


class Settings(_Section):
    demand: Demand = Field(default_factory=Demand)
    resilience: Resilience = Field(default_factory=Resilience)
    economics: Economics = Field(default_factory=Economics)
    network: Network = Field(default_factory=Network)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    sndlib: dict[str, Any] = Field(
        default_factory=dict, description="metadata of an imported SNDlib instance"
    )


def _error_lines(source: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = [escaped(p) for p in err["loc"]]
        where = f"[{loc[0]}] " + ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc)
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f": value {shown_value(value)}"
        lines.append(f"{source} {where}{shown}: {err['msg']}")
    return lines


def shown_value(value: Any) -> str:
    """A value for a message: quoted and escaped, cut when long."""
    if isinstance(value, str):
        return quoted(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def parse_settings(raw: dict[str, Any], source: str = "settings.toml") -> Settings:
    """Validate a settings mapping; every problem becomes one line of an InputError."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{source} is invalid", _error_lines(source, exc)) from None


def parse_toml(data: bytes, name: str = "settings.toml") -> dict[str, Any]:
    """The TOML text ``data`` (bytes as read) as a mapping; an InputError names the line
    of a non-UTF-8 byte or of a syntax error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(utf8_problem(name, data, exc)) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name} is not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{name} is not valid TOML: nested too deeply") from None


def utf8_problem(name: str, data: bytes, exc: UnicodeDecodeError) -> str:
    """``sites.csv line 5: byte 0xe9 at position 12 is not UTF-8; save the file as UTF-8``"""
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    position = start - (data.rfind(b"\n", 0, start) + 1) + 1
    return (
        f"{name} line {line}: byte 0x{data[start]:02x} at position {position} is not UTF-8; "
        "save the file as UTF-8"
    )


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``raw`` with dotted keys (``demand.gpu_racks``) replaced."""
    out = _deep_copy(raw)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise KeyError(dotted)
        node[parts[-1]] = value
    return out


def _deep_copy(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in raw.items()}


def settings_keys() -> set[str]:
    """Every dotted key a scenario may override (dictionary-valued keys take a sub-key)."""
    keys: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
            else:
                keys.add(f"{prefix}{name}")

    walk(Settings, "")
    return keys
