"""Stored outputs for the cells whose output nbval compares.

Only cells tagged ``nbval-check-output`` keep an output in ``source/``; this module runs the
instructor notebook and stores those cells' fresh outputs, so an instructor never edits output
JSON by hand.  Every other cell stays output-free (the canonical form strips them).
"""

from __future__ import annotations

from autograder import notebook
from autograder.course import Chapter
from autograder.execute import run_plain


def refresh_outputs(chapter: Chapter, *, cell_timeout: int = 600) -> int:
    """Re-run the chapter's instructor notebook; store the outputs of checked cells.

    Returns how many cells' outputs were stored.
    """
    path = chapter.instructor_notebook
    original = notebook.read(path)
    executed = run_plain(notebook.read(path), folder=path.parent, timeout=cell_timeout,
                         allow_errors=False)
    stored = 0
    for before, after in zip(original.cells, executed.cells, strict=True):
        if before.cell_type == "code" and notebook.CHECK_OUTPUT_TAG in notebook.tags(before):
            before.outputs = after.outputs
            stored += 1
    notebook.write(original, path)
    return stored
