"""Grading: one submission is one self-contained task; a class is many of them.

A :class:`GradingTask` holds everything one grading needs - the submission's bytes, the
chapter's answer key and assets, the limits - and :func:`run_task` turns it into a
:class:`SubmissionResult` with no shared state, so a class can be graded by a pool of worker
processes (or, later, a distributed engine) with the same grades as a serial run.

How a submission is graded (:func:`run_task`, one named step each):

1. **read** (:func:`read_submission`): it is read as a notebook; anything else, or another
   chapter's notebook, gets a row with a clear status and no points.
2. **assemble** (:func:`assemble`): its test cells are replaced by the answer key's (hidden
   tests included); a missing test cell is put back after the answer it checks.  Outputs are
   cleared.  The first cell installs the exchange (:mod:`autograder.exchange`) in the
   student's kernel.  Lesson cells the student left as released and nothing graded needs are
   left out (:mod:`autograder.cut`); if that run shows a sign of having left out too much (an
   ``AttributeError`` or ``KeyError``, a ``NameError`` for a name no answer binds), the whole
   notebook runs and its result is the one recorded.  ``--full-notebook`` always runs the
   whole notebook.
3. **run** (:func:`run_plan`): top to bottom in two fresh kernels inside the sandbox
   (:mod:`autograder.isolation`), each in an empty folder holding only the chapter's assets,
   under time, memory and output limits: the student's cells in the student's kernel, the test
   cells in the judge's (:mod:`autograder.judge`), which reads the answers as data and never
   runs in the student's process.  Both kernels are forked from this process's warm-kernel
   server, which has already imported the chapter's libraries, unless warm kernels are off or
   unavailable.
4. **score** (:func:`score`): a test cell earns its points only when the judge replied that it
   ran to its end and raised nothing (:func:`autograder.results.outcome_of`).  A cell stopped by
   a time limit, a cap, an interrupt or a kernel's end earns nothing; after a cell time limit
   the kernels are interrupted and grading goes on with the next cell.  What a cell writes to
   stderr does not matter: TensorFlow and Keras write warnings there, and a correct answer must
   not lose points to a library warning (stock nbgrader scores such a cell 0).
5. **decide** (:func:`decide`): the submission's record.  Nothing in the student's kernel can
   change what a test compares, so nothing is flagged for tampering; the *flagged* status stays
   for records an earlier version of the grader flagged, which review can still clear.

A class is graded by :func:`grade_folder`, with a pool of worker processes
(:mod:`autograder.pool`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import cut, judge, notebook, records
from autograder.answer_key import AnswerKey
from autograder.check import TAG as CHECK_TAG
from autograder.course import Chapter, find_chapters, get_chapter
from autograder.execute import KERNEL_ENV, Limits, RunReport, run_notebook
from autograder.intake import collect
from autograder.isolation import warm
from autograder.isolation.sandbox import require_sandbox, shared_warm_server, warm_server
from autograder.messages import failure_message
from autograder.pool import run_in_pool
from autograder.progress import print_progress
from autograder.results import (
    CellError,
    Outcome,
    Status,
    Stop,
    SubmissionResult,
    TestOutcome,
    outcome_of,
)

STUB = "raise NotImplementedError()"  # what release leaves in every answer cell


@dataclass(frozen=True)
class GradingTask:
    """Everything needed to grade one submission, and nothing shared with other tasks."""

    student_id: str
    submission: bytes
    key: AnswerKey
    assets: Mapping[str, bytes] = field(default_factory=dict)
    limits: Limits = Limits()
    other_chapters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    filename: str = ""
    whole_notebook: bool = False  # run every lesson cell, not only what graded cells need


# --- assembling the notebook that runs --------------------------------------------------------

@dataclass
class _Plan:
    nb: NotebookNode
    roles: list[str]  # "answer" | "other" (student code) | "test" (run by the judge) | "grader"
    notes: list[str]
    left_out: list[str] = field(default_factory=list)  # lesson cells not run (sources)


def _for_students_only(cell: NotebookNode) -> bool:
    """"Check my notebook" and the notebook's copy of the exchange: never run by the grader."""
    return bool({CHECK_TAG, judge.STUDENT_EXCHANGE_TAG} & set(notebook.tags(cell)))


