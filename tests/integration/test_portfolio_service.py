"""The portfolio on a real database: search, filters, sorting, pages and per-currency totals."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.services.access import SYSTEM
from tracker.services.contracts import contract_view, create_contract, set_archived
from tracker.services.portfolio import (
    SORTS,
    CurrencyTotals,
    PortfolioPage,
    PortfolioQuery,
    PortfolioRow,
    portfolio_page,
)

DEMO_CODES = {
    "SD-FR-2024",
    "IFM-UK-2022",
    "CRE-GLOBAL-2025",
    "F2B-2024",
    "CLOUD-OPS-2025",
    "GUARD-FR-2026",
    "WPS-US-2027",
}
#: The row field each sort key orders by.
SORTED_FIELD = {
    "name": "name",
    "code": "code",
    "status": "status",
    "start": "start_date",
    "end": "end_date",
    "value": "total_price",
    "gain": "total_efficiency_gain",
    "reinvest": "total_reinvest",
    "margin": "total_net_margin",
}


def terms_document(**changes: Any) -> dict[str, Any]:
    """A small valid contract (EUR, one year) with ``changes`` laid over it."""
    document: dict[str, Any] = {
        "name": "Portfolio filler",
        "buyer": "Filler Buyer",
        "vendor": "Filler Vendor",
        "currency": "EUR",
        "start_date": "2026-01-01",
        "term_years": 1,
        "price": {"base": "1000.00", "escalation": {"method": "fixed", "rate": "0"}},
        "cost": {"baseline": "800.00", "efficiency": "0.05"},
        "gain_split": {"reinvest": "0.5", "buyer": "0.2"},
    }
    document.update(changes)
    return document


def page(session: Session, **query: Any) -> PortfolioPage:
    return portfolio_page(session, SYSTEM, PortfolioQuery(**query))


def codes(result: PortfolioPage) -> list[str]:
    return [row.code for row in result.rows]


def party_id(result: PortfolioPage, name: str) -> int:
    return next(pid for pid, party in result.parties if party == name)


def archive(session: Session, contract_id: int) -> None:
    version = contract_view(session, SYSTEM, contract_id).version
    set_archived(session, SYSTEM, contract_id, True, expected_version=version)


def id_of(session: Session, code: str) -> int:
    with session.begin():
        found = session.scalar(select(Contract.id).where(Contract.code == code))
    assert found is not None
    return found


def expected_totals(session: Session, contract_ids: list[int]) -> list[CurrencyTotals]:
    """Per-currency sums computed from each contract's own schedule."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for contract_id in contract_ids:
        schedule = contract_view(session, SYSTEM, contract_id).schedule
        totals = schedule.totals
        entry = sums[schedule.currency.code]
        entry[0] += 1
        entry[1] += totals.price
        entry[2] += totals.efficiency_gain
        entry[3] += totals.reinvest
        entry[4] += totals.net_margin
    return [CurrencyTotals(code, *sums[code]) for code in sorted(sums)]


def unarchived_ids(session: Session) -> list[int]:
    with session.begin():
        return list(session.scalars(select(Contract.id).where(Contract.archived_at.is_(None))))


# -- the demo portfolio -------------------------------------------------------------


def test_the_demo_portfolio_lists_every_contract_by_name(seeded: Flask, session: Session) -> None:
    result = page(session)

    assert set(codes(result)) == DEMO_CODES
    assert result.matching == 7
    assert result.pages == 1
    names = [row.name for row in result.rows]
    assert names == sorted(names)
    assert names[0] == "Finance back office — procure-to-pay and record-to-report"
    first = result.rows[0]
    assert (first.code, first.buyer, first.vendor, first.currency, first.status) == (
        "F2B-2024",
        "Harbor Logistics Group",
        "Ledgerline BPO",
        "USD",
        "active",
    )
    assert [name for _id, name in result.parties] == [
        "Albion Facilities",
        "Harbor Logistics Group",
        "Keystone Workplace Solutions",
        "Ledgerline BPO",
        "Meridian Global Bank",
        "Mutuelle Atlantique",
        "Nordlys IT",
        "Northbridge Borough Council",
        "Vigilis Sécurité",
    ]


def test_each_row_shows_the_contracts_stored_figures(seeded: Flask, session: Session) -> None:
    for row in page(session).rows:
        view = contract_view(session, SYSTEM, row.id)
        totals = view.schedule.totals
        assert row.code == view.code
        assert row.name == view.terms.name
        assert (row.buyer, row.vendor) == (view.terms.buyer, view.terms.vendor)
        assert row.status == view.status
        assert row.archived is False
        assert row.start_date == view.schedule.years[0].start
        assert row.end_date == view.schedule.years[-1].end
        assert row.term_years == len(view.schedule.years)
        assert row.currency == view.terms.currency.code
        assert (
            row.total_price,
            row.total_efficiency_gain,
            row.total_reinvest,
            row.total_net_margin,
        ) == (totals.price, totals.efficiency_gain, totals.reinvest, totals.net_margin)


