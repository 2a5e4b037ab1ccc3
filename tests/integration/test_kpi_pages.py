"""The KPI pages through the test client: defining a KPI, recording results and their
status, editing, stale and closed-year refusals, permissions, and the trend chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from conftest import add_user, sign_in
from delivery_factory import Delivery, contract_in_delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.reporting.kpi_charts import clear_kpi_chart_cache
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals
from tracker.services.contracts import create_contract
from tracker.services.delivery import delivery_view
from tracker.services.kpis import create_kpi, record_kpi_result, update_kpi
from tracker.services.year_close import close_year

#: Targets of the availability KPI, years 1-5 (fixed-5y is a five-year contract).
TARGETS = {1: "99.5", 2: "99.5", 3: "99.6", 4: "99.6", 5: "99.7"}


@pytest.fixture(autouse=True)
def _fresh_charts() -> None:
    clear_kpi_chart_cache()


@pytest.fixture
def delivery(client: FlaskClient, session: Session) -> Delivery:
    """An active five-year contract whose five years have all begun (it started in 2022)."""
    return contract_in_delivery(session)


def as_user(app: Flask, email: str) -> FlaskClient:
    """A client signed in as one of the people the delivery factory made."""
    return sign_in(app.test_client(), email)


def kpi_form(**changes: str) -> dict[str, str]:
    """The new-KPI form filled in: availability in %, higher is better, amber within 0.2."""
    return {
        "name": "Availability",
        "unit": "%",
        "higher_is_better": "higher",
        "tolerance": "0.2",
        **{f"target_{year}": target for year, target in TARGETS.items()},
        **changes,
    }


def stored_kpi(session: Session, delivery: Delivery, name: str = "Availability") -> int:
    """An availability KPI defined through the service, by the vendor's staff."""
    return create_kpi(
        session, delivery.vendor_staff, delivery.contract_id, name=name, unit="%",
        higher_is_better=True, tolerance="0.2", targets=TARGETS,
    )  # fmt: skip


def created_kpi(response: TestResponse) -> int:
    """The id of the KPI a successful form post redirected to."""
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/kpis/")
    return int(location.removeprefix("/kpis/").split("#")[0])


def year_row(page: Node, year: int) -> Node:
    return page.by_id(f"year-{year}")


def feedback(page: Node, field_id: str) -> str:
    """The error message shown beside a field."""
    field = page.by_id(field_id)
    assert "is-invalid" in field.classes
    message = field.next_element()
    assert message is not None
    assert "invalid-feedback" in message.classes
    return message.text


def form_fields(form: Node) -> dict[str, str]:
    """What a browser would send for a form as shown (inputs and selects)."""
    values: dict[str, str] = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if node.tag == "input" and name:
            values[name] = node.attrs.get("value") or ""
        elif node.tag == "select" and name:
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            values[name] = chosen[0].attrs.get("value") or ""
    return values


def record(client: FlaskClient, kpi_id: int, year: int, **values: str) -> TestResponse:
    """Post a year's result form as the KPI page shows it, with ``values`` typed in."""
    form = html(client.get(f"/kpis/{kpi_id}")).by_id(f"result-form-{year}")
    return client.post(form.attrs["action"] or "", data={**form_fields(form), **values})


def close_year_one(session: Session, delivery: Delivery, kpi_id: int) -> None:
    """Record what year 1 needs and close it, as the vendor's staff and the buyer's finance."""
    record_actuals(session, delivery.vendor_staff, delivery.contract_id, 1,
                   actual_cost="950000.00", expected_version=0)  # fmt: skip
    record_kpi_result(session, delivery.vendor_staff, kpi_id, 1, actual="99.6",
                      expected_version=1)  # fmt: skip
    close_year(session, delivery.buyer_finance, delivery.contract_id, 1)


# -- defining a KPI and recording results ---------------------------------------------------


