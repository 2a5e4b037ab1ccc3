"""Errors the services raise; the web layer maps each to one HTTP status."""

from __future__ import annotations

from datetime import datetime


class NotFound(LookupError):
    """The object does not exist (or is not visible to the caller): 404."""


class StaleEdit(Exception):
    """The object changed since the caller read it: 409, and nothing is written."""

    def __init__(self, what: str, updated_at: datetime, by: str | None = None) -> None:
        self.what = what
        self.updated_at = updated_at
        self.by = by
        who = by or "someone else"
        super().__init__(
            f"{what} was changed by {who} at {updated_at:%Y-%m-%d %H:%M} UTC; "
            "reload it and make your change again"
        )


class ClosedYear(Exception):
    """A change to a closed year (or a signed report): 409, with how to correct it."""

    def __init__(self, year: int, closed_at: datetime, closed_by: str | None) -> None:
        self.year = year
        self.closed_at = closed_at
        by = f" by {closed_by}" if closed_by else ""
        super().__init__(
            f"year {year} was closed on {closed_at:%Y-%m-%d}{by} and is read-only; "
            "record a correction as an adjustment in an open year"
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
