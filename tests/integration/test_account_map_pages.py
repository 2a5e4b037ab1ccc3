"""The account map pages through the test client: the map with its red flags, every
form, stale and bad input, sharing, and who reaches which URL (a buyer gets 404 on
every URL until the vendor shares the map, then reads it and may change nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import sign_in
from delivery_factory import Delivery, contract_in_delivery
from flask import Flask
from flask.testing import FlaskClient
from html_tree import Node, html
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.services.access import SYSTEM
from tracker.services.account_map import share_account_map
from tracker.services.account_map_views import account_map_view
from tracker.services.account_plan import add_alternative, add_influence
from tracker.services.account_plan_actions import add_plan_action, rate_indicator

TODAY = datetime.now(UTC).date()
#: The contract runs from January of last year, so that the days the pages default to
#: (today) lie within its term whenever the tests run.
START = f"{TODAY.year - 1}-01-01"
SECRET = "Erin Economic"
ADDED = f"{TODAY.year - 1}-02-01"


@pytest.fixture
def delivery(app: Flask, session: Session) -> Delivery:
    return contract_in_delivery(session, code="MAPW-1", start_date=START)


@pytest.fixture
def ids(session: Session, delivery: Delivery) -> dict[str, int]:
    """A map with an economic buyer, an alternative and an action rated twice."""
    vendor = delivery.vendor_staff
    influence_id = add_influence(
        session, vendor, delivery.contract_id,
        {"name": SECRET, "job_title": "CFO", "role": "economic_buyer", "degree": "high",
         "mode": "even_keel", "rating": "-4", "evidence": "Cancelled two reviews",
         "win_result": "A flat budget", "covered_by": "Ann",
         "last_met_on": (TODAY - timedelta(days=10)).isoformat(), "added_on": ADDED},
    )  # fmt: skip
    alternative_id = add_alternative(
        session,
        vendor,
        delivery.contract_id,
        {"kind": "competitor", "name": "Rival Ltd", "position": "unknown"},
    )
    action_id = add_plan_action(
        session, vendor, delivery.contract_id,
        {"title": "Breakfast with the CFO", "indicator": "The CFO comes",
         "influence_id": str(influence_id)},
    )  # fmt: skip
    rate_indicator(session, vendor, action_id, rating="3",
                   reviewed_on=(TODAY - timedelta(days=30)).isoformat())  # fmt: skip
    rate_indicator(session, vendor, action_id, rating="7", note="Came with the CEO")
    return {"influence": influence_id, "alternative": alternative_id, "action": action_id}


def as_user(app: Flask, delivery: Delivery, who: str) -> FlaskClient:
    """``who`` is side-role (vendor-staff) or outsider."""
    return sign_in(app.test_client(), f"{who}@{delivery.code.lower()}.test")


def page_url(delivery: Delivery) -> str:
    return f"/contracts/{delivery.contract_id}/account-map"


def shared(session: Session, delivery: Delivery, value: bool) -> None:
    version = account_map_view(session, SYSTEM, delivery.contract_id).share_version
    share_account_map(session, delivery.vendor_staff, delivery.contract_id, shared=value,
                      expected_version=version)  # fmt: skip


def feedback(page: Node, field_id: str) -> str:
    field = page.by_id(field_id)
    assert "is-invalid" in field.classes
    message = field.next_element()
    assert message is not None
    return message.text


def every_url(delivery: Delivery, ids: dict[str, int]) -> list[tuple[str, str]]:
    """Every URL of the account map, with its method."""
    base = page_url(delivery)
    return [
        ("GET", base),
        ("POST", f"{base}/influences"),
        ("GET", f"/influences/{ids['influence']}"),
        ("POST", f"/influences/{ids['influence']}"),
        ("POST", f"/influences/{ids['influence']}/delete"),
        ("POST", f"{base}/alternatives"),
        ("POST", f"/alternatives/{ids['alternative']}"),
        ("POST", f"/alternatives/{ids['alternative']}/delete"),
        ("POST", f"{base}/actions"),
        ("GET", f"/plan-actions/{ids['action']}"),
        ("POST", f"/plan-actions/{ids['action']}"),
        ("POST", f"/plan-actions/{ids['action']}/ratings"),
        ("POST", f"{base}/share"),
    ]


def call(client: FlaskClient, method: str, url: str) -> TestResponse:
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"version": "1", "shared": "1", "rating": "5", "name": "X"})


# -- the page -------------------------------------------------------------------------------


def test_the_vendor_sees_the_red_flags_first_then_influences_alternatives_and_the_plan(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    page = html(as_user(app, delivery, "vendor-staff").get(page_url(delivery)))
    flags = [(li.attrs["data-code"], li.text) for li in page.find_all("li", cls="red-flag")]
    assert [code for code, _ in flags] == [
        "economic_buyer_mode", "no_coach", "low_rating", "unknown_position",
    ]  # fmt: skip
    assert "Erin Economic (economic buyer) is rated −4." in dict(flags)["low_rating"]
    order = [node.attrs.get("id") for node in page.iter() if node.attrs.get("id") in
             {"red-flags", "influence-table", "alternative-table", "action-table"}]  # fmt: skip
    assert order == ["red-flags", "influence-table", "alternative-table", "action-table"]
    row = page.by_id(f"influence-{ids['influence']}")
    assert row.one("strong", cls="influence-name").text == SECRET
    badge = row.one("span", cls="rating")
    assert (badge.text, "text-bg-danger" in badge.classes) == ("−4", True)
    assert row.one("td", cls="mode").text == "even keel"
    assert "Ann" in row.one("td", cls="coverage").text
    assert row.one("td", cls="evidence").text == "Cancelled two reviews"
    assert "(0)" in page.by_id("role-coach").text
    assert "Visible to" in page.by_id("visibility-note").text
    assert page.by_id("share-form") is not None
    action = page.by_id(f"plan-action-{ids['action']}")
    assert action.one("td", cls="latest-rating").text.startswith("7/10")
    assert "up" in action.one("td", cls="latest-rating").text
    assert [span.text for span in action.one("td", cls="rating-history").find_all("span")] == [
        f"7 · {TODAY}", f"3 · {TODAY - timedelta(days=30)}",
    ]  # fmt: skip


def test_an_influence_added_through_the_form_appears_in_its_role_group(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    response = vendor.post(f"{page_url(delivery)}/influences", data={
        "name": "Cora Coach", "role": "coach", "degree": "medium", "mode": "growth",
        "rating": "4", "evidence": "Briefs us", "win_result": "Promotion", "covered_by": "Ann",
        "last_met_on": TODAY.isoformat(), "added_on": "",
    })  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == f"{page_url(delivery)}#influences"
    page = html(vendor.get(page_url(delivery)))
    assert "Cora Coach" in page.by_id("role-coach").text
    assert "+4" in page.by_id("role-coach").text
    codes = [li.attrs["data-code"] for li in page.find_all("li", cls="red-flag")]
    assert "no_coach" not in codes
    assert "new_influence" in codes


def test_a_bad_influence_form_shows_each_error_beside_its_field_and_keeps_the_values(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    response = vendor.post(f"{page_url(delivery)}/influences", data={
        "name": "", "role": "king", "degree": "high", "mode": "growth", "rating": "7",
        "last_met_on": (TODAY + timedelta(days=3)).isoformat(), "covered_by": "Bob",
    })  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    assert "open" in page.by_id("add-influence").attrs
    assert feedback(page, "influence-new-name") == "must not be empty"
    assert "economic buyer" in feedback(page, "influence-new-role")
    assert "from -5 to 5" in feedback(page, "influence-new-rating")
    assert "future" in feedback(page, "influence-new-last_met_on")
    assert page.by_id("influence-new-covered_by").attrs["value"] == "Bob"
    assert len(account_map_view_of(app, delivery).influences) == 1


def account_map_view_of(app: Flask, delivery: Delivery) -> object:
    from tracker.db.session import new_session

    with new_session(app) as fresh:
        return account_map_view(fresh, SYSTEM, delivery.contract_id)


def test_an_influence_is_edited_on_its_own_page_and_a_stale_edit_is_refused(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    url = f"/influences/{ids['influence']}"
    form = html(vendor.get(url)).by_id("influence-form")
    values = form_fields(form)
    assert (values["name"], values["rating"], values["version"]) == (SECRET, "-4", "1")
    assert values["added_on"] == ADDED
    response = vendor.post(url, data={**values, "rating": "2", "mode": "growth"})
    assert response.status_code == 303
    page = html(vendor.get(page_url(delivery)))
    assert page.by_id(f"influence-{ids['influence']}").one("span", cls="rating").text == "+2"
    stale = vendor.post(url, data={**values, "rating": "-5"})
    assert stale.status_code == 409
    assert "vendor-staff@mapw-1.test" in stale.get_data(as_text=True)
    bad = vendor.post(url, data={**values, "version": "2", "degree": ""})
    assert bad.status_code == 422
    assert feedback(html(bad), "influence-degree") == "required"


def test_an_influence_is_removed_from_its_page(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    form = html(vendor.get(f"/influences/{ids['influence']}")).by_id("influence-delete")
    response = vendor.post(form.attrs["action"] or "", data=form_fields(form))
    assert response.status_code == 303
    page = vendor.get(page_url(delivery)).get_data(as_text=True)
    assert SECRET not in page


def test_alternatives_are_added_changed_and_removed_on_the_map(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    added = vendor.post(f"{page_url(delivery)}/alternatives", data={
        "kind": "do_nothing", "name": "Keep things as they are", "position": "ahead",
    })  # fmt: skip
    assert added.status_code == 303
    page = html(vendor.get(page_url(delivery)))
    form = page.by_id(f"alternative-{ids['alternative']}-form")
    changed = vendor.post(form.attrs["action"] or "",
                          data={**form_fields(form), "position": "behind"})  # fmt: skip
    assert changed.status_code == 303
    page = html(vendor.get(page_url(delivery)))
    row = page.by_id(f"alternative-{ids['alternative']}")
    assert row.one("td", cls="position").text == "behind"
    assert "unknown_position" not in [li.attrs["data-code"] for li in page.find_all("li")
                                      if "red-flag" in li.classes]  # fmt: skip
    refused = vendor.post(form.attrs["action"] or "", data={**form_fields(form), "kind": "x"})
    assert refused.status_code == 409  # the form's version is out of date
    form = page.by_id(f"alternative-{ids['alternative']}-form")
    bad = vendor.post(form.attrs["action"] or "", data={**form_fields(form), "name": ""})
    assert bad.status_code == 422
    assert feedback(html(bad), f"alternative-{ids['alternative']}-name") == "must not be empty"
    delete = page.by_id(f"alternative-{ids['alternative']}-delete")
    assert vendor.post(delete.attrs["action"] or "", data=form_fields(delete)).status_code == 303
    assert "Rival Ltd" not in vendor.get(page_url(delivery)).get_data(as_text=True)


def test_actions_are_added_edited_and_re_rated_and_the_history_is_kept(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    added = vendor.post(f"{page_url(delivery)}/actions", data={
        "title": "Find a coach", "indicator": "A named coach", "influence_id": "",
        "status": "open",
    })  # fmt: skip
    assert added.status_code == 303
    bad = vendor.post(f"{page_url(delivery)}/actions", data={"title": "", "indicator": "x"})
    assert bad.status_code == 422
    assert feedback(html(bad), "action-new-title") == "must not be empty"

    url = f"/plan-actions/{ids['action']}"
    form = html(vendor.get(url)).by_id("action-form")
    values = form_fields(form)
    assert (values["title"], values["influence_id"]) == ("Breakfast with the CFO",
                                                         str(ids["influence"]))  # fmt: skip
    assert vendor.post(url, data={**values, "owner": "Bea"}).status_code == 303

    rating_form = html(vendor.get(page_url(delivery))).by_id(f"rating-{ids['action']}")
    rated = vendor.post(rating_form.attrs["action"] or "",
                        data={**form_fields(rating_form), "rating": "5"})  # fmt: skip
    assert rated.status_code == 303
    history = html(vendor.get(url)).by_id("rating-history").find_all("tr", cls="rating-row")
    assert [row.find_all("td")[1].text for row in history] == ["5/10", "7/10", "3/10"]
    assert "down" in html(vendor.get(page_url(delivery))).by_id(
        f"plan-action-{ids['action']}").one("td", cls="latest-rating").text  # fmt: skip
    refused = vendor.post(rating_form.attrs["action"] or "", data={"rating": "12"})
    assert refused.status_code == 422
    assert "from 0 to 10" in feedback(html(refused), f"rating-{ids['action']}-rating")


def form_fields(form: Node) -> dict[str, str]:
    """What a browser would send for a form as shown."""
    values: dict[str, str] = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if node.tag == "input" and name:
            values[name] = node.attrs.get("value") or ""
        elif node.tag == "textarea" and name:
            values[name] = node.text
        elif node.tag == "select" and name:
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            values[name] = chosen[0].attrs.get("value") or ""
    return values


# -- sharing and access ---------------------------------------------------------------------


def test_the_vendor_shares_the_map_and_the_buyer_reads_it_without_any_form(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    vendor = as_user(app, delivery, "vendor-staff")
    buyer = as_user(app, delivery, "buyer-staff")
    assert buyer.get(page_url(delivery)).status_code == 404
    form = html(vendor.get(page_url(delivery))).by_id("share-form")
    response = vendor.post(form.attrs["action"] or "", data=form_fields(form))
    assert response.status_code == 303
    page = html(buyer.get(page_url(delivery)))
    assert "Shared with" in page.by_id("visibility-note").text
    assert SECRET in page.by_id("influence-table").text
    assert page.find_all("form", id="share-form") == []
    assert page.find_all("form", id="influence-new") == []
    assert page.find_all("a", href=f"/influences/{ids['influence']}") == []
    # Stop sharing: the buyer is back to 404.
    form = html(vendor.get(page_url(delivery))).by_id("share-form")
    assert form_fields(form)["shared"] == "0"
    assert vendor.post(form.attrs["action"] or "", data=form_fields(form)).status_code == 303
    assert buyer.get(page_url(delivery)).status_code == 404


@pytest.mark.parametrize("role", ["staff", "finance", "admin"])
def test_every_url_answers_404_to_the_buyer_until_shared_then_403_for_changes(
    app: Flask, session: Session, delivery: Delivery, ids: dict[str, int], role: str
) -> None:
    buyer = as_user(app, delivery, f"buyer-{role}")
    missing = buyer.get(f"/contracts/{delivery.contract_id + 1000}/account-map")
    for method, url in every_url(delivery, ids):
        response = call(buyer, method, url)
        assert response.status_code == 404, (method, url)
        assert SECRET not in response.get_data(as_text=True)
        if url == page_url(delivery):
            # The same page as for a contract that does not exist, but for the id.
            assert response.get_data(as_text=True).count("Not found") == missing.get_data(
                as_text=True
            ).count("Not found")
    shared(session, delivery, True)
    for method, url in every_url(delivery, ids):
        response = call(buyer, method, url)
        expected = 200 if url == page_url(delivery) and method == "GET" else 403
        assert response.status_code == expected, (method, url)
    assert SECRET in buyer.get(page_url(delivery)).get_data(as_text=True)
    shared(session, delivery, False)
    for method, url in every_url(delivery, ids):
        assert call(buyer, method, url).status_code == 404, (method, url)
    seen = account_map_view(session, SYSTEM, delivery.contract_id)
    assert (len(seen.influences), len(seen.alternatives), len(seen.actions[0].ratings)) == (1, 1, 2)


def test_an_outsider_gets_404_on_every_url_shared_or_not(
    app: Flask, session: Session, delivery: Delivery, ids: dict[str, int]
) -> None:
    outsider = as_user(app, delivery, "outsider")
    for state in (False, True):
        shared(session, delivery, state)
        for method, url in every_url(delivery, ids):
            response = call(outsider, method, url)
            assert response.status_code == 404, (state, method, url)
            assert SECRET not in response.get_data(as_text=True)


def test_vendor_finance_reads_the_map_without_forms_and_may_change_nothing(
    app: Flask, delivery: Delivery, ids: dict[str, int]
) -> None:
    finance = as_user(app, delivery, "vendor-finance")
    page = html(finance.get(page_url(delivery)))
    assert SECRET in page.by_id("influence-table").text
    assert page.find_all("form") == page.find_all("form", action="/logout")
    for method, url in every_url(delivery, ids)[1:]:
        assert call(finance, method, url).status_code == 403, (method, url)
