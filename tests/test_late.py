"""The late policy without a kernel: parsing the due time and the policy text, the day boundaries
of the deduction, its cap, extensions, submissions of unknown time, the CSV files, and the score
that remains after the deduction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.errors import CourseError
from autograder.late import (
    Lateness,
    LatePolicy,
    apply_penalty,
    lateness,
    make_policy,
    parse_due,
    parse_late,
    read_extensions,
    read_timestamps,
)

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

DUE = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
TEN_A_DAY = LatePolicy(due=DUE, percent_per_day=10.0)


def _late_by(policy: LatePolicy, delta: timedelta, student_id: str = "s1") -> Lateness:
    return lateness(policy, student_id=student_id, submitted_at=DUE + delta)


def _csv(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "times.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


# --- parse_late ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("10,max=50", (10.0, 50.0, False)),
    ("10", (10.0, 100.0, False)),
    ("2.5, max=30", (2.5, 30.0, False)),
    (" 0 ,max = 0 ", (0.0, 0.0, False)),
    ("100,max=100", (100.0, 100.0, False)),
    ("zero", (0.0, 100.0, True)),
    ("ZERO", (0.0, 100.0, True)),
])
def test_parse_late_accepts(text, expected):
    assert parse_late(text) == expected


@pytest.mark.parametrize(("text", "named"), [
    ("-5", "-5"),
    ("101", "101"),
    ("10,max=150", "150"),
    ("10,max=-1", "-1"),
    ("10,max=", "10,max="),
    ("ten percent", "ten percent"),
    ("", "''"),
    ("10;max=50", "10;max=50"),
    ("max=50", "max=50"),
])
def test_parse_late_rejects_naming_the_value(text, named):
    with pytest.raises(CourseError) as err:
        parse_late(text)
    message = str(err.value)
    assert named in message
    assert "\n" not in message


def test_parse_late_error_shows_the_expected_form():
    with pytest.raises(CourseError, match=r"expected PERCENT_PER_DAY\[,max=PERCENT\]"):
        parse_late("garbage")


def test_parse_late_range_error_says_zero_to_hundred():
    with pytest.raises(CourseError, match="from 0 to 100, not 101.0"):
        parse_late("101")


# --- parse_due ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20T23:59Z", datetime(2026, 11, 20, 23, 59, tzinfo=UTC)),
    ("2026-11-20 23:59:00+01:00",
     datetime(2026, 11, 20, 23, 59, tzinfo=timezone(timedelta(hours=1)))),
    ("2026-11-20T23:59-05:30",
     datetime(2026, 11, 20, 23, 59, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("2026-11-20T23:59", datetime(2026, 11, 20, 23, 59, tzinfo=UTC)),
    (" 2026-11-20T23:59:30 ", datetime(2026, 11, 20, 23, 59, 30, tzinfo=UTC)),
])
def test_parse_due(text, expected):
    parsed = parse_due(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_parse_due_offset_is_a_different_instant_from_utc():
    assert parse_due("2026-11-20T23:59+01:00") == DUE - timedelta(hours=1)


@pytest.mark.parametrize("text", [
    "next friday", "2026-11-20", "2026-13-01T10:00", "2026-11-20T25:00", "20/11/2026 23:59", "",
])
def test_parse_due_rejects_naming_the_value(text):
    with pytest.raises(CourseError) as err:
        parse_due(text)
    assert repr(text) in str(err.value)


# --- day boundaries, cap, zero ------------------------------------------------------------

def test_exactly_on_the_due_time_is_on_time():
    assert _late_by(TEN_A_DAY, timedelta(0)) == Lateness(0.0, 0.0, "")


def test_early_is_on_time():
    assert _late_by(TEN_A_DAY, -timedelta(days=3)) == Lateness(0.0, 0.0, "")


def test_one_second_late_is_one_day_late():
    result = _late_by(TEN_A_DAY, timedelta(seconds=1))
    assert result == Lateness(
        0.01, 10.0,
        "submitted less than a minute after the due time (1 day late): 10 % deducted")


def test_exactly_24_hours_late_is_one_day_late():
    result = _late_by(TEN_A_DAY, timedelta(hours=24))
    assert result == Lateness(
        24.0, 10.0, "submitted 24 hours after the due time (1 day late): 10 % deducted")


def test_24_hours_and_one_second_late_is_two_days_late():
    result = _late_by(TEN_A_DAY, timedelta(hours=24, seconds=1))
    assert (result.late_hours, result.penalty_percent) == (24.0, 20.0)
    assert "(2 days late): 20 % deducted" in result.note


def test_hours_and_days_in_the_note():
    result = _late_by(TEN_A_DAY, timedelta(hours=26, minutes=30))
    assert result == Lateness(
        26.5, 20.0, "submitted 26.5 hours after the due time (2 days late): 20 % deducted")


def test_minutes_late_in_the_note():
    result = _late_by(TEN_A_DAY, timedelta(minutes=5))
    assert result.late_hours == 0.08
    assert result.note == "submitted 5 minutes after the due time (1 day late): 10 % deducted"


def test_deduction_stops_at_the_maximum():
    policy = LatePolicy(due=DUE, percent_per_day=10.0, max_percent=25.0)
    assert _late_by(policy, timedelta(days=2)).penalty_percent == 20.0
    capped = _late_by(policy, timedelta(days=9))
    assert capped.penalty_percent == 25.0
    assert capped.note.endswith("(9 days late): 25 % deducted (the maximum)")


def test_deduction_never_exceeds_100_percent():
    policy = LatePolicy(due=DUE, percent_per_day=30.0)
    assert _late_by(policy, timedelta(days=5)).penalty_percent == 100.0


def test_fractional_percent_per_day_has_no_float_noise():
    policy = LatePolicy(due=DUE, percent_per_day=0.1)
    assert _late_by(policy, timedelta(days=2, hours=1)).penalty_percent == 0.3


def test_zero_policy_scores_any_lateness_zero():
    policy = LatePolicy(due=DUE, zero=True)
    result = _late_by(policy, timedelta(seconds=1))
    assert result.penalty_percent == 100.0
    assert result.note.endswith("(1 day late): 100 % deducted")
    assert apply_penalty(9.5, result) == 0.0
    assert _late_by(policy, timedelta(0)) == Lateness(0.0, 0.0, "")


def test_without_a_deduction_lateness_is_still_reported():
    policy = make_policy(due="2026-11-20T23:59Z", late=None, extensions=None)
    result = _late_by(policy, timedelta(hours=3))
    assert result == Lateness(
        3.0, 0.0, "submitted 3 hours after the due time (1 day late): no late penalty applies")


def test_naive_submission_time_is_utc():
    naive = datetime(2026, 11, 21, 1, 59)
    result = lateness(TEN_A_DAY, student_id="s1", submitted_at=naive)
    assert (result.late_hours, result.penalty_percent) == (2.0, 10.0)


def test_submission_time_in_another_offset():
    paris = timezone(timedelta(hours=1))
    on_time = datetime(2026, 11, 21, 0, 30, tzinfo=paris)  # 23:30 UTC
    assert lateness(TEN_A_DAY, student_id="s1", submitted_at=on_time).late_hours == 0.0


# --- extensions ---------------------------------------------------------------------------

def test_extension_moves_the_due_time_for_that_student_only():
    policy = LatePolicy(due=DUE, percent_per_day=10.0,
                        extensions={"alice": DUE + timedelta(days=2)})
    assert policy.due_for("alice") == DUE + timedelta(days=2)
    assert policy.due_for("bob") == DUE
    assert _late_by(policy, timedelta(days=1), "alice") == Lateness(0.0, 0.0, "")
    bob = _late_by(policy, timedelta(days=1), "bob")
    assert (bob.late_hours, bob.penalty_percent) == (24.0, 10.0)
    alice = _late_by(policy, timedelta(days=2, hours=1), "alice")
    assert alice == Lateness(
        1.0, 10.0,
        "submitted 1 hour after your extended due time (1 day late): 10 % deducted")


def test_extension_copy_is_immutable():
    given = {"alice": DUE + timedelta(days=1)}
    policy = LatePolicy(due=DUE, extensions=given)
    given["bob"] = DUE + timedelta(days=5)
    assert policy.due_for("bob") == DUE
    with pytest.raises(TypeError):
        policy.extensions["carol"] = DUE  # type: ignore[index]


def test_naive_due_time_is_refused():
    with pytest.raises(CourseError, match="timezone"):
        LatePolicy(due=datetime(2026, 11, 20, 23, 59))
    with pytest.raises(CourseError, match="alice"):
        LatePolicy(due=DUE, extensions={"alice": datetime(2026, 11, 22, 23, 59)})


# --- unknown times ------------------------------------------------------------------------

def test_unknown_time_without_late_marker_says_nothing():
    result = lateness(TEN_A_DAY, student_id="s1", submitted_at=None)
    assert result == Lateness(None, 0.0, "")


def test_late_marker_without_time_is_noted_but_not_penalised():
    result = lateness(TEN_A_DAY, student_id="s1", submitted_at=None, late_marker=True)
    assert result == Lateness(
        None, 0.0,
        "the LMS marked this submission late, but its time is unknown, so no late penalty "
        "was applied; your instructor will decide")
    assert apply_penalty(8.0, result) == 8.0


# --- CSV files ----------------------------------------------------------------------------

def test_read_extensions_with_bom_extra_columns_and_any_order(tmp_path):
    path = _csv(tmp_path, "reason,due,student_id\n"
                          "illness,2026-11-22T23:59,alice\n"
                          "\n"
                          "travel, 2026-11-21T12:00+01:00 , bob \n", bom=True)
    assert read_extensions(path) == {
        "alice": datetime(2026, 11, 22, 23, 59, tzinfo=UTC),
        "bob": datetime(2026, 11, 21, 11, 0, tzinfo=UTC),
    }


def test_read_timestamps_with_bom(tmp_path):
    path = _csv(tmp_path, "student_id,submitted_at,name\n"
                          "1001,2026-11-21T08:15:00Z,Ann\n", bom=True)
    assert read_timestamps(path) == {"1001": datetime(2026, 11, 21, 8, 15, tzinfo=UTC)}


def test_bad_date_names_the_file_and_line(tmp_path):
    path = _csv(tmp_path, "student_id,due\nalice,2026-11-22T23:59\nbob,soon\n")
    with pytest.raises(CourseError) as err:
        read_extensions(path)
    assert str(err.value).startswith(f"{path}, line 3: due 'soon' is not an ISO 8601")


def test_bad_timestamp_names_the_file_and_line(tmp_path):
    path = _csv(tmp_path, "student_id,submitted_at\n1001,2026-02-30T10:00\n", bom=True)
    with pytest.raises(CourseError, match=r", line 2: submitted_at '2026-02-30T10:00'") as err:
        read_timestamps(path)
    assert str(path) in str(err.value)


def test_missing_column_is_named(tmp_path):
    path = _csv(tmp_path, "student,due\nalice,2026-11-22T23:59\n")
    with pytest.raises(CourseError) as err:
        read_extensions(path)
    assert str(err.value) == (f"{path}: no column named student_id in the header line "
                              "(expected student_id,due)")


def test_timestamps_need_submitted_at(tmp_path):
    path = _csv(tmp_path, "student_id,due\nalice,2026-11-22T23:59\n")
    with pytest.raises(CourseError, match="no column named submitted_at"):
        read_timestamps(path)


def test_student_listed_twice_is_refused(tmp_path):
    path = _csv(tmp_path, "student_id,due\nalice,2026-11-22T23:59\nalice,2026-11-23T23:59\n")
    with pytest.raises(CourseError, match=r"line 3: student alice is listed again \(first on "
                                          r"line 2\)"):
        read_extensions(path)


def test_empty_value_is_refused(tmp_path):
    path = _csv(tmp_path, "student_id,due\nalice,\n")
    with pytest.raises(CourseError, match="line 2: no due for student alice"):
        read_extensions(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CourseError, match="file not found: .*nowhere.csv"):
        read_extensions(tmp_path / "nowhere.csv")


def test_make_policy_reads_everything(tmp_path):
    path = _csv(tmp_path, "student_id,due\nalice,2026-11-22T23:59Z\n")
    policy = make_policy(due="2026-11-20T23:59", late="5, max=20", extensions=path)
    assert policy == LatePolicy(due=DUE, percent_per_day=5.0, max_percent=20.0,
                                extensions={"alice": DUE + timedelta(days=2)})


# --- JSON ---------------------------------------------------------------------------------

def test_json_round_trip():
    paris = timezone(timedelta(hours=1))
    policy = LatePolicy(
        due=datetime(2026, 11, 20, 23, 59, 30, 250000, tzinfo=paris), percent_per_day=2.5,
        max_percent=30.0, zero=False,
        extensions={"alice": DUE + timedelta(days=2), "bob": DUE + timedelta(hours=6)})
    data = json.loads(json.dumps(policy.to_json()))
    assert data["due"] == "2026-11-20T23:59:30.250000+01:00"
    restored = LatePolicy.from_json(data)
    assert restored == policy
    assert restored.due.utcoffset() == timedelta(hours=1)
    assert restored.to_json() == policy.to_json()


def test_json_round_trip_of_zero_policy():
    policy = LatePolicy(due=DUE, zero=True)
    assert LatePolicy.from_json(policy.to_json()) == policy
    assert LatePolicy.from_json(policy.to_json()) != LatePolicy(due=DUE)


def test_from_json_refuses_bad_values():
    with pytest.raises(CourseError, match="'percent_per_day'.*not 120"):
        LatePolicy.from_json({"due": "2026-11-20T23:59Z", "percent_per_day": 120})
    with pytest.raises(CourseError, match="no 'due'"):
        LatePolicy.from_json({})


# --- apply_penalty ------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "penalty", "expected"), [
    (7.0, 15.0, 5.95),
    (9.0, 15.0, 7.65),
    (7.777, 10.0, 7.0),
    (10.0, 33.3333, 6.67),
    (10.0, 0.0, 10.0),
    (10.0, 100.0, 0.0),
    (-3.0, 0.0, 0.0),
])
def test_apply_penalty(raw, penalty, expected):
    assert apply_penalty(raw, Lateness(48.0, penalty, "x")) == expected
