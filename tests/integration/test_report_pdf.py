"""The annual report's PDF says what the model computes: every money figure of the summary,
the plan/actual/variance table, the fund row and the curves table is first checked against
an independent computation from the terms (compute_schedule and actual_figures), then found
in the PDF's text as the page formats it; and the PDF has its page furniture: page numbers,
the running header, the draft watermark only on a draft.

The contract is the fixed-5y example from 2022 with everything the report shows in year 1: a
volume driver (1,000 users planned, 1,100 actual), two KPIs with results (one met, one
missed), an initiative delivered with 5,000.00 spent on it, an adjustment of -100.00, and
the actual cost of 950,000.00. It is built, signed and frozen once for the module.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from conftest import _empty  # the same clean start and finish as the per-test app
from delivery_factory import TODAY, Delivery, approved_initiative, contract_in_delivery, fixed_terms
from flask import Flask
from pypdf import PdfReader
from report_factory import draft, renderer, sign, view
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.db.report_models import AnnualReport
from tracker.db.session import engine_of, new_session
from tracker.domain.actuals import ActualFigures, actual_figures, variance
from tracker.domain.schedule import Schedule, compute_schedule
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals, set_delivery_plan
from tracker.services.delivery import DeliveryView, delivery_view
from tracker.services.fund import record_adjustment, record_spending
from tracker.services.initiatives import move_initiative
from tracker.services.kpis import create_kpi, record_kpi_result
from tracker.services.year_close import close_year

#: Year 1 of the contract below, in minor units (EUR cents).
ACTUAL_COST = 95_000_000
SPENT = 500_000
ADJUSTED = -10_000
PLANNED_USERS = Decimal("1000")
ACTUAL_USERS = Decimal("1100")
NAME = "Managed workplace services"


@dataclass(frozen=True)
class Rendered:
    """The frozen report of year 1 and the PDFs of its draft and of the frozen report."""

    document: dict[str, Any]
    draft_pdf: bytes
    frozen_pdf: bytes

    @property
    def draft_pages(self) -> list[str]:
        return page_texts(self.draft_pdf)

    @property
    def frozen_pages(self) -> list[str]:
        return page_texts(self.frozen_pdf)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text with every run of blanks and line breaks as one space, case folded."""
    return " ".join(text.split()).casefold()


def everything_in_year_1(session: Session) -> Delivery:
    """The contract with a volume driver, KPI results, a delivered initiative, spending and
    an adjustment in year 1, and year 1 closed."""
    delivery = contract_in_delivery(session, code="PDF-1")
    contract = delivery.contract_id

    def shown() -> DeliveryView:
        return delivery_view(session, SYSTEM, contract, today=TODAY)

    set_delivery_plan(
        session, delivery.vendor_staff, contract, volume_name="Users", volume_unit="users",
        planned_volumes={1: str(PLANNED_USERS), 2: "1050"}, initiatives_per_year="2",
        expected_version=0,
    )  # fmt: skip
    record_actuals(
        session, delivery.vendor_staff, contract, 1, actual_cost="950000.00",
        actual_volume=str(ACTUAL_USERS), note="More users than planned",
        expected_version=shown().year(1).version, today=TODAY,
    )  # fmt: skip
    for name, unit, direction, target, result in (
        ("Availability", "%", "higher", "99.5", "99.7"),
        ("Resolution time", "h", "lower", "4", "5"),
    ):
        kpi = create_kpi(
            session, delivery.buyer_staff, contract, name=name, unit=unit,
            higher_is_better=direction, tolerance="0", targets={1: target, 2: target},
        )  # fmt: skip
        kpi_version = next(k for k in shown().kpis if k.id == kpi).year(1).version
        record_kpi_result(
            session, delivery.vendor_staff, kpi, 1, actual=result, expected_version=kpi_version,
            today=TODAY,
        )  # fmt: skip
    initiative = approved_initiative(session, delivery, budget="10000.00")

    def version() -> int:
        return next(i.version for i in shown().initiatives if i.id == initiative)

    move_initiative(
        session, delivery.vendor_staff, initiative, "in_progress", expected_version=version()
    )
    record_spending(
        session, delivery.vendor_staff, initiative, 1, "5000.00", "Tooling", today=TODAY
    )
    record_adjustment(
        session, delivery.buyer_finance, contract, 1, "-100.00", "Bank charges", today=TODAY
    )
    move_initiative(
        session, delivery.vendor_staff, initiative, "delivered", expected_version=version(),
        delivered_year=1, realised_saving="11000.00", note="Fewer password tickets",
    )  # fmt: skip
    close_year(session, delivery.buyer_finance, contract, 1, today=TODAY)
    return delivery


