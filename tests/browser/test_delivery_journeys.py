"""What people do in the browser once a contract is delivered: the vendor records a year's
actual cost, both parties approve an improvement initiative the fund pays for, finance
closes a year, posts an adjustment and reads the reconciliation.

Every test stores its own contract in delivery (the fixed-5y example begun on 2022-01-01,
bought by Mutuelle Atlantique from Nordlys IT, whose demo accounts act on it) in the
live server's database before opening the browser, so no test reads what another
changes. Years 1 to 4 (2022-2025) have ended; amounts are in EUR.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.session import make_engine
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals
from tracker.services.contracts import create_contract

from .conftest import TIMEOUT_MS, sign_in, watched
from .test_journeys import cells, submit, unique

DATA = Path(__file__).parent.parent / "data"
BUYER, VENDOR = "Mutuelle Atlantique", "Nordlys IT"
VENDOR_STAFF = "staff@nordlys-it.demo"
VENDOR_FINANCE = "finance@nordlys-it.demo"
BUYER_STAFF = "staff@mutuelle-atlantique.demo"
#: fixed-5y, year 1: baseline 1,000,000.00, planned cost 960,000.00, half the gain reinvested.
PLANNED_COST_1 = "960,000.00"
ACTUAL_COST_1 = "950000.00"
#: (1,000,000.00 - 950,000.00) x 0.50: the reinvested share of year 1's actual gain.
COMMITTED_1 = "25,000.00"
INVALID = re.compile(r"\bis-invalid\b")

#: Opens a tab of its own browser profile signed in as the given demo account.
SignedIn = Callable[[str], Page]


def terms() -> dict[str, Any]:
    """The fixed-5y example begun on 2022-01-01 between the two demo parties."""
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text())
    return {**document, "start_date": "2022-01-01", "buyer": BUYER, "vendor": VENDOR}


@pytest.fixture
def sessions(database_url: str, demo_data: None) -> Iterator[sessionmaker[Session]]:
    """Sessions on the live server's database, acting through the services."""
    engine = make_engine(database_url)
    try:
        yield sessionmaker(engine, expire_on_commit=False, autobegin=False)
    finally:
        engine.dispose()


@pytest.fixture
def contract(sessions: sessionmaker[Session]) -> tuple[int, str]:
    """(id, code) of a new active contract of this test's own."""
    code = unique("DLV")
    with sessions() as session:
        contract_id = create_contract(
            session,
            SYSTEM,
            {**terms(), "name": f"Managed workplace services {code}"},
            code=code,
            status="active",
        )
    return contract_id, code


@pytest.fixture
def signed_in(browser: Browser, live_server: str, demo_data: None) -> Iterator[SignedIn]:
    """Tabs of other people, each in a browser profile of its own; a script or server
    error on any of them fails the test."""
    opened: list[tuple[BrowserContext, list[str]]] = []

    def open_as(email: str) -> Page:
        profile = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
        profile.set_default_timeout(TIMEOUT_MS)
        profile.set_default_navigation_timeout(TIMEOUT_MS)
        tab = profile.new_page()
        opened.append((profile, watched(tab)))
        sign_in(tab, email)
        return tab

    yield open_as
    problems = [problem for _profile, seen in opened for problem in seen]
    for profile, _seen in opened:
        profile.close()
    assert not problems, "the browser met problems:\n" + "\n".join(problems)


def figure_row(page: Page, field: str) -> list[str]:
    """A row of the year page's plan-and-actual table: plan, actual, variance, %."""
    return cells(page.locator(f"#row-{field}"))


def ledger_row(page: Page, label: str) -> Locator:
    """A row of the year page's fund table, by its heading."""
    heading = page.locator("th", has_text=re.compile(f"^{label}"))
    return page.locator("#year-ledger tr").filter(has=heading)


