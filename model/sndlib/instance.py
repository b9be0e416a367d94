"""An SNDlib instance as read: nodes, links, modules, demands, the problem variant
(the eight letters of a problem name and which of them the scaleacross model supports),
and the errors of an import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

MAX_SHOWN = 20  # problems listed in one error message
# Letters of a problem name, by position: (meaning, model-file key, value -> letter).
POSITIONS: tuple[tuple[str, str, MappingProxyType[str, str]], ...] = (
    ("demand model", "DEMAND_MODEL", MappingProxyType({"UNDIRECTED": "U", "DIRECTED": "D"})),
    (
        "link model",
        "LINK_MODEL",
        MappingProxyType({"UNDIRECTED": "U", "BIDIRECTED": "B", "DIRECTED": "D"}),
    ),
    (
        "link capacity model",
        "LINK_CAPACITY_MODEL",
        MappingProxyType(
            {
                "MODULAR_LINK_CAPACITIES": "M",
                "EXPLICIT_LINK_CAPACITIES": "E",
                "SINGLE_MODULAR_CAPACITIES": "S",
                "LINEAR_LINK_CAPACITIES": "L",
            }
        ),
    ),
    ("fixed-charge model", "FIXED_CHARGE_MODEL", MappingProxyType({"YES": "Y", "NO": "N"})),
    (
        "routing model",
        "ROUTING_MODEL",
        MappingProxyType({"CONTINUOUS": "C", "INTEGER": "I", "SINGLE_PATH": "S"}),
    ),
    (
        "admissible-path model",
        "ADMISSIBLE_PATH_MODEL",
        MappingProxyType({"ALL_PATHS": "A", "EXPLICIT_LIST": "E"}),
    ),
    (
        "hop-limit model",
        "HOP_LIMIT_MODEL",
        MappingProxyType({"IGNORE_HOP_LIMITS": "N", "INDIVIDUAL_HOP_LIMITS": "I"}),
    ),
    ("survivability model", "SURVIVABILITY_MODEL", MappingProxyType({"NO_SURVIVABILITY": "N"})),
)
SUPPORTED: tuple[str, ...] = ("UD", "UBD", "ME", "YN", "C", "A", "N", "N")
# Model-file keys that are not part of the name; only these values can be imported.
FIXED_KEYS = MappingProxyType(
    {"NODE_MODEL": "NO_NODE_HARDWARE", "OBJECTIVE_MODEL": "MINIMIZE_TOTAL_COST"}
)


class SndlibError(Exception):
    """An instance cannot be imported; the message says where and why (exit code 2)."""


class SndParseError(SndlibError):
    """A native file does not follow the SNDlib format; one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        shown = list(self.problems[:MAX_SHOWN])
        if len(self.problems) > MAX_SHOWN:
            shown.append(f"... and {len(self.problems) - MAX_SHOWN} more problems")
        super().__init__("\n".join(shown))


class UnsupportedVariant(SndlibError):
    """The problem variant asks for something the scaleacross model cannot express."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SndNode:
    """A node; ``x``/``y`` are SNDlib's coordinates (lon/lat for most networks)."""

    id: str
    x: float | None
    y: float | None
    line: int


@dataclass(frozen=True)
class SndModule:
    """A capacity module that can be installed on a link, any number of times."""

    capacity: float
    cost: float


@dataclass(frozen=True)
class SndLink:
    """A link; ``preinstalled_capacity_cost`` is the flat cost of the pre-installed capacity."""

    id: str
    source: str
    target: str
    preinstalled_capacity: float
    preinstalled_capacity_cost: float
    routing_cost: float
    setup_cost: float
    modules: tuple[SndModule, ...]
    line: int


@dataclass(frozen=True)
class SndDemand:
    """A demand; ``max_path_length`` is None for UNLIMITED."""

    id: str
    source: str
    target: str
    routing_unit: float
    value: float
    max_path_length: int | None
    line: int


@dataclass(frozen=True)
class SndNetwork:
    """One parsed network file (the ADMISSIBLE_PATHS section is skipped)."""

    name: str
    meta: tuple[tuple[str, str], ...]
    nodes: tuple[SndNode, ...]
    links: tuple[SndLink, ...]
    demands: tuple[SndDemand, ...]


@dataclass(frozen=True)
class Variant:
    """The eight letters of an SNDlib problem name, e.g. ``U-U-M-N-C-A-N-N``."""

    letters: tuple[str, ...]

    @classmethod
    def from_code(cls, code: str) -> Variant:
        """Read ``U-U-M-N-C-A-N-N``; raises UnsupportedVariant if it is not 8 letters."""
        letters = tuple(code.strip().upper().split("-"))
        if len(letters) != len(POSITIONS) or any(len(x) != 1 or not x.isalpha() for x in letters):
            raise UnsupportedVariant(
                f"variant {code!r}: expected eight letters separated by '-', e.g. U-U-M-N-C-A-N-N"
            )
        return cls(letters)

    @property
    def code(self) -> str:
        return "-".join(self.letters)

    @property
    def demand(self) -> str:
        return self.letters[0]

    @property
    def link(self) -> str:
        return self.letters[1]

    @property
    def capacity(self) -> str:
        return self.letters[2]

    @property
    def fixed_charge(self) -> bool:
        return self.letters[3] == "Y"

    def check_supported(self) -> None:
        """Raise UnsupportedVariant naming the first letter the model cannot express."""
        for pos, (letter, ok) in enumerate(zip(self.letters, SUPPORTED, strict=True)):
            if letter not in ok:
                meaning = POSITIONS[pos][0]
                raise UnsupportedVariant(
                    f"variant {self.code}: position {pos + 1} ({meaning}) is {letter!r}, "
                    f"which is not supported; supported: {', '.join(ok)}"
                )
        if self.demand == "U" and self.link in "BD":
            raise UnsupportedVariant(
                f"variant {self.code}: position 2 (link model) {self.link!r} is "
                "supported only with directed demands (position 1 'D')"
            )
