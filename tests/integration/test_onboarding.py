"""The onboarding plan's services: the template, milestone changes and their states on
pinned days, permissions, stale and bad edits, and the portfolio of contracts in
onboarding with its fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery
from flask import Flask
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.followup_models import ContractFollowUp, Milestone
from tracker.db.models import Contract
from tracker.db.session import new_session
from tracker.domain.errors import InvalidTerms
from tracker.domain.onboarding import TEMPLATE
from tracker.services.access import SYSTEM, Actor
from tracker.services.contracts import set_archived
from tracker.services.errors import Conflict, Forbidden, NotFound, StaleEdit
from tracker.services.onboarding import (
    add_milestone,
    apply_template,
    set_milestone_status,
    update_milestone,
)
from tracker.services.onboarding_views import (
    milestone_view,
    onboarding_portfolio,
    onboarding_view,
)
from tracker.services.seed import SEED_DATA
from tracker.services.seed_onboarding import seed_onboarding

#: Day 0 of the plans made here: 29 days before TODAY (2025-06-30).
DAY_0 = date(2025, 6, 1)


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session, code="ONB-1")


def planned(session: Session, delivery: Delivery, start_on: object = DAY_0) -> dict[str, int]:
    """The template applied from ``start_on`` by the vendor's staff: milestone ids by key."""
    apply_template(session, delivery.vendor_staff, delivery.contract_id, start_on=start_on)
    view = onboarding_view(session, SYSTEM, delivery.contract_id, today=TODAY)
    by_title = {line.title: line.id for line in view.milestones}
    return {step.key: by_title[step.title] for step in TEMPLATE}


def stored(session: Session, milestone_id: int) -> Milestone:
    with session.begin():
        milestone = session.get(Milestone, milestone_id, populate_existing=True)
        assert milestone is not None
        session.expunge(milestone)
        return milestone


def set_signed_on(session: Session, contract_id: int, signed_on: date) -> None:
    with session.begin():
        session.add(
            ContractFollowUp(
                contract_id=contract_id, signed_on=signed_on, updated_at=datetime.now(UTC),
                updated_by="test", version=1,
            )
        )  # fmt: skip


def errors_of(exc: pytest.ExceptionInfo[InvalidTerms]) -> dict[str, str]:
    return {error.path: error.message for error in exc.value.errors}


# -- the template ------------------------------------------------------------------------


def test_the_template_plans_every_step_from_the_contracts_start_by_default(
    session: Session, delivery: Delivery
) -> None:
    applied = apply_template(session, delivery.vendor_staff, delivery.contract_id, today=TODAY)
    assert applied.created == len(TEMPLATE)
    assert applied.start_on == date(2022, 1, 1)
    assert applied.late == len(TEMPLATE)  # all due in 2022, long before TODAY
    view = onboarding_view(session, delivery.buyer_staff, delivery.contract_id, today=TODAY)
    assert [(m.title, m.owner_side, m.due_on) for m in view.milestones] == [
        (s.title, s.owner_side, date(2022, 1, 1) + timedelta(days=s.day)) for s in TEMPLATE
    ]
    assert {m.status for m in view.milestones} == {"planned"}
    assert (view.day_zero, view.day_zero_source) == (date(2022, 1, 1), "start of the service")


def test_the_template_counts_from_a_signature_after_the_start(
    session: Session, delivery: Delivery
) -> None:
    set_signed_on(session, delivery.contract_id, date(2022, 1, 15))
    applied = apply_template(session, delivery.buyer_staff, delivery.contract_id)
    assert applied.start_on == date(2022, 1, 15)
    view = onboarding_view(session, delivery.buyer_staff, delivery.contract_id, today=TODAY)
    assert (view.day_zero, view.day_zero_source) == (date(2022, 1, 15), "signature")
    assert view.milestones[-1].due_on == date(2022, 4, 25)


def test_a_signature_before_the_start_counts_from_the_start(
    session: Session, delivery: Delivery
) -> None:
    set_signed_on(session, delivery.contract_id, date(2021, 11, 15))
    applied = apply_template(session, delivery.buyer_staff, delivery.contract_id)
    assert applied.start_on == date(2022, 1, 1)


