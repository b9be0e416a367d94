"""Stacks (docs/contract.md §11): only router models and link types whose stack is empty
or listed in [network] stacks may be placed; the listed stacks may be mixed. Hand-computed
optima: flat economics (every CRF = 1), 50 Gbps A → B over one 100 km route, so one link
unit and one router at each end."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import approx, route, solve_dir, transit, write_dataset

from model.errors import InfeasibleError, InputError
from model.load import load_dataset


def link(name: str, capex: float, stack: str) -> dict:
    return {
        "type": name,
        "medium": "smf",
        "capacity_gbps": 100,
        "reach_km": 1000,
        "capex_usd": capex,
        "ports": 1,
        "stack": stack,
    }


def router(name: str, capex: float, stack: str) -> dict:
    return {"model": name, "capacity_gbps": 1000, "ports": 10, "capex_usd": capex, "stack": stack}


def dataset(folder: Path) -> Path:
    # vertical: routers 2, optics 7; horizontal: routers 1, optics 10; a leased wave of no
    # stack: 8. All stacks mixed: horizontal routers + vertical optics 1 + 1 + 7 = 9.
    # vertical only: 2 + 2 + 7 = 11. horizontal only: 1 + 1 + the lease 8 = 10 (its own
    # optics would be 10).
    return write_dataset(
        folder,
        [transit("A"), transit("B")],
        routes=[route("A", "B", 100)],
        link_types=[
            link("v_zr", 7, "vertical"),
            link("h_zr", 10, "horizontal"),
            link("lease", 8, ""),
        ],
        routers=[router("v_r", 2, "vertical"), router("h_r", 1, "horizontal")],
        demands=[{"src": "A", "dst": "B", "gbps": 50}],
        scenarios=[
            {"scenario": "vertical", "network.stacks": "vertical"},
            {"scenario": "horizontal", "network.stacks": "horizontal"},
            {"scenario": "mixed", "network.stacks": "vertical;horizontal"},
            {"scenario": "typo", "network.stacks": "vertcal"},
        ],
    )


def chosen(res) -> tuple[str, str]:
    sites = res.tables.sites.set_index("site")
    links = res.tables.links
    return sites.at["A", "router_models"], ";".join(sorted(links.loc[links["units"] > 0, "type"]))


@pytest.mark.parametrize(
    ("scenario", "cost", "design"),
    [
        ("base", 9, ("h_r:1", "v_zr")),
        ("mixed", 9, ("h_r:1", "v_zr")),
        ("vertical", 11, ("v_r:1", "v_zr")),
        ("horizontal", 10, ("h_r:1", "lease")),
    ],
)
def test_stacks_restrict_what_is_placed(
    tmp_path: Path, scenario: str, cost: float, design: tuple[str, str]
) -> None:
    res = solve_dir(dataset(tmp_path), scenario)
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == approx(cost)
    assert chosen(res) == design


def test_an_unknown_stack_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_dataset(dataset(tmp_path), "typo")
    msg = str(err.value)
    assert "scenarios.csv row 4 (line 5, scenario 'typo'), column network.stacks" in msg
    assert "stack 'vertcal' is not the stack of any router model" in msg
    assert "did you mean 'vertical'?" in msg


def test_a_stack_without_routers_is_explained(tmp_path: Path) -> None:
    folder = write_dataset(
        tmp_path,
        [transit("A"), transit("B")],
        routes=[route("A", "B", 100)],
        link_types=[link("v_zr", 7, "vertical")],
        routers=[router("h_r", 1, "horizontal")],
        demands=[{"src": "A", "dst": "B", "gbps": 50}],
        scenarios=[{"scenario": "vertical", "network.stacks": "vertical"}],
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder, "vertical")
    assert "[network] stacks vertical: no router model of routers.csv is of these stacks" in str(
        err.value
    )
