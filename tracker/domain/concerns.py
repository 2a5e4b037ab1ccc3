"""Concerns on a given day: open, in progress or resolved; overdue; how far to escalate.

A concern not resolved by its due day is overdue from the day after. How far it is
escalated depends on how late it is and how severe:

| level | escalate to                     | when the concern is overdue and ...          |
|-------|---------------------------------|----------------------------------------------|
| 0     | nobody                          | (it is not overdue, or it is resolved)       |
| 1     | the operational meeting         | always                                       |
| 2     | the quarterly review (sponsors) | it is more than 14 days late, or it is high  |
| 3     | the executive sponsors          | it is more than 30 days late, or it is critical |

The highest level that applies wins: a critical concern one day late is level 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CATEGORY_LABELS = {
    "decision_doubt": "Doubt about the decision",
    "delivery_problem": "Delivery problem",
    "launch_difficulty": "Launch difficulty",
    "commercial": "Commercial",
    "other": "Other",
}
SEVERITY_ORDER = ("low", "medium", "high", "critical")
STATUS_LABELS = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved"}
#: Days late beyond which an overdue concern goes to the quarterly review (level 2).
SPONSOR_DAYS = 14
#: Days late beyond which an overdue concern goes to the executive sponsors (level 3).
EXECUTIVE_DAYS = 30
ESCALATIONS = {
    0: "",
    1: "escalate to the operational meeting",
    2: "escalate to the quarterly review (sponsors)",
    3: "escalate to the executive sponsors",
}
#: Where a concern may be moved from each status (reopening needs a reason).
MOVES = {
    "open": ("in_progress", "resolved"),
    "in_progress": ("resolved",),
    "resolved": ("open",),
}


@dataclass(frozen=True)
class ConcernState:
    """What a concern's dates and severity mean on one day."""

    status: str
    overdue: bool
    days_overdue: int
    escalation: int

    @property
    def resolved(self) -> bool:
        """Whether the concern is resolved."""
        return self.status == "resolved"

    @property
    def escalation_text(self) -> str:
        """Where to escalate it, in words ("" when it needs no escalation)."""
        return ESCALATIONS[self.escalation]


def escalation_level(severity: str, days_overdue: int) -> int:
    """The escalation level (0-3) of a concern ``days_overdue`` late (0: not overdue)."""
    if days_overdue <= 0:
        return 0
    if severity == "critical" or days_overdue > EXECUTIVE_DAYS:
        return 3
    if severity == "high" or days_overdue > SPONSOR_DAYS:
        return 2
    return 1


def concern_state(*, status: str, severity: str, due_on: date, today: date) -> ConcernState:
    """The concern's state on ``today``: overdue when not resolved and due before today."""
    if status == "resolved":
        return ConcernState(status, overdue=False, days_overdue=0, escalation=0)
    late = max((today - due_on).days, 0)
    return ConcernState(status, late > 0, late, escalation_level(severity, late))


def severity_rank(severity: str) -> int:
    """0 for low up to 3 for critical (unknown values rank lowest)."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -1


def register_order(
    state: ConcernState, severity: str, due_on: date, resolved_on: date | None, concern_id: int
) -> tuple[int, int, int, int, int]:
    """The sort key of the register: open ones first, most escalated, then most severe,
    then soonest due; resolved ones after, most recently resolved first."""
    if state.resolved:
        day = (resolved_on or due_on).toordinal()
        return (1, 0, 0, -day, -concern_id)
    return (0, -state.escalation, -severity_rank(severity), due_on.toordinal(), concern_id)


def allowed_moves(status: str) -> tuple[str, ...]:
    """The statuses a concern in ``status`` may be moved to."""
    return MOVES.get(status, ())
