"""Strict JSON reading for terms documents: exact numbers, no surprises.

Numbers become ``Decimal`` exactly as written (never binary floating point);
``NaN``, ``Infinity``, duplicate keys, non-UTF-8 bytes, oversized or absurdly
nested documents are refused with a message a person can act on.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_DOCUMENT_BYTES = 1_000_000


class DocumentError(ValueError):
    """A document that is not acceptable JSON; the message says why.

    ``malformed`` is true when the text is not JSON at all (syntax, encoding, size),
    false when it is JSON whose content is refused (NaN, a duplicated key)."""

    def __init__(self, message: str, *, malformed: bool = True) -> None:
        super().__init__(message)
        self.malformed = malformed


def load_json_document(data: bytes | str, *, limit: int = MAX_DOCUMENT_BYTES) -> object:
    """Parse a JSON document strictly; ``DocumentError`` when it cannot be read."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > limit:
        raise DocumentError(f"the document is larger than {limit:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the document is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise DocumentError("the document is empty")
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise DocumentError("the document is nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise DocumentError(
        f"{name} is not a number; write amounts and rates as decimals", malformed=False
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentError(
                f'the key "{key}" appears twice in the same object', malformed=False
            )
        result[key] = value
    return result
