"""The grading progress bar, for the command line and for ``grade_folder`` in a notebook."""

from __future__ import annotations

import sys


def print_progress(done: int, total: int, failures: int) -> None:
    """One line on stderr, rewritten in place (a terminal and Jupyter both honour ``\\r``)."""
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    print(f"\rgrading [{bar}] {done}/{total} graded, {failures} not graded cleanly",
          end=end, file=sys.stderr, flush=True)
