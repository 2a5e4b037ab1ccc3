"""The meeting pages through the test client: recording a meeting with its action rows,
errors next to their fields with values kept, the open actions with overdue flagged, the
rhythm alerts, action status changes, stale edits, permissions and escaping."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import sign_in
from delivery_factory import Delivery, contract_in_delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.db.followup_models import Meeting, MeetingAction
from tracker.db.models import Contract
from tracker.db.session import new_session
from tracker.services.access import SYSTEM
from tracker.services.meetings import record_meeting, update_meeting
from tracker.services.meetings_views import meeting_view
from tracker.services.seed import DEMO_PASSWORD, SEED_DATA
from tracker.services.seed_meetings import seed_meetings

VENDOR = "vendor-staff@dlv-1.test"
BUYER = "buyer-staff@dlv-1.test"
FINANCE = "buyer-finance@dlv-1.test"
OUTSIDER = "outsider@dlv-1.test"


@pytest.fixture
def delivery(app: Flask, session: Session) -> Delivery:
    """An active five-year contract begun on 2022-01-01."""
    return contract_in_delivery(session)


def as_user(app: Flask, email: str) -> FlaskClient:
    return sign_in(app.test_client(), email)


def meeting_form(**changes: str) -> dict[str, str]:
    """The new-meeting form: a quarterly review with actions in rows 1 and 4 (of 8)."""
    rows = {
        f"actions-{row}-{name}": "" for row in range(8) for name in ("title", "owner", "due_on")
    }
    sides = {f"actions-{row}-owner_side": "vendor" for row in range(8)}
    return {
        **rows,
        **sides,
        "kind": "quarterly_review",
        "held_on": "2025-04-10",
        "title": "Q1 quarterly review",
        "agenda": "KPIs\nInitiatives",
        "attendees": "Anna (buyer)\nBruno (vendor)",
        "decisions": "Extend the pilot.",
        "actions-0-title": "Send the KPI pack",
        "actions-0-owner": "Bruno",
        "actions-0-due_on": "2025-05-01",
        "actions-3-title": "Book the sites visit",
        "actions-3-owner_side": "buyer",
        "actions-3-due_on": "2027-06-01",
        **changes,
    }


def stored(response: TestResponse) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].removeprefix("/meetings/").split("#")[0])


def feedback(page: Node, field_id: str) -> str:
    field = page.by_id(field_id)
    assert "is-invalid" in field.classes
    message = field.next_element()
    assert message is not None
    assert "invalid-feedback" in message.classes
    return message.text


def counts(app: Flask) -> tuple[int, int]:
    with new_session(app) as session, session.begin():
        meetings = session.scalar(select(func.count()).select_from(Meeting))
        actions = session.scalar(select(func.count()).select_from(MeetingAction))
    return int(meetings or 0), int(actions or 0)


def a_meeting(session: Session, delivery: Delivery, **changes: str) -> int:
    """A quarterly review held 2025-04-10 with one action due 2025-05-01 (overdue today)."""
    fields = {"kind": "quarterly_review", "held_on": "2025-04-10", "title": "Q1 review", **changes}
    action = {"title": "Send the KPI pack", "owner_side": "vendor", "due_on": "2025-05-01"}
    return record_meeting(
        session,
        delivery.vendor_staff,
        delivery.contract_id,
        fields,
        [action],
        today=date(2025, 5, 1),
    )


def test_staff_record_a_meeting_with_two_action_rows_the_empty_ones_ignored(
    app: Flask, delivery: Delivery
) -> None:
    vendor = as_user(app, VENDOR)
    form = html(vendor.get(f"/contracts/{delivery.contract_id}/meetings/new"))
    assert form.by_id("f-actions-7-title") is not None
    meeting_id = stored(
        vendor.post(f"/contracts/{delivery.contract_id}/meetings/new", data=meeting_form())
    )
    page = html(vendor.get(f"/meetings/{meeting_id}"))
    assert page.by_id("meeting-title").text == "Q1 quarterly review"
    assert "Quarterly review" in page.by_id("meeting-kind").text
    assert [li.text for li in page.by_id("meeting-attendees").find_all("li")] == [
        "Anna (buyer)",
        "Bruno (vendor)",
    ]
    assert page.by_id("meeting-decisions").text == "Extend the pilot."
    rows = page.by_id("meeting-actions").find_all("tr", cls="overdue")
    assert [row.one("td", cls="action-title").text for row in rows] == ["Send the KPI pack"]
    assert counts(app) == (1, 2)


def test_a_bad_action_row_shows_its_error_beside_it_keeps_the_values_and_stores_nothing(
    app: Flask, delivery: Delivery
) -> None:
    vendor = as_user(app, VENDOR)
    response = vendor.post(
        f"/contracts/{delivery.contract_id}/meetings/new",
        data=meeting_form(**{"actions-3-due_on": "2025-02-30", "title": ""}),
    )
    assert response.status_code == 422
    page = html(response)
    assert feedback(page, "f-actions-3-due_on") == '"2025-02-30" is not a calendar date'
    assert feedback(page, "f-title") == "required"
    assert page.by_id("f-actions-0-title").attrs["value"] == "Send the KPI pack"
    assert page.by_id("f-actions-3-due_on").attrs["value"] == "2025-02-30"
    assert page.by_id("f-agenda").raw_text() == "KPIs\nInitiatives"
    assert counts(app) == (0, 0)


def test_the_meetings_page_flags_overdue_actions_and_the_rhythm_alerts(
    app: Flask, delivery: Delivery, session: Session
) -> None:
    meeting_id = a_meeting(session, delivery)
    page = html(as_user(app, BUYER).get(f"/contracts/{delivery.contract_id}/meetings"))
    row = page.by_id("open-actions").one("tr", cls="overdue")
    assert "Send the KPI pack" in row.text
    assert "overdue by" in row.text
    assert page.by_id("meeting-" + str(meeting_id)) is not None
    codes = {li.attrs["data-code"] for li in page.by_id("cadence-alerts").find_all("li")}
    assert "operational_missing" in codes
    assert page.by_id("record-meeting").attrs["href"].endswith("/meetings/new")


def test_finance_read_the_meetings_but_may_not_record_or_change_them(
    app: Flask, delivery: Delivery, session: Session
) -> None:
    meeting_id = a_meeting(session, delivery)
    action_id = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0].id
    finance = as_user(app, FINANCE)
    page = html(finance.get(f"/contracts/{delivery.contract_id}/meetings"))
    assert "record-meeting" not in {node.attrs.get("id") for node in page.iter()}
    assert finance.get(f"/meetings/{meeting_id}").status_code == 200
    assert finance.get(f"/contracts/{delivery.contract_id}/meetings/new").status_code == 403
    assert finance.post(
        f"/contracts/{delivery.contract_id}/meetings/new", data=meeting_form()
    ).status_code == 403  # fmt: skip
    status = {"status": "done", "version": "1"}
    assert finance.post(f"/actions/{action_id}/status", data=status).status_code == 403
    assert counts(app) == (1, 1)


def test_an_outsider_gets_404_everywhere(app: Flask, delivery: Delivery, session: Session) -> None:
    meeting_id = a_meeting(session, delivery)
    action_id = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0].id
    outsider = as_user(app, OUTSIDER)
    for url in (
        f"/contracts/{delivery.contract_id}/meetings",
        f"/contracts/{delivery.contract_id}/meetings/new",
        f"/meetings/{meeting_id}",
        f"/meetings/{meeting_id}/edit",
    ):
        assert outsider.get(url).status_code == 404, url
    for url in (f"/actions/{action_id}/status", f"/actions/{action_id}",
                f"/meetings/{meeting_id}/actions"):  # fmt: skip
        response = outsider.post(url, data={"status": "done", "version": "1", "title": "x"})
        assert response.status_code == 404, url
        assert "Send the KPI pack" not in response.get_data(as_text=True)


def test_marking_an_action_done_from_the_list_takes_it_off_the_open_actions(
    app: Flask, delivery: Delivery, session: Session
) -> None:
    meeting_id = a_meeting(session, delivery)
    buyer = as_user(app, BUYER)
    form = html(buyer.get(f"/contracts/{delivery.contract_id}/meetings")).by_id("open-actions")
    post = form.one("form")
    data = {
        node.attrs["name"] or "": node.attrs.get("value") or "" for node in post.find_all("input")
    }
    response = buyer.post(post.attrs["action"] or "", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/contracts/{delivery.contract_id}/meetings#open-actions"
    )
    page = html(buyer.get(f"/contracts/{delivery.contract_id}/meetings"))
    assert page.by_id("no-open-actions") is not None
    action = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0]
    assert (action.status, action.updated_by) == ("done", BUYER)


def test_dropping_an_action_without_a_reason_shows_the_error_beside_the_reason(
    app: Flask, delivery: Delivery, session: Session
) -> None:
    meeting_id = a_meeting(session, delivery)
    action_id = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0].id
    vendor = as_user(app, VENDOR)
    data = {"status": "dropped", "version": "1", "reason": " "}
    response = vendor.post(f"/actions/{action_id}/status", data=data)
    assert response.status_code == 422
    assert feedback(html(response), f"a{action_id}-reason") == "required"
    data["reason"] = "Overtaken by the new plan."
    assert vendor.post(f"/actions/{action_id}/status", data=data).status_code == 303
    page = html(vendor.get(f"/meetings/{meeting_id}"))
    assert "dropped" in page.by_id(f"action-{action_id}").one("td", cls="action-state").text


def test_adding_and_changing_actions_on_the_meeting_page(
    app: Flask, delivery: Delivery, session: Session
) -> None:
    meeting_id = a_meeting(session, delivery)
    vendor = as_user(app, VENDOR)
    bad = {"title": "Call the auditors", "owner_side": "buyer", "owner": "", "due_on": "2025-01-01"}
    response = vendor.post(f"/meetings/{meeting_id}/actions", data=bad)
    assert response.status_code == 422
    page = html(response)
    assert "on or after the meeting day" in feedback(page, "add-due_on")
    assert page.by_id("add-title").attrs["value"] == "Call the auditors"
    good = {**bad, "due_on": "2025-06-01"}
    assert vendor.post(f"/meetings/{meeting_id}/actions", data=good).status_code == 303
    first = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0]
    edit = {"title": "Send the full KPI pack", "owner_side": "vendor", "owner": "Bruno",
            "due_on": "2025-05-15", "version": str(first.version)}  # fmt: skip
    assert vendor.post(f"/actions/{first.id}", data=edit).status_code == 303
    titles = [a.title for a in meeting_view(session, SYSTEM, meeting_id).meeting.actions]
    assert titles == ["Send the full KPI pack", "Call the auditors"]
    assert vendor.post(f"/actions/{first.id}", data=edit).status_code == 409


def test_editing_a_meeting_keeps_its_values_and_refuses_a_stale_version(
    app: Flask, delivery: Delivery, session: Session
) -> None:
    meeting_id = a_meeting(session, delivery)
    buyer = as_user(app, BUYER)
    form = html(buyer.get(f"/meetings/{meeting_id}/edit"))
    assert form.by_id("f-title").attrs["value"] == "Q1 review"
    assert form.by_id("f-held_on").attrs["value"] == "2025-04-10"
    data = {"kind": "quarterly_review", "held_on": "2025-04-10", "title": "Q1 review (Lyon)",
            "agenda": "", "attendees": "", "decisions": "", "version": "1"}  # fmt: skip
    fields = {k: v for k, v in data.items() if k != "version"} | {"title": "Q1 review, Lyon"}
    update_meeting(session, delivery.vendor_staff, meeting_id, fields, expected_version=1)
    response = buyer.post(f"/meetings/{meeting_id}/edit", data=data)
    assert response.status_code == 409
    assert VENDOR in response.get_data(as_text=True)
    data["version"] = "2"
    data["held_on"] = "2025-13-01"
    refused = buyer.post(f"/meetings/{meeting_id}/edit", data=data)
    assert refused.status_code == 422
    assert html(refused).by_id("f-title").attrs["value"] == "Q1 review (Lyon)"
    data["held_on"] = "2025-04-11"
    assert buyer.post(f"/meetings/{meeting_id}/edit", data=data).status_code == 303
    assert meeting_view(session, SYSTEM, meeting_id).meeting.title == "Q1 review (Lyon)"


def test_what_people_write_is_escaped(app: Flask, delivery: Delivery, session: Session) -> None:
    meeting_id = a_meeting(session, delivery, title="<script>alert(1)</script>")
    body = as_user(app, VENDOR).get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_demo_meeting_pages_show_for_every_demo_contract(seeded: Flask) -> None:
    with new_session(seeded) as session:
        seed_meetings(session, SEED_DATA, today=date(2026, 12, 7))
        with session.begin():
            contracts = dict(session.execute(select(Contract.code, Contract.id)).all())
            meeting_ids = list(session.scalars(select(Meeting.id)))
    client = seeded.test_client()
    sign_in_demo(client, "staff@mutuelle-atlantique.demo")
    for code in ("SD-FR-2024", "GUARD-FR-2026"):
        page = client.get(f"/contracts/{contracts[code]}/meetings")
        assert page.status_code == 200, code
    guard = html(client.get(f"/contracts/{contracts['GUARD-FR-2026']}/meetings"))
    assert guard.by_id("open-actions").find_all("tr", cls="overdue")
    assert all(client.get(f"/meetings/{i}").status_code in (200, 404) for i in meeting_ids)


def sign_in_demo(client: FlaskClient, email: str) -> None:
    """Sign in as a demo account (their password is the demo one)."""
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 303
