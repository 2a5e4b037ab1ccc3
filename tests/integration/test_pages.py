"""The web pages through the test client: the portfolio, the contract form, editing,
scenarios and their comparison, archiving and deleting, and the error pages."""

from __future__ import annotations

import json
import logging
import re
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTER, add_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.db.models import Contract, Scenario
from tracker.domain.json_document import load_json_document
from tracker.domain.lifecycle import spliced_schedule
from tracker.domain.schedule import compute_schedule
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import SYSTEM
from tracker.services.contracts import ContractView, contract_view, create_contract, update_terms
from tracker.services.scenarios import ScenarioView, create_scenario, scenario_view
from tracker.services.seed import SEED_DATA, merged
from tracker.web.terms_form import form_data

DATA = Path(__file__).resolve().parents[1] / "data"
#: An id no database integer column can hold.
HUGE_ID = "99999999999999999999999"
#: The money and percentage columns of the schedule table, in the page's order.
SCHEDULE_COLUMNS = (
    "price",
    "baseline_cost",
    "planned_cost",
    "efficiency_gain",
    "efficiency_pct",
    "reinvest",
    "buyer_credit",
    "vendor_gain",
    "net_price",
    "gross_margin",
    "net_margin",
    "reinvest_cumulative",
)
#: Year 2 to 5 prices of the fixed-5y example at 4 % instead of 3 %, worked by hand:
#: 1,200,000.00 x 1.04 each year, rounded to the cent each year.
PRICES_AT_4_PERCENT = (
    "1,200,000.00",
    "1,248,000.00",
    "1,297,920.00",
    "1,349,836.80",
    "1,403,830.27",
)


def table_rows(table: Node, section: str = "tbody") -> list[list[str]]:
    """The text of each header or data cell of each row of a table section."""
    return [
        [cell.text for cell in row.children if isinstance(cell, Node) and cell.tag in ("th", "td")]
        for row in table.one(section).find_all("tr")
    ]


def form_values(form: Node) -> dict[str, str]:
    """What a browser would send for a form as shown (text inputs, selects, textareas)."""
    values: dict[str, str] = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if not name:
            continue
        if node.tag == "input" and node.attrs.get("type") not in ("submit", "checkbox"):
            values[name] = node.attrs.get("value") or ""
        elif node.tag == "textarea":
            values[name] = node.raw_text().removeprefix("\r\n").removeprefix("\n")
        elif node.tag == "select":
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            values[name] = chosen[0].attrs.get("value") or ""
    return values


# -- documents, expected figures and stored rows ----------------------------------------


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return document


