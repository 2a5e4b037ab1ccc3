"""Validation of terms documents: every rule of spec section 1 and the bad inputs.

Each refusal must be an ``InvalidTerms`` (or, for unreadable JSON, a
``DocumentError``) naming the field by its path; nothing else may escape.
"""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.json_document import MAX_DOCUMENT_BYTES, DocumentError, load_json_document
from tracker.domain.money import Currency, UnknownCurrency, currency
from tracker.domain.terms import (
    ContractTerms,
    FixedEscalation,
    IndexEscalation,
    ScheduleEscalation,
)
from tracker.domain.terms_parser import parse_terms

VALID: dict[str, Any] = {
    "name": "Managed workplace services",
    "buyer": "Hospital Clínic",
    "vendor": "Nordlys IT",
    "currency": "EUR",
    "start_date": "2025-01-01",
    "term_years": 5,
    "price": {"base": "1200000.00", "escalation": {"method": "fixed", "rate": "0.03"}},
    "cost": {"baseline": "1000000.00", "inflation": "0.025", "efficiency": "0.04"},
    "gain_split": {"reinvest": "0.50", "buyer": "0.10"},
    "discount_rate": "0.08",
}

INDEX_ESCALATION: dict[str, Any] = {
    "method": "index",
    "index": ["0.02", "0.03", "0.04", "0.05"],
    "share": "0.9",
    "offset": "0.005",
    "cap": "0.035",
    "floor": "0",
}

SCHEDULE_ESCALATION: dict[str, Any] = {
    "method": "schedule",
    "prices": ["1200000.00", "1230000.00", "1260000.00", "1290000.00", "1320000.00"],
}

#: Marks a key to delete in ``document``.
MISSING = object()
#: The placeholder ``json_text`` replaces with a raw JSON literal.
_RAW = "\u0000raw\u0000"


def document(changes: dict[str, object] | None = None) -> dict[str, Any]:
    """A fresh copy of the valid document with ``{"dotted.path": value}`` changes applied."""
    doc = copy.deepcopy(VALID)
    for path, value in (changes or {}).items():
        *parents, key = path.split(".")
        target = doc
        for part in parents:
            target = target[part]
        if value is MISSING:
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    return doc


def json_text(path: str, literal: str) -> str:
    """The valid document as JSON text with the value at ``path`` written as ``literal``."""
    text = json.dumps(document({path: _RAW}), ensure_ascii=False)
    assert text.count(json.dumps(_RAW)) == 1
    return text.replace(json.dumps(_RAW), literal)


def errors_of(doc: object) -> tuple[FieldError, ...]:
    """The errors ``parse_terms`` reports; fails when the document is accepted."""
    with pytest.raises(InvalidTerms) as info:
        parse_terms(doc)
    errors = info.value.errors
    assert errors, "InvalidTerms without any error"
    for error in errors:
        assert isinstance(error, FieldError)
        assert error.path
        assert error.message
    return errors


def messages_at(doc: object, path: str) -> list[str]:
    """The messages reported for the field at ``path`` (at least one is expected)."""
    errors = errors_of(doc)
    messages = [error.message for error in errors if error.path == path]
    assert messages, f"no error at {path!r}; got {[str(e) for e in errors]}"
    return messages


def assert_refused(doc: object, path: str, *fragments: str) -> None:
    """``doc`` is refused with an error at ``path`` whose message holds every fragment."""
    messages = messages_at(doc, path)
    assert any(all(fragment in message for fragment in fragments) for message in messages), (
        f"{path}: none of {messages} contains all of {fragments}"
    )


def accepted(doc: object) -> ContractTerms:
    """The terms of a document that must be valid."""
    try:
        return parse_terms(doc)
    except InvalidTerms as exc:  # pragma: no cover - only on failure
        pytest.fail(f"refused a valid document: {exc}")


def read_terms(raw: bytes | str) -> ContractTerms:
    """The whole input path: JSON text to validated terms."""
    return parse_terms(load_json_document(raw))


# -- the document as a whole -----------------------------------------------------------


def test_the_spec_sample_document_is_accepted() -> None:
    terms = accepted(document())
    assert terms.name == "Managed workplace services"
    assert terms.buyer == "Hospital Clínic"
    assert terms.vendor == "Nordlys IT"
    assert terms.currency == Currency("EUR", 2)
    assert terms.term_years == 5
    assert terms.base_price == Decimal("1200000.00")
    assert isinstance(terms.escalation, FixedEscalation)
    assert terms.escalation.rates.values == (Decimal("0.03"),) * 4
    assert terms.baseline_cost == Decimal("1000000.00")
    assert terms.inflation.values == (Decimal("0.025"),) * 4
    assert terms.efficiency.values == (Decimal("0.04"),) * 5
    assert (terms.reinvest_share, terms.buyer_share) == (Decimal("0.5"), Decimal("0.1"))
    assert terms.discount_rate == Decimal("0.08")


def test_a_json_array_instead_of_an_object_is_refused() -> None:
    doc = load_json_document(json.dumps([VALID]))
    assert_refused(doc, "document", "expected an object", "a list")


@pytest.mark.parametrize("doc", [None, "terms", Decimal(5), True, ()])
def test_a_document_that_is_not_an_object_is_refused(doc: object) -> None:
    assert_refused(doc, "document", "expected an object")


def test_an_unknown_top_level_field_is_refused_with_its_name() -> None:
    assert_refused(document({"discount": "0.08"}), "discount", "unknown field")


