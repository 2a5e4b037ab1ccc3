"""Validate a terms document (financial model spec, section 1) into ``ContractTerms``.

Every rule is checked and every violation reported, each with the field's
path; nothing is returned from a document that has any error.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader, describe
from tracker.domain.money import (
    MONEY_LIMIT,
    Currency,
    UnknownCurrency,
    currency,
    minor_units,
    money_text,
    units_text,
)
from tracker.domain.schedule import compounded, escalation_rates, index_rate, planned_prices
from tracker.domain.terms import (
    ContractTerms,
    Escalation,
    FixedEscalation,
    IndexEscalation,
    ScheduleEscalation,
    YearlyRates,
)

MAX_TERM_YEARS = 30
DEFAULT_CURRENCY = "EUR"
_ZERO = Decimal(0)
_ONE = Decimal(1)
_RATE_LOW = Decimal("-0.5")

_TOP_FIELDS = (
    "name", "buyer", "vendor", "currency", "start_date", "term_years",
    "price", "cost", "gain_split", "discount_rate",
)  # fmt: skip
_ESCALATION_FIELDS = {
    "fixed": ("method", "rate"),
    "index": ("method", "index", "share", "offset", "cap", "floor"),
    "schedule": ("method", "prices"),
}


def parse_terms(document: object) -> ContractTerms:
    """Validate a terms document; ``InvalidTerms`` lists every error found."""
    reader = FieldReader()
    terms = _Parser(reader).terms(document)
    if terms is not None and not reader.errors:
        _check_curves_stay_below_the_limit(terms, reader)
    if reader.errors or terms is None:
        raise InvalidTerms(reader.errors or [FieldError("document", "invalid")])
    return terms


class _Parser:
    """One pass over a terms document, collecting errors in ``reader``."""

    def __init__(self, reader: FieldReader) -> None:
        self.read = reader
        self.years: int | None = None
        self.currency: Currency | None = None

    def terms(self, document: object) -> ContractTerms | None:
        if not isinstance(document, Mapping):
            self.read.error(
                "document",
                f"expected an object with the contract's terms, got {describe(document)}",
            )
            return None
        doc = self.read.mapping(document, "", _TOP_FIELDS)
        assert doc is not None
        name = self.read.required_field(doc, "name", "name", self.read.text)
        buyer = self._optional_text(doc, "buyer")
        vendor = self._optional_text(doc, "vendor")
        self.currency = self._currency(doc.get("currency"))
        start_date = self.read.required_field(doc, "start_date", "start_date", self.read.date)
        self.years = self.read.required_field(
            doc, "term_years", "term_years", self.read.whole_number, 1, MAX_TERM_YEARS
        )
        price = self._price(doc.get("price"))
        cost = self._cost(doc.get("cost"))
        shares = self._gain_split(doc.get("gain_split"))
        discount = self._optional_rate(doc, "discount_rate", "discount_rate", _ZERO, _ONE)
        if (
            name is None
            or self.currency is None
            or start_date is None
            or self.years is None
            or price is None
            or cost is None
            or shares is None
            or discount is None
            or self.read.errors
        ):
            return None
        base_price, escalation = price
        baseline, inflation, efficiency = cost
        return ContractTerms(
            name=name,
            buyer=buyer,
            vendor=vendor,
            currency=self.currency,
            start_date=start_date,
            term_years=self.years,
            base_price=base_price,
            escalation=escalation,
            baseline_cost=baseline,
            inflation=inflation,
            efficiency=efficiency,
            reinvest_share=shares[0],
            buyer_share=shares[1],
            discount_rate=discount,
        )

    # -- parties and currency -------------------------------------------------

    def _optional_text(self, doc: Mapping[str, Any], key: str) -> str | None:
        value = doc.get(key)
        return None if value is None else self.read.text(value, key)

    def _currency(self, value: object) -> Currency | None:
        if value is None:
            return currency(DEFAULT_CURRENCY)
        if isinstance(value, str):
            try:
                return currency(value.strip())
            except UnknownCurrency:
                pass
        self.read.error(
            "currency", f"expected an ISO 4217 currency code such as EUR, got {describe(value)}"
        )
        return None

    # -- price ----------------------------------------------------------------

    def _price(self, value: object) -> tuple[Decimal, Escalation] | None:
        if value is None:
            self.read.error("price", "required")
            return None
        price = self.read.mapping(value, "price", ("base", "escalation"))
        if price is None:
            return None
        escalation_doc = self.read.required(price, "escalation", "price.escalation")
        escalation = None if escalation_doc is None else self._escalation(escalation_doc)
        if isinstance(escalation, ScheduleEscalation) or (
            escalation is None and _method_of(escalation_doc) == "schedule"
        ):
            return self._scheduled_base(price.get("base"), escalation)
        base = self.read.required_field(
            price, "base", "price.base", self.read.money, self.currency, positive=True
        )
        if base is None or escalation is None:
            return None
        return base, escalation

    def _scheduled_base(
        self, base_doc: object, escalation: Escalation | None
    ) -> tuple[Decimal, Escalation] | None:
        base = (
            None
            if base_doc is None
            else self.read.money(base_doc, "price.base", self.currency, positive=True)
        )
        if not isinstance(escalation, ScheduleEscalation):
            return None
        first = escalation.prices[0]
        if base is not None and base != first and self.currency is not None:
            self.read.error(
                "price.base",
                f"must equal the first scheduled price ({money_text(first, self.currency)}), "
                f"got {money_text(base, self.currency)}",
            )
            return None
        return first, escalation

    def _escalation(self, value: object) -> Escalation | None:
        path = "price.escalation"
        method = _method_of(value)
        if not isinstance(value, Mapping):
            self.read.error(path, f"expected an object, got {describe(value)}")
            return None
        if not isinstance(method, str) or method not in _ESCALATION_FIELDS:
            self.read.error(
                f"{path}.method",
                f"expected one of {', '.join(_ESCALATION_FIELDS)}, got {describe(method)}",
            )
            return None
        doc = self.read.mapping(value, path, _ESCALATION_FIELDS[method])
        if doc is None:
            return None
        if method == "fixed":
            rates = self.read.required_field(doc, "rate", f"{path}.rate", self._rates, first_year=2)
            return None if rates is None else FixedEscalation(rates)
        if method == "index":
            return self._index_escalation(doc, path)
        return self._schedule_escalation(doc, path)

    def _index_escalation(self, doc: Mapping[str, Any], path: str) -> IndexEscalation | None:
        index = self.read.required_field(doc, "index", f"{path}.index", self._rates, first_year=2)
        share = self._optional_rate(doc, "share", f"{path}.share", _ZERO, _ONE, default=_ONE)
        offset = self._optional_rate(doc, "offset", f"{path}.offset", _RATE_LOW, _ONE)
        cap = self._optional_rate(doc, "cap", f"{path}.cap", _RATE_LOW, _ONE, default=None)
        floor = self._optional_rate(doc, "floor", f"{path}.floor", _RATE_LOW, _ONE, default=None)
        if cap is not None and floor is not None and floor > cap:
            self.read.error(f"{path}.floor", f"must not exceed the cap ({cap}), got {floor}")
            return None
        if index is None or share is None or offset is None:
            return None
        if (doc.get("cap") is not None and cap is None) or (
            doc.get("floor") is not None and floor is None
        ):
            return None
        escalation = IndexEscalation(index=index, share=share, offset=offset, cap=cap, floor=floor)
        return escalation if self._applied_rates_in_range(escalation, path) else None

    def _applied_rates_in_range(self, escalation: IndexEscalation, path: str) -> bool:
        """k x index - X, after cap and floor, must itself be a rate from -0.5 to 1,
        or a price could turn negative or more than double in one year."""
        uniform = escalation.index.uniform is not None
        # One index value for every year gives one applied rate: check (and report) it once.
        values = escalation.index.values[:1] if uniform else escalation.index.values
        valid = True
        for i, value in enumerate(values):
            applied = index_rate(escalation, value)[1]
            if not _RATE_LOW <= applied <= _ONE:
                self.read.error(
                    f"{path}.index" if uniform else f"{path}.index[{i}]",
                    f"the applied rate {'every year' if uniform else f'for year {i + 2}'} "
                    f"(share x index - offset, then cap and floor) is {applied}, "
                    "outside -0.5 to 1; agree a cap or a floor",
                )
                valid = False
        return valid

    def _schedule_escalation(self, doc: Mapping[str, Any], path: str) -> ScheduleEscalation | None:
        prices_path = f"{path}.prices"
        items = self.read.required(doc, "prices", prices_path)
        if items is None:
            return None
        values = self.read.item_list(items, prices_path)
        if values is None:
            return None
        if self.years is not None and len(values) != self.years:
            self.read.error(
                prices_path, f"expected {_count_text(self.years, 1)}, got {len(values)}"
            )
            return None
        prices = [
            self.read.money(item, f"{prices_path}[{i}]", self.currency, positive=True)
            for i, item in enumerate(values)
        ]
        if not prices or any(price is None for price in prices):
            if not prices:
                self.read.error(prices_path, "expected at least one price")
            return None
        return ScheduleEscalation(tuple(p for p in prices if p is not None))

    # -- cost and split -------------------------------------------------------

    def _cost(self, value: object) -> tuple[Decimal, YearlyRates, YearlyRates] | None:
        if value is None:
            self.read.error("cost", "required")
            return None
        cost = self.read.mapping(value, "cost", ("baseline", "inflation", "efficiency"))
        if cost is None:
            return None
        baseline = self.read.required_field(
            cost, "baseline", "cost.baseline", self.read.money, self.currency, positive=False
        )
        inflation = self._rates(cost.get("inflation", "0"), "cost.inflation", first_year=2)
        efficiency = self._rates(
            cost.get("efficiency", "0"), "cost.efficiency", first_year=1, low=_ZERO,
            high_open=True,
        )  # fmt: skip
        if baseline is None or inflation is None or efficiency is None:
            return None
        return baseline, inflation, efficiency

    def _gain_split(self, value: object) -> tuple[Decimal, Decimal] | None:
        if value is None:
            return _ZERO, _ZERO
        split = self.read.mapping(value, "gain_split", ("reinvest", "buyer"))
        if split is None:
            return None
        reinvest = self._optional_rate(split, "reinvest", "gain_split.reinvest", _ZERO, _ONE)
        buyer = self._optional_rate(split, "buyer", "gain_split.buyer", _ZERO, _ONE)
        if reinvest is None or buyer is None:
            return None
        if reinvest + buyer > 1:
            self.read.error(
                "gain_split",
                f"the reinvested ({reinvest}) and buyer ({buyer}) shares add up to "
                f"{reinvest + buyer}, more than 1",
            )
            return None
        return reinvest, buyer

    # -- rates ----------------------------------------------------------------

    def _optional_rate(
        self,
        doc: Mapping[str, Any],
        key: str,
        path: str,
        low: Decimal,
        high: Decimal,
        default: Decimal | None = _ZERO,
    ) -> Decimal | None:
        value = doc.get(key)
        if value is None:
            return default
        return self.read.rate(value, path, low, high)

    def _rates(
        self,
        value: object,
        path: str,
        *,
        first_year: int,
        low: Decimal = _RATE_LOW,
        high_open: bool = False,
    ) -> YearlyRates | None:
        """A rate for each year from ``first_year`` to N: one value, or a list of them."""
        count = None if self.years is None else self.years - first_year + 1
        if not isinstance(value, list | tuple):
            rate = self.read.rate(value, path, low, _ONE, high_open=high_open)
            if rate is None or count is None:
                return None
            return YearlyRates((rate,) * count, uniform=rate)
        items = self.read.item_list(value, path)
        if items is None:
            return None
        if count is not None and len(items) != count:
            self.read.error(path, f"expected {_count_text(self.years or 0, first_year)}, "
                            f"got {len(items)}")  # fmt: skip
            return None
        rates = [
            self.read.rate(item, f"{path}[{i}]", low, _ONE, high_open=high_open)
            for i, item in enumerate(items)
        ]
        if count is None or any(rate is None for rate in rates):
            return None
        return YearlyRates(tuple(rate for rate in rates if rate is not None))


def _check_curves_stay_below_the_limit(terms: ContractTerms, reader: FieldReader) -> None:
    """Every amount the model produces, totals included, stays below the money limit like
    every input: prices and baselines compound (30 years at +100 % multiply them by
    5 x 10^8), and a total adds up to 30 years."""
    money = terms.currency
    limit = minor_units(MONEY_LIMIT, money)
    curves = (
        ("price", "price.escalation", planned_prices(terms, escalation_rates(terms))),
        ("baseline cost", "cost.inflation", compounded(
            minor_units(terms.baseline_cost, money), terms.inflation.ratios
        )),
    )  # fmt: skip
    for what, path, amounts in curves:
        year = next((y for y, amount in enumerate(amounts, start=1) if amount >= limit), None)
        if year is not None:
            reader.error(
                path,
                f"the {what} would reach {units_text(amounts[year - 1], money, grouped=True)} "
                f"in year {year}, not below the limit of {MONEY_LIMIT:,}",
            )
        elif sum(amounts) >= limit:
            # Totals over the term are amounts too (and are stored as such).
            reader.error(
                path,
                f"the {what} would total {units_text(sum(amounts), money, grouped=True)} "
                f"over the term, not below the limit of {MONEY_LIMIT:,}",
            )


def _method_of(value: object) -> object:
    return value.get("method") if isinstance(value, Mapping) else None


def _count_text(years: int, first_year: int) -> str:
    """E.g. "4 values (years 2–5)" for the years a list of rates must cover."""
    count = years - first_year + 1
    if count <= 0:
        return "no values (the term has a single year; give one value instead of a list)"
    if count == 1:
        return f"1 value (year {first_year})"
    return f"{count} values (years {first_year}–{years})"
