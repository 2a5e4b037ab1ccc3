"""The account map's services: every write, who may read and write it (a buyer never
sees the vendor's map unless it is shared), stale edits, bad input, the rating history,
and the demo data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tracker.db.account_map_models import IndicatorRating, Influence
from tracker.db.audit_models import AuditEvent
from tracker.db.models import Contract
from tracker.domain.errors import InvalidTerms
from tracker.services.access import SYSTEM, Actor
from tracker.services.account_map import share_account_map
from tracker.services.account_map_views import account_map_view
from tracker.services.account_plan import (
    add_alternative,
    add_influence,
    remove_alternative,
    remove_influence,
    update_alternative,
    update_influence,
)
from tracker.services.account_plan_actions import (
    add_plan_action,
    rate_indicator,
    update_plan_action,
)
from tracker.services.audit import contract_history
from tracker.services.contracts import set_archived
from tracker.services.errors import Conflict, Forbidden, NotFound, StaleEdit

SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"


def influence_fields(**changes: object) -> dict[str, object]:
    """A well-known economic buyer, met recently, in growth mode, rated +3."""
    return {
        "name": "Erin Economic",
        "job_title": "CFO",
        "role": "economic_buyer",
        "degree": "high",
        "mode": "growth",
        "rating": "3",
        "evidence": "Asked for the renewal terms herself",
        "win_result": "A budget she can defend to the board",
        "covered_by": "Ann (account lead)",
        "last_met_on": "2025-06-01",
        "added_on": "2022-03-01",
        **changes,
    }


def alternative_fields(**changes: object) -> dict[str, object]:
    return {"kind": "competitor", "name": "Rival Ltd", "position": "ahead", "note": "", **changes}


def action_fields(**changes: object) -> dict[str, object]:
    return {
        "title": "Quarterly breakfast with the CFO",
        "indicator": "The CFO attends the quarterly review",
        "owner": "Ann",
        "due_on": "2025-09-30",
        **changes,
    }


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session, code="MAP-1")


@pytest.fixture
def filled(session: Session, delivery: Delivery) -> dict[str, int]:
    """A map with an influence, an alternative and a rated action, by the vendor's staff."""
    vendor = delivery.vendor_staff
    influence_id = add_influence(session, vendor, delivery.contract_id, influence_fields(),
                                 today=TODAY)  # fmt: skip
    alternative_id = add_alternative(session, vendor, delivery.contract_id, alternative_fields())
    action_id = add_plan_action(
        session, vendor, delivery.contract_id,
        action_fields(influence_id=str(influence_id)), today=TODAY,
    )  # fmt: skip
    rate_indicator(session, vendor, action_id, rating="6", reviewed_on="2025-04-01", today=TODAY)
    return {"influence": influence_id, "alternative": alternative_id, "action": action_id}


def view(session: Session, actor: Actor, delivery: Delivery) -> Any:
    return account_map_view(session, actor, delivery.contract_id, today=TODAY)


def share(session: Session, delivery: Delivery, shared: bool) -> None:
    version = view(session, delivery.vendor_staff, delivery).share_version
    share_account_map(session, delivery.vendor_staff, delivery.contract_id, shared=shared,
                      expected_version=version)  # fmt: skip


def errors_of(exc: pytest.ExceptionInfo[InvalidTerms]) -> dict[str, str]:
    return {error.path: error.message for error in exc.value.errors}


# -- every write ----------------------------------------------------------------------------


def test_an_influence_added_by_vendor_staff_is_shown_in_its_role_group(
    session: Session, delivery: Delivery
) -> None:
    influence_id = add_influence(session, delivery.vendor_staff, delivery.contract_id,
                                 influence_fields(rating="-2"), today=TODAY)  # fmt: skip
    seen = view(session, delivery.vendor_staff, delivery)
    groups = {group.role: group.influences for group in seen.groups}
    assert [g.role for g in seen.groups] == [
        "economic_buyer", "user_buyer", "technical_buyer", "coach",
    ]  # fmt: skip
    (person,) = groups["economic_buyer"]
    assert (person.id, person.name, person.rating, person.rating_text) == (
        influence_id, "Erin Economic", -2, "−2",
    )  # fmt: skip
    assert person.last_met_on == date(2025, 6, 1)
    assert (person.version, person.updated_by) == (1, "vendor-staff@map-1.test")
    assert groups["coach"] == ()