def _role(cell: NotebookNode) -> str:
    if notebook.is_answer_cell(cell):
        return "answer"
    return "other"


def _key_test_cell(key: AnswerKey, gid: str) -> NotebookNode:
    template = next(c for c in key.instructor.cells if notebook.grade_id(c) == gid)
    cell = nbformat.v4.new_code_cell(judge.judged_source(key.tests[gid].source))
    cell.metadata = copy.deepcopy(template.metadata)
    return cell


def lessons_to_leave_out(submission: NotebookNode, key: AnswerKey) -> set[int]:
    """Indices (in ``submission.cells``) of the unchanged lesson cells nothing graded needs."""
    indices, cells = [], []
    for index, cell in enumerate(submission.cells):
        if cell.get("cell_type") != "code" or _for_students_only(cell):
            continue
        gid = notebook.grade_id(cell)
        source = key.tests[gid].source if gid in key.tests else cell.get("source", "")
        lesson = gid not in key.tests and not notebook.is_answer_cell(cell) and \
            source in key.lesson
        indices.append(index)
        cells.append((source, lesson))
    cells += [(t.source, False) for gid, t in key.tests.items()]  # tests the student deleted
    return {indices[i] for i in cut.lessons_to_leave_out(cells) if i < len(indices)}


def assemble(submission: NotebookNode, key: AnswerKey, *, whole: bool = True) -> _Plan:
    """The notebook that is run: the exchange's set-up, the student's code cells and every
    test cell from the key (for the judge).  Unless ``whole``, the lesson cells nothing graded
    needs are left out (:mod:`autograder.cut`)."""
    leave_out = set() if whole else lessons_to_leave_out(submission, key)
    present = {notebook.grade_id(c) for c in submission.cells} & set(key.tests)
    missing = [gid for gid in key.tests if gid not in present]
    notes = [f"test cell {gid} was missing and has been put back" for gid in missing]
    after_answer: dict[str | None, list[str]] = {}
    for gid in missing:
        after_answer.setdefault(key.tests[gid].answer_id, []).append(gid)

    plan = _Plan(nbformat.v4.new_notebook(), [], notes)
    plan.nb.metadata = copy.deepcopy(key.instructor.metadata)

    def add(cell: NotebookNode, role: str) -> None:
        plan.nb.cells.append(cell)
        plan.roles.append(role)

    add(nbformat.v4.new_code_cell(judge.student_setup_source()), "grader")
    used: set[str] = set()
    for index, cell in enumerate(submission.cells):
        if index in leave_out:
            plan.left_out.append(cell.get("source", ""))
            continue
        if _for_students_only(cell):
            continue
        gid = notebook.grade_id(cell)
        if gid in key.tests:
            if gid in used:
                notes.append(f"a second copy of test cell {gid} was ignored")
                continue
            used.add(gid)
            add(_key_test_cell(key, gid), "test")
            continue
        if cell.get("cell_type") != "code":
            continue
        plain = nbformat.v4.new_code_cell(cell.get("source", ""))
        plain.metadata = copy.deepcopy(cell.get("metadata", {}))
        add(plain, _role(cell))
        if notebook.is_answer_cell(cell) and gid in after_answer:
            for restored in after_answer.pop(gid):
                add(_key_test_cell(key, restored), "test")
    for leftovers in after_answer.values():
        for restored in leftovers:
            add(_key_test_cell(key, restored), "test")
    return plan


# --- scoring ------------------------------------------------------------------------------------

def _first_error(cell: NotebookNode) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output
    return None


def _wrote_stderr(cell: NotebookNode) -> bool:
    return any(o.get("output_type") == "stream" and o.get("name") == "stderr"
               for o in cell.get("outputs", []))


