"""Reading single values out of a document, exactly, with an error per bad field.

A ``FieldReader`` collects every problem it meets instead of stopping at the
first, so that a person fixing a document sees all of them at once. Numbers
are read exactly: decimal text, integers or ``Decimal`` values; a binary
floating-point number is refused, since it may already have lost a cent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from tracker.domain.errors import FieldError
from tracker.domain.money import MONEY_LIMIT, Currency, round_half_away

T = TypeVar("T")

_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_NUMBER_TEXT = 60
_MAX_ITEMS = 100
#: Control characters, surrogates, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
#: Bidirectional overrides and isolates, which can make text read other than it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
RATE_PLACES = 6
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def describe(value: object) -> str:
    """A short rendering of a bad value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, float):
        return f"the binary floating-point number {value!r}"
    if isinstance(value, int) and value.bit_length() > 200:
        # str() of a huge int is slow, and refused past 4,300 digits.
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f'"{text}"'


def rate_range_text(low: Decimal, high: Decimal, *, high_open: bool = False) -> str:
    """How a rate's allowed range reads in a message."""
    upper = f"below {high}" if high_open else f"at most {high}"
    return f"a rate from {low} to {high} ({upper}), with at most {RATE_PLACES} decimal places"


class FieldReader:
    """Reads typed values from a document and collects one error per bad field."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def error(self, path: str, message: str) -> None:
        """Record a problem with the field at ``path``."""
        self.errors.append(FieldError(path, message))

    # -- structure ------------------------------------------------------------

    def mapping(
        self, value: object, path: str, allowed: tuple[str, ...]
    ) -> Mapping[str, Any] | None:
        """An object whose keys are all in ``allowed``; unknown keys are errors."""
        if not isinstance(value, Mapping):
            self.error(path, f"expected an object, got {describe(value)}")
            return None
        for key in value:
            if key not in allowed:
                self.error(
                    f"{path}.{key}" if path else str(key),
                    f"unknown field; expected one of {', '.join(allowed)}",
                )
        return value

    def required(self, parent: Mapping[str, Any], key: str, path: str) -> object | None:
        """The value under ``key``, or an error when it is missing or null."""
        value = parent.get(key)
        if value is None:
            self.error(path, "required")
        return value

    def required_field(
        self,
        parent: Mapping[str, Any],
        key: str,
        path: str,
        read: Callable[..., T | None],
        *args: Any,
        **kwargs: Any,
    ) -> T | None:
        """``read(value, path, ...)`` of the value under ``key``; a missing value gets
        one "required" error and is not read further (so it is reported once)."""
        value = self.required(parent, key, path)
        return None if value is None else read(value, path, *args, **kwargs)

    # -- scalars --------------------------------------------------------------

    def text(self, value: object, path: str, *, max_length: int = 200) -> str | None:
        """Single-line text of 1..max_length characters, surrounding blanks removed."""
        if not isinstance(value, str):
            self.error(path, f"expected text, got {describe(value)}")
            return None
        # Only spaces are trimmed: str.strip() would also drop control characters
        # such as U+001F silently, and those must be refused, not hidden.
        stripped = value.strip(" ")
        if not stripped:
            self.error(path, "must not be empty")
            return None
        if len(stripped) > max_length:
            self.error(path, f"expected at most {max_length} characters, got {len(stripped)}")
            return None
        for char in stripped:
            if unicodedata.category(char) in _REFUSED_CATEGORIES or char in _BIDI_CONTROLS:
                self.error(path, f"contains the control character U+{ord(char):04X}")
                return None
        return stripped

    def number(
        self,
        value: object,
        path: str,
        expected: str,
        *,
        written: str = "plain decimals such as 1234.56",
    ) -> Decimal | None:
        """An exact decimal number from text, an integer or a ``Decimal``."""
        if isinstance(value, bool) or value is None:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, Decimal):
            if not value.is_finite():
                self.error(path, f"expected {expected}, got {value}")
                return None
            return value
        if isinstance(value, str):
            text = value.strip()
            if len(text) <= _MAX_NUMBER_TEXT and _DECIMAL_TEXT.fullmatch(text):
                return Decimal(text)
            self.error(
                path,
                f"expected {expected}, written as {written}; got {describe(value)}",
            )
            return None
        self.error(path, f"expected {expected}, got {describe(value)}")
        return None

    def rate(
        self,
        value: object,
        path: str,
        low: Decimal,
        high: Decimal,
        *,
        high_open: bool = False,
    ) -> Decimal | None:
        """A rate within [low, high] (or [low, high)) with at most six decimal places."""
        expected = rate_range_text(low, high, high_open=high_open)
        number = self.number(value, path, expected)
        if number is None:
            return None
        in_range = low <= number and (number < high if high_open else number <= high)
        # The range check comes first: it keeps the rounding below to small numbers.
        if not in_range or round_half_away(number, _RATE_QUANTUM) != number:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        return number + 0  # drops the sign of a negative zero

    def money(
        self, value: object, path: str, currency: Currency | None, *, positive: bool
    ) -> Decimal | None:
        """An amount in ``currency``: > 0 (or >= 0), below the money limit, whole minor units."""
        code = currency.code if currency else "the contract's currency"
        bound = "greater than 0" if positive else "of 0 or more"
        places = f"at most {currency.places} decimal places" if currency else "whole minor units"
        expected = f"an amount in {code} {bound}, below {MONEY_LIMIT:,}, with {places}"
        number = self.number(value, path, expected)
        if number is None:
            return None
        if number.is_zero() and number.is_signed():
            self.error(path, f"expected {expected}, got a negative zero")
            return None
        too_small = number <= 0 if positive else number < 0
        if too_small or number >= MONEY_LIMIT:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        if currency is None:
            return number
        rounded = round_half_away(number, currency.quantum)
        if rounded != number:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        return rounded

    def signed_money(self, value: object, path: str, currency: Currency) -> Decimal | None:
        """A non-zero amount in ``currency`` of either sign (an adjustment), below the limit."""
        places = f"at most {currency.places} decimal places"
        expected = (
            f"an amount in {currency.code} other than 0, negative to take money out, "
            f"below {MONEY_LIMIT:,} either way, with {places}"
        )
        number = self.number(value, path, expected, written="plain decimals such as -1234.56")
        if number is None:
            return None
        if number.is_zero() or abs(number) >= MONEY_LIMIT:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        rounded = round_half_away(number, currency.quantum)
        if rounded != number:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        return rounded

    def quantity(
        self, value: object, path: str, *, low: Decimal, high: Decimal, places: int = 6
    ) -> Decimal | None:
        """A measured value (a volume, a KPI result) from ``low`` to ``high``, at most
        ``places`` decimals."""
        expected = f"a number from {low:,} to {high:,} with at most {places} decimal places"
        number = self.number(value, path, expected, written="plain decimals such as 1234.5")
        if number is None:
            return None
        if (
            not low <= number <= high
            or round_half_away(number, Decimal(1).scaleb(-places)) != number
        ):
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        return number + 0  # drops the sign of a negative zero

    def whole_number(self, value: object, path: str, low: int, high: int) -> int | None:
        """An integer from ``low`` to ``high`` (a JSON integer or digits as text)."""
        expected = f"a whole number from {low} to {high}"
        number = self.number(value, path, expected, written=f"digits such as {high}")
        if number is None:
            return None
        if not low <= number <= high or number != int(number):
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        return int(number)

    def date(self, value: object, path: str) -> date | None:
        """A calendar date written YYYY-MM-DD, within the years the product handles."""
        expected = f"a date written YYYY-MM-DD from {EARLIEST_DATE} to {LATEST_DATE}"
        if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value.strip()):
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            self.error(path, f"{describe(value)} is not a calendar date")
            return None
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            self.error(path, f"expected {expected}, got {describe(value)}")
            return None
        return parsed

    def item_list(self, value: object, path: str) -> list[object] | None:
        """A list, refused when it is absurdly long."""
        if not isinstance(value, list | tuple):
            self.error(path, f"expected a list, got {describe(value)}")
            return None
        if len(value) > _MAX_ITEMS:
            self.error(path, f"expected at most {_MAX_ITEMS} values, got {len(value)}")
            return None
        return list(value)
