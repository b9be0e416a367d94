"""Sites and compute: opening, GPU racks per cooling method, GPU sites, zone survival,
storage placement with copies in distinct zones (contract §4.1–4.3, §4.9)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyomo.core as pyo

from model.index import ModelIndex
from model.load import Dataset


def add_sites(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """open_s ∈ {0,1}, fixed to 1 where the site already exists."""
    m.SITES = pyo.Set(initialize=ix.sites, ordered=True)
    m.open = pyo.Var(m.SITES, domain=pyo.Binary)
    for s in ix.sites:
        if ds.sites.at[s, "existing"]:
            m.open[s].fix(1)


def add_compute(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Σ racks = gpu_racks [racks]; min_racks·gpu_s ≤ Σ_k racks_{s,k} ≤ max_racks_s·gpu_s;
    racks_{s,k} ≤ max_racks_s·cool_{s,k} (racks cooled by the site's method, only methods
    with max_rack_kw ≥ rack_kw); gpu_s ≤ open_s; Σ gpu_s ≤ max_gpu_sites."""
    dem = ds.settings.demand
    m.GPU_SITES = pyo.Set(initialize=ix.gpu_sites, ordered=True)
    m.RACK_COOLING = pyo.Set(initialize=ix.rack_methods, ordered=True)
    m.gpu = pyo.Var(m.GPU_SITES, domain=pyo.Binary)
    m.racks = pyo.Var(
        m.GPU_SITES,
        m.RACK_COOLING,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, s, k: (0, ix.max_racks[s]),
    )
    if dem.gpu_racks == 0:
        return
    m.compute_total = pyo.Constraint(
        expr=sum(m.racks[s, k] for s in m.GPU_SITES for k in m.RACK_COOLING) == dem.gpu_racks
    )

    def site_racks(s: str) -> pyo.Expression:
        return sum(m.racks[s, k] for k in m.RACK_COOLING)

    m.compute_min_racks = pyo.Constraint(
        m.GPU_SITES, rule=lambda _, s: site_racks(s) >= dem.min_racks_per_gpu_site * m.gpu[s]
    )
    m.compute_max_racks = pyo.Constraint(
        m.GPU_SITES, rule=lambda _, s: site_racks(s) <= ix.max_racks[s] * m.gpu[s]
    )
    m.compute_gpu_open = pyo.Constraint(m.GPU_SITES, rule=lambda _, s: m.gpu[s] <= m.open[s])
    m.compute_rack_cooling = pyo.Constraint(
        m.GPU_SITES,
        m.RACK_COOLING,
        rule=lambda _, s, k: m.racks[s, k] <= ix.max_racks[s] * m.cool[s, k],
    )
    add_zone_cap(m, ds, ix, site_racks)
    if dem.max_gpu_sites is not None and dem.max_gpu_sites < len(ix.gpu_sites):
        m.compute_max_sites = pyo.Constraint(
            expr=sum(m.gpu[s] for s in m.GPU_SITES) <= dem.max_gpu_sites
        )


#: The zone cap and the scale-across rows of families/traffic.py are added up to this many
#: GPU-capable sites. Japan (15) is proven at the root with them (2.9 s against 9.5 s);
#: at 200 generated sites (120 GPU-capable) the LP routing the fractional pairs' traffic
#: was so slow that HiGHS overran its time limit by 160 s (docs/model.md).
STRENGTHEN_MAX_GPU_SITES = 50


def add_zone_cap(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, site_racks: Callable[[str], Any]
) -> None:
    """LP strengthening, implied by the rows (explain.py leaves it out): with zone survival
    (need = ⌈share × gpu_racks⌉ ≥ 1 racks outside every zone) another GPU site, outside
    the site's zone, holds at least max(need, min_racks_per_gpu_site) racks, so
    Σ_k racks_{s,k} ≤ cap_s·gpu_s and racks_{s,k} ≤ cap_s·cool_{s,k} with
    cap_s = gpu_racks − max(need, min_racks) where that is below the site's rack cap.
    Without it a site may take all but a few racks at gpu_s ≈ ½ in the LP relaxation,
    so the scale-across pair (pair ≥ gpu_a + gpu_b − 1) and its traffic vanish."""
    dem = ds.settings.demand
    need = survival_racks(ds)
    if need < 1 or len(ix.gpu_sites) > STRENGTHEN_MAX_GPU_SITES:
        return
    cap = dem.gpu_racks - max(need, dem.min_racks_per_gpu_site)
    tighter = [s for s in ix.gpu_sites if cap < ix.max_racks[s]]
    if not tighter or cap < 0:
        return
    m.compute_zone_cap = pyo.Constraint(tighter, rule=lambda _, s: site_racks(s) <= cap * m.gpu[s])
    m.compute_zone_cap_cool = pyo.Constraint(
        tighter, m.RACK_COOLING, rule=lambda _, s, k: m.racks[s, k] <= cap * m.cool[s, k]
    )


def survival_racks(ds: Dataset) -> int:
    """⌈zone_survival_share × gpu_racks⌉, the racks outside every zone (0 without zone
    survival). Racks are whole, so the share is rounded up to a whole number of racks (less
    1e-6, so that a product such as 0.3 × 10 = 3.0000000000000004 stays 3)."""
    share = ds.settings.resilience.zone_survival_share
    return math.ceil(share * ds.settings.demand.gpu_racks - 1e-6) if share > 0 else 0


def add_zone_survival(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """For every zone z: Σ_{s ∉ z} racks_s ≥ ⌈zone_survival_share × gpu_racks⌉ [racks]
    (:func:`survival_racks`); the verifier accepts a shortfall of 1e-6 racks."""
    share = ds.settings.resilience.zone_survival_share
    if share <= 0 or not ix.gpu_sites:
        return
    need = survival_racks(ds)
    zones = sorted(z for z, members in ix.zones.items() if set(members) & set(ix.gpu_sites))
    m.ZONES = pyo.Set(initialize=zones, ordered=True)
    m.compute_zone_survival = pyo.Constraint(
        m.ZONES,
        rule=lambda _, z: (
            sum(m.racks[s, k] for s in m.GPU_SITES if s not in ix.zones[z] for k in m.RACK_COOLING)
            >= need
        ),
    )


def add_storage(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Σ stor_s = storage_pb × storage_copies [PB]; with more than one copy each zone holds
    at most storage_pb; stor_s ≤ ub_s × open_s."""
    dem = ds.settings.demand
    m.STORAGE_SITES = pyo.Set(initialize=ix.storage_sites, ordered=True)
    m.stor = pyo.Var(
        m.STORAGE_SITES, domain=pyo.NonNegativeReals, bounds=lambda _, s: (0, ix.storage_ub[s])
    )
    if dem.storage_pb <= 0:
        return
    m.storage_total = pyo.Constraint(
        expr=sum(m.stor[s] for s in m.STORAGE_SITES) == dem.storage_pb * dem.storage_copies
    )
    m.storage_open = pyo.Constraint(
        m.STORAGE_SITES, rule=lambda _, s: m.stor[s] <= ix.storage_ub[s] * m.open[s]
    )
    if dem.storage_copies > 1:
        zones = sorted(z for z, members in ix.zones.items() if set(members) & set(ix.storage_sites))
        m.STORAGE_ZONES = pyo.Set(initialize=zones, ordered=True)
        m.storage_zone_copy = pyo.Constraint(
            m.STORAGE_ZONES,
            rule=lambda _, z: (
                sum(m.stor[s] for s in m.STORAGE_SITES if s in ix.zones[z]) <= dem.storage_pb
            ),
        )
