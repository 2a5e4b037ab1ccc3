"""Contract years: from one anniversary of the start date to the day before the next."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

_ONE_DAY = timedelta(days=1)


def anniversary(start: date, years: int) -> date:
    """The ``years``-th anniversary of ``start``; 29 February falls on 28 February in
    non-leap years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a non-leap year
        return start.replace(year=start.year + years, day=28)


def contract_year_bounds(start: date, year: int) -> tuple[date, date]:
    """First and last day of contract year ``year`` (1-based)."""
    return anniversary(start, year - 1), anniversary(start, year) - _ONE_DAY


@lru_cache(maxsize=8192)
def contract_years(start: date, count: int) -> tuple[tuple[date, date], ...]:
    """First and last day of each of the first ``count`` contract years.

    Cached: contracts of a portfolio mostly start on a handful of dates.
    """
    anniversaries = [anniversary(start, years) for years in range(count + 1)]
    return tuple((anniversaries[i], anniversaries[i + 1] - _ONE_DAY) for i in range(count))
