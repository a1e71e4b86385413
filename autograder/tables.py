"""Text the course writes for people to open in other programs: CSV cells a spreadsheet shows as
written, and Markdown that shows a student id, a file name or an answer as plain text.

Student ids and file names come from the files a class handed in, so they can hold anything: a
formula (``=HYPERLINK(...)``), a bare carriage return, HTML or Markdown markup.  Every CSV file
and every Markdown page the course writes passes them through here.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters Markdown (CommonMark, and GitHub's tables) may read as markup in running text;
# <, > and & are written as HTML entities.  The text never starts a line, so list and heading
# markers (-, +, #, digits and a dot) need no escape.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def csv_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula (a student id
    taken from a file name such as ``=HYPERLINK(...).ipynb``) gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_rows(handle: TextIO, rows: Iterable[list[str]]) -> None:
    """CSV rows ending in ``\\n``; a row with a carriage return in a cell is written fully
    quoted, as Python 3.11's csv quotes only the characters of its own line terminator and
    would leave a bare ``\\r`` that splits the row for the reader."""
    plain = csv.writer(handle, lineterminator="\n")
    quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        (quoted if any("\r" in str(cell) for cell in row) else plain).writerow(row)


def md_text(value: str) -> str:
    """``value`` as literal text in Markdown (a table cell included): HTML escaped, markup
    characters backslash-escaped, line breaks turned into spaces."""
    flat = " ".join(value.splitlines()) if value else ""
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))
