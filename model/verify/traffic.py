"""Checks of traffic: demands met, storage bandwidth, sync, protection (contract §3, §4.4–4.5).

- ``traffic``: every commodity carries its demand; storage bandwidth per GPU site and per
  storage site; sync_gbps between every pair of GPU sites; demands.csv in full;
  replication between storage copies (contract §12); protected_share of each protected
  commodity survives every failure.

Who is protected (docs/contract.md §7): storage and scale-across traffic when
``link_protection`` is ``diverse``; an explicit demand when its own ``protected`` column is
1, whatever ``link_protection`` says. A ``protected_share`` of 0 asks nothing to survive,
so then nothing is protected (flows.csv ``protected`` is 0).

Storage roles: see :mod:`model.verify` ("Storage roles") for how same-named storage
commodities are paired into read and write directions.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from model.network import route_failures
from model.verify.base import VerifierBase
from model.verify.readback import Commodity, commodities
from model.verify.violations import Violation, _f, _tol

MAX_ROLE_COMBINATIONS = 4096


class TrafficChecks(VerifierBase):
    """``traffic``: demands, storage bandwidth (with storage roles), sync, protection."""

    def traffic(self) -> None:
        le = self._cmp("traffic")[1]
        rep, dem = self.r, self.s.demand
        coms = commodities(self.d.paths)
        storage = [c for c in coms if c.kind == "storage"]
        self._storage(storage)
        for c in coms:
            if c.kind not in ("storage", "sync", "demand", "replication", "inference"):
                rep.fail(
                    "traffic",
                    c.name,
                    f"kind {c.kind!r} is not storage, sync, replication, inference or demand",
                )
            need = c.demand_gbps * c.multiplicity
            le(
                c.name,
                "demand_gbps > Σ flow on its paths",
                need,
                c.total_gbps,
                _tol(need, abs_tol=1e-6 * (1 + len(c.paths))),
            )
        sync = defaultdict(float)
        for c in coms:
            if c.kind == "sync":
                sync[(c.src, c.dst)] += c.total_gbps
                le(c.name, "demand_gbps > sync_gbps", c.demand_gbps, dem.sync_gbps, 1e-6)
        if dem.sync_gbps > 0:
            gpu = sorted(s for s, n in self.rack_count.items() if n > 0)
            for a, b in itertools.permutations(gpu, 2):
                le(
                    f"sync {a}→{b}",
                    "sync_gbps > Σ flow",
                    dem.sync_gbps,
                    sync.get((a, b), 0.0),
                    _tol(dem.sync_gbps, abs_tol=1e-5),
                )
        for d in self.ds.demands.itertuples():
            if d.gbps <= 0:
                continue
            mine = [c for c in coms if c.kind == "demand" and c.id == f"demand:{d.demand}"]
            for c in mine:
                rep.count("traffic")
                if (c.src, c.dst) != (d.src, d.dst):
                    rep.fail(
                        "traffic", c.name, f"runs {c.src}→{c.dst}, demands.csv says {d.src}→{d.dst}"
                    )
            got = sum(c.total_gbps for c in mine if (c.src, c.dst) == (d.src, d.dst))
            le(
                f"demand {d.demand} ({d.src}→{d.dst})",
                "gbps > Σ flow",
                d.gbps,
                got,
                _tol(d.gbps, abs_tol=1e-5),
            )
        self._replication([c for c in coms if c.kind == "replication"])
        self._protection(coms)

    def _replication(self, coms: list[Commodity]) -> None:
        """Contract §12: with storage_copies > 1 and replication_gbps_per_pb > 0, every
        storage site sends rate × PB in total to storage sites of other zones and receives
        no more than rate × PB; no replication traffic otherwise."""
        eq, le = self._cmp("traffic")
        dem, sites = self.s.demand, self.ds.sites
        on = dem.replication_gbps_per_pb > 0 and dem.storage_copies > 1 and dem.storage_pb > 0
        rate = dem.replication_gbps_per_pb if on else 0.0
        sent: dict[str, float] = defaultdict(float)
        got: dict[str, float] = defaultdict(float)
        for c in coms:
            self.r.count("traffic")
            if not on:
                self.r.fail("traffic", c.name, "replication traffic, but the settings ask none")
                continue
            if c.src not in sites.index or c.dst not in sites.index:
                continue  # reported by the results check
            if not (sites.at[c.src, "storage"] and sites.at[c.dst, "storage"]):
                self.r.fail("traffic", c.name, "replication between sites that hold no storage")
            if sites.at[c.src, "zone"] == sites.at[c.dst, "zone"]:
                self.r.fail("traffic", c.name, f"replication inside zone {sites.at[c.src, 'zone']}")
            sent[c.src] += c.demand_gbps
            got[c.dst] += c.demand_gbps
        if not on:
            return
        for a in sorted(set(self.pb) | set(sent) | set(got)):
            need = rate * self.pb.get(a, 0.0)
            obj = f"storage site {a}"
            tol = _tol(need, abs_tol=1e-5)
            eq(obj, "replication sent (Σ demand_gbps)", sent[a], need, tol)
            le(obj, "replication received > replication_gbps_per_pb × PB", got[a], need, tol)

    def _storage(self, coms: list[Commodity]) -> None:
        """Storage: Σ_a h_{a,b} + local ≥ storage_gbps_per_rack × racks_b at every GPU site b;
        Σ_b h_{a,b} + local ≤ storage_gbps_per_pb × PB_a at every storage site a."""
        dem = self.s.demand
        if dem.storage_gbps_per_rack <= 0 and not coms:
            return
        pairs: dict[frozenset[str], list[Commodity]] = defaultdict(list)
        for c in coms:  # zero demand (h = 0) needs no pairing, whatever it carries
            if c.demand_gbps > 1e-9:
                pairs[frozenset((c.src, c.dst))].append(c)
        options = []
        for key, group in sorted(pairs.items(), key=lambda kv: sorted(kv[0])):
            opts = self._pair_options(group)
            if not opts:
                x, y = sorted(key)
                detail = "; ".join(f"{c.src}→{c.dst} {_f(c.demand_gbps)} Gbps" for c in group)
                self.r.fail(
                    "traffic",
                    f"storage {x}↔{y}",
                    "storage flows do not pair up into "
                    f"read and write directions of equal demand: {detail}",
                )
                opts = [self._unpaired(group)]
            options.append(opts)
        best: list[Violation] | None = None
        best_mult: dict[int, int] = {}
        combos = itertools.islice(itertools.product(*options), MAX_ROLE_COMBINATIONS)
        for combo in combos:
            h: dict[tuple[str, str], float] = defaultdict(float)
            mult: dict[int, int] = {}
            for pair_h, pair_mult in combo:
                for k, v in pair_h.items():
                    h[k] += v
                mult.update(pair_mult)
            found = self._storage_sites(h)
            if best is None or len(found) < len(best):
                best, best_mult = found, mult
            if not found:
                break
        for c in coms:
            c.multiplicity = best_mult.get(id(c), 1)
        self.r.count("traffic", len(self.rack_count) + len(self.pb))
        self.r.violations.extend(best or [])

    def _roles(self, c: Commodity) -> list[str]:
        """Which end of a storage commodity holds the storage: ``read`` (src, flow to the GPU
        site), ``write`` (dst), ``both`` (two same-named commodities merged). Roles that
        the design supports (PB at the storage end, racks at the other) come first."""
        if c.paths[0].storage_site:
            return ["read" if c.paths[0].storage_site == c.src else "write"]
        sites = self.ds.sites
        able = {
            "read": sites.at[c.src, "storage"] and sites.at[c.dst, "gpu"],
            "write": sites.at[c.dst, "storage"] and sites.at[c.src, "gpu"],
        }
        used = {
            "read": self.pb.get(c.src, 0) > 1e-9 and self.rack_count.get(c.dst, 0) > 0,
            "write": self.pb.get(c.dst, 0) > 1e-9 and self.rack_count.get(c.src, 0) > 0,
        }
        roles = [r for r in ("read", "write") if able[r] and used[r]]
        roles += [r for r in ("read", "write") if able[r] and not used[r]]
        if len(roles) == 2 and c.total_gbps >= 2 * c.demand_gbps - _tol(c.demand_gbps):
            roles.append("both")
        return roles

    def _pair_options(self, group: list[Commodity]) -> list[tuple[dict, dict]]:
        """Role assignments of one site pair's storage commodities that pair every read
        direction (storage a → GPU b) with a write direction (b → a) of equal demand."""
        out = []
        for roles in itertools.product(*(self._roles(c) for c in group)):
            side: dict[tuple[str, str, str], list[float]] = defaultdict(list)
            mult = {}
            for c, role in zip(group, roles, strict=True):
                mult[id(c)] = 2 if role == "both" else 1
                if role in ("read", "both"):
                    side[("read", c.src, c.dst)].append(c.demand_gbps)
                if role in ("write", "both"):
                    side[("write", c.dst, c.src)].append(c.demand_gbps)
            pairs = {(a, b) for _, a, b in side}
            ok, h = True, {}
            for a, b in pairs:
                rd, wr = side.get(("read", a, b), []), side.get(("write", a, b), [])
                if len(rd) != 1 or len(wr) != 1 or abs(rd[0] - wr[0]) > _tol(rd[0]):
                    ok = False
                    break
                h[(a, b)] = min(rd[0], wr[0])
            if ok:
                out.append((h, mult))
        return out

    def _unpaired(self, group: list[Commodity]) -> tuple[dict, dict]:
        """Fallback for pairs that do not pair up: only what is carried both ways counts."""
        flow = defaultdict(float)
        for c in group:
            flow[(c.src, c.dst)] += c.total_gbps
        h = {}
        for (x, y), v in flow.items():
            if self.ds.sites.at[x, "storage"] and self.ds.sites.at[y, "gpu"]:
                h[(x, y)] = min(v, flow.get((y, x), 0.0))
        return h, {}

    def _storage_sites(self, h: dict[tuple[str, str], float]) -> list[Violation]:
        dem = self.s.demand
        per_rack, per_pb = dem.storage_gbps_per_rack, dem.storage_gbps_per_pb or 0.0
        into, out = defaultdict(float), defaultdict(float)
        for (a, b), v in h.items():
            into[b] += v
            out[a] += v
        found = []
        local = {}
        for b, n in sorted(self.rack_count.items()):
            need = per_rack * n
            if need <= 0:
                continue
            short = need - into[b]
            if short > _tol(need, abs_tol=1e-5) and self.pb[b] <= 1e-9:
                found.append(
                    Violation(
                        "traffic",
                        f"GPU site {b}",
                        f"storage bandwidth from other sites {_f(into[b])} Gbps < "
                        f"storage_gbps_per_rack × racks {_f(need)} Gbps and no storage on site",
                    )
                )
            local[b] = max(0.0, short) if self.pb[b] > 1e-9 else 0.0
        for a in sorted(set(out) | {s for s, v in local.items() if v > 0}):
            serve, cap = out[a] + local.get(a, 0.0), per_pb * self.pb.get(a, 0.0)
            if serve > cap + _tol(serve, cap, abs_tol=1e-5):
                found.append(
                    Violation(
                        "traffic",
                        f"storage site {a}",
                        f"serves {_f(serve)} Gbps ({_f(out[a])} to other sites + "
                        f"{_f(local.get(a, 0.0))} on site) > storage_gbps_per_pb × PB {_f(cap)}",
                    )
                )
        return found

    def _protection(self, coms: list[Commodity]) -> None:
        le = self._cmp("traffic")[1]
        res = self.s.resilience
        diverse = res.link_protection == "diverse"
        demands = self.ds.demands
        usable = [
            r
            for r in self.ds.routes.index
            if self.ds.routes.at[r, "medium"] not in set(self.s.network.exclude_media)
        ]
        failures = route_failures(self.ds.routes, usable)
        for c in coms:
            if c.kind == "demand":  # its own column, whatever link_protection says
                d = c.id.removeprefix("demand:")
                prot = (
                    res.protected_share > 0
                    and d in demands.index
                    and bool(demands.at[d, "protected"])
                )
            elif c.kind == "inference":  # the region's own column (contract §9, §7)
                g = c.id.rpartition("@")[2]
                users = self.ds.users
                prot = (
                    res.protected_share > 0 and g in users.index and bool(users.at[g, "protected"])
                )
            else:
                prot = diverse and res.protected_share > 0
            flagged = {p.protected for p in c.paths}
            self.r.count("traffic")
            if flagged != {int(bool(prot))}:
                self.r.fail(
                    "traffic",
                    c.name,
                    f"protected column is {sorted(flagged)}, the settings say {int(bool(prot))}",
                )
            if not prot or res.protected_share <= 0:
                continue
            need = res.protected_share * c.demand_gbps * c.multiplicity
            used = frozenset().union(*(p.routes for p in c.paths))
            for f, cut in failures.items():
                if not used.intersection(cut):
                    continue
                alive = sum(p.gbps for p in c.paths if not p.routes.intersection(cut))
                le(
                    f"{c.name} under failure {f}",
                    "protected_share × demand > flow on paths avoiding it",
                    need,
                    alive,
                    _tol(need, abs_tol=1e-5),
                )