def test_the_template_is_refused_once_the_contract_has_milestones(
    session: Session, delivery: Delivery
) -> None:
    add_milestone(session, delivery.vendor_staff, delivery.contract_id, title="Badges issued",
                  owner_side="buyer", due_on="2025-06-10")  # fmt: skip
    with pytest.raises(Conflict, match="already has an onboarding plan"):
        apply_template(session, delivery.vendor_staff, delivery.contract_id)
    view = onboarding_view(session, SYSTEM, delivery.contract_id, today=TODAY)
    assert [m.title for m in view.milestones] == ["Badges issued"]


@pytest.mark.parametrize(
    ("start_on", "message"),
    [("2025-02-30", "not a calendar date"), ("1.6.2025", "YYYY-MM-DD"), ("2019-06-01", "from")],
)
def test_a_bad_template_start_is_refused_on_its_field_and_plans_nothing(
    session: Session, delivery: Delivery, start_on: str, message: str
) -> None:
    with pytest.raises(InvalidTerms) as refused:
        apply_template(session, delivery.vendor_staff, delivery.contract_id, start_on=start_on)
    assert message in errors_of(refused)["start_on"]
    assert onboarding_view(session, SYSTEM, delivery.contract_id).milestones == ()


# -- states on pinned days -------------------------------------------------------------------


def test_milestone_states_and_the_summary_follow_the_day_read(
    session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    set_milestone_status(session, delivery.buyer_staff, ids["kickoff"], "done",
                         expected_version=1, done_on="2025-06-01", today=TODAY)  # fmt: skip
    view = onboarding_view(session, delivery.buyer_finance, delivery.contract_id, today=TODAY)
    states = {m.id: m.state for m in view.milestones}
    assert states[ids["kickoff"]].kind == "done"
    assert states[ids["charter"]].kind == "late"
    assert states[ids["charter"]].days_late == 29
    assert states[ids["knowledge_transfer"]].label == "late by 8 days"
    assert states[ids["baseline"]].label == "due in 1 day"
    assert states[ids["service_live"]].kind == "on track"
    summary = view.summary
    assert (summary.total, summary.done, summary.late, summary.due_soon) == (13, 1, 4, 2)
    # Day 0 is the contract's (its start), whatever day the template was planned from.
    assert summary.days_since_signature == (TODAY - date(2022, 1, 1)).days
    assert not summary.in_first_100_days
    later = onboarding_view(session, SYSTEM, delivery.contract_id, today=date(2025, 9, 10))
    assert later.summary.late == 12


def test_milestones_are_listed_by_due_day(session: Session, delivery: Delivery) -> None:
    for title, due in (("Later", "2025-08-01"), ("Sooner", "2025-06-05"), ("Middle", "2025-07-01")):
        add_milestone(session, delivery.vendor_staff, delivery.contract_id, title=title,
                      owner_side="vendor", due_on=due)  # fmt: skip
    view = onboarding_view(session, SYSTEM, delivery.contract_id, today=TODAY)
    assert [m.title for m in view.milestones] == ["Sooner", "Middle", "Later"]


# -- changing milestones -------------------------------------------------------------------


def test_a_milestone_is_added_edited_and_each_change_audited(
    session: Session, delivery: Delivery
) -> None:
    milestone_id = add_milestone(
        session, delivery.buyer_staff, delivery.contract_id, title="  Site badges issued ",
        owner_side="buyer", due_on="2025-06-20", note="Forty sites\nsecurity desk first",
    )  # fmt: skip
    update_milestone(session, delivery.vendor_staff, milestone_id, title="Site badges for all",
                     owner_side="buyer", due_on=date(2025, 7, 4), note="",
                     expected_version=1)  # fmt: skip
    milestone = stored(session, milestone_id)
    assert (milestone.title, milestone.due_on, milestone.note) == (
        "Site badges for all", date(2025, 7, 4), None,
    )  # fmt: skip
    assert (milestone.version, milestone.updated_by) == (2, delivery.vendor_staff.label)
    with session.begin():
        events = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity == "milestone")
            .order_by(AuditEvent.id)
        ).all()
    assert events == ["create", "update"]


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"title": ""}, "title"),
        ({"title": "Bell\x07"}, "title"),
        ({"owner_side": "both"}, "owner_side"),
        ({"due_on": ""}, "due_on"),
        ({"due_on": "2025-13-01"}, "due_on"),
        ({"due_on": "2020-12-31"}, "due_on"),  # over a year before the start (2022-01-01)
        ({"due_on": "2028-01-01"}, "due_on"),  # over a year after the end (2026-12-31)
        ({"note": "nul\x00"}, "note"),
    ],
)
def test_bad_milestone_fields_are_refused_on_their_field(
    session: Session, delivery: Delivery, fields: dict[str, object], path: str
) -> None:
    values: dict[str, Any] = {"title": "Badges", "owner_side": "buyer", "due_on": "2025-06-20"}
    with pytest.raises(InvalidTerms) as refused:
        add_milestone(session, delivery.vendor_staff, delivery.contract_id, **{**values, **fields})
    assert set(errors_of(refused)) == {path}
    assert onboarding_view(session, SYSTEM, delivery.contract_id).milestones == ()


