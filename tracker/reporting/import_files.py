"""Reading uploaded CSV and XLSX files of delivery figures, and checking every cell's form.

A file is read whole before anything is stored. This module checks what a file
*is*: its kind of file, its header (every required column, no unknown or repeated
one) and the written form of each value (tracker.reporting.import_cells); CSV
details are in import_csv, XLSX ones in import_xlsx. Whether a value makes sense
for the contract (a year of its term, an amount within range) is checked next
(tracker.reporting.import_checks).

Every problem is reported as a ``RowError``: the row as a spreadsheet numbers
it (the header is row 1; 0 means the file as a whole), the column's name and the
reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tracker.reporting.import_cells import (
    CellProblem,
    ColumnType,
    checked_cell,
    is_blank,
    is_formula_like,
    shown,
)
from tracker.reporting.import_csv import CsvRefused, csv_rows
from tracker.reporting.import_xlsx import XlsxRefused, xlsx_rows

#: The most data rows one file may hold.
MAX_ROWS = 10_000
#: Encodings a CSV file may be declared in (UTF-8 is the default, with or without a BOM).
ENCODINGS = ("utf-8", "windows-1252", "iso-8859-1")
#: "auto" finds the delimiter from the header line when only one of them appears there.
DELIMITERS = ("auto", ",", ";")
DECIMAL_SEPARATORS = (".", ",")
_MAX_COLUMNS = 50


@dataclass(frozen=True)
class Column:
    """A column of an import file."""

    name: str
    type: ColumnType
    required: bool
    help: str


@dataclass(frozen=True)
class ReadOptions:
    """How a CSV file is written, as declared in the upload form."""

    encoding: str = "utf-8"
    delimiter: str = "auto"
    decimal: str = "."

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}")
        if self.delimiter not in DELIMITERS:
            raise ValueError(f"unknown delimiter {self.delimiter!r}")
        if self.decimal not in DECIMAL_SEPARATORS:
            raise ValueError(f"unknown decimal separator {self.decimal!r}")


@dataclass(frozen=True, order=True)
class RowError:
    """One problem: the spreadsheet row (1 = header, 0 = the file as a whole), the column
    and the reason."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        column = f", {self.column}" if self.column else ""
        return f"{where}{column}: {self.reason}"


