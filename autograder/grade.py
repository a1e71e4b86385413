"""Grading: one submission is one self-contained task; a class is many of them.

A :class:`GradingTask` holds everything one grading needs - the submission's bytes, the
chapter's answer key and assets, the limits - and :func:`run_task` turns it into a
:class:`SubmissionResult` with no shared state, so a class can be graded by a pool of worker
processes (or, later, a distributed engine) with the same grades as a serial run.

How a submission is graded:

1. It is read as a notebook (anything else gets a row with a clear status and no points).
2. Its test cells are replaced by the answer key's (hidden tests included); a missing test
   cell is put back after the answer it checks.  Outputs are cleared.  The first cell installs
   the run-time guard, and a guard cell goes before and after every test cell
   (:mod:`autograder.guard`).
3. It runs top to bottom in a fresh kernel inside the sandbox (:mod:`autograder.sandbox`), in
   an empty folder holding only the chapter's assets, under time, memory and output limits.
   The kernel is forked from this process's warm-kernel server (:mod:`autograder.warm`), which
   has already imported the chapter's libraries, unless warm kernels are off or unavailable.
4. A test cell earns its points only when the kernel replied that it ran to its end and raised
   nothing (:func:`autograder.results.outcome_of`).  A cell stopped by a time limit, a cap, an
   interrupt or the kernel's end earns nothing; after a cell time limit the kernel is
   interrupted and grading goes on with the next cell.  What a cell writes to stderr does not
   matter: TensorFlow and Keras write warnings there, and a correct answer must not lose
   points to a library warning (stock nbgrader scores such a cell 0).
5. If the static scan (:mod:`autograder.scan`) or a guard finds tampering, the submission is
   flagged for review and
   scores 0 until an instructor has looked; the status and the flags say why.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import guard, notebook, scan
from autograder.answer_key import AnswerKey
from autograder.course import Chapter, find_chapters, get_chapter
from autograder.execute import KERNEL_ENV, Limits, RunReport, run_notebook
from autograder.intake import collect
from autograder.isolation import warm
from autograder.isolation.sandbox import require_sandbox, warm_server
from autograder.messages import failure_message
from autograder.results import (
    CellError,
    Outcome,
    Stop,
    SubmissionResult,
    TestOutcome,
    outcome_of,
)

STUB = "raise NotImplementedError()"  # what release leaves in every answer cell
SNAPSHOT = 0  # the index of the cell that installs the guard, in every assembled run
FLAGGED = "flagged for review"


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


# --- assembling the notebook that runs --------------------------------------------------------

@dataclass
class _Plan:
    nb: NotebookNode
    roles: list[str]  # "answer" | "other" (student code) | "test" | "grader"
    guards: dict[int, guard.Guard]
    notes: list[str]


def _role(cell: NotebookNode) -> str:
    if notebook.is_answer_cell(cell):
        return "answer"
    return "other"


def _key_test_cell(key: AnswerKey, gid: str) -> NotebookNode:
    template = next(c for c in key.instructor.cells if notebook.grade_id(c) == gid)
    cell = nbformat.v4.new_code_cell(guard.check_source(key.tests[gid].source))
    cell.metadata = copy.deepcopy(template.metadata)
    return cell


def assemble(submission: NotebookNode, key: AnswerKey) -> _Plan:
    """The notebook that is run: the student's code cells, every test cell from the key, and
    the grader's guard cells around each test."""
    present = {notebook.grade_id(c) for c in submission.cells} & set(key.tests)
    missing = [gid for gid in key.tests if gid not in present]
    notes = [f"test cell {gid} was missing and has been put back" for gid in missing]
    after_answer: dict[str | None, list[str]] = {}
    for gid in missing:
        after_answer.setdefault(key.tests[gid].answer_id, []).append(gid)

    plan = _Plan(nbformat.v4.new_notebook(), [], {}, notes)
    plan.nb.metadata = copy.deepcopy(key.instructor.metadata)

    def add(cell: NotebookNode, role: str) -> None:
        if role == "test" and (not plan.roles or plan.roles[-1] != "grader"):
            add_guard()
        plan.nb.cells.append(cell)
        plan.roles.append(role)
        if role == "test":
            add_guard()

    def add_guard() -> None:
        new = guard.new_guard()
        plan.guards[len(plan.nb.cells)] = new
        plan.nb.cells.append(nbformat.v4.new_code_cell(new.source))
        plan.roles.append("grader")

    snapshot = nbformat.v4.new_code_cell("")  # filled in below, once every guard is known
    plan.nb.cells.append(snapshot)
    plan.roles.append("grader")
    used: set[str] = set()
    for cell in submission.cells:
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
    course = [c.source for c, r in zip(plan.nb.cells, plan.roles, strict=True)
              if r == "test" or (r == "other" and c.source in key.lesson)]
    snapshot.source = guard.snapshot_source(tests=[t.source for t in key.tests.values()],
                                            guards=plan.guards.values(), course=course)
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
    findings: list[str]


