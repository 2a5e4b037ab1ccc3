"""Reading the first sheet of an uploaded .xlsx workbook, after checking its bytes.

An uploaded workbook is untrusted: before openpyxl parses anything, the bytes must
be a ZIP archive holding ``[Content_Types].xml`` and ``xl/workbook.xml``, of a
bounded size once expanded (a zip bomb is refused), with no XML part that declares
a document type or entities (entity expansion tricks) or is written in an encoding
other than UTF-8 (which could hide such a declaration from the check). HTML pages
saved with an .xlsx name, old .xls workbooks and executables are refused with
a message saying what the file really is.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from openpyxl import load_workbook


@dataclass(frozen=True)
class XlsxLimits:
    """How large a workbook may be."""

    #: The sum of the expanded sizes of every part.
    total_bytes: int = 50 * 1024 * 1024
    #: Parts larger than this must not expand more than ``max_ratio`` times.
    large_part_bytes: int = 1024 * 1024
    max_ratio: int = 100
    max_parts: int = 1000
    #: Rows read (blank ones included) before giving up on a sheet.
    max_sheet_rows: int = 20_000


LIMITS = XlsxLimits()
_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_MARKUP_DECLARATIONS = (b"<!doctype", b"<!entity")
_OVERLAP = 16
_CHUNK = 64 * 1024
_XML_DECLARATION = re.compile(rb"<\?xml[^>]*?\?>", re.IGNORECASE)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", re.IGNORECASE)


class XlsxRefused(ValueError):
    """An upload that is not a workbook this product reads; the message says why."""


def check_xlsx(data: bytes, limits: XlsxLimits = LIMITS) -> None:
    """XlsxRefused unless the bytes are a plausible, bounded, entity-free .xlsx workbook."""
    if not data.startswith(b"PK\x03\x04"):
        raise XlsxRefused(_what_it_is(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise XlsxRefused("the file is a damaged ZIP archive, not a readable workbook") from None
    with archive:
        if len(parts) > limits.max_parts:
            raise XlsxRefused(f"the workbook has more than {limits.max_parts} parts")
        names = {part.filename for part in parts}
        for required in _REQUIRED_PARTS:
            if required not in names:
                raise XlsxRefused(
                    f"the archive has no {required}: it is not an .xlsx workbook "
                    "(save the file from the spreadsheet as Excel Workbook, .xlsx)"
                )
        total = sum(part.file_size for part in parts)
        if total > limits.total_bytes:
            raise XlsxRefused(
                f"the workbook expands to {total:,} bytes; at most {limits.total_bytes:,} are read"
            )
        for part in parts:
            _check_part(archive, part, limits)


def xlsx_rows(data: bytes, limits: XlsxLimits = LIMITS) -> Iterator[tuple[int, Sequence[object]]]:
    """(spreadsheet row number, cell values) of the first sheet, after ``check_xlsx``.

    Values are as openpyxl gives them (str, int, float, bool, datetime or None);
    formulas come as their text ("=SUM(A1:A3)"), never as a computed value."""
    check_xlsx(data, limits)
    with warnings.catch_warnings():
        # openpyxl warns about features it skips (data validation, default styles).
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_links=False
            )
        except Exception:
            raise XlsxRefused("the workbook could not be read; save it again as .xlsx") from None
        try:
            if not workbook.worksheets:
                raise XlsxRefused("the workbook has no worksheet")
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            number = 0
            while True:
                try:
                    values = next(rows)
                except StopIteration:
                    return
                except Exception:
                    raise XlsxRefused(
                        f"the first sheet could not be read after row {number}; "
                        "save the workbook again as .xlsx"
                    ) from None
                number += 1
                if number > limits.max_sheet_rows:
                    raise XlsxRefused(
                        f"the first sheet has more than {limits.max_sheet_rows:,} rows"
                    )
                yield number, values
        finally:
            workbook.close()


def _what_it_is(data: bytes) -> str:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data.startswith(b"MZ") or data.startswith(b"\x7fELF"):
        return "the file is a program, not a workbook"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<table", b"<meta")):
        return (
            "the file is a web page (HTML) with a spreadsheet's name; open it in the "
            "spreadsheet and save it as Excel Workbook (.xlsx)"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return (
            "the file is an old Excel (.xls) or password-protected workbook; save it as "
            "Excel Workbook (.xlsx) without a password"
        )
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "the file is an XML document, not an .xlsx workbook"
    return "the file is not an .xlsx workbook (an .xlsx file is a ZIP archive)"


def _check_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: XlsxLimits) -> None:
    """One part: not encrypted, not expanding absurdly, and, if XML, free of declarations."""
    if part.flag_bits & 0x1:
        raise XlsxRefused("the workbook is encrypted; save it without a password")
    if part.file_size > limits.large_part_bytes and (
        part.compress_size == 0 or part.file_size > limits.max_ratio * part.compress_size
    ):
        raise XlsxRefused(
            f"the part {_name(part)} expands more than {limits.max_ratio} times; "
            "the file looks like a zip bomb"
        )
    read = 0
    tail = b""
    first = True
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                read += len(chunk)
                if read > part.file_size:
                    raise XlsxRefused(f"the part {_name(part)} is larger than it declares")
                if first:
                    first = False
                    if not _is_xml_start(chunk, part):
                        return  # a picture or other binary part: openpyxl does not parse it
                window = (tail + chunk).lower()
                for declaration in _MARKUP_DECLARATIONS:
                    if declaration in window:
                        raise XlsxRefused(
                            f"the part {_name(part)} declares a document type or entities "
                            f"({declaration.decode().upper()}), which workbooks never need"
                        )
                tail = window[-_OVERLAP:]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise XlsxRefused(f"the part {_name(part)} is damaged or compressed oddly") from None


def _is_xml_start(chunk: bytes, part: zipfile.ZipInfo) -> bool:
    """Whether a part begins as UTF-8 XML; XlsxRefused for XML in another encoding."""
    if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or chunk[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        raise XlsxRefused(f"the part {_name(part)} is written in UTF-16; workbooks use UTF-8")
    head = chunk.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not head.startswith(b"<"):
        return False
    declaration = _XML_DECLARATION.match(head)
    if declaration:
        encoding = _ENCODING.search(declaration.group(0))
        if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            raise XlsxRefused(
                f"the part {_name(part)} is written in {encoding.group(1).decode()}; "
                "workbooks use UTF-8"
            )
    return True


def _name(part: zipfile.ZipInfo) -> str:
    name = part.filename
    return name if len(name) <= 60 and name.isprintable() else repr(name[:57]) + "..."