@dataclass
class _Scored:
    outcomes: list[TestOutcome]
    errors: list[CellError]
    warned: list[str]


def score(plan: _Plan, key: AnswerKey, run: RunReport, limits: Limits) -> _Scored:
    """Points per test cell of an executed plan, errors and warnings.

    A test cell's points come from the record of how it ended (:func:`outcome_of`): only a
    cell the kernel reported as run to its end without raising earns them."""
    outcomes: dict[str, TestOutcome] = {}
    scored = _Scored([], [], [])
    words = limits.in_words()
    stubbed = {notebook.grade_id(c) for c, r in zip(plan.nb.cells, plan.roles, strict=True)
               if r == "answer" and STUB in c.source}
    for index, (cell, role) in enumerate(zip(plan.nb.cells, plan.roles, strict=True)):
        cell_run = run.cells.get(index)
        if role == "grader":
            continue
        error = _first_error(cell)
        gid = notebook.grade_id(cell)
        if error is not None:
            scored.errors.append(CellError(index, role, gid, error.get("ename", ""),
                                           error.get("evalue", "")))
        if role != "test" or gid in outcomes:
            continue
        test = key.tests[gid]
        if _wrote_stderr(cell):
            scored.warned.append(gid)
        ename, evalue = (error.get("ename", ""), error.get("evalue", "")) if error else \
            (cell_run.ename, cell_run.evalue) if cell_run else ("", "")
        failure = failure_message(visible_source=test.visible_source, ename=ename, evalue=evalue)
        outcome, message = outcome_of(cell_run, ended_early=run.ended_early, limits=words,
                                      failure=failure, answered=test.answer_id not in stubbed)
        points = test.max_points if outcome is Outcome.PASSED else 0.0
        hidden = failure_message(visible_source=test.source, ename=ename, evalue=evalue) \
            if outcome is Outcome.FAILED else ""
        outcomes[gid] = TestOutcome(gid, test.title, points, test.max_points, outcome, message,
                                    hidden if hidden != message else "", test.answer_id or "")
    scored.outcomes = [
        outcomes.get(gid) or TestOutcome(gid, t.title, 0.0, t.max_points, Outcome.NOT_RUN,
                                         outcome_of(None, ended_early=run.ended_early,
                                                    limits=words, failure="")[1],
                                         answer_id=t.answer_id or "")
        for gid, t in key.tests.items()
    ]
    return scored


# --- one submission -------------------------------------------------------------------------

def _not_graded(task: GradingTask, status: Status, detail: str,
                started: float) -> SubmissionResult:
    tests = tuple(TestOutcome(gid, t.title, 0.0, t.max_points, Outcome.NOT_RUN, "not graded",
                              answer_id=t.answer_id or "")
                  for gid, t in task.key.tests.items())
    return SubmissionResult(task.student_id, task.key.chapter.name, 0.0, task.key.max_score,
                            status, tests, filename=task.filename,
                            seconds=time.monotonic() - started, detail=detail,
                            digest=digest(task.submission))


def digest(data: bytes) -> str:
    """The SHA-256 of a submitted file's bytes, which names the work a decision was made on."""
    return hashlib.sha256(data).hexdigest()


def _other_chapter(submitted: NotebookNode, task: GradingTask) -> str | None:
    """The chapter whose graded cells a submission matches better than this one's, if any."""
    ids = {notebook.grade_id(c) for c in submitted.cells} - {None}

    def likeness(chapter_ids: frozenset[str]) -> float:
        return len(ids & chapter_ids) / len(ids | chapter_ids) if ids | chapter_ids else 0.0

    own = likeness(frozenset(task.key.tests) | frozenset(task.key.answers))
    best = max(task.other_chapters.items(), key=lambda item: (likeness(item[1]), item[0]),
               default=None)
    return best[0] if best and likeness(best[1]) > own else None


