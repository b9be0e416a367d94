"""The live line of a long solve: elapsed, incumbent, bound and gap, from HiGHS's MIP
logging callback (model/highs_direct.py).

On a terminal one line is redrawn in place at most every ``interval`` seconds; piped (a
log file, CI) a plain line is written at most every ``plain_interval`` seconds, so a log
stays readable. Nothing is drawn during the first ``quiet_s`` seconds: short solves print
no line at all. The callback runs in HiGHS's solver thread; it only formats and writes.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from typing import Any, TextIO


def _money(x: float) -> str:
    return "—" if not math.isfinite(x) or abs(x) >= 1e29 else f"{x / 1e6:,.2f} M$"


class Progress:
    """Callable handed to ``solve(progress=...)``; :meth:`close` ends a drawn line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 1.0,
        plain_interval: float = 30.0,
        quiet_s: float = 5.0,
        label: str = "solving",
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if self.live else plain_interval
        self.quiet_s = quiet_s
        self.label = label
        self.started = time.perf_counter()
        self.last = -math.inf
        self.drawn = False
        self.lines = 0
        self._lock = threading.Lock()

    def line(self, data: Any) -> str:
        """One progress line from HiGHS's callback data."""
        elapsed = time.perf_counter() - self.started
        incumbent = float(getattr(data, "mip_primal_bound", math.inf))
        bound = float(getattr(data, "mip_dual_bound", -math.inf))
        gap = float(getattr(data, "mip_gap", math.inf))
        shown_gap = f"{gap:.2%}" if math.isfinite(gap) and gap < 1e3 else "—"
        return (
            f"{self.label}: {elapsed:6.0f} s · best design {_money(incumbent)} · "
            f"bound {_money(bound)} · gap {shown_gap}"
        )

    def __call__(self, data: Any) -> None:
        now = time.perf_counter()
        if now - self.started < self.quiet_s or now - self.last < self.interval:
            return
        with self._lock:
            self.last = now
            text = self.line(data)
            if self.live:
                self.stream.write("\r\x1b[2K" + text)
                self.drawn = True
            else:
                self.stream.write(text + "\n")
            self.lines += 1
            self.stream.flush()

    def close(self) -> None:
        """End the redrawn line (the next output starts on a line of its own)."""
        with self._lock:
            if self.drawn:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
                self.drawn = False