def score(plan: _Plan, key: AnswerKey, run: RunReport, limits: Limits) -> _Scored:
    """Points per test cell of an executed plan, errors, warnings, and the guards' findings.

    A test cell's points come from the record of how it ended (:func:`outcome_of`): only a
    cell the kernel reported as run to its end without raising earns them."""
    outcomes: dict[str, TestOutcome] = {}
    scored = _Scored([], [], [], [])
    words = limits.in_words()
    stubbed = {notebook.grade_id(c) for c, r in zip(plan.nb.cells, plan.roles, strict=True)
               if r == "answer" and STUB in c.source}
    key_bytes = guard.read_key(plan.nb.cells[SNAPSHOT].get("outputs", []))
    if SNAPSHOT in run.cells and key_bytes is None:
        scored.findings.append(guard.NO_SNAPSHOT)
    for index, (cell, role) in enumerate(zip(plan.nb.cells, plan.roles, strict=True)):
        cell_run = run.cells.get(index)
        if role == "grader":
            # A guard that never ran follows a stop (timeout, dead kernel) the status reports.
            if index in plan.guards and cell_run is not None:
                scored.findings += guard.read_guard(cell.get("outputs", []), plan.guards[index],
                                                    key_bytes)
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
        outcomes[gid] = TestOutcome(gid, test.title, points, test.max_points, outcome, message)
    scored.outcomes = [
        outcomes.get(gid) or TestOutcome(gid, t.title, 0.0, t.max_points, Outcome.NOT_RUN,
                                         outcome_of(None, ended_early=run.ended_early,
                                                    limits=words, failure="")[1])
        for gid, t in key.tests.items()
    ]
    return scored


# --- one submission -------------------------------------------------------------------------

def _not_graded(task: GradingTask, status: str, started: float) -> SubmissionResult:
    tests = tuple(TestOutcome(gid, t.title, 0.0, t.max_points, Outcome.NOT_RUN, "not graded")
                  for gid, t in task.key.tests.items())
    return SubmissionResult(task.student_id, task.key.chapter.name, 0.0, task.key.max_score,
                            status, tests, filename=task.filename,
                            seconds=time.monotonic() - started)


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
    """Grade one submission (see the module docstring)."""
    started = time.monotonic()
    if not task.submission.strip():
        return _not_graded(task, "unreadable: the file is empty", started)
    try:
        submitted = notebook.reads(task.submission)
    except UnicodeDecodeError:
        return _not_graded(task, "unreadable: the file is not UTF-8 text, so not a notebook",
                           started)
    except Exception as err:  # nbformat raises several unrelated types for bad JSON
        return _not_graded(task, f"unreadable: not a Jupyter notebook ({type(err).__name__})",
                           started)
    other = _other_chapter(submitted, task)
    if other:
        return _not_graded(task, f"wrong chapter: this is a {other} notebook", started)

    plan = assemble(submitted, task.key)
    # Lesson cells the student left as released are the course's code, not the student's.
    lesson = task.key.lesson
    code = [(c.source, r) for c, r in zip(plan.nb.cells, plan.roles, strict=True)
            if r in ("answer", "other")]
    findings = scan.scan_cells(
        [s for s, r in code if r == "answer" or s not in lesson],
        context=[s for s, r in code if r == "other" and s in lesson])
    # Only the instructor's imports are preloaded: the server is shared by later submissions.
    server = warm_server(task.limits.sandbox, warm.preload_modules(task.key.instructor),
                         KERNEL_ENV)
    with warm.folder(server) as workdir:
        for name, data in task.assets.items():
            (workdir / name).write_bytes(data)
        run = run_notebook(plan.nb, workdir=workdir, limits=task.limits, server=server,
                           uncapped={i for i, r in enumerate(plan.roles) if r == "grader"},
                           unrecorded={i for i, r in enumerate(plan.roles)
                                       if r in ("grader", "test")},
                           checks={i for i, r in enumerate(plan.roles) if r == "test"})
    scored = score(plan, task.key, run, task.limits)
    findings = sorted(set(findings + scored.findings))
    notes = list(plan.notes)
    notes += _stop_notes(plan, run, task.limits)
    earned = sum(o.points for o in scored.outcomes)
    status = "graded" if run.status == "complete" else run.status
    total = earned
    if findings:
        status = f"{FLAGGED}: {'; '.join(findings)}"
        notes.append(f"scores {earned:g} if cleared on review")
        total = 0.0
    return SubmissionResult(
        task.student_id, task.key.chapter.name, total, task.key.max_score, status,
        tuple(scored.outcomes), tuple(notes), tuple(findings), tuple(scored.errors),
        tuple(scored.warned), task.filename, time.monotonic() - started,
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
    return notes


def chapter_assets(chapter: Chapter) -> dict[str, bytes]:
    """The files a chapter's notebook reads (everything released beside it but notebooks)."""
    folder = chapter.student_notebook.parent
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))
            if p.is_file() and p.suffix != ".ipynb"}


