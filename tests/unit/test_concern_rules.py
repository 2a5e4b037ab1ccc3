"""The concern rules: overdue from the day after the due day, and the escalation table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.domain.concerns import (
    ESCALATIONS,
    ConcernState,
    allowed_moves,
    concern_state,
    escalation_level,
    register_order,
)

TODAY = date(2026, 12, 7)


def state(days_late: int, severity: str = "medium", status: str = "open") -> ConcernState:
    """A concern's state on TODAY when due ``days_late`` days before it."""
    return concern_state(
        status=status, severity=severity, due_on=TODAY - timedelta(days=days_late), today=TODAY
    )


def test_a_concern_due_today_is_not_overdue() -> None:
    found = state(0)
    assert (found.overdue, found.days_overdue, found.escalation) == (False, 0, 0)
    assert found.escalation_text == ""


def test_a_concern_due_in_the_future_is_not_overdue_and_counts_no_negative_days() -> None:
    found = state(-10, "critical")
    assert (found.overdue, found.days_overdue, found.escalation) == (False, 0, 0)


def test_a_concern_due_yesterday_is_one_day_overdue_and_goes_to_the_operational_meeting() -> None:
    found = state(1, "low")
    assert (found.overdue, found.days_overdue, found.escalation) == (True, 1, 1)
    assert found.escalation_text == "escalate to the operational meeting"


@pytest.mark.parametrize(
    ("severity", "days", "level"),
    [
        ("low", 14, 1),
        ("low", 15, 2),
        ("medium", 30, 2),
        ("medium", 31, 3),
        ("high", 1, 2),
        ("high", 30, 2),
        ("high", 31, 3),
        ("critical", 1, 3),
    ],
)
def test_the_escalation_table_holds_at_its_thresholds(severity: str, days: int, level: int) -> None:
    assert escalation_level(severity, days) == level


def test_an_in_progress_concern_is_escalated_like_an_open_one() -> None:
    assert state(20, status="in_progress").escalation == 2


def test_a_resolved_concern_is_never_overdue_nor_escalated_whatever_its_due_day() -> None:
    found = state(400, "critical", status="resolved")
    assert (found.overdue, found.days_overdue, found.escalation) == (False, 0, 0)
    assert found.resolved


def test_the_levels_read_as_the_governance_bodies_they_go_to() -> None:
    assert ESCALATIONS[2] == "escalate to the quarterly review (sponsors)"
    assert ESCALATIONS[3] == "escalate to the executive sponsors"


def test_the_register_puts_open_concerns_first_by_escalation_severity_then_due_day() -> None:
    rows = [
        ("resolved late", state(0, status="resolved"), "critical", TODAY, date(2026, 12, 1), 1),
        ("medium soon", state(-3), "medium", TODAY + timedelta(days=3), None, 2),
        ("high later", state(-9, "high"), "high", TODAY + timedelta(days=9), None, 3),
        ("low overdue", state(20, "low"), "low", TODAY - timedelta(days=20), None, 4),
        ("medium later", state(-5), "medium", TODAY + timedelta(days=5), None, 5),
        ("resolved first", state(0, status="resolved"), "low", TODAY, date(2026, 11, 1), 6),
    ]
    ordered = sorted(rows, key=lambda r: register_order(r[1], r[2], r[3], r[4], r[5]))
    assert [r[0] for r in ordered] == [
        "low overdue", "high later", "medium soon", "medium later",
        "resolved late", "resolved first",
    ]  # fmt: skip


def test_a_resolved_concern_can_only_be_reopened_and_an_open_one_started_or_resolved() -> None:
    assert allowed_moves("resolved") == ("open",)
    assert allowed_moves("open") == ("in_progress", "resolved")
    assert allowed_moves("in_progress") == ("resolved",)
