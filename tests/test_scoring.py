"""The scoring step, without a kernel: a tiny in-memory chapter, a made-up record of how each cell
ended, and the outcome and points each graded item gets from it.

The rule under test: a test cell earns its points only when the kernel's reply says it ran to its
end and raised nothing.  A cell that was cut off (time limit, dead kernel, cap, interrupt) earns
nothing even though it shows no error, and cells that never ran say why.
"""

from __future__ import annotations

import asyncio

import nbformat
import pytest

from autograder.answer_key import AnswerKey
from autograder.course import Chapter
from autograder.execute import GradingClient, Limits, RunReport
from autograder.grade import assemble, score
from autograder.messages import (
    MISSING_NAME,
    NO_MESSAGE,
    NOT_ANSWERED,
    failure_message,
    possible_messages,
)
from autograder.results import CellEnd, CellRun, Outcome, Status, Stop, student_status

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

LIMITS = Limits(cell_timeout=30, notebook_timeout=600, output_mb=2)


def _graded(kind: str, gid: str, source: str, points: float = 0) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": gid, "grade": kind == "test",
                                 "solution": kind == "answer", "locked": kind == "test",
                                 "schema_version": 3, **({"points": points} if points else {})}
    return cell


def _tiny_key() -> AnswerKey:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Exercise 1"),
        _graded("answer", "ex1-answer", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"),
        _graded("test", "ex1-check", "assert x == 1, 'x should be 1'\n", 2),
        nbformat.v4.new_markdown_cell("## Exercise 2"),
        _graded("answer", "ex2-answer", "### BEGIN SOLUTION\ny = 2\n### END SOLUTION\n"),
        _graded("test", "ex2-check", "assert y == 2\n", 3),
    ]
    return AnswerKey(Chapter("tiny"), nb)


KEY = _tiny_key()


def _plan():
    submission = nbformat.v4.new_notebook()
    submission.cells = [_graded("answer", "ex1-answer", "x = 1\n"),
                        _graded("test", "ex1-check", "anything"),
                        _graded("answer", "ex2-answer", "y = 2\n"),
                        _graded("test", "ex2-check", "anything")]
    plan = assemble(submission, KEY)
    tests = {plan.nb.cells[i].metadata["nbgrader"]["grade_id"]: i
             for i, role in enumerate(plan.roles) if role == "test"}
    return plan, tests


def _score(cells: dict[str, CellRun | None], ended_early: Stop | None = None,
           executed: bool = True):
    """Score the tiny chapter where each test cell ended as ``cells`` says (absent or None:
    never ran); every other cell completed.  ``executed`` gives each test cell an execution
    count and no error output, as a cut-off cell has."""
    plan, tests = _plan()
    runs = {i: CellRun(CellEnd.COMPLETED) for i in range(len(plan.nb.cells))
            if i not in tests.values()}
    for gid, index in tests.items():
        if executed:
            plan.nb.cells[index].execution_count = index + 1
        if cells.get(gid) is not None:
            runs[index] = cells[gid]
    report = RunReport(Status.GRADED, "", False, runs, ended_early)
    scored = score(plan, KEY, report, LIMITS)
    return {o.grade_id: o for o in scored.outcomes}


def test_a_completed_check_earns_its_points():
    out = _score({"ex1-check": CellRun(CellEnd.COMPLETED),
                  "ex2-check": CellRun(CellEnd.COMPLETED)})
    assert [(o.outcome, o.points) for o in out.values()] == [(Outcome.PASSED, 2),
                                                             (Outcome.PASSED, 3)]
    assert out["ex1-check"].passed and out["ex1-check"].message == ""


def test_a_check_that_raised_fails_with_its_message():
    out = _score({"ex1-check": CellRun(CellEnd.RAISED, ename="AssertionError",
                                       evalue="x should be 1"),
                  "ex2-check": CellRun(CellEnd.COMPLETED)})
    assert (out["ex1-check"].outcome, out["ex1-check"].points) == (Outcome.FAILED, 0)
    assert out["ex1-check"].message == "failed: x should be 1"
    assert out["ex2-check"].points == 3


@pytest.mark.parametrize(("stop", "words"), [
    (Stop.CELL_TIME, "stopped after 30 s"),
    (Stop.NOTEBOOK_TIME, "time limit of 600 s during this check"),
    (Stop.KERNEL_ENDED, "the kernel ended during this check"),
    (Stop.KERNEL_STOPPED, "did not stop when interrupted"),
    (Stop.OUTPUT_CAP, "more than 2 MB of output"),
    (Stop.MEMORY_CAP, f"ran out of memory (the cap is {LIMITS.sandbox.memory_mb} MB)"),
    (Stop.INTERRUPTED, "was interrupted"),
])
def test_a_stopped_check_earns_nothing_and_says_why(stop, words):
    """The hole this closes: a stopped cell has an execution count and no error output."""
    out = _score({"ex1-check": CellRun(CellEnd.STOPPED, stop),
                  "ex2-check": CellRun(CellEnd.COMPLETED)})
    assert (out["ex1-check"].outcome, out["ex1-check"].points) == (Outcome.STOPPED, 0)
    assert words in out["ex1-check"].message
    assert (out["ex2-check"].outcome, out["ex2-check"].points) == (Outcome.PASSED, 3)