@pytest.fixture(scope="module")
def rendered(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Built and rendered once: a draft PDF, then both signatures and the stored PDF."""
    app: Flask = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test secret key",
            "REPORTS_DIR": str(tmp_path_factory.mktemp("reports")),
        }
    )
    engine = engine_of(app)
    _empty(engine)
    try:
        with new_session(app) as session:
            delivery = everything_in_year_1(session)
            draft_pdf = renderer(app)(draft(session, delivery).content)
            assert sign(app, session, delivery, "vendor") is False
            assert sign(app, session, delivery, "buyer") is True
            frozen = view(session, delivery)
            with session.begin():
                stored = session.scalars(
                    select(AnnualReport.pdf).where(AnnualReport.contract_id == delivery.contract_id)
                ).one()
        assert frozen.state == "frozen"
        assert stored is not None
        return Rendered(frozen.report, draft_pdf, bytes(stored))
    finally:
        # Only the bytes are kept: the database is as empty as every other test expects.
        _empty(engine)
        engine.dispose()


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    """The plan computed from the terms alone."""
    return compute_schedule(parse_terms(fixed_terms()))


@pytest.fixture(scope="module")
def actual(schedule: Schedule) -> ActualFigures:
    """Year 1's actual figures computed from its plan, the cost and the volumes."""
    terms = parse_terms(fixed_terms())
    return actual_figures(
        schedule.years[0], ACTUAL_COST, terms.reinvest_share, terms.buyer_share,
        planned_volume=PLANNED_USERS, actual_volume=ACTUAL_USERS,
    )  # fmt: skip


# -- formatting as the page shows it ----------------------------------------------------------


def units(text: str | None) -> int | None:
    """A canonical amount of the document ("-100.00") in cents; it must have two places."""
    if text is None:
        return None
    value = Decimal(text)
    assert value.as_tuple().exponent == -2, text
    return int(value.scaleb(2))


def amount(cents: int | None) -> str:
    """Cents as the report prints them: 1,200,000.00, −100.00, a dash for none."""
    if cents is None:
        return "—"
    whole, rest = divmod(abs(cents), 100)
    return f"{'−' if cents < 0 else ''}{whole:,}.{rest:02d}"


def signed(cents: int) -> str:
    return f"+{amount(cents)}" if cents > 0 else amount(cents)


def percent(ten_thousandths: int) -> str:
    """Ten-thousandths as the report prints them: 1364 -> 13.64 %."""
    whole, rest = divmod(abs(ten_thousandths), 100)
    return f"{'−' if ten_thousandths < 0 else ''}{whole}.{rest:02d} %"


def signed_percent(ten_thousandths: int) -> str:
    return f"+{percent(ten_thousandths)}" if ten_thousandths > 0 else percent(ten_thousandths)


def fraction(text: str | None) -> int | None:
    """A canonical rate of the document ("0.1364") in ten-thousandths."""
    return None if text is None else int(Decimal(text).scaleb(4))


def rows_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["field"]: row for row in document["figures"]}


# -- the document's figures are the model's ---------------------------------------------------


def test_the_summary_figures_are_those_computed_from_the_terms(
    rendered: Rendered, schedule: Schedule, actual: ActualFigures
) -> None:
    plan = schedule.years[0]
    summary = rendered.document["summary"]
    # 1,000,000.00 x 1,100 / 1,000 - 950,000.00 = 150,000.00, half of it reinvested.
    assert actual.efficiency_gain == 15_000_000
    expected = {
        "price": plan.price,
        "planned_gain": plan.efficiency_gain,
        "actual_gain": actual.efficiency_gain,
        "gain_variance": actual.efficiency_gain - plan.efficiency_gain,
        "reinvested": actual.reinvest,
        "spent": SPENT,
        "fund_balance": actual.reinvest + ADJUSTED - SPENT,
    }
    assert {key: units(summary[key]) for key in expected} == expected
    assert fraction(summary["planned_efficiency_pct"]) == plan.efficiency_pct
    assert fraction(summary["actual_efficiency_pct"]) == actual.efficiency_pct
    assert summary["reinvested_from_actuals"] is True
    assert (summary["kpis_met"], summary["kpis_measured"], summary["kpis"]) == (1, 2, 2)
    assert (summary["initiatives_delivered"], summary["initiatives_committed"]) == (1, 2)


