"""Check of costs: every cost figure of sites, links and summary recomputed (docs/contract.md §6).

- ``costs``: per site and per route the annual cost from the data (CRF × capex, opex,
  energy, carbon), then every total of summary.csv, power and counts included.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from model.verify.base import VerifierBase
from model.verify.readback import REQUIRED
from model.verify.violations import CENT, COST_PARTS, WATT, _tol

HOURS_PER_YEAR_K = 8.76  # kW·year → MWh


class CostChecks(VerifierBase):
    """``costs``: per site, per route, then summary.csv."""

    def costs(self) -> None:
        eq = self._cmp("costs")[0]
        ds, econ = self.ds, self.s.economics
        crf = {c: econ.crf(c) for c in ("site", "cooling", "router", "optics")}
        parts: dict[str, float] = defaultdict(float)
        capex = slack = capex_slack = 0.0
        reported = 0.0
        for s, row in self.d.sites.iterrows():
            site = ds.sites.loc[s]
            fac, it = row["facility_kw"], row["it_kw"]
            fac, it = (0.0 if pd.isna(fac) else fac), (0.0 if pd.isna(it) else it)
            opening = 0.0 if site["existing"] else site["open_capex_usd"] * self.open[s]
            method = row["cooling"]
            per_kw = (
                ds.cooling.at[method, "capex_usd_per_kw"] if method in ds.cooling.index else 0.0
            )
            router_capex = sum(
                ds.routers.at[m, "capex_usd"] * n for m, n in self.router_counts[s].items()
            )
            carbon_k = econ.carbon_usd_per_t * HOURS_PER_YEAR_K * site["carbon_kg_per_mwh"] / 1000
            mine = {
                "sites": crf["site"] * (opening + site["build_usd_per_kw"] * fac),
                "cooling": crf["cooling"] * per_kw * it,
                "routers": crf["router"] * router_capex,
                "energy": HOURS_PER_YEAR_K * site["energy_usd_per_mwh"] * fac,
                "carbon": carbon_k * fac,
            }
            d_fac = (
                crf["site"] * site["build_usd_per_kw"]
                + HOURS_PER_YEAR_K * site["energy_usd_per_mwh"]
                + carbon_k
            )
            tol = _tol(sum(mine.values()), abs_tol=0.01 + WATT * (d_fac + crf["cooling"] * per_kw))
            slack += tol
            eq(f"site {s}", "annual_cost_usd", row["annual_cost_usd"], sum(mine.values()), tol)
            reported += 0.0 if pd.isna(row["annual_cost_usd"]) else row["annual_cost_usd"]
            for k, v in mine.items():
                parts[k] += v
            one_time = opening + site["build_usd_per_kw"] * fac + per_kw * it + router_capex
            capex += one_time
            tol = _tol(one_time, abs_tol=0.01 + WATT * (site["build_usd_per_kw"] + per_kw))
            capex_slack += tol
            if "capex_usd" in row and not pd.isna(row["capex_usd"]):
                eq(f"site {s}", "capex_usd", row["capex_usd"], one_time, tol)
        links_by_route = dict(list(self.d.links.groupby("route")))
        for r in sorted(set(links_by_route) | set(self.route_flow) | {r for r, _ in self.units}):
            route = ds.routes.loc[r]
            units = {t: n for (rr, t), n in self.units.items() if rr == r}
            lit = any(n > 0 for n in units.values())
            mine = defaultdict(float)
            mine["routes"] = crf["site"] * route["build_capex_usd"] * lit
            mine["flow"] = route["flow_usd_per_gbps_year"] * self.route_flow.get(r, 0.0)
            for t, n in units.items():
                opt = self._type(r, t)
                mine["optics"] += crf["optics"] * opt["capex_usd"] * n
                mine["link_opex"] += opt["opex_usd_per_year"] * n
                capex += opt["capex_usd"] * n
            capex += route["build_capex_usd"] * lit
            for k, v in mine.items():
                parts[k] += v
            rows = links_by_route.get(r)
            tol = _tol(sum(mine.values()), abs_tol=0.01 * (1 + len(units)))
            slack += tol
            if rows is not None and "annual_cost_usd" in rows:
                got = rows["annual_cost_usd"].fillna(0.0).sum()
                reported += got
                eq(f"route {r}", "Σ links.csv annual_cost_usd", got, sum(mine.values()), tol)
        capex_slack += 0.01 * len(links_by_route)
        self._summary(parts, capex, slack, capex_slack, reported)

    def _summary(
        self,
        parts: dict[str, float],
        capex: float,
        slack: float,
        capex_slack: float,
        reported: float,
    ) -> None:
        eq = self._cmp("costs")[0]
        sm = self.d.summary
        sites = self.d.sites
        annual = sum(parts.values())
        n_rows = len(sites) + len(self.d.links)

        def check(col: str, want: float, tol: float) -> None:
            optional = col not in REQUIRED["summary.csv"].split()
            if col in sm and not (pd.isna(sm[col]) and optional):
                eq("summary.csv", col, sm[col], want, tol)

        check("annual_cost_usd", annual, slack + _tol(annual))
        if "annual_cost_usd" in self.d.links.columns:
            eq(
                "summary.csv",
                "annual_cost_usd (vs Σ sites + Σ links annual_cost_usd)",
                sm["annual_cost_usd"],
                reported,
                _tol(reported, abs_tol=0.01 + CENT * n_rows),
            )
        for p in COST_PARTS:
            check(f"annual_{p}_usd", parts[p], slack + _tol(parts[p]))
        fac = sites["facility_kw"].fillna(0.0).sum()
        power_mw = fac / 1000.0
        check("capex_usd", capex, capex_slack + _tol(capex))
        check("opex_usd_per_year", parts["link_opex"] + parts["flow"], slack + 0.01)
        check("energy_usd_per_year", parts["energy"], slack + 0.01)
        check("carbon_usd_per_year", parts["carbon"], slack + 0.01)
        weight = self.s.economics.power_weight_usd_per_mw_year
        check(
            "objective",
            annual + weight * power_mw,
            slack + _tol(annual) + weight * WATT * len(sites) / 1000,
        )
        check("power_mw", power_mw, _tol(power_mw, abs_tol=1e-6 + WATT * len(sites) / 1000))
        it_mw = sites["it_kw"].fillna(0.0).sum() / 1000.0
        check("it_power_mw", it_mw, _tol(it_mw, abs_tol=1e-6 + WATT * len(sites) / 1000))
        net = (
            sum(
                self.ds.routers.at[m, "power_kw"] * n
                for c in self.router_counts.values()
                for m, n in c.items()
            )
            + sum(self._type(r, t)["power_w"] * n for (r, t), n in self.units.items()) / 1000.0
        )
        check("network_power_kw", net, _tol(net))
        check("gpu_sites", sum(1 for n in self.rack_count.values() if n > 0), 0)
        check("storage_sites", sum(1 for v in self.pb.values() if v > 1e-6), 0)
        check("routes_lit", len(self.lit), 0)
        check("units", sum(self.units.values()), 0)
        check("routers", sum(sum(c.values()) for c in self.router_counts.values()), 0)
        check("gpu_racks", sum(self.rack_count.values()), 0)
        rack_capex = sum(self.rack_count.values()) * self.s.demand.rack_capex_usd
        check("rack_capex_usd", rack_capex, _tol(rack_capex, abs_tol=0.01))
