"""Grading: one submission is one self-contained task; a class is many of them.

A :class:`GradingTask` holds everything one grading needs - the submission's bytes, the
chapter's answer key and assets, the limits - and :func:`run_task` turns it into a
:class:`SubmissionResult` with no shared state, so a class can be graded by a pool of worker
processes (or, later, a distributed engine) with the same grades as a serial run.

How a submission is graded (:func:`run_task`, one named step each):

1. **read** (:func:`read_submission`): it is read as a notebook; anything else, or another
   chapter's notebook, gets a row with a clear status and no points.
2. **assemble** (:func:`assemble`): its test cells are replaced by the answer key's (hidden
   tests included), each run as a function over its own imports
   (:func:`autograder.guard.check_source`); a missing test cell is put back after the answer
   it checks.  Outputs are cleared.  The first cell installs the run-time guard, and a guard
   cell goes before and after every test cell (:mod:`autograder.guard`).  Lesson cells the
   student left as released and nothing graded needs are left out (:mod:`autograder.cut`);
   if that run shows a sign of having left out too much (a guard finding, an
   ``AttributeError`` or ``KeyError``, a ``NameError`` for a name no answer binds), the whole
   notebook runs and its result is the one recorded.  ``--full-notebook`` always runs the
   whole notebook.
3. **scan** (:func:`scan_student_code`): the student's own code is read for the tools of
   tampering (:mod:`autograder.scan`).
4. **run** (:func:`run_plan`): top to bottom in a fresh kernel inside the sandbox
   (:mod:`autograder.isolation`), in an empty folder holding only the chapter's assets, under
   time, memory and output limits.  The kernel is forked from this process's warm-kernel
   server, which has already imported the chapter's libraries, unless warm kernels are off or
   unavailable.
5. **score** (:func:`score`): a test cell earns its points only when the kernel replied that it
   ran to its end and raised nothing (:func:`autograder.results.outcome_of`).  A cell stopped by
   a time limit, a cap, an interrupt or the kernel's end earns nothing; after a cell time limit
   the kernel is interrupted and grading goes on with the next cell.  What a cell writes to
   stderr does not matter: TensorFlow and Keras write warnings there, and a correct answer must
   not lose points to a library warning (stock nbgrader scores such a cell 0).  The guards'
   signed reports are read here too.
6. **decide** (:func:`decide`): if the scan or a guard found tampering, the submission is
   flagged for review and scores 0 until an instructor has looked; the status and the flags say
   why.

A class is graded by :func:`grade_folder`, with a pool of worker processes
(:mod:`autograder.pool`).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import cut, guard, judge, notebook, records, scan
from autograder.answer_key import AnswerKey
from autograder.check import TAG as CHECK_TAG
from autograder.course import Chapter, find_chapters, get_chapter
from autograder.execute import KERNEL_ENV, Limits, RunReport, run_notebook
from autograder.intake import collect
from autograder.isolation import warm
from autograder.isolation.sandbox import require_sandbox, warm_server
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
SNAPSHOT = 0  # the index of the cell that installs the guard, in every assembled run


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
    judge: bool = False  # run the test cells in a judge kernel (autograder.judge)


# --- assembling the notebook that runs --------------------------------------------------------

@dataclass
class _Plan:
    nb: NotebookNode
    roles: list[str]  # "answer" | "other" (student code) | "test" | "grader"
    guards: dict[int, guard.Guard]
    notes: list[str]
    left_out: list[str] = field(default_factory=list)  # lesson cells not run (sources)
    judged: bool = False  # test cells run in the judge's kernel, not the student's


def _role(cell: NotebookNode) -> str:
    if notebook.is_answer_cell(cell):
        return "answer"
    return "other"


def _key_test_cell(key: AnswerKey, gid: str, *, judged: bool = False) -> NotebookNode:
    template = next(c for c in key.instructor.cells if notebook.grade_id(c) == gid)
    source = key.tests[gid].source
    cell = nbformat.v4.new_code_cell(judge.judged_source(source) if judged
                                     else guard.check_source(source))
    cell.metadata = copy.deepcopy(template.metadata)
    return cell


def _lessons_to_leave_out(submission: NotebookNode, key: AnswerKey) -> set[int]:
    """Indices (in ``submission.cells``) of the unchanged lesson cells nothing graded needs."""
    indices, cells = [], []
    for index, cell in enumerate(submission.cells):
        if cell.get("cell_type") != "code" or CHECK_TAG in notebook.tags(cell):
            continue
        gid = notebook.grade_id(cell)
        source = key.tests[gid].source if gid in key.tests else cell.get("source", "")
        lesson = gid not in key.tests and not notebook.is_answer_cell(cell) and \
            source in key.lesson
        indices.append(index)
        cells.append((source, lesson))
    cells += [(t.source, False) for gid, t in key.tests.items()]  # tests the student deleted
    return {indices[i] for i in cut.lessons_to_leave_out(cells) if i < len(indices)}


def assemble(submission: NotebookNode, key: AnswerKey, *, whole: bool = True,
             judged: bool = False) -> _Plan:
    """The notebook that is run: the student's code cells, every test cell from the key, and
    the grader's guard cells around each test.  Unless ``whole``, the lesson cells nothing
    graded needs are left out (:mod:`autograder.cut`)."""
    leave_out = set() if whole else _lessons_to_leave_out(submission, key)
    present = {notebook.grade_id(c) for c in submission.cells} & set(key.tests)
    missing = [gid for gid in key.tests if gid not in present]
    notes = [f"test cell {gid} was missing and has been put back" for gid in missing]
    after_answer: dict[str | None, list[str]] = {}
    for gid in missing:
        after_answer.setdefault(key.tests[gid].answer_id, []).append(gid)

    plan = _Plan(nbformat.v4.new_notebook(), [], {}, notes, judged=judged)
    plan.nb.metadata = copy.deepcopy(key.instructor.metadata)

    def add(cell: NotebookNode, role: str) -> None:
        if judged:
            plan.nb.cells.append(cell)
            plan.roles.append(role)
            return
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

    # judged: the first cell installs the exchange; otherwise the guard's snapshot, filled in
    # below once every guard is known
    snapshot = nbformat.v4.new_code_cell(judge.student_setup_source() if judged else "")
    plan.nb.cells.append(snapshot)
    plan.roles.append("grader")
    used: set[str] = set()
    for index, cell in enumerate(submission.cells):
        if index in leave_out:
            plan.left_out.append(cell.get("source", ""))
            continue
        if CHECK_TAG in notebook.tags(cell):  # "Check my notebook": for students, not graded
            continue
        gid = notebook.grade_id(cell)
        if gid in key.tests:
            if gid in used:
                notes.append(f"a second copy of test cell {gid} was ignored")
                continue
            used.add(gid)
            add(_key_test_cell(key, gid, judged=judged), "test")
            continue
        if cell.get("cell_type") != "code":
            continue
        plain = nbformat.v4.new_code_cell(cell.get("source", ""))
        plain.metadata = copy.deepcopy(cell.get("metadata", {}))
        add(plain, _role(cell))
        if notebook.is_answer_cell(cell) and gid in after_answer:
            for restored in after_answer.pop(gid):
                add(_key_test_cell(key, restored, judged=judged), "test")
    for leftovers in after_answer.values():
        for restored in leftovers:
            add(_key_test_cell(key, restored, judged=judged), "test")
    if judged:
        return plan
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
    if SNAPSHOT in run.cells and key_bytes is None and not plan.judged:
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
    notebook that runs, scan the student's code, run it, score the checks, decide."""
    started = time.monotonic()
    submitted, problem = read_submission(task)
    if submitted is None:
        return _not_graded(task, *problem, started)
    plan = assemble(submitted, task.key, whole=task.whole_notebook, judged=task.judge)
    findings = scan_student_code(plan, task.key) if not task.judge else []
    run = run_plan(plan, task)
    scored = score(plan, task.key, run, task.limits)
    sign = _cut_too_much(findings, task.key, scored) if plan.left_out else ""
    if sign:  # the safety net: the whole notebook, and its result is the one recorded
        plan = assemble(submitted, task.key, whole=True, judged=task.judge)
        plan.notes.append(f"graded with the whole notebook: with lessons left out, {sign}")
        run = run_plan(plan, task)
        scored = score(plan, task.key, run, task.limits)
    return decide(task, plan, run, scored, findings, time.monotonic() - started)


