"""The initiative pages through the test client: proposing, approving as each side,
editing, starting, delivering, dropping, spending from the fund (and pre-funding),
permissions, and escaping of what people write."""

from __future__ import annotations

import pytest
from conftest import TESTER, sign_in
from delivery_factory import (
    Delivery,
    approved_initiative,
    contract_in_delivery,
    initiative_fields,
)
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.services.access import SYSTEM
from tracker.services.contracts import contract_view, set_archived
from tracker.services.delivery import delivery_view
from tracker.services.errors import Conflict
from tracker.services.initiatives import (
    approve_initiative,
    propose_initiative,
    update_initiative,
)
from tracker.services.kpis import create_kpi

VENDOR = "vendor-staff@dlv-1.test"
BUYER = "buyer-staff@dlv-1.test"


@pytest.fixture
def delivery(client: FlaskClient, session: Session) -> Delivery:
    """An active five-year contract whose five years have all begun (it started in 2022).

    Its fund commits 20,000.00 EUR in year 1 (the plan: no actuals are recorded)."""
    return contract_in_delivery(session)


def as_user(app: Flask, email: str) -> FlaskClient:
    """A client signed in as one of the people the delivery factory made."""
    return sign_in(app.test_client(), email)


def proposal(**changes: str) -> dict[str, str]:
    """The proposal form filled in: budget 10,000.00 EUR, planned for year 1."""
    return {
        "title": "Self-service password reset",
        "description": "Users reset their own passwords.\nFewer calls to the desk.",
        "expected_saving": "12000.00",
        "budget": "10000.00",
        "planned_year": "1",
        "kpi_id": "",
        "expected_kpi_effect": "",
        **changes,
    }


def created_initiative(response: TestResponse) -> int:
    """The id of the initiative a successful form post redirected to."""
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/initiatives/")
    return int(location.removeprefix("/initiatives/").split("#")[0])


def page_of(client: FlaskClient, initiative_id: int) -> Node:
    response = client.get(f"/initiatives/{initiative_id}")
    assert response.status_code == 200
    return html(response)


def form_fields(form: Node) -> dict[str, str]:
    """What a browser would send for a form as shown (unticked checkboxes are not sent)."""
    values: dict[str, str] = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if not name:
            continue
        if node.tag == "input" and node.attrs.get("type") == "checkbox":
            if "checked" in node.attrs:
                values[name] = node.attrs.get("value") or "on"
        elif node.tag == "input":
            values[name] = node.attrs.get("value") or ""
        elif node.tag == "textarea":
            values[name] = node.raw_text().removeprefix("\n")
        elif node.tag == "select":
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            values[name] = chosen[0].attrs.get("value") or ""
    return values


def submit(client: FlaskClient, initiative_id: int, form_id: str, **values: str) -> TestResponse:
    """Send a form of the initiative page as shown, with ``values`` typed in."""
    form = page_of(client, initiative_id).by_id(form_id)
    return client.post(form.attrs["action"] or "", data={**form_fields(form), **values})


def feedback(page: Node, field_id: str) -> str:
    """The error message shown beside a field (or beside a checkbox's label)."""
    field = page.by_id(field_id)
    assert "is-invalid" in field.classes
    message = field.next_element()
    while message is not None and "invalid-feedback" not in message.classes:
        message = message.next_element()
    assert message is not None
    return message.text


def status_of(page: Node) -> str:
    return page.by_id("initiative-status").one("span", cls="badge").text


# -- proposing and approving ----------------------------------------------------------------


def test_proposed_by_the_vendor_and_approved_by_the_buyer_then_the_vendor_it_is_approved(
    app: Flask, delivery: Delivery
) -> None:
    vendor = as_user(app, VENDOR)
    form = html(vendor.get(f"/contracts/{delivery.contract_id}/initiatives/new"))
    assert not form.find_all(id="f-side")  # staff of one party only: no side to choose
    url = f"/contracts/{delivery.contract_id}/initiatives/new"
    initiative_id = created_initiative(vendor.post(url, data=proposal()))

    page = page_of(vendor, initiative_id)
    assert status_of(page) == "proposed"
    assert "for the vendor" in page.by_id("initiative-status").text
    assert "Waiting for the buyer" in page.by_id("approval-buyer").text
    assert "Waiting for the vendor" in page.by_id("approval-vendor").text
    assert [f.attrs["id"] for f in page.find_all("form", cls="approve-form")] == ["approve-vendor"]

    buyer = as_user(app, BUYER)
    page = page_of(buyer, initiative_id)
    assert [f.attrs["id"] for f in page.find_all("form", cls="approve-form")] == ["approve-buyer"]
    assert submit(buyer, initiative_id, "approve-buyer").status_code == 303
    page = page_of(buyer, initiative_id)
    assert status_of(page) == "proposed"
    assert "approved by buyer-staff@dlv-1.test" in page.by_id("approval-buyer").text
    assert "Waiting for the vendor" in page.by_id("approval-vendor").text
    assert not page.find_all("form", cls="approve-form")

    assert submit(vendor, initiative_id, "approve-vendor").status_code == 303
    page = page_of(vendor, initiative_id)
    assert status_of(page) == "approved"
    assert "approved by vendor-staff@dlv-1.test" in page.by_id("approval-vendor").text
    assert "vendor-staff@dlv-1.test" in page.by_id("initiative-changed").text
    assert page.by_id("start-form") is not None
    assert page.by_id("spending-form") is not None


