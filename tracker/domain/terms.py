"""A contract's commercial terms, validated, and their canonical document form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from tracker.domain.money import Currency, money_text, rate_text


@dataclass(frozen=True, slots=True)
class YearlyRates:
    """A rate that applies to a run of contract years: one value per year.

    ``uniform`` keeps the single value when the document gave one for every
    year, so that the canonical document says ``"0.03"`` rather than a list.
    """

    values: tuple[Decimal, ...]
    uniform: Decimal | None = None
    #: Each value as an exact (numerator, denominator) pair, for integer arithmetic.
    ratios: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cache = {value: value.as_integer_ratio() for value in set(self.values)}
        object.__setattr__(self, "ratios", tuple(cache[value] for value in self.values))

    def document(self) -> str | list[str]:
        """The rate as it appears in a terms document."""
        if self.uniform is not None:
            return rate_text(self.uniform)
        return [rate_text(value) for value in self.values]


@dataclass(frozen=True, slots=True)
class FixedEscalation:
    """P_y = round(P_{y-1} x (1 + r_y)); ``rates`` covers years 2..N."""

    rates: YearlyRates
    method: Literal["fixed"] = "fixed"


@dataclass(frozen=True, slots=True)
class IndexEscalation:
    """a_y = k x index_y - X, capped then floored; P_y = round(P_{y-1} x (1 + a_y))."""

    index: YearlyRates
    share: Decimal = Decimal(1)
    offset: Decimal = Decimal(0)
    cap: Decimal | None = None
    floor: Decimal | None = None
    method: Literal["index"] = "index"


@dataclass(frozen=True, slots=True)
class ScheduleEscalation:
    """Prices agreed year by year, P_1..P_N."""

    prices: tuple[Decimal, ...]
    method: Literal["schedule"] = "schedule"


Escalation = FixedEscalation | IndexEscalation | ScheduleEscalation


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """Validated commercial terms of a multi-year service contract."""

    name: str
    buyer: str | None
    vendor: str | None
    currency: Currency
    start_date: date
    term_years: int
    base_price: Decimal
    escalation: Escalation
    baseline_cost: Decimal
    inflation: YearlyRates
    efficiency: YearlyRates
    reinvest_share: Decimal
    buyer_share: Decimal
    discount_rate: Decimal

    def document(self) -> dict[str, Any]:
        """The canonical terms document: parsing it gives these terms back."""
        doc: dict[str, Any] = {"name": self.name}
        if self.buyer is not None:
            doc["buyer"] = self.buyer
        if self.vendor is not None:
            doc["vendor"] = self.vendor
        doc.update(
            {
                "currency": self.currency.code,
                "start_date": self.start_date.isoformat(),
                "term_years": self.term_years,
                "price": {
                    "base": money_text(self.base_price, self.currency),
                    "escalation": self._escalation_document(),
                },
                "cost": {
                    "baseline": money_text(self.baseline_cost, self.currency),
                    "inflation": self.inflation.document(),
                    "efficiency": self.efficiency.document(),
                },
                "gain_split": {
                    "reinvest": rate_text(self.reinvest_share),
                    "buyer": rate_text(self.buyer_share),
                },
                "discount_rate": rate_text(self.discount_rate),
            }
        )
        return doc

    def _escalation_document(self) -> dict[str, Any]:
        escalation = self.escalation
        if isinstance(escalation, FixedEscalation):
            return {"method": "fixed", "rate": escalation.rates.document()}
        if isinstance(escalation, IndexEscalation):
            doc: dict[str, Any] = {
                "method": "index",
                "index": escalation.index.document(),
                "share": rate_text(escalation.share),
                "offset": rate_text(escalation.offset),
            }
            if escalation.cap is not None:
                doc["cap"] = rate_text(escalation.cap)
            if escalation.floor is not None:
                doc["floor"] = rate_text(escalation.floor)
            return doc
        return {
            "method": "schedule",
            "prices": [money_text(price, self.currency) for price in escalation.prices],
        }
