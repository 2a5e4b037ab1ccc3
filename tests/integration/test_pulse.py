"""The pulse services: one rating per side and quarter, never edited; trends and alerts."""

from __future__ import annotations

from datetime import date

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.followup_models import Concern, PulseCheck
from tracker.db.models import Contract
from tracker.domain.errors import InvalidTerms
from tracker.services.access import SYSTEM, Actor
from tracker.services.concerns import concerns_view
from tracker.services.contracts import set_archived
from tracker.services.errors import Conflict, Forbidden, NotFound
from tracker.services.pulse import pulse_view, rate_relationship
from tracker.services.seed import SEED_DATA
from tracker.services.seed_concerns import seed_concerns

#: TODAY (2025-06-30) lies in 2025 Q2.
Q2 = date(2025, 4, 1)


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session, code="PUL-1")


def rate(
    session: Session, actor: Actor, delivery: Delivery, rating: object, **kwargs: object
) -> int:
    options: dict[str, object] = {"comment": None, "today": TODAY, **kwargs}
    return rate_relationship(session, actor, delivery.contract_id, rating=rating, **options)  # type: ignore[arg-type]


def errors_of(exc: pytest.ExceptionInfo[InvalidTerms]) -> dict[str, str]:
    return {error.path: error.message for error in exc.value.errors}


def test_staff_rate_the_current_quarter_for_their_side(
    session: Session, delivery: Delivery
) -> None:
    check_id = rate(session, delivery.buyer_staff, delivery, "4", comment="Good start.")
    with session.begin():
        check = session.get(PulseCheck, check_id)
        assert check is not None
        assert (check.side, check.period, check.rating, check.comment) == (
            "buyer", Q2, 4, "Good start.",
        )  # fmt: skip
        assert check.by == delivery.buyer_staff.label
        action = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "pulse_check")
        ).one()
        assert action == "rate"


def test_a_second_rating_of_the_same_quarter_is_refused_naming_who_rated_and_when(
    session: Session, delivery: Delivery
) -> None:
    rate(session, delivery.vendor_staff, delivery, 4)
    with pytest.raises(Conflict) as caught:
        rate(session, delivery.vendor_staff, delivery, 5, period="2025-05-15")
    message = str(caught.value)
    assert "vendor already rated 2025 Q2" in message
    assert delivery.vendor_staff.label in message
    assert "never edited" in message
    # The other side still rates the quarter, and the first side rates another one.
    rate(session, delivery.buyer_staff, delivery, 3)
    rate(session, delivery.vendor_staff, delivery, 3, period="2025-01-01")


def test_a_rating_is_a_whole_number_from_1_to_5(session: Session, delivery: Delivery) -> None:
    for bad in ("0", "6", "3.5", "good", None):
        with pytest.raises(InvalidTerms) as caught:
            rate(session, delivery.buyer_staff, delivery, bad)
        assert set(errors_of(caught)) == {"rating"}
    with session.begin():
        assert session.scalars(select(PulseCheck)).all() == []


def test_a_low_rating_needs_a_comment(session: Session, delivery: Delivery) -> None:
    with pytest.raises(InvalidTerms) as caught:
        rate(session, delivery.buyer_staff, delivery, 2, comment="  ")
    assert set(errors_of(caught)) == {"comment"}
    with pytest.raises(InvalidTerms):
        rate(session, delivery.buyer_staff, delivery, 1, comment="bad\x07")
    rate(session, delivery.buyer_staff, delivery, 2, comment="Escalations go unanswered.")


@pytest.mark.parametrize(
    ("period", "message"),
    [("2025-07-01", "has not begun"), ("2019-12-31", "too far"), ("2025-13-01", "calendar")],
)
def test_a_quarter_to_come_or_far_from_the_term_is_not_rated(
    session: Session, delivery: Delivery, period: str, message: str
) -> None:
    with pytest.raises(InvalidTerms) as caught:
        rate(session, delivery.buyer_staff, delivery, 4, period=period)
    assert message in errors_of(caught)["period"]


def test_only_staff_rate_and_staff_of_both_name_their_side(
    session: Session, delivery: Delivery
) -> None:
    for actor in (delivery.buyer_finance, delivery.vendor_admin):
        with pytest.raises(Forbidden):
            rate(session, actor, delivery, 4)
    with pytest.raises(NotFound):
        rate(session, delivery.outsider, delivery, 4)
    both = Actor(
        None, "both@example.test", {delivery.buyer_id: "staff", delivery.vendor_id: "staff"}
    )
    with pytest.raises(Forbidden, match="say which side"):
        rate(session, both, delivery, 4)
    rate(session, both, delivery, 4, side="buyer")
    rate(session, both, delivery, 4, side="vendor")


