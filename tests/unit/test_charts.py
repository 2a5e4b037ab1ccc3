"""SVG charts of schedules: valid, deterministic, cached by their data and safe with user text."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest

from tracker.domain.schedule import Schedule, compute_schedule
from tracker.domain.terms_parser import parse_terms
from tracker.reporting.charts import (
    clear_chart_cache,
    overlay_chart_etag,
    overlay_chart_svg,
    schedule_chart_etag,
    schedule_chart_svg,
)

DATA = Path(__file__).resolve().parent.parent / "data"
SVG = "{http://www.w3.org/2000/svg}"
PROJECT = Path(__file__).resolve().parent.parent.parent


def terms_document(name: str = "fixed-5y", **changes: Any) -> dict[str, Any]:
    """An example's terms document, with top-level fields changed."""
    document: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text("utf-8"))
    document.update(changes)
    return document


def schedule_of(name: str = "fixed-5y", **changes: Any) -> Schedule:
    """The schedule of an example's terms, with top-level fields changed."""
    return compute_schedule(parse_terms(terms_document(name, **changes)))


def with_years(schedule: Schedule, **values: int) -> Schedule:
    """The schedule with the same values set in every year (totals left alone)."""
    years = tuple(year._replace(**values) for year in schedule.years)
    return dataclasses.replace(schedule, years=years)


