"""Release: the committed student notebooks are exactly what source/ releases to, and they
carry no solution code and no hidden test."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import CHAPTER_IDS, CHAPTERS

from autograder import notebook, release
from autograder.answer_key import AnswerKey
from autograder.course import CourseLayout

SOLUTION_REGION = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*", re.M | re.S
)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """One fresh release of source/ (about 7 s a chapter), which both sync tests compare with."""
    folder = tmp_path_factory.mktemp("fresh-release")
    release.release_all(dest=folder)
    return folder


def test_committed_student_notebooks_match_a_fresh_release(fresh):
    assert release.out_of_sync(fresh=fresh) == []


def _course_with_release(fresh: Path, root: Path) -> CourseLayout:
    """A course in ``root``: this course's source/ and a copy of the release ``fresh`` as its
    notebooks/."""
    (root / "source").symlink_to(CourseLayout().source)
    shutil.copytree(fresh, root / "notebooks")
    return CourseLayout(root)


def test_out_of_sync_releases_afresh_when_given_no_release(fresh, tmp_path):
    """Without ``fresh`` the check makes its own release, which is the same as the shared one."""
    assert release.out_of_sync(layout=_course_with_release(fresh, tmp_path)) == []


def test_a_stale_student_notebook_is_reported(fresh, tmp_path):
    """The sync check is not vacuous: edit a released copy and it must notice."""
    layout = _course_with_release(fresh, tmp_path)
    assert release.out_of_sync(layout=layout, fresh=fresh) == []
    victim = next((tmp_path / "notebooks").rglob("*.ipynb"))
    victim.write_text(victim.read_text(encoding="utf-8").replace("Keras", "Kera", 1),
                      encoding="utf-8")
    (tmp_path / "notebooks" / "stray.txt").write_text("not released", encoding="utf-8")
    problems = release.out_of_sync(layout=layout, fresh=fresh)
    assert any("differs" in p and victim.name in p for p in problems)
    assert any("stray.txt" in p for p in problems)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_notebook_has_no_solutions_and_no_hidden_tests(chapter):
    key = AnswerKey.load(chapter)
    student = notebook.read(chapter.student_notebook)
    text = chapter.student_notebook.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    by_id = {notebook.grade_id(c): c for c in student.cells if notebook.grade_id(c)}
    instructor = notebook.read(chapter.instructor_notebook)
    for cell in instructor.cells:
        gid = notebook.grade_id(cell)
        if notebook.is_answer_cell(cell):
            stub = SOLUTION_REGION.sub(
                lambda m: "{0}# YOUR CODE HERE\n{0}raise NotImplementedError()".format(m["indent"]),
                cell.source,
            )
            assert by_id[gid].source == stub, f"{gid}: the student cell is not the plain stub"
        elif notebook.is_test_cell(cell):
            visible = key.tests[gid].visible_source
            expected = release.check_header(visible) + visible
            assert by_id[gid].source.rstrip() == expected.rstrip(), \
                f"{gid}: the student copy differs from the visible tests"
    exchange_cells = [i for i, c in enumerate(student.cells)
                      if release.EXCHANGE_TAG in notebook.tags(c)]
    first_code = next(i for i, c in enumerate(student.cells) if c.cell_type == "code")
    assert exchange_cells == [first_code + 1]
    assert student.cells[first_code + 1].source == release.exchange_cell_source()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_notebook_marks_the_cells_that_may_raise(chapter):
    for cell in notebook.read(chapter.student_notebook).cells:
        may_raise = release.STUB_ERROR_TAG in notebook.tags(cell)
        assert may_raise == (notebook.is_answer_cell(cell) or notebook.is_test_cell(cell))
        assert notebook.CHECK_OUTPUT_TAG not in notebook.tags(cell)


def test_an_assessed_release_has_no_instant_answers_and_grades_the_same(tmp_path):
    """`release --mode assessed`: no practice question says "correct" (no self-check digest in
    any cell), its checks still test the form, nbgrader's checksums still match the cells, and a
    completed assessed notebook earns full marks from the grader, like a practice one."""
    import subprocess
    import sys

    from nbgrader.utils import compute_checksum

    from autograder.course import REPO_ROOT, get_chapter
    from autograder.grade import grade_folder

    out = tmp_path / "assessed"
    subprocess.run([sys.executable, "-m", "autograder", "release", "--mode", "assessed",
                    "--out", str(out)], cwd=REPO_ROOT, check=True, capture_output=True)
    for chapter in CHAPTERS:
        practice = notebook.read(chapter.student_notebook)
        assessed = notebook.read(out / chapter.name / chapter.student_notebook.name)
        assert sum("self_check(" in c.source for c in practice.cells if notebook.is_test_cell(c))
        checks = [c for c in assessed.cells if notebook.is_test_cell(c)]
        assert checks and not any("self_check(" in c.source for c in checks)
        assert all("assert " in c.source for c in checks)  # the form checks stay
        for cell in assessed.cells:
            meta = cell.metadata.get("nbgrader", {})
            if "checksum" in meta:
                assert compute_checksum(cell) == meta["checksum"], notebook.grade_id(cell)
    chapter = get_chapter("ch01_keras_api")
    key = AnswerKey.load(chapter)
    nb = notebook.read(out / chapter.name / chapter.student_notebook.name)
    for cell in nb.cells:
        if notebook.is_answer_cell(cell):
            cell.source = key.answers[notebook.grade_id(cell)]
    (tmp_path / "class").mkdir()
    notebook.write(nb, tmp_path / "class" / "assessed-complete.ipynb")
    result = grade_folder(chapter=chapter, submissions=tmp_path / "class", workers=1)
    assert [r.score for r in result.results] == [key.max_score]


def test_an_assessed_release_needs_a_folder_of_its_own():
    import subprocess
    import sys

    from autograder.course import REPO_ROOT

    run = subprocess.run([sys.executable, "-m", "autograder", "release", "--mode", "assessed"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and "needs --out" in run.stderr and "Traceback" not in run.stderr
