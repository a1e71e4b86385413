"""Late work: the due time, the deduction for late submissions, and per-student extensions.

A :class:`LatePolicy` holds one due time for the class, how many percent of the raw score a late
submission loses per started day (a day is 24 hours; any part of one counts as a whole day), a cap
on that deduction, or the rule that late work scores 0, and each extended student's own due time.
:func:`lateness` measures one submission against it and says, in one sentence the student can
read, what was deducted and why.  A submission without a known time is never penalised.

Times are ISO 8601 ("2026-11-20T23:59+01:00"); a time written without an offset is taken as UTC.
Extensions and submission times come from CSV files with a ``student_id`` column and a ``due``
or ``submitted_at`` column.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from autograder.errors import CourseError

DAY_SECONDS = 24 * 3600
TIME_FORM = "an ISO 8601 date and time such as 2026-11-20T23:59 or 2026-11-20T23:59+01:00"
LATE_FORM = "PERCENT_PER_DAY[,max=PERCENT] such as '10,max=50', or 'zero'"
UNKNOWN_TIME_NOTE = ("the LMS marked this submission late, but its time is unknown, "
                     "so no late penalty was applied; your instructor will decide")

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_LATE = re.compile(rf"(?P<percent>{_NUMBER})(?:\s*,\s*max\s*=\s*(?P<max>{_NUMBER}))?")


@dataclass(frozen=True)
class LatePolicy:
    """When work is due, and what late work loses."""

    due: datetime
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    zero: bool = False
    extensions: Mapping[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(self.due, "the due time")
        for student_id, due in self.extensions.items():
            _require_aware(due, f"the extended due time of {student_id}")
        _require_percent(self.percent_per_day, "the percent per day")
        _require_percent(self.max_percent, "the maximum percent")
        object.__setattr__(self, "extensions", MappingProxyType(dict(self.extensions)))

    def due_for(self, student_id: str) -> datetime:
        """The student's own due time: their extension, or the class's due time."""
        return self.extensions.get(student_id, self.due)

    def to_json(self) -> dict:
        """Everything in the policy, as JSON types (times as ISO 8601 strings with an offset)."""
        return {
            "due": self.due.isoformat(),
            "percent_per_day": self.percent_per_day,
            "max_percent": self.max_percent,
            "zero": self.zero,
            "extensions": {sid: due.isoformat() for sid, due in self.extensions.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> LatePolicy:
        """The policy :meth:`to_json` wrote."""
        if "due" not in data:
            raise CourseError("the late policy has no 'due' time")
        zero = data.get("zero", False)
        if not isinstance(zero, bool):
            raise CourseError(f"the late policy's 'zero' must be true or false, not {zero!r}")
        return cls(
            due=parse_due(data["due"]),
            percent_per_day=_json_number(data, "percent_per_day", 0.0),
            max_percent=_json_number(data, "max_percent", 100.0),
            zero=zero,
            extensions={sid: parse_due(due) for sid, due in data.get("extensions", {}).items()},
        )


@dataclass(frozen=True)
class Lateness:
    """How late one submission was, what it loses, and the sentence that tells the student."""

    late_hours: float | None  # after the student's own due time; 0.0 on time, None when unknown
    penalty_percent: float  # of the raw score, 0..100
    note: str  # "" when there is nothing to say


def parse_due(text: str) -> datetime:
    """An ISO 8601 date and time, always timezone-aware: without an offset it is UTC."""
    if not isinstance(text, str) or not _TIME.fullmatch(text := text.strip()):
        raise CourseError(f"{text!r} is not {TIME_FORM}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise CourseError(f"{text!r} is not a valid date and time: {err}") from None
    return _as_utc_if_naive(moment)


def parse_late(text: str) -> tuple[float, float, bool]:
    """``(percent_per_day, max_percent, zero)`` from "10", "10,max=50" or "zero"."""
    text = text.strip()
    if text.lower() == "zero":
        return 0.0, 100.0, True
    match = _LATE.fullmatch(text)
    if not match:
        raise CourseError(f"late policy {text!r} is not understood; expected {LATE_FORM}")
    percent = float(match["percent"])
    maximum = float(match["max"]) if match["max"] is not None else 100.0
    _require_percent(percent, "the late percent per day")
    _require_percent(maximum, "the late maximum")
    return percent, maximum, False


def read_extensions(path: Path) -> dict[str, datetime]:
    """Each extended student's own due time, from a CSV with columns student_id and due."""
    return _read_times(path, "due")


def read_timestamps(path: Path) -> dict[str, datetime]:
    """Each student's submission time, from a CSV with columns student_id and submitted_at."""
    return _read_times(path, "submitted_at")


