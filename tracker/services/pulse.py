"""Pulse checks: once a quarter, each side rates the relationship from 1 to 5.

Staff of a side rate for their side; one rating per side and quarter, never edited
(a second one for the same quarter is refused, naming who rated it and when). A
rating of 2 or less needs a comment. Members of either party read the history,
the trend of each side, the divergence alert and what is due (tracker.domain.pulse).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db.followup_models import PulseCheck
from tracker.db.models import Contract
from tracker.domain.fields import FieldReader
from tracker.domain.pulse import (
    COMMENT_REQUIRED_AT,
    HIGHEST,
    LOWEST,
    SIDES,
    Divergence,
    Trend,
    divergence,
    needs_comment,
    pulse_due,
    quarter_label,
    quarter_of,
    quarters_between,
    trend,
)
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    locked_contract,
    long_text,
    now_utc,
    snapshot_of,
    validated,
)
from tracker.services.errors import Conflict
from tracker.services.follow_up_rules import (
    FollowUpContract,
    FollowUpPermissions,
    followup_contract,
    followup_permissions,
    require_writable,
    speaking_side,
)

_FIELDS = ("side", "period", "rating", "comment", "at", "by")
_YEAR = timedelta(days=365)


@dataclass(frozen=True)
class PulseRating:
    """One side's rating of one quarter."""

    side: str
    period: date
    rating: int
    comment: str | None
    at: datetime
    by: str


@dataclass(frozen=True)
class PulseQuarter:
    """A quarter with each side's rating, if given."""

    period: date
    buyer: PulseRating | None
    vendor: PulseRating | None

    @property
    def label(self) -> str:
        """The quarter as it reads: 2026 Q4."""
        return quarter_label(self.period)

    @property
    def gap(self) -> int | None:
        """How far apart the two ratings are, when both sides rated."""
        if self.buyer is None or self.vendor is None:
            return None
        return abs(self.buyer.rating - self.vendor.rating)

    def of(self, side: str) -> PulseRating | None:
        """The rating of ``side``."""
        return self.buyer if side == "buyer" else self.vendor


@dataclass(frozen=True)
class PulseView:
    """A contract's pulse on one day: the quarters newest first, trends, alerts."""

    contract: FollowUpContract
    today: date
    current_period: date
    quarters: tuple[PulseQuarter, ...]
    trends: tuple[Trend, ...]
    divergence: Divergence | None
    #: The sides whose rating of the current quarter is due (see tracker.domain.pulse).
    due: tuple[str, ...]
    permissions: FollowUpPermissions

    @property
    def current_label(self) -> str:
        """The current quarter as it reads."""
        return quarter_label(self.current_period)

    def rated_now(self, side: str) -> PulseRating | None:
        """The rating ``side`` gave the current quarter, if any."""
        current = next((q for q in self.quarters if q.period == self.current_period), None)
        return current.of(side) if current else None

    @property
    def rate_sides(self) -> tuple[str, ...]:
        """The sides the viewer may rate the current quarter for now."""
        if not self.permissions.write:
            return ()
        return tuple(s for s in self.permissions.sides if self.rated_now(s) is None)

    def trend_of(self, side: str) -> Trend:
        """The trend of ``side``."""
        return next(t for t in self.trends if t.side == side)


def rate_relationship(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    side: str | None = None,
    rating: object,
    comment: object,
    period: object = None,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Record the actor's side's rating of a quarter (by default today's); returns its id.

    Conflict when the side already rated that quarter: ratings are never edited."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        rater = speaking_side(actor, contract, side, "rate the relationship")
        require_writable(contract)
        values = validated(lambda reader: _read(reader, contract, rating, comment, period, day))
        quarter = values["period"]
        earlier = session.scalars(
            select(PulseCheck).where(
                PulseCheck.contract_id == contract.id,
                PulseCheck.side == rater,
                PulseCheck.period == quarter,
            )
        ).one_or_none()
        if earlier is not None:
            raise Conflict(_already(earlier))
        check = PulseCheck(
            contract_id=contract.id, side=rater, at=stamp, by=actor.label, **values
        )  # fmt: skip
        session.add(check)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"the {rater} has just rated {quarter_label(quarter)}: reload the page"
            ) from exc
        record(session, actor, "rate", "pulse_check", check.id, contract_id=contract.id,
               after=snapshot_of(check, _FIELDS), request=request)  # fmt: skip
        return check.id


def pulse_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> PulseView:
    """The contract's pulse on ``today``: two queries whatever its length."""
    day = today or now_utc().date()
    with session.begin():
        contract = followup_contract(session, actor, contract_id)
        checks = session.scalars(
            select(PulseCheck).where(PulseCheck.contract_id == contract.contract_id)
        ).all()
        ratings = {
            (c.side, c.period): PulseRating(c.side, c.period, c.rating, c.comment, c.at, c.by)
            for c in checks
        }
    permissions = followup_permissions(actor, contract)
    current = quarter_of(day)
    by_side = {
        side: {period: r.rating for (s, period), r in ratings.items() if s == side}
        for side in SIDES
    }
    last = min(current, quarter_of(contract.end_date))
    periods = quarters_between(
        min([contract.start_date, *(period for _side, period in ratings)]),
        max([last, *(period for _side, period in ratings)]),
    )
    quarters = tuple(
        PulseQuarter(p, ratings.get(("buyer", p)), ratings.get(("vendor", p)))
        for p in reversed(periods)
    )
    due: tuple[str, ...] = ()
    if permissions.read_only is None and contract.start_date <= day <= contract.end_date:
        due = tuple(
            side for side in SIDES if pulse_due(set(by_side[side]), day, contract.start_date)
        )
    return PulseView(
        contract, day, current, quarters,
        tuple(trend(side, by_side[side]) for side in SIDES),
        divergence(by_side["buyer"], by_side["vendor"]), due, permissions,
    )  # fmt: skip


def _read(
    reader: FieldReader,
    contract: Contract,
    rating: object,
    comment: object,
    period: object,
    today: date,
) -> dict[str, Any]:
    value = reader.required_field(
        {"r": rating}, "r", "rating", reader.whole_number, LOWEST, HIGHEST
    )
    text = long_text(reader, comment, "comment", required=False)
    if value is not None and text is None and needs_comment(value):
        reader.error("comment", f"say why: a rating of {COMMENT_REQUIRED_AT} or less needs one")
    quarter = _period(reader, contract, period, today)
    return {"rating": value, "comment": text, "period": quarter}


def _period(reader: FieldReader, contract: Contract, value: object, today: date) -> date | None:
    """The quarter rated: today's by default, or the one holding the day given; not a
    quarter yet to come, nor one far from the contract's term."""
    if value is None or value == "":
        return quarter_of(today)
    day = reader.date(value.isoformat() if isinstance(value, date) else value, "period")
    if day is None:
        return None
    quarter = quarter_of(day)
    if quarter > quarter_of(today):
        reader.error("period", f"{quarter_label(quarter)} has not begun: rate it once it has")
    elif quarter < quarter_of(contract.start_date - _YEAR) or day > contract.end_date + _YEAR:
        reader.error("period", f"{quarter_label(quarter)} lies too far from the contract's term")
    return quarter


def _already(check: PulseCheck) -> str:
    return (
        f"the {check.side} already rated {quarter_label(check.period)}: {check.rating} of 5, "
        f"on {check.at:%Y-%m-%d} by {check.by}; ratings are never edited"
    )
