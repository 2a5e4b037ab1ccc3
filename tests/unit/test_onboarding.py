"""The onboarding plan's pure rules: the 100-day template, milestone states on a given day,
the summary of a plan, and the order of the onboarding portfolio."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.domain.onboarding import (
    DUE_SOON_DAYS,
    ONBOARDING_DAYS,
    OWNER_SIDES,
    STATUSES,
    TEMPLATE,
    TRANSITIONS,
    MilestoneState,
    date_window,
    day_zero,
    lateness_rank,
    may_move,
    milestone_state,
    onboarding_summary,
    planned_template,
)

SIGNED = date(2026, 9, 1)
DUE = date(2026, 10, 1)


def test_the_template_spreads_about_twelve_milestones_over_the_first_100_days() -> None:
    days = [step.day for step in TEMPLATE]
    assert 12 <= len(TEMPLATE) <= 14
    assert days == sorted(days)
    assert days[0] == 0
    assert days[-1] == ONBOARDING_DAYS
    assert len({step.key for step in TEMPLATE}) == len(TEMPLATE)
    assert {step.owner_side for step in TEMPLATE} == set(OWNER_SIDES)


def test_the_template_names_the_steps_of_a_service_transition() -> None:
    by_key = {step.key: step for step in TEMPLATE}
    assert by_key["knowledge_transfer"].day == 21
    assert by_key["knowledge_transfer"].owner_side == "vendor"
    assert by_key["access"].owner_side == "buyer"
    assert by_key["service_live"].day == 45
    assert by_key["first_quarterly"].day == 90
    assert "exit criteria" in by_key["closed"].title


def test_the_template_is_placed_on_the_calendar_from_day_zero() -> None:
    planned = planned_template(SIGNED)
    assert planned[0].due_on == SIGNED
    assert planned[-1].due_on == date(2026, 12, 10)
    assert [p.title for p in planned] == [step.title for step in TEMPLATE]
    assert all(
        p.due_on == SIGNED + timedelta(days=s.day) for p, s in zip(planned, TEMPLATE, strict=True)
    )


def test_day_zero_is_the_signature_day_or_the_start_when_signed_before_it() -> None:
    assert day_zero(SIGNED + timedelta(days=10), SIGNED) == SIGNED + timedelta(days=10)
    assert day_zero(SIGNED - timedelta(days=40), SIGNED) == SIGNED
    assert day_zero(None, SIGNED) == SIGNED


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_a_done_or_dropped_milestone_is_never_late(status: str) -> None:
    state = milestone_state(status, DUE, DUE + timedelta(days=40))
    assert state == MilestoneState(status)
    assert state.label == status


@pytest.mark.parametrize("status", ["planned", "in_progress"])
def test_an_open_milestone_past_its_due_day_is_late_by_the_days_since(status: str) -> None:
    state = milestone_state(status, DUE, DUE + timedelta(days=3))
    assert state.kind == "late"
    assert state.days_late == 3
    assert state.label == "late by 3 days"
    assert milestone_state(status, DUE, DUE + timedelta(days=1)).label == "late by 1 day"


def test_a_milestone_due_today_is_due_soon_not_late() -> None:
    state = milestone_state("planned", DUE, DUE)
    assert state.kind == "due soon"
    assert state.label == "due today"


def test_due_soon_covers_the_seven_days_before_the_due_day() -> None:
    assert milestone_state("planned", DUE, DUE - timedelta(days=DUE_SOON_DAYS)).kind == "due soon"
    assert milestone_state("planned", DUE, DUE - timedelta(days=2)).label == "due in 2 days"
    far = milestone_state("planned", DUE, DUE - timedelta(days=DUE_SOON_DAYS + 1))
    assert far.kind == "on track"
    assert far.days_left == 8
    assert far.label == "on track"


def test_the_summary_counts_done_late_and_due_soon_milestones() -> None:
    today = date(2026, 10, 10)
    summary = onboarding_summary(
        [
            ("done", date(2026, 9, 1)),
            ("dropped", date(2026, 9, 5)),
            ("planned", date(2026, 9, 22)),  # late by 18 days
            ("in_progress", date(2026, 10, 1)),  # late by 9 days
            ("planned", date(2026, 10, 15)),  # due soon
            ("planned", date(2026, 12, 10)),  # on track
        ],
        SIGNED,
        today,
    )
    assert (summary.total, summary.done, summary.dropped) == (6, 1, 1)
    assert (summary.late, summary.due_soon, summary.open) == (2, 1, 4)
    assert summary.days_since_signature == 39
    assert summary.in_first_100_days
    assert summary.percent_done == 20


def test_the_first_100_days_run_from_day_zero_to_day_100_included() -> None:
    def inside(day: date) -> bool:
        return onboarding_summary([], SIGNED, day).in_first_100_days

    assert inside(SIGNED)
    assert inside(SIGNED + timedelta(days=100))
    assert not inside(SIGNED + timedelta(days=101))
    assert not inside(SIGNED - timedelta(days=1))
    assert onboarding_summary([], SIGNED, SIGNED - timedelta(days=5)).days_since_signature == -5


def test_an_empty_plan_has_nothing_late_and_counts_as_complete() -> None:
    summary = onboarding_summary([], None, SIGNED)
    assert (summary.total, summary.late, summary.percent_done) == (0, 0, 100)
    assert summary.days_since_signature is None
    assert not summary.in_first_100_days


def test_milestones_move_between_statuses_only_along_the_allowed_paths() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert may_move("planned", "done")
    assert may_move("done", "planned")
    assert may_move("dropped", "planned")
    assert not may_move("dropped", "done")
    assert not may_move("done", "dropped")
    assert not may_move("planned", "planned")
    assert not may_move("planned", "finished")


def test_milestone_days_lie_within_a_year_around_the_contract_term() -> None:
    assert date_window(date(2024, 2, 29), date(2029, 2, 28)) == (
        date(2023, 2, 28),
        date(2030, 2, 28),
    )


def test_the_plan_with_most_late_milestones_ranks_first_then_the_worst_delay() -> None:
    ranked = sorted(
        {"one late by 30": [30], "two late": [2, 3], "none": [], "one late by 5": [5]}.items(),
        key=lambda item: lateness_rank(item[1]),
    )
    assert [name for name, _days in ranked] == [
        "two late", "one late by 30", "one late by 5", "none",
    ]  # fmt: skip
