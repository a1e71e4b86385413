"""Grading: one submission is one self-contained task; a class is many of them.

``grade_submission`` takes a submission's bytes and a chapter's answer key and returns a
:class:`SubmissionResult`; it shares no state with other submissions, so a class can be graded
by a pool of worker processes with the same grades as a serial run.

How a submission is graded:

1. It is read as a notebook (anything else gets a row with a clear status and no points).
2. Its test cells are replaced by the answer key's (hidden tests included); a missing test
   cell is put back after the answer it checks.  Outputs are cleared.
3. It runs top to bottom in a fresh kernel, in an empty temporary folder.
4. A test cell earns its points when it ran and raised nothing.  What a cell writes to stderr
   does not matter: TensorFlow and Keras write warnings there, and a correct answer must not
   lose points to a library warning (stock nbgrader scores such a cell 0).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.course import Chapter

DEFAULT_CELL_TIMEOUT = 300  # seconds; nbgrader's 30 s default is too short for training cells
KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
}
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class TestOutcome:
    """What one graded test cell earned."""

    grade_id: str
    title: str
    points: float
    max_points: float
    passed: bool
    message: str = ""  # the exception's type and message when it failed; never test code


@dataclass(frozen=True)
class CellError:
    """An exception raised by a cell during grading (used by reports and the stub rule)."""

    index: int
    role: str  # "answer", "test" or "other"
    grade_id: str | None
    ename: str
    evalue: str


@dataclass(frozen=True)
class SubmissionResult:
    student_id: str
    assignment: str
    score: float
    max_score: float
    status: str
    tests: tuple[TestOutcome, ...] = ()
    notes: tuple[str, ...] = ()
    errors: tuple[CellError, ...] = field(default=(), repr=False)
    warned: tuple[str, ...] = ()  # test cells that wrote to stderr (warnings); not penalised
    seconds: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "graded"


def _role(cell: NotebookNode) -> str:
    if notebook.is_test_cell(cell):
        return "test"
    if notebook.is_answer_cell(cell):
        return "answer"
    return "other"


def _test_cell(key_test, template: NotebookNode) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(key_test.source)
    cell.metadata = copy.deepcopy(template.metadata)
    return cell


def assemble(submission: NotebookNode, key: AnswerKey) -> tuple[NotebookNode, list[str]]:
    """The notebook that is run: the student's cells with every test cell taken from the key."""
    key_cells = {
        notebook.grade_id(c): c for c in key.instructor.cells if notebook.is_test_cell(c)
    }
    present = {notebook.grade_id(c) for c in submission.cells} & set(key.tests)
    missing = [gid for gid in key.tests if gid not in present]
    notes = [f"test cell {gid} was missing and has been put back" for gid in missing]
    after_answer: dict[str | None, list[str]] = {}
    for gid in missing:
        after_answer.setdefault(key.tests[gid].answer_id, []).append(gid)

    cells: list[NotebookNode] = []
    used: set[str] = set()
    for cell in submission.cells:
        gid = notebook.grade_id(cell)
        if gid in key.tests:
            if gid in used:
                notes.append(f"a second copy of test cell {gid} was ignored")
                continue
            used.add(gid)
            cells.append(_test_cell(key.tests[gid], key_cells[gid]))
            continue
        if cell.cell_type != "code":
            continue
        plain = nbformat.v4.new_code_cell(cell.source)
        plain.metadata = copy.deepcopy(cell.get("metadata", {}))
        cells.append(plain)
        if notebook.is_answer_cell(cell) and gid in after_answer:
            for restored in after_answer.pop(gid):
                cells.append(_test_cell(key.tests[restored], key_cells[restored]))
    for leftovers in after_answer.values():
        for restored in leftovers:
            cells.append(_test_cell(key.tests[restored], key_cells[restored]))
    graded = nbformat.v4.new_notebook(cells=cells)
    graded.metadata = copy.deepcopy(key.instructor.metadata)
    return graded, notes


def _first_error(cell: NotebookNode) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output
    return None


def _message(error: dict) -> str:
    text = f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _execute(nb: NotebookNode, *, workdir: Path, cell_timeout: int) -> str:
    """Run ``nb`` in place; return "graded", or why the run stopped early."""
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    env = {**os.environ, **KERNEL_ENV}
    try:
        # The kernel process's own stderr (start-up logs) would interleave with the progress
        # bar; everything the notebook prints still reaches the cells' outputs.
        client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except CellTimeoutError:
        return f"timeout: a cell ran longer than {cell_timeout} s"
    except DeadKernelError:
        return "kernel died: the notebook crashed or exited the Python process"
    return "graded"


def _wrote_stderr(cell: NotebookNode) -> bool:
    return any(o.get("output_type") == "stream" and o.get("name") == "stderr"
               for o in cell.get("outputs", []))