def test_a_typo_in_a_cost_field_is_refused_with_its_path() -> None:
    doc = document({"cost.efficency": "0.04", "cost.efficiency": MISSING})
    assert_refused(doc, "cost.efficency", "unknown field", "efficiency")


def test_a_field_of_another_escalation_method_is_refused() -> None:
    assert_refused(
        document({"price.escalation.index": "0.02"}), "price.escalation.index", "unknown"
    )


@pytest.mark.parametrize("section", ["price", "cost", "gain_split"])
def test_a_section_that_is_not_an_object_is_refused(section: str) -> None:
    assert_refused(document({section: "1200000"}), section, "expected an object")


# -- names -----------------------------------------------------------------------------


def test_the_name_is_required() -> None:
    assert_refused(document({"name": MISSING}), "name", "required")


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_or_blank_name_is_refused(name: str) -> None:
    assert_refused(document({"name": name}), "name", "must not be empty")


def test_a_name_of_tabs_and_newlines_is_refused_for_its_control_characters() -> None:
    assert_refused(document({"name": "\t\n"}), "name", "control character U+0009")


def test_a_bidirectional_override_in_a_name_is_refused() -> None:
    assert_refused(document({"name": "Invoice \u202egnp.exe"}), "name", "U+202E")


def test_a_name_of_ten_thousand_characters_is_refused() -> None:
    assert_refused(document({"name": "x" * 10_000}), "name", "at most 200 characters", "10000")


def test_a_name_of_200_characters_is_accepted_and_one_more_is_refused() -> None:
    assert accepted(document({"name": "é" * 200})).name == "é" * 200
    assert_refused(document({"name": "é" * 201}), "name", "at most 200 characters")


def test_a_name_with_a_nul_byte_is_refused() -> None:
    assert_refused(document({"name": "Managed\x00services"}), "name", "U+0000")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Bell\x07ringer", "U+0007"),
        ("Esc\x1b[31mape", "U+001B"),
        ("Del\x7fete", "U+007F"),
        ("Line\u2028separator", "U+2028"),
        ("Lone\ud800surrogate", "U+D800"),
        ("Two\nlines", "U+000A"),
    ],
)
def test_a_name_with_a_control_character_is_refused(name: str, code: str) -> None:
    assert_refused(document({"name": name}), "name", "control character", code)


def test_a_control_character_at_the_end_of_the_name_is_refused() -> None:
    assert_refused(document({"name": "Managed services\x1f"}), "name", "control character")


@pytest.mark.parametrize("party", ["buyer", "vendor"])
def test_a_party_name_with_a_control_character_is_refused(party: str) -> None:
    assert_refused(document({party: "Nordlys\x00IT"}), party, "control character")


@pytest.mark.parametrize("party", ["buyer", "vendor"])
def test_a_party_name_of_ten_thousand_characters_is_refused(party: str) -> None:
    assert_refused(document({party: "y" * 10_000}), party, "at most 200 characters")


def test_the_parties_are_optional() -> None:
    terms = accepted(document({"buyer": MISSING, "vendor": MISSING}))
    assert (terms.buyer, terms.vendor) == (None, None)


def test_surrounding_blanks_are_removed_from_names() -> None:
    terms = accepted(document({"name": "  Managed services  ", "vendor": " Nordlys IT "}))
    assert (terms.name, terms.vendor) == ("Managed services", "Nordlys IT")


@pytest.mark.parametrize("value", [Decimal(42), True, ["a name"], {"text": "a name"}])
def test_a_name_that_is_not_text_is_refused(value: object) -> None:
    assert_refused(document({"name": value}), "name", "expected text")


# -- currency --------------------------------------------------------------------------


def test_the_currency_defaults_to_eur() -> None:
    assert accepted(document({"currency": MISSING})).currency == Currency("EUR", 2)


def test_an_unknown_currency_is_refused() -> None:
    assert_refused(document({"currency": "XYZ"}), "currency", "ISO 4217", '"XYZ"')


def test_a_lowercase_currency_code_is_refused() -> None:
    assert_refused(document({"currency": "eur"}), "currency", "ISO 4217", '"eur"')


@pytest.mark.parametrize("code", ["DEM", "FRF", "ITL"])
def test_a_historic_currency_is_refused(code: str) -> None:
    assert_refused(document({"currency": code}), "currency", "ISO 4217")


@pytest.mark.parametrize("value", [Decimal(978), ["EUR"], True, "", "EURO", "€"])
def test_a_currency_that_is_not_a_three_letter_code_is_refused(value: object) -> None:
    assert_refused(document({"currency": value}), "currency", "ISO 4217")


@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3)])
def test_a_currency_carries_its_iso_minor_units(code: str, places: int) -> None:
    money = currency(code)
    assert (money.code, money.places) == (code, places)
    assert money.quantum == Decimal(1).scaleb(-places)


@pytest.mark.parametrize("code", ["XYZ", "eur", "DEM", "EU", "EURO", "", "€€€", "E1R"])
def test_the_currency_lookup_refuses_codes_that_are_not_current_iso_4217(code: str) -> None:
    with pytest.raises(UnknownCurrency):
        currency(code)


def test_jpy_amounts_with_decimals_are_refused() -> None:
    doc = document({"currency": "JPY", "price.base": "120000000.5", "cost.baseline": "1.50"})
    assert_refused(doc, "price.base", "JPY", "at most 0 decimal places")
    assert_refused(doc, "cost.baseline", "JPY")


def test_jpy_whole_amounts_are_accepted() -> None:
    terms = accepted(document({"currency": "JPY", "price.base": "120000000"}))
    assert terms.currency == Currency("JPY", 0)
    assert terms.base_price == Decimal(120000000)


