"""The follow-up of a contract after the signature: its health and the way to each part
(lifecycle, onboarding, concerns, pulse, governance, the account map)."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker.db.session import request_session
from tracker.services.follow_up import follow_up_view
from tracker.web.auth import current_actor

blueprint = Blueprint("followup", __name__, url_prefix="/contracts")

#: The parts of the follow-up: (endpoint taking contract_id, title, what it holds).
PARTS = (
    ("lifecycle.show", "Lifecycle and amendments",
     "status, the moves that led to it, notice period and renewal date, amendments"),
    ("onboarding.plan", "Onboarding plan",
     "the milestones of the first 100 days, owner side, due date, what is late"),
    ("concerns.register", "Concerns", "raised by either side, severity, owner, escalation"),
    ("pulse.show", "Pulse checks",
     "each side rates the relationship every quarter; the trend and the gap between sides"),
    ("meetings.index", "Governance", "meetings, decisions and actions, and what is overdue"),
    ("account_map.show", "Account map",
     "buying influences, alternatives, red flags and the action plan (the vendor's)"),
)  # fmt: skip


@blueprint.get("/<id:contract_id>/follow-up")
def overview(contract_id: int) -> str:
    """The contract's health, its alerts, and where it stands in its first 100 days."""
    view = follow_up_view(request_session(), current_actor(), contract_id)
    # The account map is the vendor's: the buyer reaches it only once it is shared.
    parts = [
        part
        for part in PARTS
        if part[0] != "account_map.show" or view.vendor_reader or view.map_shared
    ]
    return render_template("followup.html", view=view, parts=parts)
