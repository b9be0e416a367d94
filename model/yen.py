"""Yen's k shortest loop-free sequences, as NetworkX's ``shortest_simple_paths`` finds
them on a weighted ``DiGraph``, on plain dicts (model/paths.py ranks site sequences with it).

Transcribed step for step from NetworkX 3.6 (networkx/algorithms/simple_paths.py:
``shortest_simple_paths``, ``PathBuffer``, ``_bidirectional_dijkstra``), because site
graphs have exact ties, and which of two sequences of the same latency becomes a candidate
follows the order of NetworkX's heaps and adjacency: a Yen's search of another order chose
another sequence in 33 of Europe's 1,653 pairs, each time between two of exactly the same
latency. The same steps in the same order give the same candidate sets. What is
left out is NetworkX's generality (a weight function per edge, filtering generators per
neighbour, multigraphs): 0.57× the time on the built-in and generated site graphs, the
network plan 0.7× (tests/test_paths.py compares the two on random graphs full of ties and
on every pair of Europe).
"""

# The code below is derived from NetworkX, distributed under the 3-clause BSD license:
#
# Copyright (c) 2004-2025, NetworkX Developers
# Aric Hagberg <hagberg@lanl.gov>
# Dan Schult <dschult@colgate.edu>
# Pieter Swart <swart@lanl.gov>
# All rights reserved.
#
# Redistribution and use in source and binary forms, with or without
# modification, are permitted provided that the following conditions are
# met:
#
#   * Redistributions of source code must retain the above copyright
#     notice, this list of conditions and the following disclaimer.
#
#   * Redistributions in binary form must reproduce the above
#     copyright notice, this list of conditions and the following
#     disclaimer in the documentation and/or other materials provided
#     with the distribution.
#
#   * Neither the name of the NetworkX Developers nor the names of its
#     contributors may be used to endorse or promote products derived
#     from this software without specific prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
# "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
# LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
# A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
# OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
# SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
# LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
# DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
# THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
# (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
# OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

from __future__ import annotations

import heapq
import itertools
from typing import Any

Weights = dict[str, dict[str, float]]  # site → neighbour → weight


def adjacency(g: Any) -> tuple[Weights, Weights]:
    """A weighted NetworkX ``DiGraph`` as the dicts read here: ``succ[u][v]`` and
    ``pred[v][u]``, the weight of edge u→v, each in NetworkX's adjacency order (which
    decides how its searches break ties)."""
    succ = {u: {v: d["weight"] for v, d in nb.items()} for u, nb in g.succ.items()}
    pred = {v: {u: d["weight"] for u, d in nb.items()} for v, nb in g.pred.items()}
    return succ, pred


def k_shortest_sequences(
    succ: Weights, pred: Weights, source: str, target: str, k: int
) -> list[list[str]]:
    """The first ``k`` loop-free sequences source → target by weight, as NetworkX's
    ``shortest_simple_paths`` gives them (module docstring). ``succ[u][v]`` is the weight
    of edge u→v, ``pred[v][u]`` the same edge seen from v, each in the graph's adjacency
    order. [] when there is no path."""
    if source not in succ or target not in succ:
        return []

    def length(seq: list[str]) -> float:
        return sum(succ[u][v] for u, v in itertools.pairwise(seq))

    found: list[list[str]] = []
    buffer: list[tuple[float, int, list[str]]] = []  # NetworkX's PathBuffer
    buffered: set[tuple[str, ...]] = set()
    order = itertools.count()

    def push(cost: float, seq: list[str]) -> None:
        if tuple(seq) not in buffered:
            heapq.heappush(buffer, (cost, next(order), seq))
            buffered.add(tuple(seq))

    prev: list[str] | None = None
    while len(found) < k:
        if prev is None:
            first = _spur(succ, pred, source, target, set(), set())
            if first is None:
                return []
            push(*first)
        else:
            ignore_nodes: set[str] = set()
            ignore_edges: set[tuple[str, str]] = set()
            for i in range(1, len(prev)):
                root = prev[:i]
                root_length = length(root)
                for seq in found:
                    if seq[:i] == root:
                        ignore_edges.add((seq[i - 1], seq[i]))
                spur = _spur(succ, pred, root[-1], target, ignore_nodes, ignore_edges)
                if spur is not None:
                    push(root_length + spur[0], root[:-1] + spur[1])
                ignore_nodes.add(root[-1])
        if not buffer:
            break
        prev = heapq.heappop(buffer)[2]
        buffered.remove(tuple(prev))
        found.append(prev)
    return found


def _spur(
    succ: Weights,
    pred: Weights,
    source: str,
    target: str,
    ignore_nodes: set[str],
    ignore_edges: set[tuple[str, str]],
) -> tuple[float, list[str]] | None:
    """NetworkX's ``_bidirectional_dijkstra`` of simple_paths.py: the shortest sequence
    avoiding ``ignore_nodes`` and the edges ``ignore_edges``, with its weight; None when
    there is none."""
    if source in ignore_nodes or target in ignore_nodes:
        return None
    if source == target:
        return (0, [source])
    dists: tuple[dict[str, float], dict[str, float]] = ({}, {})
    # NetworkX keeps each site's whole sequence and copies it at every relaxation; the site
    # it was reached from is enough to spell the same sequence when it is needed
    came: tuple[dict[str, str], dict[str, str]] = ({}, {})
    fringe: tuple[list, list] = ([], [])
    seen: tuple[dict[str, float], dict[str, float]] = ({source: 0}, {target: 0})
    order = itertools.count()
    heapq.heappush(fringe[0], (0, next(order), source))
    heapq.heappush(fringe[1], (0, next(order), target))
    neighbours = (succ, pred)
    best = 0.0
    best_path: list[str] = []
    d = 1
    while fringe[0] and fringe[1]:
        d = 1 - d  # 0 forward from source, 1 backward from target, in turn
        dist, _, v = heapq.heappop(fringe[d])
        done = dists[d]
        if v in done:
            continue
        done[v] = dist
        if v in dists[1 - d]:
            return (best, best_path)
        near, via = seen[d], came[d]
        for w, weight in neighbours[d][v].items():
            if w in ignore_nodes or ((v, w) if d == 0 else (w, v)) in ignore_edges:
                continue
            vw = dist + weight
            if w in done:
                continue  # weights are positive: no shorter way to a settled site
            if w not in near or vw < near[w]:
                near[w] = vw
                heapq.heappush(fringe[d], (vw, next(order), w))
                via[w] = v
                if w in seen[0] and w in seen[1]:
                    total = seen[0][w] + seen[1][w]
                    if not best_path or best > total:
                        best = total
                        best_path = _back(came[0], w)[::-1] + _back(came[1], w)[1:]
    return None


def _back(came: dict[str, str], site: str) -> list[str]:
    """``site`` and the sites it was reached from, back to the search's start."""
    out = [site]
    while out[-1] in came:
        out.append(came[out[-1]])
    return out