def test_the_figures_table_is_plan_actual_and_variance_from_the_model(
    rendered: Rendered, schedule: Schedule, actual: ActualFigures
) -> None:
    plan = schedule.years[0]
    rows = rows_of(rendered.document)
    same_names = ("efficiency_gain", "reinvest", "buyer_credit", "vendor_gain", "net_margin")
    expected = {
        "price": (plan.price, plan.price),
        "baseline_cost": (plan.baseline_cost, actual.baseline_used),
        "cost": (plan.planned_cost, actual.actual_cost),
        **{field: (getattr(plan, field), getattr(actual, field)) for field in same_names},
    }
    assert list(rows) == [*expected, "efficiency_pct"]
    for field, (planned, achieved) in expected.items():
        row = rows[field]
        assert (units(row["plan"]), units(row["actual"])) == (planned, achieved), field
        if field == "price":
            assert (row["variance"], row["variance_pct"]) == (None, None)
            continue
        change = variance(planned, achieved)
        assert units(row["variance"]) == change.amount == achieved - planned, field
        assert fraction(row["variance_pct"]) == change.pct, field
    assert actual.baseline_used == 110_000_000
    assert fraction(rows["efficiency_pct"]["plan"]) == plan.efficiency_pct
    assert fraction(rows["efficiency_pct"]["actual"]) == actual.efficiency_pct


def test_the_fund_row_and_the_curves_are_those_of_the_model(
    rendered: Rendered, schedule: Schedule, actual: ActualFigures
) -> None:
    fund = rendered.document["fund"]
    expected = {
        "opening": 0,
        "committed": actual.reinvest,
        "adjusted": ADJUSTED,
        "spent": SPENT,
        "closing": actual.reinvest + ADJUSTED - SPENT,
    }
    assert {key: units(fund[key]) for key in expected} == expected
    assert fund["from_actuals"] is True
    assert rendered.document["fund_years"] == [fund]
    curves = rendered.document["curves"]
    assert [row["year"] for row in curves] == [year.year for year in schedule.years]
    for row, year in zip(curves, schedule.years, strict=True):
        assert (
            units(row["price"]),
            units(row["baseline_cost"]),
            units(row["planned_cost"]),
            units(row["actual_cost"]),
        ) == (
            year.price,
            year.baseline_cost,
            year.planned_cost,
            ACTUAL_COST if year.year == 1 else None,
        ), year.year


# -- the PDF shows the document's figures -------------------------------------------------------


def test_the_pdf_shows_every_key_figure_of_the_summary(rendered: Rendered) -> None:
    summary = rendered.document["summary"]
    text = flat("\n".join(rendered.frozen_pages))
    gain, plan = units(summary["actual_gain"]), units(summary["planned_gain"])
    assert gain is not None
    assert plan is not None
    for expected in (
        f"Price {amount(units(summary['price']))} EUR, contractual",
        f"Efficiency gain {amount(gain)} plan {amount(plan)}, {signed(gain - plan)}",
        f"Efficiency {percent(fraction(summary['actual_efficiency_pct']) or 0)} of the baseline "
        f"cost; plan {percent(fraction(summary['planned_efficiency_pct']) or 0)}",
        f"Reinvested {amount(units(summary['reinvested']))} committed to the fund from actuals; "
        f"spent {amount(units(summary['spent']))}",
        f"Fund balance {amount(units(summary['fund_balance']))} at the end of the year",
        "Service levels met 1 of 2 2 KPIs tracked",
        "Initiatives delivered 1 commitment: 2 a year",
    ):
        assert flat(expected) in text, expected
    assert "150,000.00" in text
    assert "69,900.00" in text


def test_the_pdf_shows_each_row_of_the_figures_table(rendered: Rendered) -> None:
    text = flat("\n".join(rendered.frozen_pages))
    for row in rendered.document["figures"]:
        if row["field"] == "efficiency_pct":
            line = f"{row['label']} {percent(fraction(row['plan']) or 0)} "
            line += percent(fraction(row["actual"]) or 0)
        else:
            line = f"{row['label']} {amount(units(row['plan']))} {amount(units(row['actual']))}"
            if row["variance"] is not None:
                change = units(row["variance"])
                assert change is not None
                line += f" {signed(change)} {signed_percent(fraction(row['variance_pct']) or 0)}"
        assert flat(line) in text, line
    # Negative figures use the minus sign, never a hyphen.
    assert flat("Delivery cost 960,000.00 950,000.00 −10,000.00 −1.04 %") in text
    assert flat("Net margin 216,000.00 160,000.00 −56,000.00 −25.93 %") in text
    assert "-10,000.00" not in text


