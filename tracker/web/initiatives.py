"""Improvement initiatives: propose, approve as each side, start, deliver, drop, spend.

GET/POST /contracts/<id>/initiatives/new   propose (staff of either party)
GET      /initiatives/<id>                 terms, approvals, spending, the viewer's actions
GET/POST /initiatives/<id>/edit            change a proposal (approvals are withdrawn)
POST     /initiatives/<id>/approve         approve for the viewer's side
POST     /initiatives/<id>/start           the vendor starts the work
POST     /initiatives/<id>/deliver         the vendor delivers: year, realised saving, note
POST     /initiatives/<id>/drop            either side drops it, with the reason
POST     /initiatives/<id>/spending        the vendor records spending from the fund
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.services import fund
from tracker.services import initiatives as service
from tracker.services.delivery import (
    DeliveryView,
    DeliveryYearView,
    InitiativeView,
    delivery_view,
    initiative_view,
)
from tracker.services.errors import Conflict, Forbidden
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, checkbox, form_version
from tracker.web.kpis import require_writable

blueprint = Blueprint("initiatives", __name__)

Page = str | tuple[str, int]
#: The fields of a proposal, as the form names them and the service reads them.
FIELDS = (
    "title", "description", "expected_saving", "budget", "planned_year", "kpi_id",
    "expected_kpi_effect",
)  # fmt: skip
SIDE_WORDS = {"buyer": "the buyer", "vendor": "the vendor"}


@blueprint.route("/contracts/<id:contract_id>/initiatives/new", methods=["GET", "POST"])
def new(contract_id: int) -> Page | BaseResponse:
    """The proposal form; staff of both parties say which side they propose for."""
    view = delivery_view(request_session(), current_actor(), contract_id)
    require_writable(view)
    if not view.permissions.propose:
        raise Forbidden("only staff of the buyer or the vendor may propose initiatives")
    if request.method == "GET":
        current = _current_year(view)
        values = {"planned_year": str(current.year if current else 1)}
        return _form_page(view, None, values, {})
    side = request.form.get("side") or None
    if side is None and len(view.permissions.approve_sides) > 1:
        # Staff of both parties must say which side the proposal comes from.
        return _form_page(view, None, request.form, {"side": "choose the side you propose for"})
    outcome = attempt(
        lambda: service.propose_initiative(
            request_session(),
            current_actor(),
            contract_id,
            _fields(),
            side=side,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Initiative proposed. It needs the approval of both sides.", "success")
        return redirect(url_for(".show", initiative_id=outcome.result), 303)
    return _form_page(view, None, request.form, outcome.errors)


@blueprint.get("/initiatives/<id:initiative_id>")
def show(initiative_id: int) -> str:
    """The initiative: terms, status, approvals, spending, results, and the viewer's actions."""
    view, initiative = _initiative(initiative_id)
    return _page(view, initiative)[0]


