"""The follow-up tab: the contract's health with its alerts, and the way to each part;
the account map only for the vendor (or the buyer once it is shared)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from conftest import sign_in
from delivery_factory import Delivery, contract_in_delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy.orm import Session

from tracker.db.account_map_models import Influence
from tracker.db.followup_models import Concern, ContractFollowUp

NOW = datetime.now(UTC)


def as_user(app: Flask, email: str) -> FlaskClient:
    return sign_in(app.test_client(), email)


def page_of(app: Flask, email: str, delivery: Delivery) -> tuple[int, str, Node]:
    response = as_user(app, email).get(f"/contracts/{delivery.contract_id}/follow-up")
    return response.status_code, response.get_data(as_text=True), html(response)


def trouble(session: Session, delivery: Delivery) -> None:
    """A critical concern and an influence rated -5 (a red flag the vendor sees)."""
    edited = {"updated_at": NOW, "updated_by": "x", "version": 1}
    with session.begin():
        session.add_all([
            Concern(contract_id=delivery.contract_id, title="Launch slipping", category="other",
                    severity="critical", raised_by_side="buyer", raised_by="b",
                    raised_on=date.today(), owner_side="vendor", due_on=date(2099, 1, 1),
                    status="open", **edited),
            Influence(contract_id=delivery.contract_id, name="Hidden Person",
                      role="economic_buyer", degree="high", mode="trouble", rating=-5,
                      added_on=date(2022, 1, 1), **edited),
        ])  # fmt: skip


def test_the_vendor_sees_its_score_with_the_red_flags_and_a_way_to_the_account_map(
    app: Flask, session: Session
) -> None:
    delivery = contract_in_delivery(session, code="FU-1")
    trouble(session, delivery)

    status, body, page = page_of(app, "vendor-staff@fu-1.test", delivery)

    assert status == 200
    alerts = page.by_id("health-alerts").text
    assert "open concerns: 1 critical" in alerts
    assert "red flag" in alerts
    assert "Account map" in page.by_id("parts").text
    assert "Hidden Person" not in body


def test_the_buyer_sees_neither_the_red_flags_nor_the_account_map_until_it_is_shared(
    app: Flask, session: Session
) -> None:
    delivery = contract_in_delivery(session, code="FU-2")
    trouble(session, delivery)

    status, _body, page = page_of(app, "buyer-staff@fu-2.test", delivery)
    assert status == 200
    assert "red flag" not in page.by_id("health-alerts").text
    assert "Account map" not in page.by_id("parts").text
    vendor_score = page_of(app, "vendor-staff@fu-2.test", delivery)[2].by_id("health-score")
    assert int(page.by_id("health-score").text) > int(vendor_score.text)

    with session.begin():
        session.add(ContractFollowUp(contract_id=delivery.contract_id, account_map_shared=True,
                                     updated_at=NOW, updated_by="v", version=1))  # fmt: skip
    shared = page_of(app, "buyer-staff@fu-2.test", delivery)[2]
    assert "Account map" in shared.by_id("parts").text
    assert "red flag" not in shared.by_id("health-alerts").text


def test_an_outsider_gets_404_and_a_draft_has_no_health_yet(app: Flask, session: Session) -> None:
    delivery = contract_in_delivery(session, code="FU-3")
    draft = contract_in_delivery(session, code="FU-4", status="draft")

    assert page_of(app, "outsider@fu-3.test", delivery)[0] == 404
    status, body, _page = page_of(app, "vendor-staff@fu-4.test", draft)
    assert status == 200
    assert "Health is followed once the contract is signed" in body
