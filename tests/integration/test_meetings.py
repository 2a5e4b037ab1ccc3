"""The meetings services: recording a meeting with its actions in one transaction, editing,
action states, permissions, stale edits, bad input by path, the read model and the demo."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.followup_models import Meeting, MeetingAction
from tracker.db.models import Contract
from tracker.db.session import new_session
from tracker.domain.errors import InvalidTerms
from tracker.services.access import SYSTEM
from tracker.services.contracts import set_archived
from tracker.services.errors import Conflict, Forbidden, NotFound, StaleEdit
from tracker.services.meetings import (
    add_action,
    record_meeting,
    set_action_status,
    update_action,
    update_meeting,
)
from tracker.services.meetings_views import governance_summaries, governance_view, meeting_view
from tracker.services.seed import SEED_DATA
from tracker.services.seed_meetings import seed_meetings


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session)


def fields(**changes: object) -> dict[str, object]:
    """A quarterly review held a week before TODAY."""
    return {
        "kind": "quarterly_review",
        "held_on": (TODAY - timedelta(days=7)).isoformat(),
        "title": "Q2 quarterly review",
        "agenda": "KPIs of the quarter\nInitiatives",
        "attendees": "Anna (buyer)\n\n  Bruno (vendor)  \n",
        "decisions": "Extend the pilot to two more sites.",
        **changes,
    }


def action(**changes: object) -> dict[str, object]:
    return {"title": "Send the KPI pack", "owner_side": "vendor", "owner": "Bruno",
            "due_on": (TODAY + timedelta(days=20)).isoformat(), **changes}  # fmt: skip


def recorded(session: Session, delivery: Delivery, *actions: dict[str, object]) -> int:
    return record_meeting(
        session, delivery.vendor_staff, delivery.contract_id, fields(), list(actions), today=TODAY
    )


def count(session: Session, model: type[Meeting] | type[MeetingAction]) -> int:
    with session.begin():
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def errors_of(excinfo: pytest.ExceptionInfo[InvalidTerms]) -> dict[str, str]:
    return {error.path: error.message for error in excinfo.value.errors}


def test_a_meeting_is_recorded_with_its_actions_and_one_audit_event(
    session: Session, delivery: Delivery
) -> None:
    late = action(title="Plan the audit", owner_side="buyer", owner=None, due_on="2025-06-01")
    meeting_id = record_meeting(
        session, delivery.vendor_staff, delivery.contract_id, fields(held_on="2025-05-20"),
        [action(), late], today=TODAY,
    )  # fmt: skip
    page = meeting_view(session, delivery.buyer_finance, meeting_id, today=TODAY)
    meeting = page.meeting
    assert (meeting.kind_label, meeting.title, meeting.held_on) == (
        "Quarterly review", "Q2 quarterly review", date(2025, 5, 20),
    )  # fmt: skip
    assert meeting.attendees == ("Anna (buyer)", "Bruno (vendor)")
    assert meeting.agenda == "KPIs of the quarter\nInitiatives"
    assert [(a.title, a.state.state) for a in meeting.actions] == [
        ("Plan the audit", "overdue"),
        ("Send the KPI pack", "open"),
    ]
    assert page.permissions.write is False
    with session.begin():
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "meeting")).all()
        assert [(e.action, e.entity_id, e.actor) for e in events] == [
            ("record", meeting_id, "vendor-staff@dlv-1.test")
        ]
        assert '"Send the KPI pack"' in (events[0].after or "")


def test_nothing_is_written_when_one_action_row_is_bad(
    session: Session, delivery: Delivery
) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        recorded(session, delivery, action(), action(), action(due_on="2025-02-30"))
    assert errors_of(excinfo) == {"actions[2].due_on": '"2025-02-30" is not a calendar date'}
    assert (count(session, Meeting), count(session, MeetingAction)) == (0, 0)


def test_every_bad_field_is_named_at_once(session: Session, delivery: Delivery) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        record_meeting(
            session, delivery.buyer_staff, delivery.contract_id,
            fields(kind="party", held_on="2025-09-30", title=" ", agenda="a\x00b"),
            [action(owner_side="both", title=None, due_on="2025-10-15"),
             action(due_on="2025-06-01")],
            today=TODAY,
        )  # fmt: skip
    found = errors_of(excinfo)
    assert set(found) == {
        "kind", "held_on", "title", "agenda",
        "actions[0].owner_side", "actions[0].title", "actions[1].due_on",
    }  # fmt: skip
    assert "at most 60 days ahead" in found["held_on"]
    assert "U+0000" in found["agenda"]
    assert found["actions[1].due_on"] == "must be on or after the meeting day, 2025-09-30"


def test_days_far_from_the_contract_term_are_refused(session: Session, delivery: Delivery) -> None:
    recorded_far = fields(held_on="2020-12-31")
    with pytest.raises(InvalidTerms) as excinfo:
        record_meeting(session, delivery.vendor_staff, delivery.contract_id, recorded_far, [],
                       today=TODAY)  # fmt: skip
    assert "from 2021-01-01" in errors_of(excinfo)["held_on"]


def test_a_meeting_can_be_planned_up_to_60_days_ahead(session: Session, delivery: Delivery) -> None:
    planned = (TODAY + timedelta(days=60)).isoformat()
    meeting_id = record_meeting(session, delivery.buyer_staff, delivery.contract_id,
                                fields(held_on=planned), [], today=TODAY)  # fmt: skip
    assert meeting_view(session, delivery.buyer_staff, meeting_id, today=TODAY).meeting.planned


@pytest.mark.parametrize("who", ["buyer_finance", "vendor_admin", "vendor_finance"])
def test_finance_and_admin_read_but_may_not_record(
    session: Session, delivery: Delivery, who: str
) -> None:
    actor = getattr(delivery, who)
    with pytest.raises(Forbidden):
        record_meeting(session, actor, delivery.contract_id, fields(), [], today=TODAY)
    assert governance_view(session, actor, delivery.contract_id, today=TODAY).counts.meetings == 0


def test_an_outsider_is_told_there_is_no_such_contract_meeting_or_action(
    session: Session, delivery: Delivery
) -> None:
    meeting_id = recorded(session, delivery, action())
    action_id = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0].id
    outsider = delivery.outsider
    with pytest.raises(NotFound):
        governance_view(session, outsider, delivery.contract_id)
    with pytest.raises(NotFound):
        record_meeting(session, outsider, delivery.contract_id, fields(), [], today=TODAY)
    with pytest.raises(NotFound, match=f"no meeting {meeting_id}"):
        meeting_view(session, outsider, meeting_id)
    with pytest.raises(NotFound, match=f"no meeting {meeting_id}"):
        update_meeting(session, outsider, meeting_id, fields(), expected_version=1)
    with pytest.raises(NotFound, match=f"no action {action_id}"):
        set_action_status(session, outsider, action_id, "done", expected_version=1)


def test_a_stale_meeting_edit_is_refused_naming_who_changed_it(
    session: Session, delivery: Delivery
) -> None:
    meeting_id = recorded(session, delivery)
    update_meeting(session, delivery.buyer_staff, meeting_id, fields(title="Q2 review"),
                   expected_version=1, today=TODAY)  # fmt: skip
    with pytest.raises(StaleEdit, match=r"buyer-staff@dlv-1\.test"):
        update_meeting(session, delivery.vendor_staff, meeting_id, fields(decisions="None"),
                       expected_version=1, today=TODAY)  # fmt: skip
    meeting = meeting_view(session, SYSTEM, meeting_id).meeting
    assert (meeting.title, meeting.version) == ("Q2 review", 2)


def test_an_action_is_done_today_and_a_stale_status_change_is_refused(
    session: Session, delivery: Delivery
) -> None:
    meeting_id = recorded(session, delivery, action())
    action_id = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0].id
    set_action_status(session, delivery.buyer_staff, action_id, "done", expected_version=1,
                      today=TODAY)  # fmt: skip
    with pytest.raises(StaleEdit):
        set_action_status(session, delivery.vendor_staff, action_id, "dropped",
                          expected_version=1, reason="no longer needed")  # fmt: skip
    done = meeting_view(session, SYSTEM, meeting_id, today=TODAY).meeting.actions[0]
    assert (done.status, done.done_on, done.state.label) == ("done", TODAY, "done")
    with pytest.raises(Conflict, match="already done"):
        set_action_status(session, delivery.buyer_staff, action_id, "done", expected_version=2)
    with pytest.raises(Conflict, match="reopen it before changing it"):
        update_action(session, delivery.buyer_staff, action_id, action(), expected_version=2)
    set_action_status(session, delivery.buyer_staff, action_id, "open", expected_version=2)
    reopened = meeting_view(session, SYSTEM, meeting_id, today=TODAY).meeting.actions[0]
    assert (reopened.status, reopened.done_on) == ("open", None)


def test_dropping_an_action_needs_a_reason_kept_in_the_audit_trail(
    session: Session, delivery: Delivery
) -> None:
    meeting_id = recorded(session, delivery, action())
    action_id = meeting_view(session, SYSTEM, meeting_id).meeting.actions[0].id
    with pytest.raises(InvalidTerms) as excinfo:
        set_action_status(session, delivery.vendor_staff, action_id, "dropped", expected_version=1)
    assert errors_of(excinfo) == {"reason": "required"}
    with pytest.raises(InvalidTerms) as excinfo:
        set_action_status(session, delivery.vendor_staff, action_id, "finished",
                          expected_version=1)  # fmt: skip
    assert set(errors_of(excinfo)) == {"status"}
    set_action_status(session, delivery.vendor_staff, action_id, "dropped", expected_version=1,
                      reason="The buyer ended the pilot.")  # fmt: skip
    with session.begin():
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "meeting_action")
        ).one()
        assert (event.action, event.entity_id) == ("drop", action_id)
        assert "The buyer ended the pilot." in (event.after or "")


def test_actions_are_added_and_changed_while_open(session: Session, delivery: Delivery) -> None:
    meeting_id = recorded(session, delivery)
    action_id = add_action(session, delivery.buyer_staff, meeting_id, action(title="Book rooms"))
    with pytest.raises(InvalidTerms) as excinfo:
        add_action(session, delivery.buyer_staff, meeting_id, action(due_on="2025-01-01"))
    assert set(errors_of(excinfo)) == {"due_on"}
    update_action(session, delivery.vendor_staff, action_id,
                  action(title="Book two rooms", owner=""), expected_version=1)  # fmt: skip
    changed = meeting_view(session, SYSTEM, meeting_id, today=TODAY).meeting.actions[0]
    assert (changed.title, changed.owner, changed.version) == ("Book two rooms", None, 2)
    with pytest.raises(StaleEdit):
        update_action(session, delivery.vendor_staff, action_id, action(), expected_version=1)


def test_an_archived_contract_is_read_only(session: Session, delivery: Delivery) -> None:
    meeting_id = recorded(session, delivery)
    with session.begin():
        contract = session.get(Contract, delivery.contract_id)
        assert contract is not None
        version = contract.version
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=version)
    with pytest.raises(Conflict, match="archived"):
        recorded(session, delivery)
    with pytest.raises(Conflict, match="archived"):
        add_action(session, delivery.vendor_staff, meeting_id, action())
    view = governance_view(session, delivery.vendor_staff, delivery.contract_id, today=TODAY)
    assert view.permissions.write is False
    assert view.permissions.reason is not None
    assert view.alerts == ()


def test_a_draft_contract_has_no_meetings_yet(session: Session) -> None:
    draft = contract_in_delivery(session, code="DRAFT-1", status="draft")
    with pytest.raises(Conflict, match="once a contract is signed"):
        record_meeting(session, draft.vendor_staff, draft.contract_id, fields(), [], today=TODAY)


def test_the_view_lists_meetings_newest_first_and_open_actions_overdue_first(
    session: Session, delivery: Delivery
) -> None:
    older = record_meeting(
        session, delivery.vendor_staff, delivery.contract_id,
        fields(kind="operational", held_on="2025-03-03", title="March operations"),
        [action(due_on="2025-04-01", title="Late one"), action(due_on="2025-09-01")],
        today=TODAY,
    )  # fmt: skip
    newer = recorded(session, delivery, action(due_on="2025-07-03", title="Soon one"))
    view = governance_view(session, delivery.buyer_staff, delivery.contract_id, today=TODAY)
    assert [m.id for m in view.meetings] == [newer, older]
    assert [(a.title, a.state.state) for a in view.open_actions] == [
        ("Late one", "overdue"), ("Soon one", "due_soon"), ("Send the KPI pack", "open"),
    ]  # fmt: skip
    assert view.open_actions[0].state.days_overdue == 90
    assert (view.counts.open, view.counts.overdue, view.counts.due_soon) == (3, 1, 1)
    assert view.permissions.write is True
    # No annual review after year 3 (ended 2024-12-31); the last operational meeting was in March.
    assert [alert.code for alert in view.alerts] == ["annual_review_due", "operational_missing"]
    with session.begin():
        contract = session.get(Contract, delivery.contract_id)
        assert contract is not None
        summary = governance_summaries(session, [contract], TODAY)[delivery.contract_id]
    assert (summary.open_actions, summary.overdue_actions, len(summary.alerts)) == (3, 1, 2)


def test_the_demo_meetings_load_for_every_demo_contract(seeded: Flask) -> None:
    with new_session(seeded) as session:
        seed_meetings(session, _seed_folder(), today=date(2026, 12, 7))
        with session.begin():
            rows = dict(
                session.execute(
                    select(Contract.code, func.count(Meeting.id))
                    .join(Meeting, Meeting.contract_id == Contract.id)
                    .group_by(Contract.code)
                ).all()
            )
            guard = session.scalar(select(Contract.id).where(Contract.code == "GUARD-FR-2026"))
        assert set(rows) == {
            "SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025",
            "GUARD-FR-2026",
        }  # fmt: skip
        assert guard is not None
        view = governance_view(session, SYSTEM, guard, today=date(2026, 12, 7))
        assert view.counts.overdue >= 2
        assert any(m.kind == "operational" and "Kick-off" in m.title for m in view.meetings)
        with session.begin():
            authors = set(session.scalars(select(Meeting.updated_by)))
        assert all(author.endswith(".demo") for author in authors)
        # Loading again adds nothing.
        before = count(session, Meeting)
        seed_meetings(session, _seed_folder(), today=date(2026, 12, 7))
        assert count(session, Meeting) == before


def _seed_folder() -> Path:
    return SEED_DATA
