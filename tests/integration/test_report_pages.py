"""The annual report pages through the web client: the list of a contract's reports, the
report page in each state (preview, draft, signed, frozen) with what each reader may do, the
forms that prepare, comment on, sign and withdraw, the PDF, JSON and chart downloads, what an
outsider gets, and user text kept as text.

The people are those of tests/delivery_factory.py (``<side>-<role>@rep-1.test``); the
contract is the fixed-5y example from 2022 with year 1 closed (tests/report_factory.py).
"""

from __future__ import annotations

import io
import json

import pytest
from delivery_factory import PASSWORD, TODAY, Delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from pypdf import PdfReader
from report_factory import draft, frozen_contract, reportable_contract, sign, view
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.report_models import AnnualReport
from tracker.services.actuals import record_actuals
from tracker.services.year_close import close_year

VENDOR_STAFF = "vendor-staff@rep-1.test"
BUYER_STAFF = "buyer-staff@rep-1.test"
VENDOR_FINANCE = "vendor-finance@rep-1.test"
OUTSIDER = "outsider@rep-1.test"


def signed_in(app: Flask, email: str) -> FlaskClient:
    """A client signed in as one of the factory's people."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return client


def url(delivery: Delivery, rest: str = "", year: int = 1) -> str:
    return f"/contracts/{delivery.contract_id}/reports/{year}{rest}"


def page_of(client: FlaskClient, delivery: Delivery, year: int = 1) -> Node:
    response = client.get(url(delivery, year=year))
    assert response.status_code == 200, response.text
    return html(response)


def ids_of(page: Node, prefix: str) -> set[str]:
    """The ids on the page that start with ``prefix``."""
    return {
        node.attrs["id"] or ""
        for node in page.iter()
        if (node.attrs.get("id") or "").startswith(prefix)
    }


def stored_files(session: Session, delivery: Delivery) -> tuple[bytes, str]:
    """The PDF and snapshot columns of the frozen year-1 report."""
    with session.begin():
        pdf, snapshot = session.execute(
            select(AnnualReport.pdf, AnnualReport.snapshot).where(
                AnnualReport.contract_id == delivery.contract_id, AnnualReport.year == 1
            )
        ).one()
    assert pdf is not None
    assert snapshot is not None
    return bytes(pdf), snapshot


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def record_year_2(session: Session, delivery: Delivery, cost: str, version: int) -> None:
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 2, actual_cost=cost,
        expected_version=version, today=TODAY,
    )  # fmt: skip


# -- the list ---------------------------------------------------------------------------------


def test_the_list_shows_every_year_with_the_state_of_its_report(
    app: Flask, session: Session
) -> None:
    delivery = frozen_contract(app, session)
    record_year_2(session, delivery, "900000.00", 0)
    close_year(session, delivery.buyer_finance, delivery.contract_id, 2, today=TODAY)
    draft(session, delivery, 2)
    sign(app, session, delivery, "buyer", 2)
    draft(session, delivery, 3)
    response = signed_in(app, BUYER_STAFF).get(f"/contracts/{delivery.contract_id}/reports")
    assert response.status_code == 200
    page = html(response)
    rows = {year: page.by_id(f"report-year-{year}") for year in range(1, 6)}
    assert "final" in rows[1].text
    assert "closed" in rows[1].text
    assert "buyer, vendor" in rows[1].text
    assert [a.text for a in rows[1].find_all("a")] == ["Year 1", "PDF", "JSON"]
    assert "signed by one side" in rows[2].text
    assert rows[2].find_all("td")[3].text == "buyer"
    assert "closed" in rows[2].text
    assert "prepared for signature" in rows[3].text
    assert "ended, open" in rows[3].text
    assert rows[3].find_all("td")[3].text == "—"
    for year in (4, 5):
        assert "not prepared" in rows[year].text
        assert [a.text for a in rows[year].find_all("a")] == [f"Year {year}"]
    assert rows[2].one("a").attrs["href"] == url(delivery, year=2)


# -- the report page in each state ------------------------------------------------------------


def test_the_preview_shows_the_key_figures_and_only_the_vendor_may_prepare_it(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    page = page_of(signed_in(app, VENDOR_STAFF), delivery)
    assert page.by_id("state-badge").text == "preview"
    assert "1,200,000.00" in page.by_id("kf-price").text
    # fixed-5y year 1: planned gain 40,000.00, actual 1,000,000.00 - 950,000.00 = 50,000.00.
    assert "50,000.00" in page.by_id("kf-gain").text
    assert "plan 40,000.00, +10,000.00" in page.by_id("kf-gain").text
    assert "950,000.00" in page.by_id("fig-cost").text
    assert "−10,000.00" in page.by_id("fig-cost").text
    assert page.by_id("draft-form").one("input", name="version").attrs["value"] == "0"
    assert ids_of(page, "sign-form-") == set()
    assert ids_of(page, "commentary-form-") == set()
    assert ids_of(page, "withdraw-form-") == set()
    assert "report-fingerprint" not in ids_of(page, "report-")
    buyer_page = page_of(signed_in(app, BUYER_STAFF), delivery)
    assert ids_of(buyer_page, "draft-form") == set()
    assert buyer_page.by_id("kf-price").text == page.by_id("kf-price").text


def test_a_draft_offers_each_side_only_its_own_sign_button_and_commentary_form(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    shown = draft(session, delivery)
    fingerprint = shown.content["fingerprint"]
    vendor = page_of(signed_in(app, VENDOR_STAFF), delivery)
    assert vendor.by_id("state-badge").text == "draft for signature"
    assert vendor.by_id("report-fingerprint").text == fingerprint
    assert ids_of(vendor, "sign-form-") == {"sign-form-vendor"}
    assert ids_of(vendor, "commentary-form-") == {"commentary-form-vendor"}
    form = vendor.by_id("sign-form-vendor")
    assert form.one("input", name="fingerprint").attrs["value"] == fingerprint
    assert form.one("input", name="side").attrs["value"] == "vendor"
    buyer = page_of(signed_in(app, BUYER_STAFF), delivery)
    assert ids_of(buyer, "sign-form-") == {"sign-form-buyer"}
    assert ids_of(buyer, "commentary-form-") == {"commentary-form-buyer"}
    assert ids_of(buyer, "draft-form") == set()
    finance = page_of(signed_in(app, VENDOR_FINANCE), delivery)
    assert ids_of(finance, "sign-form-") == set()
    assert ids_of(finance, "commentary-form-") == set()
    assert "1,200,000.00" in finance.by_id("kf-price").text
    assert ids_of(vendor, "changes") == set()


def test_after_one_signature_the_commentary_forms_are_gone_and_the_signer_may_withdraw(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    draft(session, delivery)
    sign(app, session, delivery, "vendor")
    vendor = page_of(signed_in(app, VENDOR_STAFF), delivery)
    assert vendor.by_id("state-badge").text == "signed by one side"
    assert ids_of(vendor, "commentary-form-") == set()
    assert ids_of(vendor, "sign-form-") == set()
    assert ids_of(vendor, "withdraw-form-") == {"withdraw-form-vendor"}
    assert "Signed by vendor-staff@rep-1.test" in vendor.by_id("signature-vendor").text
    buyer = page_of(signed_in(app, BUYER_STAFF), delivery)
    assert ids_of(buyer, "sign-form-") == {"sign-form-buyer"}
    assert ids_of(buyer, "withdraw-form-") == set()
    assert "Awaiting signature" in buyer.by_id("signature-buyer").text


def test_the_page_warns_when_the_live_figures_changed_since_the_draft(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    record_year_2(session, delivery, "900000.00", 0)
    draft(session, delivery, 2)
    page = page_of(signed_in(app, VENDOR_STAFF), delivery, 2)
    assert ids_of(page, "changes") == set()
    record_year_2(session, delivery, "910000.00", 1)
    page = page_of(signed_in(app, VENDOR_STAFF), delivery, 2)
    changes = page.by_id("changes")
    assert "The figures changed since the report was prepared." in changes.text
    assert "curves[2].actual_cost: 900000.00 → 910000.00" in changes.text
    # The page still shows the prepared figures, and no one can sign them.
    assert "900,000.00" in page.by_id("fig-cost").text
    assert ids_of(page, "sign-form-") == set()
    assert "the figures changed since the draft" in page.by_id("signature-vendor").text


def test_a_frozen_report_shows_both_signatures_and_offers_no_form(
    app: Flask, session: Session
) -> None:
    delivery = frozen_contract(app, session)
    for email in (VENDOR_STAFF, BUYER_STAFF):
        page = page_of(signed_in(app, email), delivery)
        assert page.by_id("state-badge").text == "final"
        assert page.by_id("report-state").text.startswith("Final: signed by both sides on ")
        assert "Signed by vendor-staff@rep-1.test" in page.by_id("signature-vendor").text
        assert "Signed by buyer-staff@rep-1.test" in page.by_id("signature-buyer").text
        assert page.by_id("download-pdf").text == "Download the signed PDF"
        actions = [form.attrs.get("action") or "" for form in page.find_all("form")]
        assert [action for action in actions if "/reports/" in action] == []
        assert "1,200,000.00" in page.by_id("kf-price").text


# -- the forms --------------------------------------------------------------------------------


def test_preparing_commenting_signing_and_withdrawing_through_the_forms(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    vendor = signed_in(app, VENDOR_STAFF)
    buyer = signed_in(app, BUYER_STAFF)
    response = vendor.post(url(delivery, "/draft"), data={"version": "0"})
    assert response.status_code == 303
    assert response.headers["Location"] == url(delivery)
    response = vendor.post(
        url(delivery, "/commentary"),
        data={"version": "1", "side": "vendor", "commentary": "Licences renegotiated."},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == url(delivery, "#commentary")
    page = html(vendor.get(url(delivery)))
    assert "Licences renegotiated." in page.by_id("commentary-vendor").text
    assert "The vendor's commentary is saved." in page.text
    fingerprint = page.by_id("sign-form-vendor").one("input", name="fingerprint").attrs["value"]
    assert fingerprint == view(session, delivery).content["fingerprint"]
    response = vendor.post(
        url(delivery, "/sign"), data={"side": "vendor", "fingerprint": fingerprint}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == url(delivery, "#sign-off")
    assert view(session, delivery).state == "signed"
    response = vendor.post(url(delivery, "/withdraw"), data={"side": "vendor"})
    assert response.status_code == 303
    assert view(session, delivery).state == "draft"
    for client, side in ((buyer, "buyer"), (vendor, "vendor")):
        form = html(client.get(url(delivery))).by_id(f"sign-form-{side}")
        data = {
            node.attrs["name"] or "": node.attrs["value"] or "" for node in form.find_all("input")
        }
        response = client.post(url(delivery, "/sign"), data=data)
        assert response.status_code == 303, response.text
    page = html(vendor.get(url(delivery)))
    assert page.by_id("state-badge").text == "final"
    assert "Signed by both sides: the report is final and its PDF is stored." in page.text
    assert view(session, delivery).state == "frozen"


@pytest.mark.parametrize("action", ["draft", "commentary", "sign", "withdraw"])
def test_the_report_forms_answer_405_to_get(app: Flask, session: Session, action: str) -> None:
    delivery = reportable_contract(session)
    draft(session, delivery)
    client = signed_in(app, VENDOR_STAFF)
    assert client.get(url(delivery, f"/{action}")).status_code == 405
    assert view(session, delivery).state == "draft"


def test_a_commentary_with_a_nul_byte_answers_422_next_to_the_field_and_keeps_the_text(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    draft(session, delivery)
    client = signed_in(app, BUYER_STAFF)
    entered = "Good year\x00 overall"
    response = client.post(
        url(delivery, "/commentary"),
        data={"version": "1", "side": "buyer", "commentary": entered},
    )
    assert response.status_code == 422
    page = html(response)
    field = page.by_id("f-commentary-buyer")
    assert "is-invalid" in field.classes
    assert field.raw_text() == entered
    feedback = field.next_element()
    assert feedback is not None
    assert "invalid-feedback" in feedback.classes
    assert "U+0000" in feedback.text
    assert view(session, delivery).content["commentary"]["buyer"] is None


def test_a_stale_fingerprint_answers_409_and_signs_nothing(app: Flask, session: Session) -> None:
    delivery = reportable_contract(session)
    draft(session, delivery)
    vendor = signed_in(app, VENDOR_STAFF)
    opened = html(vendor.get(url(delivery))).by_id("sign-form-vendor")
    stale = opened.one("input", name="fingerprint").attrs["value"]
    buyer = signed_in(app, BUYER_STAFF)
    assert (
        buyer.post(
            url(delivery, "/commentary"),
            data={"version": "1", "side": "buyer", "commentary": "Written meanwhile"},
        ).status_code
        == 303
    )
    response = vendor.post(url(delivery, "/sign"), data={"side": "vendor", "fingerprint": stale})
    assert response.status_code == 409
    assert "the report changed since you opened it" in response.text
    assert view(session, delivery).state == "draft"


def test_the_second_signature_through_the_form_freezes_the_report(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    draft(session, delivery)
    sign(app, session, delivery, "buyer")
    vendor = signed_in(app, VENDOR_STAFF)
    fingerprint = view(session, delivery).content["fingerprint"]
    response = vendor.post(
        url(delivery, "/sign"), data={"side": "vendor", "fingerprint": fingerprint}
    )
    assert response.status_code == 303
    assert view(session, delivery).state == "frozen"
    again = vendor.post(url(delivery, "/sign"), data={"side": "vendor", "fingerprint": fingerprint})
    assert again.status_code == 409
    assert "it is final" in again.text


# -- downloads and charts ---------------------------------------------------------------------


def test_the_pdf_and_json_of_a_frozen_report_are_exactly_the_stored_bytes(
    app: Flask, session: Session
) -> None:
    delivery = frozen_contract(app, session)
    pdf, snapshot = stored_files(session, delivery)
    client = signed_in(app, BUYER_STAFF)
    response = client.get(url(delivery, "/report.pdf"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data() == pdf
    assert "filename=REP-1-year-1.pdf" in response.headers["Content-Disposition"]
    response = client.get(url(delivery, "/snapshot.json"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data() == snapshot.encode("utf-8")
    assert "filename=REP-1-year-1.json" in response.headers["Content-Disposition"]


def test_the_pdf_and_json_of_a_draft_are_drawn_from_what_it_shows_now(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    shown = draft(session, delivery)
    client = signed_in(app, VENDOR_STAFF)
    response = client.get(url(delivery, "/report.pdf"))
    assert response.status_code == 200
    assert response.get_data().startswith(b"%PDF-")
    assert "Draft" in pdf_text(response.get_data())
    response = client.get(url(delivery, "/snapshot.json"))
    assert response.status_code == 200
    assert json.loads(response.get_data()) == shown.content
    assert shown.content["state"] == "draft"


def test_a_chart_is_an_svg_with_an_etag_and_answers_304_while_unchanged(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    client = signed_in(app, BUYER_STAFF)
    response = client.get(url(delivery, "/charts/curves.svg"))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data().lstrip().startswith((b"<?xml", b"<svg"))
    etag = response.headers["ETag"]
    assert etag
    again = client.get(url(delivery, "/charts/curves.svg"), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = client.get(url(delivery, "/charts/curves.svg"), headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200
    for name in ("nonsense", "kpi-999", "curves.svg", "../curves"):
        assert client.get(url(delivery, f"/charts/{name}.svg")).status_code == 404, name


# -- outsiders and user text ------------------------------------------------------------------


def test_an_outsider_gets_404_for_every_report_url_and_form(app: Flask, session: Session) -> None:
    delivery = frozen_contract(app, session)
    draft(session, delivery, 2)
    client = signed_in(app, OUTSIDER)
    assert client.get(f"/contracts/{delivery.contract_id}/reports").status_code == 404
    for year in (1, 2):
        for rest in ("", "/report.pdf", "/snapshot.json", "/charts/curves.svg"):
            assert client.get(url(delivery, rest, year)).status_code == 404, (year, rest)
        posts = {
            "/draft": {"version": "1"},
            "/commentary": {"version": "1", "side": "buyer", "commentary": "x"},
            "/sign": {"side": "buyer", "fingerprint": "0" * 64},
            "/withdraw": {"side": "vendor"},
        }
        for rest, data in posts.items():
            assert client.post(url(delivery, rest, year), data=data).status_code == 404, rest
    assert view(session, delivery, 2).state == "draft"
    assert view(session, delivery, 2).content["commentary"]["buyer"] is None


def test_commentary_markup_is_escaped_on_the_page_and_literal_in_the_pdf(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    draft(session, delivery)
    client = signed_in(app, VENDOR_STAFF)
    script = "<script>alert(1)</script>"
    response = client.post(
        url(delivery, "/commentary"),
        data={"version": "1", "side": "vendor", "commentary": f"Fine {script} & <b>bold</b>"},
    )
    assert response.status_code == 303
    response = client.get(url(delivery))
    body = response.get_data(as_text=True)
    assert script not in body
    assert "<b>bold</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    page = html(response)
    assert f"Fine {script} & <b>bold</b>" in page.by_id("commentary-vendor").text
    assert all("alert(1)" not in node.text for node in page.find_all("script"))
    text = pdf_text(client.get(url(delivery, "/report.pdf")).get_data())
    assert f"Fine {script} & <b>bold</b>" in text
