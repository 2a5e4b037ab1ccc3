"""The governance rules: action states on a day and the alerts of the meeting rhythm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from tracker.domain.governance import (
    CADENCES,
    DUE_SOON_DAYS,
    action_state,
    cadence_alerts,
    open_action_order,
)

TODAY = date(2025, 6, 30)
START = date(2022, 1, 1)


@dataclass(frozen=True)
class Held:
    kind: str
    held_on: date


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def codes(meetings: list[Held], start: date = START, today: date = TODAY) -> list[str]:
    return [alert.code for alert in cadence_alerts(meetings, start, today)]


#: A contract that keeps its rhythm on TODAY: an operational meeting a month ago, a
#: quarterly review two months ago, an annual review after year 3 (ended 2024-12-31).
STEADY = [
    Held("operational", days_ago(30)),
    Held("quarterly_review", days_ago(60)),
    Held("annual_review", date(2025, 1, 28)),
]


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_done_and_dropped_actions_are_never_overdue(status: str) -> None:
    state = action_state(status, date(2020, 1, 1), TODAY)
    assert (state.state, state.overdue, state.is_open, state.label) == (
        status,
        False,
        False,
        status,
    )


def test_an_open_action_due_yesterday_is_overdue_by_one_day() -> None:
    state = action_state("open", TODAY - timedelta(days=1), TODAY)
    assert (state.state, state.days_overdue, state.label) == ("overdue", 1, "overdue by 1 day")
    assert state.overdue
    assert state.is_open


def test_an_open_action_due_today_is_due_soon_not_overdue() -> None:
    state = action_state("open", TODAY, TODAY)
    assert (state.state, state.days_left, state.label) == ("due_soon", 0, "due today")


def test_an_action_is_due_soon_up_to_seven_days_ahead_then_simply_open() -> None:
    soon = action_state("open", TODAY + timedelta(days=DUE_SOON_DAYS), TODAY)
    later = action_state("open", TODAY + timedelta(days=DUE_SOON_DAYS + 1), TODAY)
    assert (soon.state, soon.label) == ("due_soon", "due in 7 days")
    assert (later.state, later.days_left, later.label) == ("open", 8, "open")


def test_open_actions_are_ordered_most_overdue_first() -> None:
    dues = {1: TODAY + timedelta(days=3), 2: TODAY - timedelta(days=20), 3: TODAY - timedelta(1)}
    assert sorted(dues, key=lambda i: open_action_order(dues[i], i)) == [2, 3, 1]


def test_the_documented_thresholds() -> None:
    assert {kind: c.alert_after_days for kind, c in CADENCES.items()} == {
        "operational": 40,
        "quarterly_review": 100,
        "annual_review": 45,
    }
    assert CADENCES["operational"].rhythm == "monthly"


def test_a_contract_that_keeps_its_rhythm_has_no_alert() -> None:
    assert cadence_alerts(STEADY, START, TODAY) == ()


def test_nothing_is_due_before_the_contract_starts() -> None:
    assert cadence_alerts([], date(2026, 1, 1), TODAY) == ()


def test_a_quarterly_review_100_days_ago_is_still_fine_but_101_days_is_not() -> None:
    others = [STEADY[0], STEADY[2]]
    assert "quarterly_review_missing" not in codes(
        [*others, Held("quarterly_review", days_ago(100))]
    )
    alerts = cadence_alerts([*others, Held("quarterly_review", days_ago(101))], START, TODAY)
    assert [(a.code, a.days) for a in alerts] == [("quarterly_review_missing", 101)]
    assert alerts[0].message == f"no quarterly review for 101 days (since {days_ago(101)})"


def test_an_annual_review_counts_as_the_quarters_review() -> None:
    meetings = [STEADY[0], Held("annual_review", days_ago(50))]
    assert codes(meetings) == []


def test_an_operational_meeting_41_days_ago_raises_the_operational_alert() -> None:
    assert codes([STEADY[1], STEADY[2], Held("operational", days_ago(40))]) == []
    alerts = cadence_alerts([STEADY[1], STEADY[2], Held("operational", days_ago(41))], START, TODAY)
    assert [(a.code, a.days) for a in alerts] == [("operational_missing", 41)]


def test_a_new_contract_counts_the_gap_from_its_start() -> None:
    start = TODAY - timedelta(days=45)
    alerts = cadence_alerts([], start, TODAY)
    assert [(a.code, a.days) for a in alerts] == [("operational_missing", 45)]
    assert alerts[0].message == "no operational meeting for 45 days (since the contract's start)"
    assert codes([], TODAY - timedelta(days=101)) == [
        "quarterly_review_missing",
        "operational_missing",
    ]


def test_a_meeting_before_the_start_does_not_start_the_clock() -> None:
    start = TODAY - timedelta(days=45)
    alerts = cadence_alerts([Held("operational", start - timedelta(days=20))], start, TODAY)
    assert [(a.code, a.days) for a in alerts] == [("operational_missing", 45)]


def test_planned_meetings_do_not_count_until_they_are_held() -> None:
    planned = [STEADY[0], STEADY[2], Held("quarterly_review", TODAY + timedelta(days=5))]
    assert codes(planned) == ["quarterly_review_missing"]


def test_the_annual_review_is_due_45_days_after_a_year_ends_without_one() -> None:
    # Year 3 ended on 2024-12-31; on 2025-02-14 that is 45 days: still in the grace period.
    meetings = [
        Held("operational", date(2025, 2, 1)),
        Held("quarterly_review", date(2024, 12, 1)),
        Held("annual_review", date(2024, 1, 20)),
    ]
    assert codes(meetings, today=date(2025, 2, 14)) == []
    alerts = cadence_alerts(meetings, START, date(2025, 2, 15))
    assert [(a.code, a.days) for a in alerts] == [("annual_review_due", 46)]
    assert alerts[0].message == (
        "annual review due: contract year 3 ended 46 days ago (2024-12-31) "
        "and has had no annual review since"
    )


def test_an_annual_review_before_the_years_end_does_not_cover_it() -> None:
    meetings = [*STEADY[:2], Held("annual_review", date(2024, 12, 31))]
    assert codes(meetings) == ["annual_review_due"]


def test_after_the_contract_ends_only_the_last_annual_review_can_be_due() -> None:
    start, end = date(2022, 1, 1), date(2023, 12, 31)
    alerts = cadence_alerts([], start, TODAY, end_date=end)
    assert [(a.code, a.days) for a in alerts] == [("annual_review_due", (TODAY - end).days)]
    assert "contract year 2" in alerts[0].message
    covered = [Held("annual_review", date(2024, 1, 20))]
    assert cadence_alerts(covered, start, TODAY, end_date=end) == ()
