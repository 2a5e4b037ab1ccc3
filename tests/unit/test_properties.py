"""Properties of the schedule over generated valid terms documents.

The documents are generated within the ranges of spec section 1 (decimal
strings, terms of 1 to 30 years, the three escalation methods, EUR/JPY/KWD).
Each expected figure is recomputed here with ``fractions.Fraction`` and our
own half-away-from-zero rounding, independently of the code under test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracker.domain.errors import InvalidTerms
from tracker.domain.money import Currency, divide_half_away, round_half_away
from tracker.domain.schedule import (
    Schedule,
    YearFigures,
    compute_schedule,
    index_trace,
    split_gain,
)
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms

#: Generated terms documents are costly to draw: 100 of them per schedule property.
SCHEDULES = settings(max_examples=100, deadline=None, derandomize=True, database=None)
#: Plain integers are cheap: more examples for the rounding rule.
ARITHMETIC = settings(max_examples=200, deadline=None, derandomize=True, database=None)

PLACES = {"EUR": 2, "JPY": 0, "KWD": 3}
MONEY_LIMIT = Fraction(10**15)
RATE_PLACES = 6
ONE = Fraction(1)
HALF = Fraction(1, 2)

# -- exact reference arithmetic --------------------------------------------------------


def half_away(value: Fraction) -> int:
    """``value`` rounded to an integer, ties away from zero."""
    magnitude = math.floor(abs(value) + HALF)
    return magnitude if value >= 0 else -magnitude


def fixed_text(units: int, places: int) -> str:
    """``units`` of ``10**-places`` as plain decimal text, e.g. (-5, 2) -> "-0.05"."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def per_year(value: str | list[str], count: int) -> list[Fraction]:
    """A document rate (one value or a list) as one exact value per year."""
    if isinstance(value, list):
        assert len(value) == count
        return [Fraction(item) for item in value]
    return [Fraction(value)] * count


@dataclasses.dataclass
class Reference:
    """The schedule of section 2, recomputed exactly from the document."""

    escalation: list[Fraction | None]
    price: list[int]
    baseline_cost: list[int]
    planned_cost: list[int] = dataclasses.field(default_factory=list)
    efficiency_gain: list[int] = dataclasses.field(default_factory=list)
    efficiency_pct: list[int | None] = dataclasses.field(default_factory=list)
    reinvest: list[int] = dataclasses.field(default_factory=list)
    buyer_credit: list[int] = dataclasses.field(default_factory=list)
    vendor_gain: list[int] = dataclasses.field(default_factory=list)
    net_price: list[int] = dataclasses.field(default_factory=list)
    gross_margin: list[int] = dataclasses.field(default_factory=list)
    net_margin: list[int] = dataclasses.field(default_factory=list)
    reinvest_cumulative: list[int] = dataclasses.field(default_factory=list)
    npv_net_margin: int = 0


def escalated(first: int, rates: list[Fraction]) -> list[int]:
    """``first`` then round(previous x (1 + rate)) for each rate: compounding on rounded amounts."""
    amounts = [first]
    for rate in rates:
        amounts.append(half_away(amounts[-1] * (1 + rate)))
    return amounts


def index_rates(escalation: dict[str, Any], count: int) -> list[Fraction]:
    """a_y = k x index_y - X, then min with the cap, then max with the floor."""
    share = Fraction(escalation.get("share", "1"))
    offset = Fraction(escalation.get("offset", "0"))
    rates = []
    for index in per_year(escalation["index"], count):
        rate = share * index - offset
        if "cap" in escalation:
            rate = min(rate, Fraction(escalation["cap"]))
        if "floor" in escalation:
            rate = max(rate, Fraction(escalation["floor"]))
        rates.append(rate)
    return rates