def test_vendor_staff_record_a_years_actual_cost_and_the_fund_follows(
    page: Page, contract: tuple[int, str]
) -> None:
    contract_id, code = contract
    page.goto(f"/contracts/{contract_id}")
    page.locator("#contract-tabs").get_by_role("link", name="Delivery", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract_id}/delivery$"))
    page.locator("#plan-actual #year-1").get_by_role("link", name="1", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract_id}/years/1$"))
    expect(page.locator("#year-heading")).to_contain_text("Year 1 2022-01-01 – 2022-12-31")
    expect(page.locator("#row-cost td").nth(1)).to_have_text("—")

    cost = page.get_by_label("Actual delivery cost (EUR)", exact=True)
    cost.fill("12.345")
    submit(page, "Save actuals", expected_status=422)
    cost = page.get_by_label("Actual delivery cost (EUR)", exact=True)
    expect(cost).to_have_value("12.345")
    expect(cost).to_have_class(INVALID)
    message = page.locator("#f-actual_cost ~ .invalid-feedback")
    expect(message).to_be_visible()
    expect(message).to_contain_text("at most 2 decimal places")
    expect(page.locator(".invalid-feedback")).to_have_count(1)
    expect(page.locator("#row-cost td").nth(1)).to_have_text("—")

    cost.fill(ACTUAL_COST_1)
    submit(page, "Save actuals")
    expect(page).to_have_url(re.compile(rf"/contracts/{contract_id}/years/1$"))
    expect(page.get_by_role("status")).to_contain_text("Actuals of year 1 saved")
    expect(page.locator("#contract-name + div")).to_contain_text(code)
    plan, actual, variance, _pct = figure_row(page, "cost")
    assert (plan, actual, variance) == (PLANNED_COST_1, "950,000.00", "−10,000.00")
    assert figure_row(page, "efficiency_gain")[:3] == ["40,000.00", "50,000.00", "+10,000.00"]
    assert figure_row(page, "reinvest")[1] == COMMITTED_1
    committed = ledger_row(page, "Committed")
    expect(committed.locator("td")).to_have_text(COMMITTED_1)
    expect(committed.locator(".planned-mark")).to_have_count(0)
    expect(page.get_by_label("Actual delivery cost (EUR)", exact=True)).to_have_value(ACTUAL_COST_1)
    expect(page.locator(".invalid-feedback")).to_have_count(0)


def test_both_parties_approve_an_initiative_and_the_vendor_spends_on_it(
    page: Page, contract: tuple[int, str], signed_in: SignedIn
) -> None:
    contract_id, _code = contract
    title = unique("Self-service password reset")
    page.goto(f"/contracts/{contract_id}/delivery")
    page.get_by_role("link", name="Propose an initiative", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract_id}/initiatives/new$"))
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Description", exact=True).fill(
        "A self-service portal for password resets, so fewer calls reach the desk."
    )
    page.get_by_label("Expected saving per year (EUR)", exact=True).fill("12000.00")
    page.get_by_label("Budget from the fund (EUR)", exact=True).fill("10000.00")
    submit(page, "Propose")
    expect(page).to_have_url(re.compile(r"/initiatives/\d+$"))
    initiative_url = page.url
    expect(page.locator("#initiative-title")).to_have_text(title)
    expect(page.locator("#initiative-status .badge")).to_have_text("proposed")
    expect(page.locator("#approvals .approval-waiting")).to_have_count(2)

    expect(page.get_by_role("button", name="Approve for the buyer")).to_have_count(0)
    submit(page, "Approve for the vendor")
    expect(page.get_by_role("status")).to_contain_text("waits for the other side")
    expect(page.locator("#approval-vendor")).to_contain_text(f"approved by {VENDOR_STAFF}")
    expect(page.locator("#initiative-status .badge")).to_have_text("proposed")
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)

    buyer = signed_in(BUYER_STAFF)
    buyer.goto(initiative_url)
    expect(buyer.locator("#initiative-title")).to_have_text(title)
    waiting = buyer.locator("#approvals .approval-waiting")
    expect(waiting).to_have_count(1)
    expect(waiting).to_have_id("approval-buyer")
    expect(waiting).to_contain_text(f"Waiting for the buyer ({BUYER})")
    expect(buyer.locator("#approval-vendor")).to_have_class(re.compile(r"\bapproval-given\b"))
    expect(buyer.get_by_role("button", name="Approve for the vendor")).to_have_count(0)
    expect(buyer.locator("#spending-form")).to_have_count(0)
    submit(buyer, "Approve for the buyer")
    expect(buyer.get_by_role("status")).to_contain_text("Approved by both sides")
    expect(buyer.locator("#initiative-status .badge")).to_have_text("approved")
    expect(buyer.locator("#approval-buyer")).to_contain_text(f"approved by {BUYER_STAFF}")
    expect(buyer.locator("#approvals .approval-waiting")).to_have_count(0)

    page.goto(initiative_url)
    expect(page.locator("#initiative-status .badge")).to_have_text("approved")
    spending = page.locator("#spending-form")
    spending.get_by_label("Amount (EUR)", exact=True).fill("2500.00")
    spending.get_by_label("What it paid for", exact=True).fill("Portal licences, first year")
    submit(page, "Record spending")
    expect(page.get_by_role("status")).to_contain_text("Spending recorded")
    entries = page.locator("#spending-entries tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Portal licences, first year")
    expect(entries.first.locator("td").last).to_have_text("2,500.00")
    expect(page.locator("#spent-total")).to_have_text("2,500.00")
    expect(page.locator("#budget-left")).to_contain_text("7,500.00 EUR of the budget left")

    buyer.goto(f"/contracts/{contract_id}/delivery")
    row = buyer.locator("#initiative-list tbody tr").filter(has_text=title)
    expect(row).to_have_count(1)
    assert cells(row)[1:] == ["approved", "vendor", "5", "10,000.00", "2,500.00", "12,000.00", ""]


