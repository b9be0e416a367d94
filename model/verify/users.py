"""Checks of users (docs/contract.md §9): inference racks near customer regions.

- ``users``: inference racks only at open GPU-capable sites, whole, and with the training
  racks within max_racks; every region of users.csv served by exactly its racks, at its
  entry site or at sites whose best path from the entry site keeps max_latency_ms; the
  racks per site add up to sites.csv ``inference_racks``; the inference traffic of each
  region and serving site (flows.csv kind ``inference``) is gbps × racks served / racks
  in each direction.

The racks per region and serving site come from the users.csv result; without one they
are derived from the inference flows (demand / (gbps / racks)), the rest counted at the
entry site.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from model.verify.base import VerifierBase
from model.verify.readback import commodities
from model.verify.violations import _f, _tol


def inference_ends(commodity: str) -> tuple[str, str, str] | None:
    """``inference:A>B@region`` → (A, B, region); None when the id has another form."""
    body = commodity.removeprefix("inference:")
    ends, _, region = body.rpartition("@")
    src, _, dst = ends.partition(">")
    return (src, dst, region) if src and dst and region else None


class UserChecks(VerifierBase):
    """``users``."""

    def users(self) -> None:
        eq, le = self._cmp("users")
        ds, rep = self.ds, self.r
        sites, users = ds.sites, ds.users
        for s, n in sorted(self.inference.items()):
            if n == 0:
                continue
            obj = f"site {s}"
            rep.count("users")
            if n < 0 or n != int(n):
                rep.fail("users", obj, f"inference_racks {_f(n)} is not a whole number ≥ 0")
            if not sites.at[s, "gpu"]:
                rep.fail("users", obj, f"{_f(n)} inference racks at a site with gpu = 0")
            if self.open[s] != 1:
                rep.fail("users", obj, f"{_f(n)} inference racks at a closed site")
            cap = sites.at[s, "max_racks"]
            if cap is not None and not pd.isna(cap):
                le(obj, "gpu_racks + inference_racks > max_racks", self.rack_count[s] + n, cap, 0)
        regions = [u for u in users.itertuples() if u.racks > 0]
        if not regions:
            if any(n > 0 for n in self.inference.values()):
                rep.fail("users", "all sites", "inference racks, but users.csv asks for none")
            return
        demand: dict[tuple[str, str, str], float] = defaultdict(float)  # (region, src, dst)
        for c in commodities(self.d.paths):
            if c.kind != "inference":
                continue
            ends = inference_ends(c.id)
            rep.count("users")
            if ends is None or ends[2] not in users.index:
                rep.fail("users", c.name, "not an inference commodity of a users.csv region")
                continue
            if (c.src, c.dst) != ends[:2]:
                rep.fail("users", c.name, f"runs {c.src}→{c.dst}, its id says {ends[0]}→{ends[1]}")
            demand[(ends[2], c.src, c.dst)] += c.demand_gbps
        serve = self._served(regions, demand)
        best = getattr(self, "_best_latency_ms", None)
        at_site: dict[str, float] = defaultdict(float)
        for u in regions:
            mine = {s: n for (g, s), n in serve.items() if g == u.region}
            eq(f"region {u.region}", "racks served", sum(mine.values()), u.racks, 1e-6)
            bound = None if pd.isna(u.max_latency_ms) else float(u.max_latency_ms)
            per_rack = u.gbps / u.racks
            for s, n in sorted(mine.items()):
                at_site[s] += n
                obj = f"region {u.region} at {s}"
                rep.count("users")
                if s not in sites.index or not sites.at[s, "gpu"]:
                    rep.fail("users", obj, f"{_f(n)} racks at a site that is not GPU-capable")
                    continue
                if s == u.site or n <= 0:
                    continue
                ms = best(u.site, s) if best is not None else None
                if ms is None:
                    rep.fail("users", obj, f"no path from the entry site {u.site}")
                elif bound is not None:
                    le(
                        obj,
                        "best path latency_ms from the entry site > max_latency_ms",
                        ms,
                        bound,
                        1e-9,
                    )
                want = per_rack * n
                for src, dst in ((u.site, s), (s, u.site)):
                    got = demand.get((u.region, src, dst), 0.0)
                    eq(
                        obj,
                        f"inference demand_gbps {src}→{dst}",
                        got,
                        want,
                        _tol(want, abs_tol=1e-5),
                    )
        for s in sorted(set(at_site) | {x for x, n in self.inference.items() if n}):
            eq(
                f"site {s}",
                "inference_racks (Σ racks served)",
                self.inference.get(s, 0),
                at_site[s],
                1e-6,
            )

    def _served(
        self, regions: list, demand: dict[tuple[str, str, str], float]
    ) -> dict[tuple[str, str], float]:
        """Racks per (region, serving site): the users.csv result, or derived from flows."""
        users, rep = self.ds.users, self.r
        serve: dict[tuple[str, str], float] = defaultdict(float)
        table = self.d.users
        if table is not None:
            for i, row in table.iterrows():
                g, obj = row["region"], f"users.csv row {i + 1}"
                rep.count("users")
                if g not in users.index:
                    rep.fail("users", obj, f"region {g!r} is not in the data's users.csv")
                    continue
                u = users.loc[g]
                if row["site"] != u["site"]:
                    rep.fail("users", obj, f"site is {row['site']!r}, users.csv says {u['site']!r}")
                if u["racks"] > 0:
                    want = u["gbps"] * row["racks"] / u["racks"]
                    self.r.eq("users", obj, "gbps", row["gbps"], want, _tol(want, abs_tol=1e-5))
                serve[(g, row["serving_site"])] += row["racks"]
            return serve
        for u in regions:  # no users.csv result: what the flows imply, the rest at the entry
            per_rack = u.gbps / u.racks
            away = 0.0
            for (g, src, dst), gbps in demand.items():
                if g == u.region and src == u.site and per_rack > 0:
                    serve[(g, dst)] += gbps / per_rack
                    away += gbps / per_rack
            if u.racks - away > 1e-6:
                serve[(u.region, u.site)] += u.racks - away
        return serve
