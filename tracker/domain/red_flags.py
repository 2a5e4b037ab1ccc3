"""The account map's red flags (Strategic Selling), computed from the map on a given day.

A red flag is a sign that the vendor's position in the account is weaker than it
looks. The rules, in the order they are listed:

- ``no_economic_buyer``: nobody in the map holds the economic buyer's role (the person
  who gives the final yes and can veto);
- ``economic_buyer_not_covered``: an economic buyer never met, or last met more than
  ``COVERAGE_DAYS`` days before today;
- ``economic_buyer_mode``: an economic buyer in even keel or overconfident mode (sees
  no gap between what is and what they want: no reason to act);
- ``no_coach``: nobody guides the vendor through the account;
- ``low_rating``: an influence rated ``LOW_RATING`` (−4) or lower;
- ``new_influence``: an influence added within the last ``NEW_INFLUENCE_DAYS`` days
  (the map may no longer be right: re-check it);
- ``no_alternative``: no alternative recorded (there always is one: doing nothing);
- ``unknown_position``: an alternative against which our position is unknown;
- ``missing_information``: an influence without rating evidence, win-result or
  coverage (who met them and when);
- ``indicator_not_rerated``: an open action of the plan whose indicator has not been
  rated within the last ``RERATE_DAYS`` days (or never).

"Within the last N days" counts today and the N days before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

#: An economic buyer last met longer ago than this is not covered.
COVERAGE_DAYS = 90
#: An influence added this recently is new: the map needs re-checking.
NEW_INFLUENCE_DAYS = 90
#: An open action's indicator not rated for longer than this is out of date.
RERATE_DAYS = 90
#: A rating at or below this is a red flag.
LOW_RATING = -4
#: Response modes in which the economic buyer sees no reason to change anything.
COMPLACENT_MODES = frozenset({"even_keel", "overconfident"})

ROLE_WORDS = {
    "economic_buyer": "economic buyer",
    "user_buyer": "user buyer",
    "technical_buyer": "technical buyer",
    "coach": "coach",
}
MODE_WORDS = {
    "growth": "growth",
    "trouble": "trouble",
    "even_keel": "even keel",
    "overconfident": "overconfident",
}
#: The order flags are listed in (the most serious first).
FLAG_ORDER = (
    "no_economic_buyer",
    "economic_buyer_not_covered",
    "economic_buyer_mode",
    "no_coach",
    "low_rating",
    "new_influence",
    "no_alternative",
    "unknown_position",
    "missing_information",
    "indicator_not_rerated",
)


class InfluenceFacts(Protocol):
    """What the rules read of a buying influence."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def rating(self) -> int: ...
    @property
    def evidence(self) -> str | None: ...
    @property
    def win_result(self) -> str | None: ...
    @property
    def covered_by(self) -> str | None: ...
    @property
    def last_met_on(self) -> date | None: ...
    @property
    def added_on(self) -> date: ...


class AlternativeFacts(Protocol):
    """What the rules read of an alternative the buyer has."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def position(self) -> str: ...


class ActionFacts(Protocol):
    """What the rules read of an action of the plan."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def last_rated_on(self) -> date | None: ...


@dataclass(frozen=True)
class RedFlag:
    """One red flag: its code, what it says, and the influence (or alternative, or
    action) it is about, when it is about one."""

    code: str
    message: str
    influence_id: int | None = None
    alternative_id: int | None = None
    action_id: int | None = None


def red_flags(
    influences: Sequence[InfluenceFacts],
    alternatives: Sequence[AlternativeFacts],
    actions: Sequence[ActionFacts],
    today: date,
) -> list[RedFlag]:
    """Every red flag of an account map on ``today``, most serious first."""
    flags = [
        *_influence_flags(influences, today),
        *_alternative_flags(alternatives),
        *_action_flags(actions, today),
    ]
    rank = {code: index for index, code in enumerate(FLAG_ORDER)}
    # sorted() is stable: flags of one code keep the order of the map.
    return sorted(flags, key=lambda flag: rank[flag.code])


def days_since(day: date, today: date) -> int:
    """Whole days from ``day`` to ``today`` (negative when ``day`` is later)."""
    return (today - day).days