# -- search -------------------------------------------------------------------------


#: search text -> codes of the demo contracts it finds
DEMO_SEARCHES = {
    "back OFFICE": {"F2B-2024"},  # name
    "ifm-uk": {"IFM-UK-2022"},  # code
    "harbor": {"F2B-2024", "CLOUD-OPS-2025", "WPS-US-2027"},  # buyer
    "NORDLYS": {"SD-FR-2024", "CLOUD-OPS-2025", "WPS-US-2027"},  # vendor
    "  guarding  ": {"GUARD-FR-2026"},  # trimmed
    "nowhere to be found": set(),
}
#: search text -> codes it finds, where % _ and / must be taken as they are
LITERAL_SEARCHES = {
    "%": {"PCT-1"},
    "100%": {"PCT-1"},
    "_": {"UND-1"},
    "/": {"SLASH-1"},
    "a/b": {"SLASH-1"},
    # As LIKE wildcards these would match "Discount 100% guaranteed" and
    # "IT managed services — ..."; taken literally they match nothing.
    "Discount%guaranteed": set(),
    "IT_managed": set(),
    "%%": set(),
}


def test_search_matches_name_code_buyer_and_vendor_ignoring_case(
    seeded: Flask, session: Session
) -> None:
    for search, expected in DEMO_SEARCHES.items():
        result = page(session, search=search)

        assert set(codes(result)) == expected, search
        assert result.matching == len(expected), search


def test_search_takes_percent_and_underscore_literally(seeded: Flask, session: Session) -> None:
    create_contract(session, SYSTEM, terms_document(name="Discount 100% guaranteed"), code="PCT-1")
    create_contract(session, SYSTEM, terms_document(name="Plain_name contract"), code="UND-1")
    create_contract(session, SYSTEM, terms_document(name="A/B testing"), code="SLASH-1")

    for search, expected in LITERAL_SEARCHES.items():
        assert set(codes(page(session, search=search))) == expected, search


def test_search_ignores_the_case_of_accented_letters(seeded: Flask, session: Session) -> None:
    assert codes(page(session, search="VIGILIS SÉCURITÉ")) == ["GUARD-FR-2026"]


# -- filters ------------------------------------------------------------------------


def test_the_party_filter_matches_the_buyer_or_the_vendor(seeded: Flask, session: Session) -> None:
    parties = page(session)

    as_vendor = page(session, party_id=party_id(parties, "Nordlys IT"))
    as_buyer = page(session, party_id=party_id(parties, "Mutuelle Atlantique"))

    assert set(codes(as_vendor)) == {"SD-FR-2024", "CLOUD-OPS-2025", "WPS-US-2027"}
    assert set(codes(as_buyer)) == {"SD-FR-2024", "GUARD-FR-2026"}
    assert as_vendor.matching == 3
    assert as_buyer.matching == 2


def test_an_invalid_party_filter_is_ignored(seeded: Flask, session: Session) -> None:
    for bad_party in (0, -1, None):
        result = page(session, party_id=bad_party)

        assert set(codes(result)) == DEMO_CODES, bad_party
        assert result.query.party_id is None


#: status -> codes of the demo contracts in that status
STATUS_FILTERS = {
    "active": {"SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025"},
    "draft": {"WPS-US-2027"},
    "onboarding": {"GUARD-FR-2026"},
    "closed": set(),
}


def test_the_status_filter_keeps_contracts_of_that_status(seeded: Flask, session: Session) -> None:
    for status, expected in STATUS_FILTERS.items():
        result = page(session, status=status)

        assert set(codes(result)) == expected, status
        assert result.query.status == status
        assert {row.status for row in result.rows} <= {status}


def test_an_unknown_status_filter_is_ignored(seeded: Flask, session: Session) -> None:
    result = page(session, status="no such status")

    assert set(codes(result)) == DEMO_CODES
    assert result.query.status is None


def test_filters_and_search_combine(seeded: Flask, session: Session) -> None:
    harbor = party_id(page(session), "Harbor Logistics Group")

    assert set(codes(page(session, party_id=harbor, status="active"))) == {
        "F2B-2024",
        "CLOUD-OPS-2025",
    }
    assert codes(page(session, party_id=harbor, status="active", search="cloud")) == [
        "CLOUD-OPS-2025"
    ]
    assert codes(page(session, party_id=harbor, status="onboarding")) == []


