"""The concern register and pulse pages through the test client: raising, editing and
moving concerns, rating the relationship, the chart, and who may do what."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from conftest import sign_in
from delivery_factory import Delivery, contract_in_delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.reporting.pulse_chart import clear_pulse_chart_cache
from tracker.services.concerns import move_concern, raise_concern
from tracker.services.pulse import rate_relationship

#: A day long past: concerns raised then and due soon after are overdue on any later day.
LONG_AGO = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _fresh_charts() -> None:
    clear_pulse_chart_cache()


@pytest.fixture
def delivery(app: Flask, session: Session) -> Delivery:
    return contract_in_delivery(session, code="CPG-1")


def as_user(app: Flask, delivery: Delivery, who: str) -> FlaskClient:
    """A client signed in as one of the delivery factory's people (buyer-staff...)."""
    return sign_in(app.test_client(), f"{who}@{delivery.code.lower()}.test")


def form(today: date, **changes: str) -> dict[str, str]:
    return {
        "title": "Badge readers refuse the new guards",
        "description": "Guards cannot enter three sites.",
        "category": "launch_difficulty",
        "severity": "high",
        "owner_side": "buyer",
        "owner": "Facilities lead",
        "due_on": (today + timedelta(days=10)).isoformat(),
        **changes,
    }


def feedback(page: Node, field_id: str) -> str:
    """The error message shown beside a field."""
    field = page.by_id(field_id)
    assert "is-invalid" in field.classes
    message = field.next_element()
    assert message is not None
    assert "invalid-feedback" in message.classes
    return message.text


def concern_id_of(response: TestResponse) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].removeprefix("/concerns/"))


def test_the_buyers_staff_raise_a_concern_the_vendor_resolves_it_on_the_pages(
    app: Flask, delivery: Delivery
) -> None:
    buyer = as_user(app, delivery, "buyer-staff")
    register = html(buyer.get(f"/contracts/{delivery.contract_id}/concerns"))
    assert register.by_id("no-concerns").text == "No open concern."
    today = date.today()
    concern_id = concern_id_of(
        buyer.post(f"/contracts/{delivery.contract_id}/concerns", data=form(today))
    )
    vendor = as_user(app, delivery, "vendor-staff")
    page = html(vendor.get(f"/concerns/{concern_id}"))
    assert page.by_id("concern-title").text == "Badge readers refuse the new guards"
    assert page.by_id("concern-status").text == "Open"
    version = page.by_id("start-form").one("input", name="version").attrs["value"]
    started = vendor.post(
        f"/concerns/{concern_id}/status", data={"status": "in_progress", "version": version}
    )
    assert started.status_code == 303
    refused = vendor.post(
        f"/concerns/{concern_id}/status",
        data={"status": "resolved", "version": "2", "resolution": ""},
    )
    assert refused.status_code == 422
    assert feedback(html(refused), "f-resolution") == "required"
    resolved = vendor.post(
        f"/concerns/{concern_id}/status",
        data={"status": "resolved", "version": "2", "resolution": "Badges re-issued."},
    )
    assert resolved.status_code == 303
    page = html(buyer.get(f"/concerns/{concern_id}"))
    assert page.by_id("concern-status").text == "Resolved"
    assert page.by_id("concern-resolution").text == "Badges re-issued."
    assert [n.one("strong").text for n in page.find_all("li", cls="history-entry")] == [
        "resolve", "start", "raise",
    ]  # fmt: skip
    listed = html(buyer.get(f"/contracts/{delivery.contract_id}/concerns?show=resolved"))
    assert listed.by_id(f"concern-{concern_id}").one("td", cls="status").text == "Resolved"


def test_a_refused_concern_shows_each_error_beside_its_field_and_keeps_the_values(
    app: Flask, delivery: Delivery
) -> None:
    buyer = as_user(app, delivery, "buyer-staff")
    bad = form(date.today(), title="", due_on="2001-01-01", severity="dire")
    response = buyer.post(f"/contracts/{delivery.contract_id}/concerns", data=bad)
    assert response.status_code == 422
    page = html(response)
    assert feedback(page, "f-title") == "must not be empty"
    assert "today" in feedback(page, "f-due_on")
    assert "expected one of" in feedback(page, "f-severity")
    assert page.by_id("f-owner").attrs["value"] == "Facilities lead"
    assert page.by_id("f-description").text == "Guards cannot enter three sites."


