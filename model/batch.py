"""A batch of scenarios: validate every override first, solve each scenario in a worker
process (local processes or a Dask cluster), and compare them in ``comparison.csv``,
``comparison.png`` and ``report.html`` under ``results/<data set>/``.

A failing scenario never stops the batch: its row says why (``status``, ``exit_code``,
``error``). Rows come in the order the scenarios were asked for, whatever order they finish
in, so the same batch gives the same ``comparison.csv`` (apart from ``solve_s``).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from model.charts import comparison_chart
from model.errors import (
    EXIT_ERROR,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_NO_DESIGN,
    EXIT_OK,
    BusyError,
    InputError,
    Interrupted,
    ScaleacrossError,
)
from model.export import current_umask, dataset_name, results_target, scenario_lock
from model.families.objective import COST_PARTS
from model.load import Dataset, load_dataset
from model.logs import StderrHandler
from model.pipeline import SolveOptions, run_scenario
from model.worker import start as worker_start

log = logging.getLogger(__name__)

#: Worst first: an unexplained failure, no design within the limits, infeasible, bad input.
EXIT_SEVERITY = (EXIT_ERROR, EXIT_NO_DESIGN, EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK)
SUMMARY_FIELDS = [
    "status",
    "mip_gap",
    "objective",
    "annual_cost_usd",
    *(f"annual_{p}_usd" for p in COST_PARTS),
    "power_mw",
    "gpu_sites",
    "storage_sites",
    "routes_lit",
    "units",
    "routers",
    "solve_s",
]
COUNT_COLUMNS = ["gpu_sites", "storage_sites", "routes_lit", "units", "routers", "exit_code"]
#: Columns that change from run to run of the same batch (excluded when comparing runs).
TIMING_COLUMNS = ["solve_s"]


@dataclass(frozen=True)
class Job:
    """One scenario to solve in a worker. Paths are absolute: a worker may run elsewhere."""

    data_dir: str
    scenario: str
    out_root: str | None
    opts: SolveOptions = field(default_factory=SolveOptions)
    log_level: int = logging.WARNING


@dataclass(frozen=True)
class ScenarioRow:
    """What a worker sends back: the comparison values, or why the scenario failed."""

    scenario: str
    exit_code: int
    values: dict[str, Any]
    error: str = ""
    wall_s: float = 0.0

    @property
    def status(self) -> str:
        return str(self.values.get("status", "error"))


@dataclass(frozen=True)
class BatchConfig:
    """A batch as the command line asked for it."""

    data_dir: Path
    scenarios: tuple[str, ...]
    out_root: Path
    opts: SolveOptions = field(default_factory=SolveOptions)
    workers: int = 2
    dask: str | None = None
    log_level: int = logging.WARNING


@dataclass(frozen=True)
class BatchResult:
    """The comparison table, where it was written, the batch's exit code and wall time."""

    comparison: pd.DataFrame
    csv: Path
    chart: Path
    exit_code: int
    wall_s: float


class Reporter(Protocol):
    """Progress of a batch (rich bar on a terminal, plain lines otherwise)."""

    def start(self, total: int) -> None: ...
    def update(self, done: int, running: int, failed: int) -> None: ...
    def finished(self, row: ScenarioRow, done: int, total: int) -> None: ...
    def stop(self) -> None: ...


class Backend(Protocol):
    """Where jobs run: :class:`LocalBackend` or :class:`DaskBackend` (futures either way)."""

    def submit(self, job: Job) -> Any: ...
    def wait(self, pending: set[Any], timeout: float) -> tuple[set[Any], set[Any]]: ...
    def running(self, pending: dict[Any, Job]) -> int: ...
    def cancel(self) -> None: ...


class BatchInterrupted(Interrupted):
    """Ctrl-C during a batch; ``rows``: the scenarios that had finished by then."""

    def __init__(self, rows: list[ScenarioRow]) -> None:
        super().__init__()
        self.rows = rows


# --- before anything runs ------------------------------------------------------------------