def test_kwd_amounts_with_three_decimals_are_accepted() -> None:
    terms = accepted(document({"currency": "KWD", "price.base": "1200.125"}))
    assert terms.base_price == Decimal("1200.125")


def test_kwd_amounts_with_four_decimals_are_refused() -> None:
    doc = document({"currency": "KWD", "price.base": "1200.1255"})
    assert_refused(doc, "price.base", "KWD", "at most 3 decimal places")


# -- money -----------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["0", "0.00", Decimal(0)])
def test_a_zero_base_price_is_refused(base: object) -> None:
    assert_refused(document({"price.base": base}), "price.base", "greater than 0")


@pytest.mark.parametrize("base", ["-1", "-1200000.00", Decimal("-0.01")])
def test_a_negative_base_price_is_refused(base: object) -> None:
    assert_refused(document({"price.base": base}), "price.base", "greater than 0")


def test_a_zero_baseline_cost_is_accepted() -> None:
    assert accepted(document({"cost.baseline": "0"})).baseline_cost == 0


def test_a_negative_baseline_cost_is_refused() -> None:
    assert_refused(document({"cost.baseline": "-0.01"}), "cost.baseline", "of 0 or more")


@pytest.mark.parametrize("path", ["price.base", "cost.baseline"])
@pytest.mark.parametrize("value", ["-0", "-0.00", Decimal("-0"), Decimal("-0.00")])
def test_negative_zero_money_is_refused(path: str, value: object) -> None:
    assert_refused(document({path: value}), path, "negative zero")


def test_negative_zero_money_in_json_is_refused() -> None:
    assert_refused(load_json_document(json_text("cost.baseline", "-0")), "cost.baseline", "zero")


@pytest.mark.parametrize(
    "amount", ["1000000000000000", "1000000000000000.00", "5000000000000000", Decimal("1E+15")]
)
@pytest.mark.parametrize("path", ["price.base", "cost.baseline"])
def test_an_amount_of_one_quadrillion_or_more_is_refused(path: str, amount: object) -> None:
    assert_refused(document({path: amount}), path, "below 1,000,000,000,000,000")


def test_the_largest_amount_below_the_limit_is_accepted() -> None:
    flat = {"term_years": 1, "price.base": "999999999999999.99", "price.escalation.rate": "0"}
    terms = accepted(document(flat))
    assert terms.base_price == Decimal("999999999999999.99")


def test_a_price_whose_total_would_pass_the_limit_is_refused() -> None:
    flat = {"term_years": 2, "price.base": "500000000000000.00", "price.escalation.rate": "0"}
    assert_refused(document(flat), "price.escalation", "would total", "over the term")


def test_a_baseline_that_would_inflate_past_the_limit_is_refused() -> None:
    doc = document({"cost.baseline": "999999999999999.99", "cost.inflation": "0.01"})
    assert_refused(doc, "cost.inflation", "baseline cost would reach", "in year 2")


def test_a_forty_digit_amount_is_refused() -> None:
    forty = "1234567890" * 4
    assert_refused(document({"price.base": forty}), "price.base", "below")
    assert_refused(load_json_document(json_text("price.base", forty)), "price.base", "below")


def test_an_over_precise_euro_amount_is_refused() -> None:
    assert_refused(document({"price.base": "12.345"}), "price.base", "at most 2 decimal places")
    assert_refused(document({"cost.baseline": "12.345"}), "cost.baseline", "2 decimal places")


def test_an_over_precise_euro_amount_in_json_is_refused() -> None:
    doc = load_json_document(json_text("price.base", "12.345"))
    assert_refused(doc, "price.base", "at most 2 decimal places", "12.345")


@pytest.mark.parametrize(
    "text", ["1,234.56", "1.234,56", "12 000", "€1200", "1.2e6", "0x10", "١٢٣", "+5", ".5", "5."]
)
def test_an_amount_not_written_as_plain_decimals_is_refused(text: str) -> None:
    assert_refused(document({"price.base": text}), "price.base", "plain decimals")


def test_an_amount_given_as_a_json_number_is_read_exactly() -> None:
    terms = read_terms(json_text("price.base", "1200000.10"))
    assert terms.base_price == Decimal("1200000.10")


# -- binary floats and non-finite numbers (from Python callers) ------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("price.base", 1200000.0),
        ("cost.baseline", 1000000.5),
        ("cost.inflation", 0.025),
        ("price.escalation.rate", 0.03),
        ("gain_split.reinvest", 0.5),
        ("discount_rate", 0.08),
        ("term_years", 5.0),
    ],
)
def test_a_binary_float_from_python_is_refused(path: str, value: float) -> None:
    assert_refused(document({path: value}), path, "binary floating-point")


def test_a_binary_float_inside_a_rate_list_is_refused_with_its_index() -> None:
    doc = document({"cost.efficiency": ["0.04", 0.04, "0.04", "0.04", "0.04"]})
    assert_refused(doc, "cost.efficiency[1]", "binary floating-point")


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("path", ["price.base", "cost.baseline", "cost.inflation", "term_years"])
def test_nan_and_infinite_decimals_are_refused(path: str, value: str) -> None:
    messages_at(document({path: Decimal(value)}), path)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "inf", "nan"])
def test_nan_and_infinity_written_as_text_are_refused(text: str) -> None:
    assert_refused(document({"price.base": text}), "price.base", "plain decimals")
    assert_refused(document({"discount_rate": text}), "discount_rate", "plain decimals")


