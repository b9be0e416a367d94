"""``design.xlsx``: the result tables of one run as a workbook, one sheet per table, and a
sheet ``columns`` giving every column's unit and meaning (:data:`model.docs.RESULT_COLUMNS`).
A growth plan (docs/contract.md §8) adds the sheet ``periods`` after ``summary`` and its
tables' ``period`` column (:data:`PERIOD_COLUMN`).

Deterministic: the workbook's created/modified dates are fixed and the zip entries get a
fixed timestamp, so the same tables give the same bytes."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import datetime
from typing import Any

import pandas as pd

from model.docs import RESULT_COLUMNS

#: The date written as the workbook's created/modified property and zip entry time.
FIXED_TIME = datetime(2000, 1, 1)
SHEETS = ("summary", "periods", "sites", "links", "flows", "failures", "users", "infeasibility")

#: A growth plan's columns (contract §8): ``period`` in the tables with one block of rows
#: per period, and the sheet ``periods`` (periods.csv of the results).
PERIOD_COLUMN = ("", "period (periods.csv `period`): the block of rows of that period")
#: summary.csv of a growth plan: the discounted objective, the last period's figures.
HORIZON_OBJECTIVE = (
    "USD",
    "discounted total of the horizon: Σ over the periods of discount_factor × the "
    "period's objective (the other figures are the last period's)",
)


def _cell(value: Any) -> Any:
    """A table cell as openpyxl takes it: missing → empty, numpy → Python."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not isinstance(value, str | int | float | bool) and pd.isna(value):
        return None
    return value


def column_rows(frames: dict[str, pd.DataFrame]) -> list[tuple[str, str, str, str]]:
    """(sheet, column, unit, meaning) for every column of every table written."""
    rows = []
    growth = "periods" in frames
    for name in SHEETS:
        if name not in frames:
            continue
        known = RESULT_COLUMNS.get(name, {})
        for col in frames[name].columns:
            unit, meaning = known.get(str(col), ("", ""))
            if growth and name != "periods" and col == "period":
                unit, meaning = PERIOD_COLUMN
            elif growth and name == "summary" and col == "objective":
                unit, meaning = HORIZON_OBJECTIVE
            rows.append((name, str(col), unit, meaning))
    return rows


def workbook_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """The workbook of ``frames`` (summary, periods, sites, links, flows, failures, users
    or infeasibility, whichever are given) as xlsx bytes."""
    from openpyxl import Workbook  # imported here: ``import model`` stays cheap

    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEETS:
        if name not in frames:
            continue
        ws = wb.create_sheet(name)
        df = frames[name]
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
        ws.freeze_panes = "A2"
    ws = wb.create_sheet("columns")
    ws.append(["sheet", "column", "unit", "meaning"])
    for row in column_rows(frames):
        ws.append(list(row))
    ws.freeze_panes = "A2"
    wb.properties.creator = "scaleacross"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry's timestamp set to :data:`FIXED_TIME` (openpyxl
    stamps the time of saving) and the modified date that openpyxl writes at save
    replaced by the fixed one."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = FIXED_TIME.timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _fixed_core(body)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()


def _fixed_core(body: bytes) -> bytes:
    import re

    fixed = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(
        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + fixed + rb"\2", body
    )