def all_scenarios(data_dir: Path) -> list[str]:
    """Every row of scenarios.csv, in file order (``base`` alone when there is none)."""
    ds = load_dataset(data_dir, "base")
    names = [str(s) for s in ds.scenarios["scenario"]]
    return names or ["base"]


def validate_scenarios(data_dir: Path, scenarios: Sequence[str]) -> list[Dataset]:
    """Load the data set once per scenario; collect every invalid override (each message
    names scenarios.csv row and column) and raise them together before anything is solved."""
    problems: list[str] = []
    datasets: list[Dataset] = []
    for name in scenarios:
        try:
            datasets.append(load_dataset(data_dir, name))
        except InputError as exc:
            lines = exc.problems or [str(exc)]
            problems.extend(line for line in lines if line not in problems)
    if problems:
        raise InputError(
            f"{len(scenarios) - len(datasets)} of {len(scenarios)} scenarios are invalid; "
            "nothing was solved",
            problems,
        )
    return datasets


# --- in the worker -------------------------------------------------------------------------


def _worker_logging(level: int, scenario: str) -> None:
    logger = logging.getLogger("model")
    if not logger.handlers:
        logger.addHandler(StderrHandler())
    for handler in logger.handlers:
        handler.setFormatter(logging.Formatter(f"%(levelname)s %(name)s [{scenario}]: %(message)s"))
    logger.setLevel(level)
    logger.propagate = False


def solve_job(job: Job) -> ScenarioRow:
    """Solve one scenario and write its results; never raises: a failure becomes a row."""
    _worker_logging(job.log_level, job.scenario)
    start = time.perf_counter()
    try:
        result = run_scenario(job.data_dir, job.scenario, job.out_root, job.opts)
    except ScaleacrossError as exc:
        status = "infeasible" if exc.exit_code == EXIT_INFEASIBLE else "error"
        return ScenarioRow(
            job.scenario, exc.exit_code, {"status": status}, str(exc), time.perf_counter() - start
        )
    except Exception as exc:  # a bug or the solver blew up: report it, keep the batch going
        log.exception("scenario %s failed", job.scenario)
        return ScenarioRow(
            job.scenario,
            EXIT_ERROR,
            {"status": "error"},
            f"{type(exc).__name__}: {exc}",
            time.perf_counter() - start,
        )
    summary = result.tables.summary.iloc[0]
    values = {k: _plain(summary[k]) for k in SUMMARY_FIELDS}
    return ScenarioRow(job.scenario, EXIT_OK, values, "", time.perf_counter() - start)


