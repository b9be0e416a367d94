"""The run's time limit inside the phases that have no solver clock of their own.

Loading, the network plan, the index and the build run in Python and cannot be cancelled
from outside; at 1,000 generated nodes they take 3, 30, 8 and 37 s. ``run_scenario`` sets
the deadline (:func:`deadline`) for the thread that runs the scenario, and those phases
call :func:`check` between units of their work (a commodity's paths, a model family), so
that a limit spent half-way through a phase ends the run there (exit 4, naming the phase)
rather than when the phase is over. Outside a run (a direct ``plan_network`` or
``build_model`` call, a batch thread of its own) there is no deadline and :func:`check`
does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from model.errors import NoDesignError


@dataclass(frozen=True)
class Deadline:
    """``started``: the ``perf_counter`` the limit counts from; ``limit_s``: the limit."""

    started: float
    limit_s: float

    def check(self, phase: str, ended: bool = False) -> None:
        """Raise :class:`~model.errors.NoDesignError` naming ``phase`` once the limit is
        spent: "during" it, or "by the end of" it when ``ended``."""
        spent = time.perf_counter() - self.started
        if spent > self.limit_s:
            when = "by the end of" if ended else "during"
            raise NoDesignError(
                f"no design: the time limit of {self.limit_s:g} s ran out {when} the "
                f"{phase} phase ({spent:.1f} s): raise --time-limit"
            )


_CURRENT: ContextVar[Deadline | None] = ContextVar("scaleacross_deadline", default=None)


@contextmanager
def deadline(started: float, limit_s: float) -> Iterator[Deadline]:
    """Within this block, :func:`check` stops the run once ``limit_s`` seconds have passed
    since ``started`` (a ``perf_counter`` value)."""
    current = Deadline(started, limit_s)
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def check(phase: str) -> None:
    """Raise :class:`~model.errors.NoDesignError` (exit 4) naming ``phase`` when the
    current run's time limit has run out; nothing outside a run."""
    current = _CURRENT.get()
    if current is not None:
        current.check(phase)
