"""The course's autograder: release student notebooks from ``source/`` and grade submissions.

The command line (``python -m autograder``) is a thin layer over the keyword-only functions
exported here.
"""

from autograder.course import Chapter, CourseLayout, find_chapters, get_chapter
from autograder.execute import Limits
from autograder.grade import ClassResult, SubmissionResult, grade_folder, grade_submission
from autograder.release import release_all, release_chapter

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