def make_policy(*, due: str, late: str | None, extensions: Path | None) -> LatePolicy:
    """The policy from command-line text; without ``late``, lateness is reported, not deducted."""
    percent, maximum, zero = parse_late(late) if late is not None else (0.0, 100.0, False)
    return LatePolicy(due=parse_due(due), percent_per_day=percent, max_percent=maximum,
                      zero=zero, extensions=read_extensions(extensions) if extensions else {})


def lateness(policy: LatePolicy, *, student_id: str, submitted_at: datetime | None,
             late_marker: bool = False) -> Lateness:
    """How late the submission was and what it loses; an unknown time never costs anything."""
    if submitted_at is None:
        return Lateness(None, 0.0, UNKNOWN_TIME_NOTE if late_marker else "")
    due = policy.due_for(student_id)
    seconds = (_as_utc_if_naive(submitted_at) - due).total_seconds()
    if seconds <= 0:
        return Lateness(0.0, 0.0, "")
    days = math.ceil(seconds / DAY_SECONDS)
    penalty = _penalty(policy, days)
    note = (f"submitted {_duration(seconds)} after {_due_name(policy, student_id)} "
            f"({days} day{'s' if days != 1 else ''} late): {_deduction(policy, penalty)}")
    return Lateness(max(round(seconds / 3600, 2), 0.01), penalty, note)


def apply_penalty(raw_score: float, lateness: Lateness) -> float:
    """The raw score less the late deduction, to 2 decimals, never below 0."""
    return max(0.0, round(raw_score * (100 - lateness.penalty_percent) / 100, 2))


def _penalty(policy: LatePolicy, days: int) -> float:
    if policy.zero:
        return 100.0
    return round(min(policy.max_percent, policy.percent_per_day * days), 6)


def _deduction(policy: LatePolicy, penalty: float) -> str:
    if penalty == 0:
        return "no late penalty applies"
    capped = not policy.zero and penalty == policy.max_percent < 100
    return f"{penalty:g} % deducted" + (" (the maximum)" if capped else "")


def _due_name(policy: LatePolicy, student_id: str) -> str:
    if student_id not in policy.extensions:
        return "the due time"
    extended = policy.extensions[student_id] > policy.due
    return "your extended due time" if extended else "your own due time"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return "less than a minute"
    if seconds < 3600:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(seconds / 3600, 2)
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def _read_times(path: Path, column: str) -> dict[str, datetime]:
    """``student_id -> time`` from the CSV's ``student_id`` and ``column`` columns."""
    times: dict[str, datetime] = {}
    lines: dict[str, int] = {}
    for line, student_id, text in _csv_rows(path, column):
        where = f"{path}, line {line}"
        if not student_id:
            raise CourseError(f"{where}: the student_id is empty")
        if student_id in times:
            raise CourseError(f"{where}: student {student_id} is listed again "
                              f"(first on line {lines[student_id]})")
        if not text:
            raise CourseError(f"{where}: no {column} for student {student_id}")
        try:
            times[student_id] = parse_due(text)
        except CourseError as err:
            raise CourseError(f"{where}: {column} {err}") from None
        lines[student_id] = line
    return times


def _csv_rows(path: Path, column: str):
    """``(line number, student_id, column's text)`` for each non-blank row, both stripped."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            student_at, value_at = _columns(path, header, column)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                yield (reader.line_num, _cell(row, student_at), _cell(row, value_at))
    except FileNotFoundError:
        raise CourseError(f"file not found: {path}") from None
    except UnicodeDecodeError:
        raise CourseError(f"{path} is not UTF-8 text") from None
    except csv.Error as err:
        raise CourseError(f"{path} is not a readable CSV file: {err}") from None


def _columns(path: Path, header: list[str] | None, column: str) -> tuple[int, int]:
    """Where the student_id and ``column`` columns are; header names ignore case and spaces."""
    names = [name.strip().lower() for name in header or []]
    positions = []
    for wanted in ("student_id", column):
        if names.count(wanted) != 1:
            problem = "no" if wanted not in names else "more than one"
            raise CourseError(f"{path}: {problem} column named {wanted} in the header line "
                              f"(expected student_id,{column})")
        positions.append(names.index(wanted))
    return positions[0], positions[1]


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _as_utc_if_naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _require_aware(moment: datetime, what: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise CourseError(f"{what} must be a date and time with a timezone, not {moment!r}")


def _require_percent(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise CourseError(f"{what} must be a percent from 0 to 100, not {value!r}")


def _json_number(data: dict, key: str, default: float) -> float:
    value = data.get(key, default)
    _require_percent(value, f"the late policy's {key!r}")
    return float(value)
