"""The yearly schedule of a contract (financial model spec, section 2).

The arithmetic is exact and done on integers: amounts are integers of the
currency's minor unit (cents for EUR), rates are exact ratios of integers
(``Decimal.as_integer_ratio``). A product is never rounded except where the
spec says ``round()``, and then by ``divide_half_away``, the product's one
rounding rule (half away from zero). Integers keep the whole model of a
10,000-contract portfolio well within a third of a second.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from tracker.domain.calendar import contract_years
from tracker.domain.money import Currency, divide_half_away, minor_units
from tracker.domain.terms import (
    ContractTerms,
    FixedEscalation,
    IndexEscalation,
    ScheduleEscalation,
)

# The index rule k x index - X multiplies two six-decimal rates: exact within
# this precision, and any rounding would be trapped rather than go unnoticed.
_EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.Rounded])
PCT_PLACES = 4
_PCT_SCALE2 = 2 * 10**PCT_PLACES  # twice the scale of efficiency_pct, for half-away rounding


class YearFigures(NamedTuple):
    """The planned figures of one contract year; names as in the spec's section 2.

    Amounts are integers of the currency's minor unit; ``efficiency_pct`` is in
    ten-thousandths (400 is 0.0400); ``escalation`` is the exact rate applied.
    """

    year: int
    start: date
    end: date
    escalation: Decimal | None
    price: int
    baseline_cost: int
    planned_cost: int
    efficiency_gain: int
    efficiency_pct: int | None
    reinvest: int
    buyer_credit: int
    vendor_gain: int
    net_price: int
    gross_margin: int
    net_margin: int
    reinvest_cumulative: int


class Totals(NamedTuple):
    """Column sums of the rounded yearly figures and the NPV of the net margin (minor units)."""

    price: int
    baseline_cost: int
    planned_cost: int
    efficiency_gain: int
    reinvest: int
    buyer_credit: int
    vendor_gain: int
    net_price: int
    gross_margin: int
    net_margin: int
    npv_net_margin: int


class IndexStep(NamedTuple):
    """How one year's index-linked escalation was reached, for both parties to re-check."""

    year: int
    index_change: Decimal  # the published index change for the year
    share: Decimal
    offset: Decimal
    unclamped: Decimal
    cap: Decimal | None
    floor: Decimal | None
    clamped_by: str | None  # "cap", "floor" or None
    applied: Decimal


class GainSplit(NamedTuple):
    """An efficiency gain divided into reinvestment, buyer credit and vendor gain."""

    reinvest: int
    buyer_credit: int
    vendor_gain: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """The whole planned schedule of a contract."""

    currency: Currency
    years: tuple[YearFigures, ...]
    totals: Totals


#: Totals that are column sums, in the spec's order.
SUM_FIELDS = Totals._fields[:-1]


def split_gain(gain: int, reinvest_share: Decimal, buyer_share: Decimal) -> GainSplit:
    """R = round(s_r x max(S, 0)), C = round(s_b x max(S, 0)), V = S - R - C.

    The general form, for gains of either sign (actual gains can be negative);
    ``compute_schedule`` inlines it for the planned gains, which never are.
    """
    positive = max(gain, 0)
    r_num, r_den = reinvest_share.as_integer_ratio()
    b_num, b_den = buyer_share.as_integer_ratio()
    reinvest = divide_half_away(r_num * positive, r_den)
    buyer = divide_half_away(b_num * positive, b_den)
    return GainSplit(reinvest, buyer, gain - reinvest - buyer)


def index_rate(escalation: IndexEscalation, index: Decimal) -> tuple[Decimal, Decimal, str | None]:
    """a_y = k x index_y - X, then min with the cap, then max with the floor.

    Returns the unclamped rate, the applied rate and what clamped it ("cap",
    "floor" or None).
    """
    unclamped = _EXACT.subtract(_EXACT.multiply(escalation.share, index), escalation.offset)
    applied, clamped_by = unclamped, None
    if escalation.cap is not None and applied > escalation.cap:
        applied, clamped_by = escalation.cap, "cap"
    if escalation.floor is not None and applied < escalation.floor:
        applied, clamped_by = escalation.floor, "floor"
    return unclamped, applied, clamped_by


def index_trace(terms: ContractTerms) -> tuple[IndexStep, ...]:
    """The year-by-year index computation of an index-linked contract (empty otherwise)."""
    escalation = terms.escalation
    if not isinstance(escalation, IndexEscalation):
        return ()
    steps = []
    for year, index in enumerate(escalation.index.values, start=2):
        unclamped, applied, clamped_by = index_rate(escalation, index)
        steps.append(
            IndexStep(
                year,
                index,
                escalation.share,
                escalation.offset,
                unclamped,
                escalation.cap,
                escalation.floor,
                clamped_by,
                applied,
            )
        )
    return tuple(steps)


