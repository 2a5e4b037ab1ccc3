"""Downloads of a stored contract: the schedule as CSV and XLSX, the terms as JSON, and a
scenario's schedule as CSV; each figure exactly as in the spec's worked examples."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.domain.json_document import load_json_document
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import SYSTEM
from tracker.services.contracts import create_contract
from tracker.services.scenarios import create_scenario

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = ("fixed-5y", "index-capped-4y")
#: The keys of one year of the schedule, in the order of the spec (section 2 and 4).
SPEC_KEYS = [
    "year",
    "start",
    "end",
    "escalation",
    "price",
    "baseline_cost",
    "planned_cost",
    "efficiency_gain",
    "efficiency_pct",
    "reinvest",
    "buyer_credit",
    "vendor_gain",
    "net_price",
    "gross_margin",
    "net_margin",
    "reinvest_cumulative",
]
MONEY_KEYS = [key for key in SPEC_KEYS[4:] if key != "efficiency_pct"]
TOTAL_KEYS = [key for key in MONEY_KEYS if key != "reinvest_cumulative"]
#: Where the workbook puts things (1-based rows): title, note, header, first year.
TITLE_ROW, HEADER_ROW, FIRST_YEAR_ROW = 1, 3, 4
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def expected(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (DATA / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    return document


def code_of(name: str) -> str:
    return name.upper()


@pytest.fixture(params=EXAMPLES)
def stored(request: pytest.FixtureRequest, session: Session) -> tuple[str, int]:
    """A spec example stored as a contract whose code is the example's name in capitals."""
    name: str = request.param
    return name, create_contract(session, SYSTEM, example(name), code=code_of(name))


