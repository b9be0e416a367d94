"""scaleacross: geographically distributed AI data-center design by mixed-integer optimization.

The flow is one direction, one module per stage:
``load`` (read and validate a data set) → ``network`` (candidate routes and paths) →
``precheck`` (cheap infeasibility checks in planner terms) → ``build`` (the Pyomo model) →
``solver`` (HiGHS, outcome record) → ``extract`` (result tables) → ``export`` (atomic write).

The Python API (docs/api.md; imported on first use, so ``import model`` stays cheap)::

    import model

    problem = model.load_data("data/japan", overrides={"demand.gpu_racks": 300}, name="r300")
    result = model.solve(problem, time_limit_s=60)   # or problem.solve(...)
    result.status, result.gap, result.bound          # the solver's outcome
    result.sites, result.links, result.flows         # the result tables (DataFrames)
    result.write("results")                          # results/japan/r300/ (CSVs, report.html, ...)
    model.solve_batch("data/japan", ["base", "sync_2ms"])  # .comparison: one row per scenario
    model.pareto_front("data/japan", points=4)             # .table: the cost–power front

- ``load_data(path, scenario="base", overrides=None, name=None)`` →
  :class:`~model.api.Problem`
- ``from_frames(name, settings, sites, link_types, routers, cooling, ...)`` → Problem
- ``solve(problem, time_limit_s=, mip_gap=, threads=, seed=, screen=, out=)`` →
  :class:`~model.api.Result` (``summary``, ``sites``, ``links``, ``flows``, ``failures``,
  ``status``, ``gap``, ``bound``, ``objective``, ``run``, ``write()``, ``report_html()``,
  ``geojson()``)
- ``solve_batch(path, scenarios=None, out="results", workers=1, **solver)`` →
  :class:`~model.batch.BatchResult`
- ``pareto_front(path, scenario="base", points=5, out="results", **solver)`` →
  :class:`~model.pareto.ParetoResult`

Errors are :class:`~model.errors.ScaleacrossError` subclasses: ``InputError`` (invalid
data, every problem listed), ``InfeasibleError``, ``NoDesignError``.
"""

from typing import Any

__version__ = "0.1.0"

#: The API's names, imported from model.api on first use.
API = ("Problem", "Result", "load_data", "from_frames", "solve", "solve_batch", "pareto_front")
__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name in API:
        from model import api

        return getattr(api, name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