def escalation_rates(terms: ContractTerms) -> list[Decimal | None]:
    """The rate that takes each year's price from the previous one: None for year 1
    and for a negotiated schedule."""
    escalation = terms.escalation
    if isinstance(escalation, FixedEscalation):
        return [None, *escalation.rates.values]
    if isinstance(escalation, IndexEscalation):
        return [None, *(index_rate(escalation, index)[1] for index in escalation.index.values)]
    return [None] * terms.term_years


def compounded(first: int, ratios: Iterable[tuple[int, int]]) -> list[int]:
    """``first``, then each year round(previous x (1 + rate)): prices and baselines.

    Rates are exact (numerator, denominator) pairs; amounts stay positive
    because rates are at least -50 %, so (2x + d) // 2d is ``divide_half_away``.
    """
    amounts = [first]
    amount = first
    for num, den in ratios:
        amount = (2 * amount * (den + num) + den) // (2 * den)
        amounts.append(amount)
    return amounts


def planned_prices(terms: ContractTerms, rates: list[Decimal | None]) -> list[int]:
    """P_1..P_N in minor units."""
    money = terms.currency
    escalation = terms.escalation
    if isinstance(escalation, ScheduleEscalation):
        return [minor_units(price, money) for price in escalation.prices]
    first = minor_units(terms.base_price, money)
    if isinstance(escalation, FixedEscalation):
        return compounded(first, escalation.rates.ratios)
    return compounded(first, (rate.as_integer_ratio() for rate in rates[1:] if rate is not None))


def compute_schedule(terms: ContractTerms) -> Schedule:
    """The planned yearly figures, their totals and the NPV of the net margin."""
    money = terms.currency
    rates = escalation_rates(terms)
    prices = planned_prices(terms, rates)
    baselines = compounded(minor_units(terms.baseline_cost, money), terms.inflation.ratios)
    r_num, r_den = terms.reinvest_share.as_integer_ratio()
    b_num, b_den = terms.buyer_share.as_integer_ratio()
    # Every operand below is >= 0 (efficiency is below 100 %, so the gain is too),
    # and for x >= 0 and d > 0, (2x + d) // 2d is divide_half_away(x, d), inlined
    # because this loop runs for every year of every contract of a portfolio.
    r_num2, r_den2, b_num2, b_den2 = 2 * r_num, 2 * r_den, 2 * b_num, 2 * b_den
    bounds = contract_years(terms.start_date, terms.term_years)
    years: list[YearFigures] = []
    new_year = tuple.__new__  # skips NamedTuple's Python-level __new__ on the hot path
    factor_num = factor_den = 1  # E_y = factor_num / factor_den, exact and unrounded
    cumulative = total_price = total_baseline = total_planned = total_buyer = 0
    total_vendor = total_net_price = total_gross = total_net = 0
    for year, ((g_num, g_den), price, baseline, rate, (start, end)) in enumerate(
        zip(terms.efficiency.ratios, prices, baselines, rates, bounds, strict=True), start=1
    ):
        factor_num *= g_den - g_num
        factor_den *= g_den
        planned = (2 * baseline * factor_num + factor_den) // (factor_den + factor_den)
        gain = baseline - planned
        reinvest = (r_num2 * gain + r_den) // r_den2
        buyer_credit = (b_num2 * gain + b_den) // b_den2
        vendor_gain = gain - reinvest - buyer_credit
        net_price = price - buyer_credit
        gross_margin = net_price - planned
        net_margin = gross_margin - reinvest
        cumulative += reinvest
        total_price += price
        total_baseline += baseline
        total_planned += planned
        total_buyer += buyer_credit
        total_vendor += vendor_gain
        total_net_price += net_price
        total_gross += gross_margin
        total_net += net_margin
        years.append(
            new_year(YearFigures, (
                year, start, end, rate, price, baseline, planned, gain,
                (gain * _PCT_SCALE2 + baseline) // (baseline + baseline) if baseline else None,
                reinvest, buyer_credit, vendor_gain,
                net_price, gross_margin, net_margin, cumulative,
            ))
        )  # fmt: skip
    totals = Totals(
        total_price, total_baseline, total_planned, total_baseline - total_planned,
        cumulative, total_buyer, total_vendor, total_net_price, total_gross, total_net,
        net_present_value([year.net_margin for year in years], terms.discount_rate),
    )  # fmt: skip
    return Schedule(currency=money, years=tuple(years), totals=totals)


def net_present_value(amounts: list[int], rate: Decimal) -> int:
    """round(sum of amount_y / (1 + d)^y), computed exactly and rounded once.

    With 1 + d = a/b the sum is (sum of m_y x b^y x a^(N-y)) / a^N: integers
    only (accumulated Horner-style), so nothing is rounded before the end.
    """
    num, den = rate.as_integer_ratio()
    a, b = den + num, den
    total, b_power, a_power = 0, 1, 1
    for amount in amounts:
        b_power *= b
        a_power *= a
        total = total * a + amount * b_power
    return divide_half_away(total, a_power)
