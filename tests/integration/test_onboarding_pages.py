"""The onboarding pages through the test client: applying the template, the plan's state
badges, changing milestones with their refusals, who sees the forms, and the page of
every contract in onboarding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import sign_in
from delivery_factory import Delivery, contract_in_delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.domain.onboarding import TEMPLATE
from tracker.services.access import SYSTEM
from tracker.services.onboarding import apply_template, update_milestone
from tracker.services.onboarding_views import MilestoneLine, onboarding_view

#: The pages read the real day: the contract below started 40 days before it.
TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=40)


@pytest.fixture
def delivery(app: Flask, session: Session) -> Delivery:
    """A signed contract in its first 100 days (day 40), with people of every role."""
    return contract_in_delivery(
        session, code="ONB-WEB", status="onboarding", start_date=START.isoformat()
    )


def as_user(app: Flask, email: str) -> FlaskClient:
    return sign_in(app.test_client(), email)


def plan_url(delivery: Delivery) -> str:
    return f"/contracts/{delivery.contract_id}/onboarding"


def planned(session: Session, delivery: Delivery) -> dict[str, MilestoneLine]:
    """The template applied by the system: the milestones by template key."""
    apply_template(session, SYSTEM, delivery.contract_id)
    return lines(session, delivery)


def lines(session: Session, delivery: Delivery) -> dict[str, MilestoneLine]:
    view = onboarding_view(session, SYSTEM, delivery.contract_id)
    by_title = {line.title: line for line in view.milestones}
    return {step.key: by_title[step.title] for step in TEMPLATE if step.title in by_title}


def form_fields(form: Node) -> dict[str, str]:
    """What a browser would send for a form as shown."""
    values: dict[str, str] = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if not name:
            continue
        if node.tag == "input":
            values[name] = node.attrs.get("value") or ""
        elif node.tag == "textarea":
            values[name] = node.text
        elif node.tag == "select":
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            values[name] = chosen[0].attrs.get("value") or ""
    return values


def submit(client: FlaskClient, page: Node, form_id: str, **values: str) -> TestResponse:
    form = page.by_id(form_id)
    return client.post(form.attrs["action"] or "", data={**form_fields(form), **values})


def feedback(page: Node, field_id: str) -> str:
    field = page.by_id(field_id)
    assert "is-invalid" in field.classes
    message = field.next_element()
    assert message is not None
    return message.text


def test_staff_apply_the_template_from_an_empty_plan(app: Flask, delivery: Delivery) -> None:
    vendor = as_user(app, "vendor-staff@onb-web.test")
    page = html(vendor.get(plan_url(delivery)))
    assert "no onboarding plan yet" in page.by_id("empty-plan").text
    assert page.by_id("apply-template").text == "Apply the 100-day template"
    assert form_fields(page.by_id("template-form"))["start_on"] == START.isoformat()
    response = vendor.post(
        page.by_id("template-form").attrs["action"] or "",
        data=form_fields(page.by_id("template-form")),
    )
    assert response.status_code == 303
    page = html(vendor.get(plan_url(delivery)))
    assert f"{len(TEMPLATE)} milestones planned" in page.text
    assert len(page.by_id("milestones").find_all("tr", cls="milestone")) == len(TEMPLATE)
    assert page.find_all(id="apply-template") == []


def test_a_bad_template_start_is_shown_beside_its_field(app: Flask, delivery: Delivery) -> None:
    vendor = as_user(app, "vendor-staff@onb-web.test")
    response = vendor.post(f"{plan_url(delivery)}/template", data={"start_on": "2025-02-30"})
    assert response.status_code == 422
    page = html(response)
    assert "not a calendar date" in feedback(page, "template-start_on")
    assert page.by_id("template-start_on").attrs["value"] == "2025-02-30"


def test_late_milestones_are_red_with_their_days_late_and_due_soon_ones_amber(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    page = html(as_user(app, "buyer-finance@onb-web.test").get(plan_url(delivery)))
    transfer = page.by_id(f"milestone-{ids['knowledge_transfer'].id}")
    assert "table-danger" in transfer.classes
    badge = transfer.one("span", cls="milestone-state")
    assert "text-bg-danger" in badge.classes
    assert badge.text == "late by 19 days"  # due on day 21, read on day 40
    live = page.by_id(f"milestone-{ids['service_live'].id}")
    assert live.one("span", cls="milestone-state").text == "due in 5 days"
    assert "text-bg-warning" in live.one("span", cls="milestone-state").classes
    assert page.by_id("count-late").text == "7"
    assert page.by_id("count-due-soon").text == "1"
    assert "day 40" in page.by_id("onboarding-period").text


def test_finance_reads_the_plan_without_forms_and_may_not_post(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    finance = as_user(app, "vendor-finance@onb-web.test")
    page = html(finance.get(plan_url(delivery)))
    assert page.find_all("form", id="add-form") == []
    assert page.find_all("details") == []
    assert "you can read it" in page.by_id("read-only").text
    plan = ids["plan"]
    response = finance.post(
        f"/milestones/{plan.id}/status", data={"status": "done", "version": str(plan.version)}
    )
    assert response.status_code == 403
    response = finance.post(
        f"{plan_url(delivery)}/milestones",
        data={"title": "X", "owner_side": "buyer", "due_on": TODAY.isoformat()},
    )
    assert response.status_code == 403


def test_an_outsider_gets_not_found_for_the_plan_and_its_milestones(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    outsider = as_user(app, "outsider@onb-web.test")
    assert outsider.get(plan_url(delivery)).status_code == 404
    plan = ids["plan"]
    assert outsider.post(f"/milestones/{plan.id}/status",
                         data={"status": "done", "version": "1"}).status_code == 404  # fmt: skip
    assert outsider.post(f"/milestones/{plan.id}", data={"version": "1"}).status_code == 404
    assert outsider.post(f"{plan_url(delivery)}/template").status_code == 404
    page = html(outsider.get("/onboarding"))
    assert page.by_id("no-onboarding") is not None


def test_marking_a_milestone_done_then_dropping_another_with_its_reason(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    buyer = as_user(app, "buyer-staff@onb-web.test")
    access = ids["access"].id
    page = html(buyer.get(plan_url(delivery)))
    response = submit(
        buyer, page, f"move-done-{access}", done_on=(TODAY - timedelta(days=2)).isoformat()
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#milestone-{access}")

    pulse = ids["first_pulse"].id
    page = html(buyer.get(plan_url(delivery)))
    row = page.by_id(f"milestone-{access}")
    assert row.one("span", cls="milestone-state").text == "done"
    assert (TODAY - timedelta(days=2)).isoformat() in row.text
    refused = submit(buyer, page, f"move-dropped-{pulse}", note="")
    assert refused.status_code == 422
    assert feedback(html(refused), f"reason-{pulse}") == "required"
    assert "open" in html(refused).by_id(f"change-{pulse}").attrs
    dropped = submit(buyer, page, f"move-dropped-{pulse}", note="Pulse checks start next quarter")
    assert dropped.status_code == 303
    row = html(buyer.get(plan_url(delivery))).by_id(f"milestone-{pulse}")
    assert row.one("td", cls="status").text == "dropped"
    assert row.one("div", cls="note").text == "Pulse checks start next quarter"


def test_a_done_day_in_the_future_is_refused_beside_its_field(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    vendor = as_user(app, "vendor-staff@onb-web.test")
    page = html(vendor.get(plan_url(delivery)))
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    response = submit(vendor, page, f"move-done-{ids['plan'].id}", done_on=tomorrow)
    assert response.status_code == 422
    refused = html(response)
    assert "no later than today" in feedback(refused, f"done_on-{ids['plan'].id}")
    assert refused.by_id(f"done_on-{ids['plan'].id}").attrs["value"] == tomorrow


def test_editing_a_milestone_keeps_bad_values_and_refuses_a_stale_version(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    vendor = as_user(app, "vendor-staff@onb-web.test")
    baseline = ids["baseline"].id
    page = html(vendor.get(plan_url(delivery)))
    response = submit(vendor, page, f"edit-form-{baseline}", title="", due_on="someday")
    assert response.status_code == 422
    refused = html(response)
    assert feedback(refused, f"m{baseline}-title") == "must not be empty"
    assert "YYYY-MM-DD" in feedback(refused, f"m{baseline}-due_on")
    assert refused.by_id(f"m{baseline}-due_on").attrs["value"] == "someday"

    moved = (START + timedelta(days=35)).isoformat()
    response = submit(vendor, page, f"edit-form-{baseline}", due_on=moved, owner_side="vendor")
    assert response.status_code == 303
    row = html(vendor.get(plan_url(delivery))).by_id(f"milestone-{baseline}")
    assert moved in row.text
    assert row.one("td", cls="owner").text == "vendor"
    # The page read before that edit still carries version 1.
    stale = submit(vendor, page, f"edit-form-{baseline}", title="Baseline signed off")
    assert stale.status_code == 409
    assert "vendor-staff@onb-web.test" in stale.get_data(as_text=True)


def test_adding_a_milestone_through_the_form(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    planned(session, delivery)
    buyer = as_user(app, "buyer-staff@onb-web.test")
    page = html(buyer.get(plan_url(delivery)))
    due = (TODAY + timedelta(days=20)).isoformat()
    refused = submit(buyer, page, "add-form", title="Site walk", owner_side="nobody", due_on=due)
    assert refused.status_code == 422
    assert "buyer" in feedback(html(refused), "new-owner_side")
    response = submit(buyer, page, "add-form", title="Site walk with the guards",
                      owner_side="buyer", due_on=due, note="North region first")  # fmt: skip
    assert response.status_code == 303
    added = lines(session, delivery)
    assert len(added) == len(TEMPLATE)
    view = onboarding_view(session, SYSTEM, delivery.contract_id)
    walk = next(line for line in view.milestones if line.title == "Site walk with the guards")
    assert (walk.owner_side, walk.due_on, walk.note) == ("buyer", date.fromisoformat(due),
                                                         "North region first")  # fmt: skip


def test_the_onboarding_page_lists_contracts_with_what_is_late(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    update_milestone(session, SYSTEM, ids["kickoff"].id, title="Kick-off", owner_side="buyer",
                     due_on=START.isoformat(), expected_version=1)  # fmt: skip
    quiet = contract_in_delivery(session, code="ONB-QUIET", status="onboarding",
                                 start_date=(TODAY - timedelta(days=3)).isoformat(),
                                 accounts_too=False)  # fmt: skip
    page = html(as_user(app, "buyer-admin@onb-web.test").get("/onboarding"))
    rows = page.by_id("onboarding-contracts").find_all("tr", cls="onboarding-row")
    assert [row.one("th").find_all("a")[0].text for row in rows] == ["ONB-WEB", "ONB-QUIET"]
    late = rows[0]
    assert "table-danger" in late.classes
    assert late.one("td", cls="late").text == "7"
    assert late.one("td", cls="due-soon").text == "1"
    items = late.one("td", cls="what-late").find_all("li")
    texts = [item.text for item in items]
    # The most recently due first: two milestones of day 30, then earlier ones.
    assert set(texts[:2]) == {
        "Baseline measurements agreed (buyer, late by 10 days)",
        "First operational meeting (vendor, late by 10 days)",
    }
    assert texts[-1] == "Kick-off (buyer, late by 40 days)"
    assert rows[1].one("td", cls="done").text == "no plan"
    assert quiet.contract_id != delivery.contract_id
