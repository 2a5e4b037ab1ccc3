"""What people do in the browser with a joint annual report: the vendor prepares it, both
sides comment and sign, the second signature freezes it and its PDF is downloaded; a
signature given on a page that went stale is refused.

Every test stores its own contract (the fixed-5y example begun on 2022-01-01, bought by
Mutuelle Atlantique from Nordlys IT) in the live server's database, with year 1's actual
cost recorded by the vendor's staff and the year closed by the vendor's finance, acting
through the services as the demo accounts, before opening the browser.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tracker.db.account_models import User
from tracker.db.report_models import AnnualReport, ReportSignature
from tracker.db.session import make_engine
from tracker.services import annual_reports
from tracker.services.access import SYSTEM, Actor
from tracker.services.actuals import record_actuals
from tracker.services.contracts import create_contract
from tracker.services.report_views import report_view
from tracker.services.year_close import close_year

from .conftest import TIMEOUT_MS, sign_in, watched
from .test_journeys import cells, submit, unique

DATA = Path(__file__).parent.parent / "data"
BUYER, VENDOR = "Mutuelle Atlantique", "Nordlys IT"
VENDOR_STAFF = "staff@nordlys-it.demo"
VENDOR_FINANCE = "finance@nordlys-it.demo"
BUYER_STAFF = "staff@mutuelle-atlantique.demo"
#: Year 1's actual delivery cost (planned: 960,000.00 EUR).
ACTUAL_COST_1 = "950000.00"
VENDOR_NOTE = "Automation of the service desk brought the cost below plan in year 1."
BUYER_NOTE = "We confirm the savings; the self-service portal comes next."
#: The flash after each signature (tracker/web/reports.py).
AWAITS_OTHER = "the report awaits the other side's signature"
BOTH_SIGNED = "Signed by both sides: the report is final"

#: Opens a tab of its own browser profile signed in as the given demo account.
SignedIn = Callable[[str], Page]


def terms() -> dict[str, Any]:
    """The fixed-5y example begun on 2022-01-01 between the two demo parties."""
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text())
    return {**document, "start_date": "2022-01-01", "buyer": BUYER, "vendor": VENDOR}


def demo_actor(session: Session, email: str) -> Actor:
    """The actor a demo account acts as when signed in (its stored memberships)."""
    with session.begin():
        user = session.scalars(
            select(User).where(User.email == email).options(selectinload(User.memberships))
        ).one()
        return Actor(
            user_id=user.id,
            label=user.email,
            memberships={m.organisation_id: m.role for m in user.memberships},
        )


@pytest.fixture
def sessions(database_url: str, demo_data: None) -> Iterator[sessionmaker[Session]]:
    """Sessions on the live server's database, acting through the services."""
    engine = make_engine(database_url)
    try:
        yield sessionmaker(engine, expire_on_commit=False, autobegin=False)
    finally:
        engine.dispose()


@pytest.fixture
def closed_year(sessions: sessionmaker[Session]) -> tuple[int, str]:
    """(id, code) of a new active contract of this test's own whose year 1 is closed."""
    code = unique("REP")
    with sessions() as session:
        contract_id = create_contract(
            session,
            SYSTEM,
            {**terms(), "name": f"Managed workplace services {code}"},
            code=code,
            status="active",
        )
        record_actuals(
            session,
            demo_actor(session, VENDOR_STAFF),
            contract_id,
            1,
            actual_cost=ACTUAL_COST_1,
            expected_version=0,
        )
        close_year(session, demo_actor(session, VENDOR_FINANCE), contract_id, 1)
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


def stored_report(sessions: sessionmaker[Session], contract_id: int) -> tuple[str | None, set[str]]:
    """The stored PDF's SHA-256 of year 1's report and the fingerprints its signatures hold."""
    with sessions() as session, session.begin():
        report = session.scalars(
            select(AnnualReport).where(
                AnnualReport.contract_id == contract_id, AnnualReport.year == 1
            )
        ).one()
        fingerprints = session.scalars(
            select(ReportSignature.fingerprint).where(ReportSignature.report_id == report.id)
        ).all()
        return report.pdf_sha256, set(fingerprints)