def _influence_flags(influences: Sequence[InfluenceFacts], today: date) -> Iterable[RedFlag]:
    economic = [i for i in influences if i.role == "economic_buyer"]
    if not economic:
        yield RedFlag("no_economic_buyer", "No economic buyer identified: who gives the final yes?")
    if not any(i.role == "coach" for i in influences):
        yield RedFlag("no_coach", "No coach: nobody guides us through the account.")
    for person in economic:
        if person.last_met_on is None:
            yield RedFlag(
                "economic_buyer_not_covered",
                f"Economic buyer {person.name} has never been met.",
                person.id,
            )
        elif days_since(person.last_met_on, today) > COVERAGE_DAYS:
            yield RedFlag(
                "economic_buyer_not_covered",
                f"Economic buyer {person.name} was last met "
                f"{days_since(person.last_met_on, today)} days ago "
                f"(more than {COVERAGE_DAYS}).",
                person.id,
            )
        if person.mode in COMPLACENT_MODES:
            yield RedFlag(
                "economic_buyer_mode",
                f"Economic buyer {person.name} is in {MODE_WORDS[person.mode]} mode: "
                "they see no reason to act.",
                person.id,
            )
    for person in influences:
        if person.rating <= LOW_RATING:
            yield RedFlag(
                "low_rating",
                f"{person.name} ({ROLE_WORDS.get(person.role, person.role)}) is rated "
                f"{signed(person.rating)}.",
                person.id,
            )
        if days_since(person.added_on, today) <= NEW_INFLUENCE_DAYS:
            yield RedFlag(
                "new_influence",
                f"New influence: {person.name} was added on {person.added_on.isoformat()}; "
                "re-check the map.",
                person.id,
            )
        missing = missing_information(person)
        if missing:
            yield RedFlag(
                "missing_information",
                f"{person.name}: {', '.join(missing)}.",
                person.id,
            )


def missing_information(person: InfluenceFacts) -> tuple[str, ...]:
    """What is not known about an influence: rating evidence, win-result, coverage."""
    missing = []
    if not person.evidence:
        missing.append("no evidence for the rating")
    if not person.win_result:
        missing.append("no win-result")
    if not person.covered_by or person.last_met_on is None:
        missing.append("no coverage (who met them, when)")
    return tuple(missing)


def _alternative_flags(alternatives: Sequence[AlternativeFacts]) -> Iterable[RedFlag]:
    if not alternatives:
        yield RedFlag(
            "no_alternative",
            "No alternative recorded: what would the buyer do without us (even nothing)?",
        )
    for alternative in alternatives:
        if alternative.position == "unknown":
            yield RedFlag(
                "unknown_position",
                f"Our position against {alternative.name} is unknown.",
                alternative_id=alternative.id,
            )


def _action_flags(actions: Sequence[ActionFacts], today: date) -> Iterable[RedFlag]:
    for action in actions:
        if action.status != "open":
            continue
        if action.last_rated_on is None:
            yield RedFlag(
                "indicator_not_rerated",
                f"The indicator of “{action.title}” has never been rated.",
                action_id=action.id,
            )
        elif days_since(action.last_rated_on, today) > RERATE_DAYS:
            yield RedFlag(
                "indicator_not_rerated",
                f"The indicator of “{action.title}” was last rated on "
                f"{action.last_rated_on.isoformat()} (more than {RERATE_DAYS} days ago).",
                action_id=action.id,
            )


def indicator_trend(ratings_latest_first: Sequence[int]) -> str | None:
    """ "up", "down" or "flat" from the previous rating to the latest; None with fewer
    than two ratings."""
    if len(ratings_latest_first) < 2:
        return None
    latest, previous = ratings_latest_first[0], ratings_latest_first[1]
    if latest > previous:
        return "up"
    if latest < previous:
        return "down"
    return "flat"


def signed(rating: int) -> str:
    """A rating as people read it: +3, 0, −4 (a true minus sign)."""
    if rating > 0:
        return f"+{rating}"
    if rating < 0:
        return f"−{-rating}"
    return "0"
