"""The onboarding plan (the first 100 days after signing) and the contracts in onboarding.

GET  /contracts/<id>/onboarding             the plan: milestones with their state, forms
POST /contracts/<id>/onboarding/template    plan the 100-day template (an empty plan only)
POST /contracts/<id>/onboarding/milestones  add a milestone
POST /milestones/<id>                       change a milestone's title, owner, due day, note
POST /milestones/<id>/status                in progress, done, dropped, back to planned
GET  /onboarding                            every contract in onboarding with what is late
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.services import onboarding as service
from tracker.services.errors import Conflict, Forbidden
from tracker.services.onboarding_views import (
    OnboardingView,
    milestone_view,
    onboarding_portfolio,
    onboarding_view,
)
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("onboarding", __name__)

Page = str | tuple[str, int]
SIDES = (("vendor", "Vendor"), ("buyer", "Buyer"))
#: What each status button says.
MOVES = {
    "in_progress": "Mark in progress",
    "done": "Mark done",
    "dropped": "Drop",
    "planned": "Back to planned",
}


@blueprint.get("/contracts/<id:contract_id>/onboarding")
def plan(contract_id: int) -> str:
    """The plan as a table with each milestone's state, and the forms to change it."""
    view = onboarding_view(request_session(), current_actor(), contract_id)
    return _page(view)


@blueprint.post("/contracts/<id:contract_id>/onboarding/template")
def template(contract_id: int) -> Page | BaseResponse:
    """Plan the template's milestones from the day given (default: day 0)."""
    outcome = attempt(
        lambda: service.apply_template(
            request_session(),
            current_actor(),
            contract_id,
            start_on=request.form.get("start_on"),
            request=request_info(),
        )
    )
    if outcome.ok:
        applied = outcome.result
        late = f" {applied.late} of them are already past their due day." if applied.late else ""
        flash(
            f"{applied.created} milestones planned from {applied.start_on}.{late}",
            "success",
        )
        return _back(contract_id)
    view = onboarding_view(request_session(), current_actor(), contract_id)
    return _page(view, form="template", errors=outcome.errors), 422


@blueprint.post("/contracts/<id:contract_id>/onboarding/milestones")
def add(contract_id: int) -> Page | BaseResponse:
    """Add a milestone to the plan."""
    outcome = attempt(
        lambda: service.add_milestone(
            request_session(),
            current_actor(),
            contract_id,
            title=request.form.get("title"),
            owner_side=request.form.get("owner_side"),
            due_on=request.form.get("due_on"),
            note=request.form.get("note"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Milestone added.", "success")
        return _back(contract_id, outcome.result)
    view = onboarding_view(request_session(), current_actor(), contract_id)
    return _page(view, form="add", errors=outcome.errors), 422


@blueprint.post("/milestones/<id:milestone_id>")
def edit(milestone_id: int) -> Page | BaseResponse:
    """Change a milestone's title, owner side, due day and note."""
    view, _line = milestone_view(request_session(), current_actor(), milestone_id)
    _require_editable(view)
    version = form_version()
    outcome = attempt(
        lambda: service.update_milestone(
            request_session(),
            current_actor(),
            milestone_id,
            title=request.form.get("title"),
            owner_side=request.form.get("owner_side"),
            due_on=request.form.get("due_on"),
            note=request.form.get("note"),
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Milestone saved.", "success")
        return _back(view.contract_id, milestone_id)
    return _page(view, form=f"edit-{milestone_id}", errors=outcome.errors), 422


@blueprint.post("/milestones/<id:milestone_id>/status")
def status(milestone_id: int) -> Page | BaseResponse:
    """Move a milestone: in progress, done (on a day), dropped (with the reason), planned."""
    view, line = milestone_view(request_session(), current_actor(), milestone_id)
    _require_editable(view)
    version = form_version()
    target = request.form.get("status", "")
    outcome = attempt(
        lambda: service.set_milestone_status(
            request_session(),
            current_actor(),
            milestone_id,
            target,
            expected_version=version,
            done_on=request.form.get("done_on"),
            note=request.form.get("note"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"“{line.title}”: {service_words(target)}.", "success")
        return _back(view.contract_id, milestone_id)
    return _page(view, form=f"status-{milestone_id}", errors=outcome.errors), 422


@blueprint.get("/onboarding")
def portfolio() -> str:
    """Every contract in onboarding the reader sees, the most late first."""
    rows = onboarding_portfolio(request_session(), current_actor())
    return render_template("onboarding_portfolio.html", rows=rows)


def service_words(status: str) -> str:
    """A milestone status as a person reads it."""
    return {"in_progress": "in progress"}.get(status, status)


def _page(
    view: OnboardingView, *, form: str | None = None, errors: Mapping[str, str] | None = None
) -> str:
    """The plan page; after a refused form, that form shows the errors and the values sent."""
    values: Mapping[str, Any] = request.form if form else {}
    return render_template(
        "onboarding.html",
        view=view,
        failed=form,
        values=values,
        errors=errors or {},
        sides=SIDES,
        moves=MOVES,
        words=service_words,
    )


def _require_editable(view: OnboardingView) -> None:
    # Checked before the form's version is read, so that a read-only contract or reader
    # gets the real reason rather than a complaint about the form.
    if view.permissions.read_only_reason:
        raise Conflict(view.permissions.read_only_reason)
    if not view.permissions.edit:
        raise Forbidden("only staff of the buyer or the vendor may change the onboarding plan")


def _back(contract_id: int, milestone_id: int | None = None) -> BaseResponse:
    anchor = f"milestone-{milestone_id}" if milestone_id else None
    return redirect(url_for(".plan", contract_id=contract_id, _anchor=anchor), 303)
