"""The schedule as an .xlsx workbook: spec columns, exact amounts, safe titles, stable bytes."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from tracker.domain.json_document import load_json_document
from tracker.domain.schedule import Schedule, compute_schedule
from tracker.domain.schedule_document import TOTAL_KEYS, YEAR_KEYS
from tracker.domain.terms_parser import parse_terms
from tracker.reporting.schedule_xlsx import (
    FIRST_YEAR_ROW,
    HEADER_ROW,
    SHEET_TITLE,
    TITLE_ROW,
    schedule_xlsx,
)

DATA = Path(__file__).resolve().parent.parent / "data"
INJECTION = "=cmd|' /C calc'!A0"


def example(name: str = "fixed-5y") -> Schedule:
    """The schedule the domain computes for a spec example's terms."""
    raw = (DATA / f"{name}.json").read_bytes()
    return compute_schedule(parse_terms(load_json_document(raw)))


def expected(name: str = "fixed-5y") -> dict[str, Any]:
    """The spec's expected schedule document for an example."""
    result: dict[str, Any] = json.loads((DATA / f"{name}.expected.json").read_text("utf-8"))
    return result


def in_currency(code: str, places: int) -> Schedule:
    """The fixed-5y terms in another currency, amounts with that currency's places."""
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text("utf-8"))
    document["currency"] = code
    suffix = "." + "0" * places if places else ""
    document["price"]["base"] = "1200000" + suffix
    document["cost"]["baseline"] = "1000000" + suffix
    return compute_schedule(parse_terms(document))


def sheet_of(data: bytes) -> Worksheet:
    """The schedule sheet of a workbook's bytes."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == [SHEET_TITLE]
    return workbook[SHEET_TITLE]


def row_values(sheet: Worksheet, row: int) -> list[Any]:
    """The values of one sheet row across the spec's columns."""
    return [sheet.cell(row, column).value for column in range(1, len(YEAR_KEYS) + 1)]


def exact(value: object) -> Decimal:
    """A numeric cell as the decimal it was written from (shortest round-trip text)."""
    assert isinstance(value, int | float), value
    return Decimal(repr(value))


def test_the_header_row_is_the_spec_column_names() -> None:
    sheet = sheet_of(schedule_xlsx(example(), "Workplace services"))
    assert tuple(row_values(sheet, HEADER_ROW)) == YEAR_KEYS
    assert sheet.cell(TITLE_ROW, 1).value == "Workplace services"
    assert sheet.freeze_panes == f"A{FIRST_YEAR_ROW}"


@pytest.mark.parametrize("name", ["fixed-5y", "index-capped-4y"])
def test_every_year_cell_holds_the_spec_value_exactly(name: str) -> None:
    sheet = sheet_of(schedule_xlsx(example(name), "t"))
    years = expected(name)["years"]
    for offset, wanted in enumerate(years):
        row = dict(zip(YEAR_KEYS, row_values(sheet, FIRST_YEAR_ROW + offset), strict=True))
        assert row["year"] == wanted["year"]
        for key in ("start", "end"):
            assert isinstance(row[key], datetime)
            assert row[key].date() == date.fromisoformat(wanted[key])
        for key in YEAR_KEYS[3:]:
            if wanted[key] is None:
                assert row[key] is None, key
            else:
                assert exact(row[key]) == Decimal(wanted[key]), (offset, key)
    assert sheet.cell(FIRST_YEAR_ROW + len(years), 1).value == "Total"


def test_a_money_cell_is_the_exact_decimal() -> None:
    sheet = sheet_of(schedule_xlsx(example(), "t"))
    planned_cost = sheet.cell(FIRST_YEAR_ROW + 2, YEAR_KEYS.index("planned_cost") + 1).value
    assert exact(planned_cost) == Decimal("929525.76")


