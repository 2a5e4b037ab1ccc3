"""Hand-checked yearly schedules (financial model spec, section 2).

Every expected figure below was worked out by hand from the spec's formulas;
amounts are integers of the currency's minor unit (cents for EUR).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tracker.domain.calendar import anniversary, contract_year_bounds
from tracker.domain.errors import InvalidTerms
from tracker.domain.money import (
    Currency,
    divide_half_away,
    from_minor_units,
    minor_units,
    money_text,
    rate_text,
    round_half_away,
)
from tracker.domain.schedule import (
    GainSplit,
    IndexStep,
    Schedule,
    Totals,
    YearFigures,
    compute_schedule,
    index_trace,
    split_gain,
)
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms

D = Decimal


def terms_document(
    *,
    years: int = 3,
    start: str = "2025-01-01",
    currency: str = "EUR",
    base: str | None = "1000.00",
    escalation: dict[str, Any] | None = None,
    baseline: str = "0",
    inflation: str | list[str] = "0",
    efficiency: str | list[str] = "0",
    reinvest: str = "0",
    buyer: str = "0",
    discount: str = "0",
) -> dict[str, Any]:
    """A terms document with neutral defaults: flat price, no cost, nothing shared."""
    price: dict[str, Any] = {"escalation": escalation or {"method": "fixed", "rate": "0"}}
    if base is not None:
        price["base"] = base
    return {
        "name": "Hand-checked contract",
        "currency": currency,
        "start_date": start,
        "term_years": years,
        "price": price,
        "cost": {"baseline": baseline, "inflation": inflation, "efficiency": efficiency},
        "gain_split": {"reinvest": reinvest, "buyer": buyer},
        "discount_rate": discount,
    }


def make_terms(**fields: Any) -> ContractTerms:
    """Validated terms from ``terms_document`` arguments."""
    return parse_terms(terms_document(**fields))


def schedule_of(**fields: Any) -> Schedule:
    """The computed schedule for ``terms_document`` arguments."""
    return compute_schedule(make_terms(**fields))


def column(schedule: Schedule, name: str) -> list[Any]:
    """One figure of every year, in year order."""
    return [getattr(year, name) for year in schedule.years]


# -- rounding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 2, 1),
        (-1, 2, -1),
        (3, 2, 2),
        (-3, 2, -2),
        (3, -2, -2),
        (-3, -2, 2),
        (5, 2, 3),
        (-5, 2, -3),
        (1, 3, 0),
        (2, 3, 1),
        (-2, 3, -1),
        (0, 7, 0),
        (7, 1, 7),
        (10**40 + 1, 2, 5 * 10**39 + 1),
        (-(10**40) - 1, 2, -(5 * 10**39) - 1),
        (149, 100, 1),
        (150, 100, 2),
        (-150, 100, -2),
    ],
)
def test_division_rounds_half_away_from_zero(
    numerator: int, denominator: int, expected: int
) -> None:
    assert divide_half_away(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("value", "quantum", "expected"),
    [
        ("2.5", "1", "3"),
        ("-2.5", "1", "-3"),
        ("0.125", "0.01", "0.13"),
        ("-0.125", "0.01", "-0.13"),
        ("0.124999", "0.01", "0.12"),
        ("1.0005", "0.001", "1.001"),
        ("0.00005", "0.0001", "0.0001"),
        ("123456789012345678901234567890.5", "1", "123456789012345678901234567891"),
    ],
)
def test_decimal_rounding_is_half_away_from_zero(value: str, quantum: str, expected: str) -> None:
    rounded = round_half_away(D(value), D(quantum))
    assert rounded == D(expected)
    assert rounded.as_tuple().exponent == D(quantum).as_tuple().exponent


def test_money_text_has_the_currency_places_and_never_a_negative_zero() -> None:
    eur, jpy, kwd = Currency("EUR", 2), Currency("JPY", 0), Currency("KWD", 3)
    assert money_text(D("1200000"), eur) == "1200000.00"
    assert money_text(D("-0.001"), eur) == "0.00"
    assert money_text(D("-0"), eur) == "0.00"
    assert money_text(D("1E+3"), jpy) == "1000"
    assert money_text(D("0.5"), kwd) == "0.500"
    assert minor_units(D("12.34"), eur) == 1234
    assert from_minor_units(-5, kwd) == D("-0.005")


def test_rate_text_drops_trailing_zeros_and_exponents() -> None:
    assert rate_text(D("0.030")) == "0.03"
    assert rate_text(D("1.000000")) == "1"
    assert rate_text(D("0E-6")) == "0"
    assert rate_text(D("-0")) == "0"
    assert rate_text(D("0.000001")) == "0.000001"
    assert rate_text(D("-0.5")) == "-0.5"


# -- fixed escalation ------------------------------------------------------------------


def test_fixed_escalation_applies_each_year_its_own_rate() -> None:
    schedule = schedule_of(
        years=4, escalation={"method": "fixed", "rate": ["0.10", "-0.05", "0.001"]}
    )
    # 1000.00; x1.10 = 1100.00; x0.95 = 1045.00; x1.001 = 1046.045 -> 1046.05 (a tie, away from 0)
    assert column(schedule, "price") == [100000, 110000, 104500, 104605]
    assert column(schedule, "escalation") == [None, D("0.10"), D("-0.05"), D("0.001")]


def test_fixed_escalation_compounds_on_the_rounded_previous_price() -> None:
    schedule = schedule_of(base="100.50", escalation={"method": "fixed", "rate": "0.01"})
    # 100.50 x 1.01 = 101.505 -> 101.51; 101.51 x 1.01 = 102.5251 -> 102.53.
    # (Compounding the unrounded price would give 100.50 x 1.0201 = 102.52005 -> 102.52.)
    assert column(schedule, "price") == [10050, 10151, 10253]


def test_the_first_price_is_the_base_and_has_no_escalation() -> None:
    schedule = schedule_of(base="1234.56", escalation={"method": "fixed", "rate": "0.5"})
    first = schedule.years[0]
    assert (first.price, first.escalation) == (123456, None)


def test_a_negative_fixed_rate_lowers_the_price_with_half_away_rounding() -> None:
    schedule = schedule_of(base="0.03", escalation={"method": "fixed", "rate": "-0.5"})
    # 0.03 x 0.5 = 0.015 -> 0.02; 0.02 x 0.5 = 0.01.
    assert column(schedule, "price") == [3, 2, 1]


# -- index escalation ------------------------------------------------------------------

COLLAR = {
    "method": "index",
    "index": ["0.02", "0.09", "-0.03", "0.05"],
    "share": "0.5",
    "offset": "0.01",
    "cap": "0.03",
    "floor": "0",
}


def test_index_escalation_applies_share_offset_cap_and_floor() -> None:
    schedule = schedule_of(years=5, escalation=COLLAR)
    # a = 0.5 x index - 0.01: 0 ; 0.035 -> cap 0.03 ; -0.025 -> floor 0 ; 0.015
    assert column(schedule, "escalation") == [None, D(0), D("0.03"), D(0), D("0.015")]
    # 1000.00, 1000.00, 1030.00, 1030.00, 1030.00 x 1.015 = 1045.45
    assert column(schedule, "price") == [100000, 100000, 103000, 103000, 104545]


def test_the_index_trace_shows_each_step_and_which_bound_clamped() -> None:
    steps = index_trace(make_terms(years=5, escalation=COLLAR))
    common = {"share": D("0.5"), "offset": D("0.01"), "cap": D("0.03"), "floor": D(0)}
    assert steps == (
        IndexStep(
            year=2, index_change=D("0.02"), unclamped=D(0), clamped_by=None, applied=D(0), **common
        ),
        IndexStep(
            year=3,
            index_change=D("0.09"),
            unclamped=D("0.035"),
            clamped_by="cap",
            applied=D("0.03"),
            **common,
        ),
        IndexStep(
            year=4,
            index_change=D("-0.03"),
            unclamped=D("-0.025"),
            clamped_by="floor",
            applied=D(0),
            **common,
        ),
        IndexStep(
            year=5,
            index_change=D("0.05"),
            unclamped=D("0.015"),
            clamped_by=None,
            applied=D("0.015"),
            **common,
        ),
    )


def test_the_index_trace_matches_the_escalation_column() -> None:
    terms = make_terms(years=5, escalation=COLLAR)
    applied = [step.applied for step in index_trace(terms)]
    assert applied == column(compute_schedule(terms), "escalation")[1:]


def test_index_escalation_defaults_to_cpi_minus_x_without_a_collar() -> None:
    terms = make_terms(escalation={"method": "index", "index": "0.03", "offset": "0.01"})
    # a = 1 x 0.03 - 0.01 = 0.02: 1000.00, 1020.00, 1040.40
    assert column(compute_schedule(terms), "price") == [100000, 102000, 104040]
    assert [(s.share, s.clamped_by, s.cap, s.floor) for s in index_trace(terms)] == [
        (D(1), None, None, None)
    ] * 2


def test_index_escalation_with_only_a_cap_or_only_a_floor() -> None:
    capped = make_terms(years=2, escalation={"method": "index", "index": "0.5", "cap": "0.1"})
    floored = make_terms(years=2, escalation={"method": "index", "index": "-0.2", "floor": "-0.05"})
    assert column(compute_schedule(capped), "price") == [100000, 110000]
    assert column(compute_schedule(floored), "price") == [100000, 95000]
    assert [s.clamped_by for s in index_trace(capped) + index_trace(floored)] == ["cap", "floor"]


def test_index_escalation_keeps_the_product_of_share_and_index_unrounded() -> None:
    terms = make_terms(years=2, escalation={"method": "index", "index": "0.1", "share": "0.333333"})
    # a = 0.0333333 (seven places, not rounded); 1000.00 x 1.0333333 = 1033.33333 -> 1033.33
    assert column(compute_schedule(terms), "escalation") == [None, D("0.0333333")]
    assert column(compute_schedule(terms), "price") == [100000, 103333]


def test_an_applied_index_rate_of_minus_fifty_percent_halves_the_price() -> None:
    escalation = {"method": "index", "index": "-0.4", "offset": "0.1"}
    # a = -0.4 - 0.1 = -0.5: 0.03 x 0.5 = 0.015 -> 0.02 (tie away from zero); 0.02 x 0.5 = 0.01
    schedule = schedule_of(base="0.03", escalation=escalation)
    assert column(schedule, "escalation") == [None, D("-0.5"), D("-0.5")]
    assert column(schedule, "price") == [3, 2, 1]


def test_an_applied_index_rate_of_one_hundred_percent_doubles_the_price() -> None:
    escalation = {"method": "index", "index": "0.5", "offset": "-0.5"}
    assert column(schedule_of(escalation=escalation), "price") == [100000, 200000, 400000]


def test_the_index_trace_is_empty_for_other_methods() -> None:
    assert index_trace(make_terms()) == ()
    schedule = {"method": "schedule", "prices": ["1.00", "2.00", "3.00"]}
    assert index_trace(make_terms(base=None, escalation=schedule)) == ()


# -- schedule escalation ---------------------------------------------------------------


def test_scheduled_prices_are_used_as_agreed_with_no_escalation_rate() -> None:
    escalation = {"method": "schedule", "prices": ["100.00", "90.00", "120.00"]}
    schedule = schedule_of(base=None, escalation=escalation)
    assert column(schedule, "price") == [10000, 9000, 12000]
    assert column(schedule, "escalation") == [None, None, None]
    assert [year["escalation"] for year in schedule_document(schedule)["years"]] == [None] * 3


# -- baseline cost and efficiency ------------------------------------------------------


def test_inflation_applies_each_year_its_own_rate() -> None:
    schedule = schedule_of(baseline="1000.00", inflation=["0.10", "-0.50"])
    assert column(schedule, "baseline_cost") == [100000, 110000, 55000]


def test_the_baseline_compounds_on_the_rounded_previous_baseline() -> None:
    schedule = schedule_of(baseline="10.10", inflation="0.05")
    # 10.10 x 1.05 = 10.605 -> 10.61 (tie away from zero); 10.61 x 1.05 = 11.1405 -> 11.14
    assert column(schedule, "baseline_cost") == [1010, 1061, 1114]


def test_efficiency_compounds_as_a_product_of_the_yearly_gains() -> None:
    schedule = schedule_of(baseline="1000.00", efficiency=["0.1", "0.2", "0.5"])
    # E = 0.9, 0.9 x 0.8 = 0.72, 0.72 x 0.5 = 0.36
    assert column(schedule, "planned_cost") == [90000, 72000, 36000]
    assert column(schedule, "efficiency_gain") == [10000, 28000, 64000]
    assert column(schedule, "efficiency_pct") == [1000, 2800, 6400]


def test_the_efficiency_factor_is_never_rounded() -> None:
    schedule = schedule_of(baseline="1000000.00", efficiency="0.333333")
    # E1 = 0.666667                  -> 666667.00
    # E2 = 0.444444888889            -> 444444.888889 -> 444444.89 (not 0.444445 -> 444445.00)
    # E3 = 0.296296740740963         -> 296296.740740963 -> 296296.74
    assert column(schedule, "planned_cost") == [66666700, 44444489, 29629674]


def test_the_planned_cost_is_the_baseline_times_the_factor_not_the_previous_planned_cost() -> None:
    schedule = schedule_of(baseline="100.00", inflation="0.005", efficiency="0.5")
    # B = 100.00, 100.50, 101.0025 -> 101.00
    # K = 100.00 x 0.5 = 50.00; 100.50 x 0.25 = 25.125 -> 25.13; 101.00 x 0.125 = 12.625 -> 12.63
    assert column(schedule, "baseline_cost") == [10000, 10050, 10100]
    assert column(schedule, "planned_cost") == [5000, 2513, 1263]
    assert column(schedule, "efficiency_gain") == [5000, 7537, 8837]
    # 7537 / 10050 = 0.74995024... -> 0.7500; 8837 / 10100 = 0.87495049... -> 0.8750
    assert column(schedule, "efficiency_pct") == [5000, 7500, 8750]


def test_the_efficiency_percentage_rounds_a_tie_away_from_zero() -> None:
    schedule = schedule_of(years=1, baseline="0.32", efficiency="0.03125")
    # K = 32 x 0.96875 = 31 cents, S = 1 cent, S / B = 0.03125 -> 0.0313
    year = schedule.years[0]
    assert (year.planned_cost, year.efficiency_gain, year.efficiency_pct) == (31, 1, 313)
    assert schedule_document(schedule)["years"][0]["efficiency_pct"] == "0.0313"


def test_the_efficiency_percentage_is_null_when_the_baseline_is_zero() -> None:
    schedule = schedule_of(baseline="0", efficiency="0.5")
    assert column(schedule, "efficiency_pct") == [None, None, None]
    assert column(schedule, "efficiency_gain") == [0, 0, 0]
    years = schedule_document(schedule)["years"]
    assert [year["efficiency_pct"] for year in years] == [None, None, None]


def test_no_efficiency_gives_a_zero_percentage_with_four_places() -> None:
    schedule = schedule_of(years=1, baseline="500.00")
    assert schedule.years[0].efficiency_pct == 0
    assert schedule_document(schedule)["years"][0]["efficiency_pct"] == "0.0000"


def test_an_efficiency_just_below_one_hundred_percent_leaves_almost_no_cost() -> None:
    schedule = schedule_of(years=2, baseline="1000000.00", efficiency="0.999999")
    # E1 = 0.000001 -> 1.00; E2 = 1e-12 -> 0.0001 cents -> 0.00
    assert column(schedule, "planned_cost") == [100, 0]
    assert column(schedule, "efficiency_pct") == [10000, 10000]


# -- the gain split --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gain", "reinvest", "buyer", "expected"),
    [
        (1, "0.5", "0", (1, 0, 0)),
        (1, "0.5", "0.5", (1, 1, -1)),
        (3, "0.5", "0.1", (2, 0, 1)),
        (5, "0.1", "0.3", (1, 2, 2)),
        (0, "0.5", "0.5", (0, 0, 0)),
        (-7, "0.5", "0.1", (0, 0, -7)),
        (100, "1", "0", (100, 0, 0)),
        (99, "0.333333", "0.666667", (33, 66, 0)),
    ],
)
def test_the_gain_is_split_with_ties_rounded_half_away_from_zero(
    gain: int, reinvest: str, buyer: str, expected: tuple[int, int, int]
) -> None:
    split = split_gain(gain, D(reinvest), D(buyer))
    assert split == GainSplit(*expected)
    assert sum(split) == gain


def test_a_gain_of_one_cent_at_fifty_percent_reinvests_one_cent() -> None:
    schedule = schedule_of(years=1, baseline="0.10", efficiency="0.1", reinvest="0.5")
    year = schedule.years[0]
    # K = 10 x 0.9 = 9 cents, S = 1 cent, R = round(0.5) = 1 cent
    assert (year.efficiency_gain, year.reinvest, year.buyer_credit, year.vendor_gain) == (
        1,
        1,
        0,
        0,
    )


def test_a_gain_of_one_cent_split_in_halves_leaves_the_vendor_minus_one_cent() -> None:
    schedule = schedule_of(
        years=1, base="1.00", baseline="0.10", efficiency="0.1", reinvest="0.5", buyer="0.5"
    )
    year = schedule.years[0]
    # R = C = round(0.5) = 1 cent each, so V = 1 - 1 - 1 = -1 cent: the shares still add up to S.
    assert (year.reinvest, year.buyer_credit, year.vendor_gain) == (1, 1, -1)
    assert (year.net_price, year.gross_margin, year.net_margin) == (99, 90, 89)


def test_a_whole_year_follows_the_spec_formulas() -> None:
    schedule = schedule_of(
        years=1,
        base="1000.00",
        baseline="800.00",
        efficiency="0.1",
        reinvest="0.5",
        buyer="0.2",
        discount="0.25",
    )
    assert schedule.years[0] == YearFigures(
        year=1,
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        escalation=None,
        price=100000,
        baseline_cost=80000,
        planned_cost=72000,
        efficiency_gain=8000,
        efficiency_pct=1000,
        reinvest=4000,
        buyer_credit=1600,
        vendor_gain=2400,
        net_price=98400,
        gross_margin=26400,
        net_margin=22400,
        reinvest_cumulative=4000,
    )
    # A one-year term: totals are the year's figures; NPV = 224.00 / 1.25 = 179.20
    assert schedule.totals == Totals(
        price=100000,
        baseline_cost=80000,
        planned_cost=72000,
        efficiency_gain=8000,
        reinvest=4000,
        buyer_credit=1600,
        vendor_gain=2400,
        net_price=98400,
        gross_margin=26400,
        net_margin=22400,
        npv_net_margin=17920,
    )


def test_the_schedule_split_agrees_with_split_gain_every_year() -> None:
    terms = make_terms(
        years=6,
        baseline="123456.78",
        inflation="0.031",
        efficiency="0.0123",
        reinvest="0.37",
        buyer="0.21",
    )
    for year in compute_schedule(terms).years:
        assert (year.reinvest, year.buyer_credit, year.vendor_gain) == split_gain(
            year.efficiency_gain, terms.reinvest_share, terms.buyer_share
        )


def test_reinvestment_accumulates_year_by_year() -> None:
    schedule = schedule_of(baseline="1000.00", efficiency=["0.1", "0.2", "0.5"], reinvest="0.5")
    assert column(schedule, "reinvest") == [5000, 14000, 32000]
    assert column(schedule, "reinvest_cumulative") == [5000, 19000, 51000]


# -- net present value -----------------------------------------------------------------


def test_the_npv_at_a_zero_discount_rate_is_the_sum_of_the_net_margins() -> None:
    schedule = schedule_of(
        years=7,
        baseline="800.00",
        inflation="0.02",
        efficiency="0.03",
        reinvest="0.4",
        buyer="0.1",
        escalation={"method": "fixed", "rate": "0.025"},
    )
    assert schedule.totals.npv_net_margin == schedule.totals.net_margin
    assert schedule.totals.npv_net_margin == sum(column(schedule, "net_margin"))


def test_the_npv_discounts_each_year() -> None:
    schedule = schedule_of(years=2, base="1100.00", discount="0.1")
    # 1100.00 / 1.1 + 1100.00 / 1.21 = 1000.00 + 909.0909... = 1909.0909... -> 1909.09
    assert schedule.totals.npv_net_margin == 190909


def test_the_npv_is_rounded_once_not_year_by_year() -> None:
    schedule = schedule_of(base="0.01", discount="0.1")
    # 0.01 / 1.1 + 0.01 / 1.21 + 0.01 / 1.331 = 0.024868... -> 0.02 (rounding each year: 0.03)
    assert column(schedule, "net_margin") == [1, 1, 1]
    assert schedule.totals.npv_net_margin == 2


def test_a_negative_npv_rounds_a_tie_away_from_zero() -> None:
    schedule = schedule_of(years=1, base="1.00", baseline="1.05", discount="1")
    # net margin = 1.00 - 1.05 = -0.05; -0.05 / 2 = -0.025 -> -0.03
    assert schedule.years[0].net_margin == -5
    assert schedule.totals.npv_net_margin == -3
    assert schedule_document(schedule)["totals"]["npv_net_margin"] == "-0.03"


# -- contract years --------------------------------------------------------------------


def test_a_contract_starting_on_29_february_keeps_its_anniversary_on_28_february() -> None:
    schedule = schedule_of(years=5, start="2024-02-29")
    assert [(year.start, year.end) for year in schedule.years] == [
        (date(2024, 2, 29), date(2025, 2, 27)),
        (date(2025, 2, 28), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2027, 2, 27)),
        (date(2027, 2, 28), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2029, 2, 27)),
    ]


def test_a_mid_year_start_runs_to_the_day_before_each_anniversary() -> None:
    schedule = schedule_of(years=3, start="2025-07-15")
    years = schedule_document(schedule)["years"]
    assert [(year["start"], year["end"]) for year in years] == [
        ("2025-07-15", "2026-07-14"),
        ("2026-07-15", "2027-07-14"),
        ("2027-07-15", "2028-07-14"),
    ]


def test_a_contract_year_can_end_on_29_february() -> None:
    schedule = schedule_of(years=3, start="2026-03-01")
    assert schedule.years[1].end == date(2028, 2, 29)
    assert schedule.years[2].start == date(2028, 3, 1)


def test_a_start_on_the_last_day_of_the_year() -> None:
    schedule = schedule_of(years=2, start="2025-12-31")
    assert [(y.start, y.end) for y in schedule.years] == [
        (date(2025, 12, 31), date(2026, 12, 30)),
        (date(2026, 12, 31), date(2027, 12, 30)),
    ]


def test_anniversaries_and_year_bounds_of_29_february() -> None:
    start = date(2024, 2, 29)
    assert anniversary(start, 0) == start
    assert anniversary(start, 1) == date(2025, 2, 28)
    assert anniversary(start, 4) == date(2028, 2, 29)
    assert contract_year_bounds(start, 1) == (date(2024, 2, 29), date(2025, 2, 27))
    assert contract_year_bounds(start, 4) == (date(2027, 2, 28), date(2028, 2, 28))


def test_contract_years_are_contiguous_for_a_long_term() -> None:
    schedule = schedule_of(years=30, start="2024-02-29")
    for before, after in zip(schedule.years, schedule.years[1:], strict=False):
        assert (after.start - before.end).days == 1
    assert schedule.years[-1].end == date(2054, 2, 27)


# -- currencies ------------------------------------------------------------------------


def test_jpy_amounts_have_no_minor_unit() -> None:
    schedule = schedule_of(
        currency="JPY",
        base="101",
        escalation={"method": "fixed", "rate": "0.005"},
        baseline="1000",
        efficiency="0.0005",
        years=2,
    )
    # P: 101 x 1.005 = 101.505 -> 102 yen. K1 = 1000 x 0.9995 = 999.5 -> 1000 (a tie, away from 0);
    # K2 = 1000 x 0.99900025 = 999.00025 -> 999, S2 = 1, S2 / B2 = 0.0010
    assert column(schedule, "price") == [101, 102]
    assert column(schedule, "planned_cost") == [1000, 999]
    document = schedule_document(schedule)
    assert document["currency"] == "JPY"
    assert [year["price"] for year in document["years"]] == ["101", "102"]
    assert [year["efficiency_pct"] for year in document["years"]] == ["0.0000", "0.0010"]
    assert document["totals"]["price"] == "203"
    assert all("." not in document["totals"][key] for key in document["totals"])


def test_kwd_amounts_have_three_places() -> None:
    schedule = schedule_of(
        currency="KWD",
        base="1.001",
        escalation={"method": "fixed", "rate": "0.5"},
        baseline="0.500",
        years=2,
    )
    # 1.001 x 1.5 = 1.5015 -> 1.502 (a tie, away from zero)
    assert column(schedule, "price") == [1001, 1502]
    document = schedule_document(schedule)
    assert [year["price"] for year in document["years"]] == ["1.001", "1.502"]
    assert [year["baseline_cost"] for year in document["years"]] == ["0.500", "0.500"]
    assert document["totals"]["price"] == "2.503"
    assert document["totals"]["net_margin"] == "1.503"


# -- term lengths ----------------------------------------------------------------------


def test_a_one_year_term_has_one_year_and_totals_equal_to_it() -> None:
    schedule = schedule_of(years=1, baseline="10.00", efficiency="0.2", reinvest="0.5")
    assert len(schedule.years) == 1
    year = schedule.years[0]
    assert year.escalation is None
    assert (year.start, year.end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert schedule.totals[:-1] == (
        year.price,
        year.baseline_cost,
        year.planned_cost,
        year.efficiency_gain,
        year.reinvest,
        year.buyer_credit,
        year.vendor_gain,
        year.net_price,
        year.gross_margin,
        year.net_margin,
    )
    assert schedule.totals.npv_net_margin == year.net_margin


def test_a_thirty_year_term_doubling_every_year_stays_exact() -> None:
    # (2^30 - 1) x 931,322.57 EUR is 999,999,994,112,845.11: the largest doubling price
    # whose total over 30 years stays below the limit of 10^15.
    base_units = 93_132_257
    schedule = schedule_of(
        years=30,
        base="931322.57",
        escalation={"method": "fixed", "rate": "1"},
        baseline="931322.57",
        inflation="1",
        efficiency="0.5",
        reinvest="0.5",
    )
    assert column(schedule, "price") == [base_units * 2**y for y in range(30)]
    assert column(schedule, "baseline_cost") == [base_units * 2**y for y in range(30)]
    # K_y = B_1 x 2^(y-1) x 0.5^y = B_1 / 2 = 46,566,128.5 cents every year, rounded away
    assert column(schedule, "planned_cost") == [46_566_129] * 30
    assert schedule.totals.price == base_units * (2**30 - 1)
    assert all(type(value) is int for year in schedule.years for value in year[4:8])
    document = schedule_document(schedule)
    assert document["years"][-1]["price"] == "499999997522083.84"
    assert document["totals"]["price"] == "999999994112845.11"


def test_a_price_whose_total_over_the_term_would_pass_the_limit_is_refused() -> None:
    with pytest.raises(InvalidTerms) as refused:
        schedule_of(
            years=30,
            base="931322.58",
            escalation={"method": "fixed", "rate": "1"},
            baseline="0",
        )
    assert [error.path for error in refused.value.errors] == ["price.escalation"]
    assert "over the term" in refused.value.errors[0].message


def test_a_price_that_would_compound_past_the_limit_is_refused() -> None:
    with pytest.raises(InvalidTerms) as refused:
        parse_terms(
            terms_document(
                years=30,
                base="1862645.15",
                escalation={"method": "fixed", "rate": "1"},
                baseline="1000",
            )
        )
    assert [str(error) for error in refused.value.errors] == [
        "price.escalation: the price would reach 1,000,000,000,412,876.80 in year 30, "
        "not below the limit of 1,000,000,000,000,000"
    ]


# -- the canonical terms document ------------------------------------------------------

ROUND_TRIP_DOCUMENTS: list[dict[str, Any]] = [
    terms_document(),
    terms_document(
        years=5,
        base="1200000.00",
        escalation={"method": "fixed", "rate": ["0.03", "0", "-0.5", "1"]},
        baseline="1000000.00",
        inflation=["0.025", "0.02", "0.015", "0.01"],
        efficiency=["0.04", "0.03", "0.02", "0.01", "0"],
        reinvest="0.5",
        buyer="0.1",
        discount="0.08",
    ),
    terms_document(years=5, escalation=COLLAR, baseline="790000.00"),
    terms_document(escalation={"method": "index", "index": "0.02"}),
    terms_document(base=None, escalation={"method": "schedule", "prices": ["1", "2.5", "3.75"]}),
    terms_document(currency="JPY", base="1000000", baseline="900000", efficiency="0.000001"),
    terms_document(currency="KWD", base="1.001", baseline="0.999", years=1),
    {
        **terms_document(start="2024-02-29", years=30),
        "buyer": "Hospital Clínic",
        "vendor": "Nordlys IT",
    },
]


@pytest.mark.parametrize("doc", ROUND_TRIP_DOCUMENTS)
def test_the_canonical_terms_document_parses_back_to_the_same_terms(doc: dict[str, Any]) -> None:
    terms = parse_terms(doc)
    canonical = terms.document()
    assert parse_terms(canonical) == terms
    assert parse_terms(canonical).document() == canonical
    assert compute_schedule(parse_terms(canonical)) == compute_schedule(terms)


def test_the_canonical_document_writes_money_and_rates_as_canonical_text() -> None:
    doc = terms_document(
        base="1200000", baseline="1000000.5", inflation="0.0250", reinvest="0.50", discount="0"
    )
    canonical = parse_terms(doc).document()
    assert canonical["price"]["base"] == "1200000.00"
    assert canonical["cost"]["baseline"] == "1000000.50"
    assert canonical["cost"]["inflation"] == "0.025"
    assert canonical["gain_split"] == {"reinvest": "0.5", "buyer": "0"}
    assert canonical["discount_rate"] == "0"
    assert "buyer" not in canonical
    assert "vendor" not in canonical


def test_the_canonical_document_keeps_per_year_lists_as_lists() -> None:
    doc = terms_document(inflation=["0.02", "0.02"], efficiency="0.01")
    canonical = parse_terms(doc).document()
    assert canonical["cost"]["inflation"] == ["0.02", "0.02"]
    assert canonical["cost"]["efficiency"] == "0.01"