def expected(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (DATA / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    return document


def _joined(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def form_fields(document: dict[str, Any], **changes: str) -> dict[str, str]:
    """The new-contract form filled in with a terms document (lists space-separated)."""
    escalation = document["price"]["escalation"]
    cost = document["cost"]
    split = document.get("gain_split", {})
    fields = {
        "name": document["name"],
        "code": "",
        "buyer": document["buyer"],
        "vendor": document["vendor"],
        "currency": document["currency"],
        "start_date": document["start_date"],
        "term_years": str(document["term_years"]),
        "price_base": _joined(document["price"].get("base")),
        "escalation_method": escalation["method"],
        "fixed_rate": _joined(escalation.get("rate")),
        "index_values": _joined(escalation.get("index")),
        "index_share": _joined(escalation.get("share")),
        "index_offset": _joined(escalation.get("offset")),
        "index_cap": _joined(escalation.get("cap")),
        "index_floor": _joined(escalation.get("floor")),
        "schedule_prices": _joined(escalation.get("prices")),
        "baseline": cost["baseline"],
        "inflation": _joined(cost.get("inflation")),
        "efficiency": _joined(cost.get("efficiency")),
        "reinvest": _joined(split.get("reinvest")),
        "buyer_share": _joined(split.get("buyer")),
        "discount_rate": _joined(document.get("discount_rate")),
    }
    return {**fields, **changes}


def with_rate(document: dict[str, Any], rate: str) -> dict[str, Any]:
    """The document with a fixed escalation at ``rate``."""
    price = {"base": document["price"]["base"], "escalation": {"method": "fixed", "rate": rate}}
    return {**document, "price": price}


def grouped(amount: str) -> str:
    """A decimal string with thousands separators: "1311272.40" -> "1,311,272.40"."""
    whole, dot, fraction = amount.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{fraction}"


def percent(rate: str) -> str:
    """A rate as the pages show it: "0.0139" -> "1.39 %"."""
    return f"{Decimal(rate) * 100:.2f} %"


def signed(delta: Decimal) -> str:
    """A difference as the comparison shows it: +1,000.00, −250.00 (minus sign) or 0."""
    if delta > 0:
        return "+" + grouped(f"{delta:.2f}")
    if delta < 0:
        return "−" + grouped(f"{-delta:.2f}")
    return "0"


def totals_of(document: dict[str, Any]) -> dict[str, str]:
    totals: dict[str, str] = schedule_document(compute_schedule(parse_terms(document)))["totals"]
    return totals


def view(session: Session, contract_id: int) -> ContractView:
    """The contract as stored now (the test's session may hold objects read before)."""
    session.expire_all()
    return contract_view(session, SYSTEM, contract_id)


def scenario(session: Session, scenario_id: int) -> ScenarioView:
    session.expire_all()
    return scenario_view(session, SYSTEM, scenario_id)


def stored_contracts(session: Session) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(Contract)) or 0


def contract_id_of(session: Session, code: str) -> int:
    with session.begin():
        found = session.scalar(select(Contract.id).where(Contract.code == code))
    assert found is not None, f"no contract {code}"
    return found


def scenario_ids_of(session: Session, contract_id: int) -> list[int]:
    with session.begin():
        return list(
            session.scalars(
                select(Scenario.id).where(Scenario.contract_id == contract_id).order_by(Scenario.id)
            )
        )


def created_id(response: TestResponse, prefix: str = "/contracts/") -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    location = response.headers["Location"]
    match = re.fullmatch(re.escape(prefix) + r"(\d+)", location)
    assert match, f"redirected to {location}, not {prefix}<id>"
    return int(match.group(1))


def error_message(response: TestResponse) -> str:
    return html(response).by_id("error-message").text


@pytest.fixture
def fixed_id(session: Session) -> int:
    """The spec's fixed-5y example stored as a draft, code MWS-2025."""
    return create_contract(session, SYSTEM, example("fixed-5y"), code="MWS-2025")


# -- the portfolio --------------------------------------------------------------------


def seed_expectations() -> dict[str, dict[str, Any]]:
    """Each demo contract as the portfolio should list it, from the seed files."""
    manifest = json.loads((SEED_DATA / "portfolio.json").read_text(encoding="utf-8"))
    contracts = {}
    for entry in manifest["contracts"]:
        document = load_json_document((SEED_DATA / "contracts" / entry["file"]).read_bytes())
        assert isinstance(document, dict)
        terms = parse_terms(document)
        contracts[entry["code"]] = {
            "name": terms.name,
            "buyer": terms.buyer,
            "vendor": terms.vendor,
            "status": entry["status"],
            "currency": terms.currency.code,
            "totals": amended_totals(entry["code"], document),
        }
    return contracts


def amended_totals(code: str, document: dict[str, Any]) -> dict[str, str]:
    """The totals of a demo contract after the amendments the seed makes by today
    (seed_data/lifecycle.json): earlier years as the terms had them, later ones amended."""
    lifecycle = json.loads((SEED_DATA / "lifecycle.json").read_text(encoding="utf-8"))
    schedule = compute_schedule(parse_terms(document))
    start = parse_terms(document).start_date
    for amendment in lifecycle["contracts"].get(code, {}).get("amendments", ()):
        if start + timedelta(days=amendment["day"]) > datetime.now(UTC).date():
            continue
        document = merged(document, amendment["changes"])
        terms = parse_terms(document)
        schedule = spliced_schedule(
            schedule, compute_schedule(terms), amendment["effective_year"], terms.discount_rate
        )
    totals: dict[str, str] = schedule_document(schedule)["totals"]
    return totals


def portfolio_rows(response: TestResponse) -> list[dict[str, str]]:
    assert response.status_code == 200
    tables = html(response).find_all("table", id="portfolio")
    if not tables:
        return []
    rows = []
    for row in tables[0].one("tbody").find_all("tr"):
        cells = row.find_all("td")
        link = cells[0].one("a")
        rows.append(
            {
                "name": link.text,
                "href": link.attrs.get("href") or "",
                "code": cells[0].one("div").text,
                "parties": cells[1].text,
                "status": cells[2].text,
                "health": cells[3].text,
                "value": cells[5].text,
                "gain": cells[6].text,
                "reinvest": cells[7].text,
                "margin": cells[8].text,
            }
        )
    return rows


def codes(response: TestResponse) -> list[str]:
    return [row["code"] for row in portfolio_rows(response)]


def amount(text: str) -> Decimal:
    return Decimal(text.split(maxsplit=1)[0].replace(",", ""))


def test_the_portfolio_lists_every_seeded_contract_with_parties_status_and_value(
    seeded: Flask, client: FlaskClient
) -> None:
    rows = {row["code"]: row for row in portfolio_rows(client.get("/"))}
    contracts = seed_expectations()
    assert set(rows) == set(contracts)
    for code, contract in contracts.items():
        row = rows[code]
        assert row["name"] == contract["name"]
        assert row["parties"] == f"{contract['buyer']} {contract['vendor']}"
        assert row["status"] == contract["status"]
        totals = contract["totals"]
        assert row["value"] == f"{grouped(totals['price'])} {contract['currency']}"
        assert row["gain"] == grouped(totals["efficiency_gain"])
        assert row["reinvest"] == grouped(totals["reinvest"])
        assert row["margin"] == grouped(totals["net_margin"])


@pytest.mark.parametrize("search", ["nordlys", "NORDLYS", "Nordlys IT"])
def test_searching_finds_the_contracts_of_a_party_whatever_the_case(
    seeded: Flask, client: FlaskClient, search: str
) -> None:
    wanted = {
        code
        for code, contract in seed_expectations().items()
        if "nordlys" in f"{contract['name']} {contract['buyer']} {contract['vendor']}".lower()
    }
    assert len(wanted) == 3
    assert set(codes(client.get("/", query_string={"q": search}))) == wanted


def test_searching_finds_a_contract_by_its_code(seeded: Flask, client: FlaskClient) -> None:
    assert codes(client.get("/?q=sd-fr")) == ["SD-FR-2024"]


@pytest.mark.parametrize("search", ["100%", "_", "%"])
def test_search_wildcards_are_taken_literally(
    seeded: Flask, client: FlaskClient, search: str
) -> None:
    response = client.get("/", query_string={"q": search})
    assert codes(response) == []
    assert html(response).by_id("empty")


def test_searching_folds_the_case_of_accented_letters(seeded: Flask, client: FlaskClient) -> None:
    assert codes(client.get("/", query_string={"q": "SÉCURITÉ"})) == ["GUARD-FR-2026"]


def test_searching_for_text_with_a_nul_byte_matches_nothing(
    seeded: Flask, client: FlaskClient
) -> None:
    response = client.get("/?q=a%00b")
    assert response.status_code == 200
    assert codes(response) == []


@pytest.mark.parametrize(
    ("status", "wanted"),
    [("draft", ["WPS-US-2027"]), ("onboarding", ["GUARD-FR-2026"]), ("closed", [])],
)
def test_the_status_filter_shows_only_contracts_of_that_status(
    seeded: Flask, client: FlaskClient, status: str, wanted: list[str]
) -> None:
    response = client.get("/", query_string={"status": status})
    assert codes(response) == wanted
    rows = portfolio_rows(response)
    assert all(row["status"] == status for row in rows)


def test_the_party_filter_shows_contracts_where_the_organisation_is_buyer_or_vendor(
    seeded: Flask, client: FlaskClient
) -> None:
    options = html(client.get("/")).by_id("party").find_all("option")
    party_id = next(o.attrs["value"] for o in options if o.text == "Harbor Logistics Group")
    assert party_id
    wanted = {
        code
        for code, contract in seed_expectations().items()
        if "Harbor Logistics Group" in (contract["buyer"], contract["vendor"])
    }
    response = client.get("/", query_string={"party": party_id})
    assert set(codes(response)) == wanted
    options = html(response).by_id("party").find_all("option")
    assert [o.text for o in options if "selected" in o.attrs] == ["Harbor Logistics Group"]


@pytest.mark.parametrize("key", ["value", "margin"])
def test_sorting_by_an_amount_orders_the_rows_both_ways(
    seeded: Flask, client: FlaskClient, key: str
) -> None:
    descending = [amount(row[key]) for row in portfolio_rows(client.get(f"/?sort={key}&dir=desc"))]
    ascending = [amount(row[key]) for row in portfolio_rows(client.get(f"/?sort={key}&dir=asc"))]
    assert len(descending) == 7
    assert descending == sorted(descending, reverse=True)
    assert ascending == sorted(ascending)
    assert descending != ascending


@pytest.fixture
def thirty_contracts(session: Session) -> list[str]:
    """Contract 01 to Contract 30, created through the service; their codes in name order."""
    document = example("fixed-5y")
    created = []
    for number in range(1, 31):
        code = f"P-{number:02d}"
        create_contract(session, SYSTEM, {**document, "name": f"Contract {number:02d}"}, code=code)
        created.append(code)
    return created


def test_more_than_25_contracts_are_paged_25_at_a_time(
    thirty_contracts: list[str], client: FlaskClient
) -> None:
    first = client.get("/?page=1&per_page=25")
    second = client.get("/?page=2&per_page=25")
    assert codes(first) == thirty_contracts[:25]
    assert codes(second) == thirty_contracts[25:]
    assert html(second).by_id("matching").text.startswith("30 contracts, page 2 of 2.")
    assert codes(client.get("/?per_page=50")) == thirty_contracts


def test_a_page_past_the_end_shows_the_last_page(
    thirty_contracts: list[str], client: FlaskClient
) -> None:
    assert codes(client.get("/?page=999")) == thirty_contracts[25:]


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=-3",
        "per_page=7",
        "per_page=abc",
        "sort=evil",
        "sort=name;drop table contracts",
        "dir=sideways",
        "party=x",
        "party=-1",
        "status=evil",
    ],
)
def test_bad_portfolio_parameters_fall_back_to_the_defaults(
    thirty_contracts: list[str], client: FlaskClient, query: str
) -> None:
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert codes(response) == thirty_contracts[:25]
    assert html(response).by_id("matching").text.startswith("30 contracts, page 1 of 2.")


