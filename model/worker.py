"""The start of a batch worker process (model/batch.py spawns one per scenario).

Light to import on purpose: the worker imports this module to find :func:`start`, and
:func:`start` then makes the heavy imports (pandas, Pyomo, NetworkX) inside
:func:`model.heap.frozen_imports`, as solve.py does for a single run."""

from __future__ import annotations

import signal

from model.heap import frozen_imports


def start() -> None:
    """Worker process initializer. Ctrl-C is the parent's to handle (it stops the
    workers), so a worker ignores SIGINT and never prints a traceback of its own. The
    worker was started with SIGINT blocked (see ``LocalBackend._isolated`` in
    model/batch.py); one pressed meanwhile is discarded here."""
    with frozen_imports():
        import model.batch  # noqa: F401  (what every job of this worker runs)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