def grade_submission(*, student_id: str, submission: bytes, chapter: Chapter,
                     limits: Limits = Limits(), key: AnswerKey | None = None) -> SubmissionResult:
    """Grade one submission (the bytes of its .ipynb file) against the chapter's answer key.
    No process is left running when it returns (the warm-kernel server it started included)."""
    try:
        return run_task(GradingTask(student_id, submission, key or AnswerKey.load(chapter),
                                    chapter_assets(chapter), limits))
    finally:
        warm.close_server()


# --- a class ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassResult:
    chapter: Chapter
    results: tuple[SubmissionResult, ...]


def _end_with_grader(grader_pid: int, scratch: str) -> None:
    """Pool-worker initializer: end this worker (and with it its sandboxed kernel, which dies
    with its parent) when the grader itself is killed, instead of leaving it behind.  The
    worker's warm-kernel server keeps its files in ``scratch``, which the grader removes even
    when it has to kill the worker."""
    warm.SCRATCH = scratch
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: the worker ends after its current task
        return
    if os.getppid() != grader_pid:  # the grader died before the line above
        os._exit(1)
    # Ctrl-C in a terminal reaches the grader alone, which then stops the workers itself.
    with contextlib.suppress(OSError):
        os.setsid()


@contextlib.contextmanager
def _workers_start_deaf_to_ctrl_c():
    """Pool workers start while this is open (``submit`` spawns them); they inherit an ignored
    SIGINT, so a Ctrl-C that lands while one is still starting up does not print a traceback
    from it.  The grader itself handles Ctrl-C (see :func:`grade_folder`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def grade_folder(
    *,
    chapter: Chapter | str,
    submissions: Path | str,
    workers: int | None = None,
    limits: Limits = Limits(),
    id_pattern: str | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> ClassResult:
    """Grade every file in ``submissions`` (a folder or a .zip), ``workers`` at a time.
    ``chapter`` is a :class:`Chapter` or a chapter's name."""
    chapter = get_chapter(chapter) if isinstance(chapter, str) else chapter
    submissions = Path(submissions)
    require_sandbox(limits.sandbox)
    key = AnswerKey.load(chapter)
    other_keys = [AnswerKey.load(c) for c in find_chapters(layout=chapter.layout)
                  if c.name != chapter.name]
    others = {k.chapter.name: frozenset(k.tests) | frozenset(k.answers) for k in other_keys}
    entries = collect(submissions, chapter=chapter.name, chapters={chapter.name, *others},
                      id_pattern=id_pattern)
    assets = chapter_assets(chapter)
    results: dict[int, SubmissionResult] = {}
    tasks: dict[int, GradingTask] = {}
    for index, entry in enumerate(entries):
        task = GradingTask(entry.student_id, entry.data or b"", key, assets, limits, others,
                           entry.filename)
        if entry.status:
            results[index] = replace(_not_graded(task, entry.status, time.monotonic()),
                                     seconds=0.0)
        else:
            tasks[index] = task
    total = len(entries)
    failures = len(results)
    if progress:
        progress(len(results), total, failures)
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1))
    if tasks:
        with tempfile.TemporaryDirectory(prefix="autograder-run-",
                                         ignore_cleanup_errors=True) as scratch:
            _grade_in_pool(tasks, results, workers, scratch, total, failures, progress)
    return ClassResult(chapter, tuple(results[i] for i in range(total)))


def _grade_in_pool(tasks: dict[int, GradingTask], results: dict[int, SubmissionResult],
                   workers: int, scratch: str, total: int, failures: int,
                   progress: Callable[[int, int, int], None] | None) -> None:
    """Fill ``results`` with the graded ``tasks``, ``workers`` at a time."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_end_with_grader, initargs=(os.getpid(), scratch))
    try:
        with _workers_start_deaf_to_ctrl_c():
            futures = {pool.submit(run_task, task): index for index, task in tasks.items()}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            failures += not result.ok
            if progress:
                progress(len(results), total, failures)
    except BaseException:  # Ctrl-C, or a bug: stop the workers now, not after their task
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()  # its kernel dies with it
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()


def print_progress(done: int, total: int, failures: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    print(f"\rgrading [{bar}] {done}/{total} graded, {failures} not graded cleanly",
          end=end, file=sys.stderr, flush=True)