def test_an_influence_without_an_added_day_is_added_today(
    session: Session, delivery: Delivery
) -> None:
    add_influence(session, delivery.vendor_staff, delivery.contract_id,
                  influence_fields(added_on=""), today=TODAY)  # fmt: skip
    (person,) = view(session, delivery.vendor_staff, delivery).influences
    assert person.added_on == TODAY
    assert "new_influence" in {flag.code for flag in view(session, SYSTEM, delivery).red_flags}


def test_updating_an_influence_changes_it_and_keeps_its_added_day_when_left_empty(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    update_influence(
        session, delivery.vendor_staff, filled["influence"],
        influence_fields(mode="even_keel", rating="-4", added_on="", covered_by=""),
        expected_version=1, today=TODAY,
    )  # fmt: skip
    (person,) = view(session, delivery.vendor_staff, delivery).influences
    assert (person.mode, person.rating, person.covered_by) == ("even_keel", -4, None)
    assert person.added_on == date(2022, 3, 1)
    assert person.version == 2


def test_removing_an_influence_leaves_the_actions_aimed_at_them_aimed_at_nobody(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    remove_influence(session, delivery.vendor_staff, filled["influence"], expected_version=1)
    seen = view(session, delivery.vendor_staff, delivery)
    assert seen.influences == ()
    (action,) = seen.actions
    assert (action.influence_id, action.influence_name) == (None, None)
    assert len(action.ratings) == 1


def test_alternatives_are_added_changed_and_removed(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    vendor = delivery.vendor_staff
    second = add_alternative(session, vendor, delivery.contract_id,
                             alternative_fields(kind="do_nothing", name="Keep the old desk",
                                                position="unknown"))  # fmt: skip
    update_alternative(session, vendor, filled["alternative"],
                       alternative_fields(position="behind", note="They cut prices"),
                       expected_version=1)  # fmt: skip
    seen = view(session, vendor, delivery)
    assert [(a.name, a.position, a.version) for a in seen.alternatives] == [
        ("Rival Ltd", "behind", 2), ("Keep the old desk", "unknown", 1),
    ]  # fmt: skip
    assert seen.alternatives[0].note == "They cut prices"
    remove_alternative(session, vendor, second, expected_version=1)
    assert [a.name for a in view(session, vendor, delivery).alternatives] == ["Rival Ltd"]


def test_plan_actions_are_added_and_changed_and_aim_only_at_influences_of_their_contract(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    vendor = delivery.vendor_staff
    update_plan_action(session, vendor, filled["action"],
                       action_fields(status="done", influence_id=""), expected_version=1,
                       today=TODAY)  # fmt: skip
    (action,) = view(session, vendor, delivery).actions
    assert (action.status, action.influence_id, action.version) == ("done", None, 2)
    other = contract_in_delivery(session, code="MAP-2")
    foreign = add_influence(session, other.vendor_staff, other.contract_id, influence_fields(),
                            today=TODAY)  # fmt: skip
    with pytest.raises(InvalidTerms) as refused:
        add_plan_action(session, vendor, delivery.contract_id,
                        action_fields(influence_id=str(foreign)), today=TODAY)  # fmt: skip
    assert errors_of(refused) == {"influence_id": "choose one of this contract's influences"}


def test_each_review_adds_a_rating_and_the_history_is_kept_latest_first_with_its_trend(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    vendor = delivery.vendor_staff
    rate_indicator(session, vendor, filled["action"], rating="4", note="Skipped the QBR",
                   reviewed_on="2025-05-15", today=TODAY)  # fmt: skip
    rate_indicator(session, vendor, filled["action"], rating=8, today=TODAY)
    (action,) = view(session, vendor, delivery).actions
    assert [(r.reviewed_on, r.rating) for r in action.ratings] == [
        (TODAY, 8), (date(2025, 5, 15), 4), (date(2025, 4, 1), 6),
    ]  # fmt: skip
    assert action.ratings[1].note == "Skipped the QBR"
    assert action.trend == "up"
    assert action.last_rated_on == TODAY
    with session.begin():
        assert session.scalar(select(func.count()).select_from(IndicatorRating)) == 3


def test_a_rating_out_of_range_in_the_future_or_of_a_dropped_action_is_refused(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    vendor = delivery.vendor_staff
    with pytest.raises(InvalidTerms) as refused:
        rate_indicator(session, vendor, filled["action"], rating="11",
                       reviewed_on="2025-07-01", today=TODAY)  # fmt: skip
    assert set(errors_of(refused)) == {"rating", "reviewed_on"}
    assert "future" in errors_of(refused)["reviewed_on"]
    with pytest.raises(InvalidTerms) as blank:
        rate_indicator(session, vendor, filled["action"], rating="", today=TODAY)
    assert errors_of(blank) == {"rating": "required"}
    update_plan_action(session, vendor, filled["action"], action_fields(status="dropped"),
                       expected_version=1, today=TODAY)  # fmt: skip
    with pytest.raises(Conflict, match="dropped"):
        rate_indicator(session, vendor, filled["action"], rating="5", today=TODAY)
    (action,) = view(session, vendor, delivery).actions
    assert len(action.ratings) == 1


def test_every_write_is_audited_without_linking_the_contract_history_to_the_map(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    share(session, delivery, True)
    with session.begin():
        events = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity.in_(["influence", "alternative", "plan_action", "account_map"])
            )
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.entity) for e in events] == [
            ("create", "influence"), ("create", "alternative"), ("create", "plan_action"),
            ("rate", "plan_action"), ("share", "account_map"),
        ]  # fmt: skip
        assert {e.actor for e in events} == {"vendor-staff@map-1.test"}
        assert all(e.contract_id is None for e in events)
        assert all(json.loads(e.after or "{}")["contract_id"] == delivery.contract_id
                   for e in events)  # fmt: skip
        assert json.loads(events[0].after or "{}")["name"] == "Erin Economic"
    # The contract's history, which the buyer reads, shows nothing of the map.
    history = contract_history(session, delivery.contract_id)
    assert not any(entry.entity in {"influence", "plan_action"} for entry in history)


# -- who may read and write -----------------------------------------------------------------


def writes(delivery: Delivery, ids: dict[str, int]) -> dict[str, Callable[[Session, Actor], Any]]:
    """Every write of the map, each aimed at the filled map of ``delivery``."""
    cid = delivery.contract_id
    return {
        "add influence": lambda s, a: add_influence(s, a, cid, influence_fields(), today=TODAY),
        "update influence": lambda s, a: update_influence(
            s, a, ids["influence"], influence_fields(), expected_version=1, today=TODAY
        ),
        "remove influence": lambda s, a: remove_influence(
            s, a, ids["influence"], expected_version=1
        ),
        "add alternative": lambda s, a: add_alternative(s, a, cid, alternative_fields()),
        "update alternative": lambda s, a: update_alternative(
            s, a, ids["alternative"], alternative_fields(), expected_version=1
        ),
        "remove alternative": lambda s, a: remove_alternative(
            s, a, ids["alternative"], expected_version=1
        ),
        "add action": lambda s, a: add_plan_action(s, a, cid, action_fields(), today=TODAY),
        "update action": lambda s, a: update_plan_action(
            s, a, ids["action"], action_fields(), expected_version=1, today=TODAY
        ),
        "rate": lambda s, a: rate_indicator(s, a, ids["action"], rating="5", today=TODAY),
        "share": lambda s, a: share_account_map(
            s, a, cid, shared=False, expected_version=view(s, SYSTEM, delivery).share_version
        ),
    }


def buyers(delivery: Delivery) -> dict[str, Actor]:
    return {
        "buyer staff": delivery.buyer_staff,
        "buyer finance": delivery.buyer_finance,
        "buyer admin": delivery.buyer_admin,
    }


def test_the_buyer_gets_not_found_on_every_read_and_write_before_the_map_is_shared(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    for actor in (*buyers(delivery).values(), delivery.outsider):
        with pytest.raises(NotFound, match=f"no contract {delivery.contract_id}$"):
            view(session, actor, delivery)
        for write in writes(delivery, filled).values():
            with pytest.raises(NotFound):
                write(session, actor)
    assert len(view(session, SYSTEM, delivery).influences) == 1


def test_a_buyer_reads_the_shared_map_but_never_writes_and_loses_it_when_unshared(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    share(session, delivery, True)
    for actor in buyers(delivery).values():
        seen = view(session, actor, delivery)
        assert [i.name for i in seen.influences] == ["Erin Economic"]
        assert seen.shared
        assert not seen.permissions.edit
        assert not seen.permissions.share
        for write in writes(delivery, filled).values():
            with pytest.raises(Forbidden, match="only staff of the vendor"):
                write(session, actor)
    with pytest.raises(NotFound):
        view(session, delivery.outsider, delivery)
    share(session, delivery, False)
    for actor in buyers(delivery).values():
        with pytest.raises(NotFound):
            view(session, actor, delivery)
        for write in writes(delivery, filled).values():
            with pytest.raises(NotFound):
                write(session, actor)
    # Nothing the refused attempts tried was written.
    seen = view(session, SYSTEM, delivery)
    assert (len(seen.influences), len(seen.alternatives), len(seen.actions[0].ratings)) == (1, 1, 1)


def test_vendor_finance_and_admin_read_the_map_but_may_not_change_it(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    for actor in (delivery.vendor_finance, delivery.vendor_admin):
        seen = view(session, actor, delivery)
        assert len(seen.influences) == 1
        assert not seen.permissions.edit
        for write in writes(delivery, filled).values():
            with pytest.raises(Forbidden):
                write(session, actor)
    assert view(session, delivery.vendor_staff, delivery).permissions.edit


def test_an_archived_contract_keeps_its_map_read_only(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    with session.begin():
        contract = session.get(Contract, delivery.contract_id)
        assert contract is not None
        version = contract.version
    set_archived(session, SYSTEM, delivery.contract_id, True, expected_version=version)
    for write in writes(delivery, filled).values():
        with pytest.raises(Conflict, match="archived"):
            write(session, delivery.vendor_staff)
    seen = view(session, delivery.vendor_staff, delivery)
    assert seen.archived
    assert len(seen.influences) == 1


# -- stale edits and bad input --------------------------------------------------------------


def test_a_change_from_an_out_of_date_page_is_refused_and_nothing_is_written(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    vendor = delivery.vendor_staff
    update_influence(session, vendor, filled["influence"], influence_fields(rating="1"),
                     expected_version=1, today=TODAY)  # fmt: skip
    stale = {
        "influence": lambda: update_influence(session, vendor, filled["influence"],
                                              influence_fields(rating="-5"),
                                              expected_version=1, today=TODAY),
        "remove influence": lambda: remove_influence(session, vendor, filled["influence"],
                                                     expected_version=1),
    }  # fmt: skip
    for attempt in stale.values():
        with pytest.raises(StaleEdit, match=r"vendor-staff@map-1\.test"):
            attempt()
    update_alternative(session, vendor, filled["alternative"], alternative_fields(),
                       expected_version=1)  # fmt: skip
    with pytest.raises(StaleEdit):
        remove_alternative(session, vendor, filled["alternative"], expected_version=1)
    update_plan_action(session, vendor, filled["action"], action_fields(), expected_version=1,
                       today=TODAY)  # fmt: skip
    with pytest.raises(StaleEdit):
        update_plan_action(session, vendor, filled["action"], action_fields(title="Old"),
                           expected_version=1, today=TODAY)  # fmt: skip
    share(session, delivery, True)
    with pytest.raises(StaleEdit):
        share_account_map(session, vendor, delivery.contract_id, shared=False,
                          expected_version=0)  # fmt: skip
    seen = view(session, vendor, delivery)
    assert (seen.influences[0].rating, seen.actions[0].title, seen.shared) == (
        1, "Quarterly breakfast with the CFO", True,
    )  # fmt: skip


def test_bad_influence_fields_are_each_refused_by_name(
    session: Session, delivery: Delivery
) -> None:
    bad = influence_fields(
        name="", role="ceo", degree="", mode="sleepy", rating="6",
        evidence="fine\x00", covered_by="Ann\x1f", last_met_on="2025-07-01",
        added_on="2019-12-31", job_title="x" * 201,
    )  # fmt: skip
    with pytest.raises(InvalidTerms) as refused:
        add_influence(session, delivery.vendor_staff, delivery.contract_id, bad, today=TODAY)
    errors = errors_of(refused)
    assert set(errors) == {
        "name", "role", "degree", "mode", "rating", "evidence", "covered_by", "last_met_on",
        "added_on", "job_title",
    }  # fmt: skip
    assert errors["name"] == "must not be empty"
    assert "economic buyer" in errors["role"]
    assert errors["degree"] == "required"
    assert "from -5 to 5" in errors["rating"]
    assert "future" in errors["last_met_on"]
    assert "2021-01-01" in errors["added_on"]
    assert "U+0000" in errors["evidence"]
    with pytest.raises(InvalidTerms) as not_a_day:
        add_influence(session, delivery.vendor_staff, delivery.contract_id,
                      influence_fields(last_met_on="2025-02-30", rating=""),
                      today=TODAY)  # fmt: skip
    assert errors_of(not_a_day) == {
        "last_met_on": '"2025-02-30" is not a calendar date', "rating": "required",
    }  # fmt: skip
    assert view(session, SYSTEM, delivery).influences == ()


def test_bad_alternative_and_action_fields_are_refused_by_name(
    session: Session, delivery: Delivery
) -> None:
    with pytest.raises(InvalidTerms) as alternative:
        add_alternative(session, delivery.vendor_staff, delivery.contract_id,
                        alternative_fields(kind="partner", name=" ", position="far"))  # fmt: skip
    assert set(errors_of(alternative)) == {"kind", "name", "position"}
    with pytest.raises(InvalidTerms) as action:
        add_plan_action(
            session, delivery.vendor_staff, delivery.contract_id,
            action_fields(title="", indicator="", due_on="2028-06-01", status="maybe",
                          influence_id="abc"),
            today=TODAY,
        )  # fmt: skip
    assert set(errors_of(action)) == {"title", "indicator", "due_on", "status", "influence_id"}
    seen = view(session, SYSTEM, delivery)
    assert (seen.alternatives, seen.actions) == ((), ())


def test_records_of_no_map_are_not_found(session: Session, delivery: Delivery) -> None:
    with pytest.raises(NotFound, match="no influence 999"):
        update_influence(session, delivery.vendor_staff, 999, influence_fields(),
                         expected_version=1)  # fmt: skip
    with pytest.raises(NotFound, match="no plan action 999"):
        rate_indicator(session, delivery.vendor_staff, 999, rating="5")
    with pytest.raises(NotFound, match="no contract 999"):
        account_map_view(session, delivery.vendor_staff, 999)


# -- red flags in the view ------------------------------------------------------------------


def test_the_view_lists_the_red_flags_of_the_map_on_the_day_asked(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    today_flags = [flag.code for flag in view(session, SYSTEM, delivery).red_flags]
    assert today_flags == ["no_coach"]
    later = account_map_view(session, SYSTEM, delivery.contract_id,
                             today=TODAY + timedelta(days=120))  # fmt: skip
    assert [flag.code for flag in later.red_flags] == [
        "economic_buyer_not_covered", "no_coach", "indicator_not_rerated",
    ]  # fmt: skip


def statements_of_a_view(session: Session, delivery: Delivery) -> int:
    count = 0

    def counted(*_args: object) -> None:
        nonlocal count
        count += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", counted)
    try:
        view(session, delivery.vendor_staff, delivery)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_the_map_is_read_in_the_same_number_of_statements_however_large_it_is(
    session: Session, delivery: Delivery, filled: dict[str, int]
) -> None:
    small = statements_of_a_view(session, delivery)
    vendor = delivery.vendor_staff
    for n in range(4):
        influence_id = add_influence(session, vendor, delivery.contract_id,
                                     influence_fields(name=f"P{n}"), today=TODAY)  # fmt: skip
        add_alternative(session, vendor, delivery.contract_id, alternative_fields(name=f"A{n}"))
        action_id = add_plan_action(session, vendor, delivery.contract_id,
                                    action_fields(influence_id=str(influence_id)),
                                    today=TODAY)  # fmt: skip
        for rating in ("3", "5"):
            rate_indicator(session, vendor, action_id, rating=rating, today=TODAY)
    assert statements_of_a_view(session, delivery) == small <= 6


# -- demo data ------------------------------------------------------------------------------

DEMO_DAY = date(2026, 12, 7)
DEMO_CODES = ("SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025",
              "GUARD-FR-2026")  # fmt: skip


@pytest.fixture
def demo_maps(seeded: Flask, session: Session) -> dict[str, Any]:
    from tracker.services.seed_account_map import seed_account_map

    seed_account_map(session, SEED_DATA, today=DEMO_DAY)
    with session.begin():
        ids = dict(session.execute(select(Contract.code, Contract.id)).all())
    return {code: account_map_view(session, SYSTEM, ids[code], today=DEMO_DAY)
            for code in DEMO_CODES}  # fmt: skip


def test_every_demo_contract_gets_a_believable_map_with_at_least_one_red_flag(
    demo_maps: dict[str, Any],
) -> None:
    for code, seen in demo_maps.items():
        assert len(seen.influences) >= 3, code
        assert {a.kind for a in seen.alternatives} == {"competitor", "in_house", "do_nothing"}
        assert all(a.position for a in seen.alternatives)
        assert 2 <= len(seen.actions) <= 3, code
        assert all(2 <= len(a.ratings) <= 4 for a in seen.actions), code
        assert seen.red_flags, code


def test_the_demo_onboarding_contract_is_in_trouble_and_only_one_map_is_shared(
    demo_maps: dict[str, Any],
) -> None:
    guard = demo_maps["GUARD-FR-2026"]
    codes = {flag.code for flag in guard.red_flags}
    assert {"no_coach", "economic_buyer_mode", "economic_buyer_not_covered", "low_rating"} <= codes
    (economic,) = [i for i in guard.influences if i.role == "economic_buyer"]
    assert economic.mode == "even_keel"
    assert any(i.role == "user_buyer" and i.rating == -4 for i in guard.influences)
    assert [code for code, seen in demo_maps.items() if seen.shared] == ["SD-FR-2024"]


def test_the_demo_maps_are_written_by_the_vendors_demo_staff_and_seeding_twice_adds_nothing(
    demo_maps: dict[str, Any], session: Session
) -> None:
    from tracker.services.seed_account_map import seed_account_map

    sd = demo_maps["SD-FR-2024"]
    assert {i.updated_by for i in sd.influences} == {"staff@nordlys-it.demo"}
    with session.begin():
        before = session.scalar(select(func.count()).select_from(Influence))
    seed_account_map(session, SEED_DATA, today=DEMO_DAY)
    with session.begin():
        assert session.scalar(select(func.count()).select_from(Influence)) == before