def csv_rows(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def as_text(value: object) -> str:
    """An expected JSON value as its CSV cell: null is empty, numbers as written."""
    return "" if value is None else str(value)


def attachment_name(response: TestResponse) -> str:
    disposition = response.headers["Content-Disposition"]
    kind, _, parameter = disposition.partition(";")
    assert kind == "attachment"
    key, _, value = parameter.strip().partition("=")
    assert key == "filename"
    return value.strip('"')


# -- CSV --------------------------------------------------------------------------------


def test_the_csv_header_is_exactly_the_spec_keys(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    rows = csv_rows(client.get(f"/contracts/{contract_id}/schedule.csv"))
    assert rows[0] == SPEC_KEYS
    assert rows[0] == list(expected(name)["years"][0])


def test_each_csv_row_holds_the_expected_json_strings(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    rows = csv_rows(client.get(f"/contracts/{contract_id}/schedule.csv"))
    years = expected(name)["years"]
    assert len(rows) == 1 + len(years)
    for row, year in zip(rows[1:], years, strict=True):
        assert row == [as_text(year[key]) for key in SPEC_KEYS], f"year {year['year']}"


def test_the_csv_is_an_attachment_named_after_the_contract_code(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    response = client.get(f"/contracts/{contract_id}/schedule.csv")
    assert attachment_name(response) == f"{code_of(name)}-schedule.csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_csv_of_a_contract_without_a_code_is_named_after_the_given_code(
    client: FlaskClient, session: Session
) -> None:
    contract_id = create_contract(session, SYSTEM, example("fixed-5y"))
    response = client.get(f"/contracts/{contract_id}/schedule.csv")
    assert attachment_name(response) == f"C-{contract_id:05d}-schedule.csv"


# -- XLSX -------------------------------------------------------------------------------


def workbook_sheet(response: TestResponse) -> Worksheet:
    assert response.status_code == 200
    assert response.mimetype == XLSX
    sheet: Worksheet = load_workbook(io.BytesIO(response.data)).active
    return sheet


def exact(value: object) -> Decimal:
    """A spreadsheet number as an exact decimal (openpyxl reads numbers as float or int)."""
    assert isinstance(value, int | float), f"{value!r} is not a number"
    return Decimal(str(value))


def test_the_xlsx_is_an_attachment_named_after_the_contract_code(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    response = client.get(f"/contracts/{contract_id}/schedule.xlsx")
    assert response.mimetype == XLSX
    assert attachment_name(response) == f"{code_of(name)}-schedule.xlsx"


def test_the_xlsx_money_cells_equal_the_expected_amounts(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    sheet = workbook_sheet(client.get(f"/contracts/{contract_id}/schedule.xlsx"))
    schedule = expected(name)
    assert sheet.cell(TITLE_ROW, 1).value == example(name)["name"]
    header = [cell.value for cell in sheet[HEADER_ROW]]
    assert header == SPEC_KEYS
    column = {key: index for index, key in enumerate(SPEC_KEYS, start=1)}
    for offset, year in enumerate(schedule["years"]):
        row = FIRST_YEAR_ROW + offset
        assert sheet.cell(row, column["year"]).value == year["year"]
        for key in ("start", "end"):
            cell = sheet.cell(row, column[key]).value
            assert isinstance(cell, datetime)
            assert cell.date() == date.fromisoformat(year[key])
        escalation = sheet.cell(row, column["escalation"]).value
        if year["escalation"] is None:
            assert escalation is None
        else:
            assert exact(escalation) == Decimal(year["escalation"])
        assert exact(sheet.cell(row, column["efficiency_pct"]).value) == Decimal(
            year["efficiency_pct"]
        )
        for key in MONEY_KEYS:
            cell = sheet.cell(row, column[key])
            assert exact(cell.value) == Decimal(year[key]), f"year {year['year']} {key}"
            assert cell.number_format == "#,##0.00"
    total_row = FIRST_YEAR_ROW + len(schedule["years"])
    assert sheet.cell(total_row, 1).value == "Total"
    for key in TOTAL_KEYS:
        value = sheet.cell(total_row, column[key]).value
        assert exact(value) == Decimal(schedule["totals"][key]), f"total {key}"
    npv = sheet.cell(total_row + 1, column["net_margin"]).value
    assert exact(npv) == Decimal(schedule["totals"]["npv_net_margin"])


def test_a_formula_like_contract_name_is_a_quoted_text_cell_in_the_xlsx(
    client: FlaskClient, session: Session
) -> None:
    name = '=HYPERLINK("http://evil")'
    contract_id = create_contract(session, SYSTEM, {**example("fixed-5y"), "name": name})
    sheet = workbook_sheet(client.get(f"/contracts/{contract_id}/schedule.xlsx"))
    title = sheet.cell(TITLE_ROW, 1)
    assert title.data_type == "s"
    assert title.value == "'" + name
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_markup_in_a_contract_name_is_plain_text_in_the_xlsx(
    client: FlaskClient, session: Session
) -> None:
    name = "<script>alert(1)</script> & co"
    contract_id = create_contract(session, SYSTEM, {**example("fixed-5y"), "name": name})
    sheet = workbook_sheet(client.get(f"/contracts/{contract_id}/schedule.xlsx"))
    assert sheet.cell(TITLE_ROW, 1).value == name


# -- the terms document -------------------------------------------------------------------


def test_the_terms_document_parses_back_to_the_same_terms(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    response = client.get(f"/contracts/{contract_id}/terms.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert attachment_name(response) == f"{code_of(name)}-terms.json"
    document = load_json_document(response.data)
    assert parse_terms(document) == parse_terms(example(name))
    assert isinstance(document, dict)
    assert document["name"] == example(name)["name"]


def test_the_terms_document_is_what_the_api_stores_again(
    client: FlaskClient, stored: tuple[str, int]
) -> None:
    name, contract_id = stored
    terms = client.get(f"/contracts/{contract_id}/terms.json").data
    response = client.post("/api/contracts?code=AGAIN", data=terms, content_type="application/json")
    assert response.status_code == 201
    again = client.get(response.headers["Location"]).get_json()
    assert again["schedule"] == expected(name)


# -- a scenario's schedule ------------------------------------------------------------------


def test_a_scenarios_csv_holds_the_scenarios_schedule(
    client: FlaskClient, session: Session
) -> None:
    # The contract has other terms; the scenario has exactly those of the example.
    other = {
        **example("fixed-5y"),
        "price": {"base": "999.00", "escalation": example("fixed-5y")["price"]["escalation"]},
    }
    contract_id = create_contract(session, SYSTEM, other, code="BASE-1")
    scenario_id = create_scenario(
        session, SYSTEM, contract_id, "As in the spec", example("fixed-5y")
    )
    response = client.get(f"/scenarios/{scenario_id}/schedule.csv")
    rows = csv_rows(response)
    assert rows[0] == SPEC_KEYS
    years = expected("fixed-5y")["years"]
    assert rows[1:] == [[as_text(year[key]) for key in SPEC_KEYS] for year in years]
    assert attachment_name(response) == f"BASE-1-scenario-{scenario_id}-schedule.csv"
    contract_rows = csv_rows(client.get(f"/contracts/{contract_id}/schedule.csv"))
    assert contract_rows[1][4] == "999.00"