def test_a_stale_edit_is_refused_naming_who_changed_it(
    session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    update_milestone(session, delivery.buyer_staff, ids["access"], title="Access and badges",
                     owner_side="buyer", due_on="2025-06-15", expected_version=1)  # fmt: skip
    with pytest.raises(StaleEdit, match=delivery.buyer_staff.label):
        set_milestone_status(session, delivery.vendor_staff, ids["access"], "done",
                             expected_version=1, today=TODAY)  # fmt: skip
    assert stored(session, ids["access"]).status == "planned"


def test_done_defaults_to_today_and_refuses_a_day_in_the_future(
    session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    with pytest.raises(InvalidTerms) as refused:
        set_milestone_status(session, delivery.vendor_staff, ids["plan"], "done",
                             expected_version=1, done_on="2025-07-01", today=TODAY)  # fmt: skip
    assert "no later than today (2025-06-30)" in errors_of(refused)["done_on"]
    set_milestone_status(session, delivery.vendor_staff, ids["plan"], "done",
                         expected_version=1, today=TODAY)  # fmt: skip
    assert (stored(session, ids["plan"]).status, stored(session, ids["plan"]).done_on) == (
        "done", TODAY,
    )  # fmt: skip


def test_reopening_a_done_milestone_clears_its_done_day(
    session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    set_milestone_status(session, delivery.vendor_staff, ids["plan"], "in_progress",
                         expected_version=1, today=TODAY)  # fmt: skip
    set_milestone_status(session, delivery.vendor_staff, ids["plan"], "done",
                         expected_version=2, done_on="2025-06-09", today=TODAY)  # fmt: skip
    assert stored(session, ids["plan"]).done_on == date(2025, 6, 9)
    set_milestone_status(session, delivery.buyer_staff, ids["plan"], "planned",
                         expected_version=3, today=TODAY)  # fmt: skip
    milestone = stored(session, ids["plan"])
    assert (milestone.status, milestone.done_on) == ("planned", None)


def test_dropping_needs_the_reason_which_becomes_the_note(
    session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    with pytest.raises(InvalidTerms) as refused:
        set_milestone_status(session, delivery.vendor_staff, ids["first_pulse"], "dropped",
                             expected_version=1, note="  ")  # fmt: skip
    assert errors_of(refused) == {"note": "required"}
    set_milestone_status(session, delivery.vendor_staff, ids["first_pulse"], "dropped",
                         expected_version=1, note="Merged into the quarterly review")  # fmt: skip
    milestone = stored(session, ids["first_pulse"])
    assert (milestone.status, milestone.note) == ("dropped", "Merged into the quarterly review")
    view = onboarding_view(session, SYSTEM, delivery.contract_id, today=date(2026, 1, 1))
    assert next(m for m in view.milestones if m.id == ids["first_pulse"]).state.kind == "dropped"


def test_moves_outside_the_allowed_paths_are_refused(session: Session, delivery: Delivery) -> None:
    ids = planned(session, delivery)
    set_milestone_status(session, delivery.vendor_staff, ids["plan"], "dropped",
                         expected_version=1, note="Not needed")  # fmt: skip
    with pytest.raises(Conflict, match="dropped cannot become done"):
        set_milestone_status(session, delivery.vendor_staff, ids["plan"], "done",
                             expected_version=2, today=TODAY)  # fmt: skip
    with pytest.raises(InvalidTerms):
        set_milestone_status(session, delivery.vendor_staff, ids["plan"], "finished",
                             expected_version=2)  # fmt: skip
    with pytest.raises(Conflict, match="planned cannot become planned"):
        set_milestone_status(session, delivery.vendor_staff, ids["access"], "planned",
                             expected_version=1)  # fmt: skip


# -- who may do what -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["buyer_finance", "buyer_admin", "vendor_finance", "vendor_admin"])
def test_finance_and_admin_read_the_plan_but_change_nothing(
    session: Session, delivery: Delivery, who: str
) -> None:
    ids = planned(session, delivery)
    actor: Actor = getattr(delivery, who)
    view = onboarding_view(session, actor, delivery.contract_id, today=TODAY)
    assert len(view.milestones) == len(TEMPLATE)
    assert view.permissions.writable
    assert not view.permissions.edit
    with pytest.raises(Forbidden):
        add_milestone(session, actor, delivery.contract_id, title="X", owner_side="buyer",
                      due_on="2025-06-20")  # fmt: skip
    with pytest.raises(Forbidden):
        set_milestone_status(session, actor, ids["plan"], "done", expected_version=1)
    with pytest.raises(Forbidden):
        update_milestone(session, actor, ids["plan"], title="X", owner_side="buyer",
                         due_on="2025-06-20", expected_version=1)  # fmt: skip
    with pytest.raises(Forbidden):
        apply_template(session, actor, delivery.contract_id)


def test_an_outsider_is_told_the_contract_and_its_milestones_do_not_exist(
    session: Session, delivery: Delivery
) -> None:
    ids = planned(session, delivery)
    outsider = delivery.outsider
    with pytest.raises(NotFound):
        onboarding_view(session, outsider, delivery.contract_id)
    with pytest.raises(NotFound, match="no milestone"):
        milestone_view(session, outsider, ids["plan"])
    with pytest.raises(NotFound):
        apply_template(session, outsider, delivery.contract_id)
    with pytest.raises(NotFound):
        add_milestone(session, outsider, delivery.contract_id, title="X", owner_side="buyer",
                      due_on="2025-06-20")  # fmt: skip
    with pytest.raises(NotFound, match="no milestone"):
        set_milestone_status(session, outsider, ids["plan"], "done", expected_version=1)
    with pytest.raises(NotFound, match="no milestone"):
        update_milestone(session, outsider, 999_999, title="X", owner_side="buyer",
                         due_on="2025-06-20", expected_version=1)  # fmt: skip
    assert onboarding_portfolio(session, outsider, today=TODAY) == ()


def test_an_archived_contracts_plan_is_read_only(session: Session, delivery: Delivery) -> None:
    ids = planned(session, delivery)
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=1)
    view = onboarding_view(session, delivery.vendor_staff, delivery.contract_id)
    assert not view.permissions.edit
    assert "archived" in (view.permissions.read_only_reason or "")
    with pytest.raises(Conflict, match="archived"):
        set_milestone_status(session, delivery.vendor_staff, ids["plan"], "done",
                             expected_version=1)  # fmt: skip
    with pytest.raises(Conflict, match="archived"):
        add_milestone(session, delivery.vendor_staff, delivery.contract_id, title="X",
                      owner_side="buyer", due_on="2025-06-20")  # fmt: skip


@pytest.mark.parametrize(("status", "reason"), [("closed", "closed"), ("draft", "signed")])
def test_a_closed_or_unsigned_contract_gets_no_plan(
    session: Session, status: str, reason: str
) -> None:
    delivery = contract_in_delivery(session, code=f"ONB-{status}", status=status)
    with pytest.raises(Conflict, match=reason):
        apply_template(session, delivery.vendor_staff, delivery.contract_id)
    view = onboarding_view(session, delivery.vendor_staff, delivery.contract_id)
    assert reason in (view.permissions.read_only_reason or "")


# -- the onboarding portfolio --------------------------------------------------------------


def onboarding_contract(session: Session, code: str, start: date, status: str) -> Delivery:
    """A contract of its own parties, starting on ``start``."""
    return contract_in_delivery(
        session, code=code, status=status, start_date=start.isoformat(), accounts_too=False,
        buyer=f"Buyer of {code}", vendor=f"Vendor of {code}",
    )  # fmt: skip


def test_the_portfolio_lists_contracts_in_onboarding_most_late_first(session: Session) -> None:
    calm = onboarding_contract(session, "CALM", date(2025, 6, 20), "active")  # day 10
    troubled = onboarding_contract(session, "TROUBLED", date(2025, 4, 1), "onboarding")  # day 90
    old = onboarding_contract(session, "OLD", date(2022, 1, 1), "active")
    slow = onboarding_contract(session, "SLOW", date(2024, 1, 1), "onboarding")  # past day 100
    for delivery in (calm, troubled, old, slow):
        apply_template(session, SYSTEM, delivery.contract_id)
    rows = onboarding_portfolio(session, SYSTEM, today=TODAY)
    assert [row.code for row in rows] == ["SLOW", "TROUBLED", "CALM"]
    slow_row, troubled_row, calm_row = rows
    assert slow_row.summary.late == 13
    assert not slow_row.summary.in_first_100_days
    # Day 90: everything up to day 75 is late, the quarterly review is due today.
    assert (troubled_row.summary.late, troubled_row.summary.due_soon) == (11, 1)
    assert troubled_row.summary.days_since_signature == 90
    assert troubled_row.latest_late is not None
    assert troubled_row.latest_late.title == "Stabilisation review"
    assert troubled_row.latest_late.days_late == 15
    assert [m.days_late for m in troubled_row.late] == sorted(
        m.days_late for m in troubled_row.late
    )
    # Day 10: days 0 and 7 are late, the access (day 14) is due soon.
    assert (calm_row.summary.late, calm_row.summary.due_soon) == (3, 1)
    assert calm_row.latest_late is not None
    assert calm_row.latest_late.title == "Joint onboarding plan agreed"
    assert (calm_row.buyer, calm_row.vendor) == ("Buyer of CALM", "Vendor of CALM")


def test_the_portfolio_shows_only_the_readers_contracts(session: Session) -> None:
    mine = onboarding_contract(session, "MINE", date(2025, 6, 1), "onboarding")
    onboarding_contract(session, "THEIRS", date(2025, 6, 1), "onboarding")
    rows = onboarding_portfolio(session, mine.buyer_finance, today=TODAY)
    assert [row.code for row in rows] == ["MINE"]
    assert rows[0].summary.total == 0


def test_the_portfolio_leaves_out_archived_contracts(session: Session) -> None:
    gone = onboarding_contract(session, "GONE", date(2025, 6, 1), "onboarding")
    set_archived(session, SYSTEM, gone.contract_id, True, expected_version=1)
    assert onboarding_portfolio(session, SYSTEM, today=TODAY) == ()


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_the_portfolio_costs_the_same_queries_for_one_contract_as_for_five(
    session: Session, statements: list[str]
) -> None:
    def measured() -> int:
        statements.clear()
        onboarding_portfolio(session, SYSTEM, today=TODAY)
        return len(statements)

    first = onboarding_contract(session, "Q-0", date(2025, 6, 1), "onboarding")
    apply_template(session, SYSTEM, first.contract_id)
    one = measured()
    for number in range(1, 5):
        other = onboarding_contract(session, f"Q-{number}", date(2025, 5, number), "onboarding")
        apply_template(session, SYSTEM, other.contract_id)
    assert len(onboarding_portfolio(session, SYSTEM, today=TODAY)) == 5
    assert measured() == one
    assert one <= 4


def test_the_day_zero_of_the_portfolio_is_the_signature_when_known(session: Session) -> None:
    # Started over 100 days ago, but signed within them: still in its first 100 days.
    late_start = onboarding_contract(session, "SIGNED-LATE", date(2025, 1, 1), "active")
    set_signed_on(session, late_start.contract_id, date(2025, 6, 10))
    rows = onboarding_portfolio(session, SYSTEM, today=TODAY)
    assert [(row.code, row.day_zero) for row in rows] == [("SIGNED-LATE", date(2025, 6, 10))]
    with session.begin():
        assert session.get(Contract, late_start.contract_id) is not None


# -- the demo ------------------------------------------------------------------------------

#: A day in GUARD-FR-2026's first 100 days (day 97), after every change the file names.
DEMO_DAY = date(2026, 12, 7)
SIX = ("SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025",
       "GUARD-FR-2026")  # fmt: skip


def demo_views(session: Session) -> dict[str, Any]:
    with session.begin():
        ids = {row.code: row.id for row in session.execute(select(Contract.code, Contract.id))}
    return {code: onboarding_view(session, SYSTEM, ids[code], today=DEMO_DAY) for code in SIX}


def test_the_demo_gives_every_contract_in_delivery_its_onboarding_plan_once(
    seeded: Flask,
) -> None:
    with new_session(seeded) as session:
        seed_onboarding(session, SEED_DATA, today=DEMO_DAY)
        views = demo_views(session)
        seed_onboarding(session, SEED_DATA, today=DEMO_DAY)
        assert demo_views(session) == views
        for code in SIX[:5]:
            summary = views[code].summary
            assert summary.total >= len(TEMPLATE), code
            assert summary.late == 0, code
            assert summary.done >= summary.total - summary.dropped - 1, code
        desk = {m.title: m for m in views["SD-FR-2024"].milestones}
        transfer = desk["Knowledge transfer complete"]
        assert transfer.done_on == date(2024, 1, 25)
        assert transfer.updated_by == "staff@nordlys-it.demo"
        assert desk["First pulse check of the relationship"].status == "dropped"
        assert "Self-service password reset live for every user" in desk


def test_the_demo_guarding_contract_is_in_its_first_100_days_and_in_trouble(
    seeded: Flask,
) -> None:
    with new_session(seeded) as session:
        seed_onboarding(session, SEED_DATA, today=DEMO_DAY)
        guard = demo_views(session)["GUARD-FR-2026"]
        assert guard.summary.in_first_100_days
        assert guard.summary.days_since_signature == 97
        late = {m.title: m for m in guard.milestones if m.state.kind == "late"}
        assert {
            "Knowledge transfer complete",
            "Service live for the first sites and users",
            "Baseline measurements agreed",
        } <= set(late)
        assert "Not agreed" in (late["Baseline measurements agreed"].note or "")
        assert late["Knowledge transfer complete"].status == "in_progress"
        rows = onboarding_portfolio(session, SYSTEM, today=DEMO_DAY)
        assert rows[0].code == "GUARD-FR-2026"
        assert rows[0].summary.late >= 3
        assert rows[0].summary.due_soon == 1


def test_the_demo_leaves_out_what_lies_after_the_day_it_runs(seeded: Flask) -> None:
    with new_session(seeded) as session:
        with session.begin():
            session.execute(delete(Milestone))
        seed_onboarding(session, SEED_DATA, today=date(2026, 9, 20))  # GUARD's day 19
        guard = demo_views(session)["GUARD-FR-2026"]
        done = [m.title for m in guard.milestones if m.status == "done"]
        assert len(done) == 4  # kick-off, charter, plan, access: done by day 19
        by_title = {m.title: m for m in guard.milestones}
        assert by_title["Knowledge transfer complete"].status == "in_progress"  # since day 14
        live = by_title["Service live for the first sites and users"]  # started on day 40
        assert (live.status, live.note) == ("planned", None)
        assert by_title["Baseline measurements agreed"].note is None  # noted on its due day, 30
