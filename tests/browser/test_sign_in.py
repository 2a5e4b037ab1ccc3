"""Signing in and out in the browser: a wrong password, what a buyer's staff may see,
and a session that ends for good when its person signs out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, BrowserContext, Page, expect

from .conftest import LOGIN_PAGE, STAFF_EMAIL, TIMEOUT_MS, sign_in, watched

#: The one message for an unknown address and a wrong password (tracker.web.auth).
LOGIN_FAILED = "Unknown e-mail address or wrong password."
#: Staff of Mutuelle Atlantique, the buyer of SD-FR-2024 (and of nothing of Harbor's).
BUYER_EMAIL = "staff@mutuelle-atlantique.demo"
#: Mutuelle Atlantique buys it from Nordlys IT.
BUYERS_CONTRACT = "SD-FR-2024"
#: Harbor Logistics Group buys it from Nordlys IT: Mutuelle Atlantique is no party.
OTHERS_CONTRACT = "WPS-US-2027"
CONTRACT_LINK = re.compile(r"^/contracts/(\d+)$")


@contextmanager
def browser_of(browser: Browser, live_server: str) -> Iterator[tuple[BrowserContext, Page]]:
    """Another person's browser: a profile of its own and a watched tab."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        tab = context.new_page()
        problems = watched(tab)
        yield context, tab
        assert not problems, "the browser met problems:\n" + "\n".join(problems)
    finally:
        context.close()


def portfolio_codes(page: Page, query: str = "") -> list[str]:
    """The references of the contracts the portfolio lists (first page of 100)."""
    page.goto(f"/?per_page=100&q={query}")
    expect(page.locator("#matching")).to_be_visible()
    return [
        text.strip()
        for text in page.locator("table#portfolio tbody tr td:first-child div").all_inner_texts()
    ]


def contract_path(page: Page, code: str) -> str:
    """The address of a contract the signed-in person sees, found through the portfolio."""
    assert portfolio_codes(page, code) == [code]
    href = (
        page.locator("table#portfolio tbody tr")
        .filter(has_text=code)
        .get_by_role("link")
        .first.get_attribute("href")
    )
    assert href is not None
    assert CONTRACT_LINK.match(href), href
    return href


def test_a_wrong_password_shows_the_one_generic_message_and_stays_on_the_login_page(
    anonymous_page: Page,
) -> None:
    page = anonymous_page
    messages = []
    for email, password in ((STAFF_EMAIL, "not-the-password"), ("nobody@nowhere.demo", "x" * 12)):
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", password)
        with page.expect_response(lambda response: response.request.method == "POST") as answer:
            page.get_by_role("button", name="Sign in", exact=True).click()
        assert answer.value.status == 401
        page.wait_for_load_state()

        expect(page).to_have_url(LOGIN_PAGE)
        expect(page.locator("h1")).to_have_text("Sign in")
        error = page.locator("#login-error")
        expect(error).to_be_visible()
        messages.append(error.inner_text().strip())
        expect(page.locator("#email")).to_have_value(email)
        expect(page.locator("#password")).to_have_value("")
        expect(page.locator("#signed-in-as")).to_have_count(0)
    # An unknown address reads exactly like a wrong password: nothing tells them apart.
    assert messages == [LOGIN_FAILED, LOGIN_FAILED]

    page.goto("/")
    expect(page).to_have_url(LOGIN_PAGE)


def test_a_buyer_sees_its_own_contracts_and_another_buyers_contract_is_not_found(
    page: Page, browser: Browser, live_server: str
) -> None:
    # The vendor's staff (Nordlys IT sells both) finds the address of the other contract.
    others_contract = contract_path(page, OTHERS_CONTRACT)

    with browser_of(browser, live_server) as (_context, buyer):
        sign_in(buyer, BUYER_EMAIL)
        codes = portfolio_codes(buyer)
        assert BUYERS_CONTRACT in codes
        assert OTHERS_CONTRACT not in codes
        assert portfolio_codes(buyer, "WPS") == []
        expect(buyer.locator("#empty")).to_be_visible()

        response = buyer.goto(others_contract)
        assert response is not None
        assert response.status == 404
        expect(buyer.locator("h1")).to_have_text("Not found")
        expect(buyer.locator("main")).not_to_contain_text(OTHERS_CONTRACT)
        expect(buyer.locator("main")).not_to_contain_text("Harbor Logistics Group")

        # Its own contract opens.
        buyer.goto(contract_path(buyer, BUYERS_CONTRACT))
        expect(buyer.locator("main")).to_contain_text(BUYERS_CONTRACT)


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(
    page: Page, context: BrowserContext, browser: Browser, live_server: str
) -> None:
    page.goto("/")
    saved = context.cookies()
    assert saved, "signed in, yet no cookie"

    # While signed in, a copy of the cookies in another browser opens the portfolio:
    # the check after signing out below is about the session, not about the copy.
    with browser_of(browser, live_server) as (copy, tab):
        copy.add_cookies(saved)  # type: ignore[arg-type]
        tab.goto("/")
        expect(tab).to_have_url(f"{live_server}/")
        expect(tab.locator("#signed-in-as")).to_have_text(STAFF_EMAIL)

    page.locator("nav").get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(LOGIN_PAGE)
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    expect(page.locator("#signed-in-as")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(LOGIN_PAGE)

    with browser_of(browser, live_server) as (copy, tab):
        copy.add_cookies(saved)  # type: ignore[arg-type]
        response = tab.goto("/")
        assert response is not None
        expect(tab).to_have_url(LOGIN_PAGE)
        expect(tab.locator("#login-form")).to_be_visible()
        expect(tab.locator("#signed-in-as")).to_have_count(0)
