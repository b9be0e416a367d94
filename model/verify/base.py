"""The state every check family shares: the design's numbers, read once, and helpers.

The families are mixins of :class:`VerifierBase` (:mod:`.sites`, :mod:`.network`,
:mod:`.traffic`, :mod:`.costs`), put together as :class:`model.verify.run.Verifier`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from functools import partial

import pandas as pd

from model.load import Dataset
from model.network import link_options
from model.verify.readback import Design
from model.verify.violations import Report


class VerifierBase:
    """The design read once (racks, PB, open, units, routers, load per route and
    direction) and the helpers more than one check family uses."""

    def __init__(self, ds: Dataset, design: Design, report: Report) -> None:
        self.ds, self.d, self.r = ds, design, report
        self.s = ds.settings
        opts = link_options(ds)
        self.dsp = opts.groupby("route")["dsp_latency_us"].max().to_dict() if len(opts) else {}
        self.options = opts.set_index(["route", "type"], drop=False)
        sites = design.sites
        self.rack_count = {s: round(v) for s, v in sites["gpu_racks"].fillna(0).items()}
        inference = sites["inference_racks"] if "inference_racks" in sites.columns else None
        self.inference = {  # contract §9: inference racks, beside the training racks
            s: 0 if inference is None or pd.isna(inference[s]) else inference[s]
            for s in sites.index
        }
        self.pb = sites["storage_pb"].fillna(0.0).to_dict()
        self.open = {s: round(v) if not pd.isna(v) else 0 for s, v in sites["open"].items()}
        self.units: dict[tuple[str, str], float] = {}
        for row in design.links.itertuples():
            if row.type in ds.link_types.index and not pd.isna(row.units):
                key = (row.route, row.type)
                self.units[key] = self.units.get(key, 0.0) + row.units
        self.lit = sorted({r for (r, _), n in self.units.items() if n > 0})
        # (route, type, units) placed at each site, sorted by site once: a scan of every
        # unit per site, with two DataFrame look-ups each, took minutes at 1,000 nodes
        self.links_at: dict[str, list[tuple[str, str, float]]] = {}
        for (r, t), n in self.units.items():
            if n > 0:
                for end in dict.fromkeys((ds.routes.at[r, "a"], ds.routes.at[r, "b"])):
                    self.links_at.setdefault(end, []).append((r, t, n))
        self.router_counts = {s: self._router_models(s) for s in sites.index}
        self.load: dict[tuple[str, str], float] = defaultdict(float)
        self.route_flow: dict[str, float] = defaultdict(float)
        shared = self.s.network.capacity_sharing == "shared"
        for p in design.paths:
            for r, fwd in p.hops:
                self.load[(r, "both" if shared else ("ab" if fwd else "ba"))] += p.gbps
                self.route_flow[r] += p.gbps

    # -- helpers
    def _cmp(self, check: str) -> tuple[Callable[..., bool], Callable[..., bool]]:
        """``eq`` and ``le`` of the report, bound to one check."""
        return partial(self.r.eq, check), partial(self.r.le, check)

    def _router_models(self, s: str) -> dict[str, int]:
        text = self.d.sites.at[s, "router_models"]
        out: dict[str, int] = {}
        for item in filter(None, (t.strip() for t in str(text).split(";"))):
            name, _, n = item.rpartition(":")  # a model id may itself contain ':'
            name = name or n  # no ':' at all: the count is missing
            try:
                count = float(n)
            except ValueError:
                count = math.nan
            if name not in self.ds.routers.index:
                self.r.fail("routers", f"site {s}", f"router model {name!r} is not in routers.csv")
            elif not count >= 0 or count != int(count):
                self.r.fail("routers", f"site {s}", f"router count {n!r} of {name} is not ≥ 0")
            else:
                out[name] = out.get(name, 0) + int(count)
        return out

    def _site_links(self, s: str) -> list[tuple[str, str, float]]:
        """(route, type, units) placed on the routes at site ``s``, in ``units`` order."""
        return self.links_at.get(s, [])

    def _type(self, r: str, t: str) -> pd.Series:
        """Price and data of a placed unit: the offer where there is one, else the type."""
        if (r, t) in self.options.index:
            return self.options.loc[(r, t)]
        lt = self.ds.link_types.loc[t]
        return pd.Series({**lt.to_dict(), "max_units": None})