def test_a_party_id_too_large_for_the_database_falls_back_to_every_party(
    thirty_contracts: list[str], client: FlaskClient
) -> None:
    response = client.get(f"/?party={HUGE_ID}")
    assert response.status_code == 200


def totals_cards(response: TestResponse) -> dict[str, tuple[str, list[str]]]:
    """Currency -> (the card's heading, its four amounts) of the portfolio totals."""
    shown = {}
    for card in html(response).by_id("portfolio-totals").find_all("div", cls="card"):
        heading = card.find_all("div", cls="small")[0].text
        shown[heading.rsplit(" ", 1)[1]] = (heading, [dd.text for dd in card.find_all("dd")])
    return shown


def seeded_sums() -> dict[str, dict[str, Decimal]]:
    """Per currency: how many demo contracts, and the sums of their totals."""
    wanted: dict[str, dict[str, Decimal]] = {}
    for contract in seed_expectations().values():
        sums = wanted.setdefault(contract["currency"], {"contracts": Decimal(0)})
        sums["contracts"] += 1
        for key in TOTALLED:
            sums[key] = sums.get(key, Decimal(0)) + Decimal(contract["totals"][key])
    return wanted


TOTALLED = ("price", "efficiency_gain", "reinvest", "net_margin")


def test_the_totals_are_shown_per_currency_with_thousands_separators(
    seeded: Flask, client: FlaskClient
) -> None:
    shown = totals_cards(client.get("/"))
    wanted = seeded_sums()
    assert set(shown) == set(wanted) == {"EUR", "GBP", "USD"}
    for currency, sums in wanted.items():
        count = int(sums["contracts"])
        heading, values = shown[currency]
        assert heading == f"{count} contract{'s' if count != 1 else ''} in {currency}"
        assert len(values) == 4
        assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d{2}", value) for value in values)
    # GBP has one contract: its totals are that contract's.
    assert shown["GBP"][1] == [grouped(f"{wanted['GBP'][key]:.2f}") for key in TOTALLED]


