"""One cell of an import file, checked for the form its column expects.

A cell comes from CSV as text, or from XLSX as openpyxl gives it (text, int,
float, bool, datetime). It leaves as canonical text: numbers as plain decimals
(``1234.56``; never through binary floating point), yes/no as ``yes`` or ``no``,
text exactly as written, or as a ``CellProblem`` saying what is wrong.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum

#: Excel keeps 15 significant digits of a number; more than that was not typed exactly.
EXACT_DIGITS = 15
#: Leading characters that make a spreadsheet run a cell as a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
#: A number cell starting with one of these is refused (a minus is a negative number).
_REFUSED_LEADS = {"=": '"="', "+": '"+"', "@": '"@"', "\t": "a tab", "\r": "a carriage return"}
_MAX_NUMBER_TEXT = 60
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_PLAIN_COMMA = re.compile(r"-?[0-9]+(?:,[0-9]+)?")
_WHOLE = re.compile(r"[0-9]+(?:\.0+)?")
_DATE_LIKE = re.compile(
    r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}(?:[ T].*)?"
    r"|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}(?: .*)?"
    r"|[0-9]{1,2}[-/ ][A-Za-z]{3,9}(?:[-/ ][0-9]{2,4})?"
    r"|[A-Za-z]{3,9}[-/ ][0-9]{2,4}"
)


class ColumnType(Enum):
    """What a column holds, which decides how its cells are read."""

    TEXT = "text"
    NUMBER = "number"
    YEAR = "year"
    ID = "id"
    YES_NO = "yes/no"


@dataclass(frozen=True)
class CellProblem:
    """Why a cell cannot be read."""

    reason: str


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula."""
    return text.startswith(FORMULA_LEADS)


def is_blank(cell: object) -> bool:
    """Whether a cell is empty (nothing, or only spaces)."""
    return cell is None or (isinstance(cell, str) and not cell.strip(" "))


def shown(text: str) -> str:
    """A value as quoted in a message: at most 40 characters."""
    return text if len(text) <= 40 else text[:37] + "..."


def checked_cell(
    kind: ColumnType, cell: object, *, decimal_comma: bool = False
) -> str | CellProblem | None:
    """A cell as canonical text for its column's type, None when blank.

    Text cells keep formula-like text as literal text; number cells refuse it."""
    if is_blank(cell):
        return None
    if kind is ColumnType.TEXT:
        return cell_text(cell)
    if kind is ColumnType.YES_NO:
        return _yes_no(cell)
    if isinstance(cell, datetime | date | time):
        return CellProblem(_date_reason(kind, cell_text(cell)))
    if isinstance(cell, bool):
        return CellProblem(f"expected a number, got {'TRUE' if cell else 'FALSE'}")
    if isinstance(cell, int | float):
        number = _spreadsheet_number(cell)
        if isinstance(number, CellProblem):
            return number
        text = f"{number:f}"
    elif isinstance(cell, str):
        checked = _number_text(kind, cell, decimal_comma=decimal_comma)
        if isinstance(checked, CellProblem):
            return checked
        text = checked
    else:
        return CellProblem("expected a number, got a value of an unsupported kind")
    if kind in (ColumnType.YEAR, ColumnType.ID):
        if not _WHOLE.fullmatch(text):
            return CellProblem(f'expected a whole number such as 2, got "{shown(text)}"')
        return str(int(Decimal(text)))
    return text


def cell_text(cell: object) -> str:
    """Any cell as the text a person would read in it."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time(0) else cell.isoformat(" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    if isinstance(cell, float) and math.isfinite(cell):
        return f"{Decimal(repr(cell)):f}"
    return str(cell)


def _spreadsheet_number(value: int | float) -> Decimal | CellProblem:
    """A number cell exactly as it was typed, or why it cannot be trusted."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return CellProblem(f"expected a finite number, got {value!r}")
        # The shortest repr that reads back as the same double is what was typed.
        number = Decimal(repr(value))
    else:
        number = Decimal(value)
    digits = len(number.normalize().as_tuple().digits)
    if digits > EXACT_DIGITS:
        return CellProblem(
            f"the number {number:f} has {digits} significant digits; a spreadsheet keeps only "
            f"{EXACT_DIGITS}, so it may not be what was typed: enter it as text"
        )
    return number


def _number_text(kind: ColumnType, cell: str, *, decimal_comma: bool) -> str | CellProblem:
    """Plain decimal text from a text cell, or why it is not one."""
    text = cell.strip(" ")
    quoted = shown(text.replace("\t", "\\t").replace("\r", "\\r"))
    if text[:1] in _REFUSED_LEADS:
        return CellProblem(
            f'"{quoted}" starts with {_REFUSED_LEADS[text[0]]}: formulas and signs other than '
            "a leading minus are not read in number fields; type the plain number"
        )
    if _DATE_LIKE.fullmatch(text):
        return CellProblem(_date_reason(kind, text))
    if len(text) > _MAX_NUMBER_TEXT:
        return CellProblem(f"expected a number, got {len(text)} characters")
    if decimal_comma:
        if _PLAIN_COMMA.fullmatch(text):
            return text.replace(",", ".")
        return CellProblem(
            "expected a number written with a decimal comma such as 1234,56 (no thousands "
            f'separators), got "{quoted}"'
        )
    if _PLAIN.fullmatch(text):
        return text
    hint = (
        "; if the file uses decimal commas, choose the decimal comma in the form"
        if _PLAIN_COMMA.fullmatch(text)
        else ""
    )
    return CellProblem(
        "expected a number written as a plain decimal such as 1234.56 (no thousands "
        f'separators, no exponent), got "{quoted}"{hint}'
    )


def _date_reason(kind: ColumnType, text: str) -> str:
    if kind is ColumnType.YEAR:
        return (
            f'"{shown(text)}" looks like a date; the year column holds the contract year '
            "(1, 2, ...). If a spreadsheet turned the number into a date, format the column "
            "as a number and type it again"
        )
    return (
        f'"{shown(text)}" looks like a date where a number was expected; format the column '
        "as a number and type the value again"
    )


def _yes_no(cell: object) -> str | CellProblem:
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    text = cell_text(cell).strip(" ").lower()
    if text in {"yes", "no"}:
        return text
    return CellProblem(f'expected yes or no, got "{shown(cell_text(cell))}"')
