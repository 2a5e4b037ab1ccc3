"""File responses: downloads with a safe file name, and cacheable SVG charts."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request


def download(body: str | bytes, filename: str, mimetype: str) -> Response:
    """A file to save, named ``filename`` (made of the contract code, so already safe)."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def svg_response(draw: Callable[[], str], etag: str) -> Response:
    """An SVG chart, drawn only when the browser does not already hold this version."""
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(draw(), mimetype="image/svg+xml")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
