"""Checking the rows of an import file against the contract, before anything is written.

Each row gets the checks the corresponding form gets (tracker.services.actuals,
kpis and fund): a year of the term that is open and has begun; amounts in the
contract's currency; a KPI the contract defines; an initiative both sides
approved; and, for spending, a fund that stays at or above zero unless the row
says it is pre-funding, checked row after row as if the rows before it were
written (tracker.domain.ledger). Every problem of every row is collected. The
contract's state comes in as plain data (``ContractState``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tracker.domain.calendar import contract_year_bounds
from tracker.domain.fields import FieldReader
from tracker.domain.ledger import FundPostings, LedgerYear, fund_ledger, newly_overdrawn
from tracker.domain.money import Currency, minor_units
from tracker.reporting.import_cells import is_formula_like
from tracker.reporting.import_files import Row, RowError, Table
from tracker.services.actuals import MAX_VOLUME
from tracker.services.delivery_rules import long_text
from tracker.services.initiatives import FUNDABLE
from tracker.services.kpis import KPI_LIMIT, QUARTERS

#: The value columns of each kind: a row with all of them blank is a template row left empty.
VALUE_COLUMNS = {
    "actuals": ("actual_cost", "actual_volume", "note"),
    "kpi_results": ("actual", *QUARTERS),
    "spending": ("initiative", "year", "amount", "description", "prefunding"),
}
_LISTED_NAMES = 10
#: Spreadsheets count days from 1899-12-30; 1970-01-01 to 2100-12-31 is this range.
_SERIAL_EPOCH = date(1899, 12, 30)
_SERIAL_DATES = (25569, 73415)


@dataclass(frozen=True)
class ContractState:
    """What the checks need to know of the contract, read in the import's transaction."""

    term_years: int
    start_date: date
    currency: Currency
    today: date
    #: Closed years, with the message that says so (when, by whom, how to correct).
    closed_years: Mapping[int, str] = field(default_factory=dict)
    #: Years that have a planned volume, so that an actual volume can be compared.
    planned_volume_years: frozenset[int] = frozenset()
    #: The contract's KPIs: name -> id.
    kpis: Mapping[str, int] = field(default_factory=dict)
    #: The contract's initiatives: id -> status.
    initiatives: Mapping[int, str] = field(default_factory=dict)
    #: The fund as it stands.
    ledger: tuple[LedgerYear, ...] = ()


@dataclass(frozen=True)
class ActualsLine:
    """A year's actual cost (minor units), and its volume and note when given."""

    row: int
    year: int
    cost: int
    volume: Decimal | None
    note: str | None


@dataclass(frozen=True)
class KpiLine:
    """A KPI's results in a year: the given ones of actual, q1..q4, as decimal text."""

    row: int
    kpi_id: int
    year: int
    values: Mapping[str, str]


@dataclass(frozen=True)
class SpendingLine:
    """A payment from the fund for an initiative (minor units)."""

    row: int
    initiative_id: int
    year: int
    amount: int
    text: str
    prefunding: bool


Line = ActualsLine | KpiLine | SpendingLine


def filled_rows(kind: str, table: Table) -> list[Row]:
    """The rows with at least one value filled in, or a value that could not be read
    (template rows left empty are skipped)."""
    columns = VALUE_COLUMNS[kind]
    unreadable = {error.row for error in table.errors}
    return [
        row
        for row in table.rows
        if row.number in unreadable or any(row.values.get(c) is not None for c in columns)
    ]


def checked_lines(
    kind: str, rows: list[Row], state: ContractState
) -> tuple[list[Line], list[RowError]]:
    """The rows as lines to write, and every problem found in them."""
    checks = {"actuals": _actuals, "kpi_results": _kpi_results, "spending": _spending}
    lines: list[Line] = []
    errors: list[RowError] = []
    check = checks[kind]
    fund = [FundPostings(y.committed, y.from_actuals, y.adjusted, y.spent) for y in state.ledger]
    seen: dict[object, int] = {}
    for row in rows:
        reader = FieldReader()
        line = check(reader, row, state, seen, fund)
        errors += [RowError(row.number, error.path, error.message) for error in reader.errors]
        if line is not None and not reader.errors:
            lines.append(line)
    return lines, errors


def _actuals(
    reader: FieldReader,
    row: Row,
    state: ContractState,
    seen: dict[object, int],
    _fund: list[FundPostings],
) -> ActualsLine | None:
    values = row.values
    year = _year(reader, values, state, started="record its actuals once it has started")
    cost = reader.required_field(
        values, "actual_cost", "actual_cost", reader.money, state.currency, positive=False
    )
    volume = None
    if values.get("actual_volume") is not None:
        volume = reader.quantity(
            values["actual_volume"], "actual_volume", low=Decimal(0), high=MAX_VOLUME, places=3
        )
        if volume is not None and year is not None and year not in state.planned_volume_years:
            reader.error("actual_volume", f"year {year} has no planned volume to compare with")
    note = long_text(reader, values.get("note"), "note", required=False)
    if year is None or cost is None:
        return None
    _once(reader, seen, year, row, f"year {year}")
    return ActualsLine(row.number, year, minor_units(cost, state.currency), volume, note)


