"""The onboarding plan's rules: the 100-day template, each milestone's state on a given
day, and the summary of a contract's plan.

Day 0 is the day the contract was signed when it is known, else its start date. A
milestone is late once its due day has passed without it being done (or dropped); it is
due soon from seven days before its due day to the due day itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.domain.calendar import anniversary

#: The length of the onboarding period, in days after day 0.
ONBOARDING_DAYS = 100
#: A milestone is "due soon" when its due day is at most this many days away.
DUE_SOON_DAYS = 7
OWNER_SIDES = ("buyer", "vendor")
STATUSES = ("planned", "in_progress", "done", "dropped")
#: The states a milestone can be in on a given day, worst first.
STATES = ("late", "due soon", "on track", "done", "dropped")
#: Where a milestone may go from each status ("planned" again reopens it).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "planned": ("in_progress", "done", "dropped"),
    "in_progress": ("planned", "done", "dropped"),
    "done": ("planned", "in_progress"),
    "dropped": ("planned",),
}


@dataclass(frozen=True)
class TemplateStep:
    """One milestone of the 100-day template: a key, what is to be achieved, who owns it,
    and its due day counted from day 0."""

    key: str
    title: str
    owner_side: str
    day: int


#: A service transition over the first 100 days, in the order the milestones fall due.
TEMPLATE: tuple[TemplateStep, ...] = (
    TemplateStep("kickoff", "Kick-off meeting held with both teams", "buyer", 0),
    TemplateStep("charter", "Governance charter agreed (forums, roles, escalation)", "vendor", 0),
    TemplateStep("plan", "Joint onboarding plan agreed", "vendor", 7),
    TemplateStep("access", "Access and accounts for the delivery team", "buyer", 14),
    TemplateStep("knowledge_transfer", "Knowledge transfer complete", "vendor", 21),
    TemplateStep("baseline", "Baseline measurements agreed", "buyer", 30),
    TemplateStep("first_operational", "First operational meeting", "vendor", 30),
    TemplateStep("service_live", "Service live for the first sites and users", "vendor", 45),
    TemplateStep("first_pulse", "First pulse check of the relationship", "buyer", 60),
    TemplateStep("first_kpi_report", "First KPI report", "vendor", 60),
    TemplateStep("stabilisation", "Stabilisation review", "vendor", 75),
    TemplateStep("first_quarterly", "First quarterly review", "buyer", 90),
    TemplateStep("closed", "Onboarding closed: exit criteria met", "buyer", 100),
)


@dataclass(frozen=True)
class PlannedMilestone:
    """A template step placed on the calendar."""

    key: str
    title: str
    owner_side: str
    due_on: date


@dataclass(frozen=True)
class MilestoneState:
    """What a milestone's status and due day mean on a given day."""

    #: One of STATES.
    kind: str
    #: Days past the due day (late milestones), else 0.
    days_late: int = 0
    #: Days until the due day (due soon and on track), else 0.
    days_left: int = 0

    @property
    def label(self) -> str:
        """The state as a person reads it: "late by 3 days", "due in 2 days"."""
        if self.kind == "late":
            return f"late by {_days(self.days_late)}"
        if self.kind == "due soon":
            return "due today" if self.days_left == 0 else f"due in {_days(self.days_left)}"
        return self.kind


@dataclass(frozen=True)
class OnboardingSummary:
    """A contract's onboarding plan in figures, on a given day."""

    total: int
    done: int
    dropped: int
    late: int
    due_soon: int
    #: Days since day 0 (negative before it); None when day 0 is unknown.
    days_since_signature: int | None
    #: Whether the day lies within the first 100 days (day 0 to day 100 included).
    in_first_100_days: bool

    @property
    def open(self) -> int:
        """Milestones neither done nor dropped."""
        return self.total - self.done - self.dropped

    @property
    def percent_done(self) -> int:
        """Done milestones as a whole percentage of those not dropped (100 for none)."""
        counted = self.total - self.dropped
        return 100 if counted == 0 else self.done * 100 // counted


def day_zero(signed_on: date | None, start_date: date) -> date:
    """The first day after the signature that the service runs: the signature day, or the
    start of the term when the contract was signed before it (or the signature is not
    recorded). The onboarding period and the "valley" count from it."""
    return max(signed_on, start_date) if signed_on is not None else start_date


def planned_template(start_on: date) -> tuple[PlannedMilestone, ...]:
    """The template's milestones with their due days counted from ``start_on``."""
    return tuple(
        PlannedMilestone(step.key, step.title, step.owner_side, start_on + timedelta(days=step.day))
        for step in TEMPLATE
    )


def milestone_state(status: str, due_on: date, today: date) -> MilestoneState:
    """The state of a milestone with ``status`` due on ``due_on``, as of ``today``."""
    if status in {"done", "dropped"}:
        return MilestoneState(status)
    left = (due_on - today).days
    if left < 0:
        return MilestoneState("late", days_late=-left)
    if left <= DUE_SOON_DAYS:
        return MilestoneState("due soon", days_left=left)
    return MilestoneState("on track", days_left=left)


def onboarding_summary(
    milestones: Iterable[tuple[str, date]], start: date | None, today: date
) -> OnboardingSummary:
    """The figures of a plan whose milestones are (status, due day) pairs, day 0 ``start``."""
    states = [milestone_state(status, due_on, today).kind for status, due_on in milestones]
    since = None if start is None else (today - start).days
    return OnboardingSummary(
        total=len(states),
        done=states.count("done"),
        dropped=states.count("dropped"),
        late=states.count("late"),
        due_soon=states.count("due soon"),
        days_since_signature=since,
        in_first_100_days=since is not None and 0 <= since <= ONBOARDING_DAYS,
    )


def date_window(start_date: date, end_date: date) -> tuple[date, date]:
    """The days a milestone may fall on: a year before the contract's start to a year
    after its end."""
    return anniversary(start_date, -1), anniversary(end_date, 1)


def may_move(status: str, to: str) -> bool:
    """Whether a milestone with ``status`` may be moved to ``to``."""
    return to in TRANSITIONS.get(status, ())


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def lateness_rank(days_late: Iterable[int]) -> tuple[int, int]:
    """A sort key that puts the plan with the most late milestones first, then the one
    whose worst milestone is the most days late."""
    late = [days for days in days_late if days > 0]
    return -len(late), -max(late, default=0)
