"""Checks of sites, racks, storage, zone survival and cooling (docs/contract.md §4).

- ``sites``: open is 0/1, existing sites are open;
- ``racks``: Σ racks = gpu_racks; racks only at open GPU sites, within
  min_racks_per_gpu_site and max_racks; at most max_gpu_sites;
- ``storage``: Σ PB = storage_pb × copies, only at open storage sites; with copies > 1
  no zone holds more than storage_pb;
- ``zone_survival``: racks outside every zone ≥ zone_survival_share × gpu_racks;
- ``cooling``: a method of cooling.csv at open non-transit sites that takes rack_kw where
  racks are; it_kw = racks + storage + routers + ½ optics; facility_kw = (PUE + offset) ×
  it_kw (transit_pue at transit nodes) ≤ 1000 × max_power_mw; nothing at closed sites.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from model.verify.base import VerifierBase
from model.verify.violations import ABS_TOL, WATT, _f, _tol


class SiteChecks(VerifierBase):
    """``sites``, ``racks``, ``storage``, ``zone_survival``, ``cooling``."""

    def _transit(self, s: str) -> bool:
        return not (self.ds.sites.at[s, "gpu"] or self.ds.sites.at[s, "storage"])

    def _pue(self, s: str) -> float | None:
        off = self.ds.sites.at[s, "pue_offset"]
        if self._transit(s):
            return self.s.network.transit_pue + off
        method = self.d.sites.at[s, "cooling"]
        return self.ds.cooling.at[method, "pue"] + off if method in self.ds.cooling.index else None

    # -- families
    def sites(self) -> None:
        for s, row in self.d.sites.iterrows():
            self.r.count("sites")
            if self.open[s] not in (0, 1):
                self.r.fail("sites", f"site {s}", f"open is {_f(row['open'])}, not 0 or 1")
            if self.ds.sites.at[s, "existing"] and self.open[s] != 1:
                self.r.fail("sites", f"site {s}", "an existing site must be open, open is 0")

    def racks(self) -> None:
        eq, le = self._cmp("racks")
        dem, rep = self.s.demand, self.r
        total = sum(self.rack_count.values())
        eq("all sites", "Σ gpu_racks", total, dem.gpu_racks, 0.5)
        gpu_sites = [s for s, n in self.rack_count.items() if n > 0]
        for s, n in self.rack_count.items():
            raw = self.d.sites.at[s, "gpu_racks"]
            rep.count("racks")
            if raw != n or n < 0:
                rep.fail("racks", f"site {s}", f"gpu_racks {_f(raw)} is not a whole number ≥ 0")
            if n <= 0:
                continue
            if not self.ds.sites.at[s, "gpu"]:
                rep.fail("racks", f"site {s}", f"{n} racks at a site with gpu = 0")
            if self.open[s] != 1:
                rep.fail("racks", f"site {s}", f"{n} racks at a closed site")
            le(f"site {s}", "min_racks_per_gpu_site > racks", dem.min_racks_per_gpu_site, n, 0)
            cap = self.ds.sites.at[s, "max_racks"]
            if cap is not None and not pd.isna(cap):
                le(f"site {s}", "racks > max_racks", n, cap, 0)
        if dem.max_gpu_sites is not None:
            le(
                ", ".join(gpu_sites) or "none",
                "GPU sites > max_gpu_sites",
                len(gpu_sites),
                dem.max_gpu_sites,
                0,
            )

    def storage(self) -> None:
        eq, le = self._cmp("storage")
        dem, rep = self.s.demand, self.r
        total = sum(self.pb.values())
        want = dem.storage_pb * dem.storage_copies
        eq("all sites", "Σ storage_pb", total, want, _tol(want, abs_tol=1e-6 * (1 + len(self.pb))))
        zones: dict[str, float] = defaultdict(float)
        for s, pb in self.pb.items():
            rep.count("storage")
            if pb < -1e-9:
                rep.fail("storage", f"site {s}", f"storage_pb {_f(pb)} < 0")
            if pb <= 1e-9:
                continue
            zones[self.ds.sites.at[s, "zone"]] += pb
            if not self.ds.sites.at[s, "storage"]:
                rep.fail("storage", f"site {s}", f"{_f(pb)} PB at a site with storage = 0")
            if self.open[s] != 1:
                rep.fail("storage", f"site {s}", f"{_f(pb)} PB at a closed site")
        if dem.storage_copies > 1:
            for z, pb in sorted(zones.items()):
                members = [s for s in self.pb if self.ds.sites.at[s, "zone"] == z]
                le(
                    f"zone {z} ({', '.join(sorted(members))})",
                    f"PB in one zone > storage_pb (copies {dem.storage_copies} need distinct "
                    "zones)",
                    pb,
                    dem.storage_pb,
                    _tol(pb, abs_tol=1e-6),
                )

    def zone_survival(self) -> None:
        le = self._cmp("zone_survival")[1]
        share = self.s.resilience.zone_survival_share
        if share <= 0:
            return
        need = share * self.s.demand.gpu_racks
        total = sum(self.rack_count.values())
        zones: dict[str, int] = defaultdict(int)
        for s, n in self.rack_count.items():
            zones[self.ds.sites.at[s, "zone"]] += n
        for z in sorted(set(self.ds.sites["zone"])):
            le(
                f"zone {z}",
                f"{share:g} × gpu_racks > racks outside the zone",
                need,
                total - zones.get(z, 0),
                1e-6,  # racks are whole: a requirement 1e-6 above a whole number is that number
            )

    def cooling(self) -> None:
        eq, le = self._cmp("cooling")
        dem, rep, ds = self.s.demand, self.r, self.ds
        for s, row in self.d.sites.iterrows():
            method, it, fac = row["cooling"], row["it_kw"], row["facility_kw"]
            obj = f"site {s}"
            rep.count("cooling")
            if self.open[s] != 1:
                if method or (it or 0) > WATT or (fac or 0) > WATT:
                    rep.fail(
                        "cooling",
                        obj,
                        f"closed site has cooling {method!r}, it_kw "
                        f"{_f(it)}, facility_kw {_f(fac)}",
                    )
                continue
            if self._transit(s):
                if method not in ("transit", ""):
                    rep.fail("cooling", obj, f"transit node reports cooling {method!r}")
            elif method not in ds.cooling.index:
                rep.fail(
                    "cooling", obj, f"open site has cooling {method!r}, not a method of cooling.csv"
                )
            elif self.rack_count[s] > 0 or self.inference[s] > 0:
                le(
                    f"{obj} ({method})",
                    "rack_kw > max_rack_kw of its method",
                    dem.rack_kw,
                    ds.cooling.at[method, "max_rack_kw"],
                    1e-9,
                )
            expect = dem.rack_kw * (self.rack_count[s] + self.inference[s])
            expect += dem.storage_kw_per_pb * self.pb[s]
            expect += sum(
                ds.routers.at[m, "power_kw"] * n for m, n in self.router_counts[s].items()
            )
            expect += sum(
                self._type(r, t)["power_w"] / 2000.0 * n for r, t, n in self._site_links(s)
            )
            eq(
                obj,
                "it_kw (training and inference racks + storage + routers + ½ optics)",
                it,
                expect,
                _tol(it, expect, abs_tol=ABS_TOL + 1e-6 * dem.storage_kw_per_pb),
            )
            pue = self._pue(s)
            if pue is not None:
                eq(
                    f"{obj} ({method or 'transit'})",
                    f"facility_kw (PUE {pue:g} × it_kw {_f(it)})",
                    fac,
                    pue * it,
                    _tol(fac, abs_tol=ABS_TOL * (1 + pue)),
                )
            cap = ds.sites.at[s, "max_power_mw"]
            if cap is not None and not pd.isna(cap):
                le(obj, "facility_kw > 1000 × max_power_mw", fac, 1000 * cap, _tol(fac))
