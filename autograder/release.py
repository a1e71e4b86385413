"""Release: turn each instructor notebook in ``source/`` into its student notebook.

nbgrader's ``generate_assignment`` does the real work (stubs in place of solutions, hidden tests
removed, checksums, locked cells).  It runs in a throwaway course directory with its own
gradebook, so releasing never writes a database or anything else into the repository besides
the student notebooks.  Two course-specific steps follow it:

* answer cells and test cells are tagged ``raises-exception``, so nbval accepts the
  ``NotImplementedError`` of an unanswered stub and the failing tests below it (and nothing else);
* every notebook is written in the canonical form of :mod:`autograder.notebook`.

Two modes: ``practice`` (the default, what ``notebooks/`` holds) keeps each practice question's
``self_check`` call, which says "correct" or "not yet" at once, for self-study and Colab;
``assessed`` leaves those calls out, so a graded question's point cannot be found by trying each
option in turn; its checks still test the answer's form.  Grading accepts both.
"""

from __future__ import annotations

import filecmp
import functools
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from traitlets.config import Config

from autograder import check, judge, notebook
from autograder.answer_key import HIDDEN_TESTS
from autograder.course import Chapter, CourseLayout, colab_badge, find_chapters
from autograder.errors import CourseError, NotInSyncError

STUB_ERROR_TAG = "raises-exception"
MODES = ("practice", "assessed")
SELF_CHECK_CALL = re.compile(r"^[ \t]*self_check\(.*\)[ \t]*\n?", re.M)


def _without_self_checks(path: Path) -> None:
    """Drop every check cell's ``self_check(...)`` call from the instructor notebook at ``path``
    (a throwaway copy), before nbgrader releases it, so nbgrader's checksums match the cells."""
    nb = notebook.read(path)
    for cell in nb.cells:
        if notebook.is_test_cell(cell):
            cell.source = SELF_CHECK_CALL.sub("", cell.source)
    notebook.write(nb, path)


# The cell after the set-up cell of every student notebook: the grader's exchange, so that each
# visible check sees its answers as the judge will (``%%check_as_graded``, see
# :func:`autograder.exchange.as_graded`).  The grader never runs it: it installs its own.
EXCHANGE_TAG = judge.STUDENT_EXCHANGE_TAG
EXCHANGE_MODULE = "_course_exchange"
MAGIC = "check_as_graded"


def exchange_cell_source() -> str:
    """The exchange cell: the exchange as a module of its own, and the checks' cell magic."""
    return (
        "# Your checks see your answers as the grader will: each answer a check names on its\n"
        "# first line is passed through the format the grader uses (numbers, strings, lists,\n"
        "# dicts, NumPy arrays, Keras objects; a function's results too). Run this cell; there\n"
        "# is nothing here to change.\n"
    ) + judge.install_source(
        EXCHANGE_MODULE,
        f"get_ipython().register_magic_function(_module.check_as_graded, 'cell', {MAGIC!r})\n")


def check_header(visible: str) -> str:
    """The first line of a student's check cell whose visible tests are ``visible``: the cell
    magic, naming the answers they read."""
    return f"%%{MAGIC} {' '.join(judge.answer_names(visible))}\n"


def _checked_as_graded(path: Path) -> None:
    """In the instructor notebook at ``path`` (a throwaway copy, before nbgrader releases it):
    the exchange cell after the set-up cell, and every test cell opened by the cell magic that
    names the answers its visible part reads."""
    nb = notebook.read(path)
    for cell in nb.cells:
        if notebook.is_test_cell(cell):
            cell.source = check_header(HIDDEN_TESTS.sub("", cell.source)) + cell.source
    setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    cell = nbformat.v4.new_code_cell(exchange_cell_source())
    cell.metadata["tags"] = [EXCHANGE_TAG]
    cell.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab shows it collapsed
    cell.metadata["cellView"] = "form"  # and Colab as a form
    cell.id = EXCHANGE_TAG  # not random: the same source must release to the same bytes
    nb.cells.insert(setup + 1, cell)
    notebook.write(nb, path)


@functools.lru_cache(maxsize=1)
def _empty_gradebook() -> bytes:
    """A new nbgrader gradebook, empty but for its default course.  nbgrader makes each new one
    by running its `alembic` command in a process of its own (over a second); a release copies
    this one, made once per process."""
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory(prefix="gradebook-") as tmp:
        path = Path(tmp) / "gradebook.db"
        Gradebook(f"sqlite:///{path}").close()
        return path.read_bytes()


