"""Plain HTML forms whose values the services validate: errors by field, values kept.

The delivery pages have forms with one input per contract year, so instead of a
WTForms class per form they post plain fields (CSRF still checked by
Flask-WTF's CSRFProtect) and show the service's FieldErrors next to each field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, request

from tracker.domain.errors import InvalidTerms
from tracker.services.errors import DuplicateName

T = TypeVar("T")


class Attempt:
    """The outcome of a service call made for a form: its result, or errors by field."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.result: Any = None

    @property
    def ok(self) -> bool:
        """Whether the service accepted the values."""
        return not self.errors


def attempt(action: Callable[[], T]) -> Attempt:
    """Call ``action``; validation errors become ``errors`` (path -> message)."""
    outcome = Attempt()
    try:
        outcome.result = action()
    except InvalidTerms as exc:
        for error in exc.errors:
            outcome.errors.setdefault(error.path, error.message)
    except DuplicateName as exc:
        outcome.errors[exc.field] = str(exc)
    return outcome


def form_version(name: str = "version") -> int:
    """The record version a form was rendered with; 400 when it is missing."""
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        abort(400, "The form lacks the version of the record it changes; reload the page.")


def form_int(name: str, low: int, high: int) -> int:
    """A whole number the page itself put in the form (a year, an id); 400 otherwise."""
    value = request.form.get(name, "")
    if not value.isdigit() or not low <= int(value) <= high:
        abort(400, f"The form's {name} is not valid; reload the page.")
    return int(value)


def checkbox(name: str) -> bool:
    """Whether a checkbox was ticked."""
    return request.form.get(name) in {"1", "on", "yes", "true"}