def test_the_totals_are_the_exact_sums_of_the_contracts_of_each_currency(
    seeded: Flask, client: FlaskClient
) -> None:
    shown = totals_cards(client.get("/"))
    for currency, sums in seeded_sums().items():
        assert shown[currency][1] == [grouped(f"{sums[key]:.2f}") for key in TOTALLED], currency


def test_two_identical_contracts_total_exactly_twice_one(
    client: FlaskClient, session: Session
) -> None:
    create_contract(session, SYSTEM, example("fixed-5y"))
    create_contract(session, SYSTEM, {**example("fixed-5y"), "name": "The same again"})
    totals = expected("fixed-5y")["totals"]
    shown = totals_cards(client.get("/"))
    assert shown["EUR"][0] == "2 contracts in EUR"
    assert shown["EUR"][1] == [grouped(f"{2 * Decimal(totals[key]):.2f}") for key in TOTALLED]


def test_the_totals_follow_the_filters(seeded: Flask, client: FlaskClient) -> None:
    draft = seed_expectations()["WPS-US-2027"]
    cards = html(client.get("/?status=draft")).by_id("portfolio-totals").find_all("dd")
    assert cards[0].text == grouped(draft["totals"]["price"])


# -- a new contract through the form --------------------------------------------------


def assert_schedule_shown(page: Node, schedule: dict[str, Any]) -> None:
    """The page's schedule table shows every expected figure, grouped, and the totals."""
    table = page.by_id("schedule")
    rows = table_rows(table)
    assert len(rows) == len(schedule["years"])
    for row, year in zip(rows, schedule["years"], strict=True):
        want = [
            str(year["year"]),
            f"{year['start']} – {year['end']}",
            "—" if year["escalation"] is None else percent(year["escalation"]),
        ]
        for key in SCHEDULE_COLUMNS:
            value = year[key]
            if key == "efficiency_pct":
                want.append("—" if value is None else percent(value))
            else:
                want.append(grouped(value))
        assert row == want, f"year {year['year']}"
    totals = schedule["totals"]
    assert table_rows(table, "tfoot") == [
        [
            "Total",
            *(grouped(totals[key]) for key in SCHEDULE_COLUMNS[:4]),
            "",
            *(grouped(totals[key]) for key in SCHEDULE_COLUMNS[5:-1]),
            "",
        ]
    ]
    figures = {
        card.one("div", cls="small").text: card.one("div", cls="fs-5").text
        for card in page.by_id("key-figures").find_all("div", cls="card-body")
    }
    code = schedule["currency"]
    assert figures["NPV of the net margin"] == f"{grouped(totals['npv_net_margin'])} {code}"
    assert figures["Contract value"] == f"{grouped(totals['price'])} {code}"


def test_a_contract_entered_in_the_form_shows_the_spec_schedule(
    client: FlaskClient, session: Session
) -> None:
    response = client.post("/contracts/new", data=form_fields(example("fixed-5y")))
    contract_id = created_id(response)
    page = client.get(f"/contracts/{contract_id}")
    assert page.status_code == 200
    assert_schedule_shown(html(page), expected("fixed-5y"))
    assert stored_contracts(session) == 1


def test_index_linked_terms_entered_in_the_form_show_the_index_trace(
    client: FlaskClient,
) -> None:
    response = client.post("/contracts/new", data=form_fields(example("index-capped-4y")))
    page = html(client.get(f"/contracts/{created_id(response)}"))
    assert_schedule_shown(page, expected("index-capped-4y"))
    # a = 0.9 x index - 0.005, then the cap of 3.5 %, then the floor of 0 %.
    assert table_rows(page.by_id("index-trace")) == [
        ["2", "2.10 %", "90.00 %", "0.50 %", "1.39 %", "3.50 %", "0.00 %", "", "1.39 %"],
        ["3", "5.40 %", "90.00 %", "0.50 %", "4.36 %", "3.50 %", "0.00 %", "capped", "3.50 %"],
        ["4", "-0.40 %", "90.00 %", "0.50 %", "-0.86 %", "3.50 %", "0.00 %", "floored", "0.00 %"],
    ]


