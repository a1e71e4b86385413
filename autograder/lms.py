"""Final grades as files a learning-management system's gradebook can import.

Three shapes are written: Canvas's gradebook CSV (the roster is Canvas's own gradebook export,
and every student on it gets exactly one row), Moodle's CSV grade import (one identifier column
and one grade column), and a plain table for anything else.  A submission is matched to a roster
student by the roster's identifier columns; a submission that matches nobody is never written
where the LMS would reject it, and is reported back in :attr:`ExportSummary.unmatched` instead.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import CourseError
from autograder.tables import csv_text, write_rows

FORMATS = ("canvas", "moodle", "csv")
POLICIES = {"blank": "", "zero": "0"}  # what a missing or flagged grade becomes in the file

POINTS_POSSIBLE = "Points Possible"
TEST_STUDENT = "Student, Test"
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")


@dataclass(frozen=True)
class GradeRow:
    """One submission's final grade as the export sees it."""

    student_id: str
    score: float  # final score, after overrides and the late penalty
    max_score: float
    flagged: bool = False  # flagged for review and not yet cleared


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote, and who it could not place."""

    path: Path
    written: int  # student rows in the file (the header and Points Possible rows not counted)
    unmatched: tuple[str, ...]  # submissions' student ids no roster student matched
    missing: tuple[str, ...]  # roster students with no submission


@dataclass(frozen=True)
class IdColumn:
    """A roster column that identifies a student, and how its values are compared."""

    name: str
    fold_case: bool = False

    def key(self, value: str) -> str:
        value = value.strip()
        return value.casefold() if self.fold_case else value


CANVAS_IDS = (IdColumn("ID"), IdColumn("SIS User ID"), IdColumn("SIS Login ID"))
MOODLE_IDS = (IdColumn("ID number"), IdColumn("Email address", fold_case=True),
              IdColumn("Username"))
CSV_IDS = (*CANVAS_IDS, *MOODLE_IDS, IdColumn("student_id"))


@dataclass(frozen=True)
class Roster:
    """A roster CSV: its header and its student rows (non-student rows already dropped)."""

    path: Path
    header: tuple[str, ...]
    students: tuple[dict[str, str], ...]

    def id_columns(self, candidates: tuple[IdColumn, ...]) -> tuple[IdColumn, ...]:
        """The candidates this roster has; a roster with none of them cannot be matched."""
        present = tuple(c for c in candidates if c.name in self.header)
        if not present:
            names = ", ".join(c.name for c in candidates)
            raise CourseError(f"roster {self.path} has no id column (one of: {names})")
        return present


@dataclass(frozen=True)
class Match:
    """Which roster student each submission belongs to."""

    graded: dict[int, GradeRow]  # roster index -> that student's submission
    via: dict[int, str]  # roster index -> the id column that matched
    unmatched: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """The cells a missing and a flagged grade become."""

    missing: str
    flagged: str

    def cell(self, row: GradeRow | None) -> str:
        if row is None:
            return self.missing
        return self.flagged if row.flagged else _number(row.score)


def export_grades(rows: Sequence[GradeRow], *, fmt: str, out: Path, roster: Path | None = None,
                  column: str | None = None, missing: str = "blank",
                  flagged: str = "blank") -> ExportSummary:
    """Write ``rows`` to ``out`` in the format ``fmt`` (one of :data:`FORMATS`).

    ``missing`` is what a roster student with no submission gets and ``flagged`` what a
    submission flagged for review gets: ``"blank"`` (an empty cell) or ``"zero"``."""
    if fmt not in FORMATS:
        raise CourseError(f"unknown export format {fmt!r} (one of: {', '.join(FORMATS)})")
    _check_policy("missing", missing)
    _check_policy("flagged", flagged)
    _check_unique(rows)
    if fmt == "csv" and column is not None:
        raise CourseError("a grade column can be named for canvas and moodle, not for csv")
    policy = Policy(missing=POLICIES[missing], flagged=POLICIES[flagged])
    table = read_roster(roster) if roster is not None else None
    if fmt == "canvas":
        return _export_canvas(rows, out=out, roster=table, column=column, policy=policy)
    if fmt == "moodle":
        return _export_moodle(rows, out=out, roster=table, column=column, policy=policy)
    return _export_csv(rows, out=out, roster=table, policy=policy)


def _check_policy(name: str, value: str) -> None:
    if value not in POLICIES:
        raise CourseError(f"{name} must be one of: {', '.join(POLICIES)} (not {value!r})")


def _check_unique(rows: Sequence[GradeRow]) -> None:
    seen: set[str] = set()
    for row in rows:
        sid = row.student_id.strip()
        if sid in seen:
            raise CourseError(f"student id {sid!r} has more than one grade to export")
        seen.add(sid)


def _number(value: float) -> str:
    return f"{value:g}"


def _max_points(rows: Sequence[GradeRow]) -> str:
    return _number(max(r.max_score for r in rows)) if rows else ""


# --- reading a roster ---------------------------------------------------------------------------

def read_roster(path: Path) -> Roster:
    """The roster at ``path``, without Canvas's non-student rows and without blank lines."""
    if not path.is_file():
        raise CourseError(f"roster file {path} does not exist")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    if not lines:
        raise CourseError(f"roster {path} is empty")
    header = tuple(cell.strip() for cell in lines[0])
    records = (_record(header, line) for line in lines[1:])
    return Roster(path=path, header=header,
                  students=tuple(r for r in records if _is_student(r)))


