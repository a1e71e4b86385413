"""The answer key of a chapter: its graded test cells, read from the instructor notebook.

Grading never trusts a test cell found in a submission: every test runs from this key, hidden
tests included, so a student who edits or deletes a test cell cannot change what it checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from nbformat import NotebookNode

from autograder import notebook
from autograder.cells import bound_names
from autograder.course import Chapter

HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.M | re.S
)
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


@dataclass(frozen=True)
class TestCell:
    """One graded cell of tests."""

    grade_id: str
    source: str  # with its hidden tests
    max_points: float
    title: str  # the heading of the exercise or question it grades
    answer_id: str | None  # the answer cell it follows in the instructor notebook

    @property
    def visible_source(self) -> str:
        return HIDDEN_TESTS.sub("", self.source)

    @property
    def has_hidden_tests(self) -> bool:
        return bool(HIDDEN_TESTS.search(self.source))


def _heading(cell: NotebookNode) -> str | None:
    """The last heading of a markdown cell (the most specific one), if it has any."""
    headings = [line for line in cell.source.splitlines() if line.startswith("#")]
    return headings[-1].lstrip("#").strip() if headings else None


@dataclass(frozen=True)
class AnswerKey:
    chapter: Chapter
    instructor: NotebookNode

    @classmethod
    def load(cls, chapter: Chapter) -> AnswerKey:
        return cls(chapter, notebook.read(chapter.instructor_notebook))

    @cached_property
    def tests(self) -> dict[str, TestCell]:
        tests: dict[str, TestCell] = {}
        title, answer_id = "", None
        for cell in self.instructor.cells:
            if cell.cell_type == "markdown":
                title = _heading(cell) or title
            elif notebook.is_answer_cell(cell):
                answer_id = notebook.grade_id(cell)
            elif notebook.is_test_cell(cell):
                gid = notebook.grade_id(cell)
                tests[gid] = TestCell(gid, cell.source, notebook.points(cell), title, answer_id)
        return tests

    @cached_property
    def answers(self) -> dict[str, str]:
        """Each answer cell's model solution, as a student would type it (markers removed)."""
        return {
            notebook.grade_id(cell): SOLUTION_MARKER.sub("", cell.source)
            for cell in self.instructor.cells
            if notebook.is_answer_cell(cell)
        }

    @cached_property
    def lesson(self) -> frozenset[str]:
        """The source of every lesson code cell (the course's code, neither answer nor test)."""
        return frozenset(c.source for c in self.instructor.cells
                         if c.cell_type == "code" and not notebook.nbgrader_meta(c))

    @cached_property
    def answer_names(self) -> frozenset[str]:
        """Every name the model answers bind (what a student's answers are expected to bind)."""
        return frozenset().union(*(bound_names(source) for source in self.answers.values()))

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests.values())
