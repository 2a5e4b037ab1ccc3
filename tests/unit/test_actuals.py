"""Actual figures of a delivery year (financial model spec, section 3), worked out by hand.

The plan is year 1 of the fixed-5y example: price 1,200,000.00, baseline
1,000,000.00, planned cost 960,000.00, 50 % of the gain reinvested and 10 %
credited to the buyer. Amounts are integers of cents.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.actuals import (
    ActualFigures,
    Variance,
    actual_figures,
    normalised_baseline,
    ratio_pct,
    variance,
)
from tracker.domain.schedule import YearFigures

PROPERTIES = settings(max_examples=300, deadline=None, derandomize=True, database=None)

REINVEST = Decimal("0.50")
BUYER = Decimal("0.10")

#: Year 1 of tests/data/fixed-5y.expected.json.
PLAN = YearFigures(
    year=1, start=date(2025, 1, 1), end=date(2025, 12, 31), escalation=None,
    price=120_000_000, baseline_cost=100_000_000, planned_cost=96_000_000,
    efficiency_gain=4_000_000, efficiency_pct=400, reinvest=2_000_000, buyer_credit=400_000,
    vendor_gain=1_600_000, net_price=119_600_000, gross_margin=23_600_000,
    net_margin=21_600_000, reinvest_cumulative=2_000_000,
)  # fmt: skip


def cents(text: str) -> int:
    """A decimal amount written with exactly two places, as cents."""
    whole, fraction = text.replace(",", "").split(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(fraction))


def test_the_actual_cost_takes_the_place_of_the_planned_cost() -> None:
    # A' = 950,000.00: S' = 1,000,000.00 - 950,000.00 = 50,000.00,
    # R' = 0.5 x 50,000.00, C' = 0.1 x 50,000.00, V' = S' - R' - C'.
    figures = actual_figures(PLAN, cents("950,000.00"), REINVEST, BUYER)
    assert figures == ActualFigures(
        year=1,
        price=cents("1,200,000.00"),
        baseline_cost=cents("1,000,000.00"),
        baseline_used=cents("1,000,000.00"),
        actual_cost=cents("950,000.00"),
        efficiency_gain=cents("50,000.00"),
        efficiency_pct=500,  # 50,000 / 1,000,000 = 0.0500
        reinvest=cents("25,000.00"),
        buyer_credit=cents("5,000.00"),
        vendor_gain=cents("20,000.00"),
        net_price=cents("1,195,000.00"),  # 1,200,000.00 - 5,000.00
        gross_margin=cents("245,000.00"),  # 1,195,000.00 - 950,000.00
        net_margin=cents("220,000.00"),  # 245,000.00 - 25,000.00
    )
    assert not figures.normalised


def test_an_actual_cost_equal_to_the_plan_gives_the_planned_figures() -> None:
    figures = actual_figures(PLAN, PLAN.planned_cost, REINVEST, BUYER)
    assert figures.efficiency_gain == PLAN.efficiency_gain
    assert figures.efficiency_pct == PLAN.efficiency_pct
    assert (figures.reinvest, figures.buyer_credit, figures.vendor_gain) == (
        PLAN.reinvest, PLAN.buyer_credit, PLAN.vendor_gain,
    )  # fmt: skip
    assert (figures.net_price, figures.gross_margin, figures.net_margin) == (
        PLAN.net_price, PLAN.gross_margin, PLAN.net_margin,
    )  # fmt: skip


def test_the_volume_normalised_baseline_is_used_for_the_actual_gain() -> None:
    # Q = 1,000 users planned, Q' = 1,100 supported: B' = 1,000,000.00 x 1,100 / 1,000
    # = 1,100,000.00; A' = 1,000,000.00, so S' = 100,000.00 (not 0), R' = 50,000.00,
    # C' = 10,000.00, V' = 40,000.00.
    figures = actual_figures(
        PLAN, cents("1,000,000.00"), REINVEST, BUYER,
        planned_volume=Decimal(1000), actual_volume=Decimal(1100),
    )  # fmt: skip
    assert figures.baseline_cost == cents("1,000,000.00")  # B is contractual, unchanged
    assert figures.baseline_used == cents("1,100,000.00")
    assert figures.normalised
    assert figures.efficiency_gain == cents("100,000.00")
    assert figures.efficiency_pct == 909  # 100,000 / 1,100,000 = 0.090909... -> 0.0909
    assert figures.reinvest == cents("50,000.00")
    assert figures.buyer_credit == cents("10,000.00")
    assert figures.vendor_gain == cents("40,000.00")
    assert figures.net_price == cents("1,190,000.00")
    assert figures.gross_margin == cents("190,000.00")
    assert figures.net_margin == cents("140,000.00")


def test_without_the_volume_driver_the_same_cost_shows_no_gain() -> None:
    figures = actual_figures(PLAN, cents("1,000,000.00"), REINVEST, BUYER)
    assert figures.baseline_used == figures.baseline_cost == cents("1,000,000.00")
    assert (figures.efficiency_gain, figures.reinvest, figures.buyer_credit) == (0, 0, 0)
    assert figures.efficiency_pct == 0


@pytest.mark.parametrize(
    ("baseline", "planned", "actual", "expected"),
    [
        (100_000_000, Decimal(1000), Decimal(950), 95_000_000),  # fewer users: lower baseline
        (100_000_000, Decimal(3), Decimal(1), 33_333_333),  # 33,333,333.33... rounds down
        (100_000_000, Decimal(3), Decimal(2), 66_666_667),  # 66,666,666.66... rounds up
        (1001, Decimal(2), Decimal(1), 501),  # 500.5 cents: the tie goes away from zero
        (1001, Decimal("2.000"), Decimal("1.000"), 501),
        (100_000_000, Decimal("1000.5"), Decimal("1000.5"), 100_000_000),
        (100_000_000, Decimal(1000), Decimal(0), 0),  # nothing delivered
        (100_000_000, Decimal(1000), None, 100_000_000),  # actual volume not recorded
        (100_000_000, None, Decimal(1000), 100_000_000),  # no volume driver
        (100_000_000, Decimal(0), Decimal(1000), 100_000_000),  # no planned volume to scale by
    ],
)
def test_the_normalised_baseline_is_b_times_actual_over_planned_volume_rounded(
    baseline: int, planned: Decimal | None, actual: Decimal | None, expected: int
) -> None:
    assert normalised_baseline(baseline, planned, actual) == expected


def test_ties_round_away_from_zero_in_the_shares() -> None:
    # B' - A' = 5 cents: R' = 0.5 x 5 = 2.5 -> 3, C' = 0.1 x 5 = 0.5 -> 1, V' = 5 - 3 - 1 = 1.
    figures = actual_figures(PLAN, cents("999,999.95"), REINVEST, BUYER)
    assert figures.efficiency_gain == 5
    assert (figures.reinvest, figures.buyer_credit, figures.vendor_gain) == (3, 1, 1)
    # One cent: R' = 0.5 -> 1, C' = 0.1 -> 0, V' = 0.
    figures = actual_figures(PLAN, cents("999,999.99"), REINVEST, BUYER)
    assert (figures.reinvest, figures.buyer_credit, figures.vendor_gain) == (1, 0, 0)
    assert figures.efficiency_pct == 0  # 1 cent of 1,000,000.00 is 0.00000001 -> 0.0000


def test_ratios_round_half_away_from_zero_to_ten_thousandths() -> None:
    assert ratio_pct(1, 20_000) == 1  # 0.00005 -> 0.0001
    assert ratio_pct(-1, 20_000) == -1  # -0.00005 -> -0.0001
    assert ratio_pct(1, 20_001) == 0  # just under half
    assert ratio_pct(-1, 20_001) == 0
    assert ratio_pct(3, 40_000) == 1  # 0.000075 -> 0.0001
    assert ratio_pct(2, 3) == 6667
    assert ratio_pct(-2, 3) == -6667
    assert ratio_pct(5, 0) is None


def test_a_negative_actual_gain_is_borne_by_the_vendor_alone() -> None:
    # A' = 1,050,000.00 > B = 1,000,000.00: S' = -50,000.00. Nothing is reinvested or
    # credited (shares of max(S', 0)), the vendor's share is the whole loss.
    figures = actual_figures(PLAN, cents("1,050,000.00"), REINVEST, BUYER)
    assert figures.efficiency_gain == cents("-50,000.00")
    assert figures.efficiency_pct == -500
    assert figures.reinvest == 0
    assert figures.buyer_credit == 0
    assert figures.vendor_gain == cents("-50,000.00")
    assert figures.net_price == cents("1,200,000.00")  # no credit: the full price
    assert figures.gross_margin == cents("150,000.00")  # 1,200,000.00 - 1,050,000.00
    assert figures.net_margin == cents("150,000.00")


def test_a_loss_against_a_normalised_baseline_is_also_the_vendors() -> None:
    # Q' = 900 of Q = 1,000: B' = 900,000.00; A' = 960,000.00 (the planned cost) is a
    # loss of 60,000.00 once the lower volume is taken into account.
    figures = actual_figures(
        PLAN, cents("960,000.00"), REINVEST, BUYER,
        planned_volume=Decimal(1000), actual_volume=Decimal(900),
    )  # fmt: skip
    assert figures.baseline_used == cents("900,000.00")
    assert figures.efficiency_gain == cents("-60,000.00")
    assert (figures.reinvest, figures.buyer_credit) == (0, 0)
    assert figures.vendor_gain == cents("-60,000.00")
    assert figures.efficiency_pct == -667  # -60,000 / 900,000 = -0.06666... -> -0.0667


def test_the_efficiency_pct_is_none_when_the_baseline_used_is_zero() -> None:
    figures = actual_figures(
        PLAN, cents("10.00"), REINVEST, BUYER,
        planned_volume=Decimal(1000), actual_volume=Decimal(0),
    )  # fmt: skip
    assert figures.baseline_used == 0
    assert figures.efficiency_gain == cents("-10.00")
    assert figures.efficiency_pct is None
    assert figures.vendor_gain == cents("-10.00")


def test_a_zero_actual_cost_makes_the_whole_baseline_the_gain() -> None:
    figures = actual_figures(PLAN, 0, REINVEST, BUYER)
    assert figures.efficiency_gain == cents("1,000,000.00")
    assert figures.efficiency_pct == 10_000  # 1.0000
    assert figures.reinvest == cents("500,000.00")
    assert figures.buyer_credit == cents("100,000.00")
    assert figures.vendor_gain == cents("400,000.00")


# -- variance ------------------------------------------------------------------------------


def test_the_variance_is_actual_minus_plan_and_relative_to_the_plan() -> None:
    # Planned 960,000.00, actual 950,000.00: -10,000.00, i.e. -10,000 / 960,000
    # = -0.0104166... -> -0.0104.
    assert variance(cents("960,000.00"), cents("950,000.00")) == Variance(cents("-10,000.00"), -104)
    # Planned gain 40,000.00, actual 50,000.00: +10,000.00 = +0.25 of the plan.
    assert variance(cents("40,000.00"), cents("50,000.00")) == Variance(cents("10,000.00"), 2500)


def test_the_variance_of_a_zero_plan_has_an_amount_but_no_percentage() -> None:
    assert variance(0, cents("1,234.56")) == Variance(cents("1,234.56"), None)
    assert variance(0, cents("-1,234.56")) == Variance(cents("-1,234.56"), None)
    assert variance(0, 0) == Variance(0, None)


def test_the_variance_of_a_negative_plan_is_relative_to_its_size() -> None:
    # Planned loss -1,000.00, actual loss -1,500.00: 500.00 worse, -0.5 of the plan's size.
    assert variance(cents("-1,000.00"), cents("-1,500.00")) == Variance(cents("-500.00"), -5000)
    assert variance(cents("-1,000.00"), cents("-500.00")) == Variance(cents("500.00"), 5000)


def test_variance_percentages_round_half_away_from_zero() -> None:
    # 1 cent on 200.00 (20,000 cents) is 0.00005: rounds away from zero either way.
    assert variance(20_000, 20_001) == Variance(1, 1)
    assert variance(20_000, 19_999) == Variance(-1, -1)
    assert variance(20_001, 20_002) == Variance(1, 0)


# -- properties ----------------------------------------------------------------------------

AMOUNTS = st.integers(min_value=0, max_value=10**17 - 1)
SHARE_UNITS = 10**6
VOLUMES = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=10**15).map(lambda units: Decimal(units).scaleb(-3)),
)


@st.composite
def shares(draw: st.DrawFn) -> tuple[Decimal, Decimal]:
    """s_r and s_b with six decimals each and s_r + s_b <= 1."""
    reinvest = draw(st.integers(0, SHARE_UNITS))
    buyer = draw(st.integers(0, SHARE_UNITS - reinvest))
    return Decimal(reinvest).scaleb(-6), Decimal(buyer).scaleb(-6)


def plan_year(price: int, baseline: int) -> YearFigures:
    """A plan year with the figures actual_figures reads; the rest do not matter."""
    return PLAN._replace(price=price, baseline_cost=baseline)


def half_away(value: Fraction) -> int:
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


@PROPERTIES
@given(
    price=AMOUNTS, baseline=AMOUNTS, actual=AMOUNTS, split=shares(),
    planned_volume=VOLUMES, actual_volume=VOLUMES,
)  # fmt: skip
def test_the_shares_always_add_up_to_the_actual_gain(
    price: int,
    baseline: int,
    actual: int,
    split: tuple[Decimal, Decimal],
    planned_volume: Decimal | None,
    actual_volume: Decimal | None,
) -> None:
    reinvest_share, buyer_share = split
    figures = actual_figures(
        plan_year(price, baseline), actual, reinvest_share, buyer_share,
        planned_volume=planned_volume, actual_volume=actual_volume,
    )  # fmt: skip
    gain = figures.efficiency_gain
    assert gain == figures.baseline_used - actual
    assert figures.reinvest + figures.buyer_credit + figures.vendor_gain == gain
    positive = max(gain, 0)
    assert figures.reinvest == half_away(Fraction(reinvest_share) * positive)
    assert figures.buyer_credit == half_away(Fraction(buyer_share) * positive)
    assert 0 <= figures.reinvest + figures.buyer_credit <= positive
    if gain <= 0:
        assert figures.vendor_gain == gain
    assert figures.net_price == price - figures.buyer_credit
    assert figures.net_margin == figures.net_price - actual - figures.reinvest


@PROPERTIES
@given(
    baseline=AMOUNTS,
    volume=st.integers(min_value=1, max_value=10**15).map(lambda units: Decimal(units).scaleb(-3)),
)
def test_the_normalised_baseline_is_the_contractual_one_when_volumes_are_equal(
    baseline: int, volume: Decimal
) -> None:
    assert normalised_baseline(baseline, volume, volume) == baseline
    # The same volume written with other trailing zeros is the same volume.
    assert normalised_baseline(baseline, volume, volume.quantize(Decimal("0.000"))) == baseline


@PROPERTIES
@given(baseline=AMOUNTS, planned=VOLUMES, actual=VOLUMES)
def test_the_normalised_baseline_is_b_times_the_volume_ratio_rounded_once(
    baseline: int, planned: Decimal | None, actual: Decimal | None
) -> None:
    result = normalised_baseline(baseline, planned, actual)
    if planned is None or actual is None or planned == 0:
        assert result == baseline
    else:
        assert result == half_away(Fraction(baseline) * Fraction(actual) / Fraction(planned))


@PROPERTIES
@given(plan=st.integers(-(10**17), 10**17), actual=st.integers(-(10**17), 10**17))
def test_the_variance_amount_and_percentage_follow_the_plan(plan: int, actual: int) -> None:
    result = variance(plan, actual)
    assert result.amount == actual - plan
    if plan == 0:
        assert result.pct is None
    else:
        assert result.pct == half_away(Fraction((actual - plan) * 10_000, abs(plan)))
