"""`tracker model`: the spec's output formats, exit statuses and messages for bad input."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli

DATA = Path(__file__).parent.parent / "data"
SEEDS = Path(__file__).parent.parent.parent / "seed_data" / "contracts"
EXAMPLES = ["fixed-5y", "index-capped-4y"]


def run_model(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The installed console script, as a person runs it; never allowed to hang."""
    tracker = shutil.which("tracker", path=str(Path(sys.executable).parent))
    assert tracker, "the tracker console script is installed next to the interpreter"
    return subprocess.run(
        [tracker, "model", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_json_output_reproduces_the_worked_example_exactly(name: str) -> None:
    result = run_model(str(DATA / f"{name}.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    expected = json.loads((DATA / f"{name}.expected.json").read_text())
    assert json.loads(result.stdout) == expected
    # Every key in the spec's order, every value a string (or null), never a float.
    produced = json.loads(result.stdout)
    assert list(produced["totals"]) == list(expected["totals"])
    for got, want in zip(produced["years"], expected["years"], strict=True):
        assert list(got) == list(want)


def test_standard_input_is_read_when_the_file_is_a_dash() -> None:
    result = run_model("-", "--format", "json", stdin=(DATA / "fixed-5y.json").read_bytes())
    assert result.returncode == 0
    assert json.loads(result.stdout)["totals"]["npv_net_margin"] == "1066924.89"


def test_csv_output_has_one_row_per_year_with_the_spec_columns() -> None:
    result = CliRunner().invoke(cli, ["model", str(DATA / "fixed-5y.json"), "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    expected = json.loads((DATA / "fixed-5y.expected.json").read_text())["years"]
    assert len(rows) == 5
    for row, year in zip(rows, expected, strict=True):
        assert row == {key: "" if value is None else str(value) for key, value in year.items()}


def test_table_output_is_aligned_with_thousands_separators_and_a_totals_row() -> None:
    result = CliRunner().invoke(cli, ["model", str(DATA / "fixed-5y.json")])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Managed workplace services (Hospital Clinic Demo / Nordlys IT)"
    total = next(line for line in lines if line.startswith("Total"))
    assert "6,370,962.97" in total
    assert "1,357,630.65" in total
    assert "Net present value of the net margin: 1,066,924.89" in result.output
    year_rows = [line for line in lines if line[:1].isdigit() and "2025" <= line[8:12] <= "2029"]
    assert len(year_rows) == 5
    assert len({len(line) for line in year_rows}) == 1, "columns are aligned"


def test_table_shows_the_index_computation_step_by_step() -> None:
    result = CliRunner().invoke(cli, ["model", str(DATA / "index-capped-4y.json")])
    assert result.exit_code == 0
    trace = result.output.split("Index-linked escalation, year by year:")[1]
    for shown in ("5.40 %", "4.36 %", "capped", "3.50 %", "floored"):
        assert shown in trace


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.json")), ids=lambda p: p.stem)
def test_every_demo_contract_models_cleanly(seed: Path) -> None:
    result = CliRunner().invoke(cli, ["model", str(seed), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["years"]


BAD_DOCUMENTS = {
    "truncated JSON": b'{"name": "x", "term_years": 5',
    "a JSON array": b"[1, 2, 3]",
    "NaN": b'{"name": "x", "discount_rate": NaN}',
    "an enormous exponent": b'{"name": "x", "discount_rate": 1e999999}',
    "duplicate keys": b'{"name": "x", "name": "y"}',
    "not UTF-8": b'{"name": "\xff\xfe"}',
    "empty input": b"",
    "deep nesting": b"[" * 100_000,
}


@pytest.mark.parametrize("document", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_bad_documents_exit_2_with_a_message_and_no_traceback(document: bytes) -> None:
    result = run_model("-", "--format", "json", stdin=document)
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"Traceback" not in result.stderr
    assert result.stderr.strip(), "a message says what is wrong"


def test_every_error_is_printed_on_its_own_line_starting_with_its_path() -> None:
    terms = json.loads((DATA / "fixed-5y.json").read_text())
    terms["currency"] = "XYZ"
    terms["price"]["escalation"]["rate"] = ["0.03", "0.03", "0.03"]
    terms["cost"]["efficiency"] = "1"
    terms["gain_split"] = {"reinvest": "0.8", "buyer": "0.4"}
    result = run_model("-", stdin=json.dumps(terms).encode())
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert "price.escalation.rate: expected 4 values (years 2–5), got 3" in lines
    assert [line.split(":")[0] for line in lines] == [
        "currency",
        "price.escalation.rate",
        "cost.efficiency",
        "gain_split",
    ]


def test_an_oversized_document_is_refused_without_reading_it_all() -> None:
    result = run_model("-", stdin=b" " * 2_000_000)
    assert result.returncode == 2
    assert b"larger than" in result.stderr


def test_a_missing_file_is_a_usage_error() -> None:
    result = run_model("/nonexistent/terms.json")
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr
