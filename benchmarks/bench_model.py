"""Time the exact contract model over a portfolio of 10,000 contracts x 10 years.

The portfolio is generated from a fixed seed: a mix of the three escalation
methods, four currencies, start dates spread over ten years, per-year lists
and single rates. Validation and computation are timed separately, best of
several rounds. ``--write FILE`` replaces the model section of that file.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from tracker.domain.schedule import compute_schedule
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms

CONTRACTS = 10_000
YEARS = 10
TARGET_MS = 300.0
SECTION = "## The exact model"


def _rate(rng: random.Random, low: float, high: float) -> str:
    # Random test data only: the value becomes a six-place decimal string.
    return f"{rng.uniform(low, high):.6f}"


def _rates(rng: random.Random, count: int, low: float, high: float) -> str | list[str]:
    if rng.random() < 0.5:
        return _rate(rng, low, high)
    return [_rate(rng, low, high) for _ in range(count)]


def portfolio(count: int = CONTRACTS, years: int = YEARS, seed: int = 2026) -> list[dict[str, Any]]:
    """``count`` valid terms documents of ``years`` years each, the same for every seed."""
    rng = random.Random(seed)
    docs = []
    for n in range(count):
        currency = rng.choice(["EUR", "EUR", "USD", "GBP", "JPY"])
        places = 0 if currency == "JPY" else 2
        base = rng.randrange(100_000, 200_000_000) * 10**places
        method = rng.choice(["fixed", "index", "index", "schedule"])
        if method == "fixed":
            escalation: dict[str, Any] = {
                "method": "fixed",
                "rate": _rates(rng, years - 1, 0, 0.05),
            }
        elif method == "index":
            escalation = {
                "method": "index",
                "index": [_rate(rng, -0.01, 0.08) for _ in range(years - 1)],
                "share": _rate(rng, 0.6, 1),
                "offset": _rate(rng, 0, 0.02),
                "cap": "0.04",
                "floor": "0",
            }
        else:
            prices = [base + i * rng.randrange(0, 10**6) for i in range(years)]
            escalation = {"method": "schedule", "prices": [_money(p, places) for p in prices]}
        start = date(rng.randrange(2020, 2031), rng.randrange(1, 13), 1)
        docs.append(
            {
                "name": f"Portfolio contract {n + 1}",
                "currency": currency,
                "start_date": start.isoformat(),
                "term_years": years,
                "price": {"base": _money(base, places), "escalation": escalation},
                "cost": {
                    "baseline": _money(base * rng.randrange(70, 95) // 100, places),
                    "inflation": _rates(rng, years - 1, 0, 0.05),
                    "efficiency": _rates(rng, years, 0, 0.08),
                },
                "gain_split": {"reinvest": _rate(rng, 0, 0.6), "buyer": _rate(rng, 0, 0.3)},
                "discount_rate": _rate(rng, 0, 0.1),
            }
        )
    return docs


def _money(units: int, places: int) -> str:
    text = str(units)
    if not places:
        return text
    text = text.rjust(places + 1, "0")
    return f"{text[:-places]}.{text[-places:]}"


def best_of(rounds: int, action: Callable[[], object]) -> tuple[float, float]:
    """(best, median) wall time in milliseconds over ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def _validated_portfolio() -> tuple[list[ContractTerms], tuple[float, float]]:
    """The portfolio's terms, and how long validating them took; the documents
    themselves are dropped so that only the terms stay in memory while the model runs."""
    docs = portfolio()
    timing = best_of(3, lambda: [parse_terms(d) for d in docs])
    return [parse_terms(d) for d in docs], timing


def main() -> int:
    """Run the benchmark, print the figures and optionally write them down."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--write", type=Path, help="Markdown file whose model section to replace")
    args = parser.parse_args()

    terms, (parse_best, parse_median) = _validated_portfolio()
    compute_best, compute_median = best_of(
        args.rounds, lambda: [compute_schedule(t) for t in terms]
    )
    schedules = [compute_schedule(t) for t in terms]
    output_best, _ = best_of(3, lambda: [schedule_document(s) for s in schedules])
    years = sum(len(s.years) for s in schedules)

    verdict = "meets" if compute_best <= TARGET_MS else "misses"
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    cpu = _cpu_model()
    lines = [
        SECTION,
        "",
        f"`make bench` ({time.strftime('%Y-%m-%d')}), {CONTRACTS:,} contracts x {YEARS} years "
        f"= {years:,} contract-years; Python {platform.python_version()} on {cpu} ({machine}); "
        f"one process, best of {args.rounds} rounds (median in brackets).",
        "",
        "| step | time | per contract | target | ratio to target |",
        "|---|---:|---:|---:|---:|",
        f"| compute the schedules (exact) | {compute_best:.0f} ms ({compute_median:.0f}) "
        f"| {compute_best * 1000 / CONTRACTS:.1f} µs | ≤ {TARGET_MS:.0f} ms "
        f"| {compute_best / TARGET_MS:.2f} ({verdict}) |",
        f"| validate the terms documents | {parse_best:.0f} ms ({parse_median:.0f}) "
        f"| {parse_best * 1000 / CONTRACTS:.1f} µs | — | — |",
        f"| write the spec's JSON documents | {output_best:.0f} ms "
        f"| {output_best * 1000 / CONTRACTS:.1f} µs | — | — |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        _replace_section(args.write, report)
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _replace_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Performance\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
