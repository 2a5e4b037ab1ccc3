"""The lifecycle services: moves and their rules, the lifecycle dates and alerts,
amendments that keep closed years and earlier rows as they were, permissions, and the
demo lifecycle."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery, fixed_terms
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.delivery_models import DeliveryYear
from tracker.db.followup_models import ContractAmendment, ContractFollowUp, ContractMove
from tracker.db.models import Contract, ContractYear
from tracker.db.session import new_session
from tracker.domain.errors import InvalidTerms
from tracker.domain.schedule import compute_schedule
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals
from tracker.services.amendments import amend_terms, amendment_view
from tracker.services.contracts import contract_view, set_archived
from tracker.services.errors import Conflict, Forbidden, NotFound, StaleEdit
from tracker.services.lifecycle import lifecycle_view, move_contract, set_lifecycle_dates
from tracker.services.year_close import close_year

#: The fixed-5y contract runs from 2022-01-01 to 2026-12-31.
END = date(2026, 12, 31)


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session)


def version(session: Session, delivery: Delivery) -> int:
    with session.begin():
        contract = session.get(Contract, delivery.contract_id, populate_existing=True)
        assert contract is not None
        return contract.version


def status(session: Session, delivery: Delivery) -> str:
    with session.begin():
        contract = session.get(Contract, delivery.contract_id, populate_existing=True)
        assert contract is not None
        return contract.status


def move(session: Session, delivery: Delivery, to: str, day: date = TODAY, **kwargs: Any) -> int:
    actor = kwargs.pop("actor", delivery.vendor_staff)
    return move_contract(
        session, actor, delivery.contract_id, to, effective_on=day.isoformat(),
        expected_version=version(session, delivery), today=kwargs.pop("today", TODAY), **kwargs,
    )  # fmt: skip


def audit_count(session: Session) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def errors_of(exc: pytest.ExceptionInfo[InvalidTerms]) -> dict[str, str]:
    return {error.path: error.message for error in exc.value.errors}


# -- moves -------------------------------------------------------------------------


def test_a_draft_contract_walks_through_its_whole_lifecycle(session: Session) -> None:
    d = contract_in_delivery(session, status="draft")
    steps = [("negotiation", date(2021, 6, 1)), ("draft", date(2021, 7, 1)),
             ("negotiation", date(2021, 8, 1)), ("signed", date(2021, 11, 15)),
             ("onboarding", date(2022, 1, 1)), ("active", date(2022, 4, 10)),
             ("renewal", date(2025, 1, 5)), ("active", date(2025, 3, 1))]  # fmt: skip
    for to, day in steps:
        move(session, d, to, day)
        assert status(session, d) == to
    move(session, d, "closed", END, closed_reason="expired", today=END)
    view = lifecycle_view(session, d.vendor_staff, d.contract_id, today=END)
    assert view.status == "closed"
    assert view.closed_reason == "expired"
    assert view.signed_on == date(2021, 11, 15)
    assert [m.to_status for m in view.moves] == ["closed", *reversed([s for s, _ in steps])]
    assert view.moves[-1].from_status == "draft"
    assert view.moves[0].by == d.vendor_staff.label
    assert view.allowed == ()


@pytest.mark.parametrize(
    ("start", "to"),
    [("draft", "signed"), ("active", "onboarding"), ("active", "draft"), ("signed", "active"),
     ("onboarding", "renewal"), ("draft", "closed"), ("negotiation", "closed"),
     ("active", "active"), ("active", "nowhere")],
)  # fmt: skip
def test_a_move_that_is_not_allowed_is_refused_naming_the_allowed_ones(
    session: Session, start: str, to: str
) -> None:
    d = contract_in_delivery(session, status=start)
    before = audit_count(session)
    with pytest.raises(Conflict, match="it may move to"):
        move(session, d, to, date(2022, 1, 1))
    assert status(session, d) == start
    assert audit_count(session) == before


def test_a_closed_contract_cannot_move_again(session: Session) -> None:
    d = contract_in_delivery(session)
    move(session, d, "closed", closed_reason="terminated")
    with pytest.raises(Conflict, match="cannot move any more"):
        move(session, d, "active")


def test_a_move_to_signed_records_the_signature_day(
    session: Session,
) -> None:
    d = contract_in_delivery(session, status="negotiation")
    move(session, d, "signed", date(2021, 12, 3))
    with session.begin():
        row = session.get(ContractFollowUp, d.contract_id)
        assert row is not None
        assert row.signed_on == date(2021, 12, 3)
        assert row.updated_by == d.vendor_staff.label


def test_a_move_is_stored_with_its_day_reason_and_author_and_audited(
    session: Session, delivery: Delivery
) -> None:
    move(session, delivery, "renewal", date(2025, 6, 1), actor=delivery.buyer_staff,
         reason="Renewal talks opened\nat the steering committee")  # fmt: skip
    with session.begin():
        stored = session.scalars(select(ContractMove)).one()
        assert (stored.from_status, stored.to_status) == ("active", "renewal")
        assert stored.effective_on == date(2025, 6, 1)
        assert stored.reason == "Renewal talks opened\nat the steering committee"
        assert stored.by == delivery.buyer_staff.label
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert event.action == "move"


def test_closing_needs_a_reason_and_expires_only_from_the_end_date(
    session: Session, delivery: Delivery
) -> None:
    with pytest.raises(InvalidTerms) as exc:
        move(session, delivery, "closed")
    assert errors_of(exc) == {"closed_reason": "expected one of expired, terminated"}
    with pytest.raises(InvalidTerms) as exc:
        move(session, delivery, "closed", closed_reason="expired")
    assert "terminated" in errors_of(exc)["closed_reason"]
    move(session, delivery, "closed", closed_reason="terminated", reason="Depot sold")
    with session.begin():
        row = session.get(ContractFollowUp, delivery.contract_id)
        assert row is not None
        assert row.closed_reason == "terminated"


def test_a_reason_for_closing_is_refused_on_other_moves(
    session: Session, delivery: Delivery
) -> None:
    with pytest.raises(InvalidTerms) as exc:
        move(session, delivery, "renewal", closed_reason="expired")
    assert set(errors_of(exc)) == {"closed_reason"}


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2025-07-01", "today (2025-06-30) or earlier"),
        ("2020-12-31", "expected 2021-01-01 or later"),
        ("2025-02-30", "is not a calendar date"),
        ("next week", "expected a date written YYYY-MM-DD"),
        (None, "required"),
    ],
)
def test_the_effective_day_must_be_a_real_day_not_after_today(
    session: Session, delivery: Delivery, day: str | None, message: str
) -> None:
    with pytest.raises(InvalidTerms) as exc:
        move_contract(
            session, delivery.vendor_staff, delivery.contract_id, "renewal", effective_on=day,
            expected_version=version(session, delivery), today=TODAY,
        )  # fmt: skip
    assert message in errors_of(exc)["effective_on"]
    assert status(session, delivery) == "active"


def test_a_move_is_not_dated_before_the_previous_one(session: Session, delivery: Delivery) -> None:
    move(session, delivery, "renewal", date(2025, 5, 1))
    with pytest.raises(InvalidTerms, match="previous move"):
        move(session, delivery, "active", date(2025, 4, 30))
    move(session, delivery, "active", date(2025, 5, 1))


def test_a_reason_with_control_characters_is_refused(session: Session, delivery: Delivery) -> None:
    with pytest.raises(InvalidTerms) as exc:
        move(session, delivery, "renewal", reason="talks\x00opened")
    assert "control character" in errors_of(exc)["reason"]


def test_a_stale_move_is_refused_and_changes_nothing(session: Session, delivery: Delivery) -> None:
    stale = version(session, delivery)
    move(session, delivery, "renewal")
    with pytest.raises(StaleEdit):
        move_contract(
            session, delivery.buyer_staff, delivery.contract_id, "active",
            effective_on=TODAY.isoformat(), expected_version=stale, today=TODAY,
        )  # fmt: skip
    assert status(session, delivery) == "renewal"


def test_an_archived_contract_does_not_move(session: Session, delivery: Delivery) -> None:
    set_archived(session, SYSTEM, delivery.contract_id, True,
                 expected_version=version(session, delivery))  # fmt: skip
    with pytest.raises(Conflict, match="archived"):
        move(session, delivery, "renewal")
    with pytest.raises(Conflict, match="archived"):
        set_lifecycle_dates(session, delivery.vendor_staff, delivery.contract_id,
                            notice_months="6", renewal_on=None, expected_version=0)  # fmt: skip
    assert lifecycle_view(session, delivery.vendor_staff, delivery.contract_id).allowed == ()


@pytest.mark.parametrize("who", ["buyer_finance", "vendor_finance", "buyer_admin", "vendor_admin"])
def test_finance_and_admins_read_the_lifecycle_but_do_not_change_it(
    session: Session, delivery: Delivery, who: str
) -> None:
    actor = getattr(delivery, who)
    with pytest.raises(Forbidden):
        move(session, delivery, "renewal", actor=actor)
    with pytest.raises(Forbidden):
        set_lifecycle_dates(session, actor, delivery.contract_id, notice_months="6",
                            renewal_on=None, expected_version=0)  # fmt: skip
    with pytest.raises(Forbidden):
        amend_terms(session, actor, delivery.contract_id, fixed_terms(name="Changed"),
                    effective_year=5, reason="x", expected_version=version(session, delivery),
                    today=TODAY)  # fmt: skip
    view = lifecycle_view(session, actor, delivery.contract_id, today=TODAY)
    assert view.status == "active"
    assert view.allowed == ()
    assert not view.may_amend


def test_an_outsider_finds_no_such_contract(session: Session, delivery: Delivery) -> None:
    outsider = delivery.outsider
    with pytest.raises(NotFound):
        move(session, delivery, "renewal", actor=outsider)
    with pytest.raises(NotFound):
        set_lifecycle_dates(session, outsider, delivery.contract_id, notice_months="6",
                            renewal_on=None, expected_version=0)  # fmt: skip
    with pytest.raises(NotFound):
        lifecycle_view(session, outsider, delivery.contract_id)
    with pytest.raises(NotFound):
        amend_terms(session, outsider, delivery.contract_id, fixed_terms(name="Changed"),
                    effective_year=5, reason="x", expected_version=1)  # fmt: skip


def test_staff_of_either_side_see_the_moves_allowed_to_them(
    session: Session, delivery: Delivery
) -> None:
    for actor in (delivery.buyer_staff, delivery.vendor_staff):
        view = lifecycle_view(session, actor, delivery.contract_id, today=TODAY)
        assert view.allowed == ("renewal", "closed")
        assert view.may_amend


# -- dates and alerts --------------------------------------------------------------


def test_the_lifecycle_dates_give_the_deadlines_and_alerts_on_a_pinned_day(
    session: Session, delivery: Delivery
) -> None:
    new_version = set_lifecycle_dates(
        session, delivery.buyer_staff, delivery.contract_id, notice_months="6",
        renewal_on="2026-05-29", expected_version=0,
    )  # fmt: skip
    assert new_version == 1
    view = lifecycle_view(session, delivery.vendor_staff, delivery.contract_id, today=TODAY)
    assert view.notice_deadline == date(2026, 6, 30)
    assert view.renewal_day == date(2026, 5, 29)
    assert view.alerts == ()
    later = lifecycle_view(
        session, delivery.vendor_staff, delivery.contract_id, today=date(2026, 4, 1)
    )
    assert [a.text for a in later.alerts] == [
        "renewal decision in 58 days",
        "notice deadline in 90 days",
    ]
    end = lifecycle_view(
        session, delivery.vendor_staff, delivery.contract_id, today=date(2026, 12, 1)
    )
    assert [a.text for a in end.alerts] == [
        "renewal decision passed 186 days ago",
        "notice deadline passed 154 days ago",
        "ends in 30 days",
    ]


def test_clearing_the_dates_removes_their_alerts(session: Session, delivery: Delivery) -> None:
    set_lifecycle_dates(session, delivery.buyer_staff, delivery.contract_id, notice_months="6",
                        renewal_on=None, expected_version=0)  # fmt: skip
    set_lifecycle_dates(session, delivery.buyer_staff, delivery.contract_id, notice_months="",
                        renewal_on="", expected_version=1)  # fmt: skip
    view = lifecycle_view(session, SYSTEM, delivery.contract_id, today=date(2026, 7, 1))
    assert view.notice_months is None
    assert view.alerts == ()


@pytest.mark.parametrize(
    ("months", "renewal", "field", "message"),
    [
        ("61", None, "notice_months", "a whole number from 0 to 60"),
        ("-1", None, "notice_months", "a whole number from 0 to 60"),
        ("2.5", None, "notice_months", "a whole number"),
        ("60", None, "notice_months", "falls before the start"),
        (None, "2021-12-31", "renewal_on", "within the term"),
        (None, "2027-01-01", "renewal_on", "within the term"),
        (None, "2026-02-29", "renewal_on", "not a calendar date"),
    ],
)
def test_bad_lifecycle_dates_are_refused_naming_the_field(
    session: Session, delivery: Delivery, months: str | None, renewal: str | None,
    field: str, message: str,
) -> None:  # fmt: skip
    with pytest.raises(InvalidTerms) as exc:
        set_lifecycle_dates(
            session, delivery.vendor_staff, delivery.contract_id,
            notice_months=months, renewal_on=renewal, expected_version=0,
        )  # fmt: skip
    assert message in errors_of(exc)[field]
    with session.begin():
        assert session.get(ContractFollowUp, delivery.contract_id) is None


def test_stale_lifecycle_dates_are_refused(session: Session, delivery: Delivery) -> None:
    set_lifecycle_dates(session, delivery.vendor_staff, delivery.contract_id, notice_months="6",
                        renewal_on=None, expected_version=0)  # fmt: skip
    with pytest.raises(StaleEdit):
        set_lifecycle_dates(session, delivery.buyer_staff, delivery.contract_id,
                            notice_months="3", renewal_on=None, expected_version=0)  # fmt: skip


def test_a_renewed_contract_shows_no_passed_deadline(session: Session, delivery: Delivery) -> None:
    set_lifecycle_dates(session, delivery.vendor_staff, delivery.contract_id, notice_months="9",
                        renewal_on=None, expected_version=0)  # fmt: skip
    day = date(2026, 4, 15)  # the notice deadline 2026-03-31 has passed
    passed = lifecycle_view(session, SYSTEM, delivery.contract_id, today=day)
    assert [a.text for a in passed.alerts] == ["notice deadline passed 15 days ago"]
    move(session, delivery, "renewal", date(2026, 3, 1), today=day)
    move(session, delivery, "active", date(2026, 3, 20), today=day, reason="renewed")
    renewed = lifecycle_view(session, SYSTEM, delivery.contract_id, today=day)
    assert renewed.alerts == ()


# -- amendments --------------------------------------------------------------------


def closed_years_1_and_2(session: Session, delivery: Delivery) -> None:
    for year, cost in ((1, "950000.00"), (2, "975000.00")):
        record_actuals(session, delivery.vendor_staff, delivery.contract_id, year,
                       actual_cost=cost, expected_version=0, today=TODAY)  # fmt: skip
        close_year(session, delivery.buyer_finance, delivery.contract_id, year, today=TODAY)


def stored_rows(session: Session, delivery: Delivery) -> list[tuple[Any, ...]]:
    with session.begin():
        return [
            tuple(getattr(row, c.key) for c in ContractYear.__table__.columns)
            for row in session.scalars(
                select(ContractYear)
                .where(ContractYear.contract_id == delivery.contract_id)
                .order_by(ContractYear.year)
                .execution_options(populate_existing=True)
            )
        ]


def closed_figures(session: Session, delivery: Delivery) -> list[str | None]:
    with session.begin():
        return list(
            session.scalars(
                select(DeliveryYear.closed_figures)
                .where(DeliveryYear.contract_id == delivery.contract_id)
                .order_by(DeliveryYear.year)
            )
        )


def lower_efficiency() -> dict[str, Any]:
    return fixed_terms(cost={"baseline": "1000000.00", "inflation": "0.025", "efficiency": "0.02"})


def amend(session: Session, delivery: Delivery, document: Any, year: Any = 4, **kwargs: Any) -> int:
    return amend_terms(
        session, kwargs.pop("actor", delivery.vendor_staff), delivery.contract_id, document,
        effective_year=year, reason=kwargs.pop("reason", "Depot sold: lower target"),
        expected_version=version(session, delivery), today=TODAY, **kwargs,
    )  # fmt: skip


def test_an_amendment_keeps_earlier_rows_and_closed_figures_and_takes_the_new_later_years(
    session: Session, delivery: Delivery
) -> None:
    closed_years_1_and_2(session, delivery)
    rows_before = stored_rows(session, delivery)
    figures_before = closed_figures(session, delivery)
    assert amend(session, delivery, lower_efficiency(), 4) == 1
    rows_after = stored_rows(session, delivery)
    assert rows_after[:3] == rows_before[:3]
    assert closed_figures(session, delivery) == figures_before
    new_terms = parse_terms(lower_efficiency())
    expected = compute_schedule(new_terms).years[3:]
    assert [row[5] for row in rows_after[3:]] == [y.price for y in expected]
    assert [row[7] for row in rows_after[3:]] == [y.planned_cost for y in expected]
    assert rows_after[3] != rows_before[3]
    view = contract_view(session, SYSTEM, delivery.contract_id)
    with session.begin():
        contract = session.get(Contract, delivery.contract_id, populate_existing=True)
        assert contract is not None
        years = view.schedule.years
        assert contract.total_price == sum(y.price for y in years)
        assert contract.total_efficiency_gain == sum(y.efficiency_gain for y in years)
        assert contract.total_reinvest == sum(y.reinvest for y in years)
        assert contract.total_net_margin == sum(y.net_margin for y in years)
        assert years[-1].reinvest_cumulative == contract.total_reinvest
        assert json.loads(contract.terms) == new_terms.document()
        amendment = session.scalars(select(ContractAmendment)).one()
        assert amendment.effective_year == 4
        assert json.loads(amendment.terms_after) == new_terms.document()
        assert json.loads(amendment.terms_before)["cost"]["efficiency"] == "0.04"
        assert amendment.reason == "Depot sold: lower target"


def test_the_amendment_view_shows_the_difference_year_by_year(
    session: Session, delivery: Delivery
) -> None:
    amend(session, delivery, lower_efficiency(), 4)
    view = amendment_view(session, delivery.buyer_staff, delivery.contract_id, 1,
                          field="planned_cost")  # fmt: skip
    deltas = [row.deltas[1] for row in view.comparison.years]
    assert deltas[:3] == [0, 0, 0]
    assert all(delta is not None and delta > 0 for delta in deltas[3:])
    assert [(c.path, c.before, c.after) for c in view.changes] == [
        ("cost.efficiency", "0.04", "0.02")
    ]
    stored = contract_view(session, SYSTEM, delivery.contract_id).schedule
    assert view.after == stored
    with pytest.raises(NotFound):
        amendment_view(session, delivery.buyer_staff, delivery.contract_id, 2)
    with pytest.raises(NotFound):
        amendment_view(session, delivery.outsider, delivery.contract_id, 1)


def test_a_second_amendment_replays_onto_the_first(session: Session, delivery: Delivery) -> None:
    amend(session, delivery, lower_efficiency(), 4)
    longer = {**lower_efficiency(), "term_years": 7}
    assert amend(session, delivery, longer, 5, reason="Extended by two years") == 2
    view = amendment_view(session, SYSTEM, delivery.contract_id, 2)
    stored = contract_view(session, SYSTEM, delivery.contract_id).schedule
    assert view.after == stored
    assert len(view.after.years) == 7
    assert view.before.years[:4] == view.after.years[:4]
    summary = lifecycle_view(session, SYSTEM, delivery.contract_id, today=TODAY)
    assert [a.number for a in summary.amendments] == [2, 1]
    assert summary.end_date == date(2028, 12, 31)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"buyer": "Another Buyer"}, "buyer"),
        ({"vendor": "Another Vendor"}, "vendor"),
        ({"currency": "USD"}, "currency"),
        ({"start_date": "2022-02-01"}, "start_date"),
        ({"term_years": 3}, "term_years"),
        ({"discount_rate": "2"}, "discount_rate"),
        ({}, "terms"),
    ],
)
def test_an_amendment_keeps_parties_currency_start_and_the_begun_years(
    session: Session, delivery: Delivery, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidTerms) as exc:
        amend(session, delivery, fixed_terms(**changes), 5)
    assert field in errors_of(exc)
    with session.begin():
        assert session.scalar(select(func.count()).select_from(ContractAmendment)) == 0


@pytest.mark.parametrize(
    ("year", "message"),
    [(2, "year 2 is closed"), (7, "from 3 to 6"), ("x", "whole number"), (None, "required")],
)
def test_the_effective_year_follows_the_closed_years_and_stays_in_the_term(
    session: Session, delivery: Delivery, year: Any, message: str
) -> None:
    closed_years_1_and_2(session, delivery)
    longer = {**lower_efficiency(), "term_years": 8}
    with pytest.raises(InvalidTerms) as exc:
        amend(session, delivery, longer, year)
    assert message in errors_of(exc)["effective_year"]


def test_an_amendment_needs_a_reason(session: Session, delivery: Delivery) -> None:
    with pytest.raises(InvalidTerms) as exc:
        amend(session, delivery, lower_efficiency(), 4, reason=" ")
    assert errors_of(exc) == {"reason": "required"}


def test_a_new_gain_split_that_would_change_recorded_years_is_refused(
    session: Session, delivery: Delivery
) -> None:
    closed_years_1_and_2(session, delivery)
    figures = closed_figures(session, delivery)
    split = fixed_terms(gain_split={"reinvest": "0.40", "buyer": "0.10"})
    with pytest.raises(InvalidTerms) as exc:
        amend(session, delivery, split, 4)
    assert "year 1, 2" in errors_of(exc)["gain_split"]
    assert closed_figures(session, delivery) == figures


def test_only_a_signed_contract_not_closed_is_amended(session: Session) -> None:
    for state in ("draft", "negotiation", "closed"):
        d = contract_in_delivery(session, code=f"AM-{state}", status=state)
        with pytest.raises(Conflict, match="amended once a contract is signed"):
            amend(session, d, fixed_terms(name="Changed"), 5)


def test_a_stale_amendment_is_refused(session: Session, delivery: Delivery) -> None:
    stale = version(session, delivery)
    move(session, delivery, "renewal")
    with pytest.raises(StaleEdit):
        amend_terms(session, delivery.buyer_staff, delivery.contract_id, lower_efficiency(),
                    effective_year=4, reason="x", expected_version=stale, today=TODAY)  # fmt: skip


def test_buyer_staff_may_amend_too(session: Session, delivery: Delivery) -> None:
    assert amend(session, delivery, lower_efficiency(), 4, actor=delivery.buyer_staff) == 1


DEMO_ACTIVE = ("SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025")


# -- demo --------------------------------------------------------------------------


def test_the_demo_lifecycle_fills_every_demo_contract_in_delivery(seeded: Flask) -> None:
    from tracker.services.seed import SEED_DATA
    from tracker.services.seed_lifecycle import seed_lifecycle

    today = date(2026, 12, 7)
    with new_session(seeded) as db:
        seed_lifecycle(db, SEED_DATA, today=today)
        with db.begin():
            ids = dict(db.execute(select(Contract.code, Contract.id)).all())
        statuses = dict.fromkeys(DEMO_ACTIVE, "active") | {"GUARD-FR-2026": "onboarding"}
        for code, expected in statuses.items():
            view = lifecycle_view(db, SYSTEM, ids[code], today=today)
            assert view.status == expected
            assert view.moves, code
            assert view.moves[0].to_status == expected
            assert view.signed_on is not None
            assert view.notice_months is not None
        cloud = lifecycle_view(db, SYSTEM, ids["CLOUD-OPS-2025"], today=today)
        assert any(alert.kind in {"notice", "renewal"} for alert in cloud.alerts)
        ifm = lifecycle_view(db, SYSTEM, ids["IFM-UK-2022"], today=today)
        assert [a.effective_year for a in ifm.amendments] == [5]
        seed_lifecycle(db, SEED_DATA, today=today)  # a second run changes nothing
        again = lifecycle_view(db, SYSTEM, ids["IFM-UK-2022"], today=today)
        assert len(again.moves) == len(ifm.moves)
        assert len(again.amendments) == 1
