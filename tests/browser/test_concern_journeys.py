"""The concern register in the browser: the buyer's staff raise a launch difficulty, the
vendor's staff take it in hand and resolve it, and the buyer sees it resolved.

The test stores its own contract in delivery (the fixed-5y example bought by Mutuelle
Atlantique from Nordlys IT, whose demo accounts act on it) in the live server's
database, as tests/browser/test_delivery_journeys.py does.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .test_delivery_journeys import (  # noqa: F401  (fixtures)
    BUYER_STAFF,
    VENDOR_STAFF,
    SignedIn,
    contract,
    sessions,
    signed_in,
)
from .test_journeys import submit, unique


def test_the_buyer_raises_a_concern_the_vendor_resolves_it_and_the_buyer_sees_it_resolved(
    page: Page,
    contract: tuple[int, str],  # noqa: F811
    signed_in: SignedIn,  # noqa: F811
) -> None:
    contract_id, _code = contract
    title = unique("Guards cannot badge in")
    buyer = signed_in(BUYER_STAFF)
    buyer.goto(f"/contracts/{contract_id}/concerns")
    expect(buyer.locator("#no-concerns")).to_have_text("No open concern.")
    form = buyer.locator("#raise-form")
    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Category", exact=True).select_option("launch_difficulty")
    form.get_by_label("What is the concern", exact=True).fill(
        "The new team's badges do not open the doors of three sites."
    )
    form.get_by_label("Severity", exact=True).select_option("high")
    form.get_by_label("Owned by", exact=True).select_option("vendor")
    form.get_by_label("Owner (optional)", exact=True).fill("Transition manager")
    submit(buyer, "Raise the concern")
    expect(buyer).to_have_url(re.compile(r"/concerns/\d+$"))
    concern_url = buyer.url
    expect(buyer.get_by_role("status")).to_contain_text("Concern raised")
    expect(buyer.locator("#concern-title")).to_have_text(title)
    expect(buyer.locator("#concern-status")).to_have_text("Open")
    expect(buyer.locator("#concern-severity")).to_have_text("high")

    page.goto(f"/contracts/{contract_id}/concerns")
    row = page.locator("#concerns tbody tr").filter(has_text=title)
    expect(row).to_have_count(1)
    expect(row.locator("td.status")).to_have_text("Open")
    row.get_by_role("link", name=title, exact=True).click()
    expect(page).to_have_url(concern_url)
    expect(page.locator("#concern-terms")).to_contain_text(f"by {BUYER_STAFF} for the buyer")
    submit(page, "Start working on it")
    expect(page.locator("#concern-status")).to_have_text("In progress")
    expect(page.get_by_role("button", name="Start working on it")).to_have_count(0)
    resolve = page.locator("#resolve-form")
    submit(page, "Resolve", expected_status=422)
    expect(page.locator("#resolve-form .invalid-feedback")).to_have_text("required")
    page.locator("#resolve-form").get_by_label("How it was resolved", exact=True).fill(
        "Badges re-encoded by the buyer's security office; all three sites tested."
    )
    submit(page, "Resolve")
    expect(resolve).to_have_count(0)
    expect(page.locator("#concern-status")).to_have_text("Resolved")
    expect(page.locator("#concern-changed")).to_contain_text(VENDOR_STAFF)

    buyer.goto(f"/contracts/{contract_id}/concerns")
    expect(buyer.locator("#concerns tbody tr").filter(has_text=title)).to_have_count(0)
    buyer.locator("#concern-filter").get_by_role("link", name="Resolved", exact=True).click()
    resolved = buyer.locator("#concerns tbody tr").filter(has_text=title)
    expect(resolved.locator("td.status")).to_have_text("Resolved")
    resolved.get_by_role("link", name=title, exact=True).click()
    expect(buyer.locator("#concern-resolution")).to_have_text(
        "Badges re-encoded by the buyer's security office; all three sites tested."
    )
    expect(buyer.locator("#history .history-entry strong")).to_have_text(
        ["resolve", "start", "raise"]
    )
