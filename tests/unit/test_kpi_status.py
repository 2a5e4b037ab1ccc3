"""Whether a KPI result meets its target: met, near (within the tolerance) or missed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.kpis import KpiStatus, count_met, kpi_status

PROPERTIES = settings(max_examples=300, deadline=None, derandomize=True, database=None)
MET, NEAR, MISSED = KpiStatus.MET, KpiStatus.NEAR, KpiStatus.MISSED


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("100", MET),
        ("99.6", MET),
        ("99.5", MET),  # exactly on target
        ("99.499999", NEAR),
        ("99.0", NEAR),  # short by exactly the tolerance: the band's edge is near
        ("98.999999", MISSED),  # one millionth beyond the band
        ("0", MISSED),
    ],
)
def test_higher_is_better_availability_against_99_5_with_half_a_point_of_tolerance(
    actual: str, expected: KpiStatus
) -> None:
    assert (
        kpi_status(Decimal(actual), Decimal("99.5"), Decimal("0.5"), higher_is_better=True)
        is expected
    )


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("0", MET),
        ("4", MET),
        ("5", MET),  # exactly on target
        ("5.000001", NEAR),
        ("7", NEAR),  # over by exactly the tolerance
        ("7.000001", MISSED),
        ("12", MISSED),
    ],
)
def test_lower_is_better_incidents_against_5_with_a_tolerance_of_2(
    actual: str, expected: KpiStatus
) -> None:
    assert kpi_status(Decimal(actual), Decimal(5), Decimal(2), higher_is_better=False) is expected


def test_without_a_tolerance_anything_short_of_the_target_is_missed() -> None:
    target = Decimal("95")
    assert kpi_status(Decimal("95"), target, Decimal(0), higher_is_better=True) is MET
    assert kpi_status(Decimal("94.999999"), target, Decimal(0), higher_is_better=True) is MISSED
    assert kpi_status(Decimal("95.000001"), target, Decimal(0), higher_is_better=False) is MISSED


def test_negative_targets_and_results_compare_the_same_way() -> None:
    # A lower-is-better cost variance of -2 % against a target of -3 %, tolerance 1 point.
    target, tolerance = Decimal("-3"), Decimal(1)
    assert kpi_status(Decimal("-2"), target, tolerance, higher_is_better=False) is NEAR
    assert kpi_status(Decimal("-1.5"), target, tolerance, higher_is_better=False) is MISSED
    assert kpi_status(Decimal("-4"), target, tolerance, higher_is_better=False) is MET
    assert kpi_status(Decimal("-4"), target, tolerance, higher_is_better=True) is NEAR


def test_decimals_written_differently_are_equal() -> None:
    assert kpi_status(Decimal("99.50"), Decimal("99.5"), Decimal(0), higher_is_better=True) is MET
    assert (
        kpi_status(Decimal("99.0"), Decimal("99.5"), Decimal("0.50"), higher_is_better=True) is NEAR
    )


def test_statuses_are_plain_text_for_pages_and_exports() -> None:
    assert [str(status) for status in KpiStatus] == ["met", "near", "missed"]


def test_count_met_counts_only_measured_results() -> None:
    assert count_met([MET, None, NEAR, MET, MISSED, None]) == (2, 4)
    assert count_met([]) == (0, 0)
    assert count_met([None, None]) == (0, 0)


# -- properties ----------------------------------------------------------------------------

VALUES = st.decimals(
    min_value=Decimal("-1000000000000"), max_value=Decimal("1000000000000"), places=6
)
TOLERANCES = st.decimals(min_value=Decimal(0), max_value=Decimal("1000000000000"), places=6)


@PROPERTIES
@given(actual=VALUES, target=VALUES, tolerance=TOLERANCES, higher=st.booleans())
def test_the_status_depends_only_on_the_shortfall_against_the_band(
    actual: Decimal, target: Decimal, tolerance: Decimal, higher: bool
) -> None:
    shortfall = target - actual if higher else actual - target
    status = kpi_status(actual, target, tolerance, higher_is_better=higher)
    if shortfall <= 0:
        assert status is MET
    elif shortfall <= tolerance:
        assert status is NEAR
    else:
        assert status is MISSED
    # Turning the direction round mirrors the result around the target.
    mirrored = kpi_status(2 * target - actual, target, tolerance, higher_is_better=not higher)
    assert mirrored is status