def _nbgrader_generate(chapter: Chapter, workdir: Path, *, mode: str) -> Path:
    """Run nbgrader's generate_assignment on a copy of the chapter; return its release folder."""
    # nbgrader runs the `alembic` command of its own environment to set up the gradebook; it
    # must be found even when the virtual environment is used without being activated.
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    course = workdir / "course"
    shutil.copytree(chapter.instructor_notebook.parent, course / "source" / chapter.name)
    if mode == "assessed":
        _without_self_checks(course / "source" / chapter.name / chapter.instructor_notebook.name)
    _checked_as_graded(course / "source" / chapter.name / chapter.instructor_notebook.name)
    # Imported here: importing nbgrader takes about 1 s, which every grading process would pay
    # for nothing (they import this package, and never release).
    from nbgrader.apps import NbGraderAPI

    (course / "gradebook.db").write_bytes(_empty_gradebook())
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.NbGraderAPI.log_level = logging.WARNING
    api = NbGraderAPI(config=config)
    result = api.generate_assignment(chapter.name, force=True, create=True)
    if not result["success"]:
        raise CourseError(
            f"nbgrader could not release {chapter.name}:\n{result.get('error', '')}\n"
            f"{result.get('log', '')}"
        )
    return course / "release" / chapter.name


CHECK_HEADING = ("## Check my notebook\n\nBefore you hand in, save the notebook and run the cell "
                 "below. It runs a copy of your notebook from the top in a fresh kernel and lists "
                 "every answer still missing, every visible check that fails, and every cell that "
                 "only worked because of something you ran earlier. It changes nothing here.")


def check_cell_source(*, chapter: str, hidden_checks: int) -> str:
    """The last cell of a student notebook: :mod:`autograder.check`'s own source, with the
    chapter's name and its count of hidden checks filled in, then the call that runs it."""
    source = Path(check.__file__).read_text(encoding="utf-8")
    for name, value in (("_CHAPTER", repr(chapter)), ("_HIDDEN_CHECKS", str(hidden_checks))):
        old = next(line for line in source.splitlines() if line.startswith(f"{name} = "))
        source = source.replace(old, f"{name} = {value}", 1)
    guard = source.index('if __name__ == "__main__"')
    title = "# @title Check my notebook (run this before you hand in)\n"  # Colab's form title
    return title + source[:guard].rstrip() + "\n\n\n_check_my_notebook()\n"


def hidden_checks(instructor: NotebookNode) -> int:
    """How many check cells of the instructor notebook have hidden tests."""
    return sum(1 for cell in instructor.cells
               if notebook.is_test_cell(cell) and "### BEGIN HIDDEN TESTS" in cell.source)


def _add_check_cell(nb, *, chapter: str, hidden: int):
    heading = nbformat.v4.new_markdown_cell(CHECK_HEADING)
    code = nbformat.v4.new_code_cell(check_cell_source(chapter=chapter, hidden_checks=hidden))
    code.metadata["tags"] = [check.TAG, "nbval-skip"]
    code.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab shows it collapsed
    code.metadata["cellView"] = "form"  # and Colab as a form with its title
    heading.id, code.id = "check-my-notebook-heading", "check-my-notebook"  # not random: the
    nb.cells += [heading, code]  # same source must release to the same bytes
    return nb


BADGE = re.compile(r"\[!\[Open in Colab\]\([^)]*\)\]\((?P<url>[^)]*)\)")


def _add_badge(nb, chapter: Chapter):
    """The student notebook opens with its "Open in Colab" badge (above the title)."""
    first = nb.cells[0]
    if first.cell_type == "markdown" and not BADGE.search(first.source):
        first.source = f"{colab_badge(chapter)}\n\n{first.source}"
    return nb


def readme_with_badges(text: str, chapters: list[Chapter]) -> str:
    """The README with each chapter's Colab badge written from ``[tool.course]``."""
    by_notebook = {c.student_notebook.name: c for c in chapters}

    def rewrite(match: re.Match) -> str:
        chapter = by_notebook.get(match["url"].rsplit("/", 1)[-1])
        return colab_badge(chapter) if chapter else match[0]
    return BADGE.sub(rewrite, text)


