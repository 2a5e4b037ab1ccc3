"""A contract's delivery figures as CSV and XLSX: actuals beside the plan, the fund's
ledger with its entries, KPI results, and the templates of the import files.

Everything comes from the delivery read model (tracker.services.delivery), so a file
shows exactly what the pages show. Money is exact: in CSV as decimal text with the
currency's places, in XLSX as numbers with the currency's number format (as text
when a spreadsheet number would round it). Text people typed (notes, names,
descriptions) that begins with a character a spreadsheet would run as a formula
is written with a leading ``'`` in both formats. The same figures always give the
same bytes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from tracker.domain.money import Currency, from_minor_units, units_text
from tracker.domain.schedule import PCT_PLACES
from tracker.reporting.import_cells import EXACT_DIGITS
from tracker.reporting.import_files import COLUMNS
from tracker.reporting.schedule_xlsx import money_format, safe_text, with_fixed_times
from tracker.services.delivery import COMPARED, DeliveryView

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"
FORMATS = ("csv", "xlsx")
#: The downloads of the delivery figures, by the name their URL uses.
TABLES = ("actuals", "ledger", "kpis")

_FIXED_TIME = datetime(2000, 1, 1)
_DATE_FORMAT = "yyyy-mm-dd"
_RATIO_FORMAT = "0.00%"
_BOLD = Font(bold=True)
#: Column names of the compared figures (``cost`` is the delivery cost).
_FIGURE_NAMES = {"cost": "delivery_cost"}


@dataclass(frozen=True)
class Money:
    """An amount in minor units of the sheet's currency."""

    units: int


@dataclass(frozen=True)
class Ratio:
    """A relative figure in ten-thousandths (123 is 1.23 %)."""

    ten_thousandths: int


Cell = Money | Ratio | Decimal | int | date | str | None


@dataclass(frozen=True)
class Sheet:
    """One table of a download: its title, column names and rows."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


# -- the tables ------------------------------------------------------------------------


def actuals_sheet(view: DeliveryView) -> Sheet:
    """Per year: the period, open or closed, volumes, and plan, actual and variance
    (amount and relative) of every compared figure, then the year's note."""
    header = ["year", "start", "end", "status", "closed_on", "closed_by",
              "planned_volume", "actual_volume"]  # fmt: skip
    for key, _label in COMPARED:
        name = _FIGURE_NAMES.get(key, key)
        header += [f"planned_{name}", f"actual_{name}", f"variance_{name}", f"variance_pct_{name}"]
    header.append("note")
    rows = []
    for year in view.years:
        row: list[Cell] = [
            year.year, year.plan.start, year.plan.end, "closed" if year.closed else "open",
            year.closed_at.date() if year.closed_at else None, year.closed_by,
            year.planned_volume, year.actual_volume,
        ]  # fmt: skip
        for key, _label in COMPARED:
            variance = year.variance(key)
            actual = year.actual_value(key)
            row += [
                Money(year.planned(key)),
                None if actual is None else Money(actual),
                None if variance is None else Money(variance.amount),
                None if variance is None or variance.pct is None else Ratio(variance.pct),
            ]
        row.append(year.note)
        rows.append(tuple(row))
    return Sheet("Actuals", tuple(header), tuple(rows))


def ledger_sheets(view: DeliveryView) -> tuple[Sheet, Sheet]:
    """The fund year by year (opening + committed + adjusted - spent = closing), then
    every entry posted to it."""
    years = Sheet(
        "Fund by year",
        ("year", "opening", "committed", "committed_from", "adjusted", "spent", "closing"),
        tuple(
            (line.year, Money(line.opening), Money(line.committed),
             "actuals" if line.from_actuals else "plan", Money(line.adjusted),
             Money(line.spent), Money(line.closing))
            for line in view.ledger
        ),
    )  # fmt: skip
    entries = Sheet(
        "Fund entries",
        ("entry", "year", "kind", "initiative", "initiative_title", "amount", "effect",
         "prefunding", "text", "created_at_utc", "created_by"),
        tuple(
            (entry.id, entry.year, entry.kind, entry.initiative_id, entry.initiative_title,
             Money(entry.amount), Money(entry.effect), "yes" if entry.prefunding else "no",
             entry.text, _utc_text(entry.created_at), entry.created_by)
            for entry in view.entries
        ),
    )  # fmt: skip
    return years, entries


def kpi_sheet(view: DeliveryView) -> Sheet:
    """Per KPI and year: its definition, target, result, quarters and status."""
    rows = []
    for kpi in view.kpis:
        for entry in kpi.years:
            rows.append(
                (kpi.name, kpi.unit, "higher" if kpi.higher_is_better else "lower",
                 kpi.tolerance, entry.year, entry.target, entry.actual, *entry.quarters,
                 None if entry.status is None else entry.status.value)
            )  # fmt: skip
    header = ("kpi", "unit", "better", "tolerance", "year", "target", "actual",
              "q1", "q2", "q3", "q4", "status")  # fmt: skip
    return Sheet("KPIs", header, tuple(rows))


