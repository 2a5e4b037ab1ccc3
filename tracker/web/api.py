"""The JSON API: store a contract from a terms document, read its schedule.

Requests must say ``Content-Type: application/json``; a browser on another site
cannot send that without the server's consent, which is why these routes do not
take the form CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request, url_for

from tracker.db.session import request_session
from tracker.domain.errors import InvalidTerms
from tracker.domain.json_document import MAX_DOCUMENT_BYTES, DocumentError, load_json_document
from tracker.domain.schedule_document import schedule_document
from tracker.services import contracts as service
from tracker.services.errors import DuplicateName
from tracker.web.auth import current_actor, request_info

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.post("/contracts")
def create() -> tuple[Response, int]:
    """Store a draft contract from a terms document; 201 with where to find it."""
    if request.mimetype != "application/json":
        abort(415, "Send the terms document as application/json.")
    data = request.get_data(cache=False)
    if len(data) > MAX_DOCUMENT_BYTES:
        abort(413, f"A terms document is at most {MAX_DOCUMENT_BYTES:,} bytes.")
    try:
        document = load_json_document(data)
    except DocumentError as exc:
        status = 400 if exc.malformed else 422
        return _errors(status, [{"field": "document", "message": str(exc)}])
    code = request.args.get("code") or None
    try:
        contract_id = service.create_contract(
            request_session(), current_actor(), document, code=code, request=request_info()
        )
    except InvalidTerms as exc:
        return _errors(422, [{"field": e.path, "message": e.message} for e in exc.errors])
    except DuplicateName as exc:
        return _errors(409, [{"field": exc.field, "message": str(exc)}])
    view = service.contract_view(request_session(), current_actor(), contract_id)
    response = jsonify(_contract_document(view))
    response.headers["Location"] = url_for("api.show", contract_id=contract_id)
    return response, 201


@blueprint.get("/contracts/<id:contract_id>")
def show(contract_id: int) -> Response:
    """A contract: its code, status, canonical terms and stored schedule."""
    return jsonify(
        _contract_document(service.contract_view(request_session(), current_actor(), contract_id))
    )


def _contract_document(view: service.ContractView) -> dict[str, object]:
    return {
        "id": view.id,
        "code": view.code,
        "status": view.status,
        "archived": view.archived_at is not None,
        "version": view.version,
        "terms": view.document,
        "schedule": schedule_document(view.schedule),
        "url": url_for("contracts.show", contract_id=view.id),
    }


def _errors(status: int, errors: list[dict[str, str]]) -> tuple[Response, int]:
    return jsonify(errors=errors, status=status), status
