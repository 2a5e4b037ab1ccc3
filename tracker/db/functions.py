"""SQL functions that differ between databases, compiled for each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String


class folded(FunctionElement[str]):  # noqa: N801  (an SQL function, named like one)
    """Text in lower case for case-insensitive search, accented letters included.

    PostgreSQL's lower() folds every letter; SQLite's folds ASCII only, so on SQLite
    it calls tracker_lower, a Python function each connection registers."""

    type = String()
    name = "folded"
    inherit_cache = True


@compiles(folded)
def _folded_default(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"tracker_lower({compiler.process(element.clauses, **kw)})"


def sqlite_lower(text: str | None) -> str | None:
    """The SQLite side of ``folded``: Python's full Unicode lower case."""
    return None if text is None else text.lower()