def template_sheet(view: DeliveryView, kind: str) -> Sheet:
    """The header of an import file, with a row to fill in per open year that has started
    (actuals) or per KPI and such a year (KPI results)."""
    header = tuple(column.name for column in COLUMNS[kind])
    years = [year.year for year in view.years if year.started and not year.closed]
    blanks: tuple[Cell, ...]
    rows: list[tuple[Cell, ...]] = []
    if kind == "actuals":
        blanks = (None,) * (len(header) - 1)
        rows = [(year, *blanks) for year in years]
    elif kind == "kpi_results":
        blanks = (None,) * (len(header) - 2)
        rows = [(kpi.name, year, *blanks) for kpi in view.kpis for year in years]
    return Sheet(kind, header, tuple(rows))


def delivery_download(view: DeliveryView, table: str, fmt: str) -> tuple[bytes, str, str]:
    """(body, file name, media type) of a download: ``table`` in TABLES, ``fmt`` in FORMATS."""
    sheets: Sequence[Sheet]
    if table == "actuals":
        sheets = (actuals_sheet(view),)
    elif table == "ledger":
        sheets = ledger_sheets(view)
    elif table == "kpis":
        sheets = (kpi_sheet(view),)
    else:
        raise ValueError(f"unknown table {table!r}")
    return _encoded(sheets, view, f"{view.code}-{table}", fmt)


def template_download(view: DeliveryView, kind: str, fmt: str) -> tuple[bytes, str, str]:
    """(body, file name, media type) of the template of an import of ``kind``."""
    return _encoded((template_sheet(view, kind),), view, f"{view.code}-import-{kind}", fmt)


def _encoded(
    sheets: Sequence[Sheet], view: DeliveryView, stem: str, fmt: str
) -> tuple[bytes, str, str]:
    if fmt == "csv":
        return sheets_csv(sheets, view.currency).encode("utf-8"), f"{stem}.csv", CSV_MIMETYPE
    if fmt == "xlsx":
        return sheets_xlsx(sheets, view.currency), f"{stem}.xlsx", XLSX_MIMETYPE
    raise ValueError(f"unknown format {fmt!r}")


# -- CSV ---------------------------------------------------------------------------------


def sheets_csv(sheets: Sequence[Sheet], money: Currency) -> str:
    """The tables one after the other, a blank line between them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for index, sheet in enumerate(sheets):
        if index:
            writer.writerow([])
        writer.writerow(sheet.header)
        for row in sheet.rows:
            writer.writerow(_csv_value(value, money) for value in row)
    return buffer.getvalue()


def _csv_value(value: Cell, money: Currency) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return units_text(value.units, money)
    if isinstance(value, Ratio):
        return f"{Decimal(value.ten_thousandths).scaleb(-PCT_PLACES):.{PCT_PLACES}f}"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- XLSX ---------------------------------------------------------------------------------


def sheets_xlsx(sheets: Sequence[Sheet], money: Currency) -> bytes:
    """One worksheet per table: a bold header row, exact amounts, no formulas."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    amount_format = money_format(money)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title)
        for column, name in enumerate(sheet.header, start=1):
            worksheet.cell(1, column, name).font = _BOLD
        for row_number, row in enumerate(sheet.rows, start=2):
            for column, value in enumerate(row, start=1):
                _write_cell(worksheet, row_number, column, value, money, amount_format)
        worksheet.freeze_panes = "A2"
        _set_widths(worksheet, sheet, money)
    workbook.properties.creator = "tracker"
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    raw = io.BytesIO()
    # ExcelWriter, not Workbook.save: save() stamps the current time as "modified".
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return with_fixed_times(raw.getvalue())


def _write_cell(
    sheet: Worksheet, row: int, column: int, value: Cell, money: Currency, amount_format: str
) -> None:
    cell = sheet.cell(row, column)
    if value is None:
        return
    if isinstance(value, Money):
        cell.value = _exact(from_minor_units(value.units, money))
        cell.number_format = amount_format
    elif isinstance(value, Ratio):
        cell.value = Decimal(value.ten_thousandths).scaleb(-PCT_PLACES)
        cell.number_format = _RATIO_FORMAT
    elif isinstance(value, Decimal):
        cell.value = _exact(value)
    elif isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"  # never a formula, whatever the text
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = _DATE_FORMAT
    else:
        cell.value = value


def _exact(value: Decimal) -> Decimal | str:
    """A number a spreadsheet holds exactly, or its text when it would round it."""
    if len(value.as_tuple().digits) > EXACT_DIGITS:
        return f"{value:f}"
    return value


def _set_widths(sheet: Worksheet, table: Sheet, money: Currency) -> None:
    """Columns as wide as their name and the longest of the first rows' values."""
    for column, name in enumerate(table.header, start=1):
        longest = max((len(_csv_value(row[column - 1], money)) for row in table.rows[:200]),
                      default=0)  # fmt: skip
        width = min(max(len(name), longest, 8) + 2, 60)
        sheet.column_dimensions[get_column_letter(column)].width = width


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
