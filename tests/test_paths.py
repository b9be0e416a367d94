"""``k_shortest_sequences`` (model/yen.py) is NetworkX's ``shortest_simple_paths``
transcribed onto plain dicts: it must give the same sequences in the same order, ties
included, since which of two equally fast sequences becomes a candidate decides the
candidate sets of the shipped data sets (Europe has 33 such pairs). The order of ties is
NetworkX 3.6's, the version transcribed; under any other NetworkX (the newest-releases
stage of CI may install one) only what the graph determines is compared: loop-free
sequences of its edges whose lengths are NetworkX's."""

from __future__ import annotations

import itertools
import random
from itertools import islice
from pathlib import Path

import networkx as nx
import pytest

from model.load import load_dataset
from model.network import plan_network
from model.paths import PathFinder
from model.yen import adjacency, k_shortest_sequences

REPO = Path(__file__).resolve().parents[1]
#: NetworkX's tie order is asserted only under the version model/yen.py transcribes
TRANSCRIBED = nx.__version__.startswith("3.6.")


def same_as_networkx(got: list[list[str]], want: list[list[str]], succ: dict) -> None:
    """``got`` is NetworkX's ``want``: tie for tie under the transcribed version, else
    as many loop-free sequences over the graph's edges, of the same lengths."""
    if TRANSCRIBED:
        assert got == want
        return

    def length(seq: list[str]) -> float:
        return sum(succ[u][v] for u, v in itertools.pairwise(seq))

    assert all(len(set(s)) == len(s) for s in got)
    assert [length(s) for s in got] == pytest.approx([length(s) for s in want], rel=1e-12)


def networkx_k(g: nx.DiGraph, a: str, b: str, k: int) -> list[list[str]]:
    try:
        return list(islice(nx.shortest_simple_paths(g, a, b, weight="weight"), k))
    except nx.NetworkXNoPath:
        return []


def test_the_same_sequences_as_networkx_tie_for_tie_on_random_graphs() -> None:
    # small weights from {1, 2, 3} make many sequences of equal length; every fourth graph
    # is symmetric (as a data set without directed routes), the others are not
    rng = random.Random(11)
    ties = 0
    for trial in range(60):
        g = nx.DiGraph()
        g.add_nodes_from(f"s{i:02d}" for i in rng.sample(range(60), rng.randint(4, 16)))
        for u, v in itertools.permutations(list(g), 2):
            if rng.random() < 0.3 and not g.has_edge(u, v):
                w = (
                    rng.choice([1, 2, 3])
                    if trial % 3
                    else rng.choice([0.1, 0.2, 0.30000000000000004])
                )
                g.add_edge(u, v, weight=w)
                if trial % 4 == 0:
                    g.add_edge(v, u, weight=w)
        succ, pred = adjacency(g)
        k = rng.randint(1, 8)
        for a, b in itertools.permutations(list(g), 2):
            got = k_shortest_sequences(succ, pred, a, b, k)
            same_as_networkx(got, networkx_k(g, a, b, k), succ)
            lengths = [sum(succ[u][v] for u, v in itertools.pairwise(s)) for s in got]
            ties += len(lengths) - len(set(lengths))
    assert ties > 1000  # the order of equal sequences was really tested (measured: 8,999)


def test_the_same_candidate_sequences_as_networkx_on_europe() -> None:
    finder = plan_network(load_dataset(REPO / "data" / "europe")).finder
    succ, pred = adjacency(finder.sites_g)
    sites = sorted(finder.sites_g)
    for a, b in itertools.combinations(sites, 2):
        got = k_shortest_sequences(succ, pred, a, b, 5)
        same_as_networkx(got, networkx_k(finder.sites_g, a, b, 5), succ)


def test_no_path_and_unknown_sites_give_no_sequence() -> None:
    g = nx.DiGraph()
    g.add_edge("a", "b", weight=1.0)
    g.add_node("c")
    succ, pred = adjacency(g)
    assert k_shortest_sequences(succ, pred, "a", "b", 3) == [["a", "b"]]
    assert k_shortest_sequences(succ, pred, "b", "a", 3) == []  # one-way edge
    assert k_shortest_sequences(succ, pred, "a", "c", 3) == []
    assert k_shortest_sequences(succ, pred, "a", "zz", 3) == []


def networkx_tree(g: nx.DiGraph, root: str, gone: list) -> dict:
    """The failure-avoiding tree as PathFinder._tree made it before model/yen.py's time:
    the route nodes removed from ``g``, NetworkX's Dijkstra, the edges added back (which
    moves each route node to the end of its ends' adjacency: later ties break on that)."""
    saved = [
        (u, v, d)
        for n in gone
        for u, v, d in [*g.in_edges(n, data=True), *g.out_edges(n, data=True)]
    ]
    g.remove_nodes_from(gone)
    try:
        _, paths = nx.single_source_dijkstra(g, root, weight="weight")
    finally:
        g.add_edges_from(saved)
    return {n: p for n, p in paths.items() if not isinstance(n, tuple)}


def test_failure_avoiding_trees_are_networkx_s_through_the_same_history() -> None:
    # a route graph (site → (route) → site) with parallel routes and weights from {1, 2}:
    # many ties, which NetworkX breaks by adjacency order, and which the removals and
    # re-insertions of earlier cuts change; 400 cuts in turn, every tree compared
    rng = random.Random(5)
    sites = [f"s{i:02d}" for i in range(14)]
    g = nx.DiGraph()
    g.add_nodes_from(sites)
    for i in range(40):
        a, b = rng.sample(sites, 2)
        n = ("route", f"r{i:02d}")
        w = rng.choice([1, 2])
        g.add_edge(a, n, weight=w)
        g.add_edge(n, b, weight=w)
        if i % 5:  # every fifth route is one-way
            g.add_edge(b, n, weight=w)
            g.add_edge(n, a, weight=w)
    finder = PathFinder.__new__(PathFinder)
    finder.g = g.copy()
    finder._route_succ, finder._route_pred = adjacency(g)
    routes = [n for n in g if isinstance(n, tuple)]
    for _ in range(400):
        root = rng.choice(sites)
        gone = rng.sample(routes, rng.randint(1, 4))
        want = networkx_tree(g, root, gone)
        got = finder._dijkstra(root, gone)
        reached = {s: got.get(s) for s in sites if got.get(s) is not None}
        assert reached.keys() == want.keys()
        if TRANSCRIBED:
            assert reached == want
        else:  # the same shortest lengths, whichever of equal paths
            for s, path in reached.items():
                same_as_networkx([path], [want[s]], finder._route_succ)
        assert [list(x) for x in finder._route_succ.values()] == [list(x) for x in g.succ.values()]
