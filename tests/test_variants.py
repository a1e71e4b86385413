"""Every coding exercise's answer variants, graded through `python -m autograder grade`.

Correct answers written another way must earn every point of the items their answer cell feeds;
known-wrong answers must earn none of them.  The variants are listed in tests/variants/.  To keep
the run short, one submission carries one variant of each exercise (exercises do not share
names), the other answers being the model answers: submission k holds the k-th correct (or wrong)
variant of every exercise that has one.  The first right and the first wrong submission of each
chapter (a variant of every exercise each) are graded again with the whole notebook, and must get
the same grades item by item: leaving lessons out changes no grade.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import assert_same_grades
from variants import Variant, variants_of

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.course import REPO_ROOT, find_chapters
from autograder.records import read_records

CHAPTERS = [c for c in find_chapters() if variants_of(c.name)]


def _rounds(variants: tuple[Variant, ...], *, correct: bool) -> list[dict[str, Variant]]:
    by_answer: dict[str, list[Variant]] = defaultdict(list)
    for v in variants:
        if v.correct is correct:
            by_answer[v.answer_id].append(v)
    count = max((len(vs) for vs in by_answer.values()), default=0)
    return [{a: vs[k] for a, vs in by_answer.items() if k < len(vs)} for k in range(count)]


def _write(chapter, key: AnswerKey, chosen: dict[str, Variant], path: Path) -> None:
    nb = notebook.read(chapter.student_notebook)
    for cell in nb.cells:
        gid = notebook.grade_id(cell)
        if notebook.is_answer_cell(cell):
            cell.source = chosen[gid].source if gid in chosen else key.answers[gid]
    notebook.write(nb, path)


def _grade(chapter_name: str, submissions: Path, out: Path, *extra: str) -> dict:
    """Grade a folder through ``python -m autograder grade``; the records by student id."""
    subprocess.run([sys.executable, "-m", "autograder", "grade", chapter_name, str(submissions),
                    "--out", str(out), "--workers", "2", *extra],
                   cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    return {r.student_id: r for r in read_records(out)}


@pytest.fixture(scope="module", params=CHAPTERS, ids=lambda c: c.name)
def graded_variants(request, tmp_path_factory):
    chapter = request.param
    key = AnswerKey.load(chapter)
    variants = variants_of(chapter.name)
    unknown = {v.answer_id for v in variants} - set(key.answers)
    assert not unknown, f"variants for answer cells {chapter.name} does not have: {unknown}"
    folder = tmp_path_factory.mktemp(f"variants-{chapter.name}")
    plans = {}
    for correct, label in ((True, "right"), (False, "wrong")):
        for k, chosen in enumerate(_rounds(variants, correct=correct)):
            student = f"{label}{k + 1:02d}"
            _write(chapter, key, chosen, folder / "class" / f"{student}.ipynb")
            plans[student] = chosen
    results = _grade(chapter.name, folder / "class", folder / "results")
    return chapter, key, plans, results, folder


WHOLE = ("right01", "wrong01")


@pytest.fixture(scope="module")
def graded_whole_variants(graded_variants):
    """The first right and wrong submissions graded again with ``--full-notebook``."""
    *_, folder = graded_variants
    (folder / "whole").mkdir()
    for student in WHOLE:
        (folder / "whole" / f"{student}.ipynb").write_bytes(
            (folder / "class" / f"{student}.ipynb").read_bytes())
    return _grade(graded_variants[0].name, folder / "whole", folder / "results-whole",
                  "--full-notebook")


def _items_of(key: AnswerKey, answer_id: str) -> list[str]:
    return [gid for gid, test in key.tests.items() if test.answer_id == answer_id]


def test_every_exercise_has_right_and_wrong_variants(graded_variants):
    chapter, key, *_ = graded_variants
    variants = variants_of(chapter.name)
    exercises = {t.answer_id for t in key.tests.values() if t.grade_id.startswith("ex")}
    for answer_id in exercises:
        mine = [v for v in variants if v.answer_id == answer_id]
        assert any(v.correct for v in mine), f"{answer_id}: no correct variant"
        assert any(not v.correct for v in mine), f"{answer_id}: no wrong variant"


def test_right_answers_written_another_way_earn_every_point(graded_variants):
    _, key, plans, results, _ = graded_variants
    lost = []
    for student, chosen in plans.items():
        if not student.startswith("right"):
            continue
        result = results[student]
        assert result.status == "graded", (student, result.status, result.detail)
        for t in result.tests:
            if t.points < t.max_points:
                variant = chosen.get(t.answer_id)
                lost.append((variant.name if variant else "model answer", t.grade_id,
                             t.outcome, t.message, t.hidden_message))
    assert not lost, lost


def test_wrong_answers_earn_nothing_and_cost_nothing_elsewhere(graded_variants):
    _, key, plans, results, _ = graded_variants
    problems = []
    for student, chosen in plans.items():
        if not student.startswith("wrong"):
            continue
        result = results[student]
        assert result.status == "graded", (student, result.status, result.detail)
        for t in result.tests:
            variant = chosen.get(t.answer_id)
            if variant and t.points > 0:
                problems.append((variant.name, t.grade_id, "earned", t.points))
            if not variant and t.points < t.max_points:
                problems.append(("model answer beside wrong ones", t.grade_id, t.message))
    assert not problems, problems


def test_leaving_out_lessons_changes_no_variant_grade(graded_variants, graded_whole_variants):
    """The same variants graded with the lessons nothing graded needs left out, and with the
    whole notebook: the same status, score, and points, outcome and words for every item."""
    _, _, _, results, _ = graded_variants
    assert sorted(graded_whole_variants) == sorted(WHOLE)
    for student, whole in graded_whole_variants.items():
        assert_same_grades(results[student], whole, student)