def test_fixed_terms_show_no_index_trace(client: FlaskClient) -> None:
    response = client.post("/contracts/new", data=form_fields(example("fixed-5y")))
    page = html(client.get(f"/contracts/{created_id(response)}"))
    assert page.find_all(id="index-trace") == []


def test_negotiated_prices_entered_in_the_form_are_the_yearly_prices(
    client: FlaskClient, session: Session
) -> None:
    fields = form_fields(
        example("fixed-5y"),
        escalation_method="schedule",
        price_base="",
        fixed_rate="",
        schedule_prices="1200000.00 1210000.00\n1220000.50\r\n1230000.00 1240000.00",
    )
    contract_id = created_id(client.post("/contracts/new", data=fields))
    rows = table_rows(html(client.get(f"/contracts/{contract_id}")).by_id("schedule"))
    assert [row[3] for row in rows] == [
        "1,200,000.00",
        "1,210,000.00",
        "1,220,000.50",
        "1,230,000.00",
        "1,240,000.00",
    ]
    assert [row[2] for row in rows] == ["—"] * 5
    assert view(session, contract_id).document["price"]["escalation"]["method"] == ("schedule")


def test_the_new_contract_form_redisplays_the_values_with_the_errors(
    client: FlaskClient, session: Session
) -> None:
    fields = form_fields(example("fixed-5y"), fixed_rate="0.03 0.04")
    response = client.post("/contracts/new", data=fields)
    assert response.status_code == 422
    page = html(response)
    assert form_values(page.by_id("terms-form"))["name"] == fields["name"]
    assert "expected 4 values (years 2–5), got 2" in page.by_id("fixed_rate").next_element().text
    assert stored_contracts(session) == 0


def test_the_terms_form_builds_without_a_deprecation_warning(client: FlaskClient) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = client.get("/contracts/new")
    assert response.status_code == 200
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []


# -- editing ----------------------------------------------------------------------------


def same_values(shown: str, stored: str) -> bool:
    """Equal texts, or equal numbers item by item ("0.5" shows the stored "0.50")."""
    if shown == stored:
        return True
    left, right = shown.split(), stored.split()
    try:
        return len(left) == len(right) and all(
            Decimal(a) == Decimal(b) for a, b in zip(left, right, strict=True)
        )
    except ArithmeticError:
        return False


@pytest.mark.parametrize("name", ["fixed-5y", "index-capped-4y"])
def test_the_edit_form_is_filled_in_with_the_stored_terms(
    client: FlaskClient, session: Session, name: str
) -> None:
    contract_id = create_contract(session, SYSTEM, example(name), code="EDIT-ME")
    response = client.get(f"/contracts/{contract_id}/edit")
    assert response.status_code == 200
    shown = form_values(html(response).by_id("terms-form"))
    stored = view(session, contract_id).document
    for field, value in form_fields(stored, code="EDIT-ME").items():
        assert same_values(shown[field], value), (
            f"{field}: shown {shown[field]!r}, stored {value!r}"
        )
    # The values given (the defaults left out of the example show as stored, e.g. 0).
    for field, value in form_fields(example(name), code="EDIT-ME").items():
        if value:
            assert same_values(shown[field], value), f"{field}: shown {shown[field]!r}"
    assert shown["version"] == str(view(session, contract_id).version)


def test_saving_a_changed_term_recomputes_the_schedule(client: FlaskClient, fixed_id: int) -> None:
    fields = form_values(html(client.get(f"/contracts/{fixed_id}/edit")).by_id("terms-form"))
    response = client.post(f"/contracts/{fixed_id}/edit", data={**fields, "fixed_rate": "0.04"})
    assert created_id(response) == fixed_id
    rows = table_rows(html(client.get(f"/contracts/{fixed_id}")).by_id("schedule"))
    assert tuple(row[3] for row in rows) == PRICES_AT_4_PERCENT
    assert [row[2] for row in rows] == ["—"] + ["4.00 %"] * 4


def test_saving_a_contract_with_an_automatic_reference_keeps_the_reference(
    client: FlaskClient, session: Session
) -> None:
    contract_id = create_contract(session, SYSTEM, example("fixed-5y"))
    fields = form_values(html(client.get(f"/contracts/{contract_id}/edit")).by_id("terms-form"))
    assert fields["code"] == f"C-{contract_id:05d}"
    response = client.post(f"/contracts/{contract_id}/edit", data={**fields, "fixed_rate": "0.04"})
    assert created_id(response) == contract_id
    assert html(client.get(f"/contracts/{contract_id}/edit")).by_id("code").attrs["value"] == (
        f"C-{contract_id:05d}"
    )
    assert view(session, contract_id).document["price"]["escalation"]["rate"] == "0.04"