def _record(header: tuple[str, ...], line: list[str]) -> dict[str, str]:
    record: dict[str, str] = {}
    for name, value in zip(header, line, strict=False):
        record.setdefault(name, value)  # a repeated header name keeps its first column
    return record


def _is_student(record: dict[str, str]) -> bool:
    """False for blank lines and for the rows Canvas adds that are not students: Points
    Possible, the Manual Posting / read-only row, and the Test Student."""
    if not any(value.strip() for value in record.values()):
        return False
    if "Student" not in record:
        return True
    name = record["Student"].strip()
    if name in (POINTS_POSSIBLE, TEST_STUDENT):
        return False
    return bool(name or record.get("ID", "").strip())


# --- matching -----------------------------------------------------------------------------------

def match(rows: Sequence[GradeRow], roster: Roster, columns: tuple[IdColumn, ...]) -> Match:
    """Each submission's roster student: the first of ``columns`` whose value equals its id."""
    lookup = {c.name: _index(roster, c) for c in columns}
    graded: dict[int, GradeRow] = {}
    via: dict[int, str] = {}
    unmatched: list[str] = []
    for row in rows:
        hit = _find(row.student_id, columns, lookup)
        if hit is None:
            unmatched.append(row.student_id)
            continue
        index, name = hit
        if index in graded:
            raise CourseError(f"student ids {graded[index].student_id!r} and "
                              f"{row.student_id!r} are the same roster student")
        graded[index], via[index] = row, name
    return Match(graded=graded, via=via, unmatched=tuple(unmatched))


def _index(roster: Roster, column: IdColumn) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, student in enumerate(roster.students):
        key = column.key(student.get(column.name, ""))
        if key:
            found.setdefault(key, i)
    return found


def _find(student_id: str, columns: tuple[IdColumn, ...],
          lookup: dict[str, dict[str, int]]) -> tuple[int, str] | None:
    for column in columns:
        index = lookup[column.name].get(column.key(student_id))
        if index is not None:
            return index, column.name
    return None


def _label(student: dict[str, str], columns: tuple[IdColumn, ...]) -> str:
    """The first identifier the student has, to name them in a summary."""
    return next((student[c.name].strip() for c in columns if student.get(c.name, "").strip()),
                "")


# --- writing ------------------------------------------------------------------------------------

