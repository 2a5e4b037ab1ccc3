"""Errors the services raise; the web layer maps each to one HTTP status."""

from __future__ import annotations

from datetime import datetime


class NotFound(LookupError):
    """The object does not exist (or is not visible to the caller): 404."""


class StaleEdit(Exception):
    """The object changed since the caller read it: 409, and nothing is written."""

    def __init__(self, what: str, updated_at: datetime) -> None:
        self.what = what
        self.updated_at = updated_at
        super().__init__(
            f"{what} was changed by someone else at {updated_at:%Y-%m-%d %H:%M} UTC; "
            "reload it and make your change again"
        )


class Forbidden(Exception):
    """The actor may see the object but not do this to it: 403."""


class Conflict(Exception):
    """The change is not allowed in the object's current state: 409."""


class DuplicateName(ValueError):
    """A name or code that must be unique is already taken: reported on its field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)