def _mark_student_notebook(nb):
    """Tag cells that may raise in an unanswered notebook; drop output checks (no outputs)."""
    for cell in nb.cells:
        cell_tags = [t for t in notebook.tags(cell) if t != notebook.CHECK_OUTPUT_TAG]
        if notebook.is_answer_cell(cell) or notebook.is_test_cell(cell):
            if STUB_ERROR_TAG not in cell_tags:
                cell_tags.append(STUB_ERROR_TAG)
        if cell_tags:
            cell.metadata["tags"] = cell_tags
        else:
            cell.metadata.pop("tags", None)
    return nb


# Files beside an instructor notebook that stay with the instructor (the feedback policy).
NOT_RELEASED = frozenset({"grading.toml"})


def release_chapter(chapter: Chapter, *, dest: Path, mode: str = "practice") -> list[Path]:
    """Release one chapter into ``dest/<chapter>/``, replacing what was there; list the files."""
    if mode not in MODES:
        raise CourseError(f"unknown release mode {mode!r}: use one of {', '.join(MODES)}")
    out_dir = dest / chapter.name
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        released = _nbgrader_generate(chapter, Path(tmp), mode=mode)
        hidden = hidden_checks(notebook.read(chapter.instructor_notebook))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        written = []
        for src in sorted(released.rglob("*")):
            if src.is_dir() or ".ipynb_checkpoints" in src.parts or src.name in NOT_RELEASED:
                continue
            target = out_dir / src.relative_to(released)
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".ipynb":
                marked = _add_badge(_mark_student_notebook(notebook.read(src)), chapter)
                notebook.write(_add_check_cell(marked, chapter=chapter.name, hidden=hidden),
                               target)
            else:
                shutil.copy2(src, target)
            written.append(target)
    return written


def release_all(*, layout: CourseLayout = CourseLayout(), dest: Path | None = None,
                mode: str = "practice") -> list[Path]:
    """Release every chapter of ``source/`` into ``dest`` (default: the course's ``notebooks/``,
    which holds the practice release)."""
    dest = layout.notebooks if dest is None else dest
    chapters = find_chapters(layout=layout)
    if not chapters:
        raise CourseError(f"no chapters found in {layout.source}")
    written: list[Path] = []
    for chapter in chapters:
        written += release_chapter(chapter, dest=dest, mode=mode)
    readme = layout.root / "README.md"
    if dest == layout.notebooks and readme.is_file():
        text = readme.read_text(encoding="utf-8")
        badged = readme_with_badges(text, chapters)
        if badged != text:
            readme.write_text(badged, encoding="utf-8")
            written.append(readme)
    return written


def out_of_sync(*, layout: CourseLayout = CourseLayout(), fresh: Path | None = None) -> list[str]:
    """Differences between the committed ``notebooks/`` and a fresh release of ``source/``
    (``fresh``: a folder that already holds one, from ``release_all(dest=...)``)."""
    if fresh is not None:
        return _differences(fresh, layout)
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        release_all(layout=layout, dest=Path(tmp))
        return _differences(Path(tmp), layout)


def _differences(fresh: Path, layout: CourseLayout) -> list[str]:
    """What differs between the release in ``fresh`` and the layout's ``notebooks/`` and README."""
    problems = []
    committed = layout.notebooks
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    have_files = (
        {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
        if committed.is_dir()
        else set()
    )
    have_files = {p for p in have_files if ".ipynb_checkpoints" not in p.parts}
    for rel in sorted(fresh_files - have_files):
        problems.append(f"missing: notebooks/{rel}")
    for rel in sorted(have_files - fresh_files):
        problems.append(f"not from source/: notebooks/{rel}")
    for rel in sorted(fresh_files & have_files):
        if not filecmp.cmp(fresh / rel, committed / rel, shallow=False):
            problems.append(f"differs from a fresh release: notebooks/{rel}")
    readme = layout.root / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if readme_with_badges(text, find_chapters(layout=layout)) != text:
            problems.append("README.md: Colab badges not written from [tool.course]")
    return problems


def check_in_sync(*, layout: CourseLayout = CourseLayout()) -> None:
    """Raise :class:`NotInSyncError` naming every file that a fresh release would change."""
    problems = out_of_sync(layout=layout)
    if problems:
        raise NotInSyncError(
            "notebooks/ and source/ are not in sync; run `python -m autograder release`.\n  "
            + "\n  ".join(problems)
        )
