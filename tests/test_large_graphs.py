"""Path finding on large graphs (more than ``PathFinder.LABEL_SEARCH_SITES`` sites): the
label-setting search per source and SciPy's Dijkstra for failure-avoiding paths give the
same shortest paths as the small-graph road (Yen's algorithm, NetworkX's Dijkstra), loop-
free alternatives no shorter than Yen's, and a stated restriction. Checked on a generated
30-site set by lowering the threshold, against the small-graph road on the same data."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from model.load import load_dataset
from model.network import PathFinder, plan_network
from model.synth import main as synth


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> object:
    out = tmp_path_factory.mktemp("synth") / "s30"
    assert synth(["--sites", "30", "--seed", "5", "--routes", str(out)]) == 0
    return load_dataset(Path(out))


def finders(ds: object, monkeypatch: pytest.MonkeyPatch) -> tuple[PathFinder, PathFinder]:
    small = plan_network(ds).finder
    monkeypatch.setattr(PathFinder, "LABEL_SEARCH_SITES", 0)
    large = plan_network(ds).finder
    assert not small.label_search and large.label_search
    return small, large


def test_label_search_finds_each_pairs_shortest_and_loop_free_alternatives(
    dataset: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, large = finders(dataset, monkeypatch)
    sites = sorted(dataset.sites.index)
    k, with_alternatives = 3, 0
    for a, b in itertools.combinations(sites, 2):
        yen = small.shortest(a, b, k)
        label = large.shortest(a, b, k)
        assert bool(yen) == bool(label)
        if not yen:
            continue
        with_alternatives += len({p.nodes for p in label}) > 1
        assert label[0].latency_us == pytest.approx(yen[0].latency_us)
        seqs_yen = list(dict.fromkeys(p.nodes for p in yen))
        seqs_label = list(dict.fromkeys(p.nodes for p in label))
        assert len(seqs_label) <= len(seqs_yen)
        for p in label:
            assert len(set(p.nodes)) == len(p.nodes)  # loop-free
            assert (p.nodes[0], p.nodes[-1]) == (a, b)
        # the i-th sequence found is never shorter than the i-th shortest (Yen's)
        best = {}
        for p in label:
            best.setdefault(p.nodes, p.latency_us)
        exact = {}
        for p in yen:
            exact.setdefault(p.nodes, p.latency_us)
        for got, shortest in zip(best.values(), exact.values(), strict=False):
            assert got >= shortest - 1e-6
        assert [p.latency_us for p in label] == sorted(p.latency_us for p in label)
    assert with_alternatives >= 100  # of 435 pairs


def test_scipy_trees_avoid_the_cut_like_networkx(
    dataset: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, large = finders(dataset, monkeypatch)
    sites = sorted(dataset.sites.index)
    routes = sorted(dataset.routes.index)
    compared = 0
    for a, b in itertools.islice(itertools.combinations(sites, 2), 60):
        for cut in [(r,) for r in routes[:: max(1, len(routes) // 6)]]:
            nx_path, cs_path = small.avoiding(a, b, cut), large.avoiding(a, b, cut)
            assert (nx_path is None) == (cs_path is None)
            if nx_path is None:
                continue
            assert cs_path.latency_us == pytest.approx(nx_path.latency_us)
            assert not set(cut) & set(cs_path.routes)
            assert (cs_path.nodes[0], cs_path.nodes[-1]) == (a, b)
            compared += 1
    assert compared >= 100


def test_the_restriction_says_which_search_made_the_paths(
    dataset: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "shortest site sequences" in " ".join(plan_network(dataset).restrictions)
    monkeypatch.setattr(PathFinder, "LABEL_SEARCH_SITES", 0)
    text = " ".join(plan_network(dataset).restrictions)
    assert "label-setting search per source" in text and "not proven" in text
