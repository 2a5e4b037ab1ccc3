"""Pulse checks: each side rates the relationship once a quarter.

GET  /contracts/<id>/pulse            ratings by quarter, trends, alerts, the rating form
GET  /contracts/<id>/pulse/chart.svg  both sides' ratings by quarter (data: the table)
POST /contracts/<id>/pulse            rate the current quarter for the viewer's side
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.domain.pulse import COMMENT_REQUIRED_AT, DIVERGENCE_GAP, DUE_AFTER_DAYS
from tracker.reporting.pulse_chart import PulseSeries, pulse_chart_etag, pulse_chart_svg
from tracker.services import pulse as service
from tracker.services.errors import Forbidden
from tracker.services.pulse import PulseView
from tracker.web.auth import current_actor, request_info
from tracker.web.downloads import svg_response
from tracker.web.form_errors import attempt

blueprint = Blueprint("pulse", __name__)

Page = str | tuple[str, int]
SIDE_WORDS = {"buyer": "the buyer", "vendor": "the vendor"}
RATINGS = (
    ("5", "5 — excellent"),
    ("4", "4 — good"),
    ("3", "3 — fair"),
    ("2", "2 — poor"),
    ("1", "1 — in crisis"),
)


@blueprint.get("/contracts/<id:contract_id>/pulse")
def show(contract_id: int) -> str:
    """The pulse: chart, ratings by quarter, trends, divergence and what is due."""
    view = service.pulse_view(request_session(), current_actor(), contract_id)
    return _page(view, {}, {})[0]


@blueprint.get("/contracts/<id:contract_id>/pulse/chart.svg")
def chart(contract_id: int) -> Response:
    """Both sides' ratings by quarter, oldest first."""
    view = service.pulse_view(request_session(), current_actor(), contract_id)
    quarters = tuple(reversed(view.quarters))
    series = PulseSeries(
        f"Pulse of {view.contract.code}",
        tuple(q.label for q in quarters),
        tuple(q.buyer.rating if q.buyer else None for q in quarters),
        tuple(q.vendor.rating if q.vendor else None for q in quarters),
    )
    return svg_response(lambda: pulse_chart_svg(series), pulse_chart_etag(series))


@blueprint.post("/contracts/<id:contract_id>/pulse")
def rate(contract_id: int) -> Page | BaseResponse:
    """Rate the current quarter for the viewer's side (the side chosen, for staff of both)."""
    view = service.pulse_view(request_session(), current_actor(), contract_id)
    if not view.permissions.sides:
        raise Forbidden("only staff of the buyer or the vendor may rate the relationship")
    side = request.form.get("side") or None
    if side is None and len(view.permissions.sides) > 1:
        return _page(view, request.form, {"side": "choose the side you rate for"})
    outcome = attempt(
        lambda: service.rate_relationship(
            request_session(),
            current_actor(),
            contract_id,
            side=side,
            rating=request.form.get("rating"),
            comment=request.form.get("comment"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"Your rating of {view.current_label} is recorded.", "success")
        return redirect(url_for(".show", contract_id=contract_id), 303)
    return _page(view, request.form, outcome.errors)


def _page(view: PulseView, values: Mapping[str, Any], errors: dict[str, str]) -> tuple[str, int]:
    page = render_template(
        "pulse.html",
        view=view,
        contract=view.contract,
        values=values or {"rating": "4"},
        errors=errors,
        ratings=RATINGS,
        side_words=SIDE_WORDS,
        comment_at=COMMENT_REQUIRED_AT,
        divergence_gap=DIVERGENCE_GAP,
        due_days=DUE_AFTER_DAYS,
    )
    return page, 422 if errors else 200
