"""Importing delivery figures from CSV and XLSX: actual costs, KPI results and spending.

A file is written whole or not at all, once per contract, with one batch record and
one audit event; every problem of every row is listed by row and column (bad-inputs
rows 10-14, 23 and 24).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTER, add_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from html_tree import html as parse
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.db.audit_models import AuditEvent
from tracker.db.delivery_models import DeliveryYear, FundEntry, ImportBatch, KpiYear
from tracker.db.models import Contract
from tracker.reporting.import_files import ReadOptions
from tracker.services import imports as import_service
from tracker.services.access import SYSTEM, Actor
from tracker.services.actuals import record_actuals, set_delivery_plan
from tracker.services.contracts import create_contract
from tracker.services.delivery import delivery_view
from tracker.services.errors import Conflict, Forbidden, NotFound
from tracker.services.imports import ImportRejected, ImportResult, import_file
from tracker.services.initiatives import approve_initiative, propose_initiative
from tracker.services.kpis import create_kpi, record_kpi_result
from tracker.services.year_close import close_year

DATA = Path(__file__).resolve().parents[1] / "data"
#: Year 1 began on 2022-01-01; on TODAY years 1-4 have begun and year 5 has not.
TODAY = date(2025, 6, 30)
NOW = datetime(2025, 6, 30, 9, 15, tzinfo=UTC)
BUYER, VENDOR = "Hospital Clinic Demo", "Nordlys IT"


def terms(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text(encoding="utf-8"))
    return {**document, "start_date": "2022-01-01", **changes}


@pytest.fixture
def contract_id(session: Session) -> int:
    return create_contract(session, SYSTEM, terms(), code="IMP-1", status="active")


def party_ids(session: Session, contract_id: int) -> tuple[int, int]:
    with session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        return contract.buyer_id, contract.vendor_id


def vendor_staff(session: Session, contract_id: int) -> Actor:
    vendor = party_ids(session, contract_id)[1]
    return Actor(user_id=None, label="vera@vendor.test", memberships={vendor: "staff"})


def buyer_staff(session: Session, contract_id: int) -> Actor:
    buyer = party_ids(session, contract_id)[0]
    return Actor(user_id=None, label="bo@buyer.test", memberships={buyer: "staff"})


def run(
    session: Session,
    contract_id: int,
    kind: str,
    text: str | bytes,
    *,
    actor: Actor = SYSTEM,
    name: str = "figures.csv",
    **options: str,
) -> ImportResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_file(
        session, actor, contract_id, kind, name, data,
        options=ReadOptions(**options), today=TODAY, now=NOW,
    )  # fmt: skip


def rejected(session: Session, contract_id: int, kind: str, text: str | bytes, **kw: Any) -> dict:
    """The problems of a refused file: (row, column) -> reason."""
    with pytest.raises(ImportRejected) as caught:
        run(session, contract_id, kind, text, **kw)
    return {(error.row, error.column): error.reason for error in caught.value.errors}


def count(session: Session, model: type) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(model)) or 0


def stored_years(session: Session, contract_id: int) -> dict[int, DeliveryYear]:
    with session.begin():
        rows = session.scalars(
            select(DeliveryYear)
            .where(DeliveryYear.contract_id == contract_id)
            .execution_options(populate_existing=True)
        ).all()
        return {row.year: row for row in rows}


def fundable_initiative(session: Session, contract_id: int, title: str = "Self-service") -> int:
    fields = {"title": title, "description": "Portal", "expected_saving": "5000.00",
              "budget": "30000.00", "planned_year": "1"}  # fmt: skip
    initiative = propose_initiative(session, SYSTEM, contract_id, fields, side="vendor")
    approve_initiative(session, SYSTEM, initiative, expected_version=1, side="buyer")
    approve_initiative(session, SYSTEM, initiative, expected_version=2, side="vendor")
    return initiative


def a_kpi(session: Session, contract_id: int, name: str = "Availability") -> int:
    return create_kpi(
        session, SYSTEM, contract_id, name=name, unit="%", higher_is_better="higher",
        tolerance="0.5", targets=dict.fromkeys(range(1, 6), "99.5"),
    )  # fmt: skip


def workbook_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- actuals ---------------------------------------------------------------------------------


def test_an_actuals_file_records_each_years_cost_volume_and_note(
    session: Session, contract_id: int
) -> None:
    set_delivery_plan(
        session, SYSTEM, contract_id, volume_name="Users", volume_unit="users",
        planned_volumes={1: "1000", 2: "1100"}, initiatives_per_year="", expected_version=0,
    )  # fmt: skip
    data = "year,actual_cost,actual_volume,note\n1,950000.00,1020,Busy year\n2,990000,,\n"
    result = run(session, contract_id, "actuals", data, actor=vendor_staff(session, contract_id))
    assert (result.kind, result.rows, result.filename) == ("actuals", 2, "figures.csv")
    years = stored_years(session, contract_id)
    assert (years[1].actual_cost, years[1].actual_volume, years[1].note) == (
        95000000,
        "1020",
        "Busy year",
    )
    assert (years[2].actual_cost, years[2].actual_volume, years[2].note) == (99000000, None, None)
    # The planned volumes made the rows version 1; the import moved them on, as a form does.
    assert years[1].version == 2
    assert (years[1].updated_by, years[1].updated_at) == ("vera@vendor.test", NOW)
    view = delivery_view(session, SYSTEM, contract_id, today=TODAY)
    assert view.year(1).actual is not None
    assert view.year(1).actual.baseline_used == 102000000  # 1,000,000.00 x 1020 / 1000


def test_an_import_keeps_one_batch_and_one_audit_event(session: Session, contract_id: int) -> None:
    data = b"year,actual_cost\n1,950000.00\n2,990000.00\n3,1000000.00\n"
    result = run(session, contract_id, "actuals", data, name="../reports/2024 actuals.csv")
    with session.begin():
        batch = session.get(ImportBatch, result.batch_id)
        assert batch is not None
        assert (batch.contract_id, batch.filename, batch.rows) == (
            contract_id,
            "2024 actuals.csv",
            3,
        )
        assert batch.sha256 == hashlib.sha256(data).hexdigest()
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
        assert len(events) == 1
        assert events[0].contract_id == contract_id
        assert json.loads(events[0].after or "{}") == {
            "kind": "actuals", "rows": 3, "filename": "2024 actuals.csv",
            "sha256": batch.sha256,
        }  # fmt: skip


def test_imported_actuals_equal_what_the_form_records(session: Session) -> None:
    by_form = create_contract(session, SYSTEM, terms(), code="FORM-1", status="active")
    by_file = create_contract(session, SYSTEM, terms(), code="FILE-1", status="active")
    record_actuals(session, SYSTEM, by_form, 1, actual_cost="950000.07", note="n",
                   expected_version=0, today=TODAY)  # fmt: skip
    run(session, by_file, "actuals", "year,actual_cost,note\n1,950000.07,n\n")
    form_view = delivery_view(session, SYSTEM, by_form, today=TODAY)
    file_view = delivery_view(session, SYSTEM, by_file, today=TODAY)
    assert form_view.year(1).actual == file_view.year(1).actual
    assert form_view.ledger == file_view.ledger


def test_blank_optional_cells_keep_stored_values_and_empty_template_rows_are_skipped(
    session: Session, contract_id: int
) -> None:
    record_actuals(session, SYSTEM, contract_id, 1, actual_cost="900000.00", note="Kept",
                   expected_version=0, today=TODAY)  # fmt: skip
    result = run(session, contract_id, "actuals", "year,actual_cost,note\n1,950000.00,\n2,,\n3,,\n")
    assert result.rows == 1
    years = stored_years(session, contract_id)
    assert (years[1].actual_cost, years[1].note) == (95000000, "Kept")
    assert set(years) == {1}


def test_actuals_of_a_year_not_begun_or_outside_the_term_are_refused(
    session: Session, contract_id: int
) -> None:
    problems = rejected(
        session, contract_id, "actuals",
        "year,actual_cost\n5,1.00\n6,1.00\n0,1.00\n2024,1.00\n45658,1.00\n",
    )  # fmt: skip
    assert problems == {
        (2, "year"): "year 5 starts on 2026-01-01; record its actuals once it has started",
        (3, "year"): "expected a whole number from 1 to 5, got \"6\"",
        (4, "year"): "expected a whole number from 1 to 5, got \"0\"",
        (5, "year"): "expected a contract year from 1 to 5 (year 1 starts on 2022-01-01); "
                     "2024 looks like a calendar year",
        (6, "year"): "expected a contract year from 1 to 5 (year 1 starts on 2022-01-01); "
                     "45658 looks like a spreadsheet's serial number of 2025-01-01",
    }  # fmt: skip


def test_an_actual_volume_needs_a_planned_volume(session: Session, contract_id: int) -> None:
    problems = rejected(
        session, contract_id, "actuals", "year,actual_cost,actual_volume\n1,1.00,5\n"
    )
    assert problems == {(2, "actual_volume"): "year 1 has no planned volume to compare with"}


def test_a_closed_year_is_refused_with_when_it_closed_and_how_to_correct(
    session: Session, contract_id: int
) -> None:
    record_actuals(session, SYSTEM, contract_id, 1, actual_cost="950000.00", expected_version=0,
                   today=TODAY)  # fmt: skip
    close_year(session, SYSTEM, contract_id, 1, now=NOW, today=TODAY)
    problems = rejected(session, contract_id, "actuals", "year,actual_cost\n1,1.00\n2,1.00\n")
    assert list(problems) == [(2, "year")]
    assert "year 1 was closed on 2025-06-30 by system" in problems[(2, "year")]
    assert "adjustment in an open year" in problems[(2, "year")]
    assert stored_years(session, contract_id)[1].actual_cost == 95000000
    assert 2 not in stored_years(session, contract_id)


def test_the_same_year_twice_in_one_file_is_refused(session: Session, contract_id: int) -> None:
    problems = rejected(
        session, contract_id, "actuals", "year,actual_cost\n1,1.00\n2,2.00\n1,3.00\n"
    )
    assert problems == {(4, "year"): "year 1 is already on row 2"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("12.345", "at most 2 decimal places"),
        ("-0", "negative zero"),
        ("-5.00", "of 0 or more"),
        ("1" * 40, "below 1,000,000,000,000,000"),
        ("NaN", "plain decimal such as 1234.56"),
        ("Infinity", "plain decimal such as 1234.56"),
        ("1e5", "plain decimal such as 1234.56"),
        ('"1,234.56"', "plain decimal such as 1234.56"),
        ("=1+1", "not read in number fields"),
        ("@SUM(A1)", "not read in number fields"),
    ],
)
def test_bad_amounts_are_refused_with_the_allowed_form(
    session: Session, contract_id: int, value: str, says: str
) -> None:
    problems = rejected(session, contract_id, "actuals", f"year,actual_cost\n1,{value}\n")
    assert list(problems) == [(2, "actual_cost")]
    assert says in problems[(2, "actual_cost")]


def test_every_problem_of_every_row_is_reported_at_once_once_per_cell(
    session: Session, contract_id: int
) -> None:
    text = "year;actual_cost;note\n5;1,234.56;ok\nx;1.00;\n2;;a note\n"
    problems = rejected(session, contract_id, "actuals", text)
    assert set(problems) == {
        (2, "year"), (2, "actual_cost"), (3, "year"), (4, "actual_cost"),
    }  # fmt: skip
    assert problems[(4, "actual_cost")] == "required"
    assert problems[(3, "year")].startswith("expected a number written as a plain decimal")
    assert "plain decimal" in problems[(2, "actual_cost")]
    assert (
        problems[(2, "year")]
        == "year 5 starts on 2026-01-01; record its actuals once it has started"
    )


def test_an_xlsx_file_is_imported_exactly(session: Session, contract_id: int) -> None:
    data = workbook_bytes([["year", "actual_cost", "note"], [1, 950000.07, "=SUM(A1:A2)"],
                           [2, 1000000, 42]])  # fmt: skip
    run(session, contract_id, "actuals", data, name="actuals.xlsx")
    years = stored_years(session, contract_id)
    assert (years[1].actual_cost, years[1].note) == (95000007, "=SUM(A1:A2)")
    assert (years[2].actual_cost, years[2].note) == (100000000, "42")


def test_an_excel_date_in_the_year_column_is_refused(session: Session, contract_id: int) -> None:
    data = workbook_bytes([["year", "actual_cost"], [datetime(1900, 1, 2), 1.5]])
    problems = rejected(session, contract_id, "actuals", data, name="a.xlsx")
    assert "looks like a date" in problems[(2, "year")]


# -- KPI results ------------------------------------------------------------------------------


def test_kpi_results_are_recorded_by_the_kpis_name_with_quarters(
    session: Session, contract_id: int
) -> None:
    kpi = a_kpi(session, contract_id)
    # Defining the KPI with its targets made each year's row (version 1).
    record_kpi_result(session, SYSTEM, kpi, 1, actual="98", expected_version=1)
    text = (
        "kpi,year,actual,q1,q2,q3,q4\nAvailability,1,99.7,99.1,99.9,,100\nAvailability,2,-0.5,,,,\n"
    )
    result = run(session, contract_id, "kpi_results", text, actor=buyer_staff(session, contract_id))
    assert result.rows == 2
    view = delivery_view(session, SYSTEM, contract_id, today=TODAY)
    first, second = view.kpis[0].year(1), view.kpis[0].year(2)
    assert (first.actual, first.quarters) == (
        Decimal("99.7"),
        (Decimal("99.1"), Decimal("99.9"), None, Decimal("100")),
    )
    assert first.status is not None
    assert first.status.value == "met"
    assert (first.version, first.updated_by) == (3, "bo@buyer.test")
    assert second.actual == Decimal("-0.5")


def test_an_unknown_kpi_name_is_refused_listing_the_contracts_kpis(
    session: Session, contract_id: int
) -> None:
    a_kpi(session, contract_id)
    a_kpi(session, contract_id, "First-call resolution")
    problems = rejected(session, contract_id, "kpi_results", "kpi,year,actual\nUptime,1,99\n")
    assert problems == {
        (2, "kpi"): 'this contract has no KPI named "Uptime"; its KPIs are: Availability, '
                    "First-call resolution"
    }  # fmt: skip


def test_a_formula_like_kpi_name_matches_with_the_quote_that_exports_add(
    session: Session, contract_id: int
) -> None:
    a_kpi(session, contract_id, "=Tickets closed")
    text = "kpi,year,actual\n'=Tickets closed,1,10\n=Tickets closed,2,11\n"
    assert run(session, contract_id, "kpi_results", text).rows == 2
    with session.begin():
        actuals = session.scalars(select(KpiYear.actual).where(KpiYear.actual.is_not(None)))
        assert sorted(actuals) == ["10", "11"]


def test_kpi_results_for_a_year_not_yet_begun_are_refused(
    session: Session, contract_id: int
) -> None:
    a_kpi(session, contract_id)
    problems = rejected(session, contract_id, "kpi_results", "kpi,year,actual\nAvailability,5,99\n")
    assert problems == {
        (2, "year"): "year 5 starts on 2026-01-01; record its results once it has started"
    }


def test_kpi_results_for_the_same_kpi_and_year_twice_are_refused(
    session: Session, contract_id: int
) -> None:
    a_kpi(session, contract_id)
    text = "kpi,year,actual\nAvailability,1,99\nAvailability,1,98\n"
    problems = rejected(session, contract_id, "kpi_results", text)
    assert problems == {(3, "year"): "Availability in year 1 is already on row 2"}


# -- spending -------------------------------------------------------------------------------


def test_spending_is_posted_to_the_fund_with_its_import_batch(
    session: Session, contract_id: int
) -> None:
    initiative = fundable_initiative(session, contract_id)
    text = f"initiative,year,amount,description\n{initiative},1,1500.00,Licences\n"
    result = run(session, contract_id, "spending", text, actor=vendor_staff(session, contract_id))
    with session.begin():
        [entry] = session.scalars(select(FundEntry)).all()
        assert (entry.kind, entry.initiative_id, entry.year, entry.amount, entry.text) == (
            "spending",
            initiative,
            1,
            150000,
            "Licences",
        )
        assert (entry.prefunding, entry.import_id, entry.created_by) == (
            False,
            result.batch_id,
            "vera@vendor.test",
        )


def test_spending_that_takes_the_fund_below_zero_over_the_files_rows_needs_prefunding(
    session: Session, contract_id: int
) -> None:
    # Year 1 commits 20,000.00 to the fund (planned reinvestment, no actuals yet).
    initiative = fundable_initiative(session, contract_id)
    rows = f"{initiative},1,15000.00,First\n{initiative},1,6000.00,Second\n"
    problems = rejected(session, contract_id, "spending",
                        f"initiative,year,amount,description\n{rows}")  # fmt: skip
    assert problems == {
        (3, "prefunding"): "this row takes the fund below zero in year 1; write yes in "
                           "prefunding if the vendor pays ahead of the fund"
    }  # fmt: skip
    text = f"initiative,year,amount,description,prefunding\n{rows.replace('Second', 'Second,yes')}"
    run(session, contract_id, "spending", text)
    view = delivery_view(session, SYSTEM, contract_id, today=TODAY)
    assert view.ledger[0].closing == -100000
    assert [entry.prefunding for entry in view.entries] == [False, True]


def test_spending_on_an_initiative_not_approved_or_of_another_contract_is_refused(
    session: Session, contract_id: int
) -> None:
    other = create_contract(session, SYSTEM, terms(), code="IMP-2", status="active")
    elsewhere = fundable_initiative(session, other)
    fields = {"title": "Idea", "description": "d", "expected_saving": "1.00", "budget": "1.00",
              "planned_year": "1"}  # fmt: skip
    proposed = propose_initiative(session, SYSTEM, contract_id, fields, side="vendor")
    text = (
        f"initiative,year,amount,description\n{elsewhere},1,1.00,x\n{proposed},1,1.00,x\n"
        "#3,1,1.00,x\n"
    )
    problems = rejected(session, contract_id, "spending", text)
    assert problems[(2, "initiative")] == f"this contract has no initiative #{elsewhere}"
    assert problems[(3, "initiative")] == (
        f"initiative #{proposed} is proposed: the fund pays only for initiatives both sides "
        "approved"
    )
    assert problems[(4, "initiative")].startswith("expected a number written as a plain decimal")


def test_a_description_is_required_and_formula_like_text_is_kept_as_written(
    session: Session, contract_id: int
) -> None:
    initiative = fundable_initiative(session, contract_id)
    text = (
        f"initiative,year,amount,description\n{initiative},1,1.00,\n"
        f'{initiative},1,1.00,"=HYPERLINK(""http://x"")"\n'
    )
    assert rejected(session, contract_id, "spending", text) == {(2, "description"): "required"}
    run(session, contract_id, "spending", text.replace(",1.00,\n", ",1.00,-5 days early\n"))
    with session.begin():
        assert sorted(session.scalars(select(FundEntry.text))) == [
            "-5 days early",
            '=HYPERLINK("http://x")',
        ]


# -- who, when, how often -----------------------------------------------------------------------


def test_costs_and_spending_are_imported_by_vendor_staff_only(
    session: Session, contract_id: int
) -> None:
    buyer = buyer_staff(session, contract_id)
    with pytest.raises(Forbidden, match="only staff of the vendor"):
        run(session, contract_id, "actuals", "year,actual_cost\n1,1.00\n", actor=buyer)
    with pytest.raises(Forbidden, match="only staff of the vendor"):
        run(session, contract_id, "spending", "initiative,year,amount,description\n", actor=buyer)
    outsider = Actor(user_id=None, label="x@else.test", memberships={99_999: "staff"})
    with pytest.raises(NotFound):
        run(session, contract_id, "kpi_results", "kpi,year,actual\n", actor=outsider)
    assert count(session, ImportBatch) == 0


def test_a_contract_not_in_delivery_takes_no_import(session: Session) -> None:
    draft = create_contract(session, SYSTEM, terms(), code="DRAFT-1")
    with pytest.raises(Conflict, match="once a contract is signed; this one is draft"):
        run(session, draft, "actuals", "year,actual_cost\n1,1.00\n")


def test_the_same_file_twice_is_refused_naming_when_and_by_whom(
    session: Session, contract_id: int
) -> None:
    data = "year,actual_cost\n1,950000.00\n"
    run(session, contract_id, "actuals", data, actor=vendor_staff(session, contract_id))
    with pytest.raises(Conflict) as caught:
        run(session, contract_id, "actuals", data, name="again.csv")
    assert str(caught.value) == (
        "this file was already imported into IMP-1 on 2025-06-30 at 09:15 UTC by "
        "vera@vendor.test (as “figures.csv”, 1 row); it was not imported again"
    )
    # Another contract may take the same file.
    other = create_contract(session, SYSTEM, terms(), code="IMP-2", status="active")
    assert run(session, other, "actuals", data).rows == 1


def test_a_file_without_filled_in_rows_is_refused(session: Session, contract_id: int) -> None:
    problems = rejected(session, contract_id, "actuals", "year,actual_cost\n1,\n2,\n")
    assert problems == {(0, ""): "the file has no filled-in rows to import"}


# -- the page -----------------------------------------------------------------------------------


def post_file(
    client: FlaskClient, contract_id: int, kind: str, data: bytes, name: str = "figures.csv",
    **fields: str,
) -> TestResponse:  # fmt: skip
    form: dict[str, Any] = {"kind": kind, "encoding": "utf-8", "delimiter": "auto", "decimal": ".",
                            **fields, "file": (io.BytesIO(data), name)}  # fmt: skip
    return client.post(
        f"/contracts/{contract_id}/import", data=form, content_type="multipart/form-data"
    )


def problem_rows(response: TestResponse) -> list[list[str]]:
    table = parse(response).one("table", id="import-problems")
    return [[cell.text for cell in row.find_all("td")] for row in table.find_all("tr")[1:]]


def test_the_import_page_explains_each_kind_and_links_its_templates(
    client: FlaskClient, contract_id: int
) -> None:
    response = client.get(f"/contracts/{contract_id}/import")
    assert response.status_code == 200
    page = parse(response)
    for kind in ("actuals", "kpi_results", "spending"):
        card = page.one(id=f"kind-{kind}")
        links = {a.attrs["href"] for a in card.find_all("a")}
        assert links == {
            f"/contracts/{contract_id}/import/template/{kind}.csv",
            f"/contracts/{contract_id}/import/template/{kind}.xlsx",
        }
    assert "prefunding" in page.one(id="kind-spending").text
    form = page.one("form", id="import-form")
    assert form.attrs["enctype"] == "multipart/form-data"


def test_a_good_file_is_imported_and_the_person_sent_to_the_delivery_page(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    response = post_file(client, contract_id, "actuals", b"year,actual_cost\n1,950000.00\n2,1.00\n")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/contracts/{contract_id}/delivery"
    with client.session_transaction() as flask_session:
        assert ("success", "Imported 2 rows from figures.csv") in flask_session["_flashes"]
    with session.begin():
        [batch] = session.scalars(select(ImportBatch)).all()
        assert batch.created_by == TESTER


def test_a_thousand_row_file_with_one_bad_row_is_refused_whole(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    initiative = fundable_initiative(session, contract_id)
    lines = [f"{initiative},{n % 4 + 1},1.00,Item {n}" for n in range(1000)]
    lines[700] = f"{initiative},2,12.345,Item 700"
    data = ("initiative,year,amount,description\n" + "\n".join(lines) + "\n").encode()
    before = (count(session, FundEntry), count(session, ImportBatch), count(session, AuditEvent))
    response = post_file(client, contract_id, "spending", data)
    assert response.status_code == 422
    [[row, column, reason]] = problem_rows(response)
    assert (row, column) == ("702", "amount")
    assert "at most 2 decimal places" in reason
    assert "Nothing was written" in parse(response).one(id="import-rejected").text
    after = (count(session, FundEntry), count(session, ImportBatch), count(session, AuditEvent))
    assert after == before
    # The corrected file goes in whole.
    data = data.replace(b"12.345", b"12.34")
    assert post_file(client, contract_id, "spending", data).status_code == 303
    assert count(session, FundEntry) == 1000


def test_the_same_upload_twice_answers_409_naming_when_and_by_whom(
    client: FlaskClient, contract_id: int
) -> None:
    data = b"year,actual_cost\n1,950000.00\n"
    assert post_file(client, contract_id, "actuals", data).status_code == 303
    response = post_file(client, contract_id, "actuals", data, name="copy.csv")
    assert response.status_code == 409
    message = parse(response).one(id="error-message").text
    assert f"by {TESTER} (as “figures.csv”, 1 row)" in message
    assert "already imported into IMP-1 on" in message


def test_problems_quoting_the_file_are_shown_escaped(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    a_kpi(session, contract_id)
    data = b"kpi,year,actual\n<script>alert(1)</script>,1,99\n"
    response = post_file(client, contract_id, "kpi_results", data, name="<b>x</b>.csv")
    assert response.status_code == 422
    assert b"<script>alert(1)" not in response.data
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.data
    [[row, column, reason]] = problem_rows(response)
    assert (row, column) == ("2", "kpi")
    assert reason == (
        'this contract has no KPI named "<script>alert(1)</script>"; its KPIs are: Availability'
    )


def test_an_uploaded_file_name_is_shown_and_kept_never_used_as_a_path(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    response = post_file(
        client, contract_id, "actuals", b"year,actual_cost\n1,1.00\n", "../../app.py"
    )
    assert response.status_code == 422
    assert problem_rows(response) == [
        ["file", "", "expected a .csv or .xlsx file (save the spreadsheet as one of these)"]
    ]
    response = post_file(client, contract_id, "actuals", b"year,actual_cost\n1,1.00\n",
                         "../../reports/figures 2024.csv")  # fmt: skip
    assert response.status_code == 303
    with session.begin():
        assert session.scalars(select(ImportBatch.filename)).all() == ["figures 2024.csv"]


def test_the_forms_csv_settings_reach_the_reader(client: FlaskClient, contract_id: int) -> None:
    data = "year;actual_cost;note\n1;950000,50;Crème\n".encode("windows-1252")
    response = post_file(client, contract_id, "actuals", data)
    assert response.status_code == 422
    assert problem_rows(response) == [
        ["2", "", "line 2 is not UTF-8 text; if Excel saved it as plain CSV, choose Windows-1252"]
    ]
    response = post_file(client, contract_id, "actuals", data, encoding="windows-1252", decimal=",")
    assert response.status_code == 303


def test_a_form_without_a_file_or_with_a_choice_it_never_offered(
    client: FlaskClient, contract_id: int
) -> None:
    response = client.post(f"/contracts/{contract_id}/import", data={"kind": "actuals"})
    assert response.status_code == 422
    assert "choose the file to import" in parse(response).one(cls="invalid-feedback").text
    response = post_file(client, contract_id, "salaries", b"year\n")
    assert response.status_code == 400
    response = post_file(client, contract_id, "actuals", b"year\n", encoding="utf-7")
    assert response.status_code == 400


def test_an_xlsx_bomb_or_disguised_file_answers_422_and_the_app_keeps_serving(
    client: FlaskClient, contract_id: int
) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * 30_000_000 + "</a>")
    response = post_file(client, contract_id, "actuals", bomb.getvalue(), "bomb.xlsx")
    assert response.status_code == 422
    assert "zip bomb" in problem_rows(response)[0][2]
    html = b"<html><body><table><tr><td>year</td></tr></table></body></html>"
    response = post_file(client, contract_id, "actuals", html, "report.xlsx")
    assert response.status_code == 422
    assert "web page (HTML)" in problem_rows(response)[0][2]
    assert client.get(f"/contracts/{contract_id}/import").status_code == 200


def test_importing_is_for_the_parties_only_and_costs_for_the_vendor(
    app: Flask, client: FlaskClient, contract_id: int
) -> None:
    add_user(app, "bo@buyer.test", (BUYER,))
    buyer = sign_in(app.test_client(), "bo@buyer.test")
    response = post_file(buyer, contract_id, "actuals", b"year,actual_cost\n1,1.00\n")
    assert response.status_code == 403
    kpi_file = b"kpi,year,actual\nAvailability,1,99\n"
    assert post_file(buyer, contract_id, "kpi_results", kpi_file).status_code == 422  # no KPIs
    add_user(app, "eve@elsewhere.test", ("Gemeente Demo",))
    outsider = sign_in(app.test_client(), "eve@elsewhere.test")
    assert outsider.get(f"/contracts/{contract_id}/import").status_code == 404
    assert post_file(outsider, contract_id, "kpi_results", kpi_file).status_code == 404
    assert outsider.get(f"/contracts/{contract_id}/import/template/actuals.csv").status_code == 404


def test_a_dropped_database_connection_during_an_import_writes_nothing_and_answers_503(
    client: FlaskClient, session: Session, contract_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dropped(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("connection lost"))

    monkeypatch.setattr(import_service, "record", dropped)
    response = post_file(client, contract_id, "actuals", b"year,actual_cost\n1,1.00\n2,2.00\n")
    assert response.status_code == 503
    assert "nothing was changed" in parse(response).one(id="error-message").text
    assert (count(session, ImportBatch), count(session, DeliveryYear)) == (0, 0)
    monkeypatch.undo()
    response = post_file(client, contract_id, "actuals", b"year,actual_cost\n1,1.00\n2,2.00\n")
    assert response.status_code == 303


# -- templates -----------------------------------------------------------------------------------


def test_the_actuals_template_has_a_row_per_begun_open_year_and_imports_back(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    record_actuals(session, SYSTEM, contract_id, 1, actual_cost="1.00", expected_version=0)
    close_year(session, SYSTEM, contract_id, 1)
    response = client.get(f"/contracts/{contract_id}/import/template/actuals.csv")
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"] == "attachment; filename=IMP-1-import-actuals.csv"
    )
    # Run on or after 2026-01-01: every year of the 2022-2026 term has begun; year 1 is closed.
    assert response.text == "year,actual_cost,actual_volume,note\n2,,,\n3,,,\n4,,,\n5,,,\n"
    filled = response.text.replace("\n3,,,", "\n3,1000000.00,,from the template")
    assert post_file(client, contract_id, "actuals", filled.encode()).status_code == 303
    assert stored_years(session, contract_id)[3].actual_cost == 100000000


def test_the_kpi_template_has_a_row_per_kpi_and_year_in_both_formats(
    client: FlaskClient, session: Session, contract_id: int
) -> None:
    a_kpi(session, contract_id, "=Tickets closed")
    a_kpi(session, contract_id, "Availability")
    response = client.get(f"/contracts/{contract_id}/import/template/kpi_results.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["kpi", "year", "actual", "q1", "q2", "q3", "q4"]
    # KPIs in name order; a name a spreadsheet would run as a formula starts with '.
    assert [row[:3] for row in rows[1:]] == [
        ["'=Tickets closed", year, None] for year in range(1, 6)
    ] + [["Availability", year, None] for year in range(1, 6)]
    sheet.cell(2, 3, 12)
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    assert (
        post_file(client, contract_id, "kpi_results", buffer.getvalue(), "k.xlsx").status_code
        == 303
    )
    view = delivery_view(session, SYSTEM, contract_id)
    assert view.kpis[0].name == "=Tickets closed"
    assert view.kpis[0].year(1).actual == Decimal(12)


def test_the_spending_template_is_its_header(client: FlaskClient, contract_id: int) -> None:
    response = client.get(f"/contracts/{contract_id}/import/template/spending.csv")
    assert response.text == "initiative,year,amount,description,prefunding\n"


@pytest.mark.parametrize(
    "path", ["salaries.csv", "actuals.py", "..%2F..%2Fapp.py", "actuals.csv/../../app.py"]
)
def test_a_template_path_that_is_not_a_kind_and_format_answers_404(
    client: FlaskClient, contract_id: int, path: str
) -> None:
    assert client.get(f"/contracts/{contract_id}/import/template/{path}").status_code == 404
