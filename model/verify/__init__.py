"""Independent check of a written design against the rules of docs/contract.md §4–§6.

Reads only the result CSVs (``summary``, ``sites``, ``links``, ``flows``, ``run.json``) and
the data set, and re-implements every rule of the contract without Pyomo and without the
model's own index or families, so that a slip in the formulation, the extraction or a hand
edit of a result shows up as a :class:`Violation` naming the objects and the two numbers
compared. ``python solve.py verify RESULT_DIR [--data DATASET_DIR]`` exits 0 when the
design keeps every rule, 5 when it violates one (``EXIT_VIOLATION``), 2 when a file is
missing or unreadable.

Checks (the ``check`` of a violation), one module per group of families:

- ``results`` (:mod:`.readback`, which reads the CSVs back): every row ties to the data
  (sites, routes, path hops), links.csv max_flow_gbps is the busiest direction of
  flows.csv, the status is a design;
- :mod:`.sites`: ``sites`` (open is 0/1, existing sites are open), ``racks`` (Σ racks =
  gpu_racks; racks only at open GPU sites, within min_racks_per_gpu_site and max_racks; at
  most max_gpu_sites), ``storage`` (Σ PB = storage_pb × copies, only at open storage
  sites; with copies > 1 no zone holds more than storage_pb), ``zone_survival`` (racks
  outside every zone ≥ zone_survival_share × gpu_racks), ``cooling`` (a method of
  cooling.csv at open non-transit sites that takes rack_kw where racks are; it_kw = racks
  + storage + routers + ½ optics; facility_kw = (PUE + offset) × it_kw (transit_pue at
  transit nodes) ≤ 1000 × max_power_mw; nothing at closed sites);
- :mod:`.network`: ``links`` (type, medium, reach, offers (types, prices, max_units),
  route max_units; capacity_gbps, power_w, capex_usd, opex per unit; both ends of a lit
  route open), ``capacity`` (Σ flow per route and direction (both together when shared)
  ≤ units × capacity + existing_gbps; nothing against a directed route), ``latency``
  (each path's latency recomputed (km × µs/km + slowest allowed DSP + hops) and within
  the commodity's bound from the data), ``routers`` (ports, switching capacity,
  min_routers_per_site, deep-buffer ports, MACsec ports (§10), models of the chosen
  stacks (§11));
- :mod:`.traffic`: ``traffic`` (every commodity carries its demand; storage bandwidth per
  GPU site and per storage site; sync_gbps between every pair of GPU sites; demands.csv
  in full; replication between storage copies (§12); with diverse protection,
  protected_share of each protected demand survives every failure);
- :mod:`.users`: ``users`` (contract §9: inference racks at open GPU-capable sites within
  max_racks together with the training racks; every region served by its racks within its
  latency bound; inference traffic gbps × racks served / racks each way);
- :mod:`.costs`: ``costs`` (every cost figure of sites, links and summary recomputed from
  the data).

The families share :class:`~model.verify.base.VerifierBase` and are put together in
:mod:`.run` (:func:`verify`, :func:`verify_design`, :func:`verify_tables`); what a check
records is in :mod:`.violations`; the command line is :mod:`.cli`.

Tolerances: 1e-6 relative plus 1e-3 absolute, widened by the rounding of the CSVs where
a figure is a sum of rounded figures (money to the cent, kW to the watt).

Storage roles. A storage commodity in flows.csv is named ``storage:SRC>DST``; when both
ends may hold storage and racks, it can be the read direction of pair (SRC, DST) or the
write direction of pair (DST, SRC). A ``storage_site`` column, or an ``@SITE`` suffix of
the commodity id, names the storage end; without either, the verifier tries every role
assignment that pairs the two directions up and accepts the design if one keeps the rules.
"""

from __future__ import annotations

from model.verify.cli import main
from model.verify.costs import HOURS_PER_YEAR_K
from model.verify.readback import (
    DESIGNS,
    NUMERIC,
    REQUIRED,
    Commodity,
    Design,
    FlowPath,
    commodities,
    load_result_dataset,
    read_design,
    read_run,
)
from model.verify.run import resolved_commodities, verify, verify_design, verify_tables
from model.verify.traffic import MAX_ROLE_COMBINATIONS
from model.verify.violations import (
    ABS_TOL,
    CENT,
    CHECKS,
    COST_PARTS,
    EXIT_VIOLATION,
    REL_TOL,
    WATT,
    Report,
    Violation,
)

__all__ = [
    "ABS_TOL",
    "CENT",
    "CHECKS",
    "COST_PARTS",
    "DESIGNS",
    "EXIT_VIOLATION",
    "HOURS_PER_YEAR_K",
    "MAX_ROLE_COMBINATIONS",
    "NUMERIC",
    "REL_TOL",
    "REQUIRED",
    "WATT",
    "Commodity",
    "Design",
    "FlowPath",
    "Report",
    "Violation",
    "commodities",
    "load_result_dataset",
    "main",
    "read_design",
    "read_run",
    "resolved_commodities",
    "verify",
    "verify_design",
    "verify_tables",
]