def reference(doc: dict[str, Any]) -> Reference:
    """Every figure of the schedule from the document alone, with exact fractions."""
    scale = 10 ** PLACES[doc["currency"]]
    years = doc["term_years"]
    escalation = doc["price"]["escalation"]
    steps: list[Fraction | None]
    if escalation["method"] == "schedule":
        steps = [None] * years
        prices = [int(Fraction(price) * scale) for price in escalation["prices"]]
    else:
        if escalation["method"] == "fixed":
            rates = per_year(escalation["rate"], years - 1)
        else:
            rates = index_rates(escalation, years - 1)
        steps = [None, *rates]
        prices = escalated(int(Fraction(doc["price"]["base"]) * scale), rates)
    cost = doc["cost"]
    baselines = escalated(
        int(Fraction(cost["baseline"]) * scale), per_year(cost.get("inflation", "0"), years - 1)
    )
    split = doc.get("gain_split", {})
    reinvest_share = Fraction(split.get("reinvest", "0"))
    buyer_share = Fraction(split.get("buyer", "0"))
    ref = Reference(escalation=steps, price=prices, baseline_cost=baselines)
    factor = ONE
    for price, baseline, efficiency in zip(
        prices, baselines, per_year(cost.get("efficiency", "0"), years), strict=True
    ):
        factor *= 1 - efficiency  # E_y, exact and never rounded
        planned = half_away(baseline * factor)
        gain = baseline - planned
        reinvest = half_away(reinvest_share * max(gain, 0))
        buyer = half_away(buyer_share * max(gain, 0))
        net_price = price - buyer
        ref.planned_cost.append(planned)
        ref.efficiency_gain.append(gain)
        ref.efficiency_pct.append(
            half_away(Fraction(gain * 10_000, baseline)) if baseline else None
        )
        ref.reinvest.append(reinvest)
        ref.buyer_credit.append(buyer)
        ref.vendor_gain.append(gain - reinvest - buyer)
        ref.net_price.append(net_price)
        ref.gross_margin.append(net_price - planned)
        ref.net_margin.append(net_price - planned - reinvest)
        ref.reinvest_cumulative.append(sum(ref.reinvest))
    discount = 1 + Fraction(doc.get("discount_rate", "0"))
    ref.npv_net_margin = half_away(
        sum((Fraction(m) / discount**y for y, m in enumerate(ref.net_margin, start=1)), Fraction(0))
    )
    return ref


# -- generated terms documents ---------------------------------------------------------


