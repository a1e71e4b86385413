"""Grade files for an LMS gradebook, without a kernel: the rosters here are small copies of the
shape Canvas's and Moodle's own gradebook exports have, and every file written is read back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from autograder.errors import CourseError
from autograder.lms import ExportSummary, GradeRow, export_grades

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

# Canvas writes a BOM, a Points Possible row, sometimes a Manual Posting / read-only row, and
# the course's Test Student.
CANVAS_ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Homework 1 (101),Keras Basics (202),"
    "Current Score\n"
    "    Points Possible,,,,,10.00,30.00,(read only)\n"
    ",,,,,Manual Posting,Manual Posting,(read only)\n"
    '"Lovelace, Ada",1001,S-ADA,ada@uni.edu,Section A,9.00,,90\n'
    '"Turing, Alan",1002,S-ALAN,alan@uni.edu,Section B,,,\n'
    '"@Hopper, Grace",1003,S-GRACE,grace@uni.edu,Section A,,,\n'
    '"Student, Test",9999,,,Section A,,,\n'
)
CANVAS_ROSTER_INTEGRATION = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Integration ID,Section,Keras Basics (202)\n"
    "    Points Possible,,,,,,30.00\n"
    '"Lovelace, Ada",1001,S-ADA,ada@uni.edu,INT-1,Section A,\n'
    '"Turing, Alan",1002,S-ALAN,alan@uni.edu,INT-2,Section B,\n'
)
MOODLE_ROSTER = (
    "First name,Last name,ID number,Institution,Department,Email address,"
    "Assignment: Keras basics (Real),Last downloaded from this course\n"
    "Ada,Lovelace,S001,Uni,CS,Ada.Lovelace@Uni.edu,-,1700000000\n"
    "Alan,Turing,S002,Uni,CS,alan.turing@uni.edu,-,1700000000\n"
    "Grace,Hopper,S003,Uni,Maths,grace.hopper@uni.edu,-,1700000000\n"
)
CANVAS_COLUMN = "Keras Basics (202)"
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CANVAS_COLUMN]
POINTS_ROW = ["    Points Possible", "", "", "", "", "30"]


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def read(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # written without a BOM
    assert b"\r" not in raw  # and with plain newlines
    return list(csv.reader(raw.decode("utf-8").splitlines()))


def by_id(table: list[list[str]], key: int = 1) -> dict[str, list[str]]:
    return {row[key]: row for row in table[1:]}


def canvas(tmp_path: Path, rows: list[GradeRow], roster: str = CANVAS_ROSTER,
           **options) -> tuple[ExportSummary, list[list[str]]]:
    out = tmp_path / "out" / "canvas.csv"
    summary = export_grades(rows, fmt="canvas", out=out, roster=write(tmp_path, roster),
                            column=CANVAS_COLUMN, **options)
    return summary, read(out)


def moodle(tmp_path: Path, rows: list[GradeRow], roster: str | None = MOODLE_ROSTER,
           **options) -> tuple[ExportSummary, list[list[str]]]:
    out = tmp_path / "moodle.csv"
    path = None if roster is None else write(tmp_path, roster)
    summary = export_grades(rows, fmt="moodle", out=out, roster=path, **options)
    return summary, read(out)


# --- canvas -------------------------------------------------------------------------------------

def test_canvas_lists_every_roster_student_once_in_roster_order(tmp_path):
    summary, table = canvas(tmp_path, [GradeRow("1002", 24, 30)])
    assert table[0] == CANVAS_HEADER
    assert table[1] == POINTS_ROW
    assert table[2:] == [
        ["Lovelace, Ada", "1001", "S-ADA", "ada@uni.edu", "Section A", ""],
        ["Turing, Alan", "1002", "S-ALAN", "alan@uni.edu", "Section B", "24"],
        ["'@Hopper, Grace", "1003", "S-GRACE", "grace@uni.edu", "Section A", ""],
    ]
    assert summary == ExportSummary(path=tmp_path / "out" / "canvas.csv", written=3,
                                    unmatched=(), missing=("1001", "1003"))


def test_canvas_grades_land_in_the_matching_rows(tmp_path):
    rows = [GradeRow("1003", 27.5, 30), GradeRow("1001", 30, 30), GradeRow("1002", 0, 30)]
    summary, table = canvas(tmp_path, rows)
    grades = {row[1]: row[-1] for row in table[2:]}
    assert grades == {"1001": "30", "1002": "0", "1003": "27.5"}
    assert summary.missing == () and summary.written == 3


def test_canvas_matches_sis_user_id_and_sis_login_id(tmp_path):
    rows = [GradeRow("S-ALAN", 12, 30), GradeRow(" grace@uni.edu ", 18.25, 30)]
    summary, table = canvas(tmp_path, rows)
    grades = {row[1]: row[-1] for row in table[2:]}
    assert grades == {"1001": "", "1002": "12", "1003": "18.25"}
    assert summary.unmatched == () and summary.missing == ("1001",)


def test_canvas_keeps_the_integration_id_column(tmp_path):
    summary, table = canvas(tmp_path, [GradeRow("1001", 21, 30)],
                            roster=CANVAS_ROSTER_INTEGRATION)
    assert table == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section",
         CANVAS_COLUMN],
        ["    Points Possible", "", "", "", "", "", "30"],
        ["Lovelace, Ada", "1001", "S-ADA", "ada@uni.edu", "INT-1", "Section A", "21"],
        ["Turing, Alan", "1002", "S-ALAN", "alan@uni.edu", "INT-2", "Section B", ""],
    ]
    assert summary.written == 2


def test_canvas_points_possible_is_blank_without_submissions(tmp_path):
    summary, table = canvas(tmp_path, [], missing="zero")
    assert table[1] == ["    Points Possible", "", "", "", "", ""]
    assert [row[-1] for row in table[2:]] == ["0", "0", "0"]
    assert summary.missing == ("1001", "1002", "1003")


def test_canvas_unmatched_submissions_are_reported_and_not_written(tmp_path):
    rows = [GradeRow("5555", 30, 30), GradeRow("1001", 15, 30), GradeRow("9999", 30, 30)]
    summary, table = canvas(tmp_path, rows)
    ids = [row[1] for row in table[2:]]
    assert ids == ["1001", "1002", "1003"]  # the Test Student (9999) is not a roster student
    assert summary.unmatched == ("5555", "9999")
    assert summary.written == 3
    assert by_id(table)["1001"][-1] == "15"


# --- missing and flagged policies, in every format ----------------------------------------------

@pytest.mark.parametrize(("policy", "cell"), [("blank", ""), ("zero", "0")])
def test_missing_students_get_the_missing_policy(tmp_path, policy, cell):
    _, table = canvas(tmp_path, [GradeRow("1001", 20, 30)], missing=policy)
    assert [row[-1] for row in table[2:]] == ["20", cell, cell]
    _, table = moodle(tmp_path, [GradeRow("S002", 20, 30)], missing=policy)
    assert table[1:] == [["S001", cell], ["S002", "20"], ["S003", cell]]
    out = tmp_path / "plain.csv"
    export_grades([GradeRow("1001", 20, 30)], fmt="csv", out=out,
                  roster=write(tmp_path, CANVAS_ROSTER), missing=policy)
    assert read(out)[1:] == [["1001", "20", "30", "no"], ["1002", cell, "30", "no"],
                             ["1003", cell, "30", "no"]]


@pytest.mark.parametrize(("policy", "cell"), [("blank", ""), ("zero", "0")])
def test_flagged_submissions_get_the_flagged_policy(tmp_path, policy, cell):
    rows = [GradeRow("1001", 28, 30, flagged=True), GradeRow("1002", 26, 30)]
    _, table = canvas(tmp_path, rows, flagged=policy)
    assert [row[-1] for row in table[2:]] == [cell, "26", ""]
    _, table = moodle(tmp_path, [GradeRow("S001", 28, 30, flagged=True)], flagged=policy)
    assert table[1:] == [["S001", cell], ["S002", ""], ["S003", ""]]
    out = tmp_path / "plain.csv"
    export_grades(rows, fmt="csv", out=out, flagged=policy)
    assert read(out)[1:] == [["1001", cell, "30", "yes"], ["1002", "26", "30", "no"]]


# --- moodle -------------------------------------------------------------------------------------

def test_moodle_lists_every_roster_student_once_by_id_number(tmp_path):
    rows = [GradeRow("S003", 29, 30), GradeRow("S001", 7.5, 30)]
    summary, table = moodle(tmp_path, rows)
    assert table == [["ID number", "Grade"], ["S001", "7.5"], ["S002", ""], ["S003", "29"]]
    assert summary.written == 3 and summary.missing == ("S002",) and summary.unmatched == ()


def test_moodle_matches_email_case_insensitively_and_writes_the_email_column(tmp_path):
    rows = [GradeRow("ada.lovelace@uni.edu", 30, 30), GradeRow("ALAN.TURING@UNI.EDU", 15, 30)]
    summary, table = moodle(tmp_path, rows, column="Assignment: Keras basics (Real)")
    assert table == [
        ["Email address", "Assignment: Keras basics (Real)"],
        ["Ada.Lovelace@Uni.edu", "30"],
        ["alan.turing@uni.edu", "15"],
        ["grace.hopper@uni.edu", ""],
    ]
    assert summary.missing == ("grace.hopper@uni.edu",)


def test_moodle_unmatched_submissions_are_reported_and_not_written(tmp_path):
    rows = [GradeRow("S002", 10, 30), GradeRow("S404", 30, 30)]
    summary, table = moodle(tmp_path, rows)
    assert [row[0] for row in table[1:]] == ["S001", "S002", "S003"]
    assert "S404" not in {cell for row in table for cell in row}
    assert summary.unmatched == ("S404",)


def test_moodle_without_a_roster_writes_one_row_per_submission(tmp_path):
    rows = [GradeRow("S009", 3, 30), GradeRow("=1+1", 4, 30), GradeRow("S001", 5, 30)]
    summary, table = moodle(tmp_path, rows, roster=None, column="Keras basics")
    assert table == [["ID number", "Keras basics"], ["S009", "3"], ["'=1+1", "4"],
                     ["S001", "5"]]
    assert summary.written == 3 and summary.missing == () and summary.unmatched == ()


# --- plain csv ----------------------------------------------------------------------------------

def test_csv_writes_every_submission_in_the_given_order(tmp_path):
    rows = [GradeRow("zoe", 30, 30), GradeRow("amy", 12.5, 30, flagged=True),
            GradeRow("bob", 0, 40)]
    out = tmp_path / "nested" / "grades.csv"
    summary = export_grades(rows, fmt="csv", out=out, flagged="zero")
    assert read(out) == [["student_id", "score", "max_score", "flagged"],
                         ["zoe", "30", "30", "no"], ["amy", "0", "30", "yes"],
                         ["bob", "0", "40", "no"]]
    assert summary == ExportSummary(path=out, written=3, unmatched=(), missing=())


def test_csv_with_a_roster_adds_missing_students_and_reports_unmatched(tmp_path):
    rows = [GradeRow("stranger", 9, 30), GradeRow("alan.turing@uni.edu", 21, 30)]
    out = tmp_path / "grades.csv"
    summary = export_grades(rows, fmt="csv", out=out, roster=write(tmp_path, MOODLE_ROSTER),
                            missing="zero")
    assert read(out)[1:] == [["stranger", "9", "30", "no"],
                             ["alan.turing@uni.edu", "21", "30", "no"],
                             ["S001", "0", "30", "no"], ["S003", "0", "30", "no"]]
    assert summary.unmatched == ("stranger",) and summary.missing == ("S001", "S003")
    assert summary.written == 4


@pytest.mark.parametrize("sid", ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx",
                                 "\rx"])
def test_formula_looking_ids_get_a_leading_apostrophe(tmp_path, sid):
    out = tmp_path / "grades.csv"
    export_grades([GradeRow(sid, 1, 2), GradeRow("plain", 2, 2)], fmt="csv", out=out)
    with out.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert [row[0] for row in table[1:]] == ["'" + sid, "plain"]


# --- errors a user can fix ----------------------------------------------------------------------

NO_ID_ROSTER = "Name,Section,Keras Basics (202)\nAda,Section A,\n"


@pytest.mark.parametrize(("options", "words"), [
    ({"fmt": "canvas", "column": CANVAS_COLUMN}, "needs --roster"),
    ({"fmt": "canvas", "roster": CANVAS_ROSTER}, "--column"),
    ({"fmt": "canvas", "roster": CANVAS_ROSTER, "column": "Homework 9 (999)"},
     "column 'Homework 9 (999)' is not in the roster's header"),
    ({"fmt": "canvas", "roster": CANVAS_ROSTER, "column": "SIS User ID"}, "identifies students"),
    ({"fmt": "canvas", "roster": NO_ID_ROSTER, "column": CANVAS_COLUMN}, "has no id column"),
    ({"fmt": "moodle", "roster": NO_ID_ROSTER}, "has no id column"),
    ({"fmt": "csv", "roster": NO_ID_ROSTER}, "has no id column"),
    ({"fmt": "csv", "roster": ""}, "is empty"),
    ({"fmt": "csv", "column": "Grade"}, "not for csv"),
    ({"fmt": "blackboard"}, "unknown export format 'blackboard'"),
    ({"fmt": "csv", "missing": "skip"}, "missing must be one of: blank, zero"),
    ({"fmt": "moodle", "flagged": "hide"}, "flagged must be one of: blank, zero"),
])
def test_mistakes_raise_one_line_course_errors(tmp_path, options, words):
    if "roster" in options:
        options = {**options, "roster": write(tmp_path, options["roster"])}
    out = tmp_path / "out.csv"
    with pytest.raises(CourseError) as caught:
        export_grades([GradeRow("1001", 1, 2)], out=out, **options)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not out.exists()


def test_a_missing_roster_file_is_a_course_error(tmp_path):
    with pytest.raises(CourseError, match="does not exist"):
        export_grades([], fmt="moodle", out=tmp_path / "o.csv", roster=tmp_path / "nope.csv")


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "csv"])
def test_a_repeated_student_id_is_a_course_error(tmp_path, fmt):
    rows = [GradeRow("1001", 1, 2), GradeRow("1002", 2, 2), GradeRow("1001", 2, 2)]
    options = {"roster": write(tmp_path, CANVAS_ROSTER), "column": CANVAS_COLUMN}
    with pytest.raises(CourseError, match="student id '1001' has more than one grade"):
        export_grades(rows, fmt=fmt, out=tmp_path / "o.csv", **(options if fmt == "canvas" else {}))


def test_two_ids_of_one_roster_student_are_a_course_error(tmp_path):
    rows = [GradeRow("1002", 1, 2), GradeRow("S-ALAN", 2, 2)]
    with pytest.raises(CourseError, match="'1002' and 'S-ALAN' are the same roster student"):
        canvas(tmp_path, rows)
