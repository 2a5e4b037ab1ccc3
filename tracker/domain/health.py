"""A contract's health: one score from 0 to 100 and the alerts that explain it.

The score starts at 100 and each sign of trouble takes points off, capped per kind so
that one kind alone cannot sink a contract:

| sign | points off | cap |
|---|---|---|
| a KPI missed in the latest year with results / near its target | 8 / 3 each | 30 |
| an open concern: critical / high / medium / low | 20 / 10 / 5 / 2 each | 40 |
| an open concern overdue (on top of the above) | 5 each | 15 |
| a governance action overdue or an onboarding milestone late | 4 each | 20 |
| the latest pulse of a side: 1 / 2 / 3 | 15 / 10 / 3 | — |
| a side's pulse worsening (tracker.domain.pulse.trend) | 5 | — |
| the two sides 2 points or more apart in the latest quarter both rated | 10 | — |
| the fund holding more than half of what was committed so far | 5 | — |
| money left in the fund at the end of the term | 10 | — |
| an account-map red flag (the vendor's view only) | 3 each | 15 |

The vendor's score includes its account map's red flags; everyone else's leaves them
out, so the buyer never learns of the map from the score. Bands: 75 and above
**healthy**, 50 to 74 **watch**, below 50 **at risk**. A contract in its first 100 days
with a score below 75 is **in the valley**: the fragile months after signing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Points off per open concern, by severity.
CONCERN_POINTS = {"critical": 20, "high": 10, "medium": 5, "low": 2}
PULSE_POINTS = {1: 15, 2: 10, 3: 3}
HEALTHY, WATCH = 75, 50
#: The first days after signing that count as the valley of death.
VALLEY_DAYS = 100


@dataclass(frozen=True)
class HealthInputs:
    """What the score is made of, counted on one day."""

    kpis_missed: int = 0
    kpis_near: int = 0
    kpis_measured: int = 0
    concerns_open: Mapping[str, int] = field(default_factory=dict)
    concerns_overdue: int = 0
    actions_overdue: int = 0
    milestones_late: int = 0
    pulse_buyer: int | None = None
    pulse_vendor: int | None = None
    pulse_worsening: tuple[str, ...] = ()
    #: (buyer, vendor) ratings of the latest quarter both rated, when 2+ points apart.
    pulse_gap: tuple[int, int] | None = None
    unspent_over_half: bool = False
    unspent_at_end: bool = False
    red_flags: int = 0
    days_since_signature: int | None = None


@dataclass(frozen=True)
class Alert:
    """One reason the score is lower, with the points it costs."""

    kind: str
    text: str
    points: int
    vendor_only: bool = False


@dataclass(frozen=True)
class Health:
    """The score for everyone, the vendor's score, and the alerts behind them."""

    score: int
    vendor_score: int
    alerts: tuple[Alert, ...]
    in_first_days: bool

    def score_for(self, vendor: bool) -> int:
        """The score a reader of the vendor side (True) or any other reader sees."""
        return self.vendor_score if vendor else self.score

    def alerts_for(self, vendor: bool) -> tuple[Alert, ...]:
        """The alerts a reader sees (the account map's only on the vendor side)."""
        return tuple(alert for alert in self.alerts if vendor or not alert.vendor_only)

    def in_valley(self, vendor: bool) -> bool:
        """In the first 100 days and not healthy."""
        return self.in_first_days and self.score_for(vendor) < HEALTHY


def band(score: int) -> str:
    """healthy, watch or at risk."""
    if score >= HEALTHY:
        return "healthy"
    return "watch" if score >= WATCH else "at risk"


def health(inputs: HealthInputs) -> Health:
    """The score and its alerts."""
    alerts = [*_kpi_alerts(inputs), *_concern_alerts(inputs), *_follow_up_alerts(inputs)]
    alerts += [*_pulse_alerts(inputs), *_fund_alerts(inputs)]
    shared = max(0, 100 - sum(alert.points for alert in alerts))
    if inputs.red_flags:
        flags = Alert(
            "red_flags",
            _count(inputs.red_flags, "red flag") + " on the account map",
            min(15, 3 * inputs.red_flags),
            vendor_only=True,
        )
        alerts.append(flags)
    vendor = max(0, 100 - sum(alert.points for alert in alerts))
    first_days = (
        inputs.days_since_signature is not None and 0 <= inputs.days_since_signature < VALLEY_DAYS
    )
    ordered = tuple(sorted(alerts, key=lambda alert: -alert.points))
    return Health(shared, vendor, ordered, first_days)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _kpi_alerts(inputs: HealthInputs) -> list[Alert]:
    if not (inputs.kpis_missed or inputs.kpis_near):
        return []
    points = min(30, 8 * inputs.kpis_missed + 3 * inputs.kpis_near)
    parts = []
    if inputs.kpis_missed:
        parts.append(f"{_count(inputs.kpis_missed, 'KPI')} missed")
    if inputs.kpis_near:
        parts.append(f"{inputs.kpis_near} near target")
    text = ", ".join(parts) + f" of {inputs.kpis_measured} measured"
    return [Alert("kpis", text, points)]


def _concern_alerts(inputs: HealthInputs) -> list[Alert]:
    alerts = []
    open_points = sum(
        CONCERN_POINTS.get(severity, 0) * number
        for severity, number in inputs.concerns_open.items()
    )
    if open_points:
        shown = ", ".join(
            f"{number} {severity}"
            for severity in CONCERN_POINTS
            if (number := inputs.concerns_open.get(severity, 0))
        )
        alerts.append(Alert("concerns", f"open concerns: {shown}", min(40, open_points)))
    if inputs.concerns_overdue:
        text = f"{_count(inputs.concerns_overdue, 'concern')} overdue"
        alerts.append(Alert("concerns_overdue", text, min(15, 5 * inputs.concerns_overdue)))
    return alerts


def _follow_up_alerts(inputs: HealthInputs) -> list[Alert]:
    late = inputs.actions_overdue + inputs.milestones_late
    if not late:
        return []
    parts = []
    if inputs.actions_overdue:
        parts.append(f"{_count(inputs.actions_overdue, 'action')} overdue")
    if inputs.milestones_late:
        parts.append(f"{_count(inputs.milestones_late, 'onboarding milestone')} late")
    return [Alert("overdue", ", ".join(parts), min(20, 4 * late))]


def _pulse_alerts(inputs: HealthInputs) -> list[Alert]:
    alerts = []
    for side, rating in (("buyer", inputs.pulse_buyer), ("vendor", inputs.pulse_vendor)):
        if rating is not None and rating in PULSE_POINTS:
            text = f"the {side} rates the relationship {rating} of 5"
            alerts.append(Alert(f"pulse_{side}", text, PULSE_POINTS[rating]))
    for side in inputs.pulse_worsening:
        alerts.append(Alert(f"pulse_trend_{side}", f"the {side}'s pulse is worsening", 5))
    if inputs.pulse_gap is not None:
        buyer, vendor = inputs.pulse_gap
        text = f"the two sides see the relationship differently (buyer {buyer}, vendor {vendor})"
        alerts.append(Alert("pulse_divergence", text, 10))
    return alerts


def _fund_alerts(inputs: HealthInputs) -> list[Alert]:
    alerts = []
    if inputs.unspent_over_half:
        text = "the fund holds more than half of what was committed so far"
        alerts.append(Alert("fund_unspent", text, 5))
    if inputs.unspent_at_end:
        alerts.append(
            Alert("fund_unspent_at_end", "money left in the fund at the end of the term", 10)
        )
    return alerts
