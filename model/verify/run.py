"""Run every check of a design: :func:`verify`, :func:`verify_design`, :func:`verify_tables`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

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