def test_archived_contracts_are_hidden_unless_asked_for(seeded: Flask, session: Session) -> None:
    archive(session, id_of(session, "CLOUD-OPS-2025"))

    default = page(session)
    archived = page(session, archived=True)

    assert set(codes(default)) == DEMO_CODES - {"CLOUD-OPS-2025"}
    assert default.matching == 6
    assert codes(archived) == ["CLOUD-OPS-2025"]
    assert archived.rows[0].archived is True
    assert codes(page(session, search="cloud")) == []
    assert codes(page(session, search="cloud", archived=True)) == ["CLOUD-OPS-2025"]
    usd = {totals.currency: totals for totals in default.totals}["USD"]
    assert usd.contracts == 3
    assert [(t.currency, t.contracts) for t in archived.totals] == [("USD", 1)]


# -- sorting ------------------------------------------------------------------------

#: name, code, status, start, term, price, baseline, efficiency, reinvest share
SORT_CONTRACTS = [
    ("Bravo", "S-03", "draft", "2026-01-01", 3, "100000.00", "80000.00", "0.05", "0.5"),
    ("Alpha", "S-01", "active", "2025-06-01", 5, "250000.00", "200000.00", "0.02", "0.3"),
    ("Delta", "S-05", "signed", "2026-01-01", 2, "100000.00", "80000.00", "0.05", "0.5"),
    ("Alpha", "S-04", "closed", "2024-03-15", 4, "50000.00", "45000.00", "0", "0"),
    ("Charlie", "S-02", "draft", "2027-09-30", 1, "75000.00", "90000.00", "0.1", "0.2"),
    ("Echo", "S-06", "negotiation", "2025-06-01", 5, "250000.00", "200000.00", "0.02", "0.3"),
]


@pytest.fixture
def sort_buyer(session: Session) -> int:
    """Six contracts of one buyer with ties in every sorted column; the buyer's id."""
    for name, code, status, start, years, price, baseline, efficiency, share in SORT_CONTRACTS:
        document = terms_document(
            name=name,
            buyer="Sort Buyer Ltd",
            start_date=start,
            term_years=years,
            price={"base": price, "escalation": {"method": "fixed", "rate": "0.02"}},
            cost={"baseline": baseline, "inflation": "0.01", "efficiency": efficiency},
            gain_split={"reinvest": share, "buyer": "0.1"},
        )
        create_contract(session, SYSTEM, document, code=code, status=status)
    create_contract(session, SYSTEM, terms_document(), code="NOT-MINE")
    return party_id(page(session), "Sort Buyer Ltd")


def expected_order(rows: tuple[PortfolioRow, ...], field: str, descending: bool) -> list[str]:
    by_id = sorted(rows, key=lambda row: row.id)
    ordered = sorted(by_id, key=lambda row: getattr(row, field), reverse=descending)
    return [row.code for row in ordered]


def test_every_sort_key_is_checked() -> None:
    # Sorting by health is tested with contracts that have one (test_health_service.py).
    assert set(SORTED_FIELD) | {"health"} == set(SORTS)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_every_sort_key_orders_the_rows_with_ties_broken_by_id(
    session: Session, sort_buyer: int, descending: bool
) -> None:
    for sort, field in SORTED_FIELD.items():
        result = page(session, party_id=sort_buyer, sort=sort, descending=descending)

        assert len(result.rows) == 6, sort
        values = [getattr(row, field) for row in result.rows]
        assert len(set(values)) >= 3, f"{sort}: the column has different values to sort"
        assert len(set(values)) < 6 or sort == "code", f"{sort}: the column has ties"
        assert codes(result) == expected_order(result.rows, field, descending), sort
        assert (result.query.sort, result.query.descending) == (sort, descending)


def test_sorting_by_name_breaks_ties_by_id_in_both_directions(
    session: Session, sort_buyer: int
) -> None:
    ascending = page(session, party_id=sort_buyer, sort="name")
    descending = page(session, party_id=sort_buyer, sort="name", descending=True)

    assert codes(ascending) == ["S-01", "S-04", "S-03", "S-02", "S-05", "S-06"]
    assert codes(descending) == ["S-06", "S-05", "S-02", "S-03", "S-01", "S-04"]


def test_sorting_by_margin_puts_the_loss_making_contract_first(
    session: Session, sort_buyer: int
) -> None:
    result = page(session, party_id=sort_buyer, sort="margin")

    assert result.rows[0].code == "S-02"
    assert result.rows[0].total_net_margin < 0
    assert [row.total_net_margin for row in result.rows] == sorted(
        row.total_net_margin for row in result.rows
    )


def test_an_unknown_sort_key_falls_back_to_the_name(session: Session, sort_buyer: int) -> None:
    result = page(session, party_id=sort_buyer, sort="id; DROP TABLE contracts")

    assert result.query.sort == "name"
    assert codes(result) == ["S-01", "S-04", "S-03", "S-02", "S-05", "S-06"]


