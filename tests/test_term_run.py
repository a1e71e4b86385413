"""A scripted term through the real grader (tests/scripted_term.py): grade, review, late files
graded incrementally with a late penalty, LMS exports, and the cached folder byte-identical to a
fresh regrade."""

from __future__ import annotations

import csv

import pytest
from scripted_term import LATE_FILES, differing_files, grades, run_term

from autograder.answer_key import AnswerKey
from autograder.course import get_chapter

KEY = AnswerKey.load(get_chapter("ch01_keras_api"))
FULL = KEY.max_score


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    work = tmp_path_factory.mktemp("term")
    return work, run_term(work, say=lambda text: None, workers=1)  # beside the grading group


def test_an_exception_hook_changes_nothing_and_waits_for_no_review(term):
    work, t = term
    assert "104" not in t.said["review"]
    row = grades(work / "results" / "grades.csv")["104"]
    assert (float(row["score"]), float(row["auto_score"])) == (FULL, FULL)
    assert row["override"] == ""


def test_late_files_alone_are_graded_and_the_decisions_hold(term):
    work, t = term
    assert "graded 2 submission(s)" in t.said["grade-2"]
    assert "4 unchanged since an earlier run" in t.said["grade-2"]
    rows = grades(work / "results" / "grades.csv")
    assert set(rows) == {"101", "102", "103", "104", "105", "106"}
    assert float(rows["104"]["score"]) == FULL
    assert rows["103"]["q01-check"] == "1" and "set q01-check=1" in rows["103"]["override"]
    assert float(rows["103"]["raw_score"]) == float(rows["103"]["auto_score"]) + 1


def test_a_late_penalty_follows_the_policy(term):
    work, _ = term
    rows = grades(work / "results" / "grades.csv")
    assert (rows["101"]["late_hours"], rows["101"]["penalty"]) == ("0", "0")
    late_partial, late_complete = rows["105"], rows["106"]
    assert late_partial["late_hours"] == "26.02" and late_partial["penalty"] == "20"
    assert late_complete["late_hours"] == "3.02" and late_complete["penalty"] == "10"
    assert float(late_complete["score"]) == round(FULL * 0.9, 2)
    assert float(late_partial["score"]) == round(float(late_partial["raw_score"]) * 0.8, 2)
    assert len(LATE_FILES) == 2
    page = (work / "results" / "feedback" / "106.html").read_text()
    assert "3.02 hours after the due time" in page and "10 % deducted" in page


def test_the_exports_list_every_roster_student_once_with_their_grade(term):
    work, _ = term
    rows = grades(work / "results" / "grades.csv")
    with (work / "canvas.csv").open(newline="", encoding="utf-8") as handle:
        canvas = list(csv.DictReader(handle))[1:]  # after the Points Possible row
    assert [r["ID"] for r in canvas] == ["101", "102", "103", "104", "105", "106", "107"]
    got = {r["ID"]: r["Chapter 1 (4410)"] for r in canvas}
    assert got == {**{sid: row["score"] for sid, row in rows.items()}, "107": ""}
    with (work / "moodle.csv").open(newline="", encoding="utf-8") as handle:
        moodle = {r["ID number"]: r["Grade"] for r in csv.DictReader(handle)}
    assert moodle == {sid: row["score"] for sid, row in rows.items()}


def test_the_incremental_folder_is_identical_to_a_fresh_regrade(term):
    work, t = term
    assert "graded 6 submission(s)" in t.said["fresh"]
    assert differing_files(work / "results", work / "results-fresh") == []
    assert differing_files(work / "results-fresh", work / "results") == []