def run_task(task: GradingTask) -> SubmissionResult:
    """Grade one submission, in the steps of the module docstring: read it, assemble the
    notebook that runs, run it, score the checks, decide."""
    started = time.monotonic()
    submitted, problem = read_submission(task)
    if submitted is None:
        return _not_graded(task, *problem, started)
    plan = assemble(submitted, task.key, whole=task.whole_notebook)
    run = run_plan(plan, task)
    scored = score(plan, task.key, run, task.limits)
    sign = _cut_too_much(task.key, scored) if plan.left_out else ""
    if sign:  # the safety net: the whole notebook, and its result is the one recorded
        plan = assemble(submitted, task.key, whole=True)
        plan.notes.append(f"graded with the whole notebook: with lessons left out, {sign}")
        run = run_plan(plan, task)
        scored = score(plan, task.key, run, task.limits)
    return decide(task, plan, run, scored, time.monotonic() - started)


MISSING_NAME = re.compile(r"name '(?P<name>\w+)' is not defined")


def _cut_too_much(key: AnswerKey, scored: _Scored) -> str:
    """A sign that a run with lesson cells left out may differ from the whole notebook, in
    words (empty if none): an ``AttributeError`` or ``KeyError``, or a ``NameError`` for a name
    that is not an answer's (a missing answer raises one in the whole notebook too) in student
    or test code."""
    for error in scored.errors:
        if error.role not in ("answer", "other", "test"):
            continue
        missing = MISSING_NAME.search(error.evalue) if error.ename == "NameError" else None
        if error.ename in ("AttributeError", "KeyError") or \
                (missing and missing["name"] not in key.answer_names):
            return f"a cell raised {error.ename}"  # KeyError: say, globals()["name"]
    return ""


def read_submission(task: GradingTask) -> tuple[NotebookNode | None, tuple[Status, str]]:
    """The submitted notebook, or None and the status that says why it cannot be graded."""
    if not task.submission.strip():
        return None, (Status.UNREADABLE, "the file is empty")
    try:
        submitted = notebook.reads(task.submission)
    except UnicodeDecodeError:
        return None, (Status.UNREADABLE, "the file is not UTF-8 text, so not a notebook")
    except Exception as err:  # nbformat raises several unrelated types for bad JSON
        return None, (Status.UNREADABLE, f"not a Jupyter notebook ({type(err).__name__})")
    other = _other_chapter(submitted, task)
    if other:
        return None, (Status.WRONG_CHAPTER, f"this is a {other} notebook")
    return submitted, (Status.GRADED, "")


def run_plan(plan: _Plan, task: GradingTask) -> RunReport:
    """Run the assembled notebook in a sandboxed kernel, in a folder holding the assets."""
    # Only the instructor's imports are preloaded: the server is shared by later submissions.
    server = warm_server(task.limits.sandbox, warm.preload_modules(task.key.instructor),
                         KERNEL_ENV)
    roles = dict(enumerate(plan.roles))
    tests = {i for i, r in roles.items() if r == "test"}
    with warm.folder(server) as workdir, warm.folder(server) as judge_dir:
        for folder in (workdir, judge_dir):
            for name, data in task.assets.items():
                (folder / name).write_bytes(data)
        return run_notebook(plan.nb, workdir=workdir, limits=task.limits, server=server,
                            uncapped={i for i, r in roles.items() if r == "grader"},
                            unrecorded={i for i, r in roles.items() if r in ("grader", "test")},
                            checks=tests, judged=tests, judge_workdir=judge_dir)


def decide(task: GradingTask, plan: _Plan, run: RunReport, scored: _Scored,
           seconds: float) -> SubmissionResult:
    """The submission's record: its score, status and notes.  The grader no longer flags a
    submission: a record flagged by an earlier version can still be cleared in review."""
    notes = [*plan.notes, *_stop_notes(plan, run, task.limits)]
    if plan.left_out:
        notes.append(f"{len(plan.left_out)} lesson cells nothing graded needs were not run")
    earned = sum(o.points for o in scored.outcomes)
    answers = tuple((notebook.grade_id(c) or "", c.source)
                    for c, r in zip(plan.nb.cells, plan.roles, strict=True) if r == "answer")
    return SubmissionResult(
        task.student_id, task.key.chapter.name, earned, task.key.max_score, run.status,
        tuple(scored.outcomes), tuple(notes), (), tuple(scored.errors),
        tuple(scored.warned), task.filename, seconds, detail=run.detail,
        digest=digest(task.submission), answers=answers,
    )


