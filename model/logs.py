"""The log handler of the command line and the batch workers."""

from __future__ import annotations

import logging
import sys


class StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record comes, never to a stream bound at
    set-up: the handler outlives ``main``, and a stream bound then may since have been
    replaced and closed (by pytest's capture, or a caller's redirect), which logging reports
    as "--- Logging error --- ValueError: I/O operation on closed file"."""

    @property
    def stream(self) -> object:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass
