"""Contract terms in words, for people who read contracts rather than JSON."""

from __future__ import annotations

from decimal import Decimal

from tracker.domain.money import Currency, money_text
from tracker.domain.terms import (
    ContractTerms,
    FixedEscalation,
    IndexEscalation,
    YearlyRates,
)

#: Keeps a number and its unit on one line.
NBSP = "\u00a0"


def percent(rate: Decimal) -> str:
    """0.035 -> "3.5 %" (as many places as the rate has), the sign bound to the number."""
    value = rate.scaleb(2).normalize()
    return f"{value:f}{NBSP}%"


def amount(value: Decimal, currency: Currency) -> str:
    """An amount with thousands separators and the currency code: 1,200,000.00 EUR."""
    text = money_text(value, currency)
    whole, _dot, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{grouped}{'.' + fraction if fraction else ''}{NBSP}{currency.code}"


def rates_text(rates: YearlyRates, first_year: int) -> str:
    """One rate for every year, or the list of rates with their years."""
    if rates.uniform is not None:
        return f"{percent(rates.uniform)} a year"
    return ", ".join(
        f"year{NBSP}{first_year + i}: {percent(value)}" for i, value in enumerate(rates.values)
    )


def escalation_text(terms: ContractTerms) -> str:
    """How the price moves from year to year."""
    escalation = terms.escalation
    if terms.term_years == 1:
        return "a single year: no escalation"
    if isinstance(escalation, FixedEscalation):
        return f"fixed escalation of {rates_text(escalation.rates, 2)}"
    if isinstance(escalation, IndexEscalation):
        parts = [f"{percent(escalation.share)} of the index change"]
        if escalation.offset:
            parts.append(f"minus {percent(escalation.offset)}")
        clamps = []
        if escalation.cap is not None:
            clamps.append(f"capped at {percent(escalation.cap)}")
        if escalation.floor is not None:
            clamps.append(f"floored at {percent(escalation.floor)}")
        text = "index-linked: " + " ".join(parts)
        if clamps:
            text += ", " + " and ".join(clamps)
        return text + f" (index {rates_text(escalation.index, 2)})"
    return "a negotiated price for each year"


def terms_in_words(terms: ContractTerms) -> list[tuple[str, str]]:
    """The terms as (topic, sentence) pairs, in the order a contract states them."""
    currency = terms.currency
    years = "year" if terms.term_years == 1 else "years"
    split = [f"{percent(terms.reinvest_share)} reinvested in improvements"]
    if terms.buyer_share:
        split.append(f"{percent(terms.buyer_share)} credited to the buyer")
    split.append(f"{percent(1 - terms.reinvest_share - terms.buyer_share)} kept by the vendor")
    return [
        ("Parties", f"{terms.buyer or 'a buyer'} buys from {terms.vendor or 'a vendor'}"),
        (
            "Term",
            f"{terms.term_years} {years} from {terms.start_date.isoformat()}, "
            f"amounts in {currency.code}",
        ),
        (
            "Price",
            f"{amount(terms.base_price, currency)} in year 1, then {escalation_text(terms)}",
        ),
        (
            "Delivery cost",
            f"baseline of {amount(terms.baseline_cost, currency)} in year 1 without any "
            f"improvement, changing by {rates_text(terms.inflation, 2)}"
            if terms.term_years > 1
            else f"baseline of {amount(terms.baseline_cost, currency)} without any improvement",
        ),
        ("Planned efficiency", rates_text(terms.efficiency, 1)),
        ("Gain split", ", ".join(split)),
        ("Discount rate", f"{percent(terms.discount_rate)} for the net present value"),
    ]
