"""Reading uploaded CSV and XLSX files: what a file is, its header, and each cell's form.

Nothing here touches a database: these are the checks made before any row is
compared with a contract (tracker.reporting.import_files and its helpers).
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from tracker.reporting import import_xlsx
from tracker.reporting.import_files import (
    MAX_ROWS,
    FileRejected,
    ReadOptions,
    RowError,
    Table,
    read_upload,
)
from tracker.reporting.import_xlsx import XlsxLimits, XlsxRefused, check_xlsx

UTF8 = ReadOptions()


def read_csv(text: str | bytes, kind: str = "actuals", **options: str) -> Table:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_upload(kind, "figures.csv", data, ReadOptions(**options))


def refused(kind: str, filename: str, data: bytes, **options: str) -> tuple[RowError, ...]:
    with pytest.raises(FileRejected) as caught:
        read_upload(kind, filename, data, ReadOptions(**options))
    return caught.value.errors


def workbook_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_xlsx(rows: list[list[Any]], kind: str = "actuals") -> Table:
    return read_upload(kind, "figures.xlsx", workbook_bytes(rows), UTF8)


def zip_bytes(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook ``data`` with part ``name`` replaced (or added)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[name] = content
    return zip_bytes(parts)


def cell_errors(table: Table) -> dict[tuple[int, str], str]:
    return {(error.row, error.column): error.reason for error in table.errors}


# -- CSV: encoding --------------------------------------------------------------------------


def test_a_utf8_csv_with_a_byte_order_mark_is_read_and_its_header_found() -> None:
    table = read_csv("\ufeffyear,actual_cost,note\n1,950000.00,Crème brûlée\n")
    assert table.columns == ("year", "actual_cost", "note")
    assert [row.values for row in table.rows] == [
        {"year": "1", "actual_cost": "950000.00", "note": "Crème brûlée"}
    ]
    assert table.rows[0].number == 2


def test_a_windows_1252_file_read_as_utf8_is_refused_naming_the_line() -> None:
    data = "year,actual_cost,note\n1,1.00,ok\n2,2.00,Crème\n".encode("windows-1252")
    [error] = refused("actuals", "a.csv", data)
    assert error.row == 3
    assert "line 3 is not UTF-8" in error.reason
    assert "Windows-1252" in error.reason


def test_a_declared_windows_1252_file_is_read_in_that_encoding() -> None:
    data = "year,actual_cost,note\n1,1.00,Crème – 5 €\n".encode("windows-1252")
    table = read_csv(data, encoding="windows-1252")
    assert table.rows[0].values["note"] == "Crème – 5 €"


def test_a_utf8_file_declared_as_latin_1_is_refused_rather_than_misread() -> None:
    data = "year,actual_cost,note\n1,1.00,Crème\n".encode()
    [error] = refused("actuals", "a.csv", data, encoding="iso-8859-1")
    assert "written in UTF-8, not ISO-8859-1" in error.reason


def test_a_nul_byte_in_a_csv_is_refused_naming_its_line() -> None:
    [error] = refused("actuals", "a.csv", b"year,actual_cost\n1,2\n3\x00,4\n")
    assert error.row == 3
    assert "NUL" in error.reason


def test_an_empty_file_is_refused() -> None:
    assert "empty" in refused("actuals", "a.csv", b"")[0].reason
    assert "empty" in refused("actuals", "a.csv", b"\n")[0].reason


# -- CSV: delimiter and decimal separator ---------------------------------------------------


def test_a_semicolon_delimiter_is_found_from_the_header_line() -> None:
    table = read_csv("year;actual_cost;note\n1;950000.00;a, b and c\n")
    assert table.rows[0].values == {"year": "1", "actual_cost": "950000.00", "note": "a, b and c"}


def test_a_header_with_both_delimiters_needs_the_delimiter_declared() -> None:
    text = "year;actual_cost;note,x\n1;2.00;a\n"
    [error] = refused("actuals", "a.csv", text.encode())
    assert error.row == 1
    assert "choose the delimiter" in error.reason
    with pytest.raises(FileRejected) as caught:
        read_csv(text, delimiter=";")
    # Declared, the file is split on ';' and the header's last name is then unknown.
    assert caught.value.errors[0].column == "note,x"


def test_a_declared_delimiter_that_the_header_contradicts_is_refused() -> None:
    [error] = refused("actuals", "a.csv", b"year,actual_cost\n1,2.00\n", delimiter=";")
    assert "separated by ','" in error.reason


def test_a_header_without_any_delimiter_is_refused() -> None:
    [error] = refused("actuals", "a.csv", b"year actual_cost\n1 2.00\n")
    assert "no ',' or ';'" in error.reason


def test_a_decimal_comma_is_read_only_when_declared() -> None:
    text = "year;actual_cost\n1;950000,50\n"
    table = read_csv(text, decimal=",")
    assert table.rows[0].values["actual_cost"] == "950000.50"
    undeclared = read_csv(text)
    reason = cell_errors(undeclared)[(2, "actual_cost")]
    assert "choose the decimal comma" in reason


def test_with_a_decimal_comma_grouping_separators_are_refused() -> None:
    table = read_csv("year;actual_cost\n1;1.234,56\n2;1 234,56\n", decimal=",")
    errors = cell_errors(table)
    assert "no thousands separators" in errors[(2, "actual_cost")]
    assert "no thousands separators" in errors[(3, "actual_cost")]


def test_thousands_separators_are_refused_with_the_plain_form_to_use() -> None:
    table = read_csv('year,actual_cost\n1,"1,234.56"\n')
    reason = cell_errors(table)[(2, "actual_cost")]
    assert "plain decimal such as 1234.56" in reason
    assert '"1,234.56"' in reason


def test_a_row_with_more_values_than_the_header_is_refused_naming_the_row() -> None:
    [error] = refused("actuals", "a.csv", b"year,actual_cost\n1,2.00\n\n2,1,234.56\n")
    assert error.row == 4
    assert "3 values" in error.reason


def test_an_unclosed_quote_is_refused() -> None:
    [error] = refused("actuals", "a.csv", b'year,actual_cost,note\n1,2.00,"open\n')
    assert "never closed" in error.reason


# -- header ------------------------------------------------------------------------------


def test_unknown_missing_and_repeated_columns_are_each_reported_on_row_1() -> None:
    errors = refused("actuals", "a.csv", b"Year,cost,year,note\n1,2,1,x\n")
    assert {(e.row, e.column) for e in errors} == {(1, "cost"), (1, "year"), (1, "actual_cost")}
    reasons = {e.column: e.reason for e in errors}
    assert "expected the columns year, actual_cost, actual_volume, note" in reasons["cost"]
    assert reasons["year"] == "this column appears twice"
    assert reasons["actual_cost"] == "this column is missing"


def test_column_names_ignore_case_surrounding_spaces_and_order() -> None:
    table = read_csv(" NOTE , Actual_Cost,YEAR\nhi,1.00,2\n")
    assert table.rows[0].values == {"note": "hi", "actual_cost": "1.00", "year": "2"}


def test_a_value_under_an_unnamed_column_is_refused() -> None:
    table = read_xlsx([["year", "actual_cost", None, "note"], [1, "2.00", "stray", "x"]])
    assert cell_errors(table) == {(2, "column C"): "a value in a column without a name"}


# -- rows ---------------------------------------------------------------------------------


def test_blank_rows_are_skipped_but_rows_keep_their_spreadsheet_numbers() -> None:
    table = read_csv('year,actual_cost,note\n\n1,2.00,"two\nlines"\n,,\n3,4.00,\n')
    assert [(row.number, row.values["year"]) for row in table.rows] == [(3, "1"), (5, "3")]
    assert table.rows[0].values["note"] == "two\nlines"


def test_a_file_of_more_than_ten_thousand_rows_is_refused() -> None:
    lines = "".join(f"{n % 5 + 1},1.00\n" for n in range(MAX_ROWS + 1))
    [error] = refused("actuals", "a.csv", f"year,actual_cost\n{lines}".encode())
    assert error.row == MAX_ROWS + 2
    assert "more than 10,000 rows" in error.reason
    assert len(read_csv(f"year,actual_cost\n{lines[: lines.rindex('1,') - 1]}\n").rows) <= MAX_ROWS


# -- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize("lead", ["=", "+", "@", "\t", "\r"])
def test_formula_like_text_is_literal_in_text_fields_and_refused_in_number_fields(
    lead: str,
) -> None:
    value = f"{lead}1+2"
    quoted = '"' + value.replace('"', '""') + '"'
    table = read_csv(f"year,actual_cost,note\n1,{quoted},{quoted}\n")
    assert table.rows[0].values["note"] == value
    assert table.rows[0].values["actual_cost"] is None
    reason = cell_errors(table)[(2, "actual_cost")]
    assert "not read in number fields" in reason


def test_a_minus_before_a_plain_decimal_is_a_negative_number() -> None:
    table = read_csv("kpi,year,actual\nLatency,1,-12.5\n", kind="kpi_results")
    assert table.rows[0].values["actual"] == "-12.5"
    assert not table.errors


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e5", "1E+5", "12.", ".5", "0x10"])
def test_numbers_that_are_not_plain_decimals_are_refused(value: str) -> None:
    table = read_csv(f"year,actual_cost\n1,{value}\n")
    assert "plain decimal" in cell_errors(table)[(2, "actual_cost")]


@pytest.mark.parametrize("value", ["2025-01-01", "01/01/2025", "1.1.2025", "1-Jan-25", "Jan-25"])
def test_a_date_in_the_year_column_is_refused_with_a_clear_message(value: str) -> None:
    table = read_csv(f"year,actual_cost\n{value},1.00\n")
    reason = cell_errors(table)[(2, "year")]
    assert "looks like a date" in reason
    assert "contract year" in reason


def test_yes_and_no_are_the_only_prefunding_words() -> None:
    table = read_csv(
        "initiative,year,amount,description,prefunding\n1,1,2.00,a,YES\n1,1,2.00,b,\n"
        "1,1,2.00,c,maybe\n",
        kind="spending",
    )
    assert [row.values["prefunding"] for row in table.rows] == ["yes", None, None]
    assert cell_errors(table) == {(4, "prefunding"): 'expected yes or no, got "maybe"'}


def test_an_unsupported_file_name_is_refused_and_never_used_as_a_path() -> None:
    [error] = refused("actuals", "../../app.py", b"year,actual_cost\n1,2\n")
    assert "expected a .csv or .xlsx file" in error.reason


# -- XLSX cells ---------------------------------------------------------------------------


def test_xlsx_numbers_are_read_as_typed_never_through_binary_floating_point() -> None:
    table = read_xlsx([["year", "actual_cost", "note"], [1, 0.1, None], [2.0, 950000.07, 12.5]])
    assert [row.values for row in table.rows] == [
        {"year": "1", "actual_cost": "0.1", "note": None},
        {"year": "2", "actual_cost": "950000.07", "note": "12.5"},
    ]
    assert not table.errors


def test_xlsx_numbers_beyond_fifteen_significant_digits_are_refused() -> None:
    table = read_xlsx([["year", "actual_cost"], [1, 1234567890123456789], [2, 1 / 3]])
    errors = cell_errors(table)
    assert "a spreadsheet keeps only 15" in errors[(2, "actual_cost")]
    assert "16 significant digits" in errors[(3, "actual_cost")]


def test_an_xlsx_date_in_the_year_column_is_refused() -> None:
    table = read_xlsx([["year", "actual_cost"], [datetime(1900, 1, 1), "1.00"]])
    reason = cell_errors(table)[(2, "year")]
    assert '"1900-01-01" looks like a date' in reason


def test_xlsx_formulas_are_text_never_computed_values() -> None:
    table = read_xlsx([["year", "actual_cost", "note"], [1, "=1000*2", '=HYPERLINK("x")']])
    assert table.rows[0].values["note"] == '=HYPERLINK("x")'
    assert "not read in number fields" in cell_errors(table)[(2, "actual_cost")]


def test_xlsx_booleans_are_refused_as_numbers_and_read_as_yes_or_no() -> None:
    table = read_xlsx(
        [["initiative", "year", "amount", "description", "prefunding"], [1, 1, True, "x", True]],
        kind="spending",
    )
    assert table.rows[0].values["prefunding"] == "yes"
    assert cell_errors(table) == {(2, "amount"): "expected a number, got TRUE"}


@pytest.mark.parametrize("stored", ["1E+400", "-1E+400"])
def test_an_xlsx_number_that_is_not_finite_is_refused(stored: str) -> None:
    data = workbook_bytes([["year", "actual_cost"], [1, 1.5]])
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").replace(
            b"<v>1.5</v>", f"<v>{stored}</v>".encode()
        )
    table = read_upload(
        "actuals", "a.xlsx", with_part(data, "xl/worksheets/sheet1.xml", sheet), UTF8
    )
    assert "finite number" in cell_errors(table)[(2, "actual_cost")]


# -- XLSX: what the file really is ----------------------------------------------------------


@pytest.fixture
def no_spreadsheet_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if openpyxl is asked to parse the file."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("openpyxl parsed a file that should have been refused before")

    monkeypatch.setattr(import_xlsx, "load_workbook", refuse)


@pytest.mark.usefixtures("no_spreadsheet_parsing")
@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>", "web page (HTML)"),
        (b"\xef\xbb\xbf  <html><table></table></html>", "web page (HTML)"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100), "a program"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "a program"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel (.xls)"),
        (b"year,actual_cost\n1,2\n", "not an .xlsx workbook"),
        (b"PK\x03\x04 damaged", "damaged ZIP"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_saying_what_it_is(data: bytes, says: str) -> None:
    [error] = refused("actuals", "figures.xlsx", data)
    assert error.row == 0
    assert says in error.reason


@pytest.mark.usefixtures("no_spreadsheet_parsing")
def test_a_zip_without_the_workbook_parts_is_refused() -> None:
    [error] = refused("actuals", "a.xlsx", zip_bytes({"hello.txt": b"hi"}))
    assert "[Content_Types].xml" in error.reason
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    assert "xl/workbook.xml" in refused("actuals", "a.xlsx", data)[0].reason


@pytest.mark.usefixtures("no_spreadsheet_parsing")
def test_a_zip_bomb_is_refused_before_it_is_expanded() -> None:
    bomb = with_part(
        workbook_bytes([["year"]]), "xl/worksheets/sheet1.xml", b"<a>" + b" " * 40_000_000
    )
    assert len(bomb) < 200_000
    [error] = refused("actuals", "bomb.xlsx", bomb)
    assert "zip bomb" in error.reason


@pytest.mark.usefixtures("no_spreadsheet_parsing")
def test_a_workbook_expanding_beyond_the_size_limit_is_refused() -> None:
    data = workbook_bytes([["year", "actual_cost"], [1, 2]])
    with pytest.raises(XlsxRefused, match="at most 1,000 are read"):
        check_xlsx(data, XlsxLimits(total_bytes=1000))
    # Parts stored without compression expand 1:1, yet their sum still counts.
    parts = {f"xl/media/image{n}.png": bytes(1_000_000) for n in range(53)}
    parts |= {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
    big = zip_bytes(parts, zipfile.ZIP_STORED)
    assert "at most 52,428,800 are read" in refused("actuals", "a.xlsx", big)[0].reason


@pytest.mark.usefixtures("no_spreadsheet_parsing")
def test_a_workbook_of_too_many_parts_is_refused() -> None:
    parts = {f"xl/part{n}.xml": b"<a/>" for n in range(1001)}
    parts |= {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
    assert "more than 1000 parts" in refused("actuals", "a.xlsx", zip_bytes(parts))[0].reason


ENTITY_TRICK = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<worksheet><sheetData><row><c><v>&lol2;</v></c></row></sheetData></worksheet>"
)


@pytest.mark.usefixtures("no_spreadsheet_parsing")
@pytest.mark.parametrize(
    "part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "[Content_Types].xml"]
)
def test_an_xml_part_declaring_entities_is_refused(part: str) -> None:
    data = with_part(workbook_bytes([["year", "actual_cost"], [1, 2]]), part, ENTITY_TRICK)
    [error] = refused("actuals", "a.xlsx", data)
    assert "declares a document type or entities" in error.reason


@pytest.mark.usefixtures("no_spreadsheet_parsing")
def test_an_entity_declaration_split_across_read_chunks_is_still_found() -> None:
    padding = b"<worksheet>" + b" " * (64 * 1024 - 14)
    sheet = padding + b"<!ENTITY x 'y'><sheetData/></worksheet>"
    data = with_part(workbook_bytes([["year"]]), "xl/worksheets/sheet1.xml", sheet)
    assert "entities" in refused("actuals", "a.xlsx", data)[0].reason


@pytest.mark.usefixtures("no_spreadsheet_parsing")
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (ENTITY_TRICK.decode().encode("utf-16"), "UTF-16"),
        (b'<?xml version="1.0" encoding="cp037"?>' + "<worksheet/>".encode("cp037"), "cp037"),
    ],
)
def test_an_xml_part_in_another_encoding_than_utf8_is_refused(content: bytes, says: str) -> None:
    data = with_part(workbook_bytes([["year"]]), "xl/worksheets/sheet1.xml", content)
    assert says in refused("actuals", "a.xlsx", data)[0].reason


def test_a_workbook_the_library_cannot_read_is_refused_cleanly() -> None:
    data = with_part(workbook_bytes([["year"]]), "xl/workbook.xml", b"<not a workbook")
    [error] = refused("actuals", "a.xlsx", data)
    assert "could not be read" in error.reason


def test_an_xlsx_header_is_checked_like_a_csv_one() -> None:
    errors = refused("kpi_results", "a.xlsx", workbook_bytes([["kpi", "year", "result"]]))
    assert {(e.row, e.column) for e in errors} == {(1, "result"), (1, "actual")}