def test_saving_with_a_stale_version_is_refused_and_keeps_the_other_change(
    client: FlaskClient, session: Session, fixed_id: int
) -> None:
    stale = form_values(html(client.get(f"/contracts/{fixed_id}/edit")).by_id("terms-form"))
    fresh = form_values(html(client.get(f"/contracts/{fixed_id}/edit")).by_id("terms-form"))
    assert (
        created_id(client.post(f"/contracts/{fixed_id}/edit", data={**fresh, "fixed_rate": "0.04"}))
        == fixed_id
    )
    response = client.post(f"/contracts/{fixed_id}/edit", data={**stale, "fixed_rate": "0.05"})
    assert response.status_code == 409
    assert "changed by someone else" in error_message(response)
    assert "Traceback" not in response.get_data(as_text=True)
    escalation = view(session, fixed_id).document["price"]["escalation"]
    assert escalation == {"method": "fixed", "rate": "0.04"}


def test_saving_after_a_change_through_the_service_is_refused_as_stale(
    client: FlaskClient, session: Session, fixed_id: int
) -> None:
    form = form_values(html(client.get(f"/contracts/{fixed_id}/edit")).by_id("terms-form"))
    version = view(session, fixed_id).version
    update_terms(
        session, SYSTEM, fixed_id, with_rate(example("fixed-5y"), "0.02"), expected_version=version
    )
    response = client.post(f"/contracts/{fixed_id}/edit", data={**form, "fixed_rate": "0.05"})
    assert response.status_code == 409
    assert "changed by someone else" in error_message(response)


def test_editing_an_active_contract_is_refused_with_409(
    seeded: Flask, client: FlaskClient, session: Session
) -> None:
    contract_id = contract_id_of(session, "SD-FR-2024")
    before = view(session, contract_id)
    opened = client.get(f"/contracts/{contract_id}/edit")
    assert opened.status_code == 409
    assert "active contract are fixed" in error_message(opened)
    form = form_data(before.document, code=before.code) | {"version": str(before.version)}
    response = client.post(f"/contracts/{contract_id}/edit", data={**form, "discount_rate": "0.01"})
    assert response.status_code == 409
    assert "active contract are fixed" in error_message(response)
    after = view(session, contract_id)
    assert after.document == before.document
    assert after.version == before.version


# -- scenarios ----------------------------------------------------------------------------


#: Terms a scenario takes from its contract: the form does not show them.
CONTRACT_ONLY = ("name", "code", "buyer", "vendor", "currency")


def scenario_fields(document: dict[str, Any], name: str, **changes: str) -> dict[str, str]:
    fields = form_fields(document, scenario_name=name, **changes)
    for contract_only in CONTRACT_ONLY:
        del fields[contract_only]
    return fields


def test_the_new_scenario_form_is_filled_in_with_the_contract_terms(
    client: FlaskClient, fixed_id: int
) -> None:
    response = client.get(f"/contracts/{fixed_id}/scenarios/new")
    assert response.status_code == 200
    shown = form_values(html(response).by_id("terms-form"))
    assert shown["scenario_name"] == ""
    assert not set(CONTRACT_ONLY) & set(shown)
    for field, value in scenario_fields(example("fixed-5y"), "").items():
        assert same_values(shown[field], value), f"{field}: shown {shown[field]!r}"


def test_a_new_scenario_leads_to_its_comparison_with_the_contract(
    client: FlaskClient, session: Session, fixed_id: int
) -> None:
    fields = scenario_fields(example("fixed-5y"), "Four per cent", fixed_rate="0.04")
    response = client.post(f"/contracts/{fixed_id}/scenarios/new", data=fields)
    scenario_id = created_id(response, "/scenarios/")
    assert scenario_ids_of(session, fixed_id) == [scenario_id]
    shown = client.get(f"/scenarios/{scenario_id}")
    assert shown.status_code == 303
    assert shown.headers["Location"] == f"/contracts/{fixed_id}/compare?s={scenario_id}"
    page = html(client.get(shown.headers["Location"]))
    header = table_rows(page.by_id("compare-totals"), "thead")[0]
    assert header == ["", "Contract MWS-2025", "Four per cent"]
    years = table_rows(page.by_id("compare-years"))
    assert [row[2] for row in years] == list(PRICES_AT_4_PERCENT)


@pytest.fixture
def four_scenarios(session: Session, fixed_id: int) -> list[tuple[int, str, str]]:
    """Four scenarios of the fixed-5y contract: (id, name, rate); 3 % is the contract's."""
    document = example("fixed-5y")
    scenarios = []
    for rate in ("0.04", "0.02", "0.03", "0.05"):
        name = f"Rate {rate}"
        scenarios.append(
            (
                create_scenario(session, SYSTEM, fixed_id, name, with_rate(document, rate)),
                name,
                rate,
            )
        )
    return scenarios


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_comparison_shows_totals_npv_and_differences_for_each_scenario(
    client: FlaskClient, fixed_id: int, four_scenarios: list[tuple[int, str, str]], count: int
) -> None:
    chosen = four_scenarios[:count]
    response = client.get(
        f"/contracts/{fixed_id}/compare", query_string={"s": [s[0] for s in chosen]}
    )
    assert response.status_code == 200
    page = html(response)
    totals_table = page.by_id("compare-totals")
    assert table_rows(totals_table, "thead")[0] == ["", "Contract MWS-2025"] + [
        name for _id, name, _rate in chosen
    ]
    shown = {row[0]: row[1:] for row in table_rows(totals_table)}
    contract = expected("fixed-5y")["totals"]
    for title, key in (
        ("Price", "price"),
        ("Net margin", "net_margin"),
        ("NPV of the net margin", "npv_net_margin"),
    ):
        want = [grouped(contract[key])]
        for _id, _name, rate in chosen:
            figure = totals_of(with_rate(example("fixed-5y"), rate))[key]
            want.append(f"{grouped(figure)} {signed(Decimal(figure) - Decimal(contract[key]))}")
        assert shown[title] == want, title
    years_header = table_rows(page.by_id("compare-years"), "thead")[0]
    assert years_header.count("Δ") == count
    assert len(table_rows(page.by_id("compare-years"))) == 5


