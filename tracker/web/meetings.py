"""Governance meetings and their actions.

GET      /contracts/<id>/meetings        meetings (newest first), open actions, rhythm alerts
GET/POST /contracts/<id>/meetings/new    record a meeting with up to 8 actions
GET      /meetings/<id>                  the meeting: agenda, attendees, decisions, actions
GET/POST /meetings/<id>/edit             change the meeting (its actions are changed one by one)
POST     /meetings/<id>/actions          add an action to the meeting
POST     /actions/<id>                   change an open action
POST     /actions/<id>/status            mark an action done, drop it (with a reason), reopen it
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.followup_models import MEETING_KINDS
from tracker.db.session import request_session
from tracker.domain.governance import CADENCES, KIND_LABELS
from tracker.services import meetings as service
from tracker.services import meetings_views as views
from tracker.services.errors import Conflict, Forbidden
from tracker.services.meetings_views import GovernancePermissions, MeetingPage
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("meetings", __name__)

Page = str | tuple[str, int]
#: The rows for actions on the new-meeting form; empty rows are ignored.
ACTION_ROWS = 8
MEETING_FIELDS = ("kind", "held_on", "title", "agenda", "attendees", "decisions")
ACTION_FIELDS = ("title", "owner_side", "owner", "due_on")
KINDS = tuple((kind, KIND_LABELS[kind]) for kind in MEETING_KINDS)
SIDES = (("vendor", "Vendor"), ("buyer", "Buyer"))
_ROW_PATH = re.compile(r"actions\[(\d+)\]\.(\w+)")


@blueprint.get("/contracts/<id:contract_id>/meetings")
def index(contract_id: int) -> str:
    """The contract's meetings, its open actions (overdue first) and the rhythm alerts."""
    view = views.governance_view(request_session(), current_actor(), contract_id)
    return render_template(
        "meetings.html", view=view, header=view.contract, cadences=CADENCES, kinds=KIND_LABELS
    )