def test_finance_closes_a_year_adjusts_the_next_and_the_fund_ties_out(
    page: Page,
    contract: tuple[int, str],
    sessions: sessionmaker[Session],
    signed_in: SignedIn,
) -> None:
    contract_id, code = contract
    with sessions() as session:
        record_actuals(
            session, SYSTEM, contract_id, 1, actual_cost=ACTUAL_COST_1, expected_version=0
        )
    year_1 = f"/contracts/{contract_id}/years/1"

    finance = signed_in(VENDOR_FINANCE)
    finance.goto(year_1)
    expect(finance.locator("#close-blockers")).to_have_count(0)
    expect(finance.locator("#actuals-form")).to_have_count(0)
    submit(finance, "Close year 1")
    expect(finance).to_have_url(re.compile(rf"{year_1}$"))
    expect(finance.get_by_role("status")).to_contain_text("Year 1 is closed")
    expect(finance.locator("#year-state .badge")).to_have_text("closed")
    expect(finance.locator("#year-state")).to_contain_text(f"by {VENDOR_FINANCE}")
    expect(finance.get_by_role("button", name="Close year 1")).to_have_count(0)
    expect(finance.locator("#adjustment-form")).to_have_count(0)

    page.goto(year_1)
    expect(page.locator("#year-state .badge")).to_have_text("closed")
    expect(page.locator("#actuals-form")).to_have_count(0)
    expect(page.get_by_label("Actual delivery cost (EUR)")).to_have_count(0)
    expect(page.get_by_role("button", name="Save actuals")).to_have_count(0)
    assert figure_row(page, "cost")[1] == "950,000.00"

    finance.get_by_role("link", name="year 2 →").click()
    expect(finance).to_have_url(re.compile(rf"/contracts/{contract_id}/years/2$"))
    adjustment = finance.locator("#adjustment-form")
    reason = "Licence invoice of 2022 booked twice in the fund"
    adjustment.get_by_label("Amount (EUR)", exact=True).fill("-1250.00")
    adjustment.get_by_label("Reason", exact=True).fill(reason)
    submit(finance, "Post adjustment")
    expect(finance).to_have_url(re.compile(rf"/contracts/{contract_id}/years/2$"))
    expect(finance.get_by_role("status")).to_contain_text("Adjustment posted to year 2")
    entries = finance.locator("#entries tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text(reason)
    expect(entries.first).to_contain_text(VENDOR_FINANCE)
    expect(entries.first.locator("td").last).to_have_text("−1,250.00")
    # Opening (year 1's closing, 25,000.00) + planned 40,180.00 − 1,250.00.
    expect(ledger_row(finance, "Opening balance").locator("td")).to_have_text(COMMITTED_1)
    expect(ledger_row(finance, "Adjustments").locator("td")).to_have_text("−1,250.00")
    expect(finance.locator("#closing-balance")).to_have_text("63,930.00")

    finance.locator("nav.navbar").get_by_role("link", name="Reconciliation", exact=True).click()
    expect(finance).to_have_url(re.compile(r"/reconciliation$"))
    row = finance.locator("#reconciliation-table tbody tr").filter(
        has=finance.get_by_role("link", name=code, exact=True)
    )
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("ties out")
    shown = cells(row)
    assert shown[2] == "−1,250.00", shown  # adjustments
    assert shown[7] == "1 of 5", shown  # years closed
