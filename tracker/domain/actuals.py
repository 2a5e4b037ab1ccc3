"""Actual figures of a delivery year (financial model spec, section 3).

When the actual delivery cost A_y of a year is recorded it takes the place of the
planned cost K_y: the actual gain is S'_y = B'_y - A_y, where B'_y is the
contractual baseline B_y, or, when the contract names a volume driver and the
year's actual volume is known, the volume-normalised baseline
round(B_y x Q'_y / Q_y). The reinvestment, buyer credit and vendor share of the
actual gain, and the margins, follow the planned formulas. The price never
changes with actuals. Amounts are integers of minor units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from tracker.domain.money import divide_half_away
from tracker.domain.schedule import PCT_PLACES, YearFigures, split_gain

_PCT_SCALE = 10**PCT_PLACES


class ActualFigures(NamedTuple):
    """The actual figures of one year, beside its plan; names follow the spec.

    ``baseline_used`` is B'_y when the baseline was normalised by volume, else B_y;
    ``efficiency_pct`` is S'/B' in ten-thousandths, None when B' is 0.
    """

    year: int
    price: int
    baseline_cost: int
    baseline_used: int
    actual_cost: int
    efficiency_gain: int
    efficiency_pct: int | None
    reinvest: int
    buyer_credit: int
    vendor_gain: int
    net_price: int
    gross_margin: int
    net_margin: int

    @property
    def normalised(self) -> bool:
        """Whether the volume-normalised baseline differs from the contractual one."""
        return self.baseline_used != self.baseline_cost


class Variance(NamedTuple):
    """Actual minus plan, in minor units, and relative to the plan in ten-thousandths
    (None when the plan is 0)."""

    amount: int
    pct: int | None


def normalised_baseline(
    baseline: int, planned_volume: Decimal | None, actual_volume: Decimal | None
) -> int:
    """B'_y = round(B_y x Q'_y / Q_y) when both volumes are known and Q_y > 0, else B_y."""
    if planned_volume is None or actual_volume is None or planned_volume <= 0:
        return baseline
    q_num, q_den = actual_volume.as_integer_ratio()
    p_num, p_den = planned_volume.as_integer_ratio()
    return divide_half_away(baseline * q_num * p_den, q_den * p_num)


def ratio_pct(numerator: int, denominator: int) -> int | None:
    """numerator / denominator in ten-thousandths, half away from zero; None for 0."""
    if denominator == 0:
        return None
    return divide_half_away(numerator * _PCT_SCALE, denominator)


def actual_figures(
    plan: YearFigures,
    actual_cost: int,
    reinvest_share: Decimal,
    buyer_share: Decimal,
    *,
    planned_volume: Decimal | None = None,
    actual_volume: Decimal | None = None,
) -> ActualFigures:
    """The year's actual figures from its plan and its actual delivery cost."""
    baseline_used = normalised_baseline(plan.baseline_cost, planned_volume, actual_volume)
    gain = baseline_used - actual_cost
    split = split_gain(gain, reinvest_share, buyer_share)
    net_price = plan.price - split.buyer_credit
    gross_margin = net_price - actual_cost
    return ActualFigures(
        year=plan.year,
        price=plan.price,
        baseline_cost=plan.baseline_cost,
        baseline_used=baseline_used,
        actual_cost=actual_cost,
        efficiency_gain=gain,
        efficiency_pct=ratio_pct(gain, baseline_used),
        reinvest=split.reinvest,
        buyer_credit=split.buyer_credit,
        vendor_gain=split.vendor_gain,
        net_price=net_price,
        gross_margin=gross_margin,
        net_margin=gross_margin - split.reinvest,
    )


def variance(plan: int, actual: int) -> Variance:
    """Actual minus plan, and that difference relative to the plan's size."""
    amount = actual - plan
    return Variance(amount, ratio_pct(amount, abs(plan)))
