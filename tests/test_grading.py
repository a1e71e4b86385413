"""Grading each chapter's example submissions: the scores, the stub rule, and the outputs."""

from __future__ import annotations

import csv
import html

import nbformat
from conftest import WARNING_ANSWER, WHOLE_EXAMPLE, assert_same_grades
from nbgrader.utils import determine_grade

from autograder import reports
from autograder.messages import NOT_ANSWERED


def test_the_model_solution_scores_full_marks(chapter, graded):
    run = graded[chapter.name]
    complete = run["example-complete"]
    failing = [(t.grade_id, t.message) for t in complete.tests if not t.passed]
    assert complete.status == "graded"
    assert not failing
    assert complete.score == complete.max_score == run.key.max_score > 0


def test_grading_the_same_answers_twice_gives_identical_scores(chapter, graded):
    run = graded[chapter.name]
    first, again = run["example-complete"], run["example-complete-again"]
    assert [(t.grade_id, t.points) for t in first.tests] == \
        [(t.grade_id, t.points) for t in again.tests]


def test_leaving_out_lessons_changes_no_grade(graded, graded_whole):
    """Chapter 1's partial example (model answers and stubs) graded with the lesson cells nothing
    graded needs left out, and again with the whole notebook: the same status, points, outcome
    and words for every item.  Chapters 2 and 3 are compared on their first right and first wrong
    answer variants (test_variants.py), whose lessons cost minutes a run."""
    name, example = WHOLE_EXAMPLE
    [whole] = graded_whole.results
    assert whole.student_id == example
    assert_same_grades(graded[name][example], whole, example)


def test_the_untouched_notebook_scores_zero_without_crashing(chapter, graded):
    untouched = graded[chapter.name]["example-untouched"]
    assert untouched.status == "graded"
    assert untouched.score == 0
    assert all((t.outcome, t.message) == ("not answered", NOT_ANSWERED) for t in untouched.tests)


def test_stub_rule_only_stubs_and_their_tests_raise(chapter, graded):
    """The rule for student notebooks: run top to bottom unanswered, the only errors are the
    stubs' NotImplementedError in answer cells, and NameError / NotImplementedError in the test
    cells that depend on them.  Every lesson cell runs cleanly."""
    untouched = graded[chapter.name]["example-untouched"]
    assert untouched.errors, "an unanswered notebook must raise in its stubs"
    for error in untouched.errors:
        if error.role == "answer":
            assert error.ename == "NotImplementedError", error
        else:
            assert error.role == "test", error
            assert error.ename in {"NameError", "NotImplementedError"}, error
    tests_raised = {e.grade_id for e in untouched.errors if e.role == "test"}
    assert tests_raised == set(graded[chapter.name].key.tests), "every test fails on a stub"


def test_the_partly_correct_notebook_earns_exactly_its_correct_answers(chapter, graded):
    run = graded[chapter.name]
    partial = run["example-partial"]
    example = run.examples["example-partial"]
    expected = sum(t.max_points for t in run.key.tests.values()
                   if t.answer_id in example.correct_answers)
    assert partial.status == "graded"
    assert 0 < partial.score == expected < partial.max_score


def test_a_library_warning_in_a_test_cell_costs_nothing(graded):
    """Keras warns on stderr while the test builds the model; stock nbgrader would score 0."""
    for chapter_name, (answer_id, _) in WARNING_ANSWER.items():
        run = graded[chapter_name]
        warned = run["example-warning"]
        test_id = answer_id.replace("-answer", "-check")
        assert test_id in warned.warned, "the example must really write to stderr in the test"
        assert warned.score == warned.max_score
        stock = nbformat.v4.new_code_cell("pass")
        stock.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 3,
                                      "grade_id": test_id, "locked": True, "schema_version": 3}
        stock.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning")]
        assert determine_grade(stock) == (0, 3), "stock nbgrader's rule this grader avoids"


def test_outputs_grades_csv_and_feedback(chapter, graded, tmp_path):
    run = graded[chapter.name]
    reports.write_all(run.result, tmp_path)
    with (tmp_path / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert {"example-complete", "example-untouched", "example-partial"} <= set(rows)
    complete = rows["example-complete"]
    assert complete["assignment"] == chapter.name and complete["status"] == "graded"
    assert float(complete["score"]) == float(complete["max_score"]) == run.key.max_score
    for gid, test in run.key.tests.items():
        assert float(complete[gid]) == test.max_points
        assert float(rows["example-untouched"][gid]) == 0
    for student_id in rows:
        page = html.unescape(
            (tmp_path / "feedback" / f"{student_id}.html").read_text(encoding="utf-8"))
        assert f"{float(rows[student_id]['score']):g} / " in page
        for test in run.key.tests.values():
            hidden_lines = set(test.source.splitlines()) - set(test.visible_source.splitlines())
            for line in hidden_lines:
                if len(line.strip()) > 12:
                    assert line.strip() not in page, f"hidden test code leaked: {line!r}"
