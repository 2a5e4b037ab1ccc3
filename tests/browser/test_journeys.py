"""What a person does in the browser: create a contract, correct a form, read the schedule,
chart and index trace, make and compare scenarios, download the CSV, promote, archive."""

from __future__ import annotations

import csv
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import sign_in

DATA = Path(__file__).parent.parent / "data"
FIXED = json.loads((DATA / "fixed-5y.json").read_text())
FIXED_EXPECTED = json.loads((DATA / "fixed-5y.expected.json").read_text())
INDEX = json.loads((DATA / "index-capped-4y.json").read_text())
#: The organisation of the person the ``page`` fixture signs in as: the vendor of FIXED.
STAFF_ORGANISATION = "Nordlys IT"
#: The name of the application's session cookie (SESSION_COOKIE_NAME).
SESSION_COOKIE = "tracker_session"
CONTRACT_PAGE = re.compile(r"/contracts/\d+$")
COMPARE_PAGE = re.compile(r"/contracts/\d+/compare\?")


class FormRefused(AssertionError):
    """A form's POST got another answer than the journey expects (see ``submit``)."""


#: Columns of table#schedule after the year heading: tbody cells, in order.
YEAR_CELLS = (
    "period", "escalation", "price", "baseline_cost", "planned_cost", "efficiency_gain",
    "efficiency_pct", "reinvest", "buyer_credit", "vendor_gain", "net_price", "gross_margin",
    "net_margin", "reinvest_cumulative",
)  # fmt: skip
#: Cells of the totals row after its "Total" heading (None: an empty cell).
TOTAL_CELLS = (
    "price", "baseline_cost", "planned_cost", "efficiency_gain", None, "reinvest",
    "buyer_credit", "vendor_gain", "net_price", "gross_margin", "net_margin", None,
)  # fmt: skip


def grouped(amount: str) -> str:
    """An amount as the pages show it: "1236000.00" -> "1,236,000.00"."""
    return f"{Decimal(amount):,.2f}"


def percent(rate: str) -> str:
    """A rate as the pages show it: "0.0784" -> "7.84 %"."""
    value = Decimal(rate).scaleb(2).normalize()
    places = max(2, -int(value.as_tuple().exponent))
    return f"{value:.{places}f} %"


def unique(prefix: str) -> str:
    """A name or code no other test or rerun on the same database uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def joined(value: str | list[str] | None) -> str:
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else value


def fixed_form_values(name: str, code: str) -> dict[str, str]:
    """The form fields for the spec's fixed-5y example."""
    doc = FIXED
    return {
        "name": name,
        "code": code,
        "buyer": doc["buyer"],
        "vendor": doc["vendor"],
        "currency": doc["currency"],
        "start_date": doc["start_date"],
        "term_years": str(doc["term_years"]),
        "price_base": doc["price"]["base"],
        "fixed_rate": doc["price"]["escalation"]["rate"],
        "baseline": doc["cost"]["baseline"],
        "inflation": doc["cost"]["inflation"],
        "efficiency": doc["cost"]["efficiency"],
        "reinvest": doc["gain_split"]["reinvest"],
        "buyer_share": doc["gain_split"]["buyer"],
        "discount_rate": doc["discount_rate"],
    }


def fill_terms(page: Page, method: str, values: dict[str, str]) -> None:
    """Choose the escalation method first (it shows its fields), then type every value."""
    page.select_option("#escalation_method", method)
    for field, value in values.items():
        page.fill(f"#{field}", value)


def create_fixed_contract(page: Page) -> tuple[str, str]:
    """Create the fixed-5y example through the form; returns its (name, code)."""
    name, code = unique("Managed workplace services"), unique("BT")
    page.goto("/contracts/new")
    fill_terms(page, "fixed", fixed_form_values(name, code))
    submit(page, "Create contract")
    expect(page).to_have_url(CONTRACT_PAGE)
    expect(page.locator("#contract-name")).to_have_text(name)
    return name, code


