"""The course's autograder: release student notebooks from ``source/`` and grade submissions.

The command line (``python -m autograder``) is a thin layer over the keyword-only functions
exported here.
"""

import sys as _sys

# nbformat checks notebooks with jsonschema, which on import builds parsers for the "iri" string
# format when the optional package rfc3987_syntax is installed: about 1.3 s in every process, and
# the grader starts one per worker.  No notebook schema uses that format, so this package declines
# that optional import (jsonschema then knows no "iri" format), unless it was imported already.
_sys.modules.setdefault("rfc3987_syntax", None)

from autograder.course import Chapter, CourseLayout, find_chapters, get_chapter  # noqa: E402
from autograder.execute import Limits  # noqa: E402
from autograder.grade import ClassResult, SubmissionResult, grade_folder, grade_submission  # noqa: E402
from autograder.release import release_all, release_chapter  # noqa: E402

__all__ = [
    "Chapter",
    "ClassResult",
    "CourseLayout",
    "Limits",
    "SubmissionResult",
    "find_chapters",
    "get_chapter",
    "grade_folder",
    "grade_submission",
    "release_all",
    "release_chapter",
]
