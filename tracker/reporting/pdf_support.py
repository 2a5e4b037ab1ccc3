"""Whether the system libraries WeasyPrint works best with are installed, checked without
loading WeasyPrint itself (so that start-up stays quick)."""

from __future__ import annotations

import ctypes.util
import logging

#: The Debian package with HarfBuzz's subsetting library.
SUBSET_PACKAGE = "libharfbuzz-subset0"


def font_subsetting_available() -> bool:
    """Whether HarfBuzz's subsetting library is installed (WeasyPrint's fast font path)."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


def warn_without_font_subsetting(logger: logging.Logger) -> bool:
    """Log a warning when HarfBuzz subsetting is missing; True when it is available."""
    if font_subsetting_available():
        return True
    logger.warning(
        "%s is not installed: report PDFs fall back to slower font subsetting and future "
        "WeasyPrint versions will refuse to run; install it with `sudo apt-get install %s`",
        SUBSET_PACKAGE,
        SUBSET_PACKAGE,
    )
    return False
