"""The reinvestment fund's ledger (financial model spec, section 3), worked out by hand.

opening + committed + adjusted - spent = closing, and each year's closing is the
next year's opening (0 for year 1). Amounts are integers of cents.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.ledger import (
    FundPostings,
    LedgerYear,
    fund_ledger,
    newly_overdrawn,
    ties_out,
    unspent_at_end,
)

PROPERTIES = settings(max_examples=300, deadline=None, derandomize=True, database=None)

#: R'_1 = 25,000.00 from actuals; R_2 = 40,180.00 and R_3 = 60,549.62 from the plan.
POSTINGS = [
    FundPostings(committed=2_500_000, from_actuals=True, adjusted=0, spent=500_000),
    FundPostings(committed=4_018_000, from_actuals=False, adjusted=-100_000, spent=7_000_000),
    FundPostings(committed=6_054_962, from_actuals=False, adjusted=25_000, spent=0),
]


def test_each_year_opens_with_the_previous_closing_and_year_one_with_zero() -> None:
    ledger = fund_ledger(POSTINGS)
    assert ledger == (
        # 0 + 25,000.00 + 0 - 5,000.00 = 20,000.00
        LedgerYear(1, 0, 2_500_000, 0, 500_000, 2_000_000, True),
        # 20,000.00 + 40,180.00 - 1,000.00 - 70,000.00 = -10,820.00 (pre-funded)
        LedgerYear(2, 2_000_000, 4_018_000, -100_000, 7_000_000, -1_082_000, False),
        # -10,820.00 + 60,549.62 + 250.00 - 0 = 49,979.62
        LedgerYear(3, -1_082_000, 6_054_962, 25_000, 0, 4_997_962, False),
    )
    assert ties_out(ledger)


def test_an_empty_ledger_ties_out_and_leaves_nothing_unspent() -> None:
    assert fund_ledger([]) == ()
    assert ties_out(())
    assert unspent_at_end(()) == 0


def test_a_ledger_whose_chain_is_broken_does_not_tie_out() -> None:
    ledger = list(fund_ledger(POSTINGS))
    # Year 2 opening with something other than year 1's closing.
    broken = [ledger[0], ledger[1]._replace(opening=1_999_999), ledger[2]]
    assert not ties_out(broken)
    # Year 1 opening with a balance that came from nowhere.
    assert not ties_out([ledger[0]._replace(opening=1, closing=2_000_001), *ledger[1:]])


def test_a_year_whose_arithmetic_is_wrong_does_not_tie_out() -> None:
    ledger = list(fund_ledger(POSTINGS))
    for field in ("committed", "adjusted", "spent", "closing"):
        changed = ledger[1]._replace(**{field: getattr(ledger[1], field) + 1})
        assert not ties_out([ledger[0], changed, ledger[2]]), field


def test_unspent_at_end_is_the_last_closing_balance_when_positive() -> None:
    assert unspent_at_end(fund_ledger(POSTINGS)) == 4_997_962
    overdrawn = fund_ledger([FundPostings(100, True, 0, 250)])
    assert overdrawn[-1].closing == -150
    assert unspent_at_end(overdrawn) == 0
    assert unspent_at_end(fund_ledger([FundPostings(100, True, 0, 100)])) == 0


def spend(postings: list[FundPostings], year: int, amount: int) -> list[FundPostings]:
    """The postings with ``amount`` more spent in ``year``."""
    changed = list(postings)
    changed[year - 1] = changed[year - 1]._replace(spent=changed[year - 1].spent + amount)
    return changed


def adjust(postings: list[FundPostings], year: int, amount: int) -> list[FundPostings]:
    """The postings with an adjustment of ``amount`` in ``year``."""
    changed = list(postings)
    changed[year - 1] = changed[year - 1]._replace(adjusted=changed[year - 1].adjusted + amount)
    return changed


PLAIN = [
    FundPostings(2_500_000, True, 0, 0),  # closes 25,000.00
    FundPostings(4_018_000, False, 0, 0),  # closes 65,180.00
    FundPostings(6_054_962, False, 0, 0),  # closes 125,729.62
]


def test_spending_within_the_balance_overdraws_nothing() -> None:
    before = fund_ledger(PLAIN)
    assert newly_overdrawn(before, fund_ledger(spend(PLAIN, 1, 2_500_000)), 1) == ()


def test_spending_one_cent_more_than_the_balance_overdraws_that_year() -> None:
    before = fund_ledger(PLAIN)
    after = fund_ledger(spend(PLAIN, 1, 2_500_001))
    assert after[0].closing == -1
    assert after[1].closing == 4_017_999  # year 2's commitment covers it again
    assert newly_overdrawn(before, after, 1) == (1,)


def test_spending_that_takes_several_later_years_below_zero_names_each() -> None:
    before = fund_ledger(PLAIN)
    # 70,000.00 in year 2: year 2 closes at -4,820.00, year 3 at 55,729.62.
    after = fund_ledger(spend(PLAIN, 2, 7_000_000))
    assert [line.closing for line in after] == [2_500_000, -482_000, 5_572_962]
    assert newly_overdrawn(before, after, 2) == (2,)
    # 130,000.00 in year 2 takes years 2 and 3 below zero.
    after = fund_ledger(spend(PLAIN, 2, 13_000_000))
    assert newly_overdrawn(before, after, 2) == (2, 3)


def test_years_before_the_posting_year_are_not_reported() -> None:
    negative = fund_ledger(spend(PLAIN, 1, 3_000_000))  # year 1 already at -5,000.00
    after = fund_ledger(spend(spend(PLAIN, 1, 3_000_000), 2, 100))
    assert newly_overdrawn(negative, after, 2) == ()


def test_a_balance_already_below_zero_taken_further_below_is_reported() -> None:
    before = fund_ledger(spend(PLAIN, 1, 3_000_000))  # -5,000.00
    after = fund_ledger(spend(PLAIN, 1, 3_000_001))  # -5,000.01
    assert newly_overdrawn(before, after, 1) == (1,)


def test_a_posting_that_raises_a_negative_balance_overdraws_nothing() -> None:
    before = fund_ledger(spend(PLAIN, 1, 3_000_000))  # -5,000.00
    after = fund_ledger(adjust(spend(PLAIN, 1, 3_000_000), 1, 100_000))  # -4,000.00
    assert after[0].closing == -400_000
    assert newly_overdrawn(before, after, 1) == ()


def test_a_negative_adjustment_beyond_the_balance_overdraws() -> None:
    before = fund_ledger(PLAIN)
    after = fund_ledger(adjust(PLAIN, 1, -2_600_000))
    assert after[0].closing == -100_000
    assert newly_overdrawn(before, after, 1) == (1,)


# -- properties ----------------------------------------------------------------------------

AMOUNT = st.integers(min_value=0, max_value=10**17)
POSTING = st.builds(
    FundPostings,
    committed=AMOUNT,
    from_actuals=st.booleans(),
    adjusted=st.integers(min_value=-(10**17), max_value=10**17),
    spent=AMOUNT,
)
POSTING_LISTS = st.lists(POSTING, min_size=0, max_size=30)


@PROPERTIES
@given(postings=POSTING_LISTS)
def test_the_ledger_always_ties_out(postings: list[FundPostings]) -> None:
    ledger = fund_ledger(postings)
    assert ties_out(ledger)
    assert len(ledger) == len(postings)
    assert [line.year for line in ledger] == list(range(1, len(postings) + 1))
    if ledger:
        assert ledger[0].opening == 0
    for line, posting in zip(ledger, postings, strict=True):
        assert line.opening + line.committed + line.adjusted - line.spent == line.closing
        assert (line.committed, line.from_actuals, line.adjusted, line.spent) == posting
    for earlier, later in itertools.pairwise(ledger):
        assert earlier.closing == later.opening


@PROPERTIES
@given(postings=POSTING_LISTS.filter(bool))
def test_the_last_closing_is_everything_committed_and_adjusted_less_everything_spent(
    postings: list[FundPostings],
) -> None:
    ledger = fund_ledger(postings)
    total = sum(p.committed + p.adjusted - p.spent for p in postings)
    assert ledger[-1].closing == total
    assert unspent_at_end(ledger) == max(total, 0)


@PROPERTIES
@given(
    postings=POSTING_LISTS.filter(bool),
    data=st.data(),
    amount=st.integers(min_value=1, max_value=10**17),
)
def test_spending_is_newly_overdrawn_exactly_where_a_closing_goes_below_zero(
    postings: list[FundPostings], data: st.DataObject, amount: int
) -> None:
    year = data.draw(st.integers(1, len(postings)))
    before = fund_ledger(postings)
    after = fund_ledger(spend(postings, year, amount))
    assert ties_out(after)
    expected = tuple(line.year for line in after if line.year >= year and line.closing < 0)
    assert newly_overdrawn(before, after, year) == expected
