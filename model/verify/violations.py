"""What a check records: :class:`Violation`, the :class:`Report` of a run, tolerances.

The tolerances are 1e-6 relative plus 1e-3 absolute (:func:`_tol`), widened by the
rounding of the CSVs where a figure is a sum of rounded figures (money to the cent,
kW to the watt).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

EXIT_VIOLATION = 5
ABS_TOL = 1e-3
REL_TOL = 1e-6
CENT = 0.005  # rounding of one money figure in the CSVs
WATT = 0.0005  # rounding of one kW figure in the CSVs (3 decimals)
CHECKS = (
    *("results", "sites", "racks", "storage", "zone_survival", "cooling", "links", "capacity"),
    *("latency", "traffic", "users", "routers", "costs"),
)
COST_PARTS = (
    *("sites", "cooling", "routers", "optics", "link_opex"),
    *("routes", "flow", "energy", "carbon"),
)


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