MISSING_NAME = re.compile(r"name '(?P<name>\w+)' is not defined")


def _cut_too_much(findings: list[str], key: AnswerKey, scored: _Scored) -> str:
    """A sign that a run with lesson cells left out may differ from the whole notebook, in
    words (empty if none): a finding, an ``AttributeError`` or ``KeyError``, or a ``NameError``
    for a name that is not an answer's (a missing answer raises one in the whole notebook too)
    in student or test code."""
    if findings or scored.findings:
        return "the scan or a guard found something"
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


def scan_student_code(plan: _Plan, key: AnswerKey) -> list[str]:
    """The static scan's findings.  Lesson cells the student left as released are the course's
    code, not the student's: not scanned, but the modules they import count."""
    code = [(c.source, r) for c, r in zip(plan.nb.cells, plan.roles, strict=True)
            if r in ("answer", "other")]
    return scan.scan_cells([s for s, r in code if r == "answer" or s not in key.lesson],
                           context=[s for s, r in code if r == "other" and s in key.lesson]
                           + plan.left_out)


def run_plan(plan: _Plan, task: GradingTask) -> RunReport:
    """Run the assembled notebook in a sandboxed kernel, in a folder holding the assets."""
    # Only the instructor's imports are preloaded: the server is shared by later submissions.
    server = warm_server(task.limits.sandbox, warm.preload_modules(task.key.instructor),
                         KERNEL_ENV)
    roles = dict(enumerate(plan.roles))
    tests = {i for i, r in roles.items() if r == "test"}
    with warm.folder(server) as workdir, warm.folder(server) as judge_dir:
        for folder in (workdir, judge_dir) if plan.judged else (workdir,):
            for name, data in task.assets.items():
                (folder / name).write_bytes(data)
        return run_notebook(plan.nb, workdir=workdir, limits=task.limits, server=server,
                            uncapped={i for i, r in roles.items() if r == "grader"},
                            unrecorded={i for i, r in roles.items() if r in ("grader", "test")},
                            checks=tests, judged=tests if plan.judged else set(),
                            judge_workdir=judge_dir if plan.judged else None)


