"""The follow-up after the signature: lifecycle moves, the onboarding plan, concerns,
pulse checks and governance meetings with their actions.

Dates people plan with (due dates, meeting days) are calendar dates; moments of a
change are UTC timestamps. Records people edit carry a version and who changed them
last; lifecycle moves and pulse ratings are never edited once made.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db.base import Base, UtcDateTime

SIDES = ("buyer", "vendor")
MILESTONE_STATUSES = ("planned", "in_progress", "done", "dropped")
CONCERN_CATEGORIES = (
    "decision_doubt",
    "delivery_problem",
    "launch_difficulty",
    "commercial",
    "other",
)
SEVERITIES = ("low", "medium", "high", "critical")
CONCERN_STATUSES = ("open", "in_progress", "resolved")
MEETING_KINDS = ("operational", "quarterly_review", "annual_review")
ACTION_STATUSES = ("open", "done", "dropped")
CLOSED_REASONS = ("expired", "terminated")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class ContractMove(Base):
    """One move of a contract along its lifecycle: from, to, on which day, by whom, why."""

    __tablename__ = "contract_moves"
    __table_args__ = (Index("ix_contract_moves_contract_id_id", "contract_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    #: The day the move takes effect (a signature date, a termination date).
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(320))


class ContractFollowUp(Base):
    """A contract's follow-up settings: the lifecycle dates and whether the vendor shares
    its account map with the buyer. A row exists once one of them is set."""

    __tablename__ = "contract_follow_ups"
    __table_args__ = (
        CheckConstraint(f"closed_reason IN ({_in(CLOSED_REASONS)})", name="closed_reason"),
        CheckConstraint("notice_months BETWEEN 0 AND 60", name="notice_months"),
    )

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    signed_on: Mapped[date | None] = mapped_column(Date)
    #: Months of notice before the end of the term to end or renegotiate it.
    notice_months: Mapped[int | None] = mapped_column(Integer)
    #: The day the parties decide on renewal (by default the notice deadline).
    renewal_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(String(20))
    account_map_shared: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Milestone(Base):
    """A step of the onboarding plan (the first 100 days): owner side, due day, status."""

    __tablename__ = "milestones"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(MILESTONE_STATUSES)})", name="status"),
        CheckConstraint(f"owner_side IN ({_in(SIDES)})", name="owner_side"),
        Index("ix_milestones_contract_id_due_on", "contract_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    owner_side: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Concern(Base):
    """A concern raised by either side, with its owner, due day and resolution."""

    __tablename__ = "concerns"
    __table_args__ = (
        CheckConstraint(f"category IN ({_in(CONCERN_CATEGORIES)})", name="category"),
        CheckConstraint(f"severity IN ({_in(SEVERITIES)})", name="severity"),
        CheckConstraint(f"status IN ({_in(CONCERN_STATUSES)})", name="status"),
        CheckConstraint(f"raised_by_side IN ({_in(SIDES)})", name="raised_by_side"),
        CheckConstraint(f"owner_side IN ({_in(SIDES)})", name="owner_side"),
        Index("ix_concerns_contract_id_status", "contract_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    raised_by_side: Mapped[str] = mapped_column(String(10))
    raised_by: Mapped[str] = mapped_column(String(320))
    raised_on: Mapped[date] = mapped_column(Date)
    owner_side: Mapped[str] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)

    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PulseCheck(Base):
    """One side's rating of the relationship (1-5) for one period (a quarter's first day)."""

    __tablename__ = "pulse_checks"
    __table_args__ = (
        UniqueConstraint("contract_id", "side", "period"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(f"side IN ({_in(SIDES)})", name="side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))
    period: Mapped[date] = mapped_column(Date)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(320))


class Meeting(Base):
    """A governance meeting: its kind, day, agenda, attendees and decisions."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(MEETING_KINDS)})", name="kind"),
        Index("ix_meetings_contract_id_held_on", "contract_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    attendees: Mapped[str | None] = mapped_column(Text)
    decisions: Mapped[str | None] = mapped_column(Text)

    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class MeetingAction(Base):
    """An action agreed in a meeting: owner, due day, status."""

    __tablename__ = "meeting_actions"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ACTION_STATUSES)})", name="status"),
        CheckConstraint(f"owner_side IN ({_in(SIDES)})", name="owner_side"),
        Index("ix_meeting_actions_contract_id_status", "contract_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    owner_side: Mapped[str] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    done_on: Mapped[date | None] = mapped_column(Date)

    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ContractAmendment(Base):
    """A change of a signed contract's terms, effective from one contract year: the terms
    before and after (canonical JSON), so that history is kept and the difference shown."""

    __tablename__ = "contract_amendments"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the first amendment of the contract, then 2, 3...
    number: Mapped[int] = mapped_column(Integer)
    #: The first contract year whose figures follow the new terms.
    effective_year: Mapped[int] = mapped_column(Integer)
    terms_before: Mapped[str] = mapped_column(Text)
    terms_after: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(320))
