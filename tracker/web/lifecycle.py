"""A contract's lifecycle: status and moves, notice and renewal days, alerts, amendments.

GET      /contracts/<id>/lifecycle                     status, timeline, forms, alerts
POST     /contracts/<id>/lifecycle/move                move the contract along
POST     /contracts/<id>/lifecycle/dates               set the notice period and renewal day
GET/POST /contracts/<id>/amendments/new                amend the terms of a signed contract
GET      /contracts/<id>/amendments/<number>           an amendment: the difference by year
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.domain.comparison import COMPARED_FIELDS
from tracker.domain.json_document import DocumentError, load_json_document
from tracker.services import amendments, lifecycle
from tracker.services.errors import Conflict, Forbidden
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("lifecycle", __name__)

Page = str | tuple[str, int]
#: Fields of the amendment form; other error paths are the terms document's.
AMENDMENT_FIELDS = ("effective_year", "reason")


@blueprint.get("/contracts/<id:contract_id>/lifecycle")
def show(contract_id: int) -> str:
    """The contract's status, its moves, the dates with their alerts, the amendments."""
    view = lifecycle.lifecycle_view(request_session(), current_actor(), contract_id)
    return _page(view)[0]


@blueprint.post("/contracts/<id:contract_id>/lifecycle/move")
def move(contract_id: int) -> Page | BaseResponse:
    """Move the contract to the status chosen; errors shown beside the move form."""
    view = lifecycle.lifecycle_view(request_session(), current_actor(), contract_id)
    version = form_version()
    form = request.form
    to_status = form.get("to_status", "")
    outcome = attempt(
        lambda: lifecycle.move_contract(
            request_session(),
            current_actor(),
            contract_id,
            to_status,
            effective_on=form.get("effective_on"),
            reason=form.get("reason"),
            closed_reason=form.get("closed_reason") or None,
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"The contract is now {to_status}.", "success")
        return redirect(url_for(".show", contract_id=contract_id), 303)
    return _page(view, move_values=form, move_errors=outcome.errors)


@blueprint.post("/contracts/<id:contract_id>/lifecycle/dates")
def dates(contract_id: int) -> Page | BaseResponse:
    """Set the notice period and the renewal day; errors shown beside the dates form."""
    view = lifecycle.lifecycle_view(request_session(), current_actor(), contract_id)
    version = form_version()
    form = request.form
    outcome = attempt(
        lambda: lifecycle.set_lifecycle_dates(
            request_session(),
            current_actor(),
            contract_id,
            notice_months=form.get("notice_months"),
            renewal_on=form.get("renewal_on"),
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Lifecycle dates saved.", "success")
        return redirect(url_for(".show", contract_id=contract_id, _anchor="dates"), 303)
    return _page(view, date_values=form, date_errors=outcome.errors)


@blueprint.route("/contracts/<id:contract_id>/amendments/new", methods=["GET", "POST"])
def new_amendment(contract_id: int) -> Page | BaseResponse:
    """The amendment form: the current terms to change, the effective year, the reason."""
    session, actor = request_session(), current_actor()
    view = lifecycle.lifecycle_view(session, actor, contract_id)
    _require_amendable(view)
    if request.method == "GET":
        values: dict[str, Any] = {
            "terms": amendments.current_terms_text(session, actor, contract_id),
            "effective_year": str(min(view.last_closed_year + 1, view.term_years)),
            "reason": "",
        }
        return render_template(
            "amendment_form.html", view=view, values=values, errors={}, fields=AMENDMENT_FIELDS
        )
    version = form_version()
    form = request.form
    errors: dict[str, str] = {}
    try:
        document: object = load_json_document(form.get("terms", ""))
    except DocumentError as exc:
        errors["terms"] = str(exc)
        document = None
    if not errors:
        outcome = attempt(
            lambda: amendments.amend_terms(
                session, actor, contract_id, document,
                effective_year=form.get("effective_year"), reason=form.get("reason"),
                expected_version=version, request=request_info(),
            )
        )  # fmt: skip
        if outcome.ok:
            flash(f"Amendment {outcome.result} saved: the plan follows the new terms.", "success")
            return redirect(
                url_for(".amendment", contract_id=contract_id, number=outcome.result), 303
            )
        errors = outcome.errors
    page = render_template(
        "amendment_form.html",
        view=view,
        values=form,
        errors=errors,
        fields=AMENDMENT_FIELDS,
    )
    return page, 422


@blueprint.get("/contracts/<id:contract_id>/amendments/<int:number>")
def amendment(contract_id: int, number: int) -> str:
    """An amendment: what changed in the terms, and the plan before and after by year."""
    field = request.args.get("field", "price")
    view = amendments.amendment_view(
        request_session(), current_actor(), contract_id, number, field=field
    )
    return render_template("amendment.html", view=view, fields=COMPARED_FIELDS)


def _page(
    view: lifecycle.LifecycleView,
    *,
    move_values: Any = None,
    move_errors: dict[str, str] | None = None,
    date_values: Any = None,
    date_errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    """The lifecycle page; after a refused form, that form shows its errors and values."""
    default_dates = {
        "notice_months": "" if view.notice_months is None else str(view.notice_months),
        "renewal_on": "" if view.renewal_on is None else view.renewal_on.isoformat(),
    }
    page = render_template(
        "lifecycle.html",
        view=view,
        move_values=move_values or {"effective_on": view.today.isoformat()},
        move_errors=move_errors or {},
        date_values=date_values or default_dates,
        date_errors=date_errors or {},
    )
    return page, 422 if move_errors or date_errors else 200


def _require_amendable(view: lifecycle.LifecycleView) -> None:
    """Conflict or Forbidden unless this reader may amend the terms now."""
    if view.archived:
        raise Conflict("this contract is archived: restore it before amending its terms")
    if not view.may_change:
        raise Forbidden("only staff of the buyer or the vendor may amend the terms")
    if not view.may_amend:
        raise Conflict(
            "terms are amended once a contract is signed and until it closes; "
            f"this one is {view.status}"
        )
