"""An instructor's decisions over a term, and the grade each submission ends with.

The grader's records (:mod:`autograder.records`) are never edited.  What a person decides is
appended to ``overrides.csv`` in the results folder, one row per decision (:class:`Override`):
clearing a flagged submission, or setting one item's points.  Each decision names the
submission it was made on by the digest of its bytes, so it holds through every later ``grade``
into the same folder, and does not carry over to a different file the student sends later
(that one waits for review again, and the report says a decision was left unapplied).

:func:`settle` turns a record, the decisions and the late policy into a :class:`Settled` grade:
the grader's score (``auto_score``), the score after the decisions (``raw_score``), and the
score after any late penalty (``score``).  Everything people read is written from these.
"""

from __future__ import annotations

import csv
import getpass
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from autograder import tables
from autograder.errors import CourseError
from autograder.late import Lateness, LatePolicy, apply_penalty, lateness, parse_due
from autograder.results import NOT_RUN, STOPPED, Outcome, Status, SubmissionResult

OVERRIDES = "overrides.csv"
COLUMNS = ["when", "who", "student_id", "action", "grade_id", "points", "reason", "submission"]
CLEAR, SET = "clear", "set"


@dataclass(frozen=True)
class Override:
    """One decision: clear a flag, or set one item's points, on one submission."""

    student_id: str
    action: str  # CLEAR or SET
    reason: str
    submission: str  # the digest of the file it was made on
    grade_id: str = ""  # SET only
    points: float | None = None  # SET only
    who: str = ""
    when: str = ""


def read_overrides(folder: Path) -> tuple[Override, ...]:
    """Every decision recorded in ``folder/overrides.csv``, oldest first (none if no file)."""
    path = folder / OVERRIDES
    if not path.is_file():
        return ()
    found = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                points = float(row["points"]) if row["points"] else None
                if row["action"] not in (CLEAR, SET) or (row["action"] == SET) != \
                        (points is not None):
                    raise ValueError(row["action"])
                found.append(Override(row["student_id"], row["action"], row["reason"],
                                      row["submission"], row["grade_id"], points, row["who"],
                                      row["when"]))
            except (KeyError, ValueError, TypeError):
                raise CourseError(f"{path}, line {line}: not a decision this grader wrote "
                                  "(fix or remove that line)") from None
    return tuple(found)


def append_overrides(folder: Path, decisions: Iterable[Override]) -> Path:
    """Add decisions to ``folder/overrides.csv``, stamped with who made them and when."""
    path = folder / OVERRIDES
    new = not path.is_file()
    who = getpass.getuser()
    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    rows = [list(COLUMNS)] if new else []
    rows += [[d.when or when, d.who or who, d.student_id, d.action, d.grade_id,
              "" if d.points is None else f"{d.points:g}", d.reason, d.submission]
             for d in decisions]
    with path.open("a", newline="", encoding="utf-8") as handle:
        tables.write_rows(handle, rows)
    return path


@dataclass(frozen=True)
class Settled:
    """One submission's grade after the instructor's decisions and the late policy."""

    result: SubmissionResult
    items: tuple[tuple[str, float], ...]  # final points per graded item, in the key's order
    auto_score: float  # what the grader gave (0 for a flagged submission)
    raw_score: float  # after the decisions, before any late penalty
    score: float  # the grade
    cleared: bool = False  # a flag an instructor cleared
    overridden: tuple[str, ...] = ()  # grade ids whose points a person set
    decisions: tuple[Override, ...] = ()  # those applied
    stale: tuple[Override, ...] = ()  # made on another file of this student: not applied
    late: Lateness | None = None

    @property
    def flagged(self) -> bool:
        """Flagged for review, and not cleared."""
        return self.result.status is Status.FLAGGED and not self.cleared

    @property
    def override_text(self) -> str:
        """The decisions applied, in words, for grades.csv."""
        return "; ".join(f"{d.action} {d.grade_id}={d.points:g}: {d.reason}" if d.action == SET
                         else f"flag cleared: {d.reason}" for d in self.decisions)


def settle(result: SubmissionResult, decisions: Sequence[Override],
           policy: LatePolicy | None = None) -> Settled:
    """The grade of ``result`` once ``decisions`` (all of the class's; those on this file
    apply, the latest decision on an item wins) and the late ``policy`` are applied."""
    mine = [d for d in decisions if d.student_id == result.student_id]
    applied = [d for d in mine if d.submission == result.digest]
    stale = tuple(d for d in mine if d.submission != result.digest)
    cleared = result.status is Status.FLAGGED and any(d.action == CLEAR for d in applied)
    points = {t.grade_id: t.points for t in result.tests}
    if result.status is Status.FLAGGED and not cleared:
        points = dict.fromkeys(points, 0.0)
    overridden = []
    for d in applied:
        if d.action == SET and d.grade_id in points and d.points is not None:
            points[d.grade_id] = d.points
            overridden.append(d.grade_id)
    raw = round(sum(points.values()), 6)
    late = None
    if policy is not None and result.status not in NOT_RUN:
        when = parse_due(result.submitted_at) if result.submitted_at else None
        late = lateness(policy, student_id=result.student_id, submitted_at=when,
                        late_marker=result.late_marker)
    score = apply_penalty(raw, late) if late else raw
    return Settled(result, tuple(points.items()), result.score, raw, score, cleared,
                   tuple(dict.fromkeys(overridden)), tuple(applied), stale, late)


def settle_all(results: Sequence[SubmissionResult], decisions: Sequence[Override],
               policy: LatePolicy | None = None) -> tuple[Settled, ...]:
    """:func:`settle` for a class; a decision on a file that is still in the class under
    another row is not stale for the student's other rows."""
    digests = {r.digest for r in results}
    settled = (settle(r, decisions, policy) for r in results)
    return tuple(replace(s, stale=tuple(d for d in s.stale if d.submission not in digests))
                 for s in settled)


def waiting(settled: Sequence[Settled]) -> list[Settled]:
    """What waits for a person: flagged and not cleared, stopped (a time limit, a dead kernel,
    a stopped check), a submission marked late whose time is unknown, or a decision on an
    earlier file of the student's that no longer applies."""
    def needs(s: Settled) -> bool:
        stopped = s.result.status in STOPPED or \
            any(t.outcome is Outcome.STOPPED for t in s.result.tests)
        unknown_late = s.late is not None and s.late.late_hours is None and s.result.late_marker
        return s.flagged or (stopped and not s.decisions) or unknown_late or bool(s.stale)
    return [s for s in settled if needs(s)]


# --- the late policy a results folder keeps -----------------------------------------------------

SETTINGS = "late_policy.json"


def save_late_policy(folder: Path, policy: LatePolicy) -> Path:
    """Keep the late policy with the results, so every later command applies the same one."""
    path = folder / SETTINGS
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(policy.to_json(), indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def load_late_policy(folder: Path) -> LatePolicy | None:
    """The late policy kept in ``folder`` (None: none was given)."""
    path = folder / SETTINGS
    if not path.is_file():
        return None
    try:
        return LatePolicy.from_json(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as err:
        raise CourseError(f"{path}: not JSON ({err})") from None
