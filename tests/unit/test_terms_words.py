"""The terms in words, as the contract page states them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tracker.domain.terms_parser import parse_terms
from tracker.domain.terms_words import NBSP, amount, percent, terms_in_words

SEED = Path(__file__).parent.parent.parent / "seed_data" / "contracts"


def words(name: str) -> dict[str, str]:
    terms = parse_terms(json.loads((SEED / name).read_text()))
    return {topic: sentence.replace(NBSP, " ") for topic, sentence in terms_in_words(terms)}


def test_a_percentage_keeps_every_place_the_rate_has_and_binds_its_sign() -> None:
    assert percent(Decimal("0.035")) == f"3.5{NBSP}%"
    assert percent(Decimal("0.000001")) == f"0.0001{NBSP}%"
    assert percent(Decimal("1")) == f"100{NBSP}%"


def test_an_amount_is_grouped_with_the_currencys_places_and_code() -> None:
    from tracker.domain.money import currency

    assert amount(Decimal("1200000"), currency("EUR")) == f"1,200,000.00{NBSP}EUR"
    assert amount(Decimal("-5"), currency("JPY")) == f"-5{NBSP}JPY"
    assert amount(Decimal("0.5"), currency("KWD")) == f"0.500{NBSP}KWD"


def test_an_index_linked_price_names_share_offset_cap_floor_and_the_index() -> None:
    sentence = words("07-workplace-support-draft.json")["Price"]
    assert sentence == (
        "3,150,000.00 USD in year 1, then index-linked: 80 % of the index change minus "
        "0.5 %, capped at 3 % and floored at 1 % "
        "(index year 2: 4.5 %, year 3: 2.9 %, year 4: 1.8 %)"
    )


def test_a_fixed_escalation_gives_its_single_rate() -> None:
    assert words("05-hosting-cloud.json")["Price"].endswith("then fixed escalation of 1 % a year")


def test_the_gain_split_always_adds_up_to_the_whole_gain() -> None:
    split = words("07-workplace-support-draft.json")["Gain split"]
    assert split == (
        "45 % reinvested in improvements, 15 % credited to the buyer, 40 % kept by the vendor"
    )
    assert words("01-service-desk-fr.json")["Gain split"] == (
        "50 % reinvested in improvements, 50 % kept by the vendor"
    )


def test_a_one_year_term_has_no_escalation_and_no_inflation() -> None:
    doc = json.loads((SEED / "05-hosting-cloud.json").read_text())
    doc["term_years"] = 1
    said = dict(terms_in_words(parse_terms(doc)))
    assert said["Term"].startswith("1 year from")
    assert said["Price"].endswith("a single year: no escalation")
    assert "changing" not in said["Delivery cost"]


def test_the_topics_come_in_the_order_a_contract_states_them() -> None:
    assert list(words("02-facilities-uk.json")) == [
        "Parties",
        "Term",
        "Price",
        "Delivery cost",
        "Planned efficiency",
        "Gain split",
        "Discount rate",
    ]
