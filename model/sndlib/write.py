"""Write a converted instance as a data-set folder: :func:`write_dataset`.

settings.toml (:func:`render_settings`), one CSV per table and a README.md with the full
column mapping (:func:`render_readme`), written atomically.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from model.sndlib.convert import MEDIUM, PLANE_KM, REACH_KM, Dataset
from model.sndlib.instance import SndlibError

logger = logging.getLogger(__package__)  # "model.sndlib": one logger for the importer

PAPER = (
    "S. Orlowski, R. Wessäly, M. Pióro, A. Tomaszewski: SNDlib 1.0 — Survivable Network "
    "Design Library. Networks 55(3):276–286, 2010"
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def render_settings(settings: dict) -> str:
    """TOML text of a two-level settings dict (tables, sub-tables, scalars)."""
    out: list[str] = []

    def table(name: str, body: dict) -> None:
        out.append(f"[{name}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in body.items() if not isinstance(v, dict))
        out.append("")
        for k, v in body.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for name, body in settings.items():
        table(name, body)
    return "\n".join(out)


def render_readme(ds: Dataset, network_path: str, model_path: str | None) -> str:
    """The README.md of a converted data set: source, variant, mapping, constants."""
    net, v = ds.network, ds.variant

    def bullets(items: Iterable[str]) -> str:
        return "".join(f"- {x}\n" for x in items)

    meta = bullets(f"{k}: {val}" for k, val in net.meta) or "- (no META section)\n"
    notes = bullets(ds.notes) or "- none\n"
    read = [f"network: `{network_path}`"]
    read.append(f"model: `{model_path}`" if model_path else "model: given with --variant")
    units = (
        "max_units = 1 (capacity model E: at most one module per link)"
        if v.capacity == "E"
        else "max_units empty (capacity model M: any number of modules of each size)"
    )
    setup = "setup_cost (fixed charge Y)" if v.fixed_charge else "0 (fixed charge N)"
    sharing = ds.settings["network"]["capacity_sharing"]
    dominated = (
        "another module of the link has at least its capacity at no more cost (capacity "
        "model E: one module per link)"
        if v.capacity == "E"
        else "a combination of the link's other modules has at least its capacity at no "
        "more cost (capacity model M: any number of each)"
    )
    turned = (
        "; undirected demands (demand model U) may be written target to source, so that "
        "fewer nodes send (the model's exact routing keeps one flow per sending node and "
        "route); on undirected links that changes no load and no cost"
        if v.demand == v.link == "U"
        else ""
    )
    return f"""# SNDlib {net.name} {v.code}

Converted by `python -m model.sndlib` from SNDlib, the Survivable fixed telecommunication
Network Design library: {PAPER}.
Academic reference data: cite the paper; do not ship this folder.

{bullets(read)}- variant: {v.code}
- size: {len(net.nodes)} nodes, {len(net.links)} links, {len(net.demands)} demands, \
{len(ds.link_types)} module sizes
- coordinates: {ds.coords}

## Instance META
{meta}
## Mapping
sites.csv, one row per node:
- site = zone = node id; lat, lon = the node's (y, x) when geographic, else the plane
  mapped into a 1°×1° box at (0°, 0°); extra columns sndlib_x, sndlib_y keep the file's
  values
- gpu = storage = existing = 0 (every node is a transit node); every cost, energy and
  carbon column 0; max_power_mw, max_racks empty

routes.csv, one row per link, in file order (parallel links stay separate routes):
- a, b = source, target; medium = {MEDIUM}; srlg empty
- km = great-circle km between the nodes ({PLANE_KM} on non-geographic coordinates)
- build_capex_usd = {setup}
- {units}; 0 on a link without modules
- existing_gbps = pre_installed_capacity; flow_usd_per_gbps_year = routing_cost
- extra columns: route = SNDlib link id; preinstalled_cost_usd = pre_installed_capacity_cost

link_types.csv: one type `mod_<capacity>` per distinct module capacity, medium {MEDIUM},
reach_km {REACH_KM:g}; every cost, power, latency and port column 0;
deep_buffer_over_km empty.

offers.csv, one row per (link, module), dominated modules left out:
- capex_usd = 0, opex_usd_per_year = module cost, max_units empty
- a module is dominated when {dominated}: no optimum needs it (Notes say how many)
- extra column route = SNDlib link id: offers are matched to routes by `route` when that
  column is present (parallel links share a, b, medium)
- lifetimes of 1 year at discount rate 0 make every CRF 1 and opex is not annualised, so
  annual_cost_usd is the SNDlib objective (without the constant below)

demands.csv, one row per demand:
- src, dst = source, target{turned}
- gbps = demand_value (SNDlib's own unit, the same as module capacities; see
  META), max_latency_ms empty, protected = 0
- extra columns: demand = SNDlib id; routing_unit and max_path_length, both ignored
  (continuous routing, hop limits ignored)

settings.toml: capacity_sharing = {sharing} (U links: both directions share a link's
capacity; B links: each direction has it in full; D links: directed = 1, traffic from a
to b only); no GPU racks, storage or sync traffic;
no protection; discount rate 0, lifetimes 1; `[sndlib]` holds network, variant,
coordinates and preinstalled_cost. Demands have no latency bound and no protection, so
the solver routes them exactly (arc flows over every route, as SNDlib's all-paths
routing); paths_per_pair does not restrict them.

routers.csv: one free virtual router, capacity 10 × total demand, 10^6 ports.
cooling.csv: one free method `none`, PUE 1. Neither adds cost.

The ADMISSIBLE_PATHS section is not read (all-paths model).

## Constant cost of pre-installed capacity
preinstalled_cost = Σ pre_installed_capacity_cost over links = {ds.preinstalled_cost!r}.
SNDlib gives it per link (a flat cost, not per unit of capacity). It is not part of
annual_cost_usd: add it to compare with published values that include it.

## Notes
{notes}"""


def write_dataset(
    ds: Dataset,
    out_dir: Path,
    *,
    force: bool = False,
    network_path: str = "",
    model_path: str | None = None,
) -> Path:
    """Write ``ds`` into ``out_dir`` atomically (temp folder beside it, then rename).

    Refuses a non-empty ``out_dir`` unless ``force``; then the old folder is replaced.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise SndlibError(f"{out_dir} exists and is not empty; use --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name in ("sites", "routes", "link_types", "offers", "demands", "routers", "cooling"):
            getattr(ds, name).to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "settings.toml").write_text(render_settings(ds.settings), encoding="utf-8")
        (tmp / "README.md").write_text(
            render_readme(ds, network_path, model_path), encoding="utf-8"
        )
        os.chmod(tmp, 0o755)
        old = None
        if out_dir.exists():  # empty, or --force: set aside until the new one is in place
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
        try:
            os.replace(tmp, out_dir)
        except BaseException:
            if old is not None:
                os.replace(old / out_dir.name, out_dir)
                old.rmdir()
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old)
    logger.info("wrote %s (%s %s)", out_dir, ds.network.name, ds.variant.code)
    return out_dir