@blueprint.route("/initiatives/<id:initiative_id>/edit", methods=["GET", "POST"])
def edit(initiative_id: int) -> Page | BaseResponse:
    """Change a proposal; the approvals already given are withdrawn."""
    view, initiative = _initiative(initiative_id)
    require_writable(view)
    if not view.permissions.propose:
        raise Forbidden("only staff of the buyer or the vendor may change initiatives")
    if initiative.status != "proposed":
        raise Conflict(
            f"the initiative is {_words(initiative.status)}: only proposals can be changed"
        )
    if request.method == "GET":
        values: Mapping[str, Any] = {
            "title": initiative.title,
            "description": initiative.description,
            "expected_saving": view.money(initiative.expected_saving),
            "budget": view.money(initiative.budget),
            "planned_year": str(initiative.planned_year),
            "kpi_id": str(initiative.kpi_id or ""),
            "expected_kpi_effect": initiative.expected_kpi_effect or "",
        }
        return _form_page(view, initiative, values, {})
    version = form_version()
    outcome = attempt(
        lambda: service.update_initiative(
            request_session(),
            current_actor(),
            initiative_id,
            _fields(),
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Initiative saved. Both sides approve it again.", "success")
        return redirect(url_for(".show", initiative_id=initiative_id), 303)
    return _form_page(view, initiative, request.form, outcome.errors)


@blueprint.post("/initiatives/<id:initiative_id>/approve")
def approve(initiative_id: int) -> BaseResponse:
    """Approve the initiative for the viewer's side (the side chosen, for staff of both)."""
    status = service.approve_initiative(
        request_session(),
        current_actor(),
        initiative_id,
        expected_version=form_version(),
        side=request.form.get("side") or None,
        request=request_info(),
    )
    if status == "approved":
        flash("Approved by both sides: the fund may now pay for it.", "success")
    else:
        flash("Your side's approval is recorded; it waits for the other side.", "success")
    return redirect(url_for(".show", initiative_id=initiative_id), 303)


@blueprint.post("/initiatives/<id:initiative_id>/start")
def start(initiative_id: int) -> BaseResponse:
    """The vendor starts working on an approved initiative."""
    service.move_initiative(
        request_session(),
        current_actor(),
        initiative_id,
        "in_progress",
        expected_version=form_version(),
        request=request_info(),
    )
    flash("Initiative started.", "success")
    return redirect(url_for(".show", initiative_id=initiative_id), 303)


@blueprint.post("/initiatives/<id:initiative_id>/deliver")
def deliver(initiative_id: int) -> Page | BaseResponse:
    """The vendor delivers it: the year, the realised yearly saving and what it did."""
    version = form_version()
    outcome = attempt(
        lambda: service.move_initiative(
            request_session(),
            current_actor(),
            initiative_id,
            "delivered",
            expected_version=version,
            delivered_year=request.form.get("delivered_year"),
            realised_saving=request.form.get("realised_saving"),
            note=request.form.get("note"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Initiative delivered; its realised saving is recorded.", "success")
        return redirect(url_for(".show", initiative_id=initiative_id), 303)
    return _refused(initiative_id, "deliver", outcome.errors)


@blueprint.post("/initiatives/<id:initiative_id>/drop")
def drop(initiative_id: int) -> Page | BaseResponse:
    """Either side drops the initiative, saying why."""
    version = form_version()
    outcome = attempt(
        lambda: service.move_initiative(
            request_session(),
            current_actor(),
            initiative_id,
            "dropped",
            expected_version=version,
            note=request.form.get("reason"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Initiative dropped.", "success")
        return redirect(url_for(".show", initiative_id=initiative_id), 303)
    # The form calls the service's note a reason (the deliver form has a note of its own).
    errors = {"reason" if path == "note" else path: text for path, text in outcome.errors.items()}
    return _refused(initiative_id, "drop", errors)


@blueprint.post("/initiatives/<id:initiative_id>/spending")
def spending(initiative_id: int) -> Page | BaseResponse:
    """The vendor records what the fund paid for the initiative in a contract year."""
    outcome = attempt(
        lambda: fund.record_spending(
            request_session(),
            current_actor(),
            initiative_id,
            request.form.get("year"),
            request.form.get("amount"),
            request.form.get("description"),
            prefunding=checkbox("prefunding"),
            expected_version=form_version(),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Spending recorded in the reinvestment fund.", "success")
        return redirect(url_for(".show", initiative_id=initiative_id, _anchor="spending"), 303)
    return _refused(initiative_id, "spending", outcome.errors)


def _refused(initiative_id: int, form: str, errors: dict[str, str]) -> tuple[str, int]:
    """The page again, the refused form showing its errors and what was entered."""
    view, initiative = _initiative(initiative_id)
    return _page(view, initiative, failed=form, errors=errors)


def _page(
    view: DeliveryView,
    initiative: InitiativeView,
    *,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    open_years = [y for y in view.years if y.started and not y.closed]
    current = _current_year(view)
    page = render_template(
        "initiative.html",
        view=view,
        initiative=initiative,
        entries=[e for e in view.entries if e.initiative_id == initiative.id],
        kpi=next((k for k in view.kpis if k.id == initiative.kpi_id), None),
        open_years=open_years,
        started_years=[y for y in view.years if y.started],
        actions=_actions(view, initiative),
        side_words=SIDE_WORDS,
        failed=failed,
        errors=errors or {},
        values=request.form if failed else {},
        current_year=current.year if current else None,
        spending_year=open_years[-1].year if open_years else None,
    )
    return page, 422 if errors else 200


def _actions(view: DeliveryView, initiative: InitiativeView) -> dict[str, Any]:
    """What the viewer may do with the initiative now (the services check it again)."""
    may = view.permissions
    status = initiative.status
    return {
        "approve": [
            side
            for side in may.approve_sides
            if status == "proposed" and not initiative.approved_by(side)
        ],
        "edit": may.propose and status == "proposed",
        "start": may.record_costs and status == "approved",
        "deliver": may.record_costs and status in {"approved", "in_progress"},
        "drop": may.propose and status in {"proposed", "approved", "in_progress"},
        "spend": may.record_costs and status in service.FUNDABLE,
    }


def _form_page(
    view: DeliveryView,
    initiative: InitiativeView | None,
    values: Mapping[str, Any],
    errors: dict[str, str],
) -> Page:
    page = render_template(
        "initiative_form.html",
        view=view,
        initiative=initiative,
        values=values,
        errors=errors,
        sides=view.permissions.approve_sides,
        side_words=SIDE_WORDS,
    )
    return (page, 422) if errors else page


def _fields() -> dict[str, object]:
    """The proposal's fields as posted."""
    return {name: request.form.get(name) for name in FIELDS}


def _initiative(initiative_id: int) -> tuple[DeliveryView, InitiativeView]:
    """The read model of the initiative's contract and the initiative; 404 when not visible."""
    return initiative_view(request_session(), current_actor(), initiative_id)


def _current_year(view: DeliveryView) -> DeliveryYearView | None:
    """The contract year running today, or the last one begun (None before year 1)."""
    begun = [y for y in view.years if y.started]
    return begun[-1] if begun else None


def _words(status: str) -> str:
    return status.replace("_", " ")
