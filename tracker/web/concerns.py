"""The concern register: raise, edit, start, resolve and reopen concerns.

GET  /contracts/<id>/concerns    the register (?show=open|resolved|all) and the raise form
POST /contracts/<id>/concerns    raise a concern (staff of either party, for their side)
GET  /concerns/<id>              the concern, its history, the edit form and the moves
POST /concerns/<id>              edit a concern that is not resolved
POST /concerns/<id>/status       move it: in progress, resolved (with how), reopened (why)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.followup_models import CONCERN_CATEGORIES, SEVERITIES
from tracker.db.session import request_session
from tracker.domain.concerns import CATEGORY_LABELS, ESCALATIONS, STATUS_LABELS
from tracker.services import concerns as service
from tracker.services.concerns import ConcernDetail, ConcernsView
from tracker.services.errors import Forbidden
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("concerns", __name__)

Page = str | tuple[str, int]
SHOWS = ("open", "resolved", "all")
#: When a new concern is due unless the person says otherwise.
DEFAULT_DUE = timedelta(days=14)
SIDE_WORDS = {"buyer": "the buyer", "vendor": "the vendor"}
#: Labels of the move buttons, by the status they move to.
MOVE_WORDS = {"in_progress": "Start working on it", "resolved": "Resolve", "open": "Reopen"}
FLASHES = {
    "in_progress": "The concern is in progress.",
    "resolved": "The concern is resolved.",
    "open": "The concern is open again.",
}


@blueprint.get("/contracts/<id:contract_id>/concerns")
def register(contract_id: int) -> str:
    """The register: open concerns by escalation, then the resolved ones; the raise form."""
    view = service.concerns_view(request_session(), current_actor(), contract_id)
    return _register_page(view, {}, {})[0]


@blueprint.post("/contracts/<id:contract_id>/concerns")
def raise_concern(contract_id: int) -> Page | BaseResponse:
    """Raise a concern for the viewer's side (the side chosen, for staff of both)."""
    view = service.concerns_view(request_session(), current_actor(), contract_id)
    if not view.permissions.sides:
        raise Forbidden("only staff of the buyer or the vendor may raise concerns")
    side = request.form.get("side") or None
    if side is None and len(view.permissions.sides) > 1:
        return _register_page(view, request.form, {"side": "choose the side you speak for"})
    outcome = attempt(
        lambda: service.raise_concern(
            request_session(),
            current_actor(),
            contract_id,
            _fields(),
            side=side,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Concern raised. Its owner works on it by the due date.", "success")
        return redirect(url_for(".show", concern_id=outcome.result), 303)
    return _register_page(view, request.form, outcome.errors)


@blueprint.get("/concerns/<id:concern_id>")
def show(concern_id: int) -> str:
    """The concern, its history, and what the viewer may do with it."""
    detail = service.concern_view(request_session(), current_actor(), concern_id)
    return _concern_page(detail)[0]


@blueprint.post("/concerns/<id:concern_id>")
def edit(concern_id: int) -> Page | BaseResponse:
    """Change a concern that is not resolved."""
    version = form_version()
    outcome = attempt(
        lambda: service.update_concern(
            request_session(),
            current_actor(),
            concern_id,
            _fields(),
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Concern saved.", "success")
        return redirect(url_for(".show", concern_id=concern_id), 303)
    detail = service.concern_view(request_session(), current_actor(), concern_id)
    return _concern_page(detail, failed="edit", errors=outcome.errors)


@blueprint.post("/concerns/<id:concern_id>/status")
def move(concern_id: int) -> Page | BaseResponse:
    """Move the concern to the posted status (a resolution or a reason as it needs)."""
    version = form_version()
    status = request.form.get("status", "")
    outcome = attempt(
        lambda: service.move_concern(
            request_session(),
            current_actor(),
            concern_id,
            status,
            expected_version=version,
            resolution=request.form.get("resolution"),
            reason=request.form.get("reason"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(FLASHES.get(status, "Concern moved."), "success")
        return redirect(url_for(".show", concern_id=concern_id), 303)
    detail = service.concern_view(request_session(), current_actor(), concern_id)
    return _concern_page(detail, failed=status, errors=outcome.errors)


def _register_page(
    view: ConcernsView, values: Mapping[str, Any], errors: dict[str, str]
) -> tuple[str, int]:
    show = request.args.get("show", "open")
    show = show if show in SHOWS else "open"
    listed = {"open": view.open, "resolved": view.resolved, "all": view.concerns}[show]
    due = min(view.today + DEFAULT_DUE, view.contract.end_date)
    form_values = values or {"severity": "medium", "due_on": max(due, view.today).isoformat()}
    page = render_template(
        "concerns.html",
        view=view,
        contract=view.contract,
        listed=listed,
        show=show,
        values=form_values,
        errors=errors,
        **_choices(),
    )
    return page, 422 if errors else 200


def _concern_page(
    detail: ConcernDetail, *, failed: str | None = None, errors: dict[str, str] | None = None
) -> tuple[str, int]:
    concern = detail.concern
    if failed == "edit":
        values: Mapping[str, Any] = request.form
    else:
        values = {
            "title": concern.title,
            "description": concern.description or "",
            "category": concern.category,
            "severity": concern.severity,
            "owner_side": concern.owner_side,
            "owner": concern.owner or "",
            "due_on": concern.due_on.isoformat(),
        }
    page = render_template(
        "concern.html",
        detail=detail,
        contract=detail.contract,
        concern=concern,
        values=values,
        move_values=request.form if failed and failed != "edit" else {},
        failed=failed,
        errors=errors or {},
        move_words=MOVE_WORDS,
        **_choices(),
    )
    return page, 422 if errors else 200


def _choices() -> dict[str, Any]:
    return {
        "categories": [(c, CATEGORY_LABELS[c]) for c in CONCERN_CATEGORIES],
        "severities": [(s, s.title()) for s in SEVERITIES],
        "owner_sides": [("buyer", "The buyer"), ("vendor", "The vendor")],
        "side_words": SIDE_WORDS,
        "status_labels": STATUS_LABELS,
        "escalations": ESCALATIONS,
    }


def _fields() -> dict[str, object]:
    """The concern's fields as posted."""
    return {name: request.form.get(name) for name in service.EDITABLE}