def test_a_huge_python_integer_amount_is_refused_as_invalid_terms() -> None:
    assert_refused(document({"price.base": 10**5000}), "price.base", "below")


# -- rates -----------------------------------------------------------------------------

RATE_PATHS = ("price.escalation.rate", "cost.inflation")


@pytest.mark.parametrize("path", RATE_PATHS)
def test_a_rate_with_seven_decimal_places_is_refused(path: str) -> None:
    assert_refused(document({path: "0.0300001"}), path, "at most 6 decimal places")


@pytest.mark.parametrize("path", RATE_PATHS)
def test_a_rate_with_six_decimal_places_is_accepted(path: str) -> None:
    accepted(document({path: "0.030001"}))


@pytest.mark.parametrize("path", RATE_PATHS)
@pytest.mark.parametrize("rate", ["-0.500001", "-0.6", "-1", "1.000001", "2", "100"])
def test_a_rate_outside_minus_half_to_one_is_refused(path: str, rate: str) -> None:
    assert_refused(document({path: rate}), path, "from -0.5 to 1")


@pytest.mark.parametrize("path", RATE_PATHS)
@pytest.mark.parametrize("rate", ["-0.5", "1", "0", "-0"])
def test_a_rate_on_the_bounds_is_accepted(path: str, rate: str) -> None:
    accepted(document({path: rate}))


def test_a_rate_list_item_out_of_range_is_refused_with_its_index() -> None:
    doc = document({"cost.inflation": ["0.02", "0.02", "2", "0.02"]})
    assert_refused(doc, "cost.inflation[2]", "from -0.5 to 1")


def test_a_rate_given_as_a_json_number_is_read_exactly() -> None:
    terms = read_terms(json_text("price.escalation.rate", "0.03"))
    assert isinstance(terms.escalation, FixedEscalation)
    assert terms.escalation.rates.values == (Decimal("0.03"),) * 4


def test_a_discount_rate_of_one_is_accepted() -> None:
    assert accepted(document({"discount_rate": "1"})).discount_rate == 1


@pytest.mark.parametrize("rate", ["1.5", "-0.01", "1.000001"])
def test_a_discount_rate_outside_zero_to_one_is_refused(rate: str) -> None:
    assert_refused(document({"discount_rate": rate}), "discount_rate", "from 0 to 1")


def test_the_discount_rate_defaults_to_zero() -> None:
    assert accepted(document({"discount_rate": MISSING})).discount_rate == 0


# -- efficiency and inflation ----------------------------------------------------------


def test_an_efficiency_of_exactly_one_is_refused() -> None:
    assert_refused(document({"cost.efficiency": "1"}), "cost.efficiency", "below 1")


def test_an_efficiency_of_exactly_one_in_a_list_is_refused() -> None:
    doc = document({"cost.efficiency": ["0.1", "0.1", "1", "0.1", "0.1"]})
    assert_refused(doc, "cost.efficiency[2]", "below 1")


def test_an_efficiency_just_below_one_is_accepted() -> None:
    terms = accepted(document({"cost.efficiency": "0.999999"}))
    assert terms.efficiency.values == (Decimal("0.999999"),) * 5


def test_a_negative_efficiency_is_refused() -> None:
    assert_refused(document({"cost.efficiency": "-0.01"}), "cost.efficiency", "from 0 to 1")


def test_inflation_and_efficiency_default_to_zero() -> None:
    terms = accepted(document({"cost.inflation": MISSING, "cost.efficiency": MISSING}))
    assert terms.inflation.values == (Decimal(0),) * 4
    assert terms.efficiency.values == (Decimal(0),) * 5


def test_the_cost_baseline_is_required() -> None:
    assert_refused(document({"cost.baseline": MISSING}), "cost.baseline", "required")


# -- gain split ------------------------------------------------------------------------


def test_shares_adding_up_to_more_than_one_are_refused() -> None:
    doc = document({"gain_split.reinvest": "0.6", "gain_split.buyer": "0.400001"})
    assert_refused(doc, "gain_split", "more than 1")


def test_shares_adding_up_to_exactly_one_are_accepted() -> None:
    terms = accepted(document({"gain_split.reinvest": "0.75", "gain_split.buyer": "0.25"}))
    assert terms.reinvest_share + terms.buyer_share == 1


@pytest.mark.parametrize("share", ["gain_split.reinvest", "gain_split.buyer"])
@pytest.mark.parametrize("value", ["1.01", "-0.1", "2"])
def test_a_share_outside_zero_to_one_is_refused(share: str, value: str) -> None:
    doc = document({"gain_split.reinvest": "0", "gain_split.buyer": "0", share: value})
    assert_refused(doc, share, "from 0 to 1")


def test_the_gain_split_defaults_to_nothing_shared() -> None:
    terms = accepted(document({"gain_split": MISSING}))
    assert (terms.reinvest_share, terms.buyer_share) == (Decimal(0), Decimal(0))
    terms = accepted(document({"gain_split": {"reinvest": "0.6"}}))
    assert (terms.reinvest_share, terms.buyer_share) == (Decimal("0.6"), Decimal(0))


def test_an_unknown_gain_split_field_is_refused() -> None:
    assert_refused(document({"gain_split.vendor": "0.4"}), "gain_split.vendor", "unknown")


# -- list lengths ----------------------------------------------------------------------


