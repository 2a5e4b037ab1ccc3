"""Error pages: every failure answers with a friendly page (or JSON for the API) and a
request id; details go to the log, never to the person."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.domain.errors import InvalidTerms
from tracker.services.errors import ClosedYear, Conflict, Forbidden, NotFound, StaleEdit
from tracker.services.report_files import StorageFailed

log = logging.getLogger("tracker.web")

_TITLES = {
    400: "The request could not be understood",
    401: "Sign in first",
    403: "Not allowed for your role",
    404: "Not found",
    405: "Not allowed this way",
    409: "This change conflicts with the current state",
    413: "Too large",
    429: "Too many attempts",
    415: "Unsupported content type",
    422: "Some values need correcting",
    500: "Something went wrong on our side",
    503: "The database is not answering",
    507: "The report could not be stored",
}


def init_app(app: Flask) -> None:
    """Request ids, and a handler for every kind of failure."""
    app.before_request(_assign_request_id)
    app.after_request(_add_request_id_header)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, lambda exc: error_response(404, str(exc)))
    app.register_error_handler(StaleEdit, lambda exc: error_response(409, str(exc)))
    app.register_error_handler(Conflict, lambda exc: error_response(409, str(exc)))
    app.register_error_handler(ClosedYear, lambda exc: error_response(409, str(exc)))
    app.register_error_handler(InvalidTerms, _invalid)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Forbidden, lambda exc: error_response(403, str(exc)))
    app.register_error_handler(StaleDataError, _stale_data)
    app.register_error_handler(StorageFailed, _storage_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def request_id() -> str:
    """The id of the current request, shown on error pages and written to the log."""
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex[:16]
    value: str = g.request_id
    return value


def error_response(status: int, message: str) -> tuple[Response | str, int]:
    """An error page, or a JSON error for API requests, with the request id."""
    if request.path.startswith("/api/"):
        return jsonify(error=message, status=status, request_id=request_id()), status
    page = render_template(
        "error.html",
        status=status,
        title=_TITLES.get(status, "Error"),
        message=message,
        request_id=request_id(),
    )
    return page, status


def _assign_request_id() -> None:
    request_id()


def _add_request_id_header(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    return response


def _csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
    return error_response(
        400,
        f"The form had expired or did not come from this site ({exc.description}). "
        "Go back, reload the page and send it again.",
    )


def _stale_data(_exc: StaleDataError) -> tuple[Response | str, int]:
    return error_response(
        409, "Someone else changed this at the same moment; reload it and make your change again."
    )


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    body, code = error_response(status, exc.description or _TITLES.get(status, "Error"))
    response = make_response(body, code)
    # Keep what the exception says about itself, such as the Allow header of a 405.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _invalid(exc: InvalidTerms) -> tuple[Response | str, int]:
    # Forms show these next to their fields; this answers the requests that have no form.
    return error_response(422, "; ".join(str(error) for error in exc.errors))


def _database_unavailable(exc: DBAPIError) -> tuple[Response | str, int]:
    # The transaction was rolled back whole: nothing of the change was written.
    log.warning("request %s: database unavailable: %s", request_id(), exc.orig)
    return error_response(
        503, "The database did not answer; nothing was changed. Try again in a moment."
    )


def _storage_failed(exc: StorageFailed) -> tuple[Response | str, int]:
    # The freeze was rolled back whole: no signature, no file left behind.
    log.error("request %s: %s", request_id(), exc)
    return error_response(507, f"{exc}. Free some space or ask an administrator, then sign again.")


def _unexpected(_exc: Exception) -> tuple[Response | str, int]:
    log.exception("request %s failed: %s %s", request_id(), request.method, request.path)
    return error_response(500, InternalServerError.description)