@pytest.mark.parametrize("name", ["fixed-5y", "index-capped-4y"])
def test_the_totals_row_and_npv_are_the_spec_totals(name: str) -> None:
    totals = expected(name)["totals"]
    sheet = sheet_of(schedule_xlsx(example(name), "t"))
    row = FIRST_YEAR_ROW + len(expected(name)["years"])
    values = dict(zip(YEAR_KEYS, row_values(sheet, row), strict=True))
    assert values["year"] == "Total"
    for key in TOTAL_KEYS[:-1]:
        assert exact(values[key]) == Decimal(totals[key]), key
    for key in ("start", "end", "escalation", "efficiency_pct", "reinvest_cumulative"):
        assert values[key] is None
    npv = sheet.cell(row + 1, YEAR_KEYS.index("net_margin") + 1).value
    assert exact(npv) == Decimal(totals["npv_net_margin"])


@pytest.mark.parametrize(
    ("code", "places", "number_format"),
    [("EUR", 2, "#,##0.00"), ("JPY", 0, "#,##0"), ("KWD", 3, "#,##0.000")],
)
def test_amounts_show_the_currency_places(code: str, places: int, number_format: str) -> None:
    schedule = in_currency(code, places)
    sheet = sheet_of(schedule_xlsx(schedule, "t"))
    price = sheet.cell(FIRST_YEAR_ROW + 1, YEAR_KEYS.index("price") + 1)
    assert price.number_format == number_format
    assert sheet.cell(FIRST_YEAR_ROW, 2).number_format == "yyyy-mm-dd"
    assert sheet.cell(FIRST_YEAR_ROW, YEAR_KEYS.index("efficiency_pct") + 1).number_format == (
        "0.0000"
    )
    assert exact(price.value) == Decimal(schedule.years[1].price).scaleb(-places)
    assert code in str(sheet.cell(TITLE_ROW + 1, 1).value)


@pytest.mark.parametrize("title", [INJECTION, "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_like_title_is_stored_as_quoted_text(title: str) -> None:
    data = schedule_xlsx(example(), title)
    cell = sheet_of(data).cell(TITLE_ROW, 1)
    assert cell.data_type == "s"
    assert isinstance(cell.value, str)
    assert cell.value.startswith("'")
    assert cell.value[1:].lstrip() == title.lstrip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


def test_an_ordinary_title_is_kept_and_forbidden_characters_are_dropped() -> None:
    sheet = sheet_of(schedule_xlsx(example(), "Plan 2025 = fine\x01\x0b"))
    assert sheet.cell(TITLE_ROW, 1).value == "Plan 2025 = fine"


def test_the_same_schedule_gives_identical_bytes_with_fixed_times() -> None:
    first = schedule_xlsx(example(), INJECTION)
    assert schedule_xlsx(example(), INJECTION) == first
    assert schedule_xlsx(example(), "other") != first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    properties = openpyxl.load_workbook(io.BytesIO(first)).properties
    assert properties.created == properties.modified == datetime(2000, 1, 1)


def test_a_missing_efficiency_share_and_escalation_are_empty_cells() -> None:
    schedule = example()
    years = tuple(year._replace(efficiency_pct=None) for year in schedule.years)
    sheet = sheet_of(schedule_xlsx(dataclasses.replace(schedule, years=years), "t"))
    values = dict(zip(YEAR_KEYS, row_values(sheet, FIRST_YEAR_ROW), strict=True))
    assert values["efficiency_pct"] is None
    assert values["escalation"] is None


def test_an_amount_a_spreadsheet_number_would_round_is_written_as_exact_text() -> None:
    schedule = example()
    huge = 12_345_678_901_234_567  # 17 significant digits: more than a double holds exactly
    years = (schedule.years[0]._replace(price=huge), *schedule.years[1:])
    sheet = sheet_of(schedule_xlsx(dataclasses.replace(schedule, years=years), "t"))
    assert sheet.cell(FIRST_YEAR_ROW, YEAR_KEYS.index("price") + 1).value == "123456789012345.67"
    # The neighbouring amounts are still numbers.
    assert exact(sheet.cell(FIRST_YEAR_ROW + 1, YEAR_KEYS.index("price") + 1).value) == Decimal(
        "1236000.00"
    )
