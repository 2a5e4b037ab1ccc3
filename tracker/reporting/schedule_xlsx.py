"""The yearly schedule as an Excel workbook: exact amounts, real dates, no formulas.

Amounts are written from ``Decimal`` values with the currency's places, so a
spreadsheet shows what the JSON document says. The same schedule always gives
the same bytes: the document times and the zip entry times are fixed.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from tracker.domain.money import Currency, from_minor_units, units_text
from tracker.domain.schedule import PCT_PLACES, SUM_FIELDS, Schedule, YearFigures
from tracker.domain.schedule_document import YEAR_KEYS

SHEET_TITLE = "Schedule"
#: Where things are on the sheet (1-based rows).
TITLE_ROW, NOTE_ROW, HEADER_ROW, FIRST_YEAR_ROW = 1, 2, 3, 4

_FIXED_TIME = datetime(2000, 1, 1)
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
# A cell text starting with one of these may be run as a formula by a spreadsheet.
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_MAX_CELL_TEXT = 32_767  # Excel's limit on the characters of one cell
# A double holds any decimal of up to 15 significant digits exactly; longer
# amounts are written as text rather than rounded without a word.
_EXACT_DIGITS = 15
_DATE_FORMAT = "yyyy-mm-dd"
_RATE_FORMAT = "0.00####"  # escalation rates carry up to six places
_PCT_FORMAT = "0." + "0" * PCT_PLACES
_BOLD = Font(bold=True)
_COLUMN = {key: index for index, key in enumerate(YEAR_KEYS, start=1)}
_AMOUNT_KEYS = tuple(key for key in YEAR_KEYS[4:] if key != "efficiency_pct")


def schedule_xlsx(schedule: Schedule, title: str) -> bytes:
    """The schedule as an .xlsx workbook: title, spec column names, one row a year, totals."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    money = schedule.currency
    amount_format = money_format(money)

    title_cell = sheet.cell(TITLE_ROW, 1)
    title_cell.value = safe_text(title)
    title_cell.data_type = "s"  # never a formula, whatever the text
    title_cell.font = Font(bold=True, size=14)
    sheet.cell(NOTE_ROW, 1, f"Amounts in {money.code}")
    for key, column in _COLUMN.items():
        sheet.cell(HEADER_ROW, column, key).font = _BOLD

    row = FIRST_YEAR_ROW
    for year in schedule.years:
        _write_year(sheet, row, year, money, amount_format)
        row += 1
    sheet.cell(row, 1, "Total").font = _BOLD
    for key in SUM_FIELDS:
        cell = sheet.cell(row, _COLUMN[key], _amount(getattr(schedule.totals, key), money))
        cell.number_format = amount_format
        cell.font = _BOLD
    npv = sheet.cell(row + 1, _COLUMN["net_margin"], _amount(schedule.totals.npv_net_margin, money))
    npv.number_format = amount_format
    sheet.cell(row + 1, 1, "NPV of net margin")

    sheet.freeze_panes = sheet.cell(FIRST_YEAR_ROW, 1)
    _set_widths(sheet, schedule)
    workbook.properties.creator = "tracker"
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    raw = io.BytesIO()
    # ExcelWriter, not Workbook.save: save() stamps the current time as "modified".
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return with_fixed_times(raw.getvalue())


def money_format(money: Currency) -> str:
    """The number format showing a currency's places: #,##0.00 (EUR), #,##0 (JPY)."""
    return "#,##0." + "0" * money.places if money.places else "#,##0"


def safe_text(text: str) -> str:
    """User text for a cell: no characters XML forbids, and never read as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[: _MAX_CELL_TEXT - 1]
    return "'" + text if text.startswith(_FORMULA_LEADS) else text


def _write_year(
    sheet: Worksheet, row: int, year: YearFigures, money: Currency, amount_format: str
) -> None:
    """One contract year as one row, in the spec's column order."""
    for key, column in _COLUMN.items():
        value = getattr(year, key)
        cell = sheet.cell(row, column)
        if key == "year":
            cell.value = value
        elif isinstance(value, date):
            cell.value = value
            cell.number_format = _DATE_FORMAT
        elif key == "escalation":
            cell.value = value  # a Decimal rate, or None for an empty cell
            cell.number_format = _RATE_FORMAT
        elif key == "efficiency_pct":
            cell.value = None if value is None else Decimal(value).scaleb(-PCT_PLACES)
            cell.number_format = _PCT_FORMAT
        else:
            cell.value = _amount(value, money)
            cell.number_format = amount_format


def _amount(units: int, money: Currency) -> Decimal | str:
    """Minor units as an exact amount; as text if a spreadsheet number would round it."""
    amount = from_minor_units(units, money)
    if len(amount.as_tuple().digits) > _EXACT_DIGITS:
        return units_text(units, money)
    return amount


def _set_widths(sheet: Worksheet, schedule: Schedule) -> None:
    """Columns wide enough for their header and their largest grouped amount."""
    widths = {"year": 18, "start": 12, "end": 12, "escalation": 11, "efficiency_pct": 15}
    amounts = [*schedule.totals]
    for year in schedule.years:
        amounts += (getattr(year, key) for key in _AMOUNT_KEYS)
    # The negative of the largest magnitude is the longest text (it has the sign).
    longest = -max((abs(units) for units in amounts), default=0)
    amount_width = len(units_text(longest, schedule.currency, grouped=True)) + 3
    for key, column in _COLUMN.items():
        width = widths.get(key, max(amount_width, len(key) + 2))
        sheet.column_dimensions[get_column_letter(column)].width = width


def with_fixed_times(data: bytes) -> bytes:
    """The same zip archive with every entry dated ``_ZIP_TIME`` instead of now."""
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info))
    return output.getvalue()
