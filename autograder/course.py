"""Where things live in the course repository, and what a chapter is."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import UnknownChapterError

REPO_ROOT = Path(__file__).resolve().parent.parent
COLAB_PREFIX = "https://colab.research.google.com/github"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _repository() -> str:
    """The published repository (GitHub owner/name), from ``[tool.course]`` in pyproject.toml:
    the one place it is written.  Release writes every Colab badge from it."""
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["tool"]["course"]["repository"]


REPOSITORY = _repository()


def colab_url(chapter: Chapter) -> str:
    """The address that opens a chapter's student notebook in Colab."""
    rel = chapter.student_notebook.relative_to(chapter.layout.root).as_posix()
    return f"{COLAB_PREFIX}/{REPOSITORY}/blob/main/{rel}"


def colab_badge(chapter: Chapter) -> str:
    return f"[![Open in Colab]({COLAB_BADGE})]({colab_url(chapter)})"


@dataclass(frozen=True)
class CourseLayout:
    """The folders of a course checkout (``source/`` in, ``notebooks/`` out)."""

    root: Path = REPO_ROOT

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``source/<name>/<name>.ipynb`` released to ``notebooks/<name>/<name>.ipynb``."""

    name: str
    layout: CourseLayout = CourseLayout()

    @property
    def instructor_notebook(self) -> Path:
        return self.layout.source / self.name / f"{self.name}.ipynb"

    @property
    def student_notebook(self) -> Path:
        return self.layout.notebooks / self.name / f"{self.name}.ipynb"


def find_chapters(*, layout: CourseLayout = CourseLayout()) -> list[Chapter]:
    """Every chapter folder in ``source/`` that holds its instructor notebook, in name order."""
    if not layout.source.is_dir():
        return []
    chapters = [Chapter(p.name, layout) for p in sorted(layout.source.iterdir()) if p.is_dir()]
    return [c for c in chapters if c.instructor_notebook.is_file()]


def get_chapter(name: str, *, layout: CourseLayout = CourseLayout()) -> Chapter:
    """The chapter called ``name``, or an error that lists the chapters there are."""
    chapters = find_chapters(layout=layout)
    for chapter in chapters:
        if chapter.name == name:
            return chapter
    known = ", ".join(c.name for c in chapters) or "none"
    raise UnknownChapterError(f"no chapter {name!r} in {layout.source} (chapters: {known})")
