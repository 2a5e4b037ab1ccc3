"""The stored delivery years: actuals, service levels, initiatives and the fund's postings.

Money is integer minor units in the contract's currency; volumes, KPI targets and
results are exact decimal text (they are never summed in SQL). Records people edit
carry a version (stale saves are refused) and who changed them last; fund entries
are never edited: a correction is a new adjustment entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db.base import Base, UtcDateTime

#: Initiative statuses, in the order an initiative normally moves through them.
INITIATIVE_STATUSES = ("proposed", "approved", "in_progress", "delivered", "dropped")
_INITIATIVE_LIST = ", ".join(f"'{status}'" for status in INITIATIVE_STATUSES)
FUND_ENTRY_KINDS = ("spending", "adjustment")
_KIND_LIST = ", ".join(f"'{kind}'" for kind in FUND_ENTRY_KINDS)
SIDES = ("buyer", "vendor")


class DeliveryPlan(Base):
    """A contract's delivery settings: its volume driver and its initiative commitment."""

    __tablename__ = "delivery_plans"

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    #: What the volume driver counts ("users supported"); NULL: no volume driver.
    volume_name: Mapped[str | None] = mapped_column(String(100))
    volume_unit: Mapped[str | None] = mapped_column(String(40))
    #: How many initiatives the vendor commits to deliver each year; NULL: no commitment.
    initiatives_per_year: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class DeliveryYear(Base):
    """One contract year's actuals and its close; a row exists once something is recorded."""

    __tablename__ = "delivery_years"

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The volume planned for the year (Q_y) and measured (Q'_y), as decimal text.
    planned_volume: Mapped[str | None] = mapped_column(String(40))
    actual_volume: Mapped[str | None] = mapped_column(String(40))
    #: A_y in minor units; NULL until recorded.
    actual_cost: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(320))
    #: The year's figures as they stood when it was closed (canonical JSON), so that
    #: reconciliation can show that a closed year never changed.
    closed_figures: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Kpi(Base):
    """A service level of a contract: what is measured, which way is better, the amber band."""

    __tablename__ = "kpis"
    __table_args__ = (UniqueConstraint("contract_id", "name", name="uq_kpis_contract_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    #: How far from the target a result may be and still count as near (amber).
    tolerance: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    years: Mapped[list[KpiYear]] = relationship(
        lazy="raise", order_by="KpiYear.year", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class KpiYear(Base):
    """A KPI's target and result for one contract year, with optional quarterly results."""

    __tablename__ = "kpi_years"

    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str | None] = mapped_column(String(40))
    actual: Mapped[str | None] = mapped_column(String(40))
    q1: Mapped[str | None] = mapped_column(String(40))
    q2: Mapped[str | None] = mapped_column(String(40))
    q3: Mapped[str | None] = mapped_column(String(40))
    q4: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Initiative(Base):
    """An improvement the fund pays for: proposed, approved by both sides, delivered."""

    __tablename__ = "initiatives"
    __table_args__ = (
        CheckConstraint(f"status IN ({_INITIATIVE_LIST})", name="status"),
        CheckConstraint("proposed_by_side IN ('buyer', 'vendor')", name="side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    proposed_by_side: Mapped[str] = mapped_column(String(10))
    proposed_by: Mapped[str] = mapped_column(String(320))
    #: Expected yearly saving in delivery cost, minor units.
    expected_saving: Mapped[int] = mapped_column(BigInteger)
    #: The KPI it should improve, and how.
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id", ondelete="SET NULL"))
    expected_kpi_effect: Mapped[str | None] = mapped_column(String(200))
    #: What the fund is asked to pay, minor units.
    budget: Mapped[int] = mapped_column(BigInteger)
    planned_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    buyer_approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    buyer_approved_by: Mapped[str | None] = mapped_column(String(320))
    vendor_approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    vendor_approved_by: Mapped[str | None] = mapped_column(String(320))
    delivered_year: Mapped[int | None] = mapped_column(Integer)
    #: The yearly saving measured after delivery, minor units, and what it did for the KPI.
    realised_saving: Mapped[int | None] = mapped_column(BigInteger)
    realised_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class FundEntry(Base):
    """A posting to the reinvestment fund: initiative spending, or an adjustment with a reason.

    ``amount`` is what leaves the fund for spending (> 0), and what an adjustment adds
    (negative to take out). ``prefunding`` marks an entry allowed to take the balance
    below zero: the vendor pays ahead of the fund."""

    __tablename__ = "fund_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_KIND_LIST})", name="kind"),
        CheckConstraint("kind <> 'spending' OR (amount > 0 AND initiative_id IS NOT NULL)",
                        name="spending"),
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_fund_entries_contract_year", "contract_id", "year"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    prefunding: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the spending paid for, or why the adjustment was made.
    text: Mapped[str] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(320))


class ImportBatch(Base):
    """A file imported into a contract: kept so that the same file is never imported twice."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("contract_id", "sha256", name="uq_import_batches_file"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    #: The name the file had on the person's computer: shown, never used as a path.
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(320))


__all__ = [
    "FUND_ENTRY_KINDS",
    "INITIATIVE_STATUSES",
    "SIDES",
    "DeliveryPlan",
    "DeliveryYear",
    "FundEntry",
    "ImportBatch",
    "Initiative",
    "Kpi",
    "KpiYear",
]
