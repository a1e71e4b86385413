"""Self-study feedback: each practice question's visible check says "correct" or "not yet"
from a digest, and the answer itself never appears in the student notebook."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from conftest import CHAPTER_IDS, CHAPTERS, notebook_function

from autograder import notebook, selfcheck
from autograder.answer_key import AnswerKey

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_digests_are_in_sync_with_the_model_answers(chapter):
    nb = notebook.read(chapter.instructor_notebook)
    assert selfcheck.sync(nb, chapter.name) == [], "run `python -m autograder selfcheck`"
    questions = [gid for gid in AnswerKey.load(chapter).tests if gid.startswith("q")]
    assert len(selfcheck.expected_calls(nb, chapter.name)) == len(questions)


def _notebook_self_check(chapter):
    """The self_check function as the student notebook defines it."""
    setup = next(c for c in notebook.read(chapter.student_notebook).cells if c.cell_type == "code")
    return notebook_function(setup.source, "self_check",
                             {"np": np, "hashlib": __import__("hashlib")})


def _says(check, *args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check(*args)
    return out.getvalue()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_notebook_self_check_accepts_the_model_answer_and_rejects_others(chapter):
    check = _notebook_self_check(chapter)
    nb = notebook.read(chapter.instructor_notebook)
    answers = {notebook.grade_id(c): c.source for c in nb.cells if notebook.is_answer_cell(c)}
    for name, line in selfcheck.expected_calls(nb, chapter.name).items():
        digest = line.rsplit('"', 2)[1]
        right = selfcheck.model_answer(answers[f"{name}-answer"], name)
        assert _says(check, name, right, digest) == f"{name}: correct\n"
        wrong = "zz" if isinstance(right, str) else (None, -1) if isinstance(right, tuple) else -7
        assert "not yet" in _says(check, name, wrong, digest)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_check_cells_give_feedback_but_not_the_answer(chapter):
    student = notebook.read(chapter.student_notebook)
    key = AnswerKey.load(chapter)
    for cell in student.cells:
        gid = notebook.grade_id(cell) or ""
        if gid.startswith("q") and notebook.is_test_cell(cell):
            assert f'self_check("{gid[:3]}", {gid[:3]}, "' in cell.source
            answer = key.answers[f"{gid[:3]}-answer"].strip().splitlines()[-1]
            assert answer not in cell.source


def _question_variants(chapter):
    from variants import variants_of
    return [v for v in variants_of(chapter.name) if v.answer_id.startswith("q")]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_self_check_agrees_with_the_graded_question_variants(chapter):
    """A practice question's answer variants (tests/variants/) are graded right or wrong by its check
    cell (tests/test_variants.py); the visible part of that cell must say the same before grading:
    a right variant passes the form checks and `self_check` says correct, a wrong one fails a form
    check or `self_check` says not yet."""
    check = _notebook_self_check(chapter)
    key = AnswerKey.load(chapter)
    disagree = []
    for variant in _question_variants(chapter):
        name = variant.answer_id.split("-")[0]
        test = key.tests[f"{name}-check"]
        namespace = {"np": np}
        exec(variant.source, namespace)  # a literal answer written by the course, never a submission
        namespace["self_check"] = check
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(test.visible_source, namespace)
            verdict = out.getvalue().strip().endswith("correct") and "not yet" not in out.getvalue()
        except AssertionError:
            verdict = False
        if verdict is not variant.correct:
            disagree.append((variant.answer_id, variant.name, out.getvalue().strip()))
    assert not disagree, disagree
