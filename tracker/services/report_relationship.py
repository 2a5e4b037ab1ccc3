"""The relationship section of an annual report: the year's concerns, pulse checks and
governance, as they stood at the end of the year.

Only what is dated within the year counts (concerns raised, quarters rated, meetings
held), and each is taken as it stood on the year's last day (a concern resolved after
it is still open here), so that the section of a closed year does not move as the
next year's follow-up comes in.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.followup_models import (
    SEVERITIES,
    Concern,
    Meeting,
    MeetingAction,
    PulseCheck,
)
from tracker.domain.money import round_half_away
from tracker.services.delivery_views import DeliveryView
from tracker.services.report_document import report_document


def relationship_section(
    session: Session, contract_id: int, start: date, end: date
) -> dict[str, Any] | None:
    """The section's content, or None when nothing of the follow-up falls in the year."""
    concerns = list(
        session.execute(
            select(
                Concern.title, Concern.category, Concern.severity, Concern.raised_by_side,
                Concern.raised_on, Concern.resolved_on, Concern.due_on,
            )
            .where(Concern.contract_id == contract_id, Concern.raised_on.between(start, end))
            .order_by(Concern.raised_on, Concern.id)
        )
    )  # fmt: skip
    ratings = list(
        session.execute(
            select(PulseCheck.period, PulseCheck.side, PulseCheck.rating)
            .where(PulseCheck.contract_id == contract_id, PulseCheck.period.between(start, end))
            .order_by(PulseCheck.period, PulseCheck.side)
        )
    )
    meetings = list(
        session.execute(
            select(Meeting.id, Meeting.kind, Meeting.held_on, Meeting.title)
            .where(Meeting.contract_id == contract_id, Meeting.held_on.between(start, end))
            .order_by(Meeting.held_on, Meeting.id)
        )
    )
    actions = list(
        session.execute(
            select(MeetingAction.status, MeetingAction.done_on, MeetingAction.due_on).where(
                MeetingAction.meeting_id.in_([meeting.id for meeting in meetings])
            )
        )
    )
    if not (concerns or ratings or meetings):
        return None
    return {
        "concerns": _concerns(concerns, end),
        "pulse": _pulse(ratings),
        "governance": _governance(meetings, actions, end),
    }


def _concerns(rows: list[Any], end: date) -> dict[str, Any]:
    open_at_end = [row for row in rows if row.resolved_on is None or row.resolved_on > end]
    severity = Counter(row.severity for row in rows)
    return {
        "raised": len(rows),
        "by_buyer": sum(row.raised_by_side == "buyer" for row in rows),
        "by_vendor": sum(row.raised_by_side == "vendor" for row in rows),
        "by_severity": {name: severity[name] for name in SEVERITIES if severity[name]},
        "resolved": len(rows) - len(open_at_end),
        "open_at_end": [
            {
                "title": row.title,
                "severity": row.severity,
                "category": row.category,
                "raised_by": row.raised_by_side,
                "raised_on": row.raised_on.isoformat(),
                "overdue": row.due_on < end,
            }
            for row in open_at_end
        ],
    }


def _pulse(rows: list[Any]) -> dict[str, Any]:
    quarters: dict[str, dict[str, int]] = {}
    for row in rows:
        quarters.setdefault(row.period.isoformat(), {})[row.side] = row.rating
    averages: dict[str, str | None] = {}
    for side in ("buyer", "vendor"):
        values = [row.rating for row in rows if row.side == side]
        averages[side] = (
            None
            if not values
            else str(round_half_away(Decimal(sum(values)) / len(values), Decimal("0.1")))
        )
    return {
        "quarters": [{"period": period, **ratings} for period, ratings in quarters.items()],
        "average_buyer": averages["buyer"],
        "average_vendor": averages["vendor"],
        "diverged": [
            period
            for period, ratings in quarters.items()
            if len(ratings) == 2 and abs(ratings["buyer"] - ratings["vendor"]) >= 2
        ],
    }


def _governance(meetings: list[Any], actions: list[Any], end: date) -> dict[str, Any]:
    done = still_open = overdue = 0
    for row in actions:
        if row.done_on is not None and row.done_on <= end:
            done += 1
        elif row.status != "dropped":
            still_open += 1
            overdue += row.due_on < end
    return {
        "meetings": [
            {"kind": row.kind, "held_on": row.held_on.isoformat(), "title": row.title}
            for row in meetings
        ],
        "actions": len(actions),
        "actions_done": done,
        "actions_open_at_end": still_open,
        "actions_overdue_at_end": overdue,
    }


def full_report_document(session: Session, view: DeliveryView, year: int) -> dict[str, Any]:
    """The report document of a year with its relationship section, read in the caller's
    transaction."""
    plan = view.year(year).plan
    section = relationship_section(session, view.contract_id, plan.start, plan.end)
    return report_document(view, year, section)
