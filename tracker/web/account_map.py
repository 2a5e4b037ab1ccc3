"""The vendor's account map (Strategic Selling): influences, alternatives, the action plan
with its indicator ratings, the red flags, and sharing the map with the buyer.

GET      /contracts/<id>/account-map                the map, its red flags, the forms
POST     /contracts/<id>/account-map/influences     add a buying influence
GET/POST /influences/<id>                           edit an influence
POST     /influences/<id>/delete                    remove it
POST     /contracts/<id>/account-map/alternatives   add an alternative the buyer has
POST     /alternatives/<id>                         change it
POST     /alternatives/<id>/delete                  remove it
POST     /contracts/<id>/account-map/actions        add an action to the plan
GET/POST /plan-actions/<id>                         edit an action, its rating history
POST     /plan-actions/<id>/ratings                 re-rate its indicator at a review
POST     /contracts/<id>/account-map/share          share the map with the buyer, or stop

The buyer's members reach none of these while the map is not shared (404, as for a
missing contract); once shared they read the map, never change it (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.account_map_models import Alternative, Influence, PlanAction
from tracker.db.session import request_session
from tracker.services import account_plan as plan
from tracker.services import account_plan_actions as plan_actions
from tracker.services.account_map import contract_of, share_account_map
from tracker.services.account_map_views import AccountMapView, account_map_view
from tracker.services.errors import Conflict, Forbidden, NotFound
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("account_map", __name__)

Page = str | tuple[str, int]
INFLUENCE_FIELDS = (
    "name", "job_title", "role", "degree", "mode", "rating", "evidence", "win_result",
    "covered_by", "last_met_on", "added_on",
)  # fmt: skip
ALTERNATIVE_FIELDS = ("kind", "name", "position", "note")
ACTION_FIELDS = ("title", "indicator", "influence_id", "owner", "due_on", "status")
#: The choices the forms offer: (value, words).
OPTIONS = {
    "role": plan.ROLE_OPTIONS,
    "degree": plan.DEGREE_OPTIONS,
    "mode": plan.MODE_OPTIONS,
    "kind": plan.KIND_OPTIONS,
    "position": plan.POSITION_OPTIONS,
    "status": plan.PLAN_STATUS_OPTIONS,
    "rating": tuple((str(n), f"+{n}" if n > 0 else ("0" if n == 0 else f"−{-n}"))
                    for n in range(5, -6, -1)),
    "indicator_rating": tuple((str(n), str(n)) for n in range(10, -1, -1)),
}  # fmt: skip


@blueprint.get("/contracts/<id:contract_id>/account-map")
def show(contract_id: int) -> str:
    """The account map: red flags first, influences by role, alternatives, the plan."""
    return _page(contract_id)[0]


@blueprint.post("/contracts/<id:contract_id>/account-map/influences")
def add_influence(contract_id: int) -> Page | BaseResponse:
    """Add a buying influence."""
    outcome = attempt(
        lambda: plan.add_influence(
            request_session(), current_actor(), contract_id, _fields(INFLUENCE_FIELDS),
            request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash("Influence added to the account map.", "success")
        return _back(contract_id, "influences")
    return _page(contract_id, failed="influence-new", errors=outcome.errors)


@blueprint.route("/influences/<id:influence_id>", methods=["GET", "POST"])
def influence(influence_id: int) -> Page | BaseResponse:
    """The form changing an influence; a valid change returns to the map."""
    view = _view_of(Influence, influence_id, "influence")
    _require_editor(view)
    person = view.influence(influence_id)
    if person is None:
        raise NotFound(f"no influence {influence_id}")
    if request.method == "GET":
        values = {name: _text(getattr(person, name)) for name in INFLUENCE_FIELDS}
        return _influence_page(view, person, values, {})
    version = form_version()
    outcome = attempt(
        lambda: plan.update_influence(
            request_session(), current_actor(), influence_id, _fields(INFLUENCE_FIELDS),
            expected_version=version, request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash(f"Influence {request.form.get('name', '').strip()} saved.", "success")
        return _back(view.contract_id, "influences")
    return _influence_page(view, person, request.form, outcome.errors)


@blueprint.post("/influences/<id:influence_id>/delete")
def delete_influence(influence_id: int) -> BaseResponse:
    """Remove an influence from the map."""
    contract_id = contract_of(request_session(), current_actor(), Influence, influence_id,
                              "influence")  # fmt: skip
    plan.remove_influence(
        request_session(), current_actor(), influence_id, expected_version=form_version(),
        request=request_info(),
    )  # fmt: skip
    flash("Influence removed from the account map.", "success")
    return _back(contract_id, "influences")


@blueprint.post("/contracts/<id:contract_id>/account-map/alternatives")
def add_alternative(contract_id: int) -> Page | BaseResponse:
    """Record an alternative the buyer has."""
    outcome = attempt(
        lambda: plan.add_alternative(
            request_session(), current_actor(), contract_id, _fields(ALTERNATIVE_FIELDS),
            request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash("Alternative recorded.", "success")
        return _back(contract_id, "alternatives")
    return _page(contract_id, failed="alternative-new", errors=outcome.errors)


@blueprint.post("/alternatives/<id:alternative_id>")
def alternative(alternative_id: int) -> Page | BaseResponse:
    """Change an alternative (our position against it, mostly)."""
    contract_id = contract_of(request_session(), current_actor(), Alternative, alternative_id,
                              "alternative")  # fmt: skip
    version = form_version()
    outcome = attempt(
        lambda: plan.update_alternative(
            request_session(), current_actor(), alternative_id, _fields(ALTERNATIVE_FIELDS),
            expected_version=version, request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash("Alternative saved.", "success")
        return _back(contract_id, "alternatives")
    return _page(contract_id, failed=f"alternative-{alternative_id}", errors=outcome.errors)


@blueprint.post("/alternatives/<id:alternative_id>/delete")
def delete_alternative(alternative_id: int) -> BaseResponse:
    """Remove an alternative from the map."""
    contract_id = contract_of(request_session(), current_actor(), Alternative, alternative_id,
                              "alternative")  # fmt: skip
    plan.remove_alternative(
        request_session(), current_actor(), alternative_id, expected_version=form_version(),
        request=request_info(),
    )  # fmt: skip
    flash("Alternative removed.", "success")
    return _back(contract_id, "alternatives")


@blueprint.post("/contracts/<id:contract_id>/account-map/actions")
def add_action(contract_id: int) -> Page | BaseResponse:
    """Add an action to the account plan."""
    outcome = attempt(
        lambda: plan_actions.add_plan_action(
            request_session(), current_actor(), contract_id, _fields(ACTION_FIELDS),
            request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash("Action added to the plan. Rate its indicator at every review.", "success")
        return _back(contract_id, "plan-actions")
    return _page(contract_id, failed="action-new", errors=outcome.errors)


@blueprint.route("/plan-actions/<id:plan_action_id>", methods=["GET", "POST"])
def plan_action(plan_action_id: int) -> Page | BaseResponse:
    """The form changing an action of the plan, with its indicator's rating history."""
    view = _view_of(PlanAction, plan_action_id, "plan action")
    _require_editor(view)
    action = view.action(plan_action_id)
    if action is None:
        raise NotFound(f"no plan action {plan_action_id}")
    if request.method == "GET":
        values = {name: _text(getattr(action, name)) for name in ACTION_FIELDS}
        return _action_page(view, action, values, {})
    version = form_version()
    outcome = attempt(
        lambda: plan_actions.update_plan_action(
            request_session(), current_actor(), plan_action_id, _fields(ACTION_FIELDS),
            expected_version=version, request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash("Action saved.", "success")
        return _back(view.contract_id, "plan-actions")
    return _action_page(view, action, request.form, outcome.errors)


@blueprint.post("/plan-actions/<id:plan_action_id>/ratings")
def rate(plan_action_id: int) -> Page | BaseResponse:
    """Record a review's rating of the action's indicator (the earlier ones are kept)."""
    contract_id = contract_of(request_session(), current_actor(), PlanAction, plan_action_id,
                              "plan action")  # fmt: skip
    outcome = attempt(
        lambda: plan_actions.rate_indicator(
            request_session(), current_actor(), plan_action_id,
            rating=request.form.get("rating"), note=request.form.get("note"),
            reviewed_on=request.form.get("reviewed_on"), request=request_info(),
        )
    )  # fmt: skip
    if outcome.ok:
        flash("Indicator rated.", "success")
        return _back(contract_id, f"plan-action-{plan_action_id}")
    return _page(contract_id, failed=f"rating-{plan_action_id}", errors=outcome.errors)


@blueprint.post("/contracts/<id:contract_id>/account-map/share")
def share(contract_id: int) -> BaseResponse:
    """Share the map with the buyer (read only), or stop sharing it."""
    shared = request.form.get("shared") == "1"
    share_account_map(
        request_session(), current_actor(), contract_id, shared=shared,
        expected_version=form_version(), request=request_info(),
    )  # fmt: skip
    if shared:
        flash("The account map is now shared with the buyer, read only.", "success")
    else:
        flash("The account map is no longer shared: only your organisation sees it.", "success")
    return _back(contract_id, "map-visibility")


def _page(
    contract_id: int, *, failed: str | None = None, errors: dict[str, str] | None = None
) -> tuple[str, int]:
    """The map; after a refused form, that form shows its errors and what was entered."""
    view = account_map_view(request_session(), current_actor(), contract_id)
    page = render_template(
        "account_map.html",
        view=view,
        options=OPTIONS,
        failed=failed,
        errors=errors or {},
        values=request.form if failed else {},
        may_edit=view.permissions.edit and not view.archived,
        influence_options=_influence_options(view),
    )
    return page, 422 if errors else 200


def _influence_page(
    view: AccountMapView, person: Any, values: Mapping[str, Any], errors: dict[str, str]
) -> Page:
    page = render_template(
        "influence_form.html", view=view, person=person, values=values, errors=errors,
        options=OPTIONS,
    )  # fmt: skip
    return (page, 422) if errors else page


def _action_page(
    view: AccountMapView, action: Any, values: Mapping[str, Any], errors: dict[str, str]
) -> Page:
    page = render_template(
        "plan_action_form.html", view=view, action=action, values=values, errors=errors,
        options=OPTIONS, influence_options=_influence_options(view),
    )  # fmt: skip
    return (page, 422) if errors else page


def _influence_options(view: AccountMapView) -> list[tuple[str, str]]:
    return [(str(person.id), person.name) for person in view.influences]


def _view_of(model: Any, record_id: int, what: str) -> AccountMapView:
    """The map holding a record; 404 when the viewer may not see it."""
    contract_id = contract_of(request_session(), current_actor(), model, record_id, what)
    return account_map_view(request_session(), current_actor(), contract_id)


def _require_editor(view: AccountMapView) -> None:
    if not view.permissions.edit:
        raise Forbidden("only staff of the vendor may change its account map")
    if view.archived:
        raise Conflict("this contract is archived: restore it before changing its account map")


def _fields(names: tuple[str, ...]) -> dict[str, object]:
    """The named fields as posted."""
    return {name: request.form.get(name) for name in names}


def _back(contract_id: int, anchor: str) -> BaseResponse:
    return redirect(url_for(".show", contract_id=contract_id, _anchor=anchor), 303)


def _text(value: Any) -> str:
    """A stored value as a form shows it."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