def score(nb: NotebookNode, key: AnswerKey) -> tuple[list[TestOutcome], list[CellError], list[str]]:
    """Points per test cell of an executed notebook, every error a cell raised, and the test
    cells that wrote to stderr."""
    outcomes: dict[str, TestOutcome] = {}
    errors: list[CellError] = []
    warned: list[str] = []
    for index, cell in enumerate(nb.cells):
        error = _first_error(cell)
        if error is not None:
            errors.append(
                CellError(index, _role(cell), notebook.grade_id(cell),
                          error.get("ename", ""), error.get("evalue", ""))
            )
        gid = notebook.grade_id(cell)
        if gid not in key.tests or gid in outcomes:
            continue
        test = key.tests[gid]
        if _wrote_stderr(cell):
            warned.append(gid)
        ran = cell.get("execution_count") is not None
        passed = ran and error is None
        message = "" if passed else (_message(error) if error else "not run")
        outcomes[gid] = TestOutcome(
            gid, test.title, test.max_points if passed else 0.0, test.max_points, passed, message
        )
    ordered = [
        outcomes.get(gid, TestOutcome(gid, t.title, 0.0, t.max_points, False, "not run"))
        for gid, t in key.tests.items()
    ]
    return ordered, errors, warned


def grade_submission(
    *,
    student_id: str,
    submission: bytes,
    chapter: Chapter,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    key: AnswerKey | None = None,
) -> SubmissionResult:
    """Grade one submission (the bytes of its .ipynb file) against the chapter's answer key."""
    key = key or AnswerKey.load(chapter)
    started = time.monotonic()

    def failed(status: str, notes: tuple[str, ...] = ()) -> SubmissionResult:
        tests = tuple(
            TestOutcome(gid, t.title, 0.0, t.max_points, False, "not graded")
            for gid, t in key.tests.items()
        )
        return SubmissionResult(student_id, chapter.name, 0.0, key.max_score, status, tests,
                                notes, seconds=time.monotonic() - started)

    if not submission.strip():
        return failed("unreadable: the file is empty")
    try:
        submitted = notebook.reads(submission)
    except UnicodeDecodeError:
        return failed("unreadable: the file is not UTF-8 text, so not a notebook")
    except Exception as err:  # nbformat raises several unrelated types for bad JSON
        return failed(f"unreadable: not a Jupyter notebook ({type(err).__name__})")

    graded, notes = assemble(submitted, key)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        workdir = Path(tmp)
        for asset in chapter.student_notebook.parent.glob("*"):
            if asset.is_file() and asset.suffix != ".ipynb":
                (workdir / asset.name).write_bytes(asset.read_bytes())
        status = _execute(graded, workdir=workdir, cell_timeout=cell_timeout)
    outcomes, errors, warned = score(graded, key)
    total = sum(o.points for o in outcomes)
    return SubmissionResult(
        student_id, chapter.name, total, key.max_score, status, tuple(outcomes),
        tuple(notes), tuple(errors), tuple(warned), time.monotonic() - started,
    )


# --- a class ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassResult:
    chapter: Chapter
    results: tuple[SubmissionResult, ...]


def _grade_file(path: str, chapter: Chapter, cell_timeout: int) -> SubmissionResult:
    return grade_submission(
        student_id=Path(path).stem,
        submission=Path(path).read_bytes(),
        chapter=chapter,
        cell_timeout=cell_timeout,
    )


def _not_a_notebook(path: Path, chapter: Chapter, key: AnswerKey) -> SubmissionResult:
    tests = tuple(
        TestOutcome(gid, t.title, 0.0, t.max_points, False, "not graded")
        for gid, t in key.tests.items()
    )
    return SubmissionResult(path.stem, chapter.name, 0.0, key.max_score,
                            f"skipped: {path.name} is not an .ipynb notebook", tests)


def grade_folder(
    *,
    chapter: Chapter,
    submissions: Path,
    workers: int | None = None,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    progress: Callable[[int, int, int], None] | None = None,
) -> ClassResult:
    """Grade every file in ``submissions`` (file stem = student id), ``workers`` at a time."""
    key = AnswerKey.load(chapter)
    files = sorted(p for p in submissions.iterdir() if p.is_file() and not p.name.startswith("."))
    results: dict[Path, SubmissionResult] = {}
    notebooks = []
    for path in files:
        if path.suffix == ".ipynb":
            notebooks.append(path)
        else:
            results[path] = _not_a_notebook(path, chapter, key)
    total, failures = len(files), sum(1 for r in results.values() if not r.ok)
    workers = max(1, min(workers or os.cpu_count() or 1, len(notebooks) or 1))
    if progress:
        progress(len(results), total, failures)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_grade_file, str(p), chapter, cell_timeout): p for p in notebooks}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            failures += not result.ok
            if progress:
                progress(len(results), total, failures)
    return ClassResult(chapter, tuple(results[p] for p in files))


def print_progress(done: int, total: int, failures: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    print(f"\rgrading [{bar}] {done}/{total} graded, {failures} not graded cleanly",
          end=end, file=sys.stderr, flush=True)
