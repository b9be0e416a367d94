"""design.xlsx: one sheet per result table holding what its CSV holds, and a sheet
``columns`` with the unit and meaning of every column; the same tables give the same
bytes."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from builders import route, write_dataset

from model.pipeline import RunResult, SolveOptions, run_scenario
from model.workbook import workbook_bytes

TABLES = ("summary", "sites", "links", "flows", "failures")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    root = tmp_path_factory.mktemp("xlsx")
    sites = [
        {"site": "A", "lat": 35, "lon": 139, "gpu": 1, "storage": 1, "zone": "z1",
         "build_usd_per_kw": 1, "max_racks": 2},
        {"site": "B", "lat": 34.7, "lon": 135.5, "gpu": 1, "storage": 1, "zone": "z2",
         "build_usd_per_kw": 2},
    ]  # fmt: skip
    ds = write_dataset(
        root / "wb",
        sites,
        routes=[route("A", "B", 500)],
        settings={"demand": {"gpu_racks": 4, "storage_pb": 1, "sync_gbps": 100,
                             "max_gpu_sites": 2}},
    )  # fmt: skip
    return run_scenario(ds, "base", root / "res", SolveOptions(mip_gap=0.0))


def test_every_sheet_matches_its_csv(result: RunResult) -> None:
    folder = result.out_dir
    sheets = pd.read_excel(folder / "design.xlsx", sheet_name=None)
    assert list(sheets) == [*TABLES, "columns"]
    for name in TABLES:
        csv = pd.read_csv(folder / f"{name}.csv")
        sheet = sheets[name]
        assert list(sheet.columns) == list(csv.columns), name
        assert len(sheet) == len(csv) > 0, name
        pd.testing.assert_frame_equal(sheet, csv, check_dtype=False, obj=name)


def test_columns_sheet_explains_every_column(result: RunResult) -> None:
    folder = result.out_dir
    cols = pd.read_excel(folder / "design.xlsx", sheet_name="columns").fillna("")
    for name in TABLES:
        header = list(pd.read_csv(folder / f"{name}.csv", nrows=0).columns)
        mine = cols[cols["sheet"] == name]
        assert list(mine["column"]) == header
        unexplained = list(mine.loc[mine["meaning"] == "", "column"])
        assert unexplained == [], f"{name}: no meaning for {unexplained}"
    units = cols.set_index(["sheet", "column"])["unit"]
    assert units[("sites", "lat")] == "°" and units[("links", "capacity_gbps")] == "Gbps"


def test_same_tables_give_the_same_bytes(result: RunResult) -> None:
    frames = {n: getattr(result.tables, n) for n in TABLES}
    first = workbook_bytes(frames)
    time.sleep(1.1)  # a time stamp would show in the next second
    assert workbook_bytes(frames) == first
    assert (result.out_dir / "design.xlsx").read_bytes() == first
