"""The lifecycle pages through the test client: the status page with its forms, moves and
dates posted with errors beside their fields, amendments, method and access refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import sign_in
from delivery_factory import Delivery, contract_in_delivery, fixed_terms
from flask import Flask
from flask.testing import FlaskClient
from html_tree import html
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.domain.calendar import anniversary
from tracker.services.access import SYSTEM
from tracker.services.amendments import amend_terms
from tracker.services.lifecycle import move_contract

TODAY = datetime.now(UTC).date()


@pytest.fixture
def delivery(client: FlaskClient, session: Session) -> Delivery:
    return contract_in_delivery(session)


def as_user(app: Flask, email: str) -> FlaskClient:
    return sign_in(app.test_client(), email)


def version(session: Session, delivery: Delivery) -> int:
    with session.begin():
        contract = session.get(Contract, delivery.contract_id, populate_existing=True)
        assert contract is not None
        return contract.version


def url(delivery: Delivery, rest: str = "lifecycle") -> str:
    return f"/contracts/{delivery.contract_id}/{rest}"


def lower_efficiency() -> str:
    document = fixed_terms(
        cost={"baseline": "1000000.00", "inflation": "0.025", "efficiency": "0.02"}
    )
    # The factory reads numbers as Decimal; the term in years is a JSON integer.
    return json.dumps(
        document, default=lambda value: int(value) if value == int(value) else str(value)
    )


def test_the_lifecycle_page_offers_only_the_allowed_moves(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    page = html(client.get(url(delivery)))
    assert page.by_id("current-status").text == "active"
    options = [o.attrs["value"] for o in page.by_id("f-to_status").find_all("option")]
    assert options == ["renewal", "closed"]
    assert page.by_id("no-moves").text == "No move recorded yet."
    assert page.by_id("amend").attrs["href"] == url(delivery, "amendments/new")


def test_a_move_posted_from_the_page_shows_in_the_timeline(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "buyer-staff@dlv-1.test")
    response = client.post(url(delivery, "lifecycle/move"), data={
        "version": version(session, delivery), "to_status": "renewal",
        "effective_on": TODAY.isoformat(), "reason": "Talks opened",
    })  # fmt: skip
    assert response.status_code == 303
    page = html(client.get(url(delivery)))
    assert page.by_id("current-status").text == "renewal"
    rows = page.find_all("tr", cls="move")
    assert len(rows) == 1
    assert "active → renewal" in rows[0].text
    assert "Talks opened" in rows[0].text
    assert "buyer-staff@dlv-1.test" in rows[0].text


def test_a_refused_move_shows_the_error_beside_its_field_and_keeps_the_values(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    response = client.post(url(delivery, "lifecycle/move"), data={
        "version": version(session, delivery), "to_status": "closed",
        "effective_on": TODAY.isoformat(), "closed_reason": "", "reason": "kept text",
    })  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    field = page.by_id("f-closed_reason")
    assert "is-invalid" in field.classes
    assert "expected one of expired, terminated" in page.by_id("move-form").text
    assert page.by_id("f-reason").text == "kept text"


def test_a_move_that_is_not_allowed_answers_409(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    response = client.post(url(delivery, "lifecycle/move"), data={
        "version": version(session, delivery), "to_status": "draft",
        "effective_on": TODAY.isoformat(),
    })  # fmt: skip
    assert response.status_code == 409
    assert "it may move to renewal, closed" in response.get_data(as_text=True)


def test_a_stale_move_answers_409(app: Flask, session: Session, delivery: Delivery) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    stale = version(session, delivery)
    move_contract(session, SYSTEM, delivery.contract_id, "renewal",
                  effective_on=TODAY.isoformat(), expected_version=stale)  # fmt: skip
    response = client.post(url(delivery, "lifecycle/move"), data={
        "version": stale, "to_status": "active", "effective_on": TODAY.isoformat(),
    })  # fmt: skip
    assert response.status_code == 409


def test_the_dates_form_sets_the_deadline_and_shows_errors_by_field(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    data = {"version": "0", "notice_months": "99", "renewal_on": "2030-01-01"}
    bad = client.post(url(delivery, "lifecycle/dates"), data=data)
    assert bad.status_code == 422
    page = html(bad)
    assert "is-invalid" in page.by_id("f-notice_months").classes
    assert "is-invalid" in page.by_id("f-renewal_on").classes
    assert page.by_id("f-notice_months").attrs["value"] == "99"
    good = client.post(url(delivery, "lifecycle/dates"),
                       data={"version": "0", "notice_months": "6", "renewal_on": ""})  # fmt: skip
    assert good.status_code == 303
    page = html(client.get(url(delivery)))
    assert page.by_id("notice-deadline").text == "2026-06-30"
    assert page.by_id("notice-months").text == "6 months"


def test_an_alert_shows_when_the_end_is_near_and_readers_get_no_forms(
    app: Flask, session: Session, client: FlaskClient
) -> None:
    start = anniversary(TODAY + timedelta(days=31), -1)  # a one-year term ending in 30 days
    d = contract_in_delivery(session, code="NEAR-1", start_date=start.isoformat(), term_years=1)
    page = html(as_user(app, "buyer-finance@near-1.test").get(url(d)))
    alerts = page.find_all("li", cls="lifecycle-alert")
    assert [node.attrs["data-kind"] for node in alerts] == ["end"]
    assert "Ends in 30 days" in alerts[0].text
    assert "alert-danger" in alerts[0].classes
    assert page.find_all("form", id="move-form") == []
    assert page.find_all("form", id="dates-form") == []


def test_the_amendment_form_is_prefilled_and_saves_to_the_amendment_page(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    form = html(client.get(url(delivery, "amendments/new")))
    prefilled = json.loads(form.by_id("f-terms").raw_text())
    assert prefilled["cost"]["efficiency"] == "0.04"
    response = client.post(url(delivery, "amendments/new"), data={
        "version": version(session, delivery), "terms": lower_efficiency(),
        "effective_year": "4", "reason": "Depot sold",
    })  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == url(delivery, "amendments/1")
    page = html(client.get(response.headers["Location"]))
    changes = page.find_all("tr", cls="change")
    assert [[cell.text for cell in row.find_all("td")] for row in changes] == [
        ["cost.efficiency", "0.04", "0.02"]
    ]
    assert "(kept)" in page.by_id("year-3").text
    assert "(kept)" not in page.by_id("year-4").text
    cost = html(client.get(url(delivery, "amendments/1") + "?field=planned_cost"))
    assert "Planned cost" in cost.by_id("difference").text
    listed = html(client.get(url(delivery))).find_all("li", cls="amendment")
    assert len(listed) == 1


def test_amendment_errors_show_beside_the_fields_with_the_values_kept(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    document = json.loads(lower_efficiency())
    document["currency"] = "USD"
    response = client.post(url(delivery, "amendments/new"), data={
        "version": version(session, delivery), "terms": json.dumps(document),
        "effective_year": "9", "reason": "",
    })  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    assert "is-invalid" in page.by_id("f-effective_year").classes
    assert "is-invalid" in page.by_id("f-reason").classes
    assert "currency" in page.by_id("f-terms-errors").text
    assert page.by_id("f-effective_year").attrs["value"] == "9"
    broken = client.post(url(delivery, "amendments/new"), data={
        "version": version(session, delivery), "terms": "{not json", "effective_year": "4",
        "reason": "x",
    })  # fmt: skip
    assert broken.status_code == 422
    assert "malformed JSON" in html(broken).by_id("f-terms-errors").text


def test_finance_may_not_open_the_amendment_form(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    client = as_user(app, "vendor-finance@dlv-1.test")
    assert client.get(url(delivery, "amendments/new")).status_code == 403
    response = client.post(url(delivery, "lifecycle/move"), data={
        "version": version(session, delivery), "to_status": "renewal",
        "effective_on": TODAY.isoformat(),
    })  # fmt: skip
    assert response.status_code == 403


@pytest.mark.parametrize("rest", ["lifecycle/move", "lifecycle/dates"])
def test_the_post_urls_refuse_get_with_405(app: Flask, delivery: Delivery, rest: str) -> None:
    client = as_user(app, "vendor-staff@dlv-1.test")
    assert client.get(url(delivery, rest)).status_code == 405


@pytest.mark.parametrize(
    "rest", ["lifecycle", "amendments/new", "amendments/1", "lifecycle/move", "lifecycle/dates"]
)
def test_an_outsider_gets_404_everywhere(
    app: Flask, session: Session, delivery: Delivery, rest: str
) -> None:
    amend_terms(
        session, SYSTEM, delivery.contract_id, json.loads(lower_efficiency()),
        effective_year=4, reason="x", expected_version=version(session, delivery),
    )  # fmt: skip
    client = as_user(app, "outsider@dlv-1.test")
    if rest.startswith("lifecycle/"):
        response = client.post(url(delivery, rest), data={"version": "1"})
    else:
        response = client.get(url(delivery, rest))
    assert response.status_code == 404


def test_a_missing_amendment_is_404(app: Flask, delivery: Delivery) -> None:
    client = as_user(app, "buyer-staff@dlv-1.test")
    assert client.get(url(delivery, "amendments/3")).status_code == 404
