"""Governance rules: where an agreed action stands on a day, and whether the meetings keep
their rhythm (docs/governance.md holds the thresholds in plain words).

Everything here is computed on read from ``today``; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from tracker.domain.calendar import anniversary

#: An open action due within this many days (today included) is "due soon".
DUE_SOON_DAYS = 7
#: The kinds of meeting, as people read them.
KIND_LABELS = {
    "operational": "Operational meeting",
    "quarterly_review": "Quarterly review",
    "annual_review": "Annual review",
}


@dataclass(frozen=True)
class Cadence:
    """The rhythm expected of one kind of meeting, and when its absence raises an alert."""

    kind: str
    rhythm: str
    #: The usual number of days between two meetings of this kind.
    every_days: int
    #: Days without one (since the last, or since the contract's start) before an alert;
    #: for the annual review, days after the end of a contract year.
    alert_after_days: int


#: Operational meetings monthly (alert after 40 days: a month and some slack), quarterly
#: reviews every quarter (alert after 100 days: a quarter and about a week), an annual
#: review after each contract year (alert 45 days after the year's end).
CADENCES = {
    "operational": Cadence("operational", "monthly", 30, 40),
    "quarterly_review": Cadence("quarterly_review", "every quarter", 91, 100),
    "annual_review": Cadence("annual_review", "yearly, after each contract year", 365, 45),
}
#: Meetings that count as the quarter's review: an annual review is the fourth one.
_QUARTERLY_KINDS = frozenset({"quarterly_review", "annual_review"})


@dataclass(frozen=True)
class ActionState:
    """Where an action stands on a day: done, dropped, overdue, due_soon or open."""

    state: str
    #: Days past the due day (overdue actions only, else 0).
    days_overdue: int
    #: Days left until the due day (open and due-soon actions only).
    days_left: int | None

    @property
    def overdue(self) -> bool:
        """Whether the action is still open after its due day."""
        return self.state == "overdue"

    @property
    def is_open(self) -> bool:
        """Whether the action still has to be done (overdue and due-soon ones included)."""
        return self.state in {"open", "due_soon", "overdue"}

    @property
    def label(self) -> str:
        """How the state reads on a page."""
        if self.state == "overdue":
            return f"overdue by {_days(self.days_overdue)}"
        if self.state == "due_soon":
            return "due today" if self.days_left == 0 else f"due in {_days(self.days_left or 0)}"
        return self.state


def action_state(status: str, due_on: date, today: date) -> ActionState:
    """The state of an action with ``status`` (open, done, dropped) due on ``due_on``."""
    if status in {"done", "dropped"}:
        return ActionState(status, 0, None)
    left = (due_on - today).days
    if left < 0:
        return ActionState("overdue", -left, None)
    if left <= DUE_SOON_DAYS:
        return ActionState("due_soon", 0, left)
    return ActionState("open", 0, left)


def open_action_order(due_on: date, action_id: int) -> tuple[date, int]:
    """The order of open actions: the most overdue first, then by due day (overdue ones
    are exactly those due before today, so the due day alone puts them first)."""
    return (due_on, action_id)


class HeldMeeting(Protocol):
    """What the rhythm rules need of a meeting."""

    @property
    def kind(self) -> str: ...

    @property
    def held_on(self) -> date: ...


@dataclass(frozen=True)
class CadenceAlert:
    """A gap in the governance rhythm: which kind, how many days, and the message."""

    code: str
    kind: str
    days: int
    message: str


def cadence_alerts(
    meetings: Iterable[HeldMeeting],
    start_date: date,
    today: date,
    *,
    end_date: date | None = None,
) -> tuple[CadenceAlert, ...]:
    """The alerts of a contract's meeting rhythm on ``today``: annual review first, then
    the quarterly review, then the operational meeting.

    Only meetings held by ``today`` count (planned ones have not happened yet). Before
    the contract's start nothing is due; after its ``end_date`` only the last year's
    annual review may still be due."""
    if today < start_date:
        return ()
    held = [meeting for meeting in meetings if meeting.held_on <= today]
    alerts: list[CadenceAlert] = []
    annual = _annual_review_alert(held, start_date, today, end_date)
    if annual is not None:
        alerts.append(annual)
    if end_date is not None and today > end_date:
        return tuple(alerts)
    quarterly = _gap_alert(
        [m.held_on for m in held if m.kind in _QUARTERLY_KINDS], start_date, today,
        CADENCES["quarterly_review"], "no quarterly review",
    )  # fmt: skip
    operational = _gap_alert(
        [m.held_on for m in held if m.kind == "operational"], start_date, today,
        CADENCES["operational"], "no operational meeting",
    )  # fmt: skip
    alerts += [alert for alert in (quarterly, operational) if alert is not None]
    return tuple(alerts)


def _gap_alert(
    days_held: list[date], start_date: date, today: date, cadence: Cadence, what: str
) -> CadenceAlert | None:
    # A meeting before the start (a kick-off while signing) does not start the clock.
    last = max([*days_held, start_date])
    gap = (today - last).days
    if gap <= cadence.alert_after_days:
        return None
    since = "since the contract's start" if last == start_date else f"since {last.isoformat()}"
    return CadenceAlert(
        f"{cadence.kind}_missing", cadence.kind, gap, f"{what} for {_days(gap)} ({since})"
    )


def _annual_review_alert(
    held: list[HeldMeeting], start_date: date, today: date, end_date: date | None
) -> CadenceAlert | None:
    """The latest contract year that ended more than the grace period ago, when no
    annual review was held after its end."""
    grace = CADENCES["annual_review"].alert_after_days
    year, ended = _latest_year_ended_before(start_date, today - timedelta(days=grace), end_date)
    if ended is None:
        return None
    if any(m.kind == "annual_review" and m.held_on > ended for m in held):
        return None
    days = (today - ended).days
    return CadenceAlert(
        "annual_review_due",
        "annual_review",
        days,
        f"annual review due: contract year {year} ended {_days(days)} ago "
        f"({ended.isoformat()}) and has had no annual review since",
    )


def _latest_year_ended_before(
    start_date: date, day: date, end_date: date | None
) -> tuple[int, date | None]:
    """(n, last day of contract year n) of the latest year ended before ``day``."""
    year, ended = 0, None
    while True:
        last_day = anniversary(start_date, year + 1) - timedelta(days=1)
        if last_day >= day or (end_date is not None and last_day > end_date):
            return year, ended
        year, ended = year + 1, last_day


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"
