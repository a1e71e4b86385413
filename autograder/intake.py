"""Intake: from an LMS export (folder or .zip) or nbgrader's layout to one entry per file.

Every file found becomes an :class:`Entry`: either a notebook to grade, or a row with a status
that says why it is not graded (not a notebook, a second file of the same student, a notebook of
another chapter).  Nothing is dropped silently.

Student ids come from the file name: ``<id>.ipynb``; LMS export names such as
``<name>_<userid>_<submissionid>_<original>.ipynb`` (Canvas style, ``_LATE_`` allowed) through
``LMS_PATTERN`` or a pattern of your own with a named group ``id``; and nbgrader's
``submitted/<student>/<chapter>/<notebook>.ipynb`` layout.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from autograder.errors import CourseError
from autograder.results import Status, status_text

LMS_PATTERN = r"^(?P<name>[^_]+)_(?:LATE_)?(?P<id>\d+)_(?P<submission>\d+)_(?P<original>.+)$"
MAX_FILE_BYTES = 50_000_000
IGNORED_PARTS = {"__MACOSX", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class Entry:
    """One submitted file: who sent it, its bytes, and a status when it will not be graded."""

    student_id: str
    filename: str
    data: bytes | None
    status: Status | None = None  # None: grade it
    detail: str = ""
    order: tuple = ()  # sorts a student's files, newest last
    submitted_at: str = ""  # ISO 8601 time of a zip entry ("" when unknown)
    late_marker: bool = False  # the LMS's file name says LATE

    @property
    def status_text(self) -> str:
        return status_text(self.status, self.detail) if self.status else ""


def _student_id(path: PurePosixPath, *, chapter: str, chapters: set[str],
                pattern: re.Pattern[str] | None) -> tuple[str, str, tuple]:
    """(student id, why it is another chapter's or "", order) for one file path."""
    parts = path.parts
    if len(parts) >= 3 and parts[-2] in chapters:  # nbgrader: <student>/<chapter>/<file>
        status = "" if parts[-2] == chapter else f"filed under {parts[-2]}, not {chapter}"
        return parts[-3], status, (path.name,)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    for regex in ([pattern] if pattern else []) + [re.compile(LMS_PATTERN)]:
        match = regex.search(path.name) or regex.search(stem)
        if match and match.groupdict().get("id"):
            submission = match.groupdict().get("submission") or ""
            return match["id"], "", (int(submission) if submission.isdigit() else 0, path.name)
    return stem, "", (0, path.name)


LINK_REFUSED = (Status.REFUSED, "a symbolic link, which the grader never follows")
TOO_LARGE = (Status.TOO_LARGE, "over 50 MB")
LATE_MARKER = re.compile(r"(^|_)LATE_")


def _is_zip_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


Problem = tuple[Status, str] | None
Found = tuple[PurePosixPath, bytes | None, Problem, str]


def _zip_time(info: zipfile.ZipInfo) -> str:
    """A zip entry's time (zip files keep no time zone: taken as UTC), ISO 8601."""
    try:
        return datetime(*info.date_time, tzinfo=UTC).isoformat()
    except ValueError:
        return ""


def _files(source: Path) -> list[Found]:
    """(relative path, bytes or None, problem, time) for every file in a folder or a zip.  A
    symbolic link gets a row of its own and is never read: it could point at the answer key.
    Only a zip entry has a time (a copied file's modification time says nothing)."""
    found = []
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file() or p.is_symlink()):
            rel = PurePosixPath(path.relative_to(source).as_posix())
            if IGNORED_PARTS & set(rel.parts) or rel.name.startswith("."):
                continue
            if path.is_symlink():  # rglob does not descend into a linked folder either
                found.append((rel, None, LINK_REFUSED, ""))
                continue
            too_big = path.stat().st_size > MAX_FILE_BYTES
            found.append((rel, None if too_big else path.read_bytes(),
                          TOO_LARGE if too_big else None, ""))
        return found
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                rel = PurePosixPath(info.filename)
                if info.is_dir() or IGNORED_PARTS & set(rel.parts) or rel.name.startswith("."):
                    continue
                if _is_zip_link(info):
                    found.append((rel, None, LINK_REFUSED, _zip_time(info)))
                    continue
                too_big = info.file_size > MAX_FILE_BYTES
                found.append((rel, None if too_big else archive.read(info),
                              TOO_LARGE if too_big else None, _zip_time(info)))
        return found
    if source.exists():
        raise CourseError(f"submissions must be a folder or a .zip file: {source}")
    raise CourseError(f"submissions folder not found: {source}")


def collect(source: Path, *, chapter: str, chapters: set[str],
            id_pattern: str | None = None) -> list[Entry]:
    """Every file of ``source`` as an entry, in a stable order (by student id, then file)."""
    pattern = re.compile(id_pattern) if id_pattern else None
    if pattern and "id" not in pattern.groupindex:
        raise CourseError("--id-pattern needs a named group (?P<id>...)")
    entries = []
    for rel, data, problem, when in _files(source):
        student, other, order = _student_id(rel, chapter=chapter, chapters=chapters,
                                            pattern=pattern)
        if not problem and other:
            problem = (Status.WRONG_CHAPTER, other)
        elif not problem and rel.suffix != ".ipynb":
            problem = (Status.NOT_NOTEBOOK, f"{rel.name} is not an .ipynb notebook")
        status, detail = problem or (None, "")
        entries.append(Entry(student, str(rel), data, status, detail, order, when,
                             bool(LATE_MARKER.search(rel.name))))
    return _mark_duplicates(sorted(entries, key=lambda e: (e.student_id, e.order)))


def _mark_duplicates(entries: list[Entry]) -> list[Entry]:
    """Of several gradable notebooks from one student, grade the newest (last) one."""
    last: dict[str, Entry] = {}
    for entry in entries:
        if not entry.status:
            last[entry.student_id] = entry
    marked = []
    for entry in entries:
        keep = last.get(entry.student_id)
        if not entry.status and keep is not entry:
            entry = replace(entry, status=Status.DUPLICATE,
                            detail=f"{keep.filename} from the same student was graded instead")
        marked.append(entry)
    return marked