def test_an_escalation_rate_list_of_the_wrong_length_is_refused_with_the_years() -> None:
    errors = errors_of(document({"price.escalation.rate": ["0.03", "0.03", "0.03"]}))
    assert [str(error) for error in errors] == [
        "price.escalation.rate: expected 4 values (years 2–5), got 3"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"cost.inflation": ["0.02"] * 5},
            "cost.inflation: expected 4 values (years 2–5), got 5",
        ),
        (
            {"cost.efficiency": ["0.04"] * 4},
            "cost.efficiency: expected 5 values (years 1–5), got 4",
        ),
        (
            {"price.escalation": {"method": "index", "index": ["0.02"] * 2}},
            "price.escalation.index: expected 4 values (years 2–5), got 2",
        ),
        (
            {"price.escalation": {"method": "schedule", "prices": ["1.00"] * 6}},
            "price.escalation.prices: expected 5 values (years 1–5), got 6",
        ),
        (
            {"term_years": 2, "price.escalation.rate": ["0.03", "0.03"]},
            "price.escalation.rate: expected 1 value (year 2), got 2",
        ),
        (
            {"term_years": 1, "cost.inflation": ["0.02"]},
            "cost.inflation: expected no values (the term has a single year; "
            "give one value instead of a list), got 1",
        ),
    ],
)
def test_a_list_of_the_wrong_length_is_refused_with_the_years_it_covers(
    changes: dict[str, object], message: str
) -> None:
    assert [str(error) for error in errors_of(document(changes))] == [message]


def test_rate_lists_of_the_right_length_are_kept_year_by_year() -> None:
    terms = accepted(
        document(
            {
                "price.escalation.rate": ["0.01", "0.02", "0.03", "0.04"],
                "cost.inflation": ["0", "-0.1", "0.1", "0.2"],
                "cost.efficiency": ["0", "0.01", "0.02", "0.03", "0.04"],
            }
        )
    )
    assert isinstance(terms.escalation, FixedEscalation)
    assert terms.escalation.rates.values == tuple(Decimal(f"0.0{i}") for i in range(1, 5))
    assert terms.inflation.values == tuple(map(Decimal, ["0", "-0.1", "0.1", "0.2"]))
    assert terms.efficiency.values == tuple(Decimal(f"0.0{i}") for i in range(5))


def test_a_one_year_term_takes_a_single_rate_or_an_empty_list() -> None:
    assert accepted(document({"term_years": 1, "price.escalation.rate": "0.03"}))
    assert accepted(document({"term_years": 1, "price.escalation.rate": []}))


def test_an_absurdly_long_list_is_refused() -> None:
    doc = document({"cost.inflation": ["0.01"] * 10_000})
    assert_refused(doc, "cost.inflation", "at most 100 values", "10000")


@pytest.mark.parametrize("value", [{"year 2": "0.03"}, True])
def test_a_rate_that_is_neither_a_value_nor_a_list_is_refused(value: object) -> None:
    messages_at(document({"cost.inflation": value}), "cost.inflation")


# -- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day", ["2025-02-30", "2023-02-29", "2025-13-01", "2025-00-10", "2025-04-31"]
)
def test_an_impossible_date_is_refused(day: str) -> None:
    assert_refused(document({"start_date": day}), "start_date", "not a calendar date")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31", "2101-01-01"])
def test_a_date_outside_the_years_the_product_handles_is_refused(day: str) -> None:
    assert_refused(document({"start_date": day}), "start_date", "YYYY-MM-DD from")


@pytest.mark.parametrize(
    "day",
    [
        "20250101",
        "01/01/2025",
        "2025-1-1",
        "2025/01/01",
        "2025-01-01T00:00:00",
        "1 January 2025",
        "+2025-01-01",
        "２０２５-０１-０１",
        Decimal(20250101),
        ["2025", "01", "01"],
    ],
)
def test_a_date_not_written_in_iso_form_is_refused(day: object) -> None:
    assert_refused(document({"start_date": day}), "start_date", "YYYY-MM-DD")


def test_29_february_of_a_leap_year_is_accepted() -> None:
    assert accepted(document({"start_date": "2024-02-29"})).start_date.isoformat() == "2024-02-29"


def test_the_start_date_is_required() -> None:
    assert_refused(document({"start_date": MISSING}), "start_date", "required")


# -- term ------------------------------------------------------------------------------


@pytest.mark.parametrize("years", [0, 31, -1, 100])
def test_a_term_outside_1_to_30_years_is_refused(years: int) -> None:
    assert_refused(document({"term_years": years}), "term_years", "whole number from 1 to 30")


@pytest.mark.parametrize("years", [Decimal("2.5"), "2.5"])
def test_a_fractional_term_is_refused(years: object) -> None:
    assert_refused(document({"term_years": years}), "term_years", "whole number")


def test_a_fractional_term_in_json_is_refused() -> None:
    doc = load_json_document(json_text("term_years", "2.5"))
    assert_refused(doc, "term_years", "whole number", "2.5")


@pytest.mark.parametrize("years", [True, False])
def test_a_boolean_term_is_refused(years: bool) -> None:
    assert_refused(document({"term_years": years}), "term_years", "whole number")


def test_a_term_given_as_digit_text_is_accepted() -> None:
    terms = accepted(document({"term_years": "5"}))
    assert terms.term_years == 5
    assert type(terms.term_years) is int


@pytest.mark.parametrize("years", ["five", "5 years", "", "0x5"])
def test_a_term_given_as_other_text_is_refused(years: str) -> None:
    messages_at(document({"term_years": years}), "term_years")


@pytest.mark.parametrize("years", [1, 30])
def test_terms_of_1_and_30_years_are_accepted(years: int) -> None:
    terms = accepted(document({"term_years": years}))
    assert terms.term_years == years
    assert len(terms.efficiency.values) == years