def test_a_double_approval_answers_409(app: Flask, session: Session, delivery: Delivery) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    buyer = as_user(app, BUYER)
    form = page_of(buyer, initiative_id).by_id("approve-buyer")
    values = form_fields(form)
    assert buyer.post(form.attrs["action"] or "", data=values).status_code == 303
    # The same form sent twice (a double click): the version is stale.
    response = buyer.post(form.attrs["action"] or "", data=values)
    assert response.status_code == 409
    assert "buyer-staff@dlv-1.test" in response.get_data(as_text=True)
    # With the current version, the buyer's second approval is refused all the same.
    response = buyer.post(form.attrs["action"] or "", data={**values, "version": "2"})
    assert response.status_code == 409
    assert "already approved" in response.get_data(as_text=True)


def test_staff_of_both_parties_choose_the_side_they_propose_and_approve_for(
    client: FlaskClient, delivery: Delivery
) -> None:
    url = f"/contracts/{delivery.contract_id}/initiatives/new"
    form = html(client.get(url))
    options = [o.attrs["value"] for o in form.by_id("f-side").find_all("option")]
    assert options == ["", "buyer", "vendor"]
    response = client.post(url, data=proposal())
    assert response.status_code == 422
    page = html(response)
    assert "choose the side" in page.by_id("f-side").next_element().text  # type: ignore[union-attr]
    assert page.by_id("f-title").attrs["value"] == "Self-service password reset"

    initiative_id = created_initiative(client.post(url, data=proposal(side="buyer")))
    page = page_of(client, initiative_id)
    assert "for the buyer" in page.by_id("initiative-status").text
    assert TESTER in page.by_id("initiative-status").text
    forms = [f.attrs["id"] for f in page.find_all("form", cls="approve-form")]
    assert forms == ["approve-buyer", "approve-vendor"]
    assert submit(client, initiative_id, "approve-buyer").status_code == 303
    assert submit(client, initiative_id, "approve-vendor").status_code == 303
    assert status_of(page_of(client, initiative_id)) == "approved"


