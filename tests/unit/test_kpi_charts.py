"""The KPI trend chart: valid SVG, deterministic, cached by its data, safe with user text."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import matplotlib
import pytest

from tracker.reporting.kpi_charts import (
    KpiTrend,
    TrendYear,
    clear_kpi_chart_cache,
    kpi_chart_etag,
    kpi_chart_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
PROJECT = Path(__file__).resolve().parent.parent.parent
#: Availability over five years: results in years 1-3, quarters in year 2, no result later.
RESULTS = ("99.7", "99.4", "98.9", None, None)


def trend(
    name: str = "Availability",
    unit: str = "%",
    *,
    higher_is_better: bool = True,
    tolerance: str = "0.2",
    results: tuple[str | None, ...] = RESULTS,
    quarters: dict[int, tuple[str | None, ...]] | None = None,
    target: str | None = "99.5",
) -> KpiTrend:
    """A five-year KPI with the same target every year."""
    chosen = {2: ("99.6", "99.2", None, "99.5")} if quarters is None else quarters
    years = tuple(
        TrendYear(
            year,
            None if target is None else Decimal(target),
            None if result is None else Decimal(result),
            tuple(None if q is None else Decimal(q) for q in chosen.get(year, ())),
        )
        for year, result in enumerate(results, start=1)
    )
    return KpiTrend(name, unit, higher_is_better, Decimal(tolerance), years)


def texts(svg: str) -> list[str]:
    """The text of every <text> element of a (parsed, hence well-formed) SVG document."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_kpi_chart_cache()
    yield
    clear_kpi_chart_cache()


def test_the_trend_is_valid_svg_with_its_title_axes_and_legend() -> None:
    found = texts(kpi_chart_svg(trend()))
    assert "Availability" in found
    assert "% (higher is better)" in found
    assert "Contract year" in found
    assert [text for text in found if text.startswith("Y")] == ["Y1", "Y2", "Y3", "Y4", "Y5"]
    for label in ("Target", "Near (within tolerance)", "Quarterly result", "Result"):
        assert label in found


def test_the_y_axis_shows_plain_values_without_an_offset() -> None:
    found = texts(kpi_chart_svg(trend()))
    assert "99.5" in found
    assert not any(text.startswith(("+", "1e", "×")) for text in found)


def test_the_same_data_gives_identical_bytes_and_a_cached_copy() -> None:
    first = kpi_chart_svg(trend())
    assert kpi_chart_svg(trend()) is first  # cached
    clear_kpi_chart_cache()
    again = kpi_chart_svg(trend())
    assert again is not first
    assert again == first


def test_global_matplotlib_settings_do_not_change_the_chart() -> None:
    baseline = kpi_chart_svg(trend())
    clear_kpi_chart_cache()
    with matplotlib.rc_context({"axes.facecolor": "red", "lines.linewidth": 7.0}):
        assert kpi_chart_svg(trend()) == baseline


def test_a_fresh_process_draws_the_same_bytes_without_pyplot() -> None:
    script = (
        "import hashlib, sys\n"
        "from decimal import Decimal as D\n"
        "from tracker.reporting.kpi_charts import KpiTrend, TrendYear, kpi_chart_svg\n"
        "years = (TrendYear(1, D('99.5'), D('99.7')),"
        " TrendYear(2, D('99.5'), D('99.4'), (D('99.6'), D('99.2'), None, D('99.5'))),"
        " TrendYear(3, D('99.5'), D('98.9')), TrendYear(4, D('99.5'), None),"
        " TrendYear(5, D('99.5'), None))\n"
        "svg = kpi_chart_svg(KpiTrend('Availability', '%', True, D('0.2'), years))\n"
        "print(hashlib.sha256(svg.encode()).hexdigest(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    digest, pyplot_loaded = result.stdout.split()
    assert digest == hashlib.sha256(kpi_chart_svg(trend()).encode()).hexdigest()
    assert pyplot_loaded == "False"


def test_a_changed_result_changes_the_chart_and_its_etag() -> None:
    changed = trend(results=("99.7", "99.4", "99.0", None, None))
    assert kpi_chart_svg(changed) != kpi_chart_svg(trend())
    assert kpi_chart_etag(changed) != kpi_chart_etag(trend())


def test_the_etag_is_a_short_stable_hex_digest_of_the_drawn_data() -> None:
    etag = kpi_chart_etag(trend())
    assert len(etag) == 16
    int(etag, 16)
    assert kpi_chart_etag(trend()) == etag
    assert kpi_chart_etag(trend(name="Other")) != etag
    assert kpi_chart_etag(trend(tolerance="0.3")) != etag
    assert kpi_chart_etag(trend(higher_is_better=False)) != etag
    assert kpi_chart_etag(trend(quarters={})) != etag


def test_without_quarters_or_tolerance_their_legend_entries_are_left_out() -> None:
    found = texts(kpi_chart_svg(trend(quarters={}, tolerance="0")))
    assert "Quarterly result" not in found
    assert "Near (within tolerance)" not in found
    assert "Target" in found
    assert "Result" in found


def test_lower_is_better_is_named_on_the_axis() -> None:
    found = texts(kpi_chart_svg(trend("Incidents", "tickets", higher_is_better=False)))
    assert "tickets (lower is better)" in found


def test_a_kpi_without_targets_or_results_says_so() -> None:
    empty = trend(results=(None,) * 5, quarters={}, target=None)
    found = texts(kpi_chart_svg(empty))
    assert "No target or result yet" in found
    assert "Result" not in found


def test_a_lone_result_of_a_one_year_term_is_drawn() -> None:
    single = KpiTrend(
        "Resolution", "h", False, Decimal(0), (TrendYear(1, Decimal(8), Decimal("7.5")),)
    )
    root = ET.fromstring(kpi_chart_svg(single))
    assert "Y1" in texts(kpi_chart_svg(single))
    # The result is a marker (a <use> of the marker path), not only a line of one point.
    assert root.find(f".//{SVG}use") is not None


def test_a_script_name_is_escaped() -> None:
    svg = kpi_chart_svg(trend("<script>alert(1)</script>", "<b>%</b>"))
    assert "<script>" not in svg
    assert "<script>alert(1)</script>" in texts(svg)
    assert "<b>%</b> (higher is better)" in texts(svg)


def test_dollar_signs_are_text_not_mathtext() -> None:
    found = texts(kpi_chart_svg(trend("Cost $ per $ invoice", "$")))
    assert "Cost $ per $ invoice" in found
    assert "$ (higher is better)" in found


def test_characters_xml_cannot_hold_are_dropped() -> None:
    svg = kpi_chart_svg(trend("Avail\x00abil\x1fity", "%\ufffe"))
    assert "Availability" in texts(svg)
    assert kpi_chart_etag(trend("Avail\x00abil\x1fity")) == kpi_chart_etag(trend("Availability"))


def test_very_large_values_are_written_in_full_on_the_axis() -> None:
    big = trend("Transactions", "count", results=("123456789", None, None, None, None),
                target="120000000", quarters={}, tolerance="0")  # fmt: skip
    found = texts(kpi_chart_svg(big))
    assert not any("e+" in text or "1e" in text for text in found)
