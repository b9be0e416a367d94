"""The log handlers of the command line and of a batch job write to ``sys.stderr`` as it is
when a record comes. They outlive ``main`` / the job: one bound to the stream of the day
wrote, in a later test, to the capture pytest had closed since, and logging printed
"--- Logging error --- ValueError: I/O operation on closed file"."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from builders import write_dataset

from model.batch import _worker_logging
from model.cli import main


@pytest.fixture
def model_logger() -> Iterator[logging.Logger]:
    """The "model" logger, its handlers, level and propagation restored afterwards."""
    logger = logging.getLogger("model")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def _log_after_stream_closed(
    setup: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """Run ``setup`` with stderr = a first stream, close that stream, then log a warning
    with stderr = a second stream; return what each stream got."""
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    setup()
    seen_first = first.getvalue()
    first.close()  # what pytest does to a test's capture when the test ends
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("model.load").warning("a warning after the stream closed")
    return seen_first, second.getvalue()


def test_cli_log_follows_stderr_after_main_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_logger: logging.Logger
) -> None:
    sites = [{"site": "X", "lat": 35, "lon": 139, "note": "an unknown column"}]
    ds = write_dataset(tmp_path / "d", sites)
    out = str(tmp_path / "res")
    first, second = _log_after_stream_closed(
        lambda: main([str(ds), "--out", out, "-q"]), monkeypatch
    )
    assert "sites.csv: unknown columns ignored: note" in first  # the handler logs during main
    assert "Logging error" not in second
    assert "WARNING model.load: a warning after the stream closed" in second


def test_batch_job_log_follows_stderr(
    monkeypatch: pytest.MonkeyPatch, model_logger: logging.Logger
) -> None:
    model_logger.handlers.clear()  # as in a fresh worker process
    _, second = _log_after_stream_closed(lambda: _worker_logging(logging.INFO, "s1"), monkeypatch)
    assert "Logging error" not in second
    assert "WARNING model.load [s1]: a warning after the stream closed" in second