def test_a_proposal_with_bad_values_shows_each_error_beside_its_field_and_keeps_them(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    vendor = as_user(app, VENDOR)
    url = f"/contracts/{delivery.contract_id}/initiatives/new"
    bad = proposal(title="", budget="12.345", expected_saving="1,200.00", planned_year="9",
                   description="ok\x00")  # fmt: skip
    response = vendor.post(url, data=bad)
    assert response.status_code == 422
    page = html(response)
    assert feedback(page, "f-title") == "must not be empty"
    assert "at most 2 decimal places" in feedback(page, "f-budget")
    assert '"1,200.00"' in feedback(page, "f-expected_saving")
    assert "from 1 to 5" in feedback(page, "f-planned_year")
    assert "control character" in feedback(page, "f-description")
    assert page.by_id("f-budget").attrs["value"] == "12.345"
    assert delivery_view(session, SYSTEM, delivery.contract_id).initiatives == ()


def test_an_initiative_can_name_the_kpi_it_should_improve(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    kpi_id = create_kpi(
        session, delivery.vendor_staff, delivery.contract_id, name="Availability", unit="%",
        higher_is_better=True, tolerance="0.2", targets={},
    )  # fmt: skip
    vendor = as_user(app, VENDOR)
    url = f"/contracts/{delivery.contract_id}/initiatives/new"
    options = html(vendor.get(url)).by_id("f-kpi_id").find_all("option")
    assert [(o.attrs["value"], o.text) for o in options] == [
        ("", "None"),
        (str(kpi_id), "Availability (%)"),
    ]
    initiative_id = created_initiative(
        vendor.post(url, data=proposal(kpi_id=str(kpi_id), expected_kpi_effect="+0.2 points"))
    )
    terms = page_of(vendor, initiative_id).by_id("initiative-terms")
    assert terms.one("a", href=f"/kpis/{kpi_id}").text == "Availability"
    assert "+0.2 points" in terms.text
    response = vendor.post(url, data=proposal(kpi_id=str(kpi_id + 50)))
    assert response.status_code == 422
    assert "this contract's KPIs" in feedback(html(response), "f-kpi_id")


# -- editing --------------------------------------------------------------------------------


def test_editing_a_proposal_withdraws_the_approvals_given(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    approve_initiative(session, delivery.buyer_staff, initiative_id, expected_version=1)
    vendor = as_user(app, VENDOR)
    form = html(vendor.get(f"/initiatives/{initiative_id}/edit")).by_id("initiative-form")
    values = form_fields(form)
    assert (values["budget"], values["planned_year"], values["version"]) == ("10000.00", "1", "2")
    response = vendor.post(f"/initiatives/{initiative_id}/edit", data={**values, "budget": "15000"})
    assert response.status_code == 303
    page = page_of(vendor, initiative_id)
    assert page.by_id("budget").text == "15,000.00"
    assert "Waiting for the buyer" in page.by_id("approval-buyer").text


def test_a_stale_edit_of_a_proposal_answers_409_naming_who(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    vendor = as_user(app, VENDOR)
    values = form_fields(
        html(vendor.get(f"/initiatives/{initiative_id}/edit")).by_id("initiative-form")
    )
    update_initiative(session, delivery.buyer_staff, initiative_id,
                      initiative_fields(title="Theirs"), expected_version=1)  # fmt: skip
    response = vendor.post(f"/initiatives/{initiative_id}/edit", data={**values, "title": "Mine"})
    assert response.status_code == 409
    assert "buyer-staff@dlv-1.test" in response.get_data(as_text=True)
    assert page_of(vendor, initiative_id).by_id("initiative-title").text == "Theirs"


def test_an_approved_initiative_cannot_be_edited(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    assert not page_of(vendor, initiative_id).find_all(id="edit-initiative")
    assert vendor.get(f"/initiatives/{initiative_id}/edit").status_code == 409
    response = vendor.post(
        f"/initiatives/{initiative_id}/edit", data={**proposal(), "version": "3"}
    )
    assert response.status_code == 409
    assert "only proposals can be changed" in response.get_data(as_text=True)


def test_a_proposal_of_an_archived_contract_cannot_be_changed(
    session: Session, delivery: Delivery
) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    version = contract_view(session, SYSTEM, delivery.contract_id).version
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=version)
    with pytest.raises(Conflict):
        update_initiative(session, delivery.vendor_staff, initiative_id,
                          initiative_fields(title="Changed"), expected_version=1)  # fmt: skip


def test_the_pages_of_an_archived_contract_offer_no_changes(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    version = contract_view(session, SYSTEM, delivery.contract_id).version
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=version)
    vendor = as_user(app, VENDOR)
    page = page_of(vendor, initiative_id)
    assert not page.find_all("form", method="post", cls="approve-form")
    assert not page.find_all(id="edit-initiative")
    assert not page.find_all(id="drop-form")
    assert "read-only" in page.by_id("no-actions").text
    assert vendor.get(f"/initiatives/{initiative_id}/edit").status_code == 409
    assert vendor.get(f"/contracts/{delivery.contract_id}/initiatives/new").status_code == 409


# -- start, deliver, drop -------------------------------------------------------------------


def test_the_vendor_starts_and_delivers_with_the_realised_saving(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    assert submit(vendor, initiative_id, "start-form").status_code == 303
    page = page_of(vendor, initiative_id)
    assert status_of(page) == "in progress"
    assert not page.find_all(id="start-form")

    response = submit(vendor, initiative_id, "deliver-form", realised_saving="-5", note="Done")
    assert response.status_code == 422
    page = html(response)
    assert "of 0 or more" in feedback(page, "f-realised_saving")
    assert page.by_id("f-realised_saving").attrs["value"] == "-5"
    assert page.by_id("f-note").raw_text() == "Done"
    # The other forms of the page show no error.
    assert "is-invalid" not in page.by_id("f-amount").classes

    response = submit(vendor, initiative_id, "deliver-form", delivered_year="2",
                      realised_saving="13500.00", note="Calls down by a fifth.")  # fmt: skip
    assert response.status_code == 303
    page = page_of(vendor, initiative_id)
    assert status_of(page) == "delivered"
    realised = page.by_id("realised").text
    assert "Delivered in year 2" in realised
    assert "13,500.00" in realised
    assert "+1,500.00" in realised
    assert page.by_id("realised-note").text == "Calls down by a fifth."
    assert not page.find_all(id="deliver-form")
    assert not page.find_all(id="drop-form")
    assert page.by_id("spending-form") is not None  # a delivered initiative may still be paid


def test_dropping_needs_a_reason_which_is_then_shown(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    buyer = as_user(app, BUYER)
    response = submit(buyer, initiative_id, "drop-form", reason="  ")
    assert response.status_code == 422
    assert feedback(html(response), "f-reason") == "required"
    response = submit(buyer, initiative_id, "drop-form", reason="Covered by the new portal.")
    assert response.status_code == 303
    page = page_of(buyer, initiative_id)
    assert status_of(page) == "dropped"
    assert page.by_id("drop-reason").text == "Covered by the new portal."
    assert "buyer-staff@dlv-1.test" in page.by_id("outcome").text
    assert "not given" in page.by_id("approval-vendor").text
    assert "nothing more" in page.by_id("no-actions").text


# -- spending from the fund -----------------------------------------------------------------


def test_spending_beyond_the_fund_needs_pre_funding_and_then_shows_the_negative_balance(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    page = page_of(vendor, initiative_id)
    assert page.by_id("closing-1").text == "20,000.00"
    assert "pays ahead of the fund" in page.by_id("spending-form").text

    response = submit(vendor, initiative_id, "spending-form", year="1", amount="25000.00",
                      description="Portal licence")  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    message = feedback(page, "f-prefunding")
    assert "below zero in year 1" in message
    assert "pre-funding" in message
    assert page.by_id("f-amount").attrs["value"] == "25000.00"
    assert page.by_id("f-description").raw_text() == "Portal licence"
    assert page.by_id("closing-1").text == "20,000.00"

    response = submit(vendor, initiative_id, "spending-form", year="1", amount="25000.00",
                      description="Portal licence", prefunding="1")  # fmt: skip
    assert response.status_code == 303
    page = page_of(vendor, initiative_id)
    closing = page.by_id("closing-1")
    assert closing.text == "-5,000.00"
    assert "text-danger" in closing.classes
    entries = page.by_id("spending-entries")
    assert "Portal licence" in entries.text
    assert "pre-funding" in entries.text
    assert "vendor-staff@dlv-1.test" in entries.text
    assert page.by_id("spent-total").text == "25,000.00"
    assert "Over budget by 15,000.00" in page.by_id("over-budget").text


def test_spending_within_the_fund_is_recorded_against_the_budget(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    response = submit(vendor, initiative_id, "spending-form", year="2", amount="4000",
                      description="First instalment")  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == f"/initiatives/{initiative_id}#spending"
    page = page_of(vendor, initiative_id)
    assert page.by_id("spent-total").text == "4,000.00"
    assert "6,000.00" in page.by_id("budget-left").text
    assert not page.find_all(id="over-budget")


def test_a_double_posted_spending_form_pays_once(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    form = {"version": "3", "year": "2", "amount": "4000", "description": "Instalment"}
    first = vendor.post(f"/initiatives/{initiative_id}/spending", data=form)
    second = vendor.post(f"/initiatives/{initiative_id}/spending", data=form)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "vendor-staff@dlv-1.test" in second.get_data(as_text=True)
    assert page_of(vendor, initiative_id).by_id("spent-total").text == "4,000.00"


def test_spending_with_bad_values_is_refused_beside_each_field(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    response = submit(vendor, initiative_id, "spending-form", year="7", amount="Infinity",
                      description="")  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    assert "from 1 to 5" in feedback(page, "f-year")
    assert "plain decimals" in feedback(page, "f-amount")
    assert feedback(page, "f-description") == "required"


def test_a_proposal_is_not_paid_for(app: Flask, session: Session, delivery: Delivery) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    vendor = as_user(app, VENDOR)
    assert not page_of(vendor, initiative_id).find_all(id="spending-form")
    response = vendor.post(
        f"/initiatives/{initiative_id}/spending",
        data={"version": "1", "year": "1", "amount": "10.00", "description": "x"},
    )
    assert response.status_code == 409
    assert "both sides approved" in response.get_data(as_text=True)


# -- who may do what ------------------------------------------------------------------------


def test_the_buyer_sees_no_vendor_actions_and_they_answer_403(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    buyer = as_user(app, BUYER)
    page = page_of(buyer, initiative_id)
    for form_id in ("start-form", "deliver-form", "spending-form"):
        assert not page.find_all(id=form_id), form_id
    assert page.by_id("drop-form") is not None
    version = {"version": "3"}
    assert buyer.post(f"/initiatives/{initiative_id}/start", data=version).status_code == 403
    response = buyer.post(
        f"/initiatives/{initiative_id}/deliver",
        data={**version, "delivered_year": "1", "realised_saving": "1.00"},
    )
    assert response.status_code == 403
    response = buyer.post(
        f"/initiatives/{initiative_id}/spending",
        data={**version, "year": "1", "amount": "10.00", "description": "x"},
    )
    assert response.status_code == 403
    assert status_of(page_of(buyer, initiative_id)) == "approved"


def test_finance_reads_the_initiative_and_may_not_act_on_it(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    finance = as_user(app, "vendor-finance@dlv-1.test")
    page = page_of(finance, initiative_id)
    assert page.by_id("initiative-title").text == "Self-service password reset"
    assert not page.find_all("form", cls="approve-form")
    assert not page.find_all(id="drop-form")
    assert not page.find_all(id="edit-initiative")
    data = {"version": "1"}
    assert finance.post(f"/initiatives/{initiative_id}/approve", data=data).status_code == 403
    response = finance.post(f"/initiatives/{initiative_id}/drop", data={**data, "reason": "no"})
    assert response.status_code == 403
    assert finance.get(f"/initiatives/{initiative_id}/edit").status_code == 403
    assert finance.get(f"/contracts/{delivery.contract_id}/initiatives/new").status_code == 403
    response = finance.post(f"/contracts/{delivery.contract_id}/initiatives/new", data=proposal())
    assert response.status_code == 403
    response = finance.post(
        f"/initiatives/{initiative_id}/approve", data={**data, "side": "vendor"}
    )
    assert response.status_code == 403


def test_another_organisations_initiative_answers_404_like_a_missing_one(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    outsider = as_user(app, "outsider@dlv-1.test")
    for url in (f"/initiatives/{initiative_id}", f"/initiatives/{initiative_id}/edit",
                f"/contracts/{delivery.contract_id}/initiatives/new"):  # fmt: skip
        assert outsider.get(url).status_code == 404, url
    for action in ("approve", "start", "deliver", "drop", "spending", "edit"):
        response = outsider.post(f"/initiatives/{initiative_id}/{action}", data={"version": "3"})
        assert response.status_code == 404, action
    assert outsider.get(f"/initiatives/{initiative_id + 1000}").status_code == 404
    assert outsider.get("/initiatives/99999999999999999999").status_code == 404


def test_post_only_routes_answer_405_to_a_get(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    for action in ("approve", "start", "deliver", "drop", "spending"):
        response = client.get(f"/initiatives/{initiative_id}/{action}")
        assert response.status_code == 405, action
        assert "POST" in response.headers["Allow"]


def test_a_post_without_the_version_answers_400(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    vendor = as_user(app, VENDOR)
    for action in ("start", "deliver", "drop"):
        assert vendor.post(f"/initiatives/{initiative_id}/{action}").status_code == 400, action


# -- what people write ----------------------------------------------------------------------


def test_a_script_title_and_description_are_shown_escaped(app: Flask, delivery: Delivery) -> None:
    vendor = as_user(app, VENDOR)
    script = "<script>alert(1)</script>"
    url = f"/contracts/{delivery.contract_id}/initiatives/new"
    initiative_id = created_initiative(
        vendor.post(url, data=proposal(title=script, description='" onmouseover="alert(2)'))
    )
    response = vendor.get(f"/initiatives/{initiative_id}")
    body = response.get_data(as_text=True)
    assert script not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '" onmouseover="alert(2)' not in body
    page = html(response)
    assert page.by_id("initiative-title").text == script
    assert page.one("li", cls="active").text == script
    edit = vendor.get(f"/initiatives/{initiative_id}/edit").get_data(as_text=True)
    assert script not in edit


def test_the_page_leads_back_to_the_contract_and_its_delivery(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    initiative_id = approved_initiative(session, delivery)
    crumbs = page_of(client, initiative_id).one("ol", cls="breadcrumb")
    links = [(a.text, a.attrs["href"]) for a in crumbs.find_all("a")]
    assert links == [
        ("Portfolio", "/"),
        ("DLV-1", f"/contracts/{delivery.contract_id}"),
        ("Delivery", f"/contracts/{delivery.contract_id}/delivery"),
    ]
    assert crumbs.one("li", cls="active").text == "Self-service password reset"
