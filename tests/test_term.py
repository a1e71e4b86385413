"""A term's work without a kernel: result records, decisions, review, feedback policy, export,
and the grading cache's bookkeeping, on records made up in memory.

The real grader's side (a class graded, regraded incrementally, cached against fresh files)
is tests/test_term_run.py.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autograder import grade, records, reports, review, term
from autograder.cli import main
from autograder.course import Chapter, CourseLayout, get_chapter
from autograder.errors import CourseError
from autograder.feedback import FeedbackPolicy, ItemPolicy, Level, load_policy, shown_message
from autograder.grade import ClassResult
from autograder.late import make_policy
from autograder.results import CellError, Outcome, Status, SubmissionResult, TestOutcome

pytestmark = pytest.mark.fast

CHAPTER = "ch01_keras_api"
ITEMS = (("q01-check", "q01-answer", 1.0), ("ex2-check", "ex2-answer", 3.0))


def result(student: str, *, points=(1.0, 3.0), status=Status.GRADED, detail="",
           digest: str | None = None, messages=("", ""), hidden=("", ""),
           answers=("x = 1", "def f():\n    return 2"), **extra) -> SubmissionResult:
    tests = tuple(
        TestOutcome(gid, gid.upper(), p, top, Outcome.PASSED if p == top else Outcome.FAILED,
                    m, h, aid)
        for (gid, aid, top), p, m, h in zip(ITEMS, points, messages, hidden, strict=True))
    earned = sum(points)
    flagged = status is Status.FLAGGED
    return SubmissionResult(
        student, CHAPTER, 0.0 if flagged else earned, 4.0, status, tests,
        notes=("a note",), flags=("reads frames",) if flagged else (),
        errors=(CellError(3, "answer", "q01-answer", "ValueError", "bad"),), warned=(),
        filename=f"{student}.ipynb", seconds=1.5, detail=detail,
        cleared_score=earned if flagged else None, digest=digest or f"d-{student}",
        answers=tuple(zip((a for _, a, _ in ITEMS), answers, strict=True)), **extra)


def klass(*results: SubmissionResult) -> ClassResult:
    return ClassResult(get_chapter(CHAPTER), results)


def rows(path: Path) -> dict[str, dict[str, str]]:
    """grades.csv by student: each student's first row (ann's duplicate file comes second)."""
    found: dict[str, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["student_id"], row)
    return found


FAILING = "failed: return a dict"
CLASS = (result("ann"),
         result("ben", status=Status.FLAGGED, detail="reads frames"),
         result("cai", points=(1.0, 0.0), messages=("", FAILING)),
         result("dee", points=(0.0, 0.0), status=Status.TIMEOUT,
                detail="the notebook ran longer than 900 s", messages=("stopped", "not run")),
         result("eve", points=(1.0, 0.0), messages=("", FAILING)),
         result("ann", points=(0.0, 0.0), status=Status.DUPLICATE, digest="d-ann-old"))


@pytest.fixture
def folder(tmp_path) -> Path:
    out = tmp_path / "results"
    reports.write_all(klass(*CLASS), out)
    return out


# --- records ------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", list(Status))
def test_a_record_reads_back_exactly_as_written(status):
    original = result("ann", status=status, detail="why", submitted_at="2026-11-20T10:00:00+00:00",
                      late_marker=True)
    back = records.from_json(json.loads(json.dumps(records.to_json(original))))
    assert back == original and back.seconds == original.seconds == 1.5
    assert back.status is status and isinstance(back.tests[0].outcome, Outcome)


def test_records_keep_the_class_order_and_no_timing(folder):
    back = records.read_records(folder)
    assert [r.student_id for r in back] == [r.student_id for r in CLASS]
    assert back == CLASS  # seconds does not take part in equality ...
    assert all("seconds" not in json.loads(p.read_text())["result"]
               for p in (folder / records.RECORDS).glob("*.json"))  # ... and is not written


def test_a_broken_or_missing_record_is_a_one_line_error(tmp_path, folder, capsys):
    assert main(["review", str(tmp_path / "nothing")]) == 2
    assert "no graded results" in capsys.readouterr().err
    next((folder / records.RECORDS).glob("*.json")).write_text('{"format": 99}')
    assert main(["review", str(folder)]) == 2
    assert "not a result record" in capsys.readouterr().err


# --- settling: decisions and late work ----------------------------------------------------------

def decision(student, action, *, digest=None, gid="", points=None, reason="checked"):
    return term.Override(student, action, reason, digest or f"d-{student}", gid, points)


def test_a_flag_scores_zero_until_cleared_then_what_the_grader_computed():
    flagged = result("ben", status=Status.FLAGGED)
    before = term.settle(flagged, [])
    assert (before.score, dict(before.items), before.flagged) == (0, {"q01-check": 0,
                                                                      "ex2-check": 0}, True)
    after = term.settle(flagged, [decision("ben", term.CLEAR)])
    assert (after.score, after.auto_score, after.flagged, after.cleared) == (4, 0, False, True)


def test_the_latest_decision_on_an_item_wins_and_only_on_the_file_it_was_made_on():
    r = result("cai", points=(1.0, 0.0))
    settled = term.settle(r, [decision("cai", term.SET, gid="ex2-check", points=2),
                              decision("cai", term.SET, gid="ex2-check", points=2.5)])
    assert (settled.score, settled.overridden) == (3.5, ("ex2-check",))
    newer = replace(r, digest="d-cai-new")
    moved = term.settle(newer, [decision("cai", term.SET, gid="ex2-check", points=2)])
    assert moved.score == 1 and len(moved.stale) == 1 and moved.decisions == ()
    assert term.waiting([moved]) == [moved]  # a decision left unapplied waits for a person


def test_a_late_penalty_comes_after_the_decisions():
    policy = make_policy(due="2026-11-20T12:00Z", late="10,max=30", extensions=None)
    r = result("cai", points=(1.0, 0.0), submitted_at="2026-11-21T13:00:00+00:00")
    settled = term.settle(r, [decision("cai", term.SET, gid="ex2-check", points=3)], policy)
    assert (settled.raw_score, settled.late.penalty_percent, settled.score) == (4, 20, 3.2)
    on_time = term.settle(replace(r, submitted_at="2026-11-20T11:00:00+00:00"), [], policy)
    assert (on_time.score, on_time.late.late_hours) == (1, 0)
    marked = term.settle(replace(r, submitted_at="", late_marker=True), [], policy)
    assert marked.score == 1 and marked.late.late_hours is None and term.waiting([marked])


def test_a_file_marked_late_with_no_time_says_so_in_its_status(tmp_path):
    out = tmp_path / "r"
    term.save_late_policy(out, make_policy(due="2026-11-20T12:00Z", late="10", extensions=None))
    reports.write_all(klass(result("cai", late_marker=True)), out)
    row = rows(out / "grades.csv")["cai"]
    assert row["status"] == "graded; late by an unknown amount (marked LATE, no submission time)"
    assert (row["score"], row["penalty"], row["late_hours"]) == ("4", "0", "")


# --- review from the command line -----------------------------------------------------------

def test_review_lists_flagged_and_stopped_work_and_nothing_else(folder, capsys):
    assert main(["review", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "2 submission(s) wait" in text
    assert "- ben (ben.ipynb): flagged for review: reads frames" in text and "--clear ben" in text
    assert "- dee (dee.ipynb): timeout" in text
    assert "- ann" not in text and "- cai" not in text


def test_decisions_go_to_overrides_csv_and_survive_a_regrade(folder, capsys):
    assert main(["review", str(folder), "--clear", "ben", "--reason", "asked in office"]) == 0
    assert main(["review", str(folder), "--set", "cai", "ex2-check=2", "--reason",
                 "dict keys spelled out"]) == 0
    assert "score now 3" in capsys.readouterr().out
    grades = rows(folder / "grades.csv")
    assert (grades["ben"]["score"], grades["ben"]["auto_score"]) == ("4", "0")
    assert grades["ben"]["status"].endswith("(cleared on review)")
    assert (grades["cai"]["score"], grades["cai"]["ex2-check"]) == ("3", "2")
    assert grades["cai"]["override"] == "set ex2-check=2: dict keys spelled out"
    with (folder / term.OVERRIDES).open(newline="") as handle:
        logged = list(csv.DictReader(handle))
    assert [(d["student_id"], d["action"], d["submission"]) for d in logged] == [
        ("ben", "clear", "d-ben"), ("cai", "set", "d-cai")]
    assert all(d["who"] and d["when"] for d in logged)
    reports.write_all(klass(*CLASS), folder)  # a regrade into the same folder
    assert rows(folder / "grades.csv")["cai"]["score"] == "3"
    assert rows(folder / "grades.csv")["ben"]["score"] == "4"
    report = (folder / "report.md").read_text()
    assert "flagged for review and not yet reviewed (score 0 until then): 0" in report


@pytest.mark.parametrize(("argv", "words"), [
    (["--clear", "ann", "--reason", "x"], "is not flagged"),
    (["--clear", "zoe", "--reason", "x"], "no submission from 'zoe'"),
    (["--clear", "ben"], "needs --reason"),
    (["--set", "cai", "ex2-check=7", "--reason", "x"], "worth 0 to 3 points"),
    (["--set", "cai", "ex9-check=1", "--reason", "x"], "no graded item 'ex9-check'"),
    (["--set", "cai", "ex2-check", "--reason", "x"], "is not <grade-id>=<points>"),
    (["--set-group", "ex2-check:9=1", "--reason", "x"], "has no group 9"),
    (["--set-group", "ex2-check=1", "--reason", "x"], "<grade-id>:<group>=<points>"),
])
def test_a_wrong_decision_is_a_one_line_error_and_records_nothing(folder, capsys, argv, words):
    assert main(["review", str(folder), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not (folder / term.OVERRIDES).exists()


def test_grading_by_question_groups_answers_and_decides_for_a_group(folder, capsys):
    assert main(["review", str(folder), "--by-item", "ex2-check"]) == 0
    page = (folder / review.BY_ITEM / "ex2-check.html").read_text()
    first = page.index("Group 1")
    assert FAILING in page[first:page.index("Group 2")]
    assert page.index("<h3>cai") > first and page.index("<h3>eve") > first
    assert "def f():\n    return 2" in page  # each student's answer cell
    groups = review.groups(review.settled(folder), "ex2-check")
    assert [(g.number, g.outcome, len(g.rows)) for g in groups][0] == (1, Outcome.FAILED, 2)
    assert main(["review", str(folder), "--set-group", "ex2-check:1=1.5", "--reason",
                 "partial credit"]) == 0
    grades = rows(folder / "grades.csv")
    assert (grades["cai"]["score"], grades["eve"]["score"], grades["ann"]["score"]) == \
        ("2.5", "2.5", "4")
    assert len(term.read_overrides(folder)) == 2  # one row per student


def test_an_answer_with_markup_is_shown_as_text(tmp_path):
    out = tmp_path / "r"
    reports.write_all(klass(result("ann", answers=("<script>alert(1)</script>", "y"))), out)
    page = review.by_item_page(out, gid="q01-check").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page


# --- what the feedback page shows ----------------------------------------------------------

def test_the_feedback_level_decides_the_words():
    failed = TestOutcome("ex2-check", "Ex 2", 0, 3, Outcome.FAILED, "failed: a visible message",
                         "failed: the hidden message")
    assert shown_message(failed, Level.PASS_FAIL) == "failed"
    assert shown_message(failed, Level.VISIBLE) == "failed: a visible message"
    assert shown_message(failed, Level.HIDDEN) == "failed: the hidden message"
    stopped = replace(failed, outcome=Outcome.STOPPED, message="stopped after 300 s")
    assert shown_message(stopped, Level.PASS_FAIL) == "stopped after 300 s"


def test_a_chapter_policy_is_read_and_a_bad_one_is_a_one_line_error(tmp_path):
    chapter = Chapter("chx", CourseLayout(tmp_path))
    chapter.instructor_notebook.parent.mkdir(parents=True)
    assert load_policy(chapter) == FeedbackPolicy()
    (chapter.instructor_notebook.parent / "grading.toml").write_text(
        '[feedback]\nbefore_due = "pass-fail"\n[feedback.items."ex2-check"]\n'
        'after_due = "hidden"\n')
    policy = load_policy(chapter)
    due = datetime(2026, 11, 20, tzinfo=UTC)
    early, late = datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    assert policy.level("ex2-check", now=early, due=due) is Level.PASS_FAIL
    assert policy.level("ex2-check", now=late, due=due) is Level.HIDDEN
    assert policy.level("q01-check", now=late, due=due) is Level.PASS_FAIL
    (chapter.instructor_notebook.parent / "grading.toml").write_text(
        '[feedback]\nbefore_due = "everything"\n')
    with pytest.raises(CourseError, match="'everything' is not a feedback level"):
        load_policy(chapter)


def test_feedback_pages_follow_the_policy_and_the_date(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    reports.write_all(klass(result("cai", points=(1.0, 0.0), messages=("", FAILING),
                                   hidden=("", "failed: the hidden reason"))), out)
    page = (out / "feedback" / "cai.html").read_text()
    assert FAILING in page and "hidden reason" not in page  # the default policy
    term.save_late_policy(out, make_policy(due="2026-11-20T12:00Z", late=None, extensions=None))
    monkeypatch.setattr(reports, "load_policy", lambda chapter: FeedbackPolicy(
        ItemPolicy(Level.PASS_FAIL, Level.HIDDEN)))
    assert main(["feedback", str(out), "--now", "2026-11-19T00:00Z"]) == 0
    page = (out / "feedback" / "cai.html").read_text()
    assert FAILING not in page and "hidden reason" not in page and ">failed<" in page
    assert main(["feedback", str(out), "--now", "2026-11-21T00:00Z"]) == 0
    assert "failed: the hidden reason" in (out / "feedback" / "cai.html").read_text()
    capsys.readouterr()


def test_the_release_never_ships_the_grading_settings():
    from autograder import release
    assert release.NOT_RELEASED >= {"grading.toml"}


# --- export -------------------------------------------------------------------------------------

CANVAS_ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Chapter 1 (101)\n"
    "    Points Possible,,,,,4\n"
    "\"Lee, Ann\",ann,S1,ann@u,A,\n\"Ng, Ben\",ben,S2,ben@u,A,\n\"Ode, Cai\",cai,S3,cai@u,B,\n"
    "\"Park, Dee\",dee,S4,dee@u,B,\n\"Ruiz, Eve\",eve,S5,eve@u,B,\n\"Sun, Fay\",fay,S6,fay@u,B,\n")


def test_export_to_canvas_lists_every_roster_student_once(folder, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8")
    out = tmp_path / "canvas.csv"
    assert main(["export", str(folder), "--format", "canvas", "--roster", str(roster),
                 "--column", "Chapter 1 (101)", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    with out.open(newline="") as handle:
        lines = list(csv.reader(handle))
    students = [line[1] for line in lines[2:]]
    assert students == ["ann", "ben", "cai", "dee", "eve", "fay"]
    grade_of = {line[1]: line[-1] for line in lines[2:]}
    # ann's graded file counts, not her duplicate; ben is flagged: blank until cleared
    assert grade_of == {"ann": "4", "ben": "", "cai": "1", "dee": "0", "eve": "1", "fay": ""}
    assert "no submission (1, given a blank): fay" in said


def test_export_to_moodle_without_a_roster_writes_every_student(folder, tmp_path):
    out = tmp_path / "moodle.csv"
    assert main(["export", str(folder), "--format", "moodle", "--out", str(out),
                 "--flagged", "zero"]) == 0
    with out.open(newline="") as handle:
        got = [tuple(line) for line in csv.reader(handle)]
    assert got == [("ID number", "Grade"), ("ann", "4"), ("ben", "0"), ("cai", "1"),
                   ("dee", "0"), ("eve", "1")]


# --- the cache's bookkeeping ----------------------------------------------------------------

def test_the_cache_key_changes_with_every_input():
    base = {"submission": b"nb", "key_digest": "k", "limits": "L", "whole": False}
    keys = {records.cache_key(**base)} | {records.cache_key(**{**base, name: value})
                                          for name, value in [("submission", b"nb2"),
                                                              ("key_digest", "k2"),
                                                              ("limits", "L2"), ("whole", True)]}
    assert len(keys) == 5


def _fake_pool(graded: list[str]):
    """A pool that 'grades' by reading the student id, and records who it graded."""
    def run_in_pool(fn, tasks, *, workers, scratch, done, server=None):
        for index, task in tasks.items():
            graded.append(task.student_id)
            done(index, result(task.student_id, digest=grade.digest(task.submission)))
    return run_in_pool


def test_a_second_run_grades_only_new_or_named_submissions(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("ann", "ben"):
        (subs / f"{name}.ipynb").write_text(json.dumps({"cells": [], "who": name}))
    graded: list[str] = []
    monkeypatch.setattr(grade, "run_in_pool", _fake_pool(graded))
    monkeypatch.setattr(grade, "require_sandbox", lambda policy: None)

    def run(**options):
        graded.clear()
        got = grade.grade_folder(chapter=CHAPTER, submissions=subs, progress=None, cache=out,
                                 **options)
        return sorted(graded), got
    assert run()[0] == ["ann", "ben"]
    (subs / "cai.ipynb").write_text(json.dumps({"cells": [], "who": "cai"}))
    names, got = run()
    assert names == ["cai"] and got.reused == 2
    assert [r.student_id for r in got.results] == ["ann", "ben", "cai"]
    assert run(only=frozenset({"ben"}))[0] == ["ben"]
    assert run(fresh=True)[0] == ["ann", "ben", "cai"]
    (subs / "ann.ipynb").write_text(json.dumps({"cells": [], "who": "ann", "v": 2}))
    assert run()[0] == ["ann"]  # a changed file is graded again


def test_a_killed_run_keeps_what_it_had_graded(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("ann", "ben", "cai"):
        (subs / f"{name}.ipynb").write_text(json.dumps({"cells": [], "who": name}))
    monkeypatch.setattr(grade, "require_sandbox", lambda policy: None)

    def dies_after_one(fn, tasks, *, workers, scratch, done, server=None):
        index, task = next(iter(tasks.items()))
        done(index, result(task.student_id))
        raise KeyboardInterrupt

    monkeypatch.setattr(grade, "run_in_pool", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        grade.grade_folder(chapter=CHAPTER, submissions=subs, progress=None, cache=out)
    graded: list[str] = []
    monkeypatch.setattr(grade, "run_in_pool", _fake_pool(graded))
    grade.grade_folder(chapter=CHAPTER, submissions=subs, progress=None, cache=out)
    assert graded == ["ben", "cai"]
