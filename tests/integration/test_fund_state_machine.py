"""The reinvestment fund under random sequences of service calls, against a model.

A Hypothesis state machine records actuals, posts spending and adjustments (with
and without pre-funding), proposes and approves initiatives, closes and reopens
years, valid and invalid alike, on one fresh contract per example. It keeps its
own model of the fund (spec section 3, computed here independently) and checks
after every step that the ledger the services show ties out, equals the model,
and that a closed year's figures never change while it is closed. A refused call
must raise the documented error and leave everything, audit trail included, as
it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from delivery_factory import TODAY, Delivery, contract_in_delivery, initiative_fields
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.domain.errors import InvalidTerms
from tracker.domain.ledger import ties_out
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals
from tracker.services.delivery import DeliveryView, canonical, delivery_view, year_figures_document
from tracker.services.errors import ClosedYear, Conflict, Forbidden, StaleEdit
from tracker.services.fund import record_adjustment, record_spending
from tracker.services.initiatives import approve_initiative, propose_initiative
from tracker.services.year_close import close_year, reopen_year

MACHINE = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
YEARS = (1, 2, 3, 4, 5)
#: With today = TODAY (30 June 2025) in a contract that began on 1 January 2022.
STARTED = frozenset({1, 2, 3, 4})
ENDED = frozenset({1, 2, 3})
#: B_y and R_y of the fixed-5y plan, in cents (tests/data/fixed-5y.expected.json).
BASELINES = (100_000_000, 102_500_000, 105_062_500, 107_689_063, 110_381_290)
PLANNED_REINVEST = (2_000_000, 4_018_000, 6_054_962, 8_111_864, 10_189_700)

#: Actual costs from well below the baseline (a large gain) to above it (a loss).
COSTS = st.integers(min_value=80_000_000, max_value=125_000_000)
SPENDING = st.one_of(
    st.sampled_from([1, 100_000, 2_000_000, 2_500_000, 15_000_000]),
    st.integers(min_value=1, max_value=30_000_000),
)
ADJUSTMENTS = st.integers(min_value=-20_000_000, max_value=20_000_000).filter(bool)
#: A year, or None: the first open year (to close), the latest closed one (to reopen).
SOME_YEAR = st.one_of(st.none(), st.sampled_from(YEARS))


def text_of(cents: int) -> str:
    """Cents as the decimal text a person types (-1234.56)."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


def reinvested(baseline: int, cost: int) -> int:
    """R' = round(0.5 x max(B - A, 0)), ties away from zero."""
    return (max(baseline - cost, 0) + 1) // 2


@dataclass
class Model:
    """What the fund should hold, kept by the test alone."""

    actual: dict[int, int] = field(default_factory=dict)
    spent: dict[int, int] = field(default_factory=dict)
    adjusted: dict[int, int] = field(default_factory=dict)
    prefunded: set[int] = field(default_factory=set)
    closed: list[int] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=lambda: dict.fromkeys(YEARS, 0))
    #: Initiative id -> (status, sides that approved, version).
    initiatives: dict[int, tuple[str, frozenset[str], int]] = field(default_factory=dict)

    def committed(self, year: int) -> int:
        if year in self.actual:
            return reinvested(BASELINES[year - 1], self.actual[year])
        return PLANNED_REINVEST[year - 1]

    def closings(
        self, spent: dict[int, int] | None = None, adjusted: dict[int, int] | None = None
    ) -> list[tuple[int, int, int, int, int]]:
        """(opening, committed, adjusted, spent, closing) of each year."""
        spent = self.spent if spent is None else spent
        adjusted = self.adjusted if adjusted is None else adjusted
        lines, balance = [], 0
        for year in YEARS:
            committed, plus, minus = self.committed(year), adjusted.get(year, 0), spent.get(year, 0)
            closing = balance + committed + plus - minus
            lines.append((balance, committed, plus, minus, closing))
            balance = closing
        return lines

    def overdraws(self, year: int, *, spend: int = 0, adjust: int = 0) -> bool:
        """Whether a posting in ``year`` takes a closing from that year on below zero, or
        further below it."""
        spent = {**self.spent, year: self.spent.get(year, 0) + spend}
        adjusted = {**self.adjusted, year: self.adjusted.get(year, 0) + adjust}
        before, after = self.closings(), self.closings(spent, adjusted)
        return any(
            new[4] < 0 and new[4] < old[4]
            for y, old, new in zip(YEARS, before, after, strict=True)
            if y >= year
        )

    def overdrawn_years(self) -> list[int]:
        """Started years closing below zero with no pre-funding entry up to them."""
        found, prefunded = [], False
        for year, line in zip(YEARS, self.closings(), strict=True):
            prefunded = prefunded or year in self.prefunded
            if year in STARTED and line[4] < 0 and not prefunded:
                found.append(year)
        return found

    def may_close(self, year: int) -> bool:
        return (
            year not in self.closed
            and year in ENDED
            and (year == 1 or year - 1 in self.closed)
            and year in self.actual
            and not [y for y in self.overdrawn_years() if y <= year]
        )