def test_an_archived_contract_takes_no_rating(session: Session, delivery: Delivery) -> None:
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=1)
    with pytest.raises(Conflict, match="archived"):
        rate(session, delivery.buyer_staff, delivery, 4)


def test_the_view_shows_every_quarter_newest_first_with_trends_and_divergence(
    session: Session, delivery: Delivery
) -> None:
    history = {
        "2024-10-01": (4, 4),
        "2025-01-01": (3, 4),
        "2025-04-01": (2, 4),
    }
    for period, (buyer, vendor) in history.items():
        rate(session, delivery.buyer_staff, delivery, buyer, period=period, comment="Slipping.")
        rate(session, delivery.vendor_staff, delivery, vendor, period=period)
    view = pulse_view(session, delivery.buyer_finance, delivery.contract_id, today=TODAY)
    assert view.current_label == "2025 Q2"
    # From the contract's start (2022 Q1) to the current quarter.
    assert len(view.quarters) == 14
    assert view.quarters[0].period == Q2
    assert view.quarters[-1].period == date(2022, 1, 1)
    assert (view.quarters[0].gap, view.quarters[1].gap, view.quarters[3].gap) == (2, 1, None)
    assert view.trend_of("buyer").direction == "worsening"
    assert view.trend_of("vendor").direction == "stable"
    assert view.divergence is not None
    assert (view.divergence.period, view.divergence.buyer, view.divergence.vendor) == (Q2, 2, 4)
    assert view.due == ()
    assert view.rate_sides == ()


def test_a_side_that_has_not_rated_after_45_days_is_due(
    session: Session, delivery: Delivery
) -> None:
    rate(session, delivery.vendor_staff, delivery, 4)
    view = pulse_view(session, delivery.buyer_staff, delivery.contract_id, today=TODAY)
    assert view.due == ("buyer",)
    assert view.rate_sides == ("buyer",)
    assert view.divergence is None
    early = pulse_view(session, delivery.buyer_staff, delivery.contract_id, today=date(2025, 5, 15))
    assert early.due == ()


def test_an_outsider_does_not_find_the_pulse(session: Session, delivery: Delivery) -> None:
    with pytest.raises(NotFound):
        pulse_view(session, delivery.outsider, delivery.contract_id)


def test_an_unsigned_contract_shows_no_due_rating_and_takes_none(session: Session) -> None:
    draft = contract_in_delivery(session, code="PUL-DRAFT", status="negotiation")
    view = pulse_view(session, draft.buyer_staff, draft.contract_id, today=TODAY)
    assert view.due == ()
    assert view.rate_sides == ()
    with pytest.raises(Conflict, match="signed"):
        rate(session, draft.buyer_staff, draft, 4)


def test_the_demo_seed_puts_guard_fr_2026_in_trouble_and_the_older_contracts_at_ease(
    seeded: Flask, session: Session
) -> None:
    day = date(2026, 12, 7)
    seed_concerns(session, SEED_DATA, today=day)
    with session.begin():
        ids: dict[str, int] = dict(session.execute(select(Contract.code, Contract.id)).all())
    guard = pulse_view(session, SYSTEM, ids["GUARD-FR-2026"], today=day)
    assert guard.divergence is not None
    assert (guard.divergence.label, guard.divergence.buyer, guard.divergence.vendor) == (
        "2026 Q4", 2, 4,
    )  # fmt: skip
    register = concerns_view(session, SYSTEM, ids["GUARD-FR-2026"], today=day)
    doubt = next(c for c in register.open if c.category == "decision_doubt")
    assert (doubt.raised_by_side, doubt.severity, doubt.state.overdue) == ("buyer", "high", True)
    assert doubt.state.escalation >= 2
    assert doubt.raised_by == "staff@mutuelle-atlantique.demo"
    assert any(c.category == "launch_difficulty" for c in register.concerns)
    for code in ("SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025"):
        older = concerns_view(session, SYSTEM, ids[code], today=day)
        assert len(older.resolved) > len(older.open), code
        pulse = pulse_view(session, SYSTEM, ids[code], today=day)
        assert pulse.divergence is None, code
        assert pulse.trend_of("buyer").latest is not None, code
    # A second run adds nothing: the contracts already have their concerns and ratings.
    with session.begin():
        before = session.scalar(select(func.count()).select_from(Concern))
    seed_concerns(session, SEED_DATA, today=day)
    with session.begin():
        assert session.scalar(select(func.count()).select_from(Concern)) == before
