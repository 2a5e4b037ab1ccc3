"""The account map's red flags: each rule flags exactly what it should, on the given day."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from tracker.domain.red_flags import (
    COVERAGE_DAYS,
    NEW_INFLUENCE_DAYS,
    RERATE_DAYS,
    RedFlag,
    indicator_trend,
    red_flags,
    signed,
)

TODAY = date(2025, 6, 30)
LONG_AGO = date(2024, 1, 1)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    mode: str = "growth"
    rating: int = 3
    evidence: str | None = "Said so in the steering committee"
    win_result: str | None = "A promotion"
    covered_by: str | None = "Ann (account lead)"
    last_met_on: date | None = TODAY - timedelta(days=10)
    added_on: date = LONG_AGO


@dataclass(frozen=True)
class Option:
    id: int
    name: str
    position: str = "ahead"


@dataclass(frozen=True)
class Action:
    id: int
    title: str
    status: str = "open"
    last_rated_on: date | None = TODAY - timedelta(days=5)


#: A sound map: every role covered, everyone known, an alternative, a fresh rating.
ECONOMIC = Person(1, "Erin Economic", "economic_buyer")
USER = Person(2, "Ulla User", "user_buyer")
TECHNICAL = Person(3, "Tom Technical", "technical_buyer")
COACH = Person(4, "Cora Coach", "coach")
SOUND = [ECONOMIC, USER, TECHNICAL, COACH]
ALTERNATIVES = [Option(1, "Rival Ltd")]
ACTIONS = [Action(1, "Quarterly breakfast with the CFO")]


def flags(
    people: list[Person] | None = None,
    options: list[Option] | None = None,
    actions: list[Action] | None = None,
    today: date = TODAY,
) -> list[RedFlag]:
    return red_flags(
        SOUND if people is None else people,
        ALTERNATIVES if options is None else options,
        ACTIONS if actions is None else actions,
        today,
    )


def codes(found: list[RedFlag]) -> list[str]:
    return [flag.code for flag in found]


def test_a_sound_map_has_no_red_flag() -> None:
    assert flags() == []


def test_a_map_without_a_coach_is_flagged_once() -> None:
    found = flags([ECONOMIC, USER, TECHNICAL])
    assert codes(found) == ["no_coach"]
    assert found[0].influence_id is None


def test_a_map_without_an_economic_buyer_is_flagged_once() -> None:
    assert codes(flags([USER, TECHNICAL, COACH])) == ["no_economic_buyer"]


def test_an_empty_map_misses_both_the_economic_buyer_and_a_coach() -> None:
    assert codes(flags([])) == ["no_economic_buyer", "no_coach"]


def test_an_economic_buyer_never_met_is_not_covered() -> None:
    never = replace(ECONOMIC, last_met_on=None)
    found = flags([never, USER, TECHNICAL, COACH])
    assert codes(found) == ["economic_buyer_not_covered", "missing_information"]
    assert found[0].influence_id == ECONOMIC.id
    assert "never been met" in found[0].message


def test_an_economic_buyer_met_exactly_the_threshold_ago_is_still_covered() -> None:
    edge = replace(ECONOMIC, last_met_on=TODAY - timedelta(days=COVERAGE_DAYS))
    assert flags([edge, USER, TECHNICAL, COACH]) == []


def test_an_economic_buyer_met_a_day_beyond_the_threshold_is_not_covered() -> None:
    stale = replace(ECONOMIC, last_met_on=TODAY - timedelta(days=COVERAGE_DAYS + 1))
    found = flags([stale, USER, TECHNICAL, COACH])
    assert codes(found) == ["economic_buyer_not_covered"]
    assert "91 days ago" in found[0].message


def test_another_role_last_met_long_ago_is_no_coverage_flag() -> None:
    user = replace(USER, last_met_on=LONG_AGO)
    assert flags([ECONOMIC, user, TECHNICAL, COACH]) == []


def test_an_economic_buyer_in_even_keel_or_overconfident_mode_is_flagged() -> None:
    for mode in ("even_keel", "overconfident"):
        found = flags([replace(ECONOMIC, mode=mode), USER, TECHNICAL, COACH])
        assert codes(found) == ["economic_buyer_mode"]
        assert found[0].influence_id == ECONOMIC.id
    for mode in ("growth", "trouble"):
        assert flags([replace(ECONOMIC, mode=mode), USER, TECHNICAL, COACH]) == []


def test_a_user_buyer_in_even_keel_mode_is_not_flagged() -> None:
    assert flags([ECONOMIC, replace(USER, mode="even_keel"), TECHNICAL, COACH]) == []


def test_a_rating_of_minus_four_or_less_is_flagged_and_minus_three_is_not() -> None:
    for rating in (-4, -5):
        found = flags([ECONOMIC, replace(USER, rating=rating), TECHNICAL, COACH])
        assert codes(found) == ["low_rating"]
        assert found[0].influence_id == USER.id
        assert signed(rating) in found[0].message
    assert flags([ECONOMIC, replace(USER, rating=-3), TECHNICAL, COACH]) == []


def test_an_influence_added_within_the_last_ninety_days_is_new() -> None:
    fresh = replace(TECHNICAL, added_on=TODAY - timedelta(days=NEW_INFLUENCE_DAYS))
    found = flags([ECONOMIC, USER, fresh, COACH])
    assert codes(found) == ["new_influence"]
    assert found[0].influence_id == TECHNICAL.id
    assert "re-check the map" in found[0].message
    older = replace(TECHNICAL, added_on=TODAY - timedelta(days=NEW_INFLUENCE_DAYS + 1))
    assert flags([ECONOMIC, USER, older, COACH]) == []


def test_an_influence_added_today_is_new() -> None:
    assert codes(flags([ECONOMIC, USER, TECHNICAL, replace(COACH, added_on=TODAY)])) == [
        "new_influence"
    ]


def test_missing_evidence_win_result_or_coverage_is_one_flag_per_influence_naming_each() -> None:
    bare = replace(USER, evidence=None, win_result="", covered_by=None)
    found = flags([ECONOMIC, bare, TECHNICAL, COACH])
    assert codes(found) == ["missing_information"]
    assert found[0].influence_id == USER.id
    assert "evidence" in found[0].message
    assert "win-result" in found[0].message
    assert "coverage" in found[0].message
    only_evidence = flags([ECONOMIC, replace(USER, evidence=None), TECHNICAL, COACH])
    assert codes(only_evidence) == ["missing_information"]
    assert "win-result" not in only_evidence[0].message


def test_a_coverage_without_a_day_is_missing_information() -> None:
    found = flags([ECONOMIC, replace(USER, last_met_on=None), TECHNICAL, COACH])
    assert codes(found) == ["missing_information"]
    assert "coverage" in found[0].message


def test_no_alternative_recorded_is_flagged() -> None:
    assert codes(flags(options=[])) == ["no_alternative"]


def test_an_alternative_where_our_position_is_unknown_is_flagged() -> None:
    options = [Option(1, "Rival Ltd"), Option(2, "In-house team", "unknown")]
    found = flags(options=options)
    assert codes(found) == ["unknown_position"]
    assert found[0].alternative_id == 2
    assert "In-house team" in found[0].message
    assert flags(options=[Option(1, "Rival", p) for p in ("ahead", "level", "behind")]) == []


def test_an_open_action_not_rated_for_more_than_ninety_days_is_flagged() -> None:
    stale = [Action(7, "Win the CIO", last_rated_on=TODAY - timedelta(days=RERATE_DAYS + 1))]
    found = flags(actions=stale)
    assert codes(found) == ["indicator_not_rerated"]
    assert found[0].action_id == 7
    edge = [Action(7, "Win the CIO", last_rated_on=TODAY - timedelta(days=RERATE_DAYS))]
    assert flags(actions=edge) == []


def test_an_open_action_never_rated_is_flagged_and_a_closed_one_never() -> None:
    assert codes(flags(actions=[Action(1, "New", last_rated_on=None)])) == ["indicator_not_rerated"]
    for status in ("done", "dropped"):
        assert flags(actions=[Action(1, "Old", status=status, last_rated_on=None)]) == []


def test_no_action_at_all_is_no_indicator_flag() -> None:
    assert flags(actions=[]) == []


def test_flags_are_listed_most_serious_first_whatever_the_order_of_the_map() -> None:
    people = [
        replace(USER, rating=-5, added_on=TODAY),
        replace(ECONOMIC, mode="even_keel", last_met_on=LONG_AGO),
    ]
    found = flags(people, options=[], actions=[Action(1, "A", last_rated_on=None)])
    assert codes(found) == [
        "economic_buyer_not_covered",
        "economic_buyer_mode",
        "no_coach",
        "low_rating",
        "new_influence",
        "no_alternative",
        "indicator_not_rerated",
    ]


def test_the_same_map_read_on_a_later_day_gains_the_flags_time_brings() -> None:
    later = TODAY + timedelta(days=200)
    assert codes(flags(today=later)) == [
        "economic_buyer_not_covered",
        "indicator_not_rerated",
    ]


def test_the_trend_compares_the_latest_rating_with_the_previous_one() -> None:
    assert indicator_trend([7, 5, 9]) == "up"
    assert indicator_trend([4, 6]) == "down"
    assert indicator_trend([6, 6, 1]) == "flat"
    assert indicator_trend([6]) is None
    assert indicator_trend([]) is None


def test_ratings_read_with_their_sign_and_a_true_minus() -> None:
    assert (signed(3), signed(0), signed(-4)) == ("+3", "0", "−4")
