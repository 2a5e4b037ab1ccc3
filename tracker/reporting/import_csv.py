"""Reading an uploaded CSV file as rows of text, never guessing how it is written.

The encoding is UTF-8 (a byte order mark is accepted) unless the form declares
another; a file that is valid UTF-8 with characters beyond ASCII is refused under a
single-byte encoding, since it would be misread without a word. The delimiter is
the only one of ``,`` and ``;`` in the header line, else the one declared. Every
value is read as text (pandas with ``dtype=str`` and no missing-value guessing).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence

import pandas as pd

_ENCODING_NAMES = {"utf-8": "UTF-8", "windows-1252": "Windows-1252", "iso-8859-1": "ISO-8859-1"}


class CsvRefused(ValueError):
    """A CSV file that cannot be read; ``row`` is the spreadsheet row (0: the whole file)."""

    def __init__(self, row: int, message: str) -> None:
        self.row = row
        super().__init__(message)


def csv_rows(
    data: bytes, encoding: str, delimiter: str, columns: Sequence[str]
) -> Iterator[tuple[int, Sequence[object]]]:
    """(spreadsheet row number, values as text) of every line, the header first."""
    text = _decoded(data, encoding)
    if not text.strip():
        raise CsvRefused(0, "the file is empty")
    mark = _delimiter(text.split("\n", 1)[0], delimiter, columns)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=mark,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            doublequote=True,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise CsvRefused(0, "the file is empty") from None
    except pd.errors.ParserError as exc:
        raise _parser_error(str(exc), mark) from None
    for index, values in enumerate(frame.itertuples(index=False, name=None)):
        yield index + 1, ["" if not isinstance(value, str) else value for value in values]


def _decoded(data: bytes, encoding: str) -> str:
    """The file's text; CsvRefused naming the line where it stops being ``encoding``."""
    name = _ENCODING_NAMES[encoding]
    if encoding != "utf-8" and _is_utf8_text(data):
        raise CsvRefused(
            0, f"the file is written in UTF-8, not {name}: choose UTF-8 as its encoding"
        )
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = (
            "; if Excel saved it as plain CSV, choose Windows-1252" if encoding == "utf-8" else ""
        )
        raise CsvRefused(line, f"line {line} is not {name} text{hint}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvRefused(line, f"line {line} holds a NUL character: this is not a text file")
    return text.replace("\r\n", "\n")


def _is_utf8_text(data: bytes) -> bool:
    """Whether the bytes are UTF-8 with a character beyond ASCII (which a single-byte
    encoding would misread)."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(header_line: str, declared: str, columns: Sequence[str]) -> str:
    """The only one of , and ; in the header line; else the declared one."""
    found = [mark for mark in (",", ";") if mark in header_line]
    if len(found) == 1:
        if declared not in ("auto", found[0]):
            raise CsvRefused(
                1,
                f"the header line is separated by '{found[0]}', but '{declared}' was chosen "
                "as the delimiter",
            )
        return found[0]
    if declared != "auto":
        return declared
    if not found:
        raise CsvRefused(
            1,
            "the header line has no ',' or ';' between the column names; expected the "
            f"columns {', '.join(columns)}",
        )
    raise CsvRefused(
        1, "the header line holds both ',' and ';': choose the delimiter the file uses in the form"
    )


def _parser_error(message: str, mark: str) -> CsvRefused:
    expected = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if expected:
        width, line, seen = (int(group) for group in expected.groups())
        return CsvRefused(
            line,
            f"row {line} has {seen} values separated by '{mark}', the header {width}: "
            f"quote values that contain '{mark}'",
        )
    unclosed = re.search(r"EOF inside string starting at row (\d+)", message)
    if unclosed:
        row = int(unclosed.group(1)) + 1
        return CsvRefused(row, f'row {row} opens a quoted value (") that is never closed')
    return CsvRefused(0, "the file could not be read as CSV")