def test_both_sides_comment_and_sign_and_the_vendor_downloads_the_signed_pdf(
    page: Page,
    closed_year: tuple[int, str],
    sessions: sessionmaker[Session],
    signed_in: SignedIn,
) -> None:
    contract_id, code = closed_year
    report_1 = f"/contracts/{contract_id}/reports/1"
    page.goto(f"/contracts/{contract_id}")
    page.locator("#contract-tabs").get_by_role("link", name="Annual reports", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract_id}/reports$"))
    expect(page.locator("#report-year-1 .badge")).to_have_text("not prepared")
    page.locator("#report-year-1").get_by_role("link", name="Year 1", exact=True).click()
    expect(page).to_have_url(re.compile(rf"{report_1}$"))
    expect(page.locator("#state-badge")).to_have_text("preview")
    expect(page.locator("#report-state")).to_contain_text("Preview")
    expect(page.locator("#report-title")).to_have_text(f"Managed workplace services {code}")
    expect(page.locator(".commentary-form")).to_have_count(0)

    submit(page, "Prepare for signature")
    expect(page.get_by_role("status")).to_contain_text("ready for commentary and signature")
    expect(page.locator("#state-badge")).to_have_text("draft for signature")
    expect(page.locator("#state-text")).to_contain_text(f"Prepared for signature by {VENDOR_STAFF}")
    expect(page.locator("#commentary-form-buyer")).to_have_count(0)
    page.get_by_label("Write the vendor's commentary", exact=True).fill(VENDOR_NOTE)
    submit(page, "Save commentary")
    expect(page.get_by_role("status")).to_contain_text("The vendor's commentary is saved")
    expect(page.locator("#commentary-vendor .prose")).to_have_text(VENDOR_NOTE)

    buyer = signed_in(BUYER_STAFF)
    buyer.goto(report_1)
    expect(buyer.locator("#commentary-vendor .prose")).to_have_text(VENDOR_NOTE)
    expect(buyer.locator("#commentary-vendor")).to_contain_text(VENDOR_STAFF)
    expect(buyer.locator("#commentary-form-vendor")).to_have_count(0)
    expect(buyer.get_by_role("button", name="Prepare for signature")).to_have_count(0)
    buyer.get_by_label("Write the buyer's commentary", exact=True).fill(BUYER_NOTE)
    submit(buyer, "Save commentary")
    expect(buyer.get_by_role("status")).to_contain_text("The buyer's commentary is saved")
    expect(buyer.locator("#commentary-buyer .prose")).to_have_text(BUYER_NOTE)
    expect(buyer.get_by_role("button", name="Sign for the vendor")).to_have_count(0)
    submit(buyer, "Sign for the buyer")
    expect(buyer.get_by_role("status")).to_contain_text(AWAITS_OTHER)
    expect(buyer.locator("#state-badge")).to_have_text("signed by one side")
    expect(buyer.locator("#signature-buyer")).to_contain_text(f"Signed by {BUYER_STAFF}")
    expect(buyer.locator("#commentary-form-buyer")).to_have_count(0)
    expect(buyer.get_by_role("button", name="Sign for the buyer")).to_have_count(0)

    page.reload()
    expect(page.locator("#commentary-buyer .prose")).to_have_text(BUYER_NOTE)
    expect(page.locator("#signature-buyer")).to_contain_text(f"Signed by {BUYER_STAFF}")
    expect(page.locator("#signature-vendor")).to_contain_text("Awaiting signature")
    expect(page.locator(".commentary-form")).to_have_count(0)
    submit(page, "Sign for the vendor")
    expect(page).to_have_url(re.compile(rf"{report_1}#sign-off$"))
    expect(page.get_by_role("status")).to_contain_text(BOTH_SIGNED)
    expect(page.locator("#state-badge")).to_have_text("final")
    expect(page.locator("#report-state")).to_contain_text("Final: signed by both sides")
    expect(page.locator("#signature-vendor")).to_contain_text(f"Signed by {VENDOR_STAFF}")
    expect(page.locator("#signature-buyer")).to_contain_text(f"Signed by {BUYER_STAFF}")
    expect(page.locator("#commentary-vendor .prose")).to_have_text(VENDOR_NOTE)
    expect(page.locator("#commentary-buyer .prose")).to_have_text(BUYER_NOTE)
    expect(page.locator(".commentary-form")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Sign for"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Withdraw"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Prepare"))).to_have_count(0)

    pdf_sha256, fingerprints = stored_report(sessions, contract_id)
    link = page.locator("#download-pdf")
    expect(link).to_have_text("Download the signed PDF")
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == f"{code}-year-1.pdf"
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"%PDF")
    assert pdf_sha256 is not None
    assert hashlib.sha256(body).hexdigest() == pdf_sha256

    fingerprint = page.locator("#report-fingerprint")
    expect(fingerprint).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert fingerprints == {fingerprint.inner_text().strip()}

    breadcrumb = page.get_by_role("navigation", name="breadcrumb")
    breadcrumb.get_by_role("link", name="Annual reports", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract_id}/reports$"))
    row = page.locator("#report-year-1")
    expect(row.locator(".badge")).to_have_text("final")
    shown = cells(row)
    assert shown[1] == "closed", shown
    assert set(shown[3].split(", ")) == {"vendor", "buyer"}, shown
    expect(row.get_by_role("link", name="PDF", exact=True)).to_have_count(1)
    expect(page.locator("#report-year-2 .badge")).to_have_text("not prepared")