# -- escalation ------------------------------------------------------------------------


def test_an_unknown_escalation_method_is_refused() -> None:
    doc = document({"price.escalation.method": "linear"})
    assert_refused(doc, "price.escalation.method", "fixed, index, schedule", '"linear"')


def test_a_missing_escalation_method_is_refused() -> None:
    doc = document({"price.escalation.method": MISSING})
    assert_refused(doc, "price.escalation.method", "fixed, index, schedule")


@pytest.mark.parametrize("method", ["Fixed", "FIXED", "fixed rate"])
def test_an_escalation_method_in_another_spelling_is_refused(method: str) -> None:
    assert_refused(document({"price.escalation.method": method}), "price.escalation.method")


@pytest.mark.parametrize("method", [["fixed"], {"name": "fixed"}])
def test_an_escalation_method_that_is_a_list_or_an_object_is_refused(method: object) -> None:
    assert_refused(document({"price.escalation.method": method}), "price.escalation.method")


def test_an_escalation_method_that_is_a_number_is_refused() -> None:
    assert_refused(document({"price.escalation.method": Decimal(1)}), "price.escalation.method")


def test_a_missing_escalation_is_refused() -> None:
    assert_refused(document({"price.escalation": MISSING}), "price.escalation", "required")


def test_an_escalation_that_is_not_an_object_is_refused() -> None:
    assert_refused(document({"price.escalation": "0.03"}), "price.escalation", "expected an object")


def test_the_price_section_is_required() -> None:
    assert_refused(document({"price": MISSING}), "price", "required")


def test_a_missing_fixed_rate_is_refused() -> None:
    assert_refused(
        document({"price.escalation.rate": MISSING}), "price.escalation.rate", "required"
    )


@pytest.mark.parametrize("escalation", [{"method": "fixed", "rate": "0.03"}, INDEX_ESCALATION])
def test_the_base_price_is_required_for_fixed_and_index_escalation(
    escalation: dict[str, Any],
) -> None:
    doc = document({"price.base": MISSING, "price.escalation": escalation})
    assert_refused(doc, "price.base", "required")


# -- schedule method -------------------------------------------------------------------


def test_a_schedule_needs_one_price_per_year() -> None:
    doc = document({"price.escalation": {"method": "schedule", "prices": ["1200000.00"] * 4}})
    assert_refused(doc, "price.escalation.prices", "expected 5 values (years 1–5), got 4")


def test_a_schedule_without_prices_is_refused() -> None:
    doc = document({"price.escalation": {"method": "schedule"}})
    assert_refused(doc, "price.escalation.prices", "required")


def test_a_schedule_base_price_must_equal_the_first_price() -> None:
    doc = document({"price.base": "1200000.01", "price.escalation": SCHEDULE_ESCALATION})
    assert_refused(doc, "price.base", "must equal the first scheduled price", "1200000.00")


def test_a_schedule_base_price_equal_to_the_first_price_is_accepted() -> None:
    terms = accepted(document({"price.base": "1200000", "price.escalation": SCHEDULE_ESCALATION}))
    assert terms.base_price == Decimal("1200000.00")


def test_a_schedule_without_a_base_price_takes_the_first_price() -> None:
    terms = accepted(document({"price.base": MISSING, "price.escalation": SCHEDULE_ESCALATION}))
    assert terms.base_price == Decimal("1200000.00")
    assert isinstance(terms.escalation, ScheduleEscalation)
    assert terms.escalation.prices == tuple(Decimal(p) for p in SCHEDULE_ESCALATION["prices"])


@pytest.mark.parametrize("price", ["0", "-5.00", "12.345", "1e3", 1200000.0])
def test_a_bad_scheduled_price_is_refused_with_its_index(price: object) -> None:
    prices = [*SCHEDULE_ESCALATION["prices"][:2], price, *SCHEDULE_ESCALATION["prices"][3:]]
    doc = document(
        {"price.base": MISSING, "price.escalation": {"method": "schedule", "prices": prices}}
    )
    messages_at(doc, "price.escalation.prices[2]")


def test_a_schedule_with_a_rate_is_refused() -> None:
    escalation = {**SCHEDULE_ESCALATION, "rate": "0.03"}
    assert_refused(document({"price.escalation": escalation}), "price.escalation.rate", "unknown")


def test_scheduled_prices_that_are_not_a_list_are_refused() -> None:
    doc = document({"price.escalation": {"method": "schedule", "prices": "1200000.00"}})
    assert_refused(doc, "price.escalation.prices", "expected a list")


# -- index method ----------------------------------------------------------------------


def test_an_index_escalation_with_all_its_fields_is_accepted() -> None:
    terms = accepted(document({"price.escalation": INDEX_ESCALATION}))
    assert terms.escalation == IndexEscalation(
        index=terms.escalation.index,  # type: ignore[union-attr]
        share=Decimal("0.9"),
        offset=Decimal("0.005"),
        cap=Decimal("0.035"),
        floor=Decimal(0),
    )
    assert isinstance(terms.escalation, IndexEscalation)
    assert terms.escalation.index.values == tuple(map(Decimal, INDEX_ESCALATION["index"]))


def test_an_index_floor_above_the_cap_is_refused() -> None:
    escalation = {**INDEX_ESCALATION, "cap": "0.02", "floor": "0.03"}
    doc = document({"price.escalation": escalation})
    assert_refused(doc, "price.escalation.floor", "must not exceed the cap")


