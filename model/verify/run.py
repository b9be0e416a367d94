"""Run every check of a design: :func:`verify`, :func:`verify_design`, :func:`verify_tables`."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError
from model.load import Dataset
from model.schema import TABLES
from model.verify.costs import CostChecks
from model.verify.network import NetworkChecks
from model.verify.readback import Commodity, Design, commodities, load_result_dataset, read_design
from model.verify.sites import SiteChecks
from model.verify.traffic import TrafficChecks
from model.verify.users import UserChecks
from model.verify.violations import CHECKS, Report, Violation

log = logging.getLogger(__package__)  # "model.verify", as before the split into a package


class Verifier(SiteChecks, NetworkChecks, TrafficChecks, UserChecks, CostChecks):
    """Every check family; ``getattr(verifier, family)()`` runs one (names in CHECKS)."""


def verify(result_dir: str | Path, data_dir: str | Path | None = None) -> Report:
    """Every check of a design; the report holds the violations and comparison counts.
    Raises InputError when a file is missing or unreadable."""
    ds = load_result_dataset(Path(result_dir), data_dir)
    report = Report()
    if ds.periods and (Path(result_dir) / "periods.csv").is_file():
        return _verify_periods(Path(result_dir), ds, report)  # contract §8
    design = read_design(result_dir, ds, report)
    report.notes.extend(_changed_inputs(ds, design.run))
    _run_checks(ds, design, report)
    log.info(
        "verify %s: %d comparisons, %d violations",
        result_dir,
        sum(report.comparisons.values()),
        len(report.violations),
    )
    return report


def verify_design(result_dir: str | Path, data_dir: str | Path | None = None) -> list[Violation]:
    """The rules of the contract the design in ``result_dir`` breaks (empty: none).

    The data set and scenario come from ``run.json`` unless ``data_dir`` is given."""
    return verify(result_dir, data_dir).violations


def verify_tables(ds: Dataset, tables: Any) -> list[Violation]:
    """The same checks on result tables in memory (``model.extract.Tables``), e.g. before
    they are written."""
    report = Report()
    return _run_checks(ds, read_design(Path("."), ds, report, tables), report).violations


def _run_checks(ds: Dataset, design: Design, report: Report) -> Report:
    checker = Verifier(ds, design, report)
    for family in CHECKS[1:]:  # "results" is checked while reading
        getattr(checker, family)()
    return report


class _EarlierPeriod(Verifier):
    """An earlier period of a multi-period result: summary.csv holds the last period's
    figures, so the summary comparisons are left to :func:`_verify_periods`."""

    def _summary(self, *args: Any, **kwargs: Any) -> None:
        return None


def _verify_periods(result_dir: Path, ds: Dataset, report: Report) -> Report:
    """Contract §8: each period's block of rows against its period's data set (the last
    with summary.csv); periods.csv's annual cost and counts against each block; nothing
    built goes away from one period to the next."""
    from types import SimpleNamespace

    from model.periods import label, period_dataset, stays_built_problems

    def read(name: str) -> pd.DataFrame | None:
        path = result_dir / name
        if not path.is_file():
            return None
        return pd.read_csv(path, dtype=str, keep_default_na=False)

    frames = {n: read(f"{n}.csv") for n in ("summary", "sites", "links", "flows", "users")}
    table = read("periods.csv")
    if any(frames[n] is None for n in ("summary", "sites", "links", "flows")) or table is None:
        raise InputError(f"results in {result_dir} cannot be read: a table is missing")
    blocks_sites, blocks_links = [], []
    names = list(table["period"])
    by_name = {p.name: p for p in ds.periods}
    if names != [p.name for p in ds.periods]:
        report.fail(
            "results",
            "periods.csv",
            f"periods {names} are not those of the data set {[p.name for p in ds.periods]}",
        )
        return report
    for n, name in enumerate(names):
        period = by_name[name]
        pds = period_dataset(ds, period)

        def block(frame: pd.DataFrame | None, name: str = name) -> pd.DataFrame | None:
            if frame is None:
                return None
            return frame[frame["period"] == name].drop(columns=["period"])

        last = n == len(names) - 1
        summary = frames["summary"].copy()
        summary["objective"] = ""  # the horizon's, checked below
        tables = SimpleNamespace(
            summary=summary,
            sites=block(frames["sites"]),
            links=block(frames["links"]),
            flows=block(frames["flows"]),
            users=block(frames["users"]),
        )
        sub = Report()
        design = read_design(result_dir, pds, sub, tables)
        checker = (Verifier if last else _EarlierPeriod)(pds, design, sub)
        for family in CHECKS[1:]:
            getattr(checker, family)()
        for v in sub.violations:
            report.violations.append(replace(v, objects=f"{label(period)}: {v.objects}"))
        for check, count in sub.comparisons.items():
            report.count(check, count)
        row = table.iloc[n]
        sites, links = design.sites, design.links
        reported = float(pd.to_numeric(sites["annual_cost_usd"]).sum()) + float(
            pd.to_numeric(links["annual_cost_usd"]).sum() if "annual_cost_usd" in links else 0.0
        )
        cost = float(row["annual_cost_usd"])
        report.eq(
            "costs",
            f"{label(period)}: periods.csv",
            "annual_cost_usd (vs Σ sites + Σ links annual_cost_usd)",
            cost,
            reported,
            0.01 * (len(sites) + len(links) + 1) + 1e-6 * abs(reported),
        )
        racks = int(pd.to_numeric(sites["gpu_racks"]).sum())
        report.eq(
            "costs", f"{label(period)}: periods.csv", "gpu_racks", int(row["gpu_racks"]), racks, 0
        )
        blocks_sites.append(tables.sites)
        blocks_links.append(tables.links)
    weight = ds.settings.economics.power_weight_usd_per_mw_year
    num = table.apply(pd.to_numeric, errors="coerce")
    horizon = float(
        (num["discount_factor"] * (num["annual_cost_usd"] + weight * num["power_mw"])).sum()
    )
    objective = pd.to_numeric(frames["summary"]["objective"], errors="coerce").iloc[0]
    report.eq(
        "costs",
        "summary.csv",
        "objective (vs Σ periods.csv discount_factor × (annual_cost_usd + weight × power_mw))",
        float(objective),
        horizon,
        0.01 * len(table) * float(num["discount_factor"].sum()) + 1e-6 * abs(horizon),
    )
    for line in stays_built_problems(list(ds.periods), blocks_sites, blocks_links):
        report.fail("sites", "stays built", line)
    return report


def resolved_commodities(ds: Dataset, design: Design) -> list[Commodity]:
    """The design's commodities, with same-named storage commodities resolved as the
    traffic check resolves them (module doc, "Storage roles")."""
    checker = Verifier(ds, design, Report())
    coms = commodities(design.paths)
    checker._storage([c for c in coms if c.kind == "storage"])
    return coms


def _changed_inputs(ds: Dataset, run: dict[str, Any]) -> list[str]:
    """A note when the data set's files differ from those the result was solved from.

    Compares the hashes the loader took of the files it read (``ds.inputs_sha256``); no
    file is opened again, and names in run.json that are not contract files (older runs
    hashed every CSV of the folder) are not looked at."""
    hashes = run.get("inputs_sha256") or {}
    if not hashes:
        return []
    now = ds.inputs_sha256
    contract = {"settings.toml", *(t.file for t in TABLES)}
    changed = sorted(
        name
        for name in contract
        if (name in hashes or name in now) and hashes.get(name) != now.get(name)
    )
    if not changed:
        return []
    return [
        f"data set {ds.path} changed since the run ({', '.join(changed)}): the design is "
        "checked against the data as it is now"
    ]
