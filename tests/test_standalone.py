"""Colab opens a notebook alone: every student notebook, filled in with the model answers and
copied alone into an empty folder, runs with every (visible) test passing.  The README's "Open
in Colab" badges point at notebooks that exist.

The lessons themselves run top to bottom in nbval's run of ``notebooks/`` (in a folder that holds
nothing but the notebook), and touch no file (a kernel-free check below), so the run here leaves
out the lesson cells nothing it checks needs, as the grader does: the set-up cell, the exchange,
the answers, the visible checks and "Check my notebook" run, alone.
"""

from __future__ import annotations

import re

import pytest
from conftest import CHAPTER_IDS, CHAPTERS

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.course import COLAB_PREFIX, REPO_ROOT, REPOSITORY
from autograder.examples import write_examples
from autograder.execute import run_plain
from autograder.grade import lessons_to_leave_out

BADGE = re.compile(r"\]\((?P<url>https://colab\.research\.google\.com/github/[^)\s]+)\)")
# What a cell would use to read or write a file, or look at the folder it runs in.
FILE_USE = re.compile(r"\bopen\(|\bPath\(|\bread_csv\(|\bnp\.load|\bglob\.|\bos\.(path|listdir|"
                      r"getcwd|chdir|scandir|walk)\b|__file__|savefig\(|\.save\(|load_model\(")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_a_filled_in_notebook_runs_alone(chapter, tmp_path):
    complete = next(e for e in write_examples(chapter, tmp_path / "examples")
                    if e.student_id == "example-complete")
    alone = tmp_path / "alone"
    alone.mkdir()
    path = alone / chapter.student_notebook.name
    nb = notebook.read(complete.path)
    left_out = lessons_to_leave_out(nb, AnswerKey.load(chapter))
    assert left_out, "the run should leave lessons out"
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in left_out]
    notebook.write(nb, path)
    nb = run_plain(notebook.read(path), folder=alone, env={"HOME": str(alone)})
    errors = [(notebook.grade_id(c), o.get("ename"), o.get("evalue"))
              for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o.get("output_type") == "error"]
    assert errors == []
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code")
    checks = [c for c in nb.cells if notebook.is_test_cell(c)]
    assert checks and all(c.source.startswith("%%check_as_graded") for c in checks)


@pytest.mark.fast
@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_no_lesson_touches_a_file(chapter):
    """What a lesson cell reads comes from the set-up cell and the lessons before it, never from
    a file beside the notebook (Colab has none)."""
    nb = notebook.read(chapter.student_notebook)
    code = [c for c in nb.cells if c.cell_type == "code"]
    lessons = [c for c in code[1:] if not notebook.grade_id(c) and not notebook.tags(c)]
    assert len(lessons) > 10
    touching = [c.source[:80] for c in lessons if FILE_USE.search(c.source)]
    assert touching == []


def test_every_student_notebook_has_a_colab_badge_to_a_real_file():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    urls = [m["url"] for m in BADGE.finditer(readme)]
    prefix = f"{COLAB_PREFIX}/{REPOSITORY}/blob/main/"
    targets = set()
    for url in urls:
        assert url.startswith(prefix), f"badge not built from REPOSITORY: {url}"
        target = REPO_ROOT / url[len(prefix):]
        assert target.is_file(), f"badge points at a missing file: {url}"
        targets.add(target)
    assert targets == {c.student_notebook for c in CHAPTERS}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_the_setup_cell_installs_what_is_missing(chapter):
    setup = next(c for c in notebook.read(chapter.student_notebook).cells
                 if c.cell_type == "code")
    assert "find_spec" in setup.source and "pip" in setup.source


def test_every_student_notebook_opens_with_its_colab_badge():
    from autograder.course import colab_badge
    from autograder.release import BADGE

    for chapter in CHAPTERS:
        first = notebook.read(chapter.student_notebook).cells[0].source
        assert first.startswith(colab_badge(chapter) + "\n"), chapter.name
        assert len(BADGE.findall(first)) == 1


def test_a_fork_changes_one_line_to_move_every_badge(monkeypatch):
    """Release writes the badges from [tool.course] repository: another value moves them all."""
    from autograder import course
    from autograder.release import BADGE, readme_with_badges

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    monkeypatch.setattr(course, "REPOSITORY", "someone/their-fork")
    moved = readme_with_badges(readme, CHAPTERS)
    urls = [m["url"] for m in BADGE.finditer(moved)]
    assert len(urls) == len(CHAPTERS)
    assert all(u.startswith(f"{COLAB_PREFIX}/someone/their-fork/blob/main/notebooks/")
               for u in urls)