def submit(page: Page, button: str, *, expected_status: int = 303) -> None:
    """Press a form's button; fail at once, with the page's message, on an unexpected answer.

    A stored form answers 303 (see other); a form with errors 422 (shown again)."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name=button, exact=True).click()
    response = answer.value
    if response.status != expected_status:
        try:
            shown = page.locator("#error-message").inner_text(timeout=3_000)
        except PlaywrightTimeoutError:
            shown = response.status_text
        raise FormRefused(
            f"POST {response.url} answered {response.status} instead of {expected_status}: {shown}"
        )
    page.wait_for_load_state()


def cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def expect_image_loaded(page: Page, selector: str) -> None:
    """The image finished loading and decoded to a real picture."""
    image = page.locator(selector)
    expect(image).to_be_visible()
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i.complete && i.naturalWidth > 0; }",
        arg=selector,
    )
    assert page.evaluate("s => document.querySelector(s).naturalWidth", selector) > 0


def expect_svg(page: Page, selector: str) -> None:
    src = page.locator(selector).get_attribute("src")
    assert src
    response = page.request.get(src)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in response.text()


def search_portfolio(page: Page, text: str, *, archived: bool = False) -> Locator:
    """Search the portfolio through its form; returns the rows of the contract table."""
    page.goto("/")
    page.fill("#q", text)
    page.locator("#archived").set_checked(archived)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/\?(.+&)?q="))
    expect(page.locator("#matching")).to_be_visible()
    return page.locator("table#portfolio tbody tr")


def totals_row(page: Page, title: str) -> Locator:
    return page.locator("table#compare-totals tbody tr").filter(
        has=page.get_by_role("rowheader", name=title, exact=True)
    )


def first_line(cell_text: str) -> str:
    return cell_text.strip().splitlines()[0].strip()


def test_a_person_creates_a_contract_and_sees_its_schedule_and_chart(page: Page) -> None:
    name, code = unique("Managed workplace services"), unique("BT")
    page.goto("/")
    page.locator("main").get_by_role("link", name="New contract").click()
    expect(page).to_have_url(re.compile(r"/contracts/new$"))
    fill_terms(page, "fixed", fixed_form_values(name, code))
    submit(page, "Create contract")

    expect(page).to_have_url(CONTRACT_PAGE)
    expect(page.locator("#contract-name")).to_have_text(name)
    expect(page.get_by_role("status")).to_contain_text("Contract stored as a draft")
    rows = page.locator("table#schedule tbody tr")
    expect(rows).to_have_count(5)
    for row, year in zip(rows.all(), FIXED_EXPECTED["years"], strict=True):
        assert row.locator("th").inner_text().strip() == str(year["year"])
        shown = dict(zip(YEAR_CELLS, cells(row), strict=True))
        assert shown["period"] == f"{year['start']} – {year['end']}"
        escalation = year["escalation"]
        assert shown["escalation"] == ("—" if escalation is None else percent(escalation))
        assert shown["efficiency_pct"] == percent(year["efficiency_pct"])
        for key in YEAR_CELLS[2:]:
            if key != "efficiency_pct":
                assert shown[key] == grouped(year[key]), (year["year"], key)
    assert cells(rows.nth(1))[2] == "1,236,000.00"  # year 2's price, as the spec shows it
    totals = cells(page.locator("table#schedule tfoot tr"))
    expected_totals = FIXED_EXPECTED["totals"]
    assert totals == ["" if key is None else grouped(expected_totals[key]) for key in TOTAL_CELLS]
    expect(page.locator("#key-figures")).to_contain_text(grouped(expected_totals["npv_net_margin"]))

    expect_image_loaded(page, "img#schedule-chart")
    expect_svg(page, "img#schedule-chart")


def test_a_form_error_is_shown_next_to_the_field_and_values_are_kept(page: Page) -> None:
    name, code = unique("Rejected contract"), unique("BAD")
    values = {**fixed_form_values(name, code), "price_base": "1,200.00", "start_date": "2025-02-30"}
    page.goto("/contracts/new")
    fill_terms(page, "fixed", values)
    submit(page, "Create contract", expected_status=422)

    expect(page).to_have_url(re.compile(r"/contracts/new$"))
    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved")
    price_error = page.locator("#price_base ~ .invalid-feedback")
    date_error = page.locator("#start_date ~ .invalid-feedback")
    expect(price_error).to_be_visible()
    expect(price_error).to_contain_text("plain decimals")
    expect(date_error).to_be_visible()
    expect(date_error).to_contain_text("is not a calendar date")
    expect(page.locator("#price_base")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#start_date")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator(".invalid-feedback")).to_have_count(2)
    for field, value in values.items():
        expect(page.locator(f"#{field}")).to_have_value(value)
    expect(page.locator("#escalation_method")).to_have_value("fixed")

    rows = search_portfolio(page, code)
    expect(rows).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(name)


def test_the_index_method_shows_only_its_fields_and_the_trace(page: Page) -> None:
    index_fields = ("#index_values", "#index_share", "#index_offset", "#index_cap", "#index_floor")
    page.goto("/contracts/new")
    expect(page.locator("#escalation_method")).to_have_value("fixed")
    expect(page.locator("#fixed_rate")).to_be_visible()
    for selector in (*index_fields, "#schedule_prices"):
        expect(page.locator(selector)).to_be_hidden()

    page.select_option("#escalation_method", "index")
    expect(page.locator("#fixed_rate")).to_be_hidden()
    expect(page.locator("#schedule_prices")).to_be_hidden()
    for selector in index_fields:
        expect(page.locator(selector)).to_be_visible()

    doc, escalation = INDEX, INDEX["price"]["escalation"]
    name, code = unique("Facilities management"), unique("IX")
    fill_terms(
        page,
        "index",
        {
            "name": name,
            "code": code,
            "buyer": doc["buyer"],
            # The signed-in staff of Nordlys IT may only create contracts of their own
            # organisation: Nordlys IT stands in for the example's vendor (CleanOps BV).
            "vendor": STAFF_ORGANISATION,
            "currency": doc["currency"],
            "start_date": doc["start_date"],
            "term_years": str(doc["term_years"]),
            "price_base": doc["price"]["base"],
            "index_values": joined(escalation["index"]),
            "index_share": escalation["share"],
            "index_offset": escalation["offset"],
            "index_cap": escalation["cap"],
            "index_floor": escalation["floor"],
            "baseline": doc["cost"]["baseline"],
            "inflation": joined(doc["cost"]["inflation"]),
            "efficiency": joined(doc["cost"]["efficiency"]),
            "reinvest": doc["gain_split"]["reinvest"],
            "discount_rate": doc["discount_rate"],
        },
    )
    submit(page, "Create contract")

    expect(page).to_have_url(CONTRACT_PAGE)
    trace = page.locator("table#index-trace")
    expect(trace).to_be_visible()
    expect(trace).to_contain_text("capped")
    # Year 3: 0.9 × 5.4 % − 0.5 % = 4.36 %, capped at 3.5 %.
    year_3 = trace.locator("tbody tr").filter(has=page.locator("th", has_text=re.compile("^3$")))
    shown = cells(year_3)
    assert shown[3] == "4.36 %"
    assert shown[6] == "capped"
    assert shown[7] == "3.50 %"
    schedule_year_3 = page.locator("table#schedule tbody tr").nth(2)
    assert cells(schedule_year_3)[1] == "3.50 %"


def test_a_person_makes_scenarios_and_compares_them(page: Page) -> None:
    _name, code = create_fixed_contract(page)
    contract_url = page.url

    page.get_by_role("link", name="New scenario").click()
    page.fill("#scenario_name", "Efficiency 6 %")
    page.fill("#efficiency", "0.06")
    submit(page, "Save scenario")
    expect(page).to_have_url(COMPARE_PAGE)

    page.goto(contract_url)
    page.get_by_role("link", name="New scenario").click()
    expect(page.locator("#escalation_method")).to_have_value("fixed")
    expect(page.locator("#fixed_rate")).to_have_value("0.03")
    page.fill("#scenario_name", "Escalation 2 %")
    page.fill("#fixed_rate", "0.02")
    submit(page, "Save scenario")
    expect(page).to_have_url(COMPARE_PAGE)

    page.goto(contract_url)
    scenarios = page.locator("section#scenarios")
    expect(scenarios.get_by_role("checkbox")).to_have_count(2)
    for box in scenarios.get_by_role("checkbox").all():
        box.check()
    scenarios.get_by_role("button", name="Compare").click()

    expect(page).to_have_url(COMPARE_PAGE)
    headings = page.locator("table#compare-totals thead th")
    expect(headings).to_have_count(4)
    assert [text.strip() for text in headings.all_inner_texts()] == [
        "",
        f"Contract {code}",
        "Efficiency 6 %",
        "Escalation 2 %",
    ]
    # Efficiency 6 %: the same prices, more efficiency gain.
    price, gain = totals_row(page, "Price"), totals_row(page, "Efficiency gain")
    price_cells, gain_cells = cells(price), cells(gain)
    assert first_line(price_cells[0]) == grouped(FIXED_EXPECTED["totals"]["price"])
    assert price_cells[1].splitlines() == [first_line(price_cells[0]), "0"]
    expect(gain.locator("td").nth(1).locator(".delta-pos")).to_have_text(re.compile(r"^\+\d"))
    # Escalation 2 %: lower prices, the same costs and so the same efficiency gain.
    expect(price.locator("td").nth(2).locator(".delta-neg")).to_have_text(re.compile(r"^−\d"))
    assert gain_cells[2].splitlines()[-1] == "0"
    expect_image_loaded(page, "img#overlay-chart")
    expect_svg(page, "img#overlay-chart")
    expect(page.locator("#years-heading")).to_have_text("Price, year by year")
    expect(page.locator("table#compare-years tbody tr")).to_have_count(5)

    page.select_option("#field", "net_margin")
    page.get_by_role("button", name="Update").click()
    expect(page).to_have_url(re.compile(r"field=net_margin"))
    expect(page.locator("#years-heading")).to_have_text("Net margin, year by year")
    expect(page.locator("#overlay-heading")).to_have_text("Net margin by contract year")
    expect(page.locator("#field")).to_have_value("net_margin")
    expect(page.locator("table#compare-totals thead th")).to_have_count(4)
    first_year = cells(page.locator("table#compare-years tbody tr").first)
    assert first_year[0] == grouped(FIXED_EXPECTED["years"][0]["net_margin"])
    expect_image_loaded(page, "img#overlay-chart")


def test_the_schedule_csv_download_has_the_model_figures(page: Page) -> None:
    _name, code = create_fixed_contract(page)
    with page.expect_download() as info:
        page.click("a#csv-link")
    download = info.value
    assert download.suggested_filename == f"{code}-schedule.csv"
    path = download.path()
    assert path is not None
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows: list[dict[str, Any]] = list(reader)
        fieldnames = reader.fieldnames
    expected = FIXED_EXPECTED["years"]
    assert fieldnames == list(expected[0])
    assert len(rows) == len(expected)
    for row, year in zip(rows, expected, strict=True):
        assert row == {key: "" if value is None else str(value) for key, value in year.items()}, (
            year["year"]
        )


def test_promoting_a_scenario_changes_a_draft_contracts_terms(page: Page) -> None:
    _name, _code = create_fixed_contract(page)
    contract_url = page.url
    old_margin = grouped(FIXED_EXPECTED["totals"]["net_margin"])
    expect(page.locator("#contract-name + div .badge").first).to_have_text("draft")

    page.get_by_role("link", name="New scenario").first.click()
    page.fill("#scenario_name", "Efficiency 6 %")
    page.fill("#efficiency", "0.06")
    submit(page, "Save scenario")
    expect(page).to_have_url(COMPARE_PAGE)
    margin = cells(totals_row(page, "Net margin"))
    assert first_line(margin[0]) == old_margin
    new_margin = first_line(margin[1])
    assert new_margin != old_margin
    price = first_line(cells(totals_row(page, "Price"))[1])

    submit(page, "Make these the contract's terms")
    expect(page).to_have_url(contract_url)
    expect(page.get_by_role("status")).to_contain_text("now the contract's terms")
    totals = dict(zip(TOTAL_CELLS, cells(page.locator("table#schedule tfoot tr")), strict=True))
    assert totals["net_margin"] == new_margin
    assert totals["price"] == price
    expect(page.locator("#key-figures")).to_contain_text(new_margin)
    assert cells(page.locator("table#schedule tbody tr").first)[6] == "6.00 %"


def test_archive_then_restore(page: Page) -> None:
    name, code = create_fixed_contract(page)
    contract_url = page.url

    page.get_by_role("link", name="Archive or delete…").click()
    expect(page.locator("h1")).to_contain_text(name)
    submit(page, "Archive " + code)
    expect(page).to_have_url(contract_url)
    expect(page.get_by_role("status")).to_contain_text("Contract archived")
    expect(page.locator("#contract-name + div")).to_contain_text("archived")

    page.goto("/")
    expect(page.locator("main")).not_to_contain_text(code)
    expect(search_portfolio(page, code)).to_have_count(0)
    archived_rows = search_portfolio(page, code, archived=True)
    expect(page.locator("h1")).to_have_text("Archived contracts")
    expect(archived_rows).to_have_count(1)
    expect(archived_rows.first).to_contain_text(name)
    archived_rows.first.get_by_role("link", name=name).click()

    expect(page).to_have_url(contract_url)
    submit(page, "Restore")
    expect(page.get_by_role("status")).to_contain_text("Contract restored")
    expect(page.get_by_role("link", name="Archive or delete…")).to_be_visible()
    rows = search_portfolio(page, code)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(name)
    expect(search_portfolio(page, code, archived=True)).to_have_count(0)


def test_two_people_each_get_a_form_they_can_send(
    browser: Browser, live_server: str, demo_data: None
) -> None:
    # The root of the failures above, in isolation: two people, each in a browser of their
    # own, sign in and open the new-contract form; each must get a session (holding the
    # CSRF token the form carries), a token of their own, and a request id of their own.
    seen = []
    for _person in range(2):
        context = browser.new_context(base_url=live_server)
        try:
            page = context.new_page()
            sign_in(page)
            response = page.goto("/contracts/new")
            assert response is not None
            assert response.status == 200
            expect(page).to_have_url(re.compile(r"/contracts/new$"))
            token = page.locator("#terms-form input[name=csrf_token]").input_value()
            cookies = {cookie["name"] for cookie in context.cookies()}
            seen.append((token, response.headers["x-request-id"], SESSION_COOKIE in cookies))
        finally:
            context.close()
    (first_token, first_id, first_session), (second_token, second_id, second_session) = seen
    assert first_session, "the first person got no session cookie, so their form is refused"
    assert second_session, "the second person got no session cookie, so their form is refused"
    assert first_token != second_token, "both people got the same CSRF token"
    assert first_id != second_id, "both requests got the same X-Request-ID"