def _plain(value: Any) -> Any:
    """A pandas/numpy cell as a plain Python value (None for a missing one)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def lost_row(job: Job, exc: BaseException) -> ScenarioRow:
    """The row of a scenario whose worker died (killed, out of memory, cluster lost)."""
    return ScenarioRow(
        job.scenario, EXIT_ERROR, {"status": "error"}, f"worker lost: {type(exc).__name__}: {exc}"
    )


# --- executors -----------------------------------------------------------------------------


class LocalBackend:
    """Up to ``workers`` scenarios at once, each in a fresh process of its own (spawned, so
    no state is shared); a process that dies takes only its own scenario with it. Workers
    ignore Ctrl-C; :meth:`cancel` stops them."""

    def __init__(self, workers: int, fn: Callable[[Job], ScenarioRow] = solve_job) -> None:
        self._fn = fn  # what a worker process runs (a top-level function: it is pickled)
        self._ctx = multiprocessing.get_context("spawn")
        self._threads = cf.ThreadPoolExecutor(workers, thread_name_prefix="scenario")
        self._started: set[str] = set()
        self._lock = threading.Lock()
        self._pools: set[cf.ProcessPoolExecutor] = set()
        self._cancelled = False

    def _isolated(self, job: Job) -> ScenarioRow:
        # A process inherits the signal mask of the thread that starts it, through exec:
        # blocked here, a Ctrl-C while the worker starts up stays pending until
        # model.worker.start() discards it (the main thread still gets it). The resource tracker
        # is started first: starting it unblocks SIGINT in the calling thread.
        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        with self._lock:
            if self._cancelled:
                raise cf.CancelledError(f"scenario {job.scenario} not started")
            self._started.add(job.scenario)
            pool = cf.ProcessPoolExecutor(1, mp_context=self._ctx, initializer=worker_start)
            future = pool.submit(self._fn, job)  # starts the worker process now
            self._pools.add(pool)
        try:
            return future.result()
        finally:
            with self._lock:
                self._pools.discard(pool)
            pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, job: Job) -> cf.Future:
        return self._threads.submit(self._isolated, job)

    def started(self) -> set[str]:
        return set(self._started)

    def cancel(self) -> None:
        """Start nothing more and stop the running workers (SIGTERM): a stopped worker
        leaves at most a temporary folder, tidied by the next run of its scenario."""
        with self._lock:
            self._cancelled = True
            pools = list(self._pools)
        for pool in pools:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                if proc.is_alive():
                    proc.terminate()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def wait(self, pending: set[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        done, not_done = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done), set(not_done)

    def running(self, pending: dict[Any, Job]) -> int:
        return sum(1 for job in pending.values() if job.scenario in self._started)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)


class DaskBackend:
    """The same jobs on a Dask distributed cluster: ``local`` starts a LocalCluster of
    ``workers`` single-threaded worker processes on loopback (no dashboard); any other
    address is a running scheduler whose workers can import ``model`` and reach the data
    and results folders at the same paths."""

    def __init__(self, address: str, workers: int) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None
        self._futures: list[Any] = []
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
        log.info("dask: %s", self._client)

    def submit(self, job: Job) -> Any:
        future = self._client.submit(solve_job, job, key=f"scenario-{job.scenario}", pure=False)
        self._futures.append(future)
        return future

    def wait(self, pending: set[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        try:
            done, not_done = wait(list(pending), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set(), set(pending)
        return set(done), set(not_done)

    def running(self, pending: dict[Any, Job]) -> int:
        busy = {k for keys in self._client.processing().values() for k in keys}
        return sum(1 for f in pending if f.key in busy)

    def started(self) -> set[str]:
        return set()  # not tracked: a cancelled task may still finish on its worker

    def cancel(self) -> None:
        self._client.cancel(list(self._futures), force=True)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def execute(jobs: Sequence[Job], backend: Backend, reporter: Reporter) -> list[ScenarioRow]:
    """Run every job on ``backend``; return their rows in the order of ``jobs``. Ctrl-C
    cancels the backend's jobs and raises :class:`BatchInterrupted` with the rows of the
    scenarios that had finished."""
    rows: dict[str, ScenarioRow] = {}
    failed = 0
    reporter.start(len(jobs))
    try:
        pending: dict[Any, Job] = {backend.submit(job): job for job in jobs}
        while pending:
            done, _ = backend.wait(set(pending), timeout=0.5)
            for fut in sorted(done, key=lambda f: jobs.index(pending[f])):
                job = pending.pop(fut)
                try:
                    row = fut.result()
                except Exception as exc:  # the worker process or the cluster lost the job
                    row = lost_row(job, exc)
                rows[job.scenario] = row
                failed += row.exit_code != EXIT_OK
                reporter.finished(row, len(rows), len(jobs))
            reporter.update(len(rows), backend.running(pending), failed)
    except KeyboardInterrupt:
        cancel = getattr(backend, "cancel", None)
        if cancel is not None:
            cancel()
        raise BatchInterrupted([rows[j.scenario] for j in jobs if j.scenario in rows]) from None
    finally:
        reporter.stop()
    return [rows[job.scenario] for job in jobs]


# --- after ---------------------------------------------------------------------------------


def worst_exit(codes: Iterable[int]) -> int:
    """0 when every scenario produced a design, else the worst code (1 > 4 > 3 > 2)."""
    codes = set(codes)
    return next(c for c in EXIT_SEVERITY if c in codes or c == EXIT_OK)


def comparison_table(rows: Sequence[ScenarioRow], datasets: Sequence[Dataset]) -> pd.DataFrame:
    """One row per scenario: its overrides (one column per key any scenario overrides, in
    scenarios.csv order), the summary figures, ``exit_code`` and ``error``."""
    overrides = {ds.scenario: ds.overrides for ds in datasets}
    order = list(datasets[0].scenarios.columns) if datasets else []
    keys = [k for k in order if any(k in o for o in overrides.values())]
    records = []
    for row in rows:
        rec: dict[str, Any] = {"scenario": row.scenario}
        rec.update({k: overrides.get(row.scenario, {}).get(k) for k in keys})
        rec.update({k: row.values.get(k) for k in SUMMARY_FIELDS})
        rec["exit_code"] = row.exit_code
        rec["error"] = one_line(row.error)
        records.append(rec)
    df = pd.DataFrame(records, columns=["scenario", *keys, *SUMMARY_FIELDS, "exit_code", "error"])
    return df.astype({c: "Int64" for c in COUNT_COLUMNS})


def one_line(message: str) -> str:
    """A multi-line error (head and one line per problem) as one line."""
    lines = (line.strip().removeprefix("- ") for line in message.splitlines())
    return " | ".join(line for line in lines if line)


def write_csv(df: pd.DataFrame, target: Path) -> Path:
    """Write ``df`` to ``target`` atomically (temporary file beside it, renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it 0600: follow the umask
        df.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def run_batch(cfg: BatchConfig, reporter: Reporter) -> BatchResult:
    """Validate every scenario, solve them all, write comparison.csv, comparison.png and
    report.html once every scenario has finished. Raises InputError (nothing solved) when
    any scenario's overrides or name are invalid, :class:`~model.errors.Interrupted` on
    Ctrl-C (see :func:`interrupted_batch`)."""
    start = time.perf_counter()
    name = dataset_name(cfg.data_dir)
    for scenario in cfg.scenarios:  # a name that would leave the results folder: exit 2
        results_target(cfg.out_root, name, scenario)
    datasets = validate_scenarios(cfg.data_dir, cfg.scenarios)
    data_dir = str(cfg.data_dir.resolve())
    out_root = str(cfg.out_root.resolve())
    jobs = [Job(data_dir, s, out_root, cfg.opts, cfg.log_level) for s in cfg.scenarios]
    log.debug("batch of %d scenarios on %s: %s", len(jobs), cfg.dask or "local", cfg.scenarios)
    backend: DaskBackend | LocalBackend = (
        DaskBackend(cfg.dask, cfg.workers) if cfg.dask else LocalBackend(cfg.workers)
    )
    stopped: BatchInterrupted | None = None
    try:
        rows = execute(jobs, backend, reporter)
    except BatchInterrupted as exc:
        stopped = exc
    finally:
        backend.close()
    if stopped is not None:
        raise interrupted_batch(cfg, name, jobs, stopped.rows, backend.started())
    df = comparison_table(rows, datasets)
    folder = cfg.out_root / datasets[0].name
    csv = write_csv(df, folder / "comparison.csv")
    chart = comparison_chart(df, folder / "comparison.png", f"{datasets[0].name}: scenarios")
    write_batch_report(df, datasets, cfg, folder)
    wall = time.perf_counter() - start
    log.info("batch of %d scenarios in %.1f s: %s", len(jobs), wall, csv)
    return BatchResult(df, csv, chart, worst_exit(r.exit_code for r in rows), wall)


def write_batch_report(
    df: pd.DataFrame, datasets: Sequence[Dataset], cfg: BatchConfig, folder: Path
) -> Path:
    """``report.html`` beside comparison.csv: the comparison, a chart and what changes
    between the scenarios' designs (read back from their folders); written atomically."""
    from model.report_html.compare import read_design, render_batch, write_page

    designs = {
        str(s): read_design(folder / str(s)) if code == EXIT_OK else None
        for s, code in zip(df["scenario"], df["exit_code"], strict=True)
    }
    gaps = [ds.settings.solver.mip_gap for ds in datasets]
    gap = cfg.opts.mip_gap if cfg.opts.mip_gap is not None else max(gaps, default=0.0)
    return write_page(render_batch(datasets[0].name, df, designs, gap), folder / "report.html")


def interrupted_batch(
    cfg: BatchConfig, name: str, jobs: Sequence[Job], rows: list[ScenarioRow], started: set[str]
) -> Interrupted:
    """After Ctrl-C: put back the earlier results of scenarios whose worker was stopped in
    the middle of its rename, and, when finished scenarios have replaced their folders,
    remove the earlier comparison.csv/.png (they describe other results); no comparison is
    written. Returns the error to raise, saying what is left."""
    finished = {r.scenario for r in rows}
    for job in jobs:
        if job.scenario in started and job.scenario not in finished:
            try:  # taking the lock tidies what the stopped worker left
                with scenario_lock(results_target(cfg.out_root, name, job.scenario)):
                    pass
            except (BusyError, OSError) as exc:
                log.warning("could not tidy %s: %s", job.scenario, exc)
    written = [r.scenario for r in rows if r.exit_code in (EXIT_OK, EXIT_INFEASIBLE)]
    if not written:
        return Interrupted()
    folder = cfg.out_root / name
    removed = []
    for file in ("comparison.csv", "comparison.png", "report.html"):
        if (folder / file).exists():
            (folder / file).unlink()
            removed.append(file)
    were, they = ("were", "they") if len(removed) > 1 else ("was", "it")
    named = " and ".join([", ".join(removed[:-1]), removed[-1]] if len(removed) > 1 else removed)
    note = f"; the earlier {named} {were} removed ({they} described other results)"
    return Interrupted(
        f"{len(written)} of {len(jobs)} scenarios had finished and were written "
        f"({', '.join(written)}); the others' earlier results are left as they were; "
        f"no comparison was written{note if removed else ''}"
    )


# --- progress ------------------------------------------------------------------------------


def describe(row: ScenarioRow) -> str:
    """One line about a finished scenario (no markup, no control characters)."""
    v = row.values
    if row.exit_code == EXIT_OK:
        gap = v.get("mip_gap")
        gap_text = "" if gap is None else f", gap {gap:.2%}"
        return (
            f"{row.scenario}: {v['status']}{gap_text}, annual cost "
            f"{v['annual_cost_usd']:,.0f} USD/yr, power {v['power_mw']:,.3f} MW, "
            f"{row.wall_s:.1f} s"
        )
    return f"{row.scenario}: {row.status} (exit {row.exit_code}): {one_line(row.error)}"


class PlainReporter:
    """One plain line per finished scenario, for logs and CI (stdout is not a terminal)."""

    def __init__(self, stream: Any = None, enabled: bool = True) -> None:
        self._stream = stream
        self._enabled = enabled

    def start(self, total: int) -> None:
        pass

    def update(self, done: int, running: int, failed: int) -> None:
        pass

    def finished(self, row: ScenarioRow, done: int, total: int) -> None:
        if self._enabled:
            print(f"[{done}/{total}] {describe(row)}", file=self._stream or sys.stdout, flush=True)

    def stop(self) -> None:
        pass


class RichReporter:
    """A rich progress bar: scenarios done of all, running, failed, elapsed time; a line
    above the bar for each finished scenario."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("scenarios"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("running {task.fields[running]} · failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            console=console or Console(),
        )
        self._task: Any = None

    def start(self, total: int) -> None:
        self._task = self._progress.add_task("batch", total=total, running=0, failed=0)
        self._progress.start()

    def update(self, done: int, running: int, failed: int) -> None:
        self._progress.update(self._task, completed=done, running=running, failed=failed)

    def finished(self, row: ScenarioRow, done: int, total: int) -> None:
        from rich.markup import escape

        style = "green" if row.exit_code == EXIT_OK else "red"
        self._progress.console.print(
            f"[{style}]{escape(describe(row))}[/{style}]", highlight=False, soft_wrap=True
        )
        self._progress.update(self._task, completed=done)

    def stop(self) -> None:
        self._progress.stop()