def test_an_index_floor_equal_to_the_cap_is_accepted() -> None:
    escalation = {**INDEX_ESCALATION, "cap": "0.02", "floor": "0.02"}
    accepted(document({"price.escalation": escalation}))


@pytest.mark.parametrize("share", ["1.000001", "1.5", "-0.1"])
def test_an_index_share_outside_zero_to_one_is_refused(share: str) -> None:
    doc = document({"price.escalation": {**INDEX_ESCALATION, "share": share}})
    assert_refused(doc, "price.escalation.share", "from 0 to 1")


@pytest.mark.parametrize("field", ["offset", "cap", "floor"])
def test_an_index_offset_cap_or_floor_outside_the_rate_range_is_refused(field: str) -> None:
    doc = document({"price.escalation": {**INDEX_ESCALATION, field: "1.5"}})
    assert_refused(doc, f"price.escalation.{field}", "from -0.5 to 1")


@pytest.mark.parametrize(
    ("escalation", "path"),
    [
        ({"method": "index", "index": "-0.5", "offset": "1"}, "price.escalation.index"),
        ({"method": "index", "index": "1", "offset": "-0.5"}, "price.escalation.index"),
        (
            {"method": "index", "index": ["0.02", "0.02", "-0.3", "0.02"], "offset": "0.3"},
            "price.escalation.index[2]",
        ),
    ],
)
def test_an_index_whose_applied_rate_leaves_minus_half_to_one_is_refused(
    escalation: dict[str, Any], path: str
) -> None:
    # k x index - X may reach -150 % or +150 %: a price would turn negative or more than double.
    assert_refused(document({"price.escalation": escalation}), path, "applied rate")


def test_a_single_out_of_range_index_value_is_reported_once_not_once_per_year() -> None:
    escalation = {"method": "index", "index": "-0.5", "offset": "1"}
    messages = messages_at(document({"price.escalation": escalation}), "price.escalation.index")
    assert messages == [
        "the applied rate every year (share x index - offset, then cap and floor) is -1.5, "
        "outside -0.5 to 1; agree a cap or a floor"
    ]


def test_a_collar_brings_an_out_of_range_applied_index_rate_back_into_range() -> None:
    escalation = {"method": "index", "index": "-0.5", "offset": "1", "floor": "-0.1"}
    accepted(document({"price.escalation": escalation}))


def test_index_defaults_are_full_pass_through_without_offset_cap_or_floor() -> None:
    doc = document({"price.escalation": {"method": "index", "index": "0.02"}})
    escalation = accepted(doc).escalation
    assert isinstance(escalation, IndexEscalation)
    assert (escalation.share, escalation.offset) == (Decimal(1), Decimal(0))
    assert (escalation.cap, escalation.floor) == (None, None)
    assert escalation.index.values == (Decimal("0.02"),) * 4


def test_the_index_is_required_for_index_escalation() -> None:
    doc = document({"price.escalation": {"method": "index", "share": "0.5"}})
    assert_refused(doc, "price.escalation.index", "required")


# -- every error at once ---------------------------------------------------------------


def test_every_error_of_a_document_is_reported_at_once_with_its_path() -> None:
    doc = {
        "name": "",
        "currency": "eur",
        "start_date": "2025-02-30",
        "term_years": 0,
        "price": {"base": "-1", "escalation": {"method": "fixed", "rate": "0.0000001"}},
        "cost": {"baseline": "1000000.00", "efficency": "0.04", "efficiency": "1"},
        "gain_split": {"reinvest": "0.6", "buyer": "0.6"},
        "discount_rate": "2",
        "colour": "red",
    }
    errors = errors_of(doc)
    assert sorted(error.path for error in errors) == sorted(
        [
            "colour",
            "name",
            "currency",
            "start_date",
            "term_years",
            "price.escalation.rate",
            "price.base",
            "cost.efficency",
            "cost.efficiency",
            "gain_split",
            "discount_rate",
        ]
    )


def test_an_invalid_terms_error_lists_every_error_one_per_line_starting_with_its_path() -> None:
    doc = document({"term_years": 31, "currency": "DEM", "cost.efficiency": "1"})
    with pytest.raises(InvalidTerms) as info:
        parse_terms(doc)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.errors) == 3
    for line, error in zip(lines, info.value.errors, strict=True):
        assert line == f"{error.path}: {error.message}"
    assert {error.path for error in info.value.errors} == {
        "term_years",
        "currency",
        "cost.efficiency",
    }


def test_list_items_with_errors_are_each_reported() -> None:
    doc = document({"cost.efficiency": ["2", "0.1", "-1", "0.1", "x"]})
    paths = [error.path for error in errors_of(doc)]
    assert paths == ["cost.efficiency[0]", "cost.efficiency[2]", "cost.efficiency[4]"]


@pytest.mark.parametrize(
    ("path", "changes"),
    [
        ("name", {"name": MISSING}),
        ("start_date", {"start_date": MISSING}),
        ("term_years", {"term_years": MISSING}),
        ("price.escalation.rate", {"price.escalation.rate": MISSING}),
        ("price.escalation.index", {"price.escalation": {"method": "index"}}),
    ],
)
def test_a_missing_required_field_is_reported_once(path: str, changes: dict[str, object]) -> None:
    assert messages_at(document(changes), path) == ["required"]


def test_nothing_is_returned_from_a_document_with_a_single_error() -> None:
    # A single bad field among many good ones still refuses the whole document.
    assert len(errors_of(document({"gain_split.buyer": "0.51"}))) == 1


# -- reading JSON ----------------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused(constant: str) -> None:
    with pytest.raises(DocumentError, match="not a number"):
        load_json_document(json_text("price.base", constant))


