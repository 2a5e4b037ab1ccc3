"""Exact money: currencies with their ISO 4217 minor units and the one rounding rule.

Every amount is a ``Decimal``. The only rounding the product ever does is
``round_half_away`` (ties go away from zero), to a currency's minor unit or to
a stated number of decimals.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision

# Decimal's ROUND_HALF_UP is "half away from zero": -2.5 rounds to -3.
_ROUNDING = decimal.Context(
    prec=1000, rounding=ROUND_HALF_UP, traps=[decimal.InvalidOperation, decimal.Overflow]
)

#: Largest absolute amount accepted anywhere (one quadrillion major units).
MONEY_LIMIT = Decimal("1000000000000000")


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and the number of decimals its amounts carry."""

    code: str
    places: int

    @property
    def quantum(self) -> Decimal:
        """The smallest amount, e.g. ``0.01`` for EUR and ``1`` for JPY."""
        return Decimal(1).scaleb(-self.places)


class UnknownCurrency(ValueError):
    """A code that is not an ISO 4217 currency."""


@cache
def currency(code: str) -> Currency:
    """The currency with this three-letter code; ``UnknownCurrency`` if there is none."""
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise UnknownCurrency(code)
    if code not in _known_codes():
        raise UnknownCurrency(code)
    return Currency(code=code, places=get_currency_precision(code))


@cache
def _known_codes() -> frozenset[str]:
    # Currencies that are legal tender somewhere today, per the CLDR data Babel
    # ships: historic codes (DEM, HRK) and funds or metals (XAU, XXX) are refused.
    return frozenset(
        code
        for history in get_global("territory_currencies").values()
        for code, _start, end, tender in history
        if tender and end is None
    )


def round_half_away(value: Decimal, quantum: Decimal) -> Decimal:
    """Round ``value`` to a multiple of ``quantum``, ties away from zero."""
    return value.quantize(quantum, context=_ROUNDING)


def divide_half_away(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` as an integer, ties away from zero (exact)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def minor_units(amount: Decimal, currency: Currency) -> int:
    """An amount that is already a multiple of the minor unit, as an integer of minor units."""
    return int(amount.scaleb(currency.places, context=_ROUNDING))


def from_minor_units(units: int, currency: Currency) -> Decimal:
    """Integer minor units back to an amount with exactly the currency's places."""
    return Decimal(units).scaleb(-currency.places, context=_ROUNDING)


def units_text(units: int, currency: Currency, *, grouped: bool = False) -> str:
    """Integer minor units as the amount's text with exactly the currency's places
    (``123456`` EUR cents is ``"1234.56"``; ``grouped`` gives ``"1,234.56"``)."""
    whole, fraction = divmod(abs(units), 10**currency.places)
    sign = "-" if units < 0 else ""
    text = f"{sign}{whole:,}" if grouped else f"{sign}{whole}"
    return f"{text}.{fraction:0{currency.places}d}" if currency.places else text


def money_text(amount: Decimal, currency: Currency) -> str:
    """The canonical text of an amount: exactly the currency's places, no exponent, no "-0"."""
    value = round_half_away(amount, currency.quantum)
    if value.is_zero():
        value = value.copy_abs()
    return f"{value:f}"


def rate_text(rate: Decimal) -> str:
    """The canonical text of a rate: no exponent and no trailing zeros ("0.03", "0")."""
    value = rate.normalize(context=_ROUNDING)
    if value.is_zero():
        return "0"
    return f"{value:f}"