def test_comparing_five_scenarios_is_refused_with_422(
    client: FlaskClient, session: Session, fixed_id: int, four_scenarios: list[tuple[int, str, str]]
) -> None:
    fifth = create_scenario(
        session, SYSTEM, fixed_id, "Rate 0.01", with_rate(example("fixed-5y"), "0.01")
    )
    ids = [s[0] for s in four_scenarios] + [fifth]
    response = client.get(f"/contracts/{fixed_id}/compare", query_string={"s": ids})
    assert response.status_code == 422
    assert "at most 4" in error_message(response)


def test_comparing_a_scenario_of_another_contract_is_404(
    client: FlaskClient, session: Session, fixed_id: int
) -> None:
    other = create_contract(session, SYSTEM, {**example("fixed-5y"), "name": "Another contract"})
    foreign = create_scenario(session, SYSTEM, other, "Theirs", example("fixed-5y"))
    response = client.get(f"/contracts/{fixed_id}/compare?s={foreign}")
    assert response.status_code == 404


def test_comparing_a_scenario_id_that_is_not_a_number_is_404(
    client: FlaskClient, fixed_id: int
) -> None:
    assert client.get(f"/contracts/{fixed_id}/compare?s=abc").status_code == 404


def test_comparing_a_scenario_id_too_large_for_the_database_is_404(
    client: FlaskClient, fixed_id: int
) -> None:
    assert client.get(f"/contracts/{fixed_id}/compare?s={HUGE_ID}").status_code == 404


def test_the_field_parameter_switches_the_year_by_year_table(
    client: FlaskClient, fixed_id: int, four_scenarios: list[tuple[int, str, str]]
) -> None:
    years = expected("fixed-5y")["years"]
    scenario = four_scenarios[0][0]
    for field, title in (("net_margin", "Net margin"), ("price", "Price"), ("evil", "Price")):
        page = html(client.get(f"/contracts/{fixed_id}/compare?s={scenario}&field={field}"))
        assert page.by_id("years-heading").text == f"{title}, year by year"
        key = "price" if field == "evil" else field
        assert [row[1] for row in table_rows(page.by_id("compare-years"))] == [
            grouped(year[key]) for year in years
        ]


def test_the_comparison_chart_is_svg_with_an_etag_and_is_not_sent_again_unchanged(
    client: FlaskClient, fixed_id: int, four_scenarios: list[tuple[int, str, str]]
) -> None:
    url = f"/contracts/{fixed_id}/compare.svg?s={four_scenarios[0][0]}&s={four_scenarios[1][0]}"
    first = client.get(url)
    assert first.status_code == 200
    assert first.mimetype == "image/svg+xml"
    assert first.get_data(as_text=True).lstrip().startswith(("<?xml", "<svg"))
    etag = first.headers["ETag"]
    assert etag
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    other_field = client.get(url + "&field=net_margin", headers={"If-None-Match": etag})
    assert other_field.status_code == 200
    assert other_field.headers["ETag"] != etag


def test_promoting_a_scenario_of_a_draft_makes_its_schedule_the_contracts(
    client: FlaskClient, session: Session, fixed_id: int, four_scenarios: list[tuple[int, str, str]]
) -> None:
    scenario_id = four_scenarios[0][0]
    compare = html(client.get(f"/contracts/{fixed_id}/compare?s={scenario_id}"))
    promote = compare.one("form", action=f"/scenarios/{scenario_id}/promote")
    response = client.post(f"/scenarios/{scenario_id}/promote", data=form_values(promote))
    assert created_id(response) == fixed_id
    assert view(session, fixed_id).schedule == scenario(session, scenario_id).schedule
    rows = table_rows(html(client.get(f"/contracts/{fixed_id}")).by_id("schedule"))
    assert tuple(row[3] for row in rows) == PRICES_AT_4_PERCENT


def test_promoting_with_a_stale_contract_version_is_refused(
    client: FlaskClient, session: Session, fixed_id: int, four_scenarios: list[tuple[int, str, str]]
) -> None:
    before = view(session, fixed_id)
    response = client.post(
        f"/scenarios/{four_scenarios[0][0]}/promote",
        data={"contract_version": str(before.version - 1)},
    )
    assert response.status_code == 409
    assert view(session, fixed_id).schedule == before.schedule