@pytest.mark.parametrize("literal", ["1e400", "1e999999", "-1e999999", "1E+400", "1e-999999"])
@pytest.mark.parametrize("path", ["price.base", "cost.inflation", "term_years", "discount_rate"])
def test_a_huge_exponent_parses_and_is_then_refused_with_the_field_path(
    path: str, literal: str
) -> None:
    doc = load_json_document(json_text(path, literal))
    *parents, key = path.split(".")
    value: Any = doc
    for part in parents:
        value = value[part]
    assert value[key] == Decimal(literal)
    messages_at(doc, path)


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "a", "name": "b"}',
        '{"price": {"base": "1", "base": "2"}}',
        '[{"a": 1, "b": 2, "a": 3}]',
    ],
)
def test_duplicate_keys_are_refused(text: str) -> None:
    with pytest.raises(DocumentError, match="appears twice"):
        load_json_document(text)


@pytest.mark.parametrize("cut", [1, 10, 100, -1, -2])
def test_truncated_json_is_refused_with_a_position(cut: int) -> None:
    text = json.dumps(VALID)
    with pytest.raises(DocumentError, match=r"line \d+, column \d+"):
        load_json_document(text[:cut])


@pytest.mark.parametrize(
    "text", ["{'name': 'x'}", '{"name": "x",}', '{"name": x}', "{} {}", '{"a": 01}', "// x\n{}"]
)
def test_malformed_json_is_refused(text: str) -> None:
    with pytest.raises(DocumentError, match="malformed JSON"):
        load_json_document(text)


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(VALID, ensure_ascii=False).encode("latin-1"),
        b'{"name": "\xff"}',
        b"\xc3\x28",
        json.dumps(VALID).encode("utf-16"),
        json.dumps(VALID).encode("utf-32"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused(raw: bytes) -> None:
    with pytest.raises(DocumentError, match="not UTF-8"):
        load_json_document(raw)


def test_text_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(DocumentError):
        load_json_document('{"name": "\ud800"}')


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    raw = json.dumps(VALID, ensure_ascii=False).encode("utf-8")
    assert load_json_document(b"\xef\xbb\xbf" + raw) == load_json_document(raw)
    assert read_terms(b"\xef\xbb\xbf" + raw) == parse_terms(document())


@pytest.mark.parametrize("raw", [b"", "", b"   ", " \n\t\r\n", b"\xef\xbb\xbf"])
def test_an_empty_document_is_refused(raw: bytes | str) -> None:
    with pytest.raises(DocumentError, match="empty"):
        load_json_document(raw)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 100_000,
        '{"a": ' * 50_000 + "1" + "}" * 50_000,
    ],
)
def test_deeply_nested_json_is_refused_quickly(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DocumentError):
        load_json_document(text)
    assert time.perf_counter() - started < 2


def test_a_document_over_one_megabyte_is_refused() -> None:
    base = json.dumps(VALID).encode()
    padding = MAX_DOCUMENT_BYTES - len(base)
    exactly = base[:-1] + b" " * padding + b"}"
    assert len(exactly) == MAX_DOCUMENT_BYTES
    assert load_json_document(exactly) == load_json_document(base)
    with pytest.raises(DocumentError, match="larger than 1,000,000 bytes"):
        load_json_document(exactly + b" ")
    with pytest.raises(DocumentError, match="larger than"):
        load_json_document(json.dumps({**VALID, "name": "x" * 2_000_000}))


def test_json_numbers_are_read_as_exact_decimals() -> None:
    doc = load_json_document('{"a": 0.1, "b": 1200000.10, "c": 5, "d": [1e2, -0.0]}')
    assert doc == {
        "a": Decimal("0.1"),
        "b": Decimal("1200000.10"),
        "c": Decimal(5),
        "d": [Decimal(100), Decimal(0)],
    }
    assert isinstance(doc, dict)
    assert all(isinstance(value, Decimal) for value in [doc["a"], doc["b"], doc["c"], *doc["d"]])
    assert str(doc["b"]) == "1200000.10"


def test_text_and_bytes_are_read_alike() -> None:
    text = json.dumps(VALID, ensure_ascii=False)
    assert load_json_document(text) == load_json_document(text.encode("utf-8"))
    assert read_terms(text) == parse_terms(document())


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,
        b"\x00",
        b'{"name": "\x00"}',
        b"null",
        b"[]",
        b'"terms"',
        b"5",
        b"true",
        b"{}",
        b'{"term_years": 1e999999}',
        b'{"price": {"base": -0}}',
        b'{"price": {"escalation": {"method": null}}}',
        b'{"price": {"escalation": {"method": "schedule", "prices": [[]]}}}',
        b'{"price": {"escalation": {"method": "index", "index": [{}], "cap": []}}}',
        b'{"cost": {"inflation": [null, true, "x", 1e400]}}',
        b'{"start_date": "2025-02-30", "currency": 1e400, "term_years": "31"}',
        b'{"' + b"k" * 200_000 + b'": 1}',
        b'{"name": "' + "\u202e".encode() * 10 + b'"}',
    ],
)
def test_hostile_input_fails_only_with_document_or_terms_errors(raw: bytes) -> None:
    with pytest.raises((DocumentError, InvalidTerms)):
        read_terms(raw)


def test_every_document_error_is_a_value_error_with_a_message() -> None:
    with pytest.raises(DocumentError) as info:
        load_json_document(b'{"a": NaN}')
    assert isinstance(info.value, ValueError)
    assert str(info.value)
