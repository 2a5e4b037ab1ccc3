"""The delivery pages: plan against actuals, recording actuals, the fund, adjustments,
closing and reopening a year, and the reconciliation pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from delivery_factory import Delivery, contract_in_delivery, initiative_fields
from flask import Flask
from flask.testing import FlaskClient
from html_tree import html
from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker.db.session import engine_of, new_session
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals
from tracker.services.fund import record_spending
from tracker.services.initiatives import approve_initiative, propose_initiative
from tracker.services.kpis import create_kpi, record_kpi_result


@pytest.fixture
def delivery(app: Flask) -> Iterator[Delivery]:
    """The fixed-5y example as an active contract begun 2022-01-01: years 1-4 have ended."""
    with new_session(app) as db_session:
        yield contract_in_delivery(db_session, code="PAGE-1")


def signed_in(app: Flask, email: str) -> FlaskClient:
    """A client signed in as one of the factory's people."""
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 303, response.text
    return client


def url(delivery: Delivery, rest: str = "") -> str:
    return f"/contracts/{delivery.contract_id}{rest}"


def record_year(session: Session, delivery: Delivery, year: int, cost: str) -> None:
    record_actuals(session, SYSTEM, delivery.contract_id, year, actual_cost=cost,
                   expected_version=0)  # fmt: skip


def test_the_delivery_page_shows_plan_and_actual_side_by_side_with_the_variance(
    app: Flask, delivery: Delivery
) -> None:
    with new_session(app) as session:
        record_year(session, delivery, 1, "950000.00")
    page = html(signed_in(app, "buyer-staff@page-1.test").get(url(delivery, "/delivery")))
    row = page.by_id("year-1")
    # fixed-5y: planned cost of year 1 is 960,000.00; 950,000.00 is 10,000.00 below it.
    assert "960,000.00" in row.text
    assert "950,000.00" in row.text
    assert "−10,000.00" in row.text
    assert "—" in page.by_id("year-2").text  # no actuals yet
    ledger = page.by_id("ledger").text
    assert "plan" in ledger


def test_vendor_staff_record_actuals_through_the_year_form(app: Flask, delivery: Delivery) -> None:
    client = signed_in(app, "vendor-staff@page-1.test")
    page = html(client.get(url(delivery, "/years/2")))
    form = page.by_id("actuals-form")
    assert form.one("input", name="version").attrs["value"] == "0"
    response = client.post(
        url(delivery, "/years/2/actuals"),
        data={"version": "0", "actual_cost": "1000000.00", "note": "Migration year"},
    )
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "1,000,000.00" in page.by_id("row-cost").text
    assert "Migration year" in page.by_id("actuals-note").text
    assert page.by_id("actuals-form").one("input", name="version").attrs["value"] == "1"


@pytest.mark.parametrize(
    "value", ["12.345", "NaN", "Infinity", "1e999999", "-0", "1,234.56", "9" * 40, "-5.00"]
)
def test_a_bad_actual_cost_is_refused_next_to_its_field_and_kept(
    app: Flask, delivery: Delivery, value: str
) -> None:
    client = signed_in(app, "vendor-staff@page-1.test")
    response = client.post(
        url(delivery, "/years/1/actuals"), data={"version": "0", "actual_cost": value}
    )
    assert response.status_code == 422
    page = html(response)
    field = page.by_id("f-actual_cost")
    assert "is-invalid" in field.classes
    assert field.attrs["value"] == value
    assert "EUR" in page.by_id("actuals-form").text
    assert html(client.get(url(delivery, "/delivery"))).by_id("year-1").text.count("—") >= 1


def test_a_stale_save_answers_409_naming_who_changed_it_and_keeps_their_change(
    app: Flask, delivery: Delivery
) -> None:
    first = signed_in(app, "vendor-staff@page-1.test")
    assert (
        first.post(
            url(delivery, "/years/1/actuals"), data={"version": "0", "actual_cost": "900000.00"}
        ).status_code
        == 303
    )
    stale = first.post(
        url(delivery, "/years/1/actuals"), data={"version": "0", "actual_cost": "800000.00"}
    )
    assert stale.status_code == 409
    assert "vendor-staff@page-1.test" in stale.text
    assert "900,000.00" in html(first.get(url(delivery, "/years/1"))).by_id("row-cost").text


def test_buyer_staff_see_no_actuals_form_and_their_post_is_forbidden(
    app: Flask, delivery: Delivery
) -> None:
    client = signed_in(app, "buyer-staff@page-1.test")
    assert 'id="actuals-form"' not in client.get(url(delivery, "/years/1")).text
    response = client.post(
        url(delivery, "/years/1/actuals"), data={"version": "0", "actual_cost": "1.00"}
    )
    assert response.status_code == 403