def test_promoting_a_scenario_of_an_active_contract_is_refused_with_409(
    seeded: Flask, client: FlaskClient, session: Session
) -> None:
    contract_id = contract_id_of(session, "SD-FR-2024")
    scenario_id = scenario_ids_of(session, contract_id)[0]
    before = view(session, contract_id)
    response = client.post(
        f"/scenarios/{scenario_id}/promote", data={"contract_version": str(before.version)}
    )
    assert response.status_code == 409
    assert "draft" in error_message(response)
    after = view(session, contract_id)
    assert after.schedule == before.schedule
    assert after.version == before.version


# -- archive, restore, delete -----------------------------------------------------------


def test_the_delete_page_asks_for_confirmation_and_changes_nothing(
    client: FlaskClient, session: Session, fixed_id: int
) -> None:
    response = client.get(f"/contracts/{fixed_id}/delete")
    assert response.status_code == 200
    page = html(response)
    assert page.one("h1").text == "Archive or delete “Managed workplace services”?"
    assert page.one("form", action=f"/contracts/{fixed_id}/archive")
    assert page.one("form", action=f"/contracts/{fixed_id}/delete")
    assert client.get(f"/contracts/{fixed_id}").status_code == 200
    assert stored_contracts(session) == 1


def test_archiving_moves_a_contract_to_the_archived_list_and_restoring_brings_it_back(
    client: FlaskClient, fixed_id: int
) -> None:
    confirm = html(client.get(f"/contracts/{fixed_id}/delete"))
    archive = form_values(confirm.one("form", action=f"/contracts/{fixed_id}/archive"))
    assert created_id(client.post(f"/contracts/{fixed_id}/archive", data=archive)) == fixed_id
    assert codes(client.get("/")) == []
    archived = portfolio_rows(client.get("/?archived=1"))
    assert [row["code"] for row in archived] == ["MWS-2025"]
    assert archived[0]["status"] == "draft archived"

    page = html(client.get(f"/contracts/{fixed_id}"))
    restore = form_values(page.one("form", action=f"/contracts/{fixed_id}/restore"))
    assert created_id(client.post(f"/contracts/{fixed_id}/restore", data=restore)) == fixed_id
    assert codes(client.get("/")) == ["MWS-2025"]
    assert codes(client.get("/?archived=1")) == []


def test_deleting_a_draft_removes_it_with_its_scenarios(
    client: FlaskClient, session: Session, fixed_id: int, four_scenarios: list[tuple[int, str, str]]
) -> None:
    confirm = html(client.get(f"/contracts/{fixed_id}/delete"))
    fields = form_values(confirm.one("form", action=f"/contracts/{fixed_id}/delete"))
    response = client.post(f"/contracts/{fixed_id}/delete", data=fields)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get(f"/contracts/{fixed_id}").status_code == 404
    assert client.get(f"/scenarios/{four_scenarios[0][0]}/edit").status_code == 404
    assert stored_contracts(session) == 0
    assert scenario_ids_of(session, fixed_id) == []


def test_deleting_an_active_contract_is_refused_with_409(
    seeded: Flask, client: FlaskClient, session: Session
) -> None:
    contract_id = contract_id_of(session, "F2B-2024")
    version = view(session, contract_id).version
    response = client.post(f"/contracts/{contract_id}/delete", data={"version": str(version)})
    assert response.status_code == 409
    assert "archive it instead" in error_message(response)
    assert client.get(f"/contracts/{contract_id}").status_code == 200


# -- error pages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/contracts/999999",
        "/contracts/999999/schedule.csv",
        "/contracts/999999/schedule.xlsx",
        "/contracts/999999/terms.json",
        "/contracts/999999/edit",
        "/contracts/999999/compare",
        "/scenarios/999999",
        "/scenarios/999999/edit",
        "/scenarios/999999/schedule.csv",
        "/no/such/page",
    ],
)
def test_an_unknown_object_is_a_404_page_with_the_request_id(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    assert html(response).by_id("request-id").text == request_id
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_unknown_contract_in_the_api_is_a_json_404_with_the_request_id(
    client: FlaskClient,
) -> None:
    response = client.get("/api/contracts/999999")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "url",
    [
        f"/contracts/{HUGE_ID}",
        f"/contracts/{HUGE_ID}/schedule.csv",
        f"/scenarios/{HUGE_ID}/edit",
        f"/api/contracts/{HUGE_ID}",
    ],
)
def test_an_id_too_large_for_the_database_is_a_404_like_any_unknown_id(
    client: FlaskClient, url: str
) -> None:
    assert client.get(url).status_code == 404


def test_an_unexpected_error_shows_the_friendly_500_page_and_logs_the_details(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> str:
        raise RuntimeError("secret detail")

    # Rules are added before the application's first request, so before signing in:
    # every page needs a signed-in person (an anonymous one is sent to /login).
    app.add_url_rule("/boom", "boom", explode)
    add_user(app, TESTER, ())
    client = sign_in(app.test_client(), TESTER)
    with caplog.at_level(logging.ERROR, logger="tracker"):
        response = client.get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret detail" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    request_id = response.headers["X-Request-ID"]
    assert html(response).by_id("request-id").text == request_id
    logged = [record for record in caplog.records if request_id in record.getMessage()]
    assert logged, caplog.text
    assert logged[0].exc_info is not None
    assert str(logged[0].exc_info[1]) == "secret detail"
    assert "Traceback" in caplog.text