def test_a_signature_on_a_page_opened_before_the_other_side_changed_the_report_is_refused(
    page: Page,
    closed_year: tuple[int, str],
    sessions: sessionmaker[Session],
    signed_in: SignedIn,
) -> None:
    contract_id, _code = closed_year
    with sessions() as session:
        vendor = demo_actor(session, VENDOR_STAFF)
        version = report_view(session, vendor, contract_id, 1).version
        annual_reports.draft_report(session, vendor, contract_id, 1, expected_version=version)
    report_1 = f"/contracts/{contract_id}/reports/1"
    page.goto(report_1)
    expect(page.locator("#state-badge")).to_have_text("draft for signature")
    opened_with = page.locator("#report-fingerprint").inner_text().strip()

    buyer = signed_in(BUYER_STAFF)
    buyer.goto(report_1)
    buyer.get_by_label("Write the buyer's commentary", exact=True).fill(BUYER_NOTE)
    submit(buyer, "Save commentary")
    expect(buyer.locator("#commentary-buyer .prose")).to_have_text(BUYER_NOTE)
    expect(buyer.locator("#report-fingerprint")).not_to_have_text(opened_with)

    submit(page, "Sign for the vendor", expected_status=409)
    expect(page.locator("#error-message")).to_contain_text("the report changed since you opened it")
    _pdf, fingerprints = stored_report(sessions, contract_id)
    assert fingerprints == set()

    page.goto(report_1)
    expect(page.locator("#commentary-buyer .prose")).to_have_text(BUYER_NOTE)
    submit(page, "Sign for the vendor")
    expect(page.get_by_role("status")).to_contain_text(AWAITS_OTHER)
    expect(page.locator("#signature-vendor")).to_contain_text(f"Signed by {VENDOR_STAFF}")
    expect(page.locator("#signature-buyer")).to_contain_text("Awaiting signature")
    _pdf, fingerprints = stored_report(sessions, contract_id)
    assert fingerprints == {page.locator("#report-fingerprint").inner_text().strip()}
