"""Name the Debian packages a fresh machine still needs, instead of failing obscurely later.

Run by ``make`` before the tests; exits 1 and prints the ``apt-get`` line when
something is missing. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import sys

#: (what it is for, how to detect it, the Debian package that provides it)
LIBRARIES = (
    ("WeasyPrint text layout (Pango)", "pango-1.0", "libpango-1.0-0"),
    ("WeasyPrint fonts (PangoFT2)", "pangoft2-1.0", "libpangoft2-1.0-0"),
    ("WeasyPrint font subsetting (HarfBuzz)", "harfbuzz-subset", "libharfbuzz-subset0"),
)
CHROMIUM = "/usr/bin/chromium"


def missing_packages(*, browser: bool) -> list[tuple[str, str]]:
    """(purpose, package) for every system dependency that is not installed."""
    missing = [
        (purpose, package)
        for purpose, library, package in LIBRARIES
        if ctypes.util.find_library(library) is None
    ]
    if browser and not os.access(CHROMIUM, os.X_OK):
        missing.append(("browser tests (Chromium at /usr/bin/chromium)", "chromium"))
    return missing


def main() -> int:
    """Print what is missing and how to install it; 1 if anything is."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-browser", action="store_true", help="do not require Chromium")
    args = parser.parse_args()
    missing = missing_packages(browser=not args.no_browser)
    if not missing:
        return 0
    print("Missing system packages:", file=sys.stderr)
    for purpose, package in missing:
        print(f"  {package:24} for {purpose}", file=sys.stderr)
    packages = " ".join(sorted({package for _purpose, package in missing}))
    print(f"Install them with:  sudo apt-get install {packages}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
