"""The health score: points off per sign of trouble, caps, bands, the vendor's own view."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.health import HealthInputs, band, health


def test_a_contract_with_no_sign_of_trouble_scores_100_and_has_no_alert() -> None:
    result = health(HealthInputs(kpis_measured=3, pulse_buyer=4, pulse_vendor=5))

    assert (result.score, result.vendor_score, result.alerts) == (100, 100, ())
    assert band(result.score) == "healthy"


def test_each_sign_costs_its_documented_points() -> None:
    cases = {
        "kpis": (HealthInputs(kpis_missed=1, kpis_near=1, kpis_measured=3), 11),
        "concerns": (HealthInputs(concerns_open={"critical": 1, "low": 2}), 24),
        "concerns_overdue": (HealthInputs(concerns_overdue=2), 10),
        "overdue": (HealthInputs(actions_overdue=1, milestones_late=2), 12),
        "pulse_buyer": (HealthInputs(pulse_buyer=2), 10),
        "pulse_trend_vendor": (HealthInputs(pulse_worsening=("vendor",)), 5),
        "fund_unspent": (HealthInputs(unspent_over_half=True), 5),
        "fund_unspent_at_end": (HealthInputs(unspent_at_end=True), 10),
    }
    for kind, (inputs, points) in cases.items():
        result = health(inputs)
        assert [alert.kind for alert in result.alerts] == [kind], kind
        assert result.score == 100 - points, kind


def test_each_kind_is_capped_so_that_one_alone_cannot_sink_a_contract() -> None:
    assert health(HealthInputs(kpis_missed=10, kpis_measured=10)).score == 70
    assert health(HealthInputs(concerns_open={"critical": 5})).score == 60
    assert health(HealthInputs(actions_overdue=50)).score == 80


def test_sides_two_points_apart_cost_the_divergence_on_top_of_the_low_rating() -> None:
    result = health(HealthInputs(pulse_buyer=2, pulse_vendor=4, pulse_gap=(2, 4)))

    assert {alert.kind for alert in result.alerts} == {"pulse_buyer", "pulse_divergence"}
    assert result.score == 100 - 10 - 10
    assert health(HealthInputs(pulse_buyer=3, pulse_vendor=4)).score == 97  # one apart


def test_red_flags_lower_only_the_vendors_score_and_only_the_vendor_sees_them() -> None:
    result = health(HealthInputs(red_flags=2, concerns_open={"medium": 1}))

    assert result.score == 95
    assert result.vendor_score == 89
    assert [alert.kind for alert in result.alerts_for(vendor=False)] == ["concerns"]
    assert {alert.kind for alert in result.alerts_for(vendor=True)} == {"concerns", "red_flags"}
    assert health(HealthInputs(red_flags=9)).vendor_score == 85  # capped at 15


def test_bands_and_the_valley() -> None:
    assert [band(score) for score in (100, 75, 74, 50, 49, 0)] == [
        "healthy", "healthy", "watch", "watch", "at risk", "at risk",
    ]  # fmt: skip
    troubled = HealthInputs(concerns_open={"critical": 1, "high": 1}, days_since_signature=40)
    assert health(troubled).in_valley(vendor=False)
    assert not health(HealthInputs(days_since_signature=40)).in_valley(vendor=False)
    assert not health(troubled.__class__(concerns_open={"critical": 2})).in_first_days
    assert not health(
        HealthInputs(concerns_open={"critical": 2}, days_since_signature=100)
    ).in_first_days


@given(
    missed=st.integers(0, 20),
    near=st.integers(0, 20),
    overdue=st.integers(0, 20),
    flags=st.integers(0, 20),
    buyer=st.one_of(st.none(), st.integers(1, 5)),
    vendor=st.one_of(st.none(), st.integers(1, 5)),
)
def test_the_score_stays_between_0_and_100_and_the_vendors_is_never_higher(
    missed: int, near: int, overdue: int, flags: int, buyer: int | None, vendor: int | None
) -> None:
    result = health(
        HealthInputs(
            kpis_missed=missed, kpis_near=near, kpis_measured=missed + near,
            actions_overdue=overdue, red_flags=flags, pulse_buyer=buyer, pulse_vendor=vendor,
            concerns_open={"high": overdue},
        )
    )  # fmt: skip
    assert 0 <= result.vendor_score <= result.score <= 100
    assert result.score == max(0, 100 - sum(a.points for a in result.alerts_for(vendor=False)))
