"""The concern register's services: raising, editing, moving, reading; who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.followup_models import Concern
from tracker.domain.errors import InvalidTerms
from tracker.services.access import SYSTEM, Actor
from tracker.services.concerns import (
    concern_view,
    concerns_view,
    move_concern,
    raise_concern,
    update_concern,
)
from tracker.services.contracts import set_archived
from tracker.services.errors import Conflict, Forbidden, NotFound, StaleEdit


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session, code="CON-1")


def fields(**changes: object) -> dict[str, object]:
    """A valid concern: a launch difficulty, high, owned by the vendor, due in two weeks."""
    return {
        "title": "Service desk not reachable from two sites",
        "description": "Users at Nantes and Rennes cannot reach the portal.\nSince Monday.",
        "category": "launch_difficulty",
        "severity": "high",
        "owner_side": "vendor",
        "owner": "Delivery manager",
        "due_on": (TODAY + timedelta(days=14)).isoformat(),
        **changes,
    }


def raised(session: Session, actor: Actor, delivery: Delivery, **changes: object) -> int:
    return raise_concern(session, actor, delivery.contract_id, fields(**changes), today=TODAY)


def stored(session: Session, concern_id: int) -> Concern:
    with session.begin():
        concern = session.get(Concern, concern_id)
        assert concern is not None
        session.expunge(concern)
        return concern


def errors_of(exc: pytest.ExceptionInfo[InvalidTerms]) -> dict[str, str]:
    return {error.path: error.message for error in exc.value.errors}


def test_the_buyers_staff_raise_a_concern_for_the_buyer_on_the_day(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    concern = stored(session, concern_id)
    assert (concern.raised_by_side, concern.raised_by) == ("buyer", delivery.buyer_staff.label)
    assert (concern.raised_on, concern.status, concern.version) == (TODAY, "open", 1)
    assert (
        concern.description == "Users at Nantes and Rennes cannot reach the portal.\nSince Monday."
    )
    with session.begin():
        event_ = session.scalars(select(AuditEvent).where(AuditEvent.entity == "concern")).one()
        assert (event_.action, event_.entity_id, event_.actor) == (
            "raise", concern_id, delivery.buyer_staff.label,
        )  # fmt: skip


def test_the_vendors_staff_raise_concerns_for_the_vendor(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.vendor_staff, delivery, owner_side="buyer", owner="")
    concern = stored(session, concern_id)
    assert (concern.raised_by_side, concern.owner_side, concern.owner) == ("vendor", "buyer", None)


def test_staff_of_both_parties_say_which_side_they_speak_for(
    session: Session, delivery: Delivery
) -> None:
    both = Actor(
        None, "both@example.test", {delivery.buyer_id: "staff", delivery.vendor_id: "staff"}
    )
    with pytest.raises(Forbidden, match="say which side"):
        raised(session, both, delivery)
    concern_id = raise_concern(
        session, both, delivery.contract_id, fields(), side="vendor", today=TODAY
    )
    assert stored(session, concern_id).raised_by_side == "vendor"
    with pytest.raises(Forbidden, match="not staff of the buyer"):
        raise_concern(
            session, delivery.vendor_staff, delivery.contract_id, fields(), side="buyer",
            today=TODAY,
        )  # fmt: skip


@pytest.mark.parametrize("who", ["buyer_finance", "vendor_finance", "buyer_admin", "vendor_admin"])
def test_finance_and_admin_only_read_concerns(
    session: Session, delivery: Delivery, who: str
) -> None:
    actor = getattr(delivery, who)
    with pytest.raises(Forbidden):
        raised(session, actor, delivery)
    concern_id = raised(session, delivery.buyer_staff, delivery)
    with pytest.raises(Forbidden):
        move_concern(session, actor, concern_id, "in_progress", expected_version=1, today=TODAY)
    with pytest.raises(Forbidden):
        update_concern(session, actor, concern_id, fields(), expected_version=1, today=TODAY)
    view = concerns_view(session, actor, delivery.contract_id, today=TODAY)
    assert [c.id for c in view.concerns] == [concern_id]
    assert not view.permissions.write


def test_an_outsider_finds_neither_the_register_nor_a_concern(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    outsider = delivery.outsider
    with pytest.raises(NotFound):
        raised(session, outsider, delivery)
    with pytest.raises(NotFound):
        concerns_view(session, outsider, delivery.contract_id)
    with pytest.raises(NotFound, match=f"no concern {concern_id}"):
        concern_view(session, outsider, concern_id)
    with pytest.raises(NotFound):
        move_concern(session, outsider, concern_id, "resolved", expected_version=1)
    with pytest.raises(NotFound):
        update_concern(session, outsider, concern_id, fields(), expected_version=1)
    with pytest.raises(NotFound):
        concern_view(session, SYSTEM, concern_id + 1000)


def test_every_bad_field_is_reported_at_once_and_nothing_is_stored(
    session: Session, delivery: Delivery
) -> None:
    with pytest.raises(InvalidTerms) as caught:
        raised(
            session, delivery.buyer_staff, delivery, title="x" * 201, description="  ",
            category="gossip", severity="urgent", owner_side="both", owner="a\x00b",
            due_on=(TODAY - timedelta(days=1)).isoformat(),
        )  # fmt: skip
    assert set(errors_of(caught)) == {
        "title", "description", "category", "severity", "owner_side", "owner", "due_on",
    }  # fmt: skip
    assert "today" in errors_of(caught)["due_on"]
    with session.begin():
        assert session.scalars(select(Concern)).all() == []


@pytest.mark.parametrize(
    ("due_on", "message"),
    [
        ((TODAY + timedelta(days=366)).isoformat(), "a year ahead"),
        ("2025-02-30", "not a calendar date"),
        ("next week", "YYYY-MM-DD"),
        ("", "required"),
    ],
)
def test_a_due_day_lies_from_today_to_a_year_ahead(
    session: Session, delivery: Delivery, due_on: str, message: str
) -> None:
    with pytest.raises(InvalidTerms) as caught:
        raised(session, delivery.buyer_staff, delivery, due_on=due_on)
    assert message in errors_of(caught)["due_on"]


def test_a_due_day_today_or_a_year_ahead_is_accepted(session: Session, delivery: Delivery) -> None:
    raised(session, delivery.buyer_staff, delivery, due_on=TODAY.isoformat())
    raised(
        session, delivery.buyer_staff, delivery, due_on=(TODAY + timedelta(days=365)).isoformat()
    )


def test_an_archived_or_unsigned_contract_takes_no_concern(session: Session) -> None:
    delivery = contract_in_delivery(session, code="CON-ARCH")
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=1)
    with pytest.raises(Conflict, match="archived"):
        raised(session, delivery.buyer_staff, delivery)
    draft = contract_in_delivery(session, code="CON-DRAFT", status="draft")
    with pytest.raises(Conflict, match="once the contract is signed"):
        raised(session, draft.buyer_staff, draft)
    view = concerns_view(session, draft.buyer_staff, draft.contract_id, today=TODAY)
    assert not view.permissions.write
    assert view.permissions.read_only is not None


def test_either_sides_staff_edit_a_concern_with_the_version_they_read(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    update_concern(
        session, delivery.vendor_staff, concern_id, fields(severity="critical", owner="Jo"),
        expected_version=1, today=TODAY,
    )  # fmt: skip
    concern = stored(session, concern_id)
    assert (concern.severity, concern.owner, concern.version) == ("critical", "Jo", 2)
    assert concern.updated_by == delivery.vendor_staff.label
    with pytest.raises(StaleEdit, match=r"vendor-staff@con-1\.test"):
        update_concern(
            session, delivery.buyer_staff, concern_id, fields(), expected_version=1, today=TODAY
        )


def test_an_overdue_concern_keeps_its_due_day_when_edited_but_cannot_move_it_into_the_past(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    later = TODAY + timedelta(days=30)
    due = (TODAY + timedelta(days=14)).isoformat()
    update_concern(
        session, delivery.buyer_staff, concern_id, fields(title="Still unreachable", due_on=due),
        expected_version=1, today=later,
    )  # fmt: skip
    assert stored(session, concern_id).title == "Still unreachable"
    with pytest.raises(InvalidTerms) as caught:
        update_concern(
            session, delivery.buyer_staff, concern_id, fields(due_on=TODAY.isoformat()),
            expected_version=2, today=later,
        )  # fmt: skip
    assert "due_on" in errors_of(caught)


def test_a_concern_is_started_then_resolved_with_its_resolution_on_the_day(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    move_concern(session, delivery.vendor_staff, concern_id, "in_progress", expected_version=1)
    with pytest.raises(InvalidTerms) as caught:
        move_concern(
            session, delivery.vendor_staff, concern_id, "resolved", expected_version=2,
            resolution=" ", today=TODAY,
        )  # fmt: skip
    assert errors_of(caught) == {"resolution": "required"}
    day = TODAY + timedelta(days=3)
    move_concern(
        session, delivery.vendor_staff, concern_id, "resolved", expected_version=2,
        resolution="Firewall rule opened for both sites.", today=day,
    )  # fmt: skip
    concern = stored(session, concern_id)
    assert (concern.status, concern.resolved_on) == ("resolved", day)
    assert concern.resolution == "Firewall rule opened for both sites."


def test_a_resolved_concern_is_not_edited_but_reopened_with_a_reason(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    move_concern(
        session, delivery.vendor_staff, concern_id, "resolved", expected_version=1,
        resolution="Fixed.", today=TODAY,
    )  # fmt: skip
    with pytest.raises(Conflict, match="reopen it"):
        update_concern(
            session, delivery.buyer_staff, concern_id, fields(), expected_version=2, today=TODAY
        )
    with pytest.raises(InvalidTerms) as caught:
        move_concern(session, delivery.buyer_staff, concern_id, "open", expected_version=2)
    assert set(errors_of(caught)) == {"reason"}
    move_concern(
        session, delivery.buyer_staff, concern_id, "open", expected_version=2,
        reason="It broke again on Friday.", today=TODAY,
    )  # fmt: skip
    concern = stored(session, concern_id)
    assert (concern.status, concern.resolution, concern.resolved_on) == ("open", None, None)
    detail = concern_view(session, delivery.buyer_staff, concern_id, today=TODAY)
    assert [e.action for e in detail.history] == ["reopen", "resolve", "raise"]
    assert detail.history[0].reason == "It broke again on Friday."
    assert ("status", "resolved", "open") in detail.history[0].changes


@pytest.mark.parametrize(
    ("path", "target"),
    [(("in_progress",), "open"), (("in_progress",), "in_progress"), ((), "open")],
)
def test_moves_the_register_does_not_allow_are_refused(
    session: Session, delivery: Delivery, path: tuple[str, ...], target: str
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    for version, status in enumerate(path, start=1):
        move_concern(session, delivery.buyer_staff, concern_id, status, expected_version=version)
    with pytest.raises(Conflict, match="cannot become"):
        move_concern(
            session, delivery.buyer_staff, concern_id, target, expected_version=len(path) + 1,
            reason="why", today=TODAY,
        )  # fmt: skip


def test_an_unknown_status_is_a_bad_value(session: Session, delivery: Delivery) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    with pytest.raises(InvalidTerms) as caught:
        move_concern(session, delivery.buyer_staff, concern_id, "closed", expected_version=1)
    assert set(errors_of(caught)) == {"status"}
    with pytest.raises(StaleEdit):
        move_concern(session, delivery.buyer_staff, concern_id, "in_progress", expected_version=7)


def test_the_register_orders_by_escalation_and_counts_by_severity(
    session: Session, delivery: Delivery
) -> None:
    def on(day: int, **changes: object) -> int:
        raised_on = TODAY + timedelta(days=day)
        return raise_concern(
            session, delivery.buyer_staff, delivery.contract_id, fields(**changes), today=raised_on
        )

    soon = on(0, severity="low", due_on=(TODAY + timedelta(days=40)).isoformat())
    critical = on(0, severity="critical", due_on=(TODAY + timedelta(days=10)).isoformat())
    late = on(0, severity="medium", due_on=(TODAY + timedelta(days=5)).isoformat())
    done = on(0, severity="high", due_on=(TODAY + timedelta(days=5)).isoformat())
    move_concern(session, delivery.vendor_staff, done, "resolved", expected_version=1,
                 resolution="Done.", today=TODAY)  # fmt: skip
    day = TODAY + timedelta(days=25)  # late: 20 days overdue; critical: 15 days
    view = concerns_view(session, delivery.vendor_staff, delivery.contract_id, today=day)
    assert [c.id for c in view.concerns] == [critical, late, soon, done]
    assert [c.state.escalation for c in view.concerns] == [3, 2, 0, 0]
    assert view.concerns[1].state.days_overdue == 20
    assert dict(view.by_severity) == {"critical": 1, "high": 0, "medium": 1, "low": 1}
    assert [c.id for c in view.overdue] == [critical, late]
    assert [c.id for c in view.resolved] == [done]
    assert view.highest_escalation == 3
    assert view.permissions.sides == ("vendor",)
    assert view.permissions.write


def test_reading_the_register_costs_the_same_queries_for_many_concerns(
    session: Session, delivery: Delivery
) -> None:
    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    raised(session, delivery.buyer_staff, delivery)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        concerns_view(session, delivery.buyer_staff, delivery.contract_id, today=TODAY)
        few = len(statements)
        for _ in range(5):
            raised(session, delivery.buyer_staff, delivery)
        statements.clear()
        concerns_view(session, delivery.buyer_staff, delivery.contract_id, today=TODAY)
        assert len(statements) == few
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_a_concern_is_read_with_its_contract_and_its_moves(
    session: Session, delivery: Delivery
) -> None:
    concern_id = raised(session, delivery.buyer_staff, delivery)
    detail = concern_view(session, delivery.buyer_finance, concern_id, today=TODAY)
    assert detail.contract.code == "CON-1"
    assert detail.concern.moves == ("in_progress", "resolved")
    assert detail.concern.category_label == "Launch difficulty"
    assert not detail.permissions.write