def test_another_organisation_gets_404_on_every_delivery_page(
    app: Flask, delivery: Delivery
) -> None:
    client = signed_in(app, "outsider@page-1.test")
    for path in ("/delivery", "/years/1", "/delivery/plan", "/reconciliation"):
        assert client.get(url(delivery, path)).status_code == 404, path
    for path in ("/years/1/actuals", "/years/1/adjustments", "/years/1/close", "/years/1/reopen"):
        assert client.post(url(delivery, path), data={"version": "0"}).status_code == 404, path
    assert "PAGE-1" not in client.get("/reconciliation").text


def test_state_changes_through_get_answer_405(app: Flask, delivery: Delivery) -> None:
    client = signed_in(app, "vendor-finance@page-1.test")
    for path in ("/years/1/actuals", "/years/1/adjustments", "/years/1/close", "/years/1/reopen"):
        assert client.get(url(delivery, path)).status_code == 405, path


def test_a_year_outside_the_term_is_not_found(app: Flask, delivery: Delivery) -> None:
    client = signed_in(app, "vendor-staff@page-1.test")
    assert client.get(url(delivery, "/years/6")).status_code == 404
    assert client.get(url(delivery, "/years/0")).status_code == 404


def test_finance_closes_a_year_once_everything_is_recorded_and_it_becomes_read_only(
    app: Flask, delivery: Delivery
) -> None:
    client = signed_in(app, "buyer-finance@page-1.test")
    blockers = html(client.get(url(delivery, "/years/1"))).by_id("close-blockers").text
    assert "no actual delivery cost" in blockers
    assert client.post(url(delivery, "/years/1/close")).status_code == 409
    with new_session(app) as session:
        record_year(session, delivery, 1, "950000.00")
    page = html(client.get(url(delivery, "/years/1")))
    assert page.by_id("close-form")
    assert client.post(url(delivery, "/years/1/close")).status_code == 303
    page = html(client.get(url(delivery, "/years/1")))
    assert "closed" in page.by_id("year-state").text
    again = client.post(url(delivery, "/years/1/close"))
    assert again.status_code == 409
    vendor = signed_in(app, "vendor-staff@page-1.test")
    assert 'id="actuals-form"' not in vendor.get(url(delivery, "/years/1")).text
    refused = vendor.post(
        url(delivery, "/years/1/actuals"), data={"version": "1", "actual_cost": "1.00"}
    )
    assert refused.status_code == 409
    assert "closed on" in refused.text
    assert "adjustment in an open year" in refused.text


def test_finance_corrects_a_closed_year_with_an_adjustment_in_an_open_year(
    app: Flask, delivery: Delivery
) -> None:
    with new_session(app) as session:
        record_year(session, delivery, 1, "950000.00")
    client = signed_in(app, "vendor-finance@page-1.test")
    assert client.post(url(delivery, "/years/1/close")).status_code == 303
    missing_reason = client.post(url(delivery, "/years/2/adjustments"), data={"amount": "-100.00"})
    assert missing_reason.status_code == 422
    assert "is-invalid" in html(missing_reason).by_id("f-reason").classes
    response = client.post(
        url(delivery, "/years/2/adjustments"),
        data={"amount": "-100.00", "reason": "Year 1 invoice counted twice"},
    )
    assert response.status_code == 303
    page = html(client.get(url(delivery, "/years/2")))
    assert "Year 1 invoice counted twice" in page.by_id("entries").text
    assert "−100.00" in page.by_id("year-ledger").text
    assert (
        client.post(
            url(delivery, "/years/1/adjustments"), data={"amount": "1.00", "reason": "x"}
        ).status_code
        == 409
    )


def test_staff_may_not_post_adjustments(app: Flask, delivery: Delivery) -> None:
    client = signed_in(app, "vendor-staff@page-1.test")
    assert 'id="adjustment-form"' not in client.get(url(delivery, "/years/1")).text
    response = client.post(url(delivery, "/years/1/adjustments"),
                           data={"amount": "1.00", "reason": "x"})  # fmt: skip
    assert response.status_code == 403