def _write(out: Path, header: list[str], body: list[list[str]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        write_rows(handle, [header, *body])


def _missing(roster: Roster, found: Match, columns: tuple[IdColumn, ...]) -> tuple[str, ...]:
    return tuple(_label(s, columns) for i, s in enumerate(roster.students)
                 if i not in found.graded)


# --- canvas -------------------------------------------------------------------------------------

def _export_canvas(rows: Sequence[GradeRow], *, out: Path, roster: Roster | None,
                   column: str | None, policy: Policy) -> ExportSummary:
    if roster is None or column is None:
        raise CourseError("a canvas export needs --roster (Canvas's gradebook export) "
                          "and --column (the assignment's column in it)")
    columns = roster.id_columns(CANVAS_IDS)
    _check_canvas_column(roster, column.strip())
    found = match(rows, roster, columns)
    identity = [c for c in CANVAS_IDENTITY if c != "Integration ID" or c in roster.header]
    points = [" " * 4 + POINTS_POSSIBLE] + [""] * (len(identity) - 1) + [_max_points(rows)]
    body = [[csv_text(student.get(c, "")) for c in identity] + [policy.cell(found.graded.get(i))]
            for i, student in enumerate(roster.students)]
    _write(out, [*identity, column.strip()], [points, *body])
    return ExportSummary(path=out, written=len(body), unmatched=found.unmatched,
                         missing=_missing(roster, found, columns))


def _check_canvas_column(roster: Roster, column: str) -> None:
    if column not in roster.header:
        raise CourseError(f"column {column!r} is not in the roster's header")
    if column in CANVAS_IDENTITY:
        raise CourseError(f"column {column!r} identifies students; name an assignment column")


# --- moodle -------------------------------------------------------------------------------------

def _export_moodle(rows: Sequence[GradeRow], *, out: Path, roster: Roster | None,
                   column: str | None, policy: Policy) -> ExportSummary:
    grade_header = column.strip() if column else "Grade"
    if roster is None:
        body = [[csv_text(r.student_id), policy.cell(r)] for r in rows]
        _write(out, ["ID number", grade_header], body)
        return ExportSummary(path=out, written=len(body), unmatched=(), missing=())
    columns = roster.id_columns(MOODLE_IDS)
    found = match(rows, roster, columns)
    chosen = _busiest(columns, found)
    body: list[list[str]] = []
    unaddressable: list[str] = []  # matched submissions whose student has no chosen id
    for i, student in enumerate(roster.students):
        ident = student.get(chosen.name, "").strip()
        if ident:
            body.append([csv_text(ident), policy.cell(found.graded.get(i))])
        elif i in found.graded:
            unaddressable.append(found.graded[i].student_id)
    _write(out, [chosen.name, grade_header], body)
    return ExportSummary(path=out, written=len(body),
                         unmatched=found.unmatched + tuple(unaddressable),
                         missing=_missing(roster, found, (chosen, *columns)))


def _busiest(columns: tuple[IdColumn, ...], found: Match) -> IdColumn:
    """The id column that matched the most submissions (the earlier one on a tie)."""
    counts = {c.name: 0 for c in columns}
    for name in found.via.values():
        counts[name] += 1
    return max(columns, key=lambda c: (counts[c.name], -columns.index(c)))


# --- plain csv ----------------------------------------------------------------------------------

def _export_csv(rows: Sequence[GradeRow], *, out: Path, roster: Roster | None,
                policy: Policy) -> ExportSummary:
    body = [[csv_text(r.student_id), policy.cell(r), _number(r.max_score),
             "yes" if r.flagged else "no"] for r in rows]
    unmatched: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    if roster is not None:
        columns = roster.id_columns(CSV_IDS)
        found = match(rows, roster, columns)
        unmatched = found.unmatched
        absent = tuple(label for label in _missing(roster, found, columns) if label)
        body += [[csv_text(label), policy.cell(None), _max_points(rows), "no"]
                 for label in absent]
    _write(out, ["student_id", "score", "max_score", "flagged"], body)
    return ExportSummary(path=out, written=len(body), unmatched=unmatched, missing=absent)