# -- pages --------------------------------------------------------------------------


@pytest.fixture
def thirty_contracts(seeded: Flask, session: Session) -> list[int]:
    """The 7 demo contracts and 23 more: two pages of 25; their ids."""
    for n in range(23):
        create_contract(
            session, SYSTEM, terms_document(name=f"Filler {n:02d}"), code=f"FILL-{n:02d}"
        )
    ids = unarchived_ids(session)
    assert len(ids) == 30
    return ids


def test_pages_hold_25_contracts_and_together_list_each_once(
    session: Session, thirty_contracts: list[int]
) -> None:
    first = page(session)
    second = page(session, page=2)
    everything = page(session, per_page=50)

    assert (first.matching, first.pages, len(first.rows)) == (30, 2, 25)
    assert (second.query.page, len(second.rows)) == (2, 5)
    assert codes(first) + codes(second) == codes(everything)
    assert sorted(row.id for row in everything.rows) == sorted(thirty_contracts)
    assert everything.pages == 1
    # Totals cover every matching contract, not only the page shown.
    assert sum(totals.contracts for totals in first.totals) == 30
    assert first.totals == second.totals == everything.totals


def test_page_numbers_and_sizes_out_of_range_are_brought_into_range(
    session: Session, thirty_contracts: list[int]
) -> None:
    first, last = codes(page(session, page=1)), codes(page(session, page=2))
    assert (len(first), len(last)) == (25, 5)

    for beyond in (3, 99, 10**6):
        result = page(session, page=beyond)
        assert (result.query.page, codes(result)) == (2, last), beyond
    for before in (0, -1):
        result = page(session, page=before)
        assert (result.query.page, codes(result)) == (1, first), before
    for per_page in (0, -25, 30, 1000):
        result = page(session, per_page=per_page)
        assert (result.query.per_page, result.pages, codes(result)) == (25, 2, first), per_page
    assert len(page(session, per_page=100).rows) == 30


def test_an_empty_portfolio_has_one_empty_page(session: Session) -> None:
    result = page(session, page=5)

    assert (result.matching, result.pages, result.query.page) == (0, 1, 1)
    assert result.rows == ()
    assert result.totals == ()


# -- totals -------------------------------------------------------------------------


def test_totals_are_per_currency_and_equal_the_sums_of_the_matching_contracts(
    seeded: Flask, session: Session
) -> None:
    create_contract(session, SYSTEM, terms_document(name="Yen contract", currency="JPY",
                    price={"base": "1500000", "escalation": {"method": "fixed", "rate": "0"}},
                    cost={"baseline": "1000000", "efficiency": "0.03"}))  # fmt: skip
    create_contract(session, SYSTEM, terms_document(name="Dinar contract", currency="KWD",
                    price={"base": "1234.567", "escalation": {"method": "fixed", "rate": "0"}},
                    cost={"baseline": "1000.001", "efficiency": "0.07"}))  # fmt: skip
    loss = terms_document(name="Loss maker", cost={"baseline": "1500.00", "efficiency": "0.01"})
    create_contract(session, SYSTEM, loss)
    archive(session, create_contract(session, SYSTEM, terms_document(name="Archived euros")))

    result = page(session)

    expected = expected_totals(session, unarchived_ids(session))
    assert list(result.totals) == expected
    assert [totals.currency for totals in result.totals] == ["EUR", "GBP", "JPY", "KWD", "USD"]
    assert [totals.contracts for totals in result.totals] == [3, 1, 1, 1, 4]
    assert sum(totals.contracts for totals in result.totals) == result.matching == 10
    eur = result.totals[0]
    assert eur.total_price == sum(row.total_price for row in result.rows if row.currency == "EUR")


def test_totals_follow_the_filters(seeded: Flask, session: Session) -> None:
    harbor = party_id(page(session), "Harbor Logistics Group")

    result = page(session, party_id=harbor)

    assert list(result.totals) == expected_totals(session, [row.id for row in result.rows])
    assert [(totals.currency, totals.contracts) for totals in result.totals] == [("USD", 3)]


def test_totals_of_the_largest_contracts_are_exact(session: Session) -> None:
    largest = terms_document(
        currency="KWD",
        price={"base": "999999999999999.999", "escalation": {"method": "fixed", "rate": "0"}},
        cost={"baseline": "0"},
    )
    for n in range(10):
        create_contract(session, SYSTEM, {**largest, "name": f"Largest {n}"})

    result = page(session)

    assert [(t.currency, t.contracts) for t in result.totals] == [("KWD", 10)]
    assert result.totals[0].total_price == 10 * 999_999_999_999_999_999
    assert result.totals[0].total_net_margin == 10 * 999_999_999_999_999_999