def decimal_texts(low: Fraction, high: Fraction, max_places: int) -> st.SearchStrategy[str]:
    """Plain decimal strings in [low, high] with 0..max_places decimal places."""
    scale = 10**max_places
    lowest, highest = math.ceil(low * scale), math.floor(high * scale)

    def text(places_and_units: tuple[int, int]) -> str:
        places, units = places_and_units
        # Drop the last digits (rounding down), staying within [low, high].
        coarse = max(units // 10 ** (max_places - places), math.ceil(low * 10**places))
        return fixed_text(coarse, places)

    return st.tuples(st.integers(0, max_places), st.integers(lowest, highest)).map(text)


def rates(low: str, high: str) -> st.SearchStrategy[str]:
    """Rates in [low, high] with at most six decimal places."""
    return decimal_texts(Fraction(low), Fraction(high), RATE_PLACES)


def amounts(places: int, *, positive: bool) -> st.SearchStrategy[str]:
    """Money in a currency with ``places`` minor-unit places, below the money limit."""
    low = Fraction(1, 10**places) if positive else Fraction(0)
    highest = MONEY_LIMIT - Fraction(1, 10**places)
    return st.one_of(
        decimal_texts(low, Fraction(10**6), places),
        decimal_texts(low, highest, places),
    )


def yearly(count: int, values: st.SearchStrategy[str]) -> st.SearchStrategy[str | list[str]]:
    """One rate for every year, or a list with one value per year."""
    return st.one_of(values, st.lists(values, min_size=count, max_size=count))


ANY_RATE = rates("-0.5", "1")
EFFICIENCY = st.one_of(rates("0", "0.1"), rates("0", "0.999999"))


@st.composite
def escalations(draw: st.DrawFn, years: int, places: int) -> tuple[str | None, dict[str, Any]]:
    """A base price (or None when omitted) and an escalation of one of the three methods."""
    method = draw(st.sampled_from(["fixed", "index", "schedule"]))
    if method == "fixed":
        base = draw(amounts(places, positive=True))
        return base, {"method": "fixed", "rate": draw(yearly(years - 1, ANY_RATE))}
    if method == "index":
        escalation: dict[str, Any] = {"method": "index", "index": draw(yearly(years - 1, ANY_RATE))}
        if draw(st.booleans()):
            escalation["share"] = draw(rates("0", "1"))
        if draw(st.booleans()):
            escalation["offset"] = draw(ANY_RATE)
        cap = draw(st.none() | ANY_RATE)
        floor = draw(st.none() | ANY_RATE)
        if cap is not None and floor is not None and Fraction(floor) > Fraction(cap):
            cap, floor = floor, cap
        if cap is not None:
            escalation["cap"] = cap
        if floor is not None:
            escalation["floor"] = floor
        # The applied rate must itself lie in [-0.5, 1]: agree a collar where it would not.
        applied = index_rates(escalation, years - 1)
        if floor is None and any(rate < Fraction("-0.5") for rate in applied):
            escalation["floor"] = "-0.5"
        if cap is None and any(rate > 1 for rate in applied):
            escalation["cap"] = "1"
        return draw(amounts(places, positive=True)), escalation
    prices = draw(st.lists(amounts(places, positive=True), min_size=years, max_size=years))
    first: str | None = prices[0] if draw(st.booleans()) else None
    return first, {"method": "schedule", "prices": prices}


@st.composite
def terms_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid terms document within the spec's ranges."""
    code = draw(st.sampled_from(sorted(PLACES)))
    places = PLACES[code]
    years = draw(st.integers(1, 30))
    base, escalation = draw(escalations(years, places))
    price: dict[str, Any] = {"escalation": escalation}
    if base is not None:
        price["base"] = base
    cost: dict[str, Any] = {"baseline": draw(amounts(places, positive=False))}
    if draw(st.booleans()):
        cost["inflation"] = draw(yearly(years - 1, ANY_RATE))
    if draw(st.booleans()):
        cost["efficiency"] = draw(yearly(years, EFFICIENCY))
    doc: dict[str, Any] = {
        "name": draw(st.sampled_from(["Managed services", "Ünïcødé Façility", "x" * 200])),
        "currency": code,
        "start_date": draw(st.dates(date(1970, 1, 1), date(2100, 12, 31))).isoformat(),
        "term_years": draw(st.sampled_from([years, str(years)])),
        "price": price,
        "cost": cost,
    }
    if draw(st.booleans()):
        doc["buyer"], doc["vendor"] = "Hospital Clínic", "Nordlys IT"
    if draw(st.booleans()):
        reinvest = draw(st.integers(0, 10**RATE_PLACES))
        buyer = draw(st.integers(0, 10**RATE_PLACES - reinvest))
        doc["gain_split"] = {
            "reinvest": fixed_text(reinvest, RATE_PLACES),
            "buyer": fixed_text(buyer, RATE_PLACES),
        }
    if draw(st.booleans()):
        doc["discount_rate"] = draw(rates("0", "1"))
    return doc


def normalised(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with ``term_years`` as an int, for the reference model."""
    return {**doc, "term_years": int(doc["term_years"])}


def computed(doc: dict[str, Any]) -> tuple[ContractTerms, Schedule]:
    try:
        terms = parse_terms(doc)
    except InvalidTerms as exc:
        # Rates drawn independently can compound past the money limit, which the
        # parser rightly refuses; such documents are outside these properties.
        assume(not all("not below the limit" in error.message for error in exc.errors))
        raise
    return terms, compute_schedule(terms)


def column(schedule: Schedule, name: str) -> list[Any]:
    return [getattr(year, name) for year in schedule.years]


# -- properties of the schedule --------------------------------------------------------


@SCHEDULES
@given(terms_documents())
def test_reinvest_buyer_credit_and_vendor_gain_add_up_to_the_gain_every_year(
    doc: dict[str, Any],
) -> None:
    terms, schedule = computed(doc)
    assert [year.year for year in schedule.years] == list(range(1, terms.term_years + 1))
    for year in schedule.years:
        assert year.reinvest + year.buyer_credit + year.vendor_gain == year.efficiency_gain


@SCHEDULES
@given(terms_documents())
def test_reinvestment_never_exceeds_the_gain(doc: dict[str, Any]) -> None:
    for year in computed(doc)[1].years:
        assert 0 <= year.planned_cost <= year.baseline_cost
        assert 0 <= year.reinvest <= year.efficiency_gain
        assert 0 <= year.buyer_credit <= year.efficiency_gain


@SCHEDULES
@given(terms_documents())
def test_every_total_is_the_sum_of_its_column(doc: dict[str, Any]) -> None:
    schedule = computed(doc)[1]
    for name in schedule.totals._fields[:-1]:
        assert getattr(schedule.totals, name) == sum(column(schedule, name)), name


@SCHEDULES
@given(terms_documents())
def test_prices_follow_the_escalation_rule(doc: dict[str, Any]) -> None:
    terms, schedule = computed(doc)
    ref = reference(normalised(doc))
    prices = column(schedule, "price")
    steps = index_trace(terms)
    if doc["price"]["escalation"]["method"] == "schedule":
        assert prices == ref.price
        assert column(schedule, "escalation") == [None] * terms.term_years
        assert steps == ()
        return
    # Year by year from the code's own previous price, then the whole chain from the base.
    for previous, current, rate in zip(prices[:-1], prices[1:], ref.escalation[1:], strict=True):
        assert rate is not None
        assert current == half_away(previous * (1 + rate))
    assert prices == ref.price
    rates = column(schedule, "escalation")
    assert [None if rate is None else Fraction(rate) for rate in rates] == ref.escalation
    if doc["price"]["escalation"]["method"] == "fixed":
        assert steps == ()
        return
    # The index trace explains each rate: k x index - X, then the cap, then the floor.
    assert [step.year for step in steps] == list(range(2, terms.term_years + 1))
    for step, rate in zip(steps, rates[1:], strict=True):
        assert step.unclamped == step.share * step.index_change - step.offset
        expected, expected_by = step.unclamped, None
        if step.cap is not None and expected > step.cap:
            expected, expected_by = step.cap, "cap"
        if step.floor is not None and expected < step.floor:
            expected, expected_by = step.floor, "floor"
        assert (step.applied, step.clamped_by) == (expected, expected_by)
        assert step.applied == rate


@SCHEDULES
@given(terms_documents())
def test_reinvest_cumulative_is_the_running_sum(doc: dict[str, Any]) -> None:
    schedule = computed(doc)[1]
    running = 0
    for year in schedule.years:
        running += year.reinvest
        assert year.reinvest_cumulative == running
    assert schedule.totals.reinvest == running


@SCHEDULES
@given(terms_documents())
def test_planned_cost_is_the_rounded_baseline_times_the_compounded_efficiency(
    doc: dict[str, Any],
) -> None:
    schedule = computed(doc)[1]
    ref = reference(normalised(doc))
    assert column(schedule, "baseline_cost") == ref.baseline_cost
    assert column(schedule, "planned_cost") == ref.planned_cost
    assert column(schedule, "efficiency_gain") == ref.efficiency_gain
    assert column(schedule, "efficiency_pct") == ref.efficiency_pct


@SCHEDULES
@given(terms_documents())
def test_the_npv_is_the_exactly_discounted_net_margin_rounded_once(doc: dict[str, Any]) -> None:
    schedule = computed(doc)[1]
    ref = reference(normalised(doc))
    assert column(schedule, "net_margin") == ref.net_margin
    assert schedule.totals.npv_net_margin == ref.npv_net_margin


@SCHEDULES
@given(terms_documents())
def test_the_whole_schedule_matches_an_independent_exact_model(doc: dict[str, Any]) -> None:
    terms, schedule = computed(doc)
    ref = reference(normalised(doc))
    for name in YearFigures._fields[4:]:
        assert column(schedule, name) == getattr(ref, name), name
    # Contract years follow each other without gap or overlap, one per anniversary.
    assert schedule.years[0].start == terms.start_date
    for year in schedule.years:
        assert 365 <= (year.end - year.start).days + 1 <= 366
        assert year.start.year == terms.start_date.year + year.year - 1
    for before, after in zip(schedule.years, schedule.years[1:], strict=False):
        assert (after.start - before.end).days == 1


@SCHEDULES
@given(terms_documents())
def test_the_schedule_document_writes_every_amount_with_the_currency_places(
    doc: dict[str, Any],
) -> None:
    terms, schedule = computed(doc)
    places = PLACES[doc["currency"]]
    assert terms.currency == Currency(doc["currency"], places)
    document = schedule_document(schedule)
    assert list(document) == ["currency", "years", "totals"]
    assert document["currency"] == doc["currency"]
    for year, figures in zip(document["years"], schedule.years, strict=True):
        assert list(year) == list(YearFigures._fields)
        assert (year["year"], year["start"], year["end"]) == (
            figures.year,
            figures.start.isoformat(),
            figures.end.isoformat(),
        )
        for name in YearFigures._fields[4:]:
            if name != "efficiency_pct":
                assert year[name] == fixed_text(getattr(figures, name), places), name
        pct = figures.efficiency_pct
        assert year["efficiency_pct"] == (None if pct is None else fixed_text(pct, 4))
        if figures.escalation is None:
            assert year["escalation"] is None
        else:
            assert Decimal(year["escalation"]) == figures.escalation
    assert list(document["totals"]) == list(schedule.totals._fields)
    for name, text in document["totals"].items():
        assert text == fixed_text(getattr(schedule.totals, name), places), name


# -- no binary floating point anywhere -------------------------------------------------


def walk(value: object) -> Iterator[object]:
    """Every value nested in tuples, lists, dicts and dataclasses."""
    yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from walk(getattr(value, field.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key)
            yield from walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item)


@SCHEDULES
@given(terms_documents())
def test_no_float_appears_in_the_terms_the_schedule_or_its_document(doc: dict[str, Any]) -> None:
    terms, schedule = computed(doc)
    for root in (terms, terms.document(), schedule, schedule_document(schedule)):
        for value in walk(root):
            assert not isinstance(value, float), f"float {value!r} in {type(root).__name__}"
            if isinstance(value, Decimal):
                assert value.is_finite()
    for year in schedule.years:
        for name in YearFigures._fields[4:]:
            value = getattr(year, name)
            assert value is None or type(value) is int, (name, value)
    assert all(type(total) is int for total in schedule.totals)


# -- the canonical document ------------------------------------------------------------


@SCHEDULES
@given(terms_documents())
def test_the_canonical_document_round_trips(doc: dict[str, Any]) -> None:
    terms, _schedule = computed(doc)
    canonical = terms.document()
    again = parse_terms(canonical)
    assert again == terms
    assert again.document() == canonical
    assert compute_schedule(again) == compute_schedule(terms)


# -- the rounding rule -----------------------------------------------------------------


@ARITHMETIC
@given(st.integers(), st.integers().filter(bool))
def test_divide_half_away_is_exact_half_away_from_zero_rounding(
    numerator: int, denominator: int
) -> None:
    assert divide_half_away(numerator, denominator) == half_away(Fraction(numerator, denominator))


@ARITHMETIC
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6).map(lambda n: 2 * n))
def test_exact_halves_always_round_away_from_zero(whole: int, denominator: int) -> None:
    numerator = whole * denominator + denominator // 2
    # numerator / denominator is exactly whole + 1/2: up for whole >= 0, down below zero.
    assert divide_half_away(numerator, denominator) == (whole + 1 if whole >= 0 else whole)
    assert divide_half_away(-numerator, denominator) == -divide_half_away(numerator, denominator)


@ARITHMETIC
@given(
    st.integers(-(10**30), 10**30),
    st.integers(0, 12),
    st.integers(0, 8),
)
def test_round_half_away_matches_exact_rounding(
    units: int, places: int, quantum_places: int
) -> None:
    value = Decimal(units).scaleb(-places)
    quantum = Decimal(1).scaleb(-quantum_places)
    expected = half_away(Fraction(value) / Fraction(quantum)) * Fraction(quantum)
    rounded = round_half_away(value, quantum)
    assert Fraction(rounded) == expected
    assert rounded.as_tuple().exponent == -quantum_places


def shares() -> st.SearchStrategy[tuple[Decimal, Decimal]]:
    return st.integers(0, 10**RATE_PLACES).flatmap(
        lambda r: st.integers(0, 10**RATE_PLACES - r).map(
            lambda b: (Decimal(r).scaleb(-RATE_PLACES), Decimal(b).scaleb(-RATE_PLACES))
        )
    )


@ARITHMETIC
@given(st.integers(-(10**20), 10**20), shares())
def test_split_gain_rounds_each_share_and_gives_the_rest_to_the_vendor(
    gain: int, split: tuple[Decimal, Decimal]
) -> None:
    reinvest_share, buyer_share = split
    result = split_gain(gain, reinvest_share, buyer_share)
    positive = max(gain, 0)
    assert result.reinvest == half_away(Fraction(reinvest_share) * positive)
    assert result.buyer_credit == half_away(Fraction(buyer_share) * positive)
    assert sum(result) == gain
    assert 0 <= result.reinvest <= positive
    assert 0 <= result.buyer_credit <= positive