class FundMachine(RuleBasedStateMachine):
    """One contract's fund, driven through the services."""

    codes = itertools.count(1)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.model = Model()
        self.closed_figures: dict[int, str] = {}
        self.delivery: Delivery
        #: Audit events and the view as the last invariant check saw them, and whether
        #: the last step was refused (and so provably left them as they were).
        self.checked: tuple[int, DeliveryView]
        self.unchanged = False

    @initialize(costs=st.lists(COSTS, max_size=3))
    def a_fresh_contract(self, costs: list[int]) -> None:
        """A new contract with one approved initiative and the actuals of its first years
        (0 to 3 of them), so that short sequences can close years too."""
        code = f"FSM-{next(self.codes)}"
        self.delivery = contract_in_delivery(self.session, code=code, accounts_too=False)
        # One initiative both sides approved, so that spending is possible from the start.
        self.propose("250000.00")
        self.approve(0, "buyer")
        self.approve(0, "vendor")
        for year, cost in enumerate(costs, start=1):
            self.record_actuals(year, cost, stale=False)
        self.checked = self.fingerprint()

    # -- helpers -----------------------------------------------------------------------------

    def view(self) -> DeliveryView:
        return delivery_view(self.session, SYSTEM, self.delivery.contract_id, today=TODAY)

    def fingerprint(self) -> tuple[int, DeliveryView]:
        with self.session.begin():
            events = self.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return events, self.view()

    def refused(self, error: type[Exception], call: Callable[[], object]) -> Exception:
        """Assert that ``call`` raises ``error`` and leaves everything as the last check saw
        it (rules call this before changing anything themselves)."""
        with pytest.raises(error) as excinfo:
            call()
        assert self.fingerprint() == self.checked, f"{error.__name__} changed something"
        self.unchanged = True
        return excinfo.value

    # -- actuals -----------------------------------------------------------------------------

    def first_open_year(self) -> int:
        return min(set(YEARS) - set(self.model.closed), default=YEARS[-1])

    @rule(year=SOME_YEAR, cost=COSTS, stale=st.booleans())
    def record_actuals(self, year: int | None, cost: int, stale: bool) -> None:
        model = self.model
        year = self.first_open_year() if year is None else year
        version = model.versions[year]
        stale = stale and version > 0 and year not in model.closed

        def call() -> object:
            return record_actuals(
                self.session, self.delivery.vendor_staff, self.delivery.contract_id, year,
                actual_cost=text_of(cost), expected_version=version - 1 if stale else version,
                today=TODAY,
            )  # fmt: skip

        if year in model.closed:
            error = self.refused(ClosedYear, call)
            assert f"year {year} was closed on" in str(error)
        elif stale:
            self.refused(StaleEdit, call)
        elif year not in STARTED:
            error = self.refused(InvalidTerms, call)
            assert isinstance(error, InvalidTerms)
            assert [e.path for e in error.errors] == ["year"]
        else:
            assert call() == version + 1
            model.actual[year] = cost
            model.versions[year] = version + 1

    # -- initiatives -------------------------------------------------------------------------

    @rule(budget=st.sampled_from(["0.00", "5000.00", "250000.00"]))
    def propose(self, budget: str) -> None:
        initiative = propose_initiative(
            self.session, self.delivery.buyer_staff, self.delivery.contract_id,
            initiative_fields(budget=budget),
        )  # fmt: skip
        self.model.initiatives[initiative] = ("proposed", frozenset(), 1)

    @precondition(lambda self: self.model.initiatives)
    @rule(pick=st.integers(min_value=0, max_value=99), side=st.sampled_from(["buyer", "vendor"]))
    def approve(self, pick: int, side: str) -> None:
        initiatives = self.model.initiatives
        initiative = sorted(initiatives)[pick % len(initiatives)]
        status, sides, version = initiatives[initiative]
        actor = self.delivery.buyer_staff if side == "buyer" else self.delivery.vendor_staff

        def call() -> object:
            return approve_initiative(self.session, actor, initiative, expected_version=version)

        if status != "proposed" or side in sides:
            self.refused(Conflict, call)
            return
        sides |= {side}
        status = "approved" if len(sides) == 2 else "proposed"
        assert call() == status
        initiatives[initiative] = (status, sides, version + 1)

    # -- the fund ----------------------------------------------------------------------------

    def post_outcome(
        self, year: int, prefunding: bool, *, spend: int = 0, adjust: int = 0
    ) -> type[Exception] | None:
        """The error a posting must get, None when it is accepted."""
        if year in self.model.closed:
            return ClosedYear
        if year not in STARTED:
            return InvalidTerms
        if not prefunding and self.model.overdraws(year, spend=spend, adjust=adjust):
            return InvalidTerms
        return None

    def accepted(self, year: int, prefunding: bool) -> None:
        if prefunding:
            self.model.prefunded.add(year)

    @precondition(lambda self: self.model.initiatives)
    @rule(
        pick=st.integers(min_value=0, max_value=99),
        year=st.sampled_from(YEARS),
        amount=SPENDING,
        prefunding=st.booleans(),
    )
    def spend(self, pick: int, year: int, amount: int, prefunding: bool) -> None:
        initiatives = self.model.initiatives
        initiative = sorted(initiatives)[pick % len(initiatives)]

        def call() -> object:
            return record_spending(
                self.session, self.delivery.vendor_staff, initiative, year, text_of(amount),
                "Tooling", prefunding=prefunding, today=TODAY,
            )  # fmt: skip

        if initiatives[initiative][0] != "approved":
            self.refused(Conflict, call)
            return
        error = self.post_outcome(year, prefunding, spend=amount)
        if error is not None:
            self.refused(error, call)
            return
        call()
        self.model.spent[year] = self.model.spent.get(year, 0) + amount
        self.accepted(year, prefunding)
        # Every payment moves the initiative's version on (a form posted twice is stale).
        status, sides, version = initiatives[initiative]
        initiatives[initiative] = (status, sides, version + 1)

    @rule(
        year=st.sampled_from(YEARS),
        amount=ADJUSTMENTS,
        prefunding=st.booleans(),
        buyer=st.booleans(),
    )
    def adjust(self, year: int, amount: int, prefunding: bool, buyer: bool) -> None:
        finance = self.delivery.buyer_finance if buyer else self.delivery.vendor_finance

        def call() -> object:
            return record_adjustment(
                self.session, finance, self.delivery.contract_id, year, text_of(amount),
                "Correction", prefunding=prefunding, today=TODAY,
            )  # fmt: skip

        error = self.post_outcome(year, prefunding, adjust=amount)
        if error is not None:
            refusal = self.refused(error, call)
            if isinstance(refusal, InvalidTerms) and year in STARTED:
                assert [e.path for e in refusal.errors] == ["prefunding"]
            return
        call()
        self.model.adjusted[year] = self.model.adjusted.get(year, 0) + amount
        self.accepted(year, prefunding)

    # -- closing and reopening ---------------------------------------------------------------

    @rule(year=SOME_YEAR, buyer=st.booleans())
    def close(self, year: int | None, buyer: bool) -> None:
        year = self.first_open_year() if year is None else year
        finance = self.delivery.buyer_finance if buyer else self.delivery.vendor_finance

        def call() -> object:
            close_year(self.session, finance, self.delivery.contract_id, year, today=TODAY)
            return None

        if not self.model.may_close(year):
            self.refused(Conflict, call)
            return
        call()
        self.model.closed.append(year)
        self.model.versions[year] += 1

    @rule(year=SOME_YEAR, buyer=st.booleans())
    def reopen(self, year: int | None, buyer: bool) -> None:
        year = (self.model.closed or [1])[-1] if year is None else year
        admin = self.delivery.buyer_admin if buyer else self.delivery.vendor_admin

        def call() -> object:
            reopen_year(self.session, admin, self.delivery.contract_id, year, "Late invoice")
            return None

        if not self.model.closed or self.model.closed[-1] != year:
            self.refused(Conflict, call)
            return
        call()
        self.model.closed.pop()
        self.model.versions[year] += 1
        del self.closed_figures[year]

    @rule(which=st.sampled_from(["actuals", "spend", "adjust", "close", "reopen"]))
    def someone_without_the_role_tries(self, which: str) -> None:
        d, c = self.delivery, self.delivery.contract_id
        calls: dict[str, Callable[[], object]] = {
            "actuals": lambda: record_actuals(
                self.session,
                d.buyer_staff,
                c,
                1,
                actual_cost="1.00",
                expected_version=self.model.versions[1],
                today=TODAY,
            ),
            "adjust": lambda: record_adjustment(
                self.session, d.vendor_staff, c, 1, "1.00", "x", today=TODAY
            ),
            "close": lambda: close_year(self.session, d.vendor_admin, c, 1, today=TODAY),
            "reopen": lambda: reopen_year(self.session, d.buyer_finance, c, 1, "x"),
        }
        if which == "spend" and self.model.initiatives:
            initiative = min(self.model.initiatives)
            calls["spend"] = lambda: record_spending(
                self.session, d.buyer_staff, initiative, 1, "1.00", "x", today=TODAY
            )
        if which in calls:
            self.refused(Forbidden, calls[which])

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def the_fund_ties_out_matches_the_model_and_closed_years_stay_closed(self) -> None:
        if self.unchanged:  # checked already, and nothing has changed since
            self.unchanged = False
            return
        self.checked = self.fingerprint()
        shown = self.checked[1]
        ledger = shown.ledger
        assert ties_out(ledger)
        for earlier, later in itertools.pairwise(ledger):
            assert earlier.closing == later.opening
        expected = self.model.closings()
        assert [
            (line.opening, line.committed, line.adjusted, line.spent, line.closing)
            for line in ledger
        ] == expected
        assert [line.from_actuals for line in ledger] == [y in self.model.actual for y in YEARS]
        assert [y.version for y in shown.years] == [self.model.versions[y] for y in YEARS]
        assert [y.year for y in shown.years if y.closed] == sorted(self.model.closed)
        for entry in shown.initiatives:
            status, sides, version = self.model.initiatives[entry.id]
            assert (entry.status, entry.version) == (status, version)
            assert {s for s in ("buyer", "vendor") if entry.approved_by(s)} == sides
        # A closed year's figures never change while it is closed.
        for year in self.model.closed:
            figures = self.closed_figures.setdefault(year, shown.year(year).closed_figures or "")
            assert shown.year(year).closed_figures == figures
            assert canonical(year_figures_document(shown, year)) == figures


def test_the_fund_stays_consistent_under_any_sequence_of_service_calls(session: Session) -> None:
    run_state_machine_as_test(lambda: FundMachine(session), settings=MACHINE)
