"""The pulse rules: quarters, the trend of a side, divergence, and when a rating is due."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from tracker.domain.pulse import (
    divergence,
    needs_comment,
    next_quarter,
    pulse_due,
    quarter_end,
    quarter_label,
    quarter_of,
    quarters_between,
    trend,
)
from tracker.reporting.pulse_chart import (
    PulseSeries,
    clear_pulse_chart_cache,
    pulse_chart_etag,
    pulse_chart_svg,
)

Q = [date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1)]


@pytest.mark.parametrize(
    ("day", "first"),
    [
        (date(2026, 1, 1), date(2026, 1, 1)),
        (date(2026, 3, 31), date(2026, 1, 1)),
        (date(2026, 4, 1), date(2026, 4, 1)),
        (date(2026, 9, 1), date(2026, 7, 1)),
        (date(2026, 12, 31), date(2026, 10, 1)),
    ],
)
def test_a_day_belongs_to_the_calendar_quarter_named_by_its_first_day(
    day: date, first: date
) -> None:
    assert quarter_of(day) == first


def test_quarters_follow_each_other_across_the_year_end() -> None:
    assert next_quarter(date(2026, 10, 1)) == date(2027, 1, 1)
    assert quarter_end(date(2026, 10, 1)) == date(2026, 12, 31)
    assert quarter_label(date(2026, 10, 1)) == "2026 Q4"
    assert quarters_between(date(2026, 9, 1), date(2027, 2, 3)) == (
        date(2026, 7, 1), date(2026, 10, 1), date(2027, 1, 1),
    )  # fmt: skip
    assert quarters_between(date(2027, 1, 1), date(2026, 1, 1)) == ()


def test_a_single_rating_has_no_direction() -> None:
    found = trend("buyer", {Q[0]: 4})
    assert (found.direction, found.latest, found.change) == ("", 4, 0)


def test_the_trend_keeps_the_last_four_ratings_oldest_first() -> None:
    found = trend("vendor", {Q[4]: 4, Q[0]: 1, Q[2]: 3, Q[1]: 2, Q[3]: 3})
    assert [rating for _period, rating in found.ratings] == [2, 3, 3, 4]


@pytest.mark.parametrize(
    ("ratings", "direction", "change"),
    [
        ([3, 4], "improving", Fraction(1)),
        ([4, 4, 3], "worsening", Fraction(-1)),
        ([3, 4, 3, 4], "improving", Fraction(2, 3)),
        ([4, 3, 4, 4], "stable", Fraction(1, 3)),
        ([4, 5, 4, 4], "stable", Fraction(-1, 3)),
        ([4, 4, 5, 4], "stable", Fraction(-1, 3)),
        ([4, 5, 5, 4], "worsening", Fraction(-2, 3)),
        ([3, 4, 4, 3], "worsening", Fraction(-2, 3)),
        ([2, 3], "improving", Fraction(1)),
        ([4, 4, 4, 4], "stable", Fraction(0)),
    ],
)
def test_the_direction_compares_the_latest_rating_with_the_average_of_the_earlier_ones(
    ratings: list[int], direction: str, change: Fraction
) -> None:
    found = trend("buyer", dict(zip(Q, ratings, strict=False)))
    assert (found.direction, found.change) == (direction, change)


def test_half_a_point_exactly_counts_as_a_move() -> None:
    # 3 then 4 averages 3.5; a 4 next is half a point above it.
    assert trend("buyer", {Q[0]: 3, Q[1]: 4, Q[2]: 4}).direction == "improving"
    assert trend("buyer", {Q[0]: 4, Q[1]: 3, Q[2]: 3}).direction == "worsening"


def test_ratings_two_points_apart_in_the_latest_quarter_both_rated_raise_an_alert() -> None:
    found = divergence({Q[0]: 4, Q[1]: 2, Q[2]: 2}, {Q[0]: 4, Q[1]: 4})
    assert found is not None
    assert (found.period, found.buyer, found.vendor, found.gap) == (Q[1], 2, 4, 2)
    assert found.lower_side == "buyer"
    assert found.label == "2025 Q2"


def test_ratings_one_point_apart_raise_no_alert() -> None:
    assert divergence({Q[0]: 3}, {Q[0]: 4}) is None


def test_only_the_latest_quarter_both_rated_counts_not_an_earlier_gap() -> None:
    assert divergence({Q[0]: 1, Q[1]: 4}, {Q[0]: 5, Q[1]: 4}) is None


def test_no_quarter_rated_by_both_sides_raises_no_alert() -> None:
    assert divergence({Q[0]: 1}, {Q[1]: 5}) is None


def test_a_missing_rating_is_due_from_the_46th_day_of_the_quarter() -> None:
    start = date(2020, 1, 1)
    # 2026 Q4 begins on 1 October: 14 November is its 45th day, 15 November its 46th.
    assert not pulse_due(set(), date(2026, 11, 14), start)
    assert pulse_due(set(), date(2026, 11, 15), start)


def test_a_side_that_rated_the_current_quarter_is_not_due() -> None:
    assert not pulse_due({date(2026, 10, 1)}, date(2026, 12, 31), date(2020, 1, 1))


def test_a_rating_of_an_earlier_quarter_does_not_count_for_the_current_one() -> None:
    assert pulse_due({date(2026, 7, 1)}, date(2026, 12, 31), date(2020, 1, 1))


def test_a_contract_begun_within_the_quarter_is_given_45_days_from_its_start() -> None:
    start = date(2026, 11, 1)
    assert not pulse_due(set(), date(2026, 12, 15), start)
    assert pulse_due(set(), date(2026, 12, 16), start)


def test_nothing_is_due_before_the_contract_starts() -> None:
    assert not pulse_due(set(), date(2026, 12, 31), date(2027, 1, 1))


def test_a_rating_of_two_or_less_needs_a_comment() -> None:
    assert [needs_comment(rating) for rating in range(1, 6)] == [True, True, False, False, False]


def test_the_pulse_chart_is_the_same_bytes_for_the_same_ratings_and_shades_a_divergence() -> None:
    series = PulseSeries("Pulse", ("2026 Q3", "2026 Q4"), (4, 2), (4, 4))
    first = pulse_chart_svg(series)
    clear_pulse_chart_cache()
    assert pulse_chart_svg(series) == first
    calm = series._replace(buyer=(4, 3))
    assert pulse_chart_etag(calm) != pulse_chart_etag(series)
    # The divergence band is the only filled rectangle besides the axes' background.
    assert first.count("#dc3545") == 1
    assert pulse_chart_svg(calm).count("#dc3545") == 0


def test_a_pulse_chart_without_ratings_says_so() -> None:
    assert "No rating yet" in pulse_chart_svg(PulseSeries("Pulse", ("2026 Q4",), (None,), (None,)))
