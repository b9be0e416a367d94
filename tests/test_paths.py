"""``k_shortest_sequences`` (model/yen.py) is NetworkX's ``shortest_simple_paths``
transcribed onto plain dicts: it must give the same sequences in the same order, ties
included, since which of two equally fast sequences becomes a candidate decides the
candidate sets of the shipped data sets (Europe has 33 such pairs)."""

from __future__ import annotations

import itertools
import random
from itertools import islice
from pathlib import Path

import networkx as nx

from model.load import load_dataset
from model.network import plan_network
from model.yen import k_shortest_sequences

REPO = Path(__file__).resolve().parents[1]


def as_dicts(g: nx.DiGraph) -> tuple[dict, dict]:
    succ = {u: {v: d["weight"] for v, d in g.succ[u].items()} for u in g}
    pred = {v: {u: g[u][v]["weight"] for u in g.pred[v]} for v in g}
    return succ, pred


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
    for trial in range(120):
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
        succ, pred = as_dicts(g)
        k = rng.randint(1, 8)
        for a, b in itertools.permutations(list(g), 2):
            got = k_shortest_sequences(succ, pred, a, b, k)
            assert got == networkx_k(g, a, b, k), (trial, a, b, k)
            lengths = [sum(succ[u][v] for u, v in itertools.pairwise(s)) for s in got]
            ties += len(lengths) - len(set(lengths))
    assert ties > 1000  # the order of equal sequences was really tested (measured: 16,989)


def test_the_same_candidate_sequences_as_networkx_on_europe() -> None:
    finder = plan_network(load_dataset(REPO / "data" / "europe")).finder
    succ, pred = as_dicts(finder.sites_g)
    sites = sorted(finder.sites_g)
    for a, b in itertools.combinations(sites, 2):
        assert k_shortest_sequences(succ, pred, a, b, 5) == networkx_k(finder.sites_g, a, b, 5)


def test_no_path_and_unknown_sites_give_no_sequence() -> None:
    g = nx.DiGraph()
    g.add_edge("a", "b", weight=1.0)
    g.add_node("c")
    succ, pred = as_dicts(g)
    assert k_shortest_sequences(succ, pred, "a", "b", 3) == [["a", "b"]]
    assert k_shortest_sequences(succ, pred, "b", "a", 3) == []  # one-way edge
    assert k_shortest_sequences(succ, pred, "a", "c", 3) == []
    assert k_shortest_sequences(succ, pred, "a", "zz", 3) == []
