"""Pulse checks: each side rates the relationship from 1 to 5 once per calendar quarter.

- A period is a calendar quarter, named by its first day (2026-10-01 is 2026 Q4).
- Trend of a side: its last (up to) four ratings, oldest first. The direction compares
  the latest rating with the average of the ones before it (one to three of them):
  half a point or more above is *improving*, half a point or more below is
  *worsening*, anything closer is *stable*. With a single rating there is no direction.
- Divergence: in the latest quarter that both sides rated, ratings two or more points
  apart raise an alert.
- Pulse due: a side that has not rated the current quarter by the end of its 45th day
  is due (from the 46th day on). The days are counted from the contract's start
  when it began within the quarter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

LOWEST, HIGHEST = 1, 5
#: A rating at or below this needs a comment saying why.
COMMENT_REQUIRED_AT = 2
#: How many of a side's latest ratings its trend shows.
TREND_LENGTH = 4
#: How far the latest rating must lie from the average of the earlier ones to count as a move.
TREND_STEP = Fraction(1, 2)
#: Ratings this many points apart (or more) in the same quarter raise a divergence alert.
DIVERGENCE_GAP = 2
#: Days of a quarter (or of a contract begun within it) before a missing rating is due.
DUE_AFTER_DAYS = 45
SIDES = ("buyer", "vendor")


def quarter_of(day: date) -> date:
    """The first day of the calendar quarter holding ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(period: date) -> date:
    """The first day of the quarter after the one starting on ``period``."""
    month = period.month + 3
    return date(period.year + (month > 12), (month - 1) % 12 + 1, 1)


def quarter_end(period: date) -> date:
    """The last day of the quarter holding ``period``."""
    return next_quarter(quarter_of(period)) - timedelta(days=1)


def quarter_label(period: date) -> str:
    """How a quarter reads: 2026 Q4."""
    return f"{period.year} Q{(period.month - 1) // 3 + 1}"


def quarters_between(first: date, last: date) -> tuple[date, ...]:
    """Every quarter from the one holding ``first`` to the one holding ``last``."""
    periods = []
    period, end = quarter_of(first), quarter_of(last)
    while period <= end:
        periods.append(period)
        period = next_quarter(period)
    return tuple(periods)


@dataclass(frozen=True)
class Trend:
    """A side's latest ratings (oldest first) and where they are heading."""

    side: str
    ratings: tuple[tuple[date, int], ...]
    #: "improving", "stable", "worsening", or "" with fewer than two ratings.
    direction: str
    #: The latest rating minus the average of the earlier ones shown (0 without direction).
    change: Fraction

    @property
    def latest(self) -> int | None:
        """The side's latest rating, if any."""
        return self.ratings[-1][1] if self.ratings else None


def trend(side: str, ratings: Mapping[date, int]) -> Trend:
    """The trend of one side's ratings by period (see the module's rule)."""
    latest = tuple(sorted(ratings.items())[-TREND_LENGTH:])
    if len(latest) < 2:
        return Trend(side, latest, "", Fraction(0))
    earlier = [rating for _period, rating in latest[:-1]]
    change = latest[-1][1] - Fraction(sum(earlier), len(earlier))
    if change >= TREND_STEP:
        direction = "improving"
    elif change <= -TREND_STEP:
        direction = "worsening"
    else:
        direction = "stable"
    return Trend(side, latest, direction, change)


@dataclass(frozen=True)
class Divergence:
    """The two sides' ratings of one quarter, two or more points apart."""

    period: date
    buyer: int
    vendor: int

    @property
    def gap(self) -> int:
        """How many points apart the two ratings are."""
        return abs(self.buyer - self.vendor)

    @property
    def label(self) -> str:
        """The quarter as it reads: 2026 Q4."""
        return quarter_label(self.period)

    @property
    def lower_side(self) -> str:
        """The side that rates the relationship lower."""
        return "buyer" if self.buyer < self.vendor else "vendor"


def divergence(buyer: Mapping[date, int], vendor: Mapping[date, int]) -> Divergence | None:
    """The alert for the latest quarter both sides rated, when they are 2+ points apart."""
    both = sorted(buyer.keys() & vendor.keys())
    if not both:
        return None
    period = both[-1]
    found = Divergence(period, buyer[period], vendor[period])
    return found if found.gap >= DIVERGENCE_GAP else None


def pulse_due(rated: Sequence[date] | set[date], today: date, since: date) -> bool:
    """Whether a side that rated the quarters ``rated`` is due for the current quarter.

    ``since`` is the day the clock may start at the earliest (the contract's start)."""
    period = quarter_of(today)
    if period in rated or today < since:
        return False
    clock = max(period, since)
    return (today - clock).days + 1 > DUE_AFTER_DAYS


def needs_comment(rating: int) -> bool:
    """Whether a rating is low enough to need a comment."""
    return rating <= COMMENT_REQUIRED_AT
