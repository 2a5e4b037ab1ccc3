"""Governance in the browser: the vendor's staff record a quarterly review with its agenda,
attendees, decision and two actions; the buyer's staff open it and mark one action done;
the open actions list then shows the other one.

The test stores its own contract in delivery (the fixed-5y example begun on 2022-01-01,
bought by Mutuelle Atlantique from Nordlys IT, whose demo accounts act on it) in the live
server's database before opening the browser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import sessionmaker

from tracker.db.session import make_engine
from tracker.services.access import SYSTEM
from tracker.services.contracts import create_contract

from .conftest import TIMEOUT_MS, sign_in, watched
from .test_journeys import submit, unique

DATA = Path(__file__).parent.parent / "data"
BUYER, VENDOR = "Mutuelle Atlantique", "Nordlys IT"
BUYER_STAFF = "staff@mutuelle-atlantique.demo"
KPI_PACK = "Send the KPI pack to the buyer"
SITE_VISIT = "Organise the joint site visit"

SignedIn = Callable[[str], Page]


@pytest.fixture
def contract(database_url: str, demo_data: None) -> int:
    """The id of a new active contract of this test's own between the two demo parties."""
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text())
    code = unique("GOV")
    terms = {**document, "start_date": "2022-01-01", "buyer": BUYER, "vendor": VENDOR,
             "name": f"Managed workplace services {code}"}  # fmt: skip
    engine = make_engine(database_url)
    try:
        with sessionmaker(engine, expire_on_commit=False, autobegin=False)() as session:
            return create_contract(session, SYSTEM, terms, code=code, status="active")
    finally:
        engine.dispose()


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


def test_the_vendor_records_a_quarterly_review_and_the_buyer_marks_an_action_done(
    page: Page, contract: int, signed_in: SignedIn
) -> None:
    page.goto(f"/contracts/{contract}/meetings")
    expect(page.locator("#no-meetings")).to_be_visible()
    page.get_by_role("link", name="Record a meeting", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract}/meetings/new$"))

    page.get_by_label("Kind", exact=True).select_option("quarterly_review")
    page.get_by_label("Day", exact=True).fill("2025-04-10")
    page.get_by_label("Title", exact=True).fill("Q1 quarterly review")
    page.get_by_label("Agenda", exact=True).fill("Service levels of the quarter\nInitiatives")
    page.get_by_label("Attendees", exact=True).fill(
        "Claire Morvan (buyer)\nIngrid Solberg (vendor)"
    )
    page.get_by_label("Decisions", exact=True).fill("The pilot is extended to two more sites.")
    page.get_by_label("Action 1", exact=True).fill(KPI_PACK)
    page.get_by_label("Owner of action 1", exact=True).fill("Ingrid Solberg")
    page.get_by_label("Due day of action 1", exact=True).fill("2025-05-01")
    page.get_by_label("Action 2", exact=True).fill(SITE_VISIT)
    page.get_by_label("Owner side of action 2", exact=True).select_option("buyer")
    page.get_by_label("Due day of action 2", exact=True).fill("2027-06-30")
    submit(page, "Record meeting")

    expect(page).to_have_url(re.compile(r"/meetings/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Meeting recorded")
    expect(page.locator("#meeting-title")).to_have_text("Q1 quarterly review")
    expect(page.locator("#meeting-kind")).to_contain_text("Quarterly review")
    expect(page.locator("#meeting-attendees li")).to_have_text(
        ["Claire Morvan (buyer)", "Ingrid Solberg (vendor)"]
    )
    expect(page.locator("#meeting-decisions")).to_have_text(
        "The pilot is extended to two more sites."
    )
    expect(page.locator("#meeting-actions .action-title")).to_have_text([KPI_PACK, SITE_VISIT])
    meeting_url = page.url

    buyer = signed_in(BUYER_STAFF)
    buyer.goto(f"/contracts/{contract}/meetings")
    overdue = buyer.locator("#open-actions tr.overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text(KPI_PACK)
    buyer.locator("#meetings").get_by_role("link", name="Q1 quarterly review").click()
    expect(buyer).to_have_url(meeting_url)
    expect(buyer.locator("#meeting-agenda")).to_contain_text("Service levels of the quarter")
    with buyer.expect_response(lambda response: response.request.method == "POST") as answer:
        buyer.get_by_role("button", name=f"Mark done: {KPI_PACK}", exact=True).click()
    assert answer.value.status == 303
    expect(buyer.get_by_role("status")).to_contain_text("Action marked done")
    done_row = buyer.locator("#meeting-actions tr", has_text=KPI_PACK)
    expect(done_row.locator(".action-state")).to_contain_text("done")

    buyer.locator("nav[aria-label=breadcrumb]").get_by_role("link", name="Meetings").click()
    expect(buyer.locator("#open-actions tbody tr")).to_have_count(1)
    expect(buyer.locator("#open-actions")).to_contain_text(SITE_VISIT)
    expect(buyer.locator("#open-actions")).not_to_contain_text(KPI_PACK)