class FileRejected(ValueError):
    """A file that cannot be imported; carries every problem found."""

    def __init__(self, errors: Iterable[RowError]) -> None:
        self.errors: tuple[RowError, ...] = tuple(sorted(errors))
        super().__init__("; ".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class Row:
    """A data row: its spreadsheet number and its cells as canonical text (None: blank)."""

    number: int
    values: dict[str, str | None]


@dataclass(frozen=True)
class Table:
    """A file read and checked cell by cell: the columns it has, its non-blank rows, and
    the problems with the written form of its cells."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    errors: tuple[RowError, ...] = ()


_YEAR_HELP = "the contract year: 1 for the first year of the term, 2 for the next…"
#: The columns of each kind of import, in the order templates show them.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "actuals": (
        Column("year", ColumnType.YEAR, True, _YEAR_HELP),
        Column("actual_cost", ColumnType.NUMBER, True,
               "the year's actual delivery cost, in the contract's currency"),
        Column("actual_volume", ColumnType.NUMBER, False,
               "the volume the driver measured (only for years with a planned volume)"),
        Column("note", ColumnType.TEXT, False, "a remark on the year's figures"),
    ),
    "kpi_results": (
        Column("kpi", ColumnType.TEXT, True, "the KPI's name, exactly as on the delivery page"),
        Column("year", ColumnType.YEAR, True, _YEAR_HELP),
        Column("actual", ColumnType.NUMBER, True, "the result for the whole year"),
        *(Column(f"q{n}", ColumnType.NUMBER, False, f"the result of quarter {n}")
          for n in range(1, 5)),
    ),
    "spending": (
        Column("initiative", ColumnType.ID, True, "the initiative's number (#) it pays for"),
        Column("year", ColumnType.YEAR, True, _YEAR_HELP),
        Column("amount", ColumnType.NUMBER, True, "what the fund pays, greater than 0"),
        Column("description", ColumnType.TEXT, True, "what the money paid for"),
        Column("prefunding", ColumnType.YES_NO, False,
               "yes when the vendor pays ahead of the fund (the balance goes below zero)"),
    ),
}  # fmt: skip
KINDS = tuple(COLUMNS)


def read_upload(kind: str, filename: str, data: bytes, options: ReadOptions) -> Table:
    """The file's rows with every cell checked; FileRejected when the file as a whole
    cannot be read (encoding, delimiter, header, not a spreadsheet, too many rows)."""
    columns = COLUMNS[kind]
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data:
        raise FileRejected([RowError(0, "", "the file is empty")])
    try:
        if suffix == "xlsx":
            return _table(columns, xlsx_rows(data), decimal_comma=False)
        if suffix in {"csv", "txt"}:
            names = [column.name for column in columns]
            rows = csv_rows(data, options.encoding, options.delimiter, names)
            return _table(columns, rows, decimal_comma=options.decimal == ",")
    except XlsxRefused as exc:
        raise FileRejected([RowError(0, "", str(exc))]) from None
    except CsvRefused as exc:
        raise FileRejected([RowError(exc.row, "", str(exc))]) from None
    raise FileRejected(
        [RowError(0, "", "expected a .csv or .xlsx file (save the spreadsheet as one of these)")]
    )


def _table(
    columns: tuple[Column, ...],
    raw_rows: Iterator[tuple[int, Sequence[object]]],
    *,
    decimal_comma: bool,
) -> Table:
    first = next(raw_rows, None)
    if first is None:
        raise FileRejected([RowError(0, "", "the file is empty")])
    header = _header(columns, first[1])
    types = {column.name: column.type for column in columns}
    rows: list[Row] = []
    errors: list[RowError] = []
    for number, cells in raw_rows:
        if all(is_blank(cell) for cell in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise FileRejected(
                [RowError(number, "", f"the file has more than {MAX_ROWS:,} rows; "
                                      "split it into several files")]
            )  # fmt: skip
        values: dict[str, str | None] = dict.fromkeys(name for name in header if name)
        for position, cell in enumerate(cells):
            name = header[position] if position < len(header) else None
            if name is None:
                if not is_blank(cell):
                    errors.append(
                        RowError(number, _letter(position), "a value in a column without a name")
                    )
                continue
            checked = checked_cell(types[name], cell, decimal_comma=decimal_comma)
            if isinstance(checked, CellProblem):
                errors.append(RowError(number, name, checked.reason))
            else:
                values[name] = checked
        rows.append(Row(number, values))
    present = tuple(name for name in header if name is not None)
    return Table(present, tuple(rows), tuple(errors))


def _header(columns: tuple[Column, ...], cells: Sequence[object]) -> list[str | None]:
    """The column names of the header row (None for an unnamed column, such as a
    spacer column, whose cells must then all be blank)."""
    names = ["" if cell is None else str(cell).strip(" \ufeff").lower() for cell in cells]
    while names and not names[-1]:
        names.pop()
    expected = f"expected the columns {', '.join(column.name for column in columns)}"
    if len(names) > _MAX_COLUMNS:
        raise FileRejected([RowError(1, "", f"the header has {len(names)} columns; {expected}")])
    known = {column.name for column in columns}
    errors: list[RowError] = []
    seen: set[str] = set()
    for name in names:
        if not name:
            continue  # an unnamed column may hold nothing (checked row by row)
        if name not in known:
            errors.append(RowError(1, shown(name), f"unknown column; {expected}"))
        elif name in seen:
            errors.append(RowError(1, name, "this column appears twice"))
        seen.add(name)
    for column in columns:
        if column.required and column.name not in seen:
            errors.append(RowError(1, column.name, "this column is missing"))
    if errors:
        raise FileRejected(errors)
    return [name or None for name in names]


def _letter(position: int) -> str:
    """A 0-based column position as a spreadsheet names it: column A, B, ... AA."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"column {letters}"


__all__ = [
    "COLUMNS",
    "DECIMAL_SEPARATORS",
    "DELIMITERS",
    "ENCODINGS",
    "KINDS",
    "MAX_ROWS",
    "Column",
    "ColumnType",
    "FileRejected",
    "ReadOptions",
    "Row",
    "RowError",
    "Table",
    "is_formula_like",
    "read_upload",
]
