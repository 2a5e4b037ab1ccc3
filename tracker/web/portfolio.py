"""The portfolio page: every contract, searched, filtered, sorted and paged."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from tracker.db.models import STATUSES
from tracker.db.session import request_session
from tracker.services.portfolio import PER_PAGE_CHOICES, PortfolioQuery, portfolio_page
from tracker.web.auth import current_actor

blueprint = Blueprint("portfolio", __name__)


@blueprint.get("/")
def index() -> str:
    """The portfolio; every parameter is optional and out-of-range values fall back."""
    args = request.args
    query = PortfolioQuery(
        search=args.get("q", ""),
        party_id=args.get("party", type=int),
        status=args.get("status") or None,
        archived=args.get("archived") == "1",
        sort=args.get("sort", "name"),
        descending=args.get("dir") == "desc",
        page=args.get("page", 1, type=int) or 1,
        per_page=args.get("per_page", 25, type=int) or 25,
    )
    page = portfolio_page(request_session(), current_actor(), query)
    return render_template(
        "portfolio.html", page=page, statuses=STATUSES, per_page_choices=PER_PAGE_CHOICES
    )