def _stop_notes(plan: _Plan, run: RunReport, limits: Limits) -> list[str]:
    """One note per kind of stop, for the instructor (the feedback names each stopped check)."""
    notes = []
    stops = {r.stop for i, r in run.cells.items() if r.stop and plan.roles[i] != "grader"}
    if Stop.CELL_TIME in stops:
        notes.append(f"a cell ran longer than {limits.cell_timeout} s and was stopped")
    if run.output_capped or Stop.OUTPUT_CAP in stops:
        notes.append(f"output capped at {limits.output_mb} MB")
    if Stop.MEMORY_CAP in stops:
        notes.append(f"a cell ran out of memory (cap {limits.sandbox.memory_mb} MB)")
    if Stop.DISK_CAP in stops:
        notes.append(f"a cell wrote more than {limits.sandbox.scratch_mb} MB to its folder, /tmp "
                     "or /dev/shm")
    if Stop.FILE_CAP in stops:
        notes.append(f"a cell wrote a file larger than {limits.sandbox.file_mb} MB")
    if Stop.PROCESS_CAP in stops:
        notes.append(f"a cell started more than {limits.sandbox.processes} processes and threads")
    return notes


def chapter_assets(chapter: Chapter) -> dict[str, bytes]:
    """The files a chapter's notebook reads (everything released beside it but notebooks)."""
    folder = chapter.student_notebook.parent
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))
            if p.is_file() and p.suffix != ".ipynb"}


def grade_submission(*, student_id: str, submission: bytes, chapter: Chapter,
                     limits: Limits = Limits(), key: AnswerKey | None = None,
                     whole_notebook: bool = False) -> SubmissionResult:
    """Grade one submission (the bytes of its .ipynb file) against the chapter's answer key.
    No process is left running when it returns (the warm-kernel server it started included)."""
    try:
        return run_task(GradingTask(student_id, submission, key or AnswerKey.load(chapter),
                                    chapter_assets(chapter), limits,
                                    whole_notebook=whole_notebook))
    finally:
        warm.close_server()


# --- a class ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassResult:
    chapter: Chapter
    results: tuple[SubmissionResult, ...]
    reused: int = 0  # submissions whose record came from the results folder's cache


@contextlib.contextmanager
def _one_server_for_all(key: AnswerKey, limits: Limits, *, workers: int,
                        scratch: str) -> Iterator[warm.Handover | None]:
    """With several workers, one warm-kernel server for all of them, ended when they are
    done: each would otherwise start its own, and every server costs seconds of processor time
    to start (it imports TensorFlow) and holds hundreds of MB.  One worker starts its own when it
    first needs it (none if every file is unreadable)."""
    server = shared_warm_server(limits.sandbox, warm.preload_modules(key.instructor),
                                KERNEL_ENV, scratch=scratch) if workers > 1 else None
    try:
        yield warm.handover(server) if server else None
    finally:
        if server:
            server.close()


# How the grader runs the tests, in the key's digest: results graded another way are not reused.
GRADING_METHOD = b"judge 1"


def key_digest(chapter: Chapter, assets: Mapping[str, bytes]) -> str:
    """A digest of what a submission is graded against: the instructor notebook and assets,
    and the grader's :data:`GRADING_METHOD`."""
    h = hashlib.sha256(GRADING_METHOD + b"\0" + chapter.instructor_notebook.read_bytes())
    for name, data in sorted(assets.items()):
        h.update(hashlib.sha256(name.encode() + b"\0" + data).digest())
    return h.hexdigest()