def test_defining_a_kpi_and_recording_a_result_shows_its_status(
    app: Flask, delivery: Delivery
) -> None:
    vendor = as_user(app, "vendor-staff@dlv-1.test")
    form = html(vendor.get(f"/contracts/{delivery.contract_id}/kpis/new"))
    assert form.by_id("f-target_5") is not None
    kpi_id = created_kpi(
        vendor.post(f"/contracts/{delivery.contract_id}/kpis/new", data=kpi_form())
    )

    page = html(vendor.get(f"/kpis/{kpi_id}"))
    assert page.by_id("kpi-name").text == "Availability"
    assert "higher is better" in page.by_id("kpi-definition").text
    assert "vendor-staff@dlv-1.test" in page.by_id("kpi-changed").text
    assert year_row(page, 1).one("td", cls="status").text == "—"

    result_form = page.by_id("result-form-1")
    response = vendor.post(
        result_form.attrs["action"] or "",
        data={**form_fields(result_form), "actual": "99.6", "q1": "99.4", "q2": "99.1"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/kpis/{kpi_id}#year-1"

    page = html(vendor.get(f"/kpis/{kpi_id}"))
    row = year_row(page, 1)
    assert row.one("td", cls="status").text == "met"
    assert row.one("span", cls="kpi-met").text == "met"
    quarters = [cell.text for cell in row.find_all("td", cls="quarter")]
    assert quarters == ["99.4 near", "99.1 missed", "—", "—"]
    assert "vendor-staff@dlv-1.test" in row.text
    # The form keeps the recorded values, with the row's new version.
    again = form_fields(page.by_id("result-form-1"))
    assert (again["actual"], again["q1"], again["version"]) == ("99.6", "99.4", "2")


def test_a_missed_result_and_a_near_one_get_their_badges(app: Flask, delivery: Delivery) -> None:
    vendor = as_user(app, "vendor-staff@dlv-1.test")
    kpi_id = created_kpi(
        vendor.post(f"/contracts/{delivery.contract_id}/kpis/new", data=kpi_form())
    )
    for year, actual in ((2, "99.35"), (3, "99.0")):
        assert record(vendor, kpi_id, year, actual=actual).status_code == 303
    page = html(vendor.get(f"/kpis/{kpi_id}"))
    assert year_row(page, 2).one("td", cls="status").text == "near"
    assert year_row(page, 3).one("td", cls="status").text == "missed"


def test_lower_is_better_turns_the_comparison_around(app: Flask, delivery: Delivery) -> None:
    vendor = as_user(app, "vendor-staff@dlv-1.test")
    form = kpi_form(name="Hours to resolve", unit="h", higher_is_better="lower", tolerance="1",
                    target_1="8")  # fmt: skip
    kpi_id = created_kpi(vendor.post(f"/contracts/{delivery.contract_id}/kpis/new", data=form))
    assert record(vendor, kpi_id, 1, actual="8.5").status_code == 303
    page = html(vendor.get(f"/kpis/{kpi_id}"))
    assert "lower is better" in page.by_id("kpi-definition").text
    assert year_row(page, 1).one("td", cls="status").text == "near"


def test_a_kpi_form_with_bad_values_shows_each_error_beside_its_field_and_keeps_them(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    bad = kpi_form(name="", tolerance="a lot", target_2="1,5", target_3="NaN")
    response = client.post(f"/contracts/{delivery.contract_id}/kpis/new", data=bad)
    assert response.status_code == 422
    page = html(response)
    assert feedback(page, "f-name") == "must not be empty"
    assert "a number from 0" in feedback(page, "f-tolerance")
    assert '"1,5"' in feedback(page, "f-target_2")
    assert "NaN" in feedback(page, "f-target_3")
    assert page.by_id("f-tolerance").attrs["value"] == "a lot"
    assert page.by_id("f-target_2").attrs["value"] == "1,5"
    assert page.by_id("f-target_1").attrs["value"] == "99.5"
    assert delivery_view(session, SYSTEM, delivery.contract_id).kpis == ()


def test_a_second_kpi_of_the_same_name_is_refused_on_the_name_field(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    stored_kpi(session, delivery)
    response = client.post(f"/contracts/{delivery.contract_id}/kpis/new", data=kpi_form())
    assert response.status_code == 422
    assert "already has a KPI named Availability" in feedback(html(response), "f-name")


def test_a_bad_result_is_shown_on_that_years_form_with_the_values_kept(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    response = record(client, kpi_id, 2, actual="1e9999", q3="99.123")
    assert response.status_code == 422
    page = html(response)
    assert "plain decimals" in feedback(page, "y2-actual")
    assert page.by_id("y2-actual").attrs["value"] == "1e9999"
    assert page.by_id("y2-q3").attrs["value"] == "99.123"
    # The other years' forms show what is stored, without errors.
    assert "is-invalid" not in page.by_id("y1-actual").classes
    assert page.by_id("y1-actual").attrs["value"] == ""


def test_a_year_outside_the_term_answers_404(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    assert client.post(f"/kpis/{kpi_id}/years/6", data={"version": "0"}).status_code == 404
    assert client.post(f"/kpis/{kpi_id}/years/0", data={"version": "0"}).status_code == 404


def test_a_result_post_without_the_version_answers_400(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    assert client.post(f"/kpis/{kpi_id}/years/1", data={"actual": "99"}).status_code == 400


def test_a_stale_result_answers_409_and_keeps_the_other_result(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    form = html(client.get(f"/kpis/{kpi_id}")).by_id("result-form-1")
    record_kpi_result(session, delivery.buyer_staff, kpi_id, 1, actual="99.9", expected_version=1)
    response = client.post(form.attrs["action"] or "", data={**form_fields(form), "actual": "98"})
    assert response.status_code == 409
    assert "buyer-staff@dlv-1.test" in response.get_data(as_text=True)
    page = html(client.get(f"/kpis/{kpi_id}"))
    assert year_row(page, 1).one("td", cls="fw-semibold").text == "99.9"


# -- editing --------------------------------------------------------------------------------


def test_editing_changes_the_definition_and_the_targets(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    form = html(client.get(f"/kpis/{kpi_id}/edit")).by_id("kpi-form")
    values = form_fields(form)
    assert (values["name"], values["tolerance"], values["target_3"]) == (
        "Availability",
        "0.2",
        "99.6",
    )
    assert values["higher_is_better"] == "higher"
    values.update(name="Service availability", target_3="99.8", tolerance="0.1")
    response = client.post(f"/kpis/{kpi_id}/edit", data=values)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/kpis/{kpi_id}"
    page = html(client.get(f"/kpis/{kpi_id}"))
    assert page.by_id("kpi-name").text == "Service availability"
    assert year_row(page, 3).find_all("td", cls="num")[0].text == "99.8"
    assert "version 2" in page.by_id("kpi-changed").text


def test_a_stale_edit_answers_409_naming_who_changed_the_kpi(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    values = form_fields(html(client.get(f"/kpis/{kpi_id}/edit")).by_id("kpi-form"))
    update_kpi(
        session, delivery.buyer_staff, kpi_id, name="Uptime", unit="%", higher_is_better=True,
        tolerance="0", targets=TARGETS, expected_version=1,
    )  # fmt: skip
    response = client.post(f"/kpis/{kpi_id}/edit", data={**values, "name": "Mine"})
    assert response.status_code == 409
    text = html(response).text
    assert "buyer-staff@dlv-1.test" in text
    assert "reload" in text
    assert html(client.get(f"/kpis/{kpi_id}")).by_id("kpi-name").text == "Uptime"


def test_an_edit_with_bad_values_answers_422_and_keeps_them(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    values = form_fields(html(client.get(f"/kpis/{kpi_id}/edit")).by_id("kpi-form"))
    response = client.post(
        f"/kpis/{kpi_id}/edit", data={**values, "higher_is_better": "sideways", "unit": ""}
    )
    assert response.status_code == 422
    page = html(response)
    assert "higher" in feedback(page, "f-higher_is_better")
    assert feedback(page, "f-unit") == "must not be empty"
    assert page.by_id("f-name").attrs["value"] == "Availability"


# -- closed years and years not begun ------------------------------------------------------


def test_a_closed_years_form_is_absent_and_a_post_to_it_answers_409(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    close_year_one(session, delivery, kpi_id)
    page = html(client.get(f"/kpis/{kpi_id}"))
    assert not page.find_all(id="result-form-1")
    assert page.by_id("result-form-2") is not None
    today = date.today().isoformat()
    closed = page.by_id("closed-1").text
    assert f"Closed on {today}" in closed
    assert "buyer-finance@dlv-1.test" in closed
    assert "closed" in year_row(page, 1).text

    response = client.post(f"/kpis/{kpi_id}/years/1", data={"version": "2", "actual": "90"})
    assert response.status_code == 409
    assert f"year 1 was closed on {today}" in response.get_data(as_text=True)
    assert year_row(html(client.get(f"/kpis/{kpi_id}")), 1).one("td", cls="fw-semibold").text == (
        "99.6"
    )


def test_a_closed_years_target_is_read_only_in_the_edit_form(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    close_year_one(session, delivery, kpi_id)
    form = html(client.get(f"/kpis/{kpi_id}/edit")).by_id("kpi-form")
    assert "readonly" in form.one(id="f-target_1").attrs
    assert "readonly" not in form.one(id="f-target_2").attrs
    values = form_fields(form)
    # Saving the form as shown keeps the closed year's target and changes another.
    assert client.post(f"/kpis/{kpi_id}/edit", data={**values, "target_2": "99"}).status_code == 303
    # A changed target of the closed year is refused.
    values = form_fields(html(client.get(f"/kpis/{kpi_id}/edit")).by_id("kpi-form"))
    response = client.post(f"/kpis/{kpi_id}/edit", data={**values, "target_1": "90"})
    assert response.status_code == 409
    assert "year 1 was closed" in response.get_data(as_text=True)


def test_years_that_have_not_begun_have_no_result_form(
    client: FlaskClient, session: Session
) -> None:
    start = date(date.today().year - 1, 1, 1)
    delivery = contract_in_delivery(session, code="LATE-1", start_date=start.isoformat())
    kpi_id = stored_kpi(session, delivery)
    page = html(client.get(f"/kpis/{kpi_id}"))
    assert page.by_id("result-form-1") is not None
    assert page.by_id("result-form-2") is not None
    assert not page.find_all(id="result-form-3")
    assert "not begun" in year_row(page, 3).text
    assert "year 3, 4, 5" in page.by_id("record").text


def test_a_result_for_a_year_that_has_not_begun_is_refused(
    client: FlaskClient, session: Session
) -> None:
    start = date(date.today().year - 1, 1, 1)
    delivery = contract_in_delivery(session, code="LATE-2", start_date=start.isoformat())
    kpi_id = stored_kpi(session, delivery)
    response = client.post(f"/kpis/{kpi_id}/years/5", data={"version": "1", "actual": "99"})
    assert response.status_code in (409, 422)


# -- who may do what ------------------------------------------------------------------------


def test_finance_sees_the_kpi_without_forms_and_a_post_answers_403(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    finance = as_user(app, "buyer-finance@dlv-1.test")
    page = html(finance.get(f"/kpis/{kpi_id}"))
    assert page.by_id("kpi-name").text == "Availability"
    assert not page.find_all("form", cls="result-form")
    assert not page.find_all(id="edit-kpi")
    assert "Staff of the buyer or the vendor record the results" in page.by_id("record").text
    response = finance.post(f"/kpis/{kpi_id}/years/1", data={"version": "1", "actual": "99"})
    assert response.status_code == 403
    assert finance.get(f"/kpis/{kpi_id}/edit").status_code == 403
    assert (
        finance.post(f"/kpis/{kpi_id}/edit", data={**kpi_form(), "version": "1"}).status_code == 403
    )
    assert finance.get(f"/contracts/{delivery.contract_id}/kpis/new").status_code == 403
    assert (
        finance.post(f"/contracts/{delivery.contract_id}/kpis/new", data=kpi_form()).status_code
        == 403
    )


def test_staff_of_either_party_record_results(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    buyer = as_user(app, "buyer-staff@dlv-1.test")
    page = html(buyer.get(f"/kpis/{kpi_id}"))
    assert page.by_id("edit-kpi") is not None
    assert len(page.find_all("form", cls="result-form")) == 5
    response = record(buyer, kpi_id, 4, actual="99.6")
    assert response.status_code == 303


def test_another_organisations_kpi_answers_404_like_a_missing_one(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    outsider = as_user(app, "outsider@dlv-1.test")
    for url in (f"/kpis/{kpi_id}", f"/kpis/{kpi_id}/chart.svg", f"/kpis/{kpi_id}/edit",
                f"/contracts/{delivery.contract_id}/kpis/new"):  # fmt: skip
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert str(delivery.contract_id) not in html(response).one("main").text.replace(
            str(kpi_id), ""
        )
    assert outsider.post(f"/kpis/{kpi_id}/years/1", data={"version": "0"}).status_code == 404
    assert outsider.post(f"/kpis/{kpi_id}/edit", data={"version": "1"}).status_code == 404
    missing = outsider.get(f"/kpis/{kpi_id + 1000}")
    assert missing.status_code == 404
    assert outsider.get("/kpis/99999999999999999999").status_code == 404


def test_post_only_routes_answer_405_to_a_get(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    response = client.get(f"/kpis/{kpi_id}/years/1")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_a_contract_not_yet_signed_has_no_kpis_to_define(
    client: FlaskClient, session: Session
) -> None:
    from delivery_factory import fixed_terms

    draft_id = create_contract(session, SYSTEM, fixed_terms(), code="DRAFT-1")
    response = client.get(f"/contracts/{draft_id}/kpis/new")
    assert response.status_code == 409
    assert "once a contract is signed" in response.get_data(as_text=True)
    assert client.post(f"/contracts/{draft_id}/kpis/new", data=kpi_form()).status_code == 409


def test_a_kpi_name_with_markup_is_shown_escaped(client: FlaskClient, delivery: Delivery) -> None:
    script = "<script>alert(1)</script>"
    form = kpi_form(name=script, unit='" onmouseover="x')
    kpi_id = created_kpi(client.post(f"/contracts/{delivery.contract_id}/kpis/new", data=form))
    response = client.get(f"/kpis/{kpi_id}")
    body = response.get_data(as_text=True)
    assert script not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'onmouseover="x' not in body
    assert html(response).by_id("kpi-name").text == script


# -- page furniture -------------------------------------------------------------------------


def test_the_kpi_page_leads_back_to_the_contract_and_its_delivery(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    crumbs = html(client.get(f"/kpis/{kpi_id}")).one("ol", cls="breadcrumb")
    links = [(a.text, a.attrs["href"]) for a in crumbs.find_all("a")]
    assert links == [
        ("Portfolio", "/"),
        ("DLV-1", f"/contracts/{delivery.contract_id}"),
        ("Delivery", f"/contracts/{delivery.contract_id}/delivery"),
    ]
    assert crumbs.one("li", cls="active").text == "KPI: Availability"


def test_the_trend_chart_is_valid_svg_identical_for_identical_data_with_an_etag(
    client: FlaskClient, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    record_kpi_result(session, delivery.vendor_staff, kpi_id, 1, actual="99.6",
                      quarters={"q1": "99.2"}, expected_version=1)  # fmt: skip
    url = f"/kpis/{kpi_id}/chart.svg"
    page = html(client.get(f"/kpis/{kpi_id}"))
    assert page.by_id("kpi-chart").attrs["src"] == url
    first = client.get(url)
    assert first.status_code == 200
    assert first.mimetype == "image/svg+xml"
    root = ET.fromstring(first.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Availability" in texts
    assert "Quarterly result" in texts
    clear_kpi_chart_cache()
    second = client.get(url)
    assert second.data == first.data
    etag = first.headers["ETag"]
    assert second.headers["ETag"] == etag
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    record_kpi_result(session, delivery.vendor_staff, kpi_id, 2, actual="99.1", expected_version=1)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_user_added_later_with_staff_role_sees_the_forms(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    kpi_id = stored_kpi(session, delivery)
    add_user(app, "later@example.test", ("Nordlys IT",))
    later = as_user(app, "later@example.test")
    assert len(html(later.get(f"/kpis/{kpi_id}")).find_all("form", cls="result-form")) == 5
