""""Check my notebook": the last cell of every student notebook and `python -m autograder check`.

Kernel-free: what counts as unanswered in each example, the cell release writes, Colab's way of
handing over the notebook, and the grader never running the cell.  With a kernel: a small
notebook whose answer needs a deleted cell, and chapter 1's examples checked from the terminal.
"""

from __future__ import annotations

import json
import sys
import types

import nbformat
import pytest

from autograder import check, notebook
from autograder.answer_key import AnswerKey
from autograder.cli import main
from autograder.course import find_chapters, get_chapter
from autograder.examples import write_examples
from autograder.grade import assemble
from autograder.release import check_cell_source, hidden_checks

CHAPTER = get_chapter("ch01_keras_api")


def _answer(gid: str, source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": gid, "solution": True, "grade": False}
    return cell


def _test(gid: str, source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": gid, "solution": False, "grade": True}
    return cell


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    return {e.student_id: e for e in write_examples(CHAPTER, folder)}


@pytest.mark.fast
def test_without_a_run_it_lists_exactly_the_unanswered_items(examples):
    key = AnswerKey.load(CHAPTER)
    items = [gid.removesuffix("-answer") for gid in key.answers]
    for name, expected in [("example-untouched", items), ("example-complete", []),
                           ("example-partial", [i for i in items if f"{i}-answer" not in
                                                examples["example-partial"].correct_answers
                                                and i not in _answered_wrongly(examples)])]:
        nb = json.loads(examples[name].path.read_text())
        assert list(check._check(nb, run=False).unanswered) == expected, name


def _answered_wrongly(examples) -> set[str]:
    """The partial example's one wrong multiple-choice answer (answered, so not 'unanswered')."""
    nb = json.loads(examples["example-partial"].path.read_text())
    filled = {c["metadata"]["nbgrader"]["grade_id"].removesuffix("-answer")
              for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")
              and check._STUB not in check._source(c)}
    right = {g.removesuffix("-answer") for g in examples["example-partial"].correct_answers}
    return filled - right


@pytest.mark.fast
@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda c: c.name)
def test_every_student_notebook_ends_with_the_check_cell(chapter):
    nb = notebook.read(chapter.student_notebook)
    last = nb.cells[-1]
    assert check.TAG in notebook.tags(last) and "nbval-skip" in notebook.tags(last)
    hidden = hidden_checks(notebook.read(chapter.instructor_notebook))
    assert hidden >= 10
    assert last.source == check_cell_source(chapter=chapter.name, hidden_checks=hidden)
    assert f"_HIDDEN_CHECKS = {hidden}\n" in last.source
    assert "BEGIN HIDDEN" not in last.source


@pytest.mark.fast
def test_the_grader_never_runs_the_check_cell():
    key = AnswerKey.load(CHAPTER)
    submitted = notebook.read(CHAPTER.student_notebook)
    for whole in (True, False):
        plan = assemble(submitted, key, whole=whole)
        assert not [c for c in plan.nb.cells if "_check_my_notebook()" in c.source]


@pytest.mark.fast
def test_in_colab_the_notebook_comes_from_colab(monkeypatch, examples):
    nb = json.loads(examples["example-partial"].path.read_text())
    message = types.ModuleType("google.colab._message")
    message.blocking_request = lambda kind, request, timeout_sec: {"ipynb": nb} \
        if kind == "get_ipynb" else None
    colab = types.ModuleType("google.colab")
    colab._message = message
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab._message", message)
    found, name, folder = check._find_notebook()
    assert found is nb and name == "this Colab notebook" and folder is None


def test_a_cell_that_needs_a_deleted_cell_is_caught():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Data"),
        nbformat.v4.new_code_cell("scale = 2"),
        nbformat.v4.new_markdown_cell("## Exercise 1"),
        _answer("ex1-double-answer", "factor = scale\n\n\ndef double(x):\n    return x * factor\n"),
        _test("ex1-double-check", "assert double(2) == 4, 'double(2) should be 4'"),
        _answer("ex2-half-answer", "# YOUR CODE HERE\nraise NotImplementedError()"),
        _test("ex2-half-check", "assert half(4) == 2, 'half(4) should be 2'"),
        _answer("ex3-triple-answer", "def triple(x):\n    return x * 4\n"),
        _test("ex3-triple-check", "assert triple(1) == 3, 'triple(1) should be 3'"),
    ]
    whole = check._check(json.loads(nbformat.writes(nb)))
    assert whole.unanswered == ("ex2-half",) and whole.broken == ()
    assert whole.failing == (("ex3-triple", "triple(1) should be 3"),)
    del nb.cells[1]  # the student deleted the cell that sets `scale`
    report = check._check(json.loads(nbformat.writes(nb)))
    assert report.broken == ((1, "Exercise 1", "NameError: name 'scale' is not defined"),)
    assert report.failing == whole.failing  # the check under it is not listed again
    text = check._words(report, hidden_checks=4)
    assert "Not answered yet (1): ex2-half" in text
    assert "ex3-triple: triple(1) should be 3" in text
    assert "code cell 1 (under \"Exercise 1\"): NameError: name 'scale' is not defined" in text
    assert "4 more checks run when your work is graded." in text
    assert "3 thing(s) to fix before you hand in." in text


def test_the_terminal_check_of_chapter_1_examples(examples, capsys):
    assert main(["check", str(examples["example-complete"].path)]) == 0
    said = capsys.readouterr().out
    assert "Everything is answered, every visible check passes" in said
    assert "more checks run when your work is graded" in said
    assert main(["check", str(examples["example-partial"].path)]) == 1
    said = capsys.readouterr().out
    wrong = _answered_wrongly(examples)
    assert len(wrong) == 1
    unanswered = check._check(json.loads(examples["example-partial"].path.read_text()),
                              run=False).unanswered
    assert f"- Not answered yet ({len(unanswered)}): {', '.join(unanswered)}" in said
    assert f"- Checks that fail (1):\n    {wrong.pop()}: " in said
    assert "Cells that raise" not in said


# --- the feedback page ------------------------------------------------------------------------

def _contrast(foreground: str, background: str = "#ffffff") -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.fast
def test_the_feedback_page_text_meets_wcag_aa_contrast():
    import re

    from autograder.reports import FEEDBACK_STYLE
    text_colours = re.findall(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", FEEDBACK_STYLE)
    assert len(text_colours) >= 4
    assert all(_contrast(c) >= 4.5 for c in text_colours), text_colours
    assert "background: #fff" in FEEDBACK_STYLE


@pytest.mark.fast
def test_the_feedback_page_puts_totals_first_and_fits_a_phone():
    from autograder.reports import feedback_html
    from autograder.results import Outcome, Status, SubmissionResult, TestOutcome
    from autograder.term import settle

    tests = (TestOutcome("q01-check", "Q1", 1, 1, Outcome.PASSED),
             TestOutcome("q02-check", "Q2", 0, 1, Outcome.NOT_ANSWERED,
                         "not answered: the answer cell still raises NotImplementedError"),
             TestOutcome("ex1-check", "Ex 1", 0, 3, Outcome.FAILED, "failed: counts must be ints"))
    r = SubmissionResult("ann", CHAPTER.name, 1, 5, Status.GRADED, tests)
    page = feedback_html(settle(r, []))
    totals = page.index('class="totals"')
    assert totals < page.index("<table>")
    assert "Score: 1 / 5</strong> &middot; 1 passed, 1 failed, 1 not answered" in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "@media (max-width: 36rem)" in page
    assert "failed: counts must be ints" in page and ">not answered<" in page
