"""A contract's lifecycle: the allowed moves, the notice and renewal days, the alerts ahead
of them, and the stored schedule after an amendment.

draft <-> negotiation -> signed -> onboarding -> active <-> renewal, and closed (expired
or terminated) from signed, onboarding, active or renewal. Pure: no database, no clock;
"today" is always a parameter.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tracker.domain.schedule import Schedule, Totals, YearFigures, net_present_value

#: Where a contract in each status may move next, in the order a page offers them.
MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("negotiation",),
    "negotiation": ("signed", "draft"),
    "signed": ("onboarding", "closed"),
    "onboarding": ("active", "closed"),
    "active": ("renewal", "closed"),
    "renewal": ("active", "closed"),
    "closed": (),
}
#: Why a contract closed.
CLOSED_REASONS = ("expired", "terminated")
#: Alerts show this many days ahead of a day.
ALERT_DAYS = 90
#: An alert this close (or passed) is urgent.
URGENT_DAYS = 30
#: Statuses whose notice and renewal days matter (the contract is signed and not closed).
RUNNING_STATUSES = frozenset({"signed", "onboarding", "active", "renewal"})


def allowed_moves(status: str) -> tuple[str, ...]:
    """The statuses a contract in ``status`` may move to."""
    return MOVES.get(status, ())


def is_allowed(from_status: str, to_status: str) -> bool:
    """Whether a contract may move from ``from_status`` to ``to_status``."""
    return to_status in allowed_moves(from_status)


def refused_move_message(from_status: str, to_status: str) -> str:
    """Why a move is refused, naming the moves that are allowed."""
    allowed = allowed_moves(from_status)
    options = f"it may move to {', '.join(allowed)}" if allowed else "it cannot move any more"
    return f"a {from_status} contract cannot move to {to_status}; {options}"


def closed_reason_problem(reason: str | None, effective_on: date, end_date: date) -> str | None:
    """What is wrong with the reason of a move to closed, or None when it is acceptable."""
    if reason not in CLOSED_REASONS:
        return f"expected one of {', '.join(CLOSED_REASONS)}"
    if reason == "expired" and effective_on < end_date:
        return (
            f"a contract expires on or after its end date ({end_date}); "
            "before it, the contract is terminated"
        )
    return None


def months_before(day: date, months: int) -> date:
    """``day`` moved back ``months`` months; a day past the end of a shorter month falls on
    its last day (31 August minus 6 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def notice_deadline(end_date: date, notice_months: int | None) -> date | None:
    """The last day to give notice: the end date minus the notice period; None without one."""
    return None if notice_months is None else months_before(end_date, notice_months)


def renewal_day(end_date: date, notice_months: int | None, renewal_on: date | None) -> date | None:
    """The day the parties decide on renewal: the agreed day, or else the notice deadline."""
    return renewal_on if renewal_on is not None else notice_deadline(end_date, notice_months)


@dataclass(frozen=True)
class Alert:
    """A day of the lifecycle coming up (or passed): what, when, how many days away."""

    kind: str  # "notice", "renewal" or "end"
    day: date
    #: Days from today to the day; negative once it has passed.
    days: int
    text: str

    @property
    def urgent(self) -> bool:
        """Whether the day has passed or is at most URGENT_DAYS away."""
        return self.days <= URGENT_DAYS


def lifecycle_alerts(
    status: str,
    end_date: date,
    notice_months: int | None,
    renewal_on: date | None,
    today: date,
    *,
    renewed: bool = False,
) -> tuple[Alert, ...]:
    """The alerts of a signed, not closed contract on ``today``, soonest first.

    "notice deadline in N days" and "renewal decision in N days" from ALERT_DAYS ahead,
    "... passed N days ago" afterwards unless the contract was renewed (its last move was
    renewal -> active); "ends in N days" from ALERT_DAYS ahead of the end date, and
    "ended N days ago" while it has not been closed."""
    if status not in RUNNING_STATUSES:
        return ()
    alerts = []
    deadline = notice_deadline(end_date, notice_months)
    days_named = [("notice", "notice deadline", deadline)]
    # Without a day of its own, the renewal decision is the notice deadline: one alert.
    if renewal_on is not None and renewal_on != deadline:
        days_named.append(("renewal", "renewal decision", renewal_on))
    for kind, label, day in days_named:
        if day is None:
            continue
        days = (day - today).days
        if 0 <= days <= ALERT_DAYS:
            alerts.append(Alert(kind, day, days, f"{label} {_in_days(days)}"))
        elif days < 0 and not renewed:
            alerts.append(Alert(kind, day, days, f"{label} passed {_days(-days)} ago"))
    days = (end_date - today).days
    if 0 <= days <= ALERT_DAYS:
        alerts.append(Alert("end", end_date, days, f"ends {_in_days(days)}"))
    elif days < 0:
        alerts.append(Alert("end", end_date, days, f"ended {_days(-days)} ago"))
    return tuple(sorted(alerts, key=lambda alert: (alert.day, alert.kind)))


def _in_days(days: int) -> str:
    return "today" if days == 0 else f"in {_days(days)}"


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def spliced_schedule(
    before: Schedule, after: Schedule, effective_year: int, discount_rate: Decimal
) -> Schedule:
    """The stored schedule after an amendment: the years before ``effective_year`` exactly
    as ``before`` has them, the later years as ``after`` (the new terms' schedule) has them.

    The running total of the reinvestment continues from the kept years, the totals are
    the sums of the years, and the NPV is that of the resulting net margins at the new
    terms' discount rate."""
    kept = [year for year in before.years if year.year < effective_year]
    cumulative = kept[-1].reinvest_cumulative if kept else 0
    taken: list[YearFigures] = []
    for year in after.years[effective_year - 1 :]:
        cumulative += year.reinvest
        taken.append(year._replace(reinvest_cumulative=cumulative))
    years = (*kept, *taken)
    sums = {key: sum(getattr(year, key) for year in years) for key in Totals._fields[:-1]}
    npv = net_present_value([year.net_margin for year in years], discount_rate)
    return Schedule(after.currency, years, Totals(**sums, npv_net_margin=npv))


def document_changes(before: object, after: object, path: str = "") -> tuple[Change, ...]:
    """Every value that differs between two terms documents, by path (cost.efficiency)."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in (*before, *(key for key in after if key not in before)):
            inner = f"{path}.{key}" if path else str(key)
            changes.extend(document_changes(before.get(key), after.get(key), inner))
        return tuple(changes)
    if before == after:
        return ()
    return (Change(path, _shown(before), _shown(after)),)


@dataclass(frozen=True)
class Change:
    """One value of the terms an amendment changed."""

    path: str
    before: str
    after: str


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {_shown(item)}" for key, item in value.items())
    return str(value)