def test_overdue_concerns_are_red_and_escalated_in_the_register(
    session: Session, app: Flask, delivery: Delivery
) -> None:
    concern_id = raise_concern(
        session, delivery.buyer_staff, delivery.contract_id,
        form(LONG_AGO, severity="medium"), today=LONG_AGO,
    )  # fmt: skip
    done = raise_concern(
        session, delivery.buyer_staff, delivery.contract_id, form(LONG_AGO), today=LONG_AGO
    )
    move_concern(session, delivery.vendor_staff, done, "resolved", expected_version=1,
                 resolution="Done.", today=LONG_AGO)  # fmt: skip
    page = html(as_user(app, delivery, "vendor-finance").get(
        f"/contracts/{delivery.contract_id}/concerns"
    ))  # fmt: skip
    row = page.by_id(f"concern-{concern_id}")
    assert "table-danger" in row.classes
    assert "overdue" in row.one("td", cls="due").text
    assert row.one("td", cls="escalation").text == "escalate to the executive sponsors"
    assert page.find_all(id=f"concern-{done}") == []
    assert page.by_id("count-overdue").text == "1"
    assert "executive sponsors" in page.by_id("escalation-alert").text
    # Finance reads but has no form to raise concerns.
    assert page.find_all(id="raise-form") == []
    everything = html(as_user(app, delivery, "vendor-finance").get(
        f"/contracts/{delivery.contract_id}/concerns?show=all"
    ))  # fmt: skip
    assert everything.find_all(id=f"concern-{done}") != []


def test_an_edit_with_a_stale_version_is_refused_with_409(
    session: Session, app: Flask, delivery: Delivery
) -> None:
    today = date.today()
    concern_id = raise_concern(
        session, delivery.buyer_staff, delivery.contract_id, form(today), today=today
    )
    buyer = as_user(app, delivery, "buyer-staff")
    saved = buyer.post(f"/concerns/{concern_id}", data={**form(today, owner="Ana"), "version": "1"})
    assert saved.status_code == 303
    stale = buyer.post(f"/concerns/{concern_id}", data={**form(today), "version": "1"})
    assert stale.status_code == 409
    refused = buyer.post(
        f"/concerns/{concern_id}", data={**form(today, title="x" * 201), "version": "2"}
    )
    assert refused.status_code == 422
    assert "200" in feedback(html(refused), "f-title")


def test_finance_may_not_raise_and_an_outsider_finds_nothing(
    session: Session, app: Flask, delivery: Delivery
) -> None:
    today = date.today()
    concern_id = raise_concern(
        session, delivery.buyer_staff, delivery.contract_id, form(today), today=today
    )
    finance = as_user(app, delivery, "buyer-finance")
    posted = finance.post(f"/contracts/{delivery.contract_id}/concerns", data=form(today))
    assert posted.status_code == 403
    moved = finance.post(
        f"/concerns/{concern_id}/status", data={"status": "in_progress", "version": "1"}
    )
    assert moved.status_code == 403
    outsider = as_user(app, delivery, "outsider")
    for path in (
        f"/contracts/{delivery.contract_id}/concerns",
        f"/concerns/{concern_id}",
        f"/contracts/{delivery.contract_id}/pulse",
        f"/contracts/{delivery.contract_id}/pulse/chart.svg",
    ):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(f"/concerns/{concern_id}/status", data={
        "status": "in_progress", "version": "1",
    }).status_code == 404  # fmt: skip


def test_the_sides_rate_the_quarter_and_a_second_rating_is_refused(
    app: Flask, delivery: Delivery
) -> None:
    buyer = as_user(app, delivery, "buyer-staff")
    url = f"/contracts/{delivery.contract_id}/pulse"
    low = buyer.post(url, data={"rating": "2", "comment": ""})
    assert low.status_code == 422
    assert "say why" in feedback(html(low), "f-comment")
    assert (
        buyer.post(url, data={"rating": "2", "comment": "Too many escalations."}).status_code == 303
    )
    again = buyer.post(url, data={"rating": "3", "comment": ""})
    assert again.status_code == 409
    assert "never edited" in again.get_data(as_text=True)
    vendor = as_user(app, delivery, "vendor-staff")
    assert vendor.post(url, data={"rating": "4"}).status_code == 303
    page = html(buyer.get(url))
    assert "buyer rated 2 and the vendor 4" in page.by_id("divergence-alert").text
    assert page.find_all(id="rate-form") == []
    assert "Too many escalations." in page.by_id("pulse-history").text


def test_the_pulse_chart_is_an_svg_that_answers_304_when_unchanged(
    session: Session, app: Flask, delivery: Delivery
) -> None:
    rate_relationship(session, delivery.buyer_staff, delivery.contract_id, rating=4, comment=None)
    client = as_user(app, delivery, "buyer-finance")
    url = f"/contracts/{delivery.contract_id}/pulse/chart.svg"
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag.endswith("svg")
    assert "Buyer" in response.get_data(as_text=True)
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    page = html(client.get(f"/contracts/{delivery.contract_id}/pulse"))
    assert page.by_id("pulse-chart").attrs["src"] == url
    assert page.find_all(id="rate-form") == []
    assert "Staff of the buyer or the vendor" in page.by_id("rate-closed").text
