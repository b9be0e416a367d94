"""Checks of links, capacity, latency and routers (docs/contract.md §3, §4.6–4.7).

- ``links``: type, medium, reach, offers (types, prices, max_units), route max_units;
  capacity_gbps, power_w, capex_usd, opex per unit; both ends of a lit route open;
- ``capacity``: Σ flow per route and direction (both together when shared) ≤ units ×
  capacity + existing_gbps; nothing against a directed route; links.csv max_flow_gbps is
  the busiest direction of flows.csv (a ``results`` comparison);
- ``latency``: each path's latency recomputed (km × µs/km + slowest allowed DSP + hops)
  and within the commodity's bound from the data;
- ``routers``: ports, switching capacity, min_routers_per_site, deep-buffer ports;
  MACsec (contract §10): ports of units on MACsec routes ≤ ports of MACsec models, those
  also past deep_buffer_over_km ≤ ports of models with both, ports needing either ≤ ports
  of models with either; only models of ``[network] stacks`` (contract §11).
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import networkx as nx
import pandas as pd

from model.verify.base import VerifierBase
from model.verify.readback import FlowPath
from model.verify.violations import ABS_TOL, _f, _tol


class NetworkChecks(VerifierBase):
    """``links``, ``capacity``, ``latency``, ``routers``."""

    def links(self) -> None:
        eq, le = self._cmp("links")
        rep, ds = self.r, self.ds
        routes, types = ds.routes, ds.link_types
        excluded = set(self.s.network.exclude_media)
        seen: set[tuple[str, str]] = set()
        for i, row in self.d.links.iterrows():
            r, t, n = row["route"], row["type"], row["units"]
            route = routes.loc[r]
            obj = f"route {r} type {t}"
            rep.count("links")
            if (r, t) in seen:
                rep.fail("links", obj, f"links.csv row {i + 1} repeats the route and type")
            seen.add((r, t))
            if {row["a"], row["b"]} != {route["a"], route["b"]} or row["medium"] != route["medium"]:
                rep.fail(
                    "links",
                    obj,
                    f"ends and medium are {row['a']}-{row['b']} "
                    f"{row['medium']}, routes.csv says {route['a']}-{route['b']} "
                    f"{route['medium']}",
                )
            eq(obj, "km", row["km"], route["km"], _tol(route["km"]))
            if t == "existing":
                eq(obj, "units on a route carried by existing capacity", n, 0, 0)
                continue
            if not (n >= 0 and n == int(n)):
                rep.fail("links", obj, f"units {_f(n)} is not a whole number ≥ 0")
                continue
            if t not in types.index:
                rep.fail("links", obj, f"type {t!r} is not in link_types.csv")
                continue
            lt = types.loc[t]
            if n > 0 and (r, t) not in self.options.index:
                if lt["medium"] != route["medium"]:
                    why = f"type runs on {lt['medium']}, route is {route['medium']}"
                elif lt["reach_km"] < route["km"]:
                    why = f"reach_km {_f(lt['reach_km'])} < route km {_f(route['km'])}"
                elif route["medium"] in excluded:
                    why = f"medium {route['medium']} is excluded"
                elif not self._in_stacks(lt.get("stack")):
                    why = f"stack {lt['stack']!r} is not in [network] stacks"
                else:
                    why = "the route has offers and none for this type"
                rep.fail("links", obj, f"{_f(n)} units of a type not allowed here: {why}")
            opt = self._type(r, t)
            if opt["max_units"] is not None and not pd.isna(opt["max_units"]):
                le(obj, "units > offer max_units", n, opt["max_units"], 0)
            eq(
                obj,
                f"capacity_gbps ({_f(n)} × {_f(lt['capacity_gbps'])})",
                row["capacity_gbps"],
                n * lt["capacity_gbps"],
                _tol(row["capacity_gbps"]),
            )
            eq(
                obj,
                f"power_w ({_f(n)} × {_f(lt['power_w'])})",
                row["power_w"],
                n * lt["power_w"],
                _tol(row["power_w"]),
            )
            eq(
                obj,
                f"capex_usd ({_f(n)} × {_f(opt['capex_usd'])})",
                row["capex_usd"],
                n * opt["capex_usd"],
                _tol(row["capex_usd"], abs_tol=0.01),
            )
            if "opex_usd_per_year" in row and not pd.isna(row["opex_usd_per_year"]):
                eq(
                    obj,
                    f"opex_usd_per_year ({_f(n)} × {_f(opt['opex_usd_per_year'])})",
                    row["opex_usd_per_year"],
                    n * opt["opex_usd_per_year"],
                    _tol(n * opt["opex_usd_per_year"], abs_tol=0.01),
                )
        per_route: dict[str, float] = defaultdict(float)
        for (r, _), n in self.units.items():
            per_route[r] += n
        for r, n in sorted(per_route.items()):
            cap = routes.at[r, "max_units"]
            if cap is not None and not pd.isna(cap):
                le(f"route {r}", "Σ units > route max_units", n, cap, 0)
            if n > 0:
                for end in (routes.at[r, "a"], routes.at[r, "b"]):
                    rep.count("links")
                    if self.open.get(end) != 1:
                        rep.fail(
                            "links", f"route {r}", f"lit ({_f(n)} units) but end {end} is closed"
                        )
        for r in sorted(self.route_flow):
            rep.count("links")
            if routes.at[r, "medium"] in excluded:
                rep.fail(
                    "links",
                    f"route {r}",
                    f"carries traffic on excluded medium {routes.at[r, 'medium']}",
                )

    def capacity(self) -> None:
        le = self._cmp("capacity")[1]
        routes = self.ds.routes
        cap: dict[str, float] = defaultdict(float)
        for (r, t), n in self.units.items():
            if t in self.ds.link_types.index:
                cap[r] += n * self.ds.link_types.at[t, "capacity_gbps"]
        for (r, way), load in sorted(self.load.items()):
            a, b = routes.at[r, "a"], routes.at[r, "b"]
            label = {"ab": f"{a}→{b}", "ba": f"{b}→{a}", "both": "both directions"}[way]
            if way == "ba" and self._directed(r):
                self.r.count("capacity")
                msg = f"{_f(load)} Gbps {label} on a route directed {a}→{b}"
                self.r.fail("capacity", f"route {r}", msg)
            total = cap[r] + routes.at[r, "existing_gbps"]
            le(
                f"route {r} {label}",
                "Σ flow Gbps > Σ units × capacity_gbps + existing_gbps",
                load,
                total,
                _tol(load, total, abs_tol=ABS_TOL + 1e-6 * len(self.d.paths)),
            )
        if "max_flow_gbps" not in self.d.links.columns:
            return
        for r, rows in self.d.links.groupby("route"):
            want = max((v for (rr, _), v in self.load.items() if rr == r), default=0.0)
            self.r.eq(
                "results",
                f"route {r} (links.csv against the busiest direction in flows.csv)",
                "max_flow_gbps",
                rows["max_flow_gbps"].max(),
                want,
                _tol(want, abs_tol=2e-3),
            )

    def _in_stacks(self, stack: object) -> bool:
        """Contract §11: an empty stack fits every stack; no stacks chosen: all fit."""
        stacks = self.s.network.stacks
        return not stack or pd.isna(stack) or not stacks or stack in stacks

    def _directed(self, r: str) -> bool:
        routes = self.ds.routes
        return "directed" in routes.columns and bool(routes.at[r, "directed"])

    def _bound(self, p: FlowPath) -> float | None:
        dem = self.s.demand
        if p.kind == "storage":
            return dem.storage_latency_ms
        if p.kind == "sync":
            return dem.sync_latency_ms
        if p.kind == "replication":
            return dem.replication_latency_ms
        if p.kind == "inference":  # inference:A>B@region (contract §9)
            region = p.commodity.rpartition("@")[2]
            users = self.ds.users
            if region in users.index and not pd.isna(users.at[region, "max_latency_ms"]):
                return float(users.at[region, "max_latency_ms"])
            return None
        d = p.commodity.removeprefix("demand:")
        if d in self.ds.demands.index and not pd.isna(self.ds.demands.at[d, "max_latency_ms"]):
            return float(self.ds.demands.at[d, "max_latency_ms"])
        return None

    def _route_latency_us(self, r: str) -> float:
        route = self.ds.routes.loc[r]
        per_km = self.s.network.latency_us_per_km[route["medium"]]
        return route["km"] * per_km + self.dsp.get(r, 0.0)

    def latency(self) -> None:
        eq, le = self._cmp("latency")
        hop_us = self.s.network.hop_latency_us
        for p in self.d.paths:
            obj = f"{p.commodity} path {'>'.join(p.nodes)}"
            us = sum(self._route_latency_us(r) for r, _ in p.hops)
            ms = (us + hop_us * max(0, len(p.nodes) - 2)) / 1000.0
            eq(obj, "latency_ms", p.latency_ms, ms, 2e-6 + 1e-9 * ms)
            bound = self._bound(p)
            given = None if pd.isna(p.bound_ms) else p.bound_ms
            self.r.count("latency")
            if (given is None) != (bound is None) or (
                bound is not None and abs(given - bound) > 1e-9
            ):
                self.r.fail("latency", obj, f"bound_ms is {_f(given)}, the data says {_f(bound)}")
            if bound is not None:
                le(obj, "latency_ms > bound", ms, bound, 1e-9)
        dem = self.s.demand
        if dem.sync_latency_ms is not None and dem.sync_gbps <= 0:
            gpu = sorted(s for s, n in self.rack_count.items() if n > 0)
            for a, b in itertools.combinations(gpu, 2):
                best = self._best_latency_ms(a, b)
                if best is None:
                    self.r.count("latency")
                    self.r.fail("latency", f"GPU sites {a}, {b}", "no route path joins them")
                else:
                    le(
                        f"GPU sites {a}, {b}",
                        "best path latency_ms > sync_latency_ms",
                        best,
                        dem.sync_latency_ms,
                        1e-9,
                    )

    def _best_latency_ms(self, a: str, b: str) -> float | None:
        hop = self.s.network.hop_latency_us
        g = nx.DiGraph()
        excluded = set(self.s.network.exclude_media)
        for r in self.ds.routes.itertuples():
            if r.medium in excluded or (r.route not in self.dsp and r.existing_gbps <= 0):
                continue
            w = self._route_latency_us(r.route) + hop
            ways = [(r.a, r.b)] if self._directed(r.route) else [(r.a, r.b), (r.b, r.a)]
            for u, v in ways:
                if not g.has_edge(u, v) or g[u][v]["w"] > w:
                    g.add_edge(u, v, w=w)
        try:
            return (nx.dijkstra_path_length(g, a, b, weight="w") - hop) / 1000.0
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None

    def routers(self) -> None:
        eq, le = self._cmp("routers")
        rep, routers = self.r, self.ds.routers
        n_min = self.s.resilience.min_routers_per_site
        for s, row in self.d.sites.iterrows():
            counts = self.router_counts[s]
            n = sum(counts.values())
            obj = f"site {s}"
            eq(obj, "routers (Σ router_models)", row["routers"], n, 0)
            if n and self.open[s] != 1:
                rep.count("routers")
                rep.fail("routers", obj, f"{n} routers at a closed site")
            for model_id in sorted(k for k, c in counts.items() if c > 0):
                rep.count("routers")
                if not self._in_stacks(routers.at[model_id, "stack"]):
                    rep.fail(
                        "routers",
                        obj,
                        f"router model {model_id} is of stack {routers.at[model_id, 'stack']!r}, "
                        f"not of [network] stacks {', '.join(self.s.network.stacks)}",
                    )
            links = self._site_links(s)
            if not links:
                continue
            lts = self.ds.link_types
            ports = sum(lts.at[t, "ports"] * u for _, t, u in links if t in lts.index)
            gbps = sum(lts.at[t, "capacity_gbps"] * u for _, t, u in links if t in lts.index)
            have_ports = sum(routers.at[m, "ports"] * k for m, k in counts.items())
            have_gbps = sum(routers.at[m, "capacity_gbps"] * k for m, k in counts.items())
            lit = ", ".join(sorted({r for r, _, _ in links}))
            le(obj, f"ports of units on {lit} > router ports", ports, have_ports, 0)
            le(obj, f"Gbps of units on {lit} > router capacity_gbps", gbps, have_gbps, _tol(gbps))
            le(obj, "min_routers_per_site > routers", n_min, n, 0)
            deep = 0.0
            for r, t, u in links:
                over = lts.at[t, "deep_buffer_over_km"] if t in lts.index else None
                if over is not None and not pd.isna(over) and self.ds.routes.at[r, "km"] > over:
                    deep += lts.at[t, "ports"] * u
            if deep > 0:
                have = sum(
                    routers.at[m, "ports"] * k
                    for m, k in counts.items()
                    if routers.at[m, "deep_buffer"]
                )
                le(
                    obj,
                    "ports of units past deep_buffer_over_km > ports of deep-buffer routers",
                    deep,
                    have,
                    0,
                )
            self._macsec(s, links, counts)

    def _macsec(self, s: str, links: list[tuple[str, str, float]], counts: dict[str, int]) -> None:
        """Contract §10 at site s: ports of units on MACsec routes land on MACsec models;
        those also past deep_buffer_over_km on models with both; ports that need either on
        models with either."""
        le = self._cmp("routers")[1]
        routes, lts, routers = self.ds.routes, self.ds.link_types, self.ds.routers
        if "macsec" not in routes.columns:
            return
        need = {"macsec": 0.0, "both": 0.0, "either": 0.0}
        for r, t, u in links:
            if t not in lts.index:
                continue
            ports = lts.at[t, "ports"] * u
            over = lts.at[t, "deep_buffer_over_km"]
            deep = over is not None and not pd.isna(over) and routes.at[r, "km"] > over
            secure = bool(routes.at[r, "macsec"])
            need["macsec"] += ports if secure else 0.0
            need["both"] += ports if secure and deep else 0.0
            need["either"] += ports if secure or deep else 0.0
        if need["macsec"] <= 0:
            return

        def have(keep) -> float:
            return sum(
                routers.at[k, "ports"] * c
                for k, c in counts.items()
                if keep(bool(routers.at[k, "macsec"]), bool(routers.at[k, "deep_buffer"]))
            )

        obj = f"site {s}"
        le(
            obj,
            "ports of units on MACsec routes > ports of MACsec routers",
            need["macsec"],
            have(lambda mac, _deep: mac),
            0,
        )
        le(
            obj,
            "ports of units on MACsec routes past deep_buffer_over_km > ports of routers "
            "with MACsec and deep buffer",
            need["both"],
            have(lambda mac, deep: mac and deep),
            0,
        )
        le(
            obj,
            "ports of units on MACsec routes or past deep_buffer_over_km > ports of routers "
            "with MACsec or deep buffer",
            need["either"],
            have(lambda mac, deep: mac or deep),
            0,
        )
