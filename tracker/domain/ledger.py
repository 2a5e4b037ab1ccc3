"""The reinvestment fund ledger (financial model spec, section 3).

Balances are derived from the postings, never stored on their own: for each
year, opening (the previous year's closing; 0 for year 1) + committed
+ adjusted - spent = closing. ``committed`` is R'_y once the year's actuals are
recorded and R_y before; ``adjusted`` is the sum of the year's adjustment
entries (signed, each with a reason); ``spent`` is the sum of the year's
initiative spending. Amounts are integers of minor units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class LedgerYear(NamedTuple):
    """One year of the fund: how the balance moved."""

    year: int
    opening: int
    committed: int
    adjusted: int
    spent: int
    closing: int
    #: Whether ``committed`` comes from recorded actuals (R') or the plan (R).
    from_actuals: bool


class FundPostings(NamedTuple):
    """What moves the fund in one year."""

    committed: int
    from_actuals: bool
    adjusted: int
    spent: int


def fund_ledger(postings: Sequence[FundPostings]) -> tuple[LedgerYear, ...]:
    """The ledger of years 1..N from each year's postings: closing(y) = opening(y+1)."""
    years: list[LedgerYear] = []
    balance = 0
    for year, posting in enumerate(postings, start=1):
        closing = balance + posting.committed + posting.adjusted - posting.spent
        years.append(
            LedgerYear(year, balance, posting.committed, posting.adjusted, posting.spent,
                       closing, posting.from_actuals)
        )  # fmt: skip
        balance = closing
    return tuple(years)


def ties_out(ledger: Sequence[LedgerYear]) -> bool:
    """Whether every year's arithmetic holds and each closing is the next opening."""
    previous = 0
    for line in ledger:
        if line.opening != previous:
            return False
        if line.opening + line.committed + line.adjusted - line.spent != line.closing:
            return False
        previous = line.closing
    return True


def newly_overdrawn(
    before: Sequence[LedgerYear], after: Sequence[LedgerYear], from_year: int
) -> tuple[int, ...]:
    """Years from ``from_year`` on whose closing balance a posting takes below zero, or
    further below it: such a posting must be an explicit pre-funding entry."""
    return tuple(
        new.year
        for old, new in zip(before, after, strict=True)
        if new.year >= from_year and new.closing < 0 and new.closing < old.closing
    )


def unspent_at_end(ledger: Sequence[LedgerYear]) -> int:
    """The balance left in the fund after the last year of the term (0 if none)."""
    return max(ledger[-1].closing, 0) if ledger else 0
