"""Downloads of the delivery figures: actuals beside the plan, the fund's ledger with its
entries, and KPI results, as CSV and XLSX, exactly as the delivery view has them.

Text people typed is written so that no spreadsheet runs it (bad-inputs row 10).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import add_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.domain.money import currency, units_text
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals, set_delivery_plan
from tracker.services.contracts import create_contract
from tracker.services.delivery import COMPARED, DeliveryView, delivery_view
from tracker.services.fund import record_adjustment, record_spending
from tracker.services.initiatives import approve_initiative, propose_initiative
from tracker.services.kpis import create_kpi, record_kpi_result
from tracker.services.year_close import close_year

DATA = Path(__file__).resolve().parents[1] / "data"
TODAY = date(2025, 6, 30)
NOW = datetime(2025, 6, 30, 9, 15, 7, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_NOTE = '=HYPERLINK("http://evil.example","Click")'
FIGURE_NAMES = {"cost": "delivery_cost"}


def terms(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text(encoding="utf-8"))
    return {**document, "start_date": "2022-01-01", **changes}


@pytest.fixture
def contract_id(session: Session) -> int:
    """A contract in its fourth year with actuals, volumes, KPIs and fund postings, and
    text that a spreadsheet would run as a formula in every text field."""
    contract = create_contract(session, SYSTEM, terms(), code="EXP-1", status="active")
    set_delivery_plan(
        session, SYSTEM, contract, volume_name="Users", volume_unit="users",
        planned_volumes={1: "1000", 2: "1000"}, initiatives_per_year="", expected_version=0,
    )  # fmt: skip
    record_actuals(session, SYSTEM, contract, 1, actual_cost="950000.07", actual_volume="1100",
                   note=FORMULA_NOTE, expected_version=1, today=TODAY)  # fmt: skip
    record_actuals(session, SYSTEM, contract, 2, actual_cost="1000000.00",
                   note="-5 % against the plan", expected_version=1, today=TODAY)  # fmt: skip
    kpi = create_kpi(
        session, SYSTEM, contract, name="@Availability", unit="%", higher_is_better="higher",
        tolerance="0.5", targets=dict.fromkeys(range(1, 6), "99.5"),
    )  # fmt: skip
    record_kpi_result(session, SYSTEM, kpi, 1, actual="99.2", quarters={"q1": "98.25"},
                      expected_version=1)  # fmt: skip
    fields = {"title": "+Self-service portal", "description": "d", "expected_saving": "1.00",
              "budget": "30000.00", "planned_year": "1"}  # fmt: skip
    initiative = propose_initiative(session, SYSTEM, contract, fields, side="vendor")
    approve_initiative(session, SYSTEM, initiative, expected_version=1, side="buyer")
    approve_initiative(session, SYSTEM, initiative, expected_version=2, side="vendor")
    record_spending(session, SYSTEM, initiative, "1", "12000.50", "@Licences",
                    now=NOW, today=TODAY)  # fmt: skip
    record_adjustment(session, SYSTEM, contract, "2", "-250.00", "-Correction of year 1",
                      now=NOW, today=TODAY)  # fmt: skip
    return contract


@pytest.fixture
def view(session: Session, contract_id: int) -> DeliveryView:
    return delivery_view(session, SYSTEM, contract_id)


def csv_rows(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.text)))


def records(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def workbook(response: TestResponse) -> Any:
    assert response.status_code == 200
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data))


def sheet_records(sheet: Worksheet) -> list[dict[str, Any]]:
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def money(units: int | None) -> str:
    return "" if units is None else units_text(units, currency("EUR"))


# -- actuals --------------------------------------------------------------------------------


def test_the_actuals_csv_holds_the_delivery_views_figures(
    client: FlaskClient, contract_id: int, view: DeliveryView
) -> None:
    response = client.get(f"/contracts/{contract_id}/actuals.csv")
    assert response.headers["Content-Disposition"] == "attachment; filename=EXP-1-actuals.csv"
    lines = records(csv_rows(response))
    assert [line["year"] for line in lines] == ["1", "2", "3", "4", "5"]
    for line, year in zip(lines, view.years, strict=True):
        assert (line["start"], line["end"]) == (str(year.plan.start), str(year.plan.end))
        assert line["status"] == "open"
        for key, _label in COMPARED:
            name = FIGURE_NAMES.get(key, key)
            variance = year.variance(key)
            assert line[f"planned_{name}"] == money(year.planned(key))
            assert line[f"actual_{name}"] == money(year.actual_value(key))
            assert line[f"variance_{name}"] == money(variance.amount if variance else None)
            expected_pct = (
                "" if variance is None or variance.pct is None
                else f"{Decimal(variance.pct).scaleb(-4):.4f}"
            )  # fmt: skip
            assert line[f"variance_pct_{name}"] == expected_pct
    first = lines[0]
    assert (first["planned_volume"], first["actual_volume"]) == ("1000", "1100")
    assert first["actual_delivery_cost"] == "950000.07"
    # The baseline normalised by volume: 1,000,000.00 x 1100 / 1000.
    assert first["actual_baseline_cost"] == "1100000.00"
    assert first["variance_baseline_cost"] == "100000.00"
    assert first["variance_pct_baseline_cost"] == "0.1000"
    assert lines[2]["actual_delivery_cost"] == lines[2]["variance_delivery_cost"] == ""


def test_exported_text_that_a_spreadsheet_would_run_is_prefixed_in_csv(
    client: FlaskClient, contract_id: int
) -> None:
    lines = records(csv_rows(client.get(f"/contracts/{contract_id}/actuals.csv")))
    assert lines[0]["note"] == "'" + FORMULA_NOTE
    assert lines[1]["note"] == "'-5 % against the plan"
    # Negative amounts are numbers, not text: never prefixed.
    assert lines[0]["variance_delivery_cost"].startswith("-")
    kpis = records(csv_rows(client.get(f"/contracts/{contract_id}/kpis.csv")))
    assert kpis[0]["kpi"] == "'@Availability"


def test_the_actuals_workbook_has_exact_numbers_and_prefixed_text(
    client: FlaskClient, contract_id: int, view: DeliveryView
) -> None:
    book = workbook(client.get(f"/contracts/{contract_id}/actuals.xlsx"))
    sheet = book["Actuals"]
    lines = sheet_records(sheet)
    header = [cell.value for cell in sheet[1]]
    first = lines[0]
    assert first["year"] == 1
    assert first["start"] == datetime(2022, 1, 1)
    assert first["actual_delivery_cost"] == pytest.approx(950000.07)
    assert Decimal(repr(first["actual_delivery_cost"])) == Decimal("950000.07")
    assert first["planned_net_margin"] == float(Decimal(view.year(1).planned("net_margin")) / 100)
    cost = sheet.cell(2, header.index("actual_delivery_cost") + 1)
    assert cost.number_format == "#,##0.00"
    assert cost.data_type == "n"
    pct = sheet.cell(2, header.index("variance_pct_baseline_cost") + 1)
    assert (pct.value, pct.number_format) == (0.1, "0.00%")
    note = sheet.cell(2, header.index("note") + 1)
    assert (note.value, note.data_type) == ("'" + FORMULA_NOTE, "s")
    assert sheet.cell(3, header.index("note") + 1).value == "'-5 % against the plan"
    assert lines[2]["actual_delivery_cost"] is None
    assert sheet.freeze_panes == "A2"


def test_a_closed_year_says_when_and_by_whom(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    close_year(session, SYSTEM, contract_id, 1, now=NOW)
    lines = records(csv_rows(client.get(f"/contracts/{contract_id}/actuals.csv")))
    assert (lines[0]["status"], lines[0]["closed_on"], lines[0]["closed_by"]) == (
        "closed", "2025-06-30", "system"
    )  # fmt: skip
    assert lines[1]["status"] == "open"


# -- ledger -----------------------------------------------------------------------------------


def test_the_ledger_csv_has_the_fund_by_year_then_every_entry(
    client: FlaskClient, contract_id: int, view: DeliveryView
) -> None:
    response = client.get(f"/contracts/{contract_id}/ledger.csv")
    rows = csv_rows(response)
    blank = rows.index([])
    years, entries = records(rows[:blank]), records(rows[blank + 1 :])
    assert [
        [line["year"], line["opening"], line["committed"], line["committed_from"],
         line["adjusted"], line["spent"], line["closing"]]
        for line in years
    ] == [
        [str(line.year), money(line.opening), money(line.committed),
         "actuals" if line.from_actuals else "plan", money(line.adjusted), money(line.spent),
         money(line.closing)]
        for line in view.ledger
    ]  # fmt: skip
    assert years[0]["spent"] == "12000.50"
    assert years[1]["adjusted"] == "-250.00"
    spending, adjustment = entries
    assert spending == {
        "entry": str(view.entries[0].id), "year": "1", "kind": "spending",
        "initiative": str(view.initiatives[0].id), "initiative_title": "'+Self-service portal",
        "amount": "12000.50", "effect": "-12000.50", "prefunding": "no",
        "text": "'@Licences", "created_at_utc": "2025-06-30 09:15:07", "created_by": "system",
    }  # fmt: skip
    assert (adjustment["kind"], adjustment["initiative"], adjustment["amount"]) == (
        "adjustment", "", "-250.00"
    )  # fmt: skip
    assert adjustment["text"] == "'-Correction of year 1"


def test_the_ledger_workbook_has_a_sheet_per_table(
    client: FlaskClient, contract_id: int, view: DeliveryView
) -> None:
    book = workbook(client.get(f"/contracts/{contract_id}/ledger.xlsx"))
    assert book.sheetnames == ["Fund by year", "Fund entries"]
    years = sheet_records(book["Fund by year"])
    assert [Decimal(repr(line["closing"])) for line in years] == [
        Decimal(line.closing).scaleb(-2) for line in view.ledger
    ]
    [spending, adjustment] = sheet_records(book["Fund entries"])
    assert spending["text"] == "'@Licences"
    assert adjustment["amount"] == -250
    assert book["Fund entries"].cell(2, 6).number_format == "#,##0.00"


# -- KPIs -------------------------------------------------------------------------------------


def test_the_kpi_csv_has_a_row_per_kpi_and_year(
    client: FlaskClient, contract_id: int, view: DeliveryView
) -> None:
    lines = records(csv_rows(client.get(f"/contracts/{contract_id}/kpis.csv")))
    assert len(lines) == 5
    assert lines[0] == {
        "kpi": "'@Availability", "unit": "%", "better": "higher", "tolerance": "0.5",
        "year": "1", "target": "99.5", "actual": "99.2", "q1": "98.25", "q2": "", "q3": "",
        "q4": "", "status": "near",
    }  # fmt: skip
    kpi = view.kpis[0]
    assert [line["target"] for line in lines] == [f"{y.target:f}" for y in kpi.years]
    assert lines[1]["status"] == lines[1]["actual"] == ""


def test_the_kpi_workbook_holds_results_as_numbers(client: FlaskClient, contract_id: int) -> None:
    book = workbook(client.get(f"/contracts/{contract_id}/kpis.xlsx"))
    [first, *_rest] = sheet_records(book["KPIs"])
    assert (first["kpi"], first["actual"], first["q1"], first["status"]) == (
        "'@Availability", 99.2, 98.25, "near"
    )  # fmt: skip


# -- every download ---------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["actuals", "ledger", "kpis"])
def test_the_same_figures_give_the_same_bytes(
    client: FlaskClient, contract_id: int, table: str
) -> None:
    for fmt in ("csv", "xlsx"):
        first = client.get(f"/contracts/{contract_id}/{table}.{fmt}")
        assert first.status_code == 200
        assert first.headers["X-Content-Type-Options"] == "nosniff"
        assert first.data == client.get(f"/contracts/{contract_id}/{table}.{fmt}").data


def test_amounts_follow_the_currencys_places(client: FlaskClient, session: Session) -> None:
    yen = create_contract(
        session, SYSTEM,
        terms(currency="JPY", price={"base": "120000000", "escalation": {"method": "fixed",
                                                                          "rate": "0.03"}},
              cost={"baseline": "100000000", "inflation": "0.025", "efficiency": "0.04"}),
        code="YEN-1", status="active",
    )  # fmt: skip
    record_actuals(session, SYSTEM, yen, 1, actual_cost="95000007", expected_version=0)
    line = records(csv_rows(client.get(f"/contracts/{yen}/actuals.csv")))[0]
    assert line["actual_delivery_cost"] == "95000007"
    sheet = workbook(client.get(f"/contracts/{yen}/actuals.xlsx"))["Actuals"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(2, header.index("actual_delivery_cost") + 1)
    assert (cell.value, cell.number_format) == (95000007, "#,##0")


def test_an_amount_a_spreadsheet_would_round_is_written_as_text(
    client: FlaskClient, session: Session
) -> None:
    large = create_contract(
        session, SYSTEM,
        terms(price={"base": "99999999999999.99", "escalation": {"method": "fixed",
                                                                 "rate": "0"}}),
        code="BIG-1", status="active",
    )  # fmt: skip
    view = delivery_view(session, SYSTEM, large)
    sheet = workbook(client.get(f"/contracts/{large}/actuals.xlsx"))["Actuals"]
    line = sheet_records(sheet)[0]
    assert line["planned_net_margin"] == money(view.year(1).planned("net_margin"))
    assert line["planned_baseline_cost"] == 1000000


def test_anyone_who_sees_the_contract_may_download_and_nobody_else(
    app: Flask, contract_id: int
) -> None:
    add_user(app, "fin@buyer.test", ("Hospital Clinic Demo",), "finance")
    finance = sign_in(app.test_client(), "fin@buyer.test")
    add_user(app, "eve@elsewhere.test", ("Gemeente Demo",))
    outsider = sign_in(app.test_client(), "eve@elsewhere.test")
    for table in ("actuals", "ledger", "kpis"):
        for fmt in ("csv", "xlsx"):
            assert finance.get(f"/contracts/{contract_id}/{table}.{fmt}").status_code == 200
            assert outsider.get(f"/contracts/{contract_id}/{table}.{fmt}").status_code == 404
    assert outsider.get(f"/contracts/{contract_id + 1000}/actuals.csv").status_code == 404
    anonymous = app.test_client().get(f"/contracts/{contract_id}/actuals.csv")
    assert anonymous.status_code in (302, 303, 401)


@pytest.mark.parametrize("path", ["actuals.pdf", "ledger.json", "kpis.xls", "payroll.csv"])
def test_other_download_names_answer_404(client: FlaskClient, contract_id: int, path: str) -> None:
    assert client.get(f"/contracts/{contract_id}/{path}").status_code == 404
