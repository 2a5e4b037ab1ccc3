"""The contract terms form: every term of the spec, turned into a terms document.

Validation is the domain's (parse_terms), so the form, the JSON API and the command
line accept exactly the same documents; each error path is shown next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.fields.core import Field

from tracker.domain.errors import FieldError, InvalidTerms
from tracker.services.errors import DuplicateName

ESCALATION_METHODS = [
    SelectChoice("fixed", "Fixed rate each year"),
    SelectChoice("index", "Index-linked (pass-through, offset, cap, floor)"),
    SelectChoice("schedule", "Negotiated price for each year"),
]

#: Document path -> form field name.
FIELD_OF_PATH = {
    "code": "code",
    "name": "name",
    "buyer": "buyer",
    "vendor": "vendor",
    "currency": "currency",
    "start_date": "start_date",
    "term_years": "term_years",
    "price.base": "price_base",
    "price.escalation.method": "escalation_method",
    "price.escalation.rate": "fixed_rate",
    "price.escalation.index": "index_values",
    "price.escalation.share": "index_share",
    "price.escalation.offset": "index_offset",
    "price.escalation.cap": "index_cap",
    "price.escalation.floor": "index_floor",
    "price.escalation.prices": "schedule_prices",
    "cost.baseline": "baseline",
    "cost.inflation": "inflation",
    "cost.efficiency": "efficiency",
    "gain_split.reinvest": "reinvest",
    "gain_split.buyer": "buyer_share",
    "discount_rate": "discount_rate",
}
#: Fields that take one value for every year or a list of one value per year.
_LIST_FIELDS = ("fixed_rate", "index_values", "inflation", "efficiency", "schedule_prices")
_SEPARATORS = re.compile(r"[\s;]+")
_ITEM = re.compile(r"\[\d+\]")
T = TypeVar("T")


def _text(label: str, description: str = "", **kwargs: Any) -> StringField:
    return StringField(label, description=description, **kwargs)


class TermsForm(FlaskForm):  # type: ignore[misc]
    """Every commercial term; names and parties too unless a subclass removes them."""

    #: Document path -> form field; a subclass may point a path at another field.
    field_of_path: Mapping[str, str] = FIELD_OF_PATH

    version = HiddenField()
    name = _text("Contract name", "What the contract is called, up to 200 characters.")
    code = _text(
        "Reference",
        "Letters, digits, '.', '_' or '-'; left empty, one is given (C-00001).",
    )
    buyer = _text("Buyer", "The client organisation.")
    vendor = _text("Vendor", "The service provider.")
    currency = _text("Currency", "ISO 4217 code, e.g. EUR, GBP, USD, JPY.", default="EUR")
    start_date = _text("Start date", "First day of year 1, as YYYY-MM-DD.")
    term_years = _text("Term (years)", "Whole number of contract years, 1 to 30.")
    price_base = _text("Year-1 price", "Annual price in year 1, e.g. 1200000.00.")
    escalation_method = SelectField("Escalation method", choices=ESCALATION_METHODS)
    fixed_rate = _text(
        "Escalation rate",
        "One rate for years 2 to N (0.03 is 3 %), or one per year separated by spaces.",
    )
    index_values = _text(
        "Index change per year",
        "The published index change, one rate for years 2 to N or one per year.",
    )
    index_share = _text("Pass-through share", "Part of the index passed on, 0 to 1 (default 1).")
    index_offset = _text(
        "Productivity offset X", "Subtracted from the passed-on index (default 0)."
    )
    index_cap = _text("Cap", "Highest rate applied; leave empty for none.")
    index_floor = _text("Floor", "Lowest rate applied; leave empty for none.")
    schedule_prices = TextAreaField(
        "Price for each year",
        description="One amount per year, years 1 to N, separated by spaces or new lines.",
    )
    baseline = _text("Year-1 baseline cost", "Delivery cost without any improvement, year 1.")
    inflation = _text("Cost inflation", "Yearly change of the baseline, years 2 to N (default 0).")
    efficiency = _text(
        "Planned efficiency gain", "Rate for each of years 1 to N, from 0 up to below 1."
    )
    reinvest = _text("Share reinvested", "Part of the efficiency gain reinvested, 0 to 1.")
    buyer_share = _text("Share credited to the buyer", "Part of the gain credited, 0 to 1.")
    discount_rate = _text("Discount rate", "For the net present value, 0 to 1.")

    def document(self) -> dict[str, Any]:
        """The terms document the form describes; blank optional fields are left out."""
        value = self._value
        doc: dict[str, Any] = {}
        for key in ("name", "buyer", "vendor", "currency", "start_date", "term_years"):
            if self._has(key):
                doc[key] = value(key)
        method = self.escalation_method.data or "fixed"
        escalation: dict[str, Any] = {"method": method}
        if method == "fixed":
            escalation["rate"] = self._rates("fixed_rate")
        elif method == "index":
            escalation["index"] = self._rates("index_values")
            for key, field in (
                ("share", "index_share"),
                ("offset", "index_offset"),
                ("cap", "index_cap"),
                ("floor", "index_floor"),
            ):
                if value(field) not in (None, ""):
                    escalation[key] = value(field)
        else:
            escalation["prices"] = self._items("schedule_prices")
        price: dict[str, Any] = {"escalation": escalation}
        if value("price_base") not in (None, "") or method != "schedule":
            price["base"] = value("price_base")
        doc["price"] = price
        cost: dict[str, Any] = {"baseline": value("baseline")}
        for key in ("inflation", "efficiency"):
            if value(key) not in (None, ""):
                cost[key] = self._rates(key)
        doc["cost"] = cost
        split = {
            key: value(field)
            for key, field in (("reinvest", "reinvest"), ("buyer", "buyer_share"))
            if value(field) not in (None, "")
        }
        if split:
            doc["gain_split"] = split
        if value("discount_rate") not in (None, ""):
            doc["discount_rate"] = value("discount_rate")
        return {key: item for key, item in doc.items() if item is not None}

    def show_errors(self, errors: Iterable[FieldError]) -> None:
        """Put each error next to its field; those of no field go to ``form_errors``."""
        for error in errors:
            field = self._field_for(error.path)
            if field is None:
                self.form_errors.append(str(error))
            else:
                where = error.path.split(".")[-1]
                item = _ITEM.search(where)
                prefix = f"value {int(item.group()[1:-1]) + 1}: " if item else ""
                field.errors = [*field.errors, prefix + error.message]

    def _field_for(self, path: str) -> Field | None:
        bare = _ITEM.sub("", path)
        while bare:
            name = self.field_of_path.get(bare)
            if name is not None and self._has(name):
                field: Field = getattr(self, name)
                return field
            bare = bare.rpartition(".")[0]
        return None

    def _has(self, name: str) -> bool:
        # A subclass removes a field by setting it to None.
        return getattr(self, name, None) is not None

    def _value(self, name: str) -> Any:
        if not self._has(name):
            return None
        data = getattr(self, name).data
        if isinstance(data, str):
            data = data.strip(" ")
            if name == "term_years" and data.isdigit():
                return int(data)
        return data

    def _items(self, name: str) -> list[str]:
        text = self._value(name) or ""
        return [item for item in _SEPARATORS.split(text.strip()) if item]

    def _rates(self, name: str) -> str | list[str] | None:
        items = self._items(name)
        if not items:
            return None
        return items[0] if len(items) == 1 else items


def form_data(document: Mapping[str, Any], *, code: str | None = None) -> dict[str, Any]:
    """Form values from a canonical terms document (to fill in an edit form)."""
    price = document.get("price", {})
    escalation = price.get("escalation", {})
    cost = document.get("cost", {})
    split = document.get("gain_split", {})
    data: dict[str, Any] = {
        "name": document.get("name"),
        "code": code,
        "buyer": document.get("buyer"),
        "vendor": document.get("vendor"),
        "currency": document.get("currency"),
        "start_date": document.get("start_date"),
        "term_years": str(document.get("term_years", "")),
        "price_base": price.get("base"),
        "escalation_method": escalation.get("method", "fixed"),
        "fixed_rate": _joined(escalation.get("rate")),
        "index_values": _joined(escalation.get("index")),
        "index_share": escalation.get("share"),
        "index_offset": escalation.get("offset"),
        "index_cap": escalation.get("cap"),
        "index_floor": escalation.get("floor"),
        "schedule_prices": _joined(escalation.get("prices"), "\n"),
        "baseline": cost.get("baseline"),
        "inflation": _joined(cost.get("inflation")),
        "efficiency": _joined(cost.get("efficiency")),
        "reinvest": split.get("reinvest"),
        "buyer_share": split.get("buyer"),
        "discount_rate": document.get("discount_rate"),
    }
    return {key: value for key, value in data.items() if value is not None}


def _joined(value: object, separator: str = " ") -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return separator.join(str(item) for item in value)
    return str(value)


def saved(form: TermsForm, action: Callable[[], T]) -> T | None:
    """``action()``'s result; or None with its validation errors shown on ``form``."""
    try:
        return action()
    except InvalidTerms as exc:
        form.show_errors(exc.errors)
    except DuplicateName as exc:
        form.show_errors([FieldError(exc.field, str(exc))])
    return None
