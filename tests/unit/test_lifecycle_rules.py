"""The lifecycle rules: allowed moves, closing reasons, month-end arithmetic, the alerts
at their thresholds, and the schedule an amendment leaves."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tracker.db.models import STATUSES
from tracker.domain.lifecycle import (
    ALERT_DAYS,
    allowed_moves,
    closed_reason_problem,
    document_changes,
    is_allowed,
    lifecycle_alerts,
    months_before,
    notice_deadline,
    refused_move_message,
    renewal_day,
    spliced_schedule,
)
from tracker.domain.schedule import compute_schedule
from tracker.domain.terms_parser import parse_terms

ALLOWED = {
    ("draft", "negotiation"),
    ("negotiation", "draft"),
    ("negotiation", "signed"),
    ("signed", "onboarding"),
    ("onboarding", "active"),
    ("active", "renewal"),
    ("renewal", "active"),
    ("signed", "closed"),
    ("onboarding", "closed"),
    ("active", "closed"),
    ("renewal", "closed"),
}
END = date(2028, 9, 30)


@pytest.mark.parametrize("move", sorted(ALLOWED))
def test_every_allowed_move_is_allowed(move: tuple[str, str]) -> None:
    assert is_allowed(*move)


@pytest.mark.parametrize(
    "move",
    sorted((a, b) for a in STATUSES for b in STATUSES if (a, b) not in ALLOWED),
)
def test_every_other_move_is_refused(move: tuple[str, str]) -> None:
    assert not is_allowed(*move)


def test_a_move_to_an_unknown_status_is_refused() -> None:
    assert not is_allowed("active", "cancelled")
    assert not is_allowed("nowhere", "active")


def test_the_refusal_names_the_allowed_moves() -> None:
    assert refused_move_message("signed", "active") == (
        "a signed contract cannot move to active; it may move to onboarding, closed"
    )
    assert "cannot move any more" in refused_move_message("closed", "active")


def test_a_closed_contract_has_no_move_left() -> None:
    assert allowed_moves("closed") == ()


def test_a_contract_expires_on_or_after_its_end_date_only() -> None:
    assert closed_reason_problem("expired", END, END) is None
    assert closed_reason_problem("expired", END + timedelta(days=1), END) is None
    assert "terminated" in str(closed_reason_problem("expired", END - timedelta(days=1), END))


def test_a_contract_may_be_terminated_any_day() -> None:
    assert closed_reason_problem("terminated", date(2026, 1, 1), END) is None


@pytest.mark.parametrize("reason", [None, "", "cancelled", "Expired"])
def test_an_unknown_closing_reason_is_refused(reason: str | None) -> None:
    assert closed_reason_problem(reason, END, END) == "expected one of expired, terminated"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2029, 8, 31), 6, date(2029, 2, 28)),
        (date(2028, 8, 31), 6, date(2028, 2, 29)),
        (date(2028, 9, 30), 19, date(2027, 2, 28)),
        (date(2028, 12, 31), 1, date(2028, 11, 30)),
        (date(2028, 3, 31), 3, date(2027, 12, 31)),
        (date(2028, 1, 15), 13, date(2026, 12, 15)),
        (date(2028, 1, 15), 0, date(2028, 1, 15)),
        (date(2030, 5, 31), 60, date(2025, 5, 31)),
    ],
)
def test_months_before_keeps_the_day_or_falls_on_the_months_last_day(
    day: date, months: int, expected: date
) -> None:
    assert months_before(day, months) == expected


def test_the_notice_deadline_is_the_end_date_minus_the_notice_period() -> None:
    assert notice_deadline(END, 6) == date(2028, 3, 30)
    assert notice_deadline(END, None) is None


def test_the_renewal_day_is_the_agreed_day_or_else_the_notice_deadline() -> None:
    assert renewal_day(END, 6, date(2028, 1, 15)) == date(2028, 1, 15)
    assert renewal_day(END, 6, None) == date(2028, 3, 30)
    assert renewal_day(END, None, None) is None


def texts(*args: object, **kwargs: object) -> list[str]:
    return [alert.text for alert in lifecycle_alerts(*args, **kwargs)]  # type: ignore[arg-type]


DEADLINE = date(2028, 3, 30)  # END minus 6 months


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (DEADLINE - timedelta(days=ALERT_DAYS + 1), []),
        (DEADLINE - timedelta(days=ALERT_DAYS), ["notice deadline in 90 days"]),
        (DEADLINE - timedelta(days=1), ["notice deadline in 1 day"]),
        (DEADLINE, ["notice deadline today"]),
        (DEADLINE + timedelta(days=1), ["notice deadline passed 1 day ago"]),
        (DEADLINE + timedelta(days=40), ["notice deadline passed 40 days ago"]),
    ],
)
def test_the_notice_deadline_alert_shows_90_days_ahead_and_once_passed(
    today: date, expected: list[str]
) -> None:
    assert texts("active", END, 6, None, today) == expected


def test_a_passed_deadline_is_not_an_alert_once_the_contract_was_renewed() -> None:
    assert texts("active", END, 6, None, DEADLINE + timedelta(days=1), renewed=True) == []
    assert texts("active", END, 6, None, DEADLINE, renewed=True) == ["notice deadline today"]


@pytest.mark.parametrize("status", ["draft", "negotiation", "closed"])
def test_contracts_not_signed_or_closed_have_no_alert(status: str) -> None:
    assert texts(status, END, 6, None, DEADLINE) == []
    assert texts(status, END, 6, None, END) == []


def test_the_renewal_decision_has_its_own_alert_when_it_has_its_own_day() -> None:
    renewal = date(2028, 1, 10)
    assert texts("active", END, 6, renewal, renewal - timedelta(days=91)) == []
    assert texts("active", END, 6, renewal, renewal - timedelta(days=90)) == [
        "renewal decision in 90 days"
    ]
    assert texts("active", END, 6, renewal, date(2028, 1, 30)) == [
        "renewal decision passed 20 days ago",
        "notice deadline in 60 days",
    ]
    assert texts("active", END, None, renewal, renewal) == ["renewal decision today"]


def test_a_renewal_day_on_the_notice_deadline_gives_one_alert() -> None:
    assert texts("active", END, 6, DEADLINE, DEADLINE) == ["notice deadline today"]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (END - timedelta(days=91), []),
        (END - timedelta(days=90), ["ends in 90 days"]),
        (END, ["ends today"]),
        (END + timedelta(days=2), ["ended 2 days ago"]),
    ],
)
def test_the_end_alert_shows_90_days_ahead(today: date, expected: list[str]) -> None:
    assert texts("renewal", END, None, None, today) == expected


def test_alerts_come_soonest_first_and_urgent_within_30_days() -> None:
    alerts = lifecycle_alerts("active", END, 1, date(2028, 7, 1), date(2028, 7, 15))
    assert [a.kind for a in alerts] == ["renewal", "notice", "end"]
    assert [a.days for a in alerts] == [-14, 46, 77]
    assert [a.urgent for a in alerts] == [True, False, False]
    assert lifecycle_alerts("active", END, 6, None, DEADLINE - timedelta(days=30))[0].urgent
    assert not lifecycle_alerts("active", END, 6, None, DEADLINE - timedelta(days=31))[0].urgent


def terms(**changes: object) -> dict[str, object]:
    return {
        "name": "Demo", "currency": "EUR", "start_date": "2022-01-01", "term_years": 5,
        "price": {"base": "1000000.00", "escalation": {"method": "fixed", "rate": "0.03"}},
        "cost": {"baseline": "900000.00", "inflation": "0.02", "efficiency": "0.04"},
        "gain_split": {"reinvest": "0.50"}, "discount_rate": "0.05", **changes,
    }  # fmt: skip


def test_a_spliced_schedule_keeps_the_earlier_years_and_takes_the_later_ones() -> None:
    before = compute_schedule(parse_terms(terms()))
    new_terms = parse_terms(terms(term_years=6, discount_rate="0.06"))
    after = compute_schedule(new_terms)
    spliced = spliced_schedule(before, after, 3, Decimal("0.06"))
    assert spliced.years[:2] == before.years[:2]
    assert [y.price for y in spliced.years[2:]] == [y.price for y in after.years[2:]]
    assert len(spliced.years) == 6
    assert spliced.totals.price == sum(y.price for y in spliced.years)
    running = 0
    for year in spliced.years:
        running += year.reinvest
        assert year.reinvest_cumulative == running


def test_a_splice_from_year_1_is_the_new_schedule() -> None:
    before = compute_schedule(parse_terms(terms()))
    new_terms = parse_terms(terms(cost={"baseline": "900000.00", "inflation": "0.02",
                                        "efficiency": "0.02"}))  # fmt: skip
    after = compute_schedule(new_terms)
    assert spliced_schedule(before, after, 1, new_terms.discount_rate) == after


def test_document_changes_name_each_changed_value_by_path() -> None:
    changes = document_changes(
        {"a": "1", "cost": {"efficiency": "0.04", "inflation": ["1", "2"]}},
        {"a": "1", "cost": {"efficiency": "0.02", "inflation": ["1", "2"]}, "b": "x"},
    )
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("cost.efficiency", "0.04", "0.02"),
        ("b", "—", "x"),
    ]
