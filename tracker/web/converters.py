"""URL converters: ids in paths are checked against what the database can hold."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

from tracker.services.portfolio import MAX_ID


class IdConverter(IntegerConverter):
    """A record id, 1 to 2^31 - 1: a larger number is no record, so the URL is 404."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