def decide(task: GradingTask, plan: _Plan, run: RunReport, scored: _Scored,
           findings: list[str], seconds: float) -> SubmissionResult:
    """The submission's record: its score, or 0 and a flag when either layer found tampering
    (the notes keep what it scores if an instructor clears it)."""
    findings = sorted(set(findings + scored.findings))
    notes = [*plan.notes, *_stop_notes(plan, run, task.limits)]
    if plan.left_out:
        notes.append(f"{len(plan.left_out)} lesson cells nothing graded needs were not run")
    earned = sum(o.points for o in scored.outcomes)
    status, detail, total, cleared = run.status, run.detail, earned, None
    if findings:
        status, detail, total, cleared = Status.FLAGGED, "; ".join(findings), 0.0, earned
        notes.append(f"scores {earned:g} if cleared on review")
    answers = tuple((notebook.grade_id(c) or "", c.source)
                    for c, r in zip(plan.nb.cells, plan.roles, strict=True) if r == "answer")
    return SubmissionResult(
        task.student_id, task.key.chapter.name, total, task.key.max_score, status,
        tuple(scored.outcomes), tuple(notes), tuple(findings), tuple(scored.errors),
        tuple(scored.warned), task.filename, seconds, detail=detail, cleared_score=cleared,
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
                     whole_notebook: bool = False, judge: bool = False) -> SubmissionResult:
    """Grade one submission (the bytes of its .ipynb file) against the chapter's answer key.
    No process is left running when it returns (the warm-kernel server it started included)."""
    try:
        return run_task(GradingTask(student_id, submission, key or AnswerKey.load(chapter),
                                    chapter_assets(chapter), limits,
                                    whole_notebook=whole_notebook, judge=judge))
    finally:
        warm.close_server()


# --- a class ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassResult:
    chapter: Chapter
    results: tuple[SubmissionResult, ...]
    reused: int = 0  # submissions whose record came from the results folder's cache


def key_digest(chapter: Chapter, assets: Mapping[str, bytes]) -> str:
    """A digest of what a submission is graded against: the instructor notebook and assets."""
    h = hashlib.sha256(chapter.instructor_notebook.read_bytes())
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
            run_in_pool(run_task, tasks, workers=workers, scratch=scratch, done=done)
    return ClassResult(chapter, tuple(results[i] for i in range(total)), reused)