def test_the_pdf_shows_the_fund_row_of_the_year_and_every_row_of_the_curves(
    rendered: Rendered,
) -> None:
    text = flat("\n".join(rendered.frozen_pages))
    fund = rendered.document["fund"]
    adjusted = units(fund["adjusted"])
    assert adjusted is not None
    line = (
        f"Y1 {amount(units(fund['opening']))} {amount(units(fund['committed']))} "
        f"{signed(adjusted)} {amount(units(fund['spent']))} {amount(units(fund['closing']))}"
    )
    assert flat(line) in text, line
    assert flat("Y1 0.00 75,000.00 −100.00 5,000.00 69,900.00") in text
    for row in rendered.document["curves"]:
        line = (
            f"Y{row['year']} {amount(units(row['price']))} {amount(units(row['baseline_cost']))} "
            f"{amount(units(row['planned_cost']))} {amount(units(row['actual_cost']))}"
        )
        assert flat(line) in text, line
    assert flat("Y5 1,350,610.57 1,103,812.90 900,018.90 —") in text


def test_the_pdf_shows_the_volume_the_postings_the_initiative_and_the_kpis(
    rendered: Rendered,
) -> None:
    text = flat("\n".join(rendered.frozen_pages))
    # Volumes and KPI results are quantities, not money: grouped or not, they are there.
    for pattern in (
        r"users: planned 1,?000 users, actual 1,?100 users\.",
        r"availability %, higher is better 99\.50? 99\.70? met",
        r"resolution time h, lower is better 4(\.0+)? 5(\.0+)? missed",
    ):
        assert re.search(pattern, text), pattern
    for expected in (
        "The contractual baseline 1,000,000.00 becomes 1,100,000.00 for the actual volume",
        "Note on the actuals: More users than planned",
        "Self-service password reset: Tooling −5,000.00",
        "adjustment Bank charges −100.00",
        "vendor Y1 10,000.00 5,000.00 saves 11,000.00 a year (expected 12,000.00)",
        "Signed by vendor-staff@pdf-1.test",
        "Signed by buyer-staff@pdf-1.test",
    ):
        assert flat(expected) in text, expected


# -- the page furniture -----------------------------------------------------------------------


def test_every_page_has_text_and_its_number_of_the_total(rendered: Rendered) -> None:
    for pages in (rendered.frozen_pages, rendered.draft_pages):
        assert len(pages) >= 3
        for number, text in enumerate(pages, start=1):
            assert text.strip(), number
            assert f"Page {number} of {len(pages)}" in text, number


def test_the_running_header_names_the_contract_from_page_two_on(rendered: Rendered) -> None:
    pages = rendered.frozen_pages
    # The header's two halves (the title and the year) share one line at the top of the page.
    header = f"{NAME} Contract year 1 of 5 · 2022-01-01 – 2022-12-31"
    for number, text in enumerate(pages[1:], start=2):
        assert header in text.splitlines(), number
    # The cover has the title and the year as lines of their own instead.
    lines = pages[0].splitlines()
    assert header not in lines
    assert NAME in lines
    assert "Contract year 1 of 5 · 2022-01-01 – 2022-12-31" in lines


def test_a_draft_has_the_watermark_on_every_page_and_the_frozen_report_has_none(
    rendered: Rendered,
) -> None:
    for number, text in enumerate(rendered.draft_pages, start=1):
        assert "Draft" in text.splitlines(), number
    for number, text in enumerate(rendered.frozen_pages, start=1):
        assert "Draft" not in text, number
        assert "Preview" not in text, number
    assert "Final: signed by both sides" in rendered.frozen_pages[0]


def test_the_frozen_pdf_is_the_one_rendered_from_its_snapshot_not_the_draft(
    rendered: Rendered,
) -> None:
    assert rendered.frozen_pdf.startswith(b"%PDF-")
    assert rendered.frozen_pdf != rendered.draft_pdf
    assert "Awaiting signature" in rendered.draft_pages[-1]
    assert "Awaiting signature" not in "\n".join(rendered.frozen_pages)
