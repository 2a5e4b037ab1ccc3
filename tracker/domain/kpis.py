"""Service levels: whether a KPI result meets its target.

A KPI is higher-is-better (availability, first-contact resolution) or
lower-is-better (incidents, cost per invoice). A result on the right side of the
target, or equal to it, is *met*; one that misses by no more than the tolerance
is *near* (amber); anything further away is *missed*. Values are exact decimals.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class KpiStatus(StrEnum):
    """How a result stands against its target."""

    MET = "met"
    NEAR = "near"
    MISSED = "missed"


def kpi_status(
    actual: Decimal, target: Decimal, tolerance: Decimal, *, higher_is_better: bool
) -> KpiStatus:
    """Met when at or beyond the target, near within the tolerance, missed otherwise."""
    shortfall = target - actual if higher_is_better else actual - target
    if shortfall <= 0:
        return KpiStatus.MET
    if shortfall <= tolerance:
        return KpiStatus.NEAR
    return KpiStatus.MISSED


def count_met(statuses: list[KpiStatus | None]) -> tuple[int, int]:
    """(met, measured): how many of the results that exist meet their target."""
    measured = [status for status in statuses if status is not None]
    return sum(1 for status in measured if status is KpiStatus.MET), len(measured)