@blueprint.route("/contracts/<id:contract_id>/meetings/new", methods=["GET", "POST"])
def new(contract_id: int) -> Page | BaseResponse:
    """The form recording a meeting with its actions; stored whole or not at all."""
    view = views.governance_view(request_session(), current_actor(), contract_id)
    _require_write(view.permissions)
    if request.method == "GET":
        values = {"kind": "operational", "held_on": view.today.isoformat()}
        return _form_page(view.contract, None, values, {})
    rows = _action_rows()
    outcome = attempt(
        lambda: service.record_meeting(
            request_session(),
            current_actor(),
            contract_id,
            _meeting_fields(),
            [action for _row, action in rows],
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Meeting recorded with its actions.", "success")
        return redirect(url_for(".show", meeting_id=outcome.result), 303)
    errors = _row_errors(outcome.errors, [row for row, _action in rows])
    return _form_page(view.contract, None, request.form, errors)


@blueprint.get("/meetings/<id:meeting_id>")
def show(meeting_id: int) -> str:
    """The meeting: agenda, attendees, decisions, its actions and what may be done with them."""
    page = views.meeting_view(request_session(), current_actor(), meeting_id)
    return _meeting_page(page)[0]


@blueprint.route("/meetings/<id:meeting_id>/edit", methods=["GET", "POST"])
def edit(meeting_id: int) -> Page | BaseResponse:
    """Change the meeting's kind, day, title, agenda, attendees or decisions."""
    page = views.meeting_view(request_session(), current_actor(), meeting_id)
    _require_write(page.permissions)
    meeting = page.meeting
    if request.method == "GET":
        values = {
            "kind": meeting.kind,
            "held_on": meeting.held_on.isoformat(),
            "title": meeting.title,
            "agenda": meeting.agenda or "",
            "attendees": "\n".join(meeting.attendees),
            "decisions": meeting.decisions or "",
        }
        return _form_page(page.contract, page, values, {})
    version = form_version()
    outcome = attempt(
        lambda: service.update_meeting(
            request_session(),
            current_actor(),
            meeting_id,
            _meeting_fields(),
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Meeting saved.", "success")
        return redirect(url_for(".show", meeting_id=meeting_id), 303)
    return _form_page(page.contract, page, request.form, outcome.errors)


@blueprint.post("/meetings/<id:meeting_id>/actions")
def add_action(meeting_id: int) -> Page | BaseResponse:
    """Add an action to the meeting."""
    outcome = attempt(
        lambda: service.add_action(
            request_session(),
            current_actor(),
            meeting_id,
            {name: request.form.get(name) for name in ACTION_FIELDS},
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Action added.", "success")
        return redirect(url_for(".show", meeting_id=meeting_id, _anchor="actions"), 303)
    page = views.meeting_view(request_session(), current_actor(), meeting_id)
    return _meeting_page(page, failed="add", errors=outcome.errors)


@blueprint.post("/actions/<id:action_id>")
def edit_action(action_id: int) -> Page | BaseResponse:
    """Change an open action's title, owner or due day."""
    meeting_id = views.action_meeting_id(request_session(), current_actor(), action_id)
    version = form_version()
    outcome = attempt(
        lambda: service.update_action(
            request_session(),
            current_actor(),
            action_id,
            {name: request.form.get(name) for name in ACTION_FIELDS},
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Action saved.", "success")
        return redirect(url_for(".show", meeting_id=meeting_id, _anchor=f"action-{action_id}"), 303)
    page = views.meeting_view(request_session(), current_actor(), meeting_id)
    return _meeting_page(page, failed=f"edit-{action_id}", errors=outcome.errors)


@blueprint.post("/actions/<id:action_id>/status")
def action_status(action_id: int) -> Page | BaseResponse:
    """Mark an action done, drop it with a reason, or reopen it."""
    meeting_id = views.action_meeting_id(request_session(), current_actor(), action_id)
    version = form_version()
    status = request.form.get("status", "")
    outcome = attempt(
        lambda: service.set_action_status(
            request_session(),
            current_actor(),
            action_id,
            status,
            expected_version=version,
            reason=request.form.get("reason"),
            request=request_info(),
        )
    )
    if outcome.ok:
        words = {"done": "marked done", "dropped": "dropped", "open": "reopened"}
        flash(f"Action {words.get(status, status)}.", "success")
        if request.form.get("back") == "meetings":
            contract_id = views.meeting_view(
                request_session(), current_actor(), meeting_id
            ).contract.contract_id
            return redirect(url_for(".index", contract_id=contract_id, _anchor="open-actions"), 303)
        return redirect(url_for(".show", meeting_id=meeting_id, _anchor=f"action-{action_id}"), 303)
    page = views.meeting_view(request_session(), current_actor(), meeting_id)
    return _meeting_page(page, failed=f"status-{action_id}", errors=outcome.errors)


def _meeting_page(
    page: MeetingPage, *, failed: str | None = None, errors: dict[str, str] | None = None
) -> tuple[str, int]:
    """The meeting page; after a refused action form, that form shows its errors and values."""
    body = render_template(
        "meeting.html",
        page=page,
        header=page.contract,
        meeting=page.meeting,
        sides=SIDES,
        failed=failed,
        errors=errors or {},
        values=request.form if failed else {},
    )
    return body, 422 if errors else 200


def _form_page(
    header: views.ContractHeader,
    page: MeetingPage | None,
    values: Mapping[str, Any],
    errors: dict[str, str],
) -> Page:
    body = render_template(
        "meeting_form.html",
        header=header,
        page=page,
        values=values,
        errors=errors,
        kinds=KINDS,
        sides=SIDES,
        rows=range(ACTION_ROWS) if page is None else range(0),
    )
    return (body, 422) if errors else body


def _meeting_fields() -> dict[str, object]:
    return {name: request.form.get(name) for name in MEETING_FIELDS}


def _action_rows() -> list[tuple[int, dict[str, object]]]:
    """(row number, action) of the rows where anything was written; the owner side is
    preset on every row, so it alone does not make a row count."""
    rows = []
    for row in range(ACTION_ROWS):
        action: dict[str, object] = {
            name: request.form.get(f"actions-{row}-{name}") for name in ACTION_FIELDS
        }
        written = [action[name] for name in ("title", "owner", "due_on")]
        if any(isinstance(value, str) and value.strip() for value in written):
            rows.append((row, action))
    return rows


def _row_errors(errors: dict[str, str], rows: list[int]) -> dict[str, str]:
    """The service's ``actions[i].field`` paths as the form's ``actions-<row>-field`` names."""
    named = {}
    for path, message in errors.items():
        match = _ROW_PATH.fullmatch(path)
        in_rows = match is not None and int(match[1]) < len(rows)
        named[f"actions-{rows[int(match[1])]}-{match[2]}" if match and in_rows else path] = message
    return named


def _require_write(permissions: GovernancePermissions) -> None:
    if permissions.reason:
        raise Conflict(permissions.reason)
    if not permissions.write:
        raise Forbidden("only staff of the buyer or the vendor may record or change meetings")