def test_an_admin_reopens_the_latest_closed_year_with_a_reason(
    app: Flask, delivery: Delivery
) -> None:
    with new_session(app) as session:
        record_year(session, delivery, 1, "950000.00")
    assert (
        signed_in(app, "buyer-finance@page-1.test")
        .post(url(delivery, "/years/1/close"))
        .status_code
        == 303
    )
    admin = signed_in(app, "vendor-admin@page-1.test")
    no_reason = admin.post(url(delivery, "/years/1/reopen"), data={"reason": " "})
    assert no_reason.status_code == 422
    assert (
        admin.post(
            url(delivery, "/years/1/reopen"), data={"reason": "Cost booked in the wrong year"}
        ).status_code
        == 303
    )
    assert "closed" not in html(admin.get(url(delivery, "/years/1"))).by_id("year-state").text
    finance = signed_in(app, "vendor-finance@page-1.test")
    assert finance.post(url(delivery, "/years/1/reopen"), data={"reason": "x"}).status_code == 403


def test_the_volume_driver_form_stores_planned_volumes_and_the_year_shows_both_baselines(
    app: Flask, delivery: Delivery
) -> None:
    client = signed_in(app, "vendor-staff@page-1.test")
    volumes = {f"planned_volume_{y}": "1000" for y in range(1, 6)}
    form = {"version": "0", "volume_name": "Users supported", "volume_unit": "users",
            "initiatives_per_year": "2", **volumes}  # fmt: skip
    assert client.post(url(delivery, "/delivery/plan"), data=form).status_code == 303
    response = client.post(
        url(delivery, "/years/1/actuals"),
        data={"version": "1", "actual_cost": "950000.00", "actual_volume": "1100"},
    )
    assert response.status_code == 303
    page = html(client.get(url(delivery, "/years/1")))
    # Baseline 1,000,000.00 x 1100 / 1000 = 1,100,000.00 for the actual volume.
    assert "1,100,000.00" in page.by_id("volumes").text
    assert "normalised" in page.by_id("row-baseline_cost").text
    overview = html(client.get(url(delivery, "/delivery")))
    assert "0 of 2" in overview.by_id("commitment").text
    stale = client.post(url(delivery, "/delivery/plan"), data=form)
    assert stale.status_code == 409


def test_a_note_with_markup_is_shown_escaped(app: Flask, delivery: Delivery) -> None:
    client = signed_in(app, "vendor-staff@page-1.test")
    client.post(
        url(delivery, "/years/1/actuals"),
        data={"version": "0", "actual_cost": "1.00", "note": '<script>alert(1)</script>" x="'},
    )
    body = client.get(url(delivery, "/years/1")).text
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_reconciliation_lists_every_contract_and_flags_a_changed_closed_year(
    app: Flask, delivery: Delivery
) -> None:
    with new_session(app) as session:
        record_year(session, delivery, 1, "950000.00")
    client = signed_in(app, "vendor-finance@page-1.test")
    assert client.post(url(delivery, "/years/1/close")).status_code == 303
    page = html(client.get("/reconciliation"))
    assert "PAGE-1" in page.by_id("reconciliation-table").text
    assert "ties out" in page.by_id("reconciliation-table").text
    # Someone changes a closed year behind the application's back.
    with engine_of(app).begin() as connection:
        connection.execute(text("UPDATE delivery_years SET actual_cost = 1 WHERE year = 1"))
    page = html(client.get("/reconciliation"))
    assert "does not tie out" in page.by_id("reconciliation-table").text
    contract_page = html(client.get(url(delivery, "/reconciliation")))
    assert "differ from those it was closed with" in contract_page.by_id("rec-year-1").text


def test_spending_beyond_the_fund_shows_as_a_negative_balance_only_as_prefunding(
    app: Flask, delivery: Delivery
) -> None:
    with new_session(app) as session:
        initiative = propose_initiative(
            session,
            SYSTEM,
            delivery.contract_id,
            initiative_fields(budget="900000.00"),
            side="vendor",
        )
        approve_initiative(session, SYSTEM, initiative, expected_version=1, side="vendor")
        approve_initiative(session, SYSTEM, initiative, expected_version=2, side="buyer")
        record_spending(session, SYSTEM, initiative, 1, "500000.00", "Ahead of the fund",
                        prefunding=True)  # fmt: skip
        kpi = create_kpi(
            session,
            SYSTEM,
            delivery.contract_id,
            name="Availability",
            unit="%",
            higher_is_better="higher",
            tolerance="0.1",
            targets={1: "99.9"},
        )
        record_kpi_result(session, SYSTEM, kpi, 1, actual="99.85", expected_version=1)
    page = html(signed_in(app, "buyer-finance@page-1.test").get(url(delivery, "/delivery")))
    assert "text-danger" in page.by_id("ledger").one("tbody").find_all("td")[4].classes
    assert (
        "pre-funding"
        in signed_in(app, "buyer-finance@page-1.test").get(url(delivery, "/years/1")).text
    )
    assert "near" in page.by_id("scorecard").text