def texts(svg: str) -> list[str]:
    """The text of every <text> element of a (parsed, hence well-formed) SVG document."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_chart_cache()
    yield
    clear_chart_cache()


def test_the_schedule_chart_is_valid_svg_with_its_legend_and_title() -> None:
    found = texts(schedule_chart_svg(schedule_of(), "Workplace services"))
    for label in ("Price", "Baseline cost", "Planned cost", "Net margin", "Workplace services"):
        assert label in found
    assert [text for text in found if text.startswith("Y")] == ["Y1", "Y2", "Y3", "Y4", "Y5"]


def test_the_y_axis_names_the_currency_and_scales_with_a_suffix() -> None:
    found = texts(schedule_chart_svg(schedule_of(), "t"))
    assert "Amount (EUR)" in found
    assert "1.2M" in found  # prices are around 1.2 million euros


def test_the_thousands_scale_and_separators_are_used_for_smaller_amounts() -> None:
    zeros = with_years(schedule_of(), baseline_cost=0, planned_cost=0, net_margin=0)
    assert "1,200" in texts(schedule_chart_svg(with_years(zeros, price=123_400), "t"))
    assert "40k" in texts(schedule_chart_svg(with_years(zeros, price=4_500_000), "t"))
    big = with_years(zeros, price=1_500_000_000_000_00)  # 1.5 trillion euros
    assert "1,000bn" in texts(schedule_chart_svg(big, "t"))


def test_the_same_data_gives_identical_bytes_and_a_cached_copy() -> None:
    schedule = schedule_of()
    first = schedule_chart_svg(schedule, "t")
    assert schedule_chart_svg(schedule, "t") is first  # cached
    clear_chart_cache()
    again = schedule_chart_svg(schedule_of(), "t")
    assert again is not first
    assert again == first


def test_global_matplotlib_settings_do_not_change_the_chart() -> None:
    baseline = schedule_chart_svg(schedule_of(), "t")
    clear_chart_cache()
    with matplotlib.rc_context({"axes.facecolor": "red", "lines.linewidth": 7.0}):
        assert schedule_chart_svg(schedule_of(), "t") == baseline


def test_a_fresh_process_draws_the_same_bytes_without_pyplot() -> None:
    script = (
        "import hashlib, json, sys; from pathlib import Path\n"
        "from tracker.domain.schedule import compute_schedule\n"
        "from tracker.domain.terms_parser import parse_terms\n"
        "from tracker.reporting.charts import schedule_chart_svg\n"
        f"doc = json.loads(Path({str(DATA / 'fixed-5y.json')!r}).read_text('utf-8'))\n"
        "svg = schedule_chart_svg(compute_schedule(parse_terms(doc)), 't')\n"
        "print(hashlib.sha256(svg.encode()).hexdigest(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    digest, pyplot_loaded = result.stdout.split()
    assert digest == hashlib.sha256(schedule_chart_svg(schedule_of(), "t").encode()).hexdigest()
    assert pyplot_loaded == "False"


def test_a_changed_figure_changes_the_chart_and_its_etag() -> None:
    schedule = schedule_of()
    years = list(schedule.years)
    years[2] = years[2]._replace(price=years[2].price + 5_000_000)
    changed = dataclasses.replace(schedule, years=tuple(years))
    assert schedule_chart_svg(changed, "t") != schedule_chart_svg(schedule, "t")
    assert schedule_chart_etag(changed, "t") != schedule_chart_etag(schedule, "t")


def test_the_etag_is_a_short_stable_hex_digest_of_the_drawn_data() -> None:
    etag = schedule_chart_etag(schedule_of(), "t")
    assert len(etag) == 16
    int(etag, 16)
    assert schedule_chart_etag(schedule_of(), "t") == etag
    assert schedule_chart_etag(schedule_of(), "other title") != etag
    # Data the chart does not draw does not change the ETag.
    assert schedule_chart_etag(with_years(schedule_of(), buyer_credit=1), "t") == etag


def test_a_one_year_term_draws_a_marker_for_every_line() -> None:
    svg = schedule_chart_svg(schedule_of(term_years=1), "One year")
    found = texts(svg)
    assert "Y1" in found
    assert "Y2" not in found
    # The data lines are the line groups directly in the axes (ticks and legend nest
    # theirs). A single point has no segment: only its marker (a <use>) shows it.
    axes = next(g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("id") == "axes_1")
    lines = [g for g in axes.findall(f"{SVG}g") if g.get("id", "").startswith("line2d_")]
    assert len(lines) == 4
    assert all(line.find(f".//{SVG}use") is not None for line in lines)


def test_negative_margins_put_negative_values_on_the_axis() -> None:
    schedule = schedule_of()
    years = tuple(year._replace(net_margin=-year.net_margin) for year in schedule.years)
    found = texts(schedule_chart_svg(dataclasses.replace(schedule, years=years), "t"))
    assert any(text.startswith("-") and text.endswith(("k", "M")) for text in found)


def test_zero_margins_are_drawn() -> None:
    found = texts(schedule_chart_svg(with_years(schedule_of(), net_margin=0), "t"))
    assert "Net margin" in found


def test_a_script_title_is_escaped() -> None:
    title = "<script>alert(1)</script>"
    svg = schedule_chart_svg(schedule_of(), title)
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert title in texts(svg)


def test_dollar_signs_in_titles_are_text_not_mathtext() -> None:
    title = "Cost $5 to $7"  # two dollars: mathtext would typeset "5 to " in italics
    assert title in texts(schedule_chart_svg(schedule_of(), title))


def test_characters_xml_cannot_hold_are_dropped_and_missing_glyphs_do_not_warn() -> None:
    found = texts(schedule_chart_svg(schedule_of(), "a\x01b\x0c 契約"))
    assert "ab 契約" in found


def test_an_overlay_of_different_lengths_shows_every_year_and_name() -> None:
    series = [("Contract", schedule_of()), ("Index scenario", schedule_of("index-capped-4y"))]
    found = texts(overlay_chart_svg(series, "net_margin", "Scenarios"))
    for label in ("Contract", "Index scenario", "Scenarios", "Net margin (EUR)"):
        assert label in found
    assert [text for text in found if text.startswith("Y")] == ["Y1", "Y2", "Y3", "Y4", "Y5"]


def test_overlay_names_keep_leading_underscores_and_dollars() -> None:
    series = [("_draft $1 or $2", schedule_of()), ("B", schedule_of(term_years=3))]
    found = texts(overlay_chart_svg(series, "price"))
    assert "_draft $1 or $2" in found
    assert "Price" in found  # the field names the chart when no title is given


def test_an_overlay_of_the_efficiency_share_uses_percentages() -> None:
    found = texts(overlay_chart_svg([("A", schedule_of())], "efficiency_pct"))
    assert any(text.endswith("%") for text in found)


def test_an_overlay_is_deterministic_and_its_etag_follows_the_field() -> None:
    series = [("A", schedule_of()), ("B", schedule_of("index-capped-4y"))]
    first = overlay_chart_svg(series, "price", "t")
    clear_chart_cache()
    assert overlay_chart_svg(series, "price", "t") == first
    assert overlay_chart_etag(series, "price", "t") == overlay_chart_etag(series, "price", "t")
    assert overlay_chart_etag(series, "price", "t") != overlay_chart_etag(series, "reinvest", "t")


def test_an_overlay_refuses_mixed_currencies() -> None:
    jpy = terms_document(currency="JPY")
    jpy["price"]["base"], jpy["cost"]["baseline"] = "1200000", "1000000"
    series = [("EUR", schedule_of()), ("JPY", compute_schedule(parse_terms(jpy)))]
    with pytest.raises(ValueError, match="different currencies"):
        overlay_chart_svg(series)
    with pytest.raises(ValueError, match="different currencies"):
        overlay_chart_etag(series)


def test_an_overlay_refuses_an_unknown_field_and_no_schedules() -> None:
    with pytest.raises(ValueError, match="field"):
        overlay_chart_svg([("A", schedule_of())], "start")
    with pytest.raises(ValueError, match="at least one"):
        overlay_chart_svg([])