def _kpi_results(
    reader: FieldReader,
    row: Row,
    state: ContractState,
    seen: dict[object, int],
    _fund: list[FundPostings],
) -> KpiLine | None:
    values = row.values
    kpi_id = _kpi(reader, values.get("kpi"), state.kpis)
    year = _year(reader, values, state, started="record its results once it has started")
    given: dict[str, str] = {}
    for name in ("actual", *QUARTERS):
        if values.get(name) is not None:
            number = reader.quantity(values[name], name, low=-KPI_LIMIT, high=KPI_LIMIT)
            if number is not None:
                given[name] = f"{number:f}"
    if kpi_id is None or year is None:
        return None
    _once(reader, seen, (kpi_id, year), row, f"{values.get('kpi')} in year {year}")
    return KpiLine(row.number, kpi_id, year, given)


def _spending(
    reader: FieldReader,
    row: Row,
    state: ContractState,
    _seen: dict[object, int],
    fund: list[FundPostings],
) -> SpendingLine | None:
    values = row.values
    initiative = _initiative(reader, values.get("initiative"), state.initiatives)
    year = _year(reader, values, state, started="post to a year that has begun")
    amount = reader.required_field(
        values, "amount", "amount", reader.money, state.currency, positive=True
    )
    text = long_text(reader, values.get("description"), "description", required=True)
    prefunding = values.get("prefunding") == "yes"
    if initiative is None or year is None or amount is None or text is None:
        return None
    units = minor_units(amount, state.currency)
    before = fund_ledger(fund)
    fund[year - 1] = fund[year - 1]._replace(spent=fund[year - 1].spent + units)
    overdrawn = newly_overdrawn(before, fund_ledger(fund), year)
    if overdrawn and not prefunding:
        reader.error(
            "prefunding",
            f"this row takes the fund below zero in year {', '.join(map(str, overdrawn))}; "
            "write yes in prefunding if the vendor pays ahead of the fund",
        )
    return SpendingLine(row.number, initiative, year, units, text, prefunding)


def _year(
    reader: FieldReader,
    values: Mapping[str, str | None],
    state: ContractState,
    *,
    started: str | None,
) -> int | None:
    """The row's contract year: in the term, open, and (when ``started`` says what for)
    begun by ``today``."""
    text = values.get("year")
    if text is None:
        reader.error("year", "required")
        return None
    expected = (
        f"expected a contract year from 1 to {state.term_years} "
        f"(year 1 starts on {state.start_date})"
    )
    if text.isdigit() and 1900 <= int(text) <= 2200 and int(text) > state.term_years:
        reader.error("year", f"{expected}; {text} looks like a calendar year")
        return None
    if text.isdigit() and _SERIAL_DATES[0] <= int(text) <= _SERIAL_DATES[1]:
        day = _SERIAL_EPOCH + timedelta(days=int(text))
        reader.error(
            "year", f"{expected}; {text} looks like a spreadsheet's serial number of {day}"
        )
        return None
    year = reader.whole_number(text, "year", 1, state.term_years)
    if year is None:
        return None
    if year in state.closed_years:
        reader.error("year", state.closed_years[year])
        return None
    start = contract_year_bounds(state.start_date, year)[0]
    if started and start > state.today:
        reader.error("year", f"year {year} starts on {start}; {started}")
        return None
    return year


def _once(reader: FieldReader, seen: dict[object, int], key: object, row: Row, what: str) -> None:
    """An error when the same year (or KPI and year) comes twice in a file."""
    if key in seen:
        reader.error("year", f"{what} is already on row {seen[key]}")
    else:
        seen[key] = row.number


def _kpi(reader: FieldReader, name: str | None, kpis: Mapping[str, int]) -> int | None:
    if name is None:
        reader.error("kpi", "required")
        return None
    wanted = name.strip(" ")
    kpi_id = kpis.get(wanted)
    if kpi_id is None and wanted.startswith("'") and is_formula_like(wanted[1:]):
        # Exports and templates write such names with a leading ' so that spreadsheets
        # never run them; the name itself is what follows.
        kpi_id = kpis.get(wanted[1:])
    if kpi_id is None:
        names = sorted(kpis)
        listed = ", ".join(names[:_LISTED_NAMES]) + (", ..." if len(names) > _LISTED_NAMES else "")
        reader.error(
            "kpi",
            f'this contract has no KPI named "{wanted[:60]}"; its KPIs are: {listed}'
            if names
            else "this contract has no KPIs yet: define them on the delivery page first",
        )
    return kpi_id


def _initiative(reader: FieldReader, value: str | None, statuses: Mapping[int, str]) -> int | None:
    if value is None:
        reader.error("initiative", "required")
        return None
    number = reader.whole_number(value, "initiative", 1, 2**31 - 1)
    if number is None:
        return None
    status = statuses.get(number)
    if status is None:
        reader.error("initiative", f"this contract has no initiative #{number}")
        return None
    if status not in FUNDABLE:
        reader.error(
            "initiative",
            f"initiative #{number} is {status.replace('_', ' ')}: the fund pays only for "
            "initiatives both sides approved",
        )
        return None
    return number