def grade_folder(
    *,
    chapter: Chapter | str,
    submissions: Path | str,
    workers: int | None = None,
    limits: Limits = Limits(),
    id_pattern: str | None = None,
    progress: Callable[[int, int, int], None] | None = print_progress,
    whole_notebook: bool = False,
    cache: Path | None = None,
    fresh: bool = False,
    only: frozenset[str] = frozenset(),
    timestamps: Mapping[str, str] | None = None,
    cluster: str | None = None,
) -> ClassResult:
    """Grade every file in ``submissions`` (a folder or a .zip), ``workers`` at a time.
    ``chapter`` is a :class:`Chapter` or a chapter's name; ``progress(done, total, failures)``
    is called as submissions finish (a bar on stderr by default; None for silence).

    With ``cache`` (a results folder), a submission graded there before with the same bytes,
    answer key, grader and limits is not graded again (unless ``fresh``, or its student is in
    ``only``), and each new record is kept there as soon as it is made
    (:mod:`autograder.records`).  ``timestamps`` (student id -> ISO 8601 time) gives submission
    times; otherwise a zip entry's time is used.  With ``cluster`` (a Dask scheduler's address)
    the submissions are graded there (:mod:`autograder.cluster`) instead of by local workers.
    Every worker process, kernel and warm-kernel server it started has ended when it returns."""
    chapter = get_chapter(chapter) if isinstance(chapter, str) else chapter
    submissions = Path(submissions)
    if cluster is None:  # a cluster's workers each check their own
        require_sandbox(limits.sandbox)
    key = AnswerKey.load(chapter)
    other_keys = [AnswerKey.load(c) for c in find_chapters(layout=chapter.layout)
                  if c.name != chapter.name]
    others = {k.chapter.name: frozenset(k.tests) | frozenset(k.answers) for k in other_keys}
    entries = collect(submissions, chapter=chapter.name, chapters={chapter.name, *others},
                      id_pattern=id_pattern)
    assets = chapter_assets(chapter)
    against = key_digest(chapter, assets)
    results: dict[int, SubmissionResult] = {}
    tasks: dict[int, GradingTask] = {}
    cache_keys: dict[int, str] = {}
    stamps: dict[int, dict] = {}  # when each file was handed in, as its record keeps it
    reused = 0
    for index, entry in enumerate(entries):
        task = GradingTask(entry.student_id, entry.data or b"", key, assets, limits, others,
                           entry.filename, whole_notebook)
        stamp = stamps[index] = {
            "submitted_at": (timestamps or {}).get(entry.student_id, entry.submitted_at),
            "late_marker": entry.late_marker}
        if entry.status:
            results[index] = replace(_not_graded(task, entry.status, entry.detail, 0.0),
                                     seconds=0.0, **stamp)
            continue
        cache_keys[index] = records.cache_key(submission=task.submission, key_digest=against,
                                              limits=limits, whole=whole_notebook)
        old = records.cached(cache, cache_keys[index]) if cache and not fresh and \
            entry.student_id not in only else None
        if old is not None:
            results[index] = records.as_submitted(old, student_id=entry.student_id,
                                                  filename=entry.filename, **stamp)
            reused += 1
        else:
            tasks[index] = task
    total = len(entries)

    def done(index: int, result: SubmissionResult) -> None:
        if cache is not None:
            records.store(cache, cache_keys[index], result)
        results[index] = replace(result, **stamps[index])
        if progress:
            progress(len(results), total, sum(not r.ok for r in results.values()))

    if progress:
        progress(len(results), total, sum(not r.ok for r in results.values()))
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1))
    if tasks and cluster:
        from autograder.cluster import run_on_cluster

        run_on_cluster(tasks, address=cluster, done=done)
    elif tasks:
        with tempfile.TemporaryDirectory(prefix="autograder-run-",
                                         ignore_cleanup_errors=True) as scratch:
            run_in_pool(run_task, tasks, workers=workers, scratch=scratch, done=done,
                        server=lambda: _one_server_for_all(key, limits, workers=workers,
                                                           scratch=scratch))
    return ClassResult(chapter, tuple(results[i] for i in range(total)), reused)
