"""The vendor's account map (Strategic Selling): the buying influences of a contract, the
alternatives the buyer has, and the action plan whose indicators are re-rated at each
review. Visible to the vendor only, unless it shares the map with the buyer.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db.base import Base, UtcDateTime

INFLUENCE_ROLES = ("economic_buyer", "user_buyer", "technical_buyer", "coach")
INFLUENCE_DEGREES = ("high", "medium", "low")
RESPONSE_MODES = ("growth", "trouble", "even_keel", "overconfident")
ALTERNATIVE_KINDS = ("competitor", "in_house", "do_nothing")
POSITIONS = ("ahead", "level", "behind", "unknown")
PLAN_STATUSES = ("open", "done", "dropped")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Influence(Base):
    """A buying influence: who, their role in the decision, where they stand."""

    __tablename__ = "influences"
    __table_args__ = (
        CheckConstraint(f"role IN ({_in(INFLUENCE_ROLES)})", name="role"),
        CheckConstraint(f"degree IN ({_in(INFLUENCE_DEGREES)})", name="degree"),
        CheckConstraint(f"mode IN ({_in(RESPONSE_MODES)})", name="mode"),
        CheckConstraint("rating BETWEEN -5 AND 5", name="rating"),
        Index("ix_influences_contract_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: How much weight they carry in the decision.
    degree: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(20))
    #: Where they stand on the contract, -5 (against) to +5 (for).
    rating: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str | None] = mapped_column(Text)
    #: What they personally gain from the contract succeeding.
    win_result: Mapped[str | None] = mapped_column(Text)
    #: Who of the vendor met them last, and when (None: not covered).
    covered_by: Mapped[str | None] = mapped_column(String(200))
    last_met_on: Mapped[date | None] = mapped_column(Date)
    #: The day the influence appeared in the account (a new influence is a red flag).
    added_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Alternative(Base):
    """What else the buyer could do (a competitor, in-house, nothing) and our position."""

    __tablename__ = "alternatives"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(ALTERNATIVE_KINDS)})", name="kind"),
        CheckConstraint(f"position IN ({_in(POSITIONS)})", name="position"),
        Index("ix_alternatives_contract_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PlanAction(Base):
    """An action of the account plan and the indicator that measures it."""

    __tablename__ = "plan_actions"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(PLAN_STATUSES)})", name="status"),
        Index("ix_plan_actions_contract_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    #: What is measured to know whether the action works ("the CFO attends the QBR").
    indicator: Mapped[str] = mapped_column(String(300))
    influence_id: Mapped[int | None] = mapped_column(
        ForeignKey("influences.id", ondelete="SET NULL")
    )
    owner: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class IndicatorRating(Base):
    """A review's rating of an action's indicator (0-10), never edited: the history."""

    __tablename__ = "indicator_ratings"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 0 AND 10", name="rating"),
        Index("ix_indicator_ratings_action_id", "action_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("plan_actions.id", ondelete="CASCADE"))
    reviewed_on: Mapped[date] = mapped_column(Date)
    rating: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(320))