@pytest.mark.parametrize(("ended_early", "words"), [
    (Stop.KERNEL_ENDED, "not run: the kernel had ended before this check"),
    (Stop.KERNEL_STOPPED, "not run: the kernel had been ended before this check"),
    (Stop.NOTEBOOK_TIME, "not run: the notebook reached its time limit before this check"),
])
def test_checks_after_the_run_ended_are_not_run(ended_early, words):
    out = _score({"ex1-check": CellRun(CellEnd.STOPPED, ended_early)}, ended_early)
    assert out["ex1-check"].outcome is Outcome.STOPPED
    assert (out["ex2-check"].outcome, out["ex2-check"].points) == (Outcome.NOT_RUN, 0)
    assert out["ex2-check"].message == words


def test_a_cell_without_a_record_of_completing_earns_nothing():
    """An execution count and no error output are not proof that a check completed."""
    out = _score({"ex1-check": None, "ex2-check": None}, executed=True)
    assert all((o.outcome, o.points) == (Outcome.NOT_RUN, 0) for o in out.values())
    assert out["ex1-check"].message == "not run"


# --- how a kernel's reply becomes a record -------------------------------------------------------

def _record(status: str, ename: str = "", stopping: Stop | None = None) -> CellRun:
    client = GradingClient(nbformat.v4.new_notebook(), limits=LIMITS, uncapped=set())
    if stopping:
        client._stopping[0] = stopping
    reply = {"content": {"status": status, **({"ename": ename, "evalue": "e"} if ename else {})}}
    asyncio.run(client._record(cell=None, cell_index=0, execute_reply=reply))
    return client.runs[0]


def test_replies_map_to_one_record_each():
    assert _record("ok") == CellRun(CellEnd.COMPLETED)
    assert _record("error", "AssertionError") == CellRun(CellEnd.RAISED, None, "AssertionError",
                                                         "e")
    assert _record("error", "MemoryError").stop is Stop.MEMORY_CAP
    assert _record("error", "KeyboardInterrupt").stop is Stop.INTERRUPTED
    assert _record("aborted").end is CellEnd.STOPPED


def test_a_stop_the_grader_decided_wins_over_the_reply():
    """A cell the grader stopped stays stopped even when its reply says "ok" (it caught the
    interrupt and returned) or names another error."""
    assert _record("ok", stopping=Stop.CELL_TIME) == CellRun(CellEnd.STOPPED, Stop.CELL_TIME)
    assert _record("ok", stopping=Stop.OUTPUT_CAP).stop is Stop.OUTPUT_CAP
    assert _record("error", "KeyboardInterrupt", Stop.CELL_TIME).stop is Stop.CELL_TIME


def test_a_failed_check_of_a_stub_answer_is_not_answered():
    plan, tests = _plan()
    for cell, role in zip(plan.nb.cells, plan.roles, strict=True):
        if role == "answer" and cell.metadata["nbgrader"]["grade_id"] == "ex1-answer":
            cell.source = "# YOUR CODE HERE\nraise NotImplementedError()"
    runs = {i: CellRun(CellEnd.COMPLETED) for i in range(len(plan.nb.cells))}
    runs[tests["ex1-check"]] = CellRun(CellEnd.RAISED, ename="NameError", evalue="x")
    runs[tests["ex2-check"]] = CellRun(CellEnd.RAISED, ename="AssertionError", evalue="")
    out = {o.grade_id: o for o in score(plan, KEY, RunReport(Status.GRADED, "", False, runs),
                                        LIMITS).outcomes}
    assert (out["ex1-check"].outcome, out["ex1-check"].message) == (Outcome.NOT_ANSWERED,
                                                                    NOT_ANSWERED)
    assert (out["ex2-check"].outcome, out["ex2-check"].message) == (Outcome.FAILED, NO_MESSAGE)


# --- what a student may read --------------------------------------------------------------------

VISIBLE = (
    "_m = f(1)\n"
    "assert isinstance(_m, dict), f\"return a dict, got {type(_m).__name__}\"\n"
    "assert _m['x'] == 1, 'x should be 1'\n"
)


@pytest.mark.parametrize(("ename", "evalue", "shown"), [
    ("AssertionError", "x should be 1", "failed: x should be 1"),
    ("AssertionError", "return a dict, got LEAKc2VjcmV0", "failed: return a dict, got …"),
    ("AssertionError", "LEAKc2VjcmV0", NO_MESSAGE),
    ("AssertionError", "", NO_MESSAGE),
    ("TypeError", "LEAK unsupported operand", "failed: the check raised TypeError"),
    ("LEAKc2VjcmV0", "LEAK", "failed: the check raised an exception"),
    ("NameError", "name 'LEAK' is not defined", MISSING_NAME),
    ("NotImplementedError", "LEAK", NOT_ANSWERED),
])
def test_the_kernel_only_chooses_among_fixed_words(ename, evalue, shown):
    message = failure_message(visible_source=VISIBLE, ename=ename, evalue=evalue)
    assert message == shown
    assert "LEAK" not in message and message in possible_messages(VISIBLE)


def test_a_flagged_status_does_not_name_what_was_found():
    detail = "'answer_LEAK' claims to equal anything"
    assert "LEAK" not in student_status(Status.FLAGGED, detail)
    assert student_status(Status.GRADED) == "graded"
    assert student_status(Status.TIMEOUT, "the notebook ran longer than 9 s") == \
        "timeout: the notebook ran longer than 9 s"
