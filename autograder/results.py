"""The records grading produces, and the typed words they use.

Two levels, each decided in one place:

* how one cell of the graded notebook ended (:class:`CellEnd`, :class:`Stop`, :class:`CellRun`),
  recorded by :mod:`autograder.execute` from the kernel's own reply to that cell;
* what one graded item earned (:class:`Outcome`, :class:`TestOutcome`), decided by
  :func:`outcome_of` from that record.  A test cell earns its points only when the kernel
  replied that it ran to its end and raised nothing; a cell cut off by a time limit, a dead
  kernel, a cap or an interrupt has no error output either, and earns nothing.

Only the functions here turn a stop into words, so a warm kernel, a cold one or a later
cluster worker all give the same feedback for the same event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from autograder.messages import NOT_ANSWERED


class CellEnd(StrEnum):
    """How the kernel's reply says a cell ended."""

    COMPLETED = "completed"  # status "ok": ran to its end, raised nothing
    RAISED = "raised"  # status "error": an exception ended it
    STOPPED = "stopped"  # cut off by the grader or the kernel's end; see :class:`Stop`


class Stop(StrEnum):
    """Why a cell, or the rest of a notebook, was cut off."""

    CELL_TIME = "cell time limit"
    NOTEBOOK_TIME = "notebook time limit"
    KERNEL_ENDED = "kernel ended"
    KERNEL_STOPPED = "kernel stopped"  # the grader ended a kernel that ignored an interrupt
    OUTPUT_CAP = "output cap"
    MEMORY_CAP = "memory cap"
    DISK_CAP = "disk cap"  # /tmp, /dev/shm or the working folder is full
    FILE_CAP = "file size cap"
    PROCESS_CAP = "process cap"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class CellRun:
    """How one executed cell ended.  A cell with no record did not run."""

    end: CellEnd
    stop: Stop | None = None
    ename: str = ""
    evalue: str = ""

    @property
    def completed(self) -> bool:
        return self.end is CellEnd.COMPLETED


@dataclass(frozen=True)
class LimitsInWords:
    """The numbers the stop messages quote (taken from the grading limits)."""

    cell_timeout: int
    notebook_timeout: int
    output_mb: int
    memory_mb: int
    scratch_mb: int
    file_mb: int
    processes: int


def stopped_because(stop: Stop, limits: LimitsInWords) -> str:
    """Why a check was stopped, in the words the student's feedback uses."""
    return {
        Stop.CELL_TIME: f"stopped after {limits.cell_timeout} s: this check did not finish "
                        "within the time limit for one cell",
        Stop.NOTEBOOK_TIME: "stopped: the notebook reached its time limit of "
                            f"{limits.notebook_timeout} s during this check",
        Stop.KERNEL_ENDED: "stopped: the kernel ended during this check",
        Stop.KERNEL_STOPPED: f"stopped after {limits.cell_timeout} s: this check did not "
                             "finish and did not stop when interrupted, so its kernel was ended",
        Stop.OUTPUT_CAP: f"stopped: this check wrote more than {limits.output_mb} MB of output",
        Stop.MEMORY_CAP: f"stopped: this check ran out of memory (the cap is "
                         f"{limits.memory_mb} MB)",
        Stop.DISK_CAP: f"stopped: this check wrote more than {limits.scratch_mb} MB to its "
                       "folder, /tmp or /dev/shm",
        Stop.FILE_CAP: f"stopped: this check wrote a file larger than {limits.file_mb} MB",
        Stop.PROCESS_CAP: f"stopped: this check started more than {limits.processes} "
                          "processes and threads",
        Stop.INTERRUPTED: "stopped: this check was interrupted",
    }[stop]


ERRNO_STOPS = {28: Stop.DISK_CAP, 27: Stop.FILE_CAP, 11: Stop.PROCESS_CAP}  # ENOSPC, EFBIG, EAGAIN


def stop_of_error(ename: str, evalue: str) -> Stop | None:
    """The limit a cell's error says it ran into, if any: ``MemoryError``; ``OSError`` (or a
    subclass) with the errno of a full tmpfs, of a file past the size cap, or of a fork past
    the process cap; a thread that could not start.  Only the words of a stop are taken from
    it, never text: the limits themselves hold whatever the student's code raises."""
    if ename == "MemoryError":
        return Stop.MEMORY_CAP
    if ename == "KeyboardInterrupt":
        return Stop.INTERRUPTED
    if ename == "RuntimeError" and evalue.startswith("can't start new thread"):
        return Stop.PROCESS_CAP
    if ename.endswith("Error") and evalue.startswith("[Errno "):
        number = evalue[len("[Errno "):].partition("]")[0]
        return ERRNO_STOPS.get(int(number)) if number.isdigit() else None
    return None


def not_run_because(stop: Stop | None) -> str:
    """Why a check never ran, in the words the student's feedback uses."""
    return {
        None: "not run",
        Stop.NOTEBOOK_TIME: "not run: the notebook reached its time limit before this check",
        Stop.KERNEL_ENDED: "not run: the kernel had ended before this check",
        Stop.KERNEL_STOPPED: "not run: the kernel had been ended before this check",
    }.get(stop, "not run")


class Outcome(StrEnum):
    """What one graded item came to."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ANSWERED = "not answered"  # failed, and its answer cell is still the released stub
    STOPPED = "stopped"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class TestOutcome:
    """What one graded test cell earned."""

    __test__ = False  # a record, not a pytest class

    grade_id: str
    title: str
    points: float
    max_points: float
    outcome: Outcome
    message: str = ""  # why it did not pass, in words; never test code
    # The same, where a hidden assertion's own message says more (shown only when the
    # chapter's feedback policy allows; see :mod:`autograder.feedback`).
    hidden_message: str = ""
    answer_id: str = ""  # the answer cell this test checks

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


def outcome_of(run: CellRun | None, *, ended_early: Stop | None, limits: LimitsInWords,
                 failure: str, answered: bool = True) -> tuple[Outcome, str]:
    """The outcome of one test cell from the record of how it ran (``None``: it never ran;
    ``ended_early``: why the notebook stopped before its end, if it did).  ``failure`` is the
    message for a check that raised; ``answered`` is false when its answer cell still holds the
    released stub."""
    if run is None:
        return Outcome.NOT_RUN, not_run_because(ended_early)
    if run.end is CellEnd.STOPPED:
        return Outcome.STOPPED, stopped_because(run.stop or Stop.INTERRUPTED, limits)
    if run.end is CellEnd.RAISED:
        return (Outcome.FAILED, failure) if answered else (Outcome.NOT_ANSWERED, NOT_ANSWERED)
    return Outcome.PASSED, ""



@dataclass(frozen=True)
class CellError:
    """An exception raised by a cell during grading (used by reports and the stub rule)."""

    index: int
    role: str  # "answer", "test" or "other"
    grade_id: str | None
    ename: str
    evalue: str


class Status(StrEnum):
    """What became of one submitted file.  Only the writers of grades.csv, the report and the
    feedback turn it into text (:func:`status_text`); no code reads a status from text."""

    GRADED = "graded"
    FLAGGED = "flagged for review"  # tampering found: scores 0 until an instructor clears it
    TIMEOUT = "timeout"  # a time limit stopped a cell or the notebook
    KERNEL_DIED = "kernel died"  # the kernel ended before the notebook did
    UNREADABLE = "unreadable"  # empty, not UTF-8, not a notebook
    WRONG_CHAPTER = "wrong chapter"
    DUPLICATE = "duplicate"  # a student's older file; the newest is graded
    NOT_NOTEBOOK = "skipped"  # not an .ipynb file
    REFUSED = "refused"  # a symbolic link, never followed
    TOO_LARGE = "too large"
    CRASHED_WORKERS = "crashed every worker"  # on a cluster, after the bounded retries


#: Statuses of submissions that ran but were cut short, which a person should look at.
STOPPED = frozenset({Status.TIMEOUT, Status.KERNEL_DIED, Status.CRASHED_WORKERS})
#: Statuses of files that never ran.
NOT_RUN = frozenset({Status.UNREADABLE, Status.WRONG_CHAPTER, Status.DUPLICATE,
                     Status.NOT_NOTEBOOK, Status.REFUSED, Status.TOO_LARGE})


def status_text(status: Status, detail: str = "") -> str:
    """A status in words, as grades.csv and the report print it."""
    return f"{status.value}: {detail}" if detail else status.value


FLAGGED_FOR_STUDENT = "flagged for review: an instructor will look at this submission"


def student_status(status: Status, detail: str = "") -> str:
    """A status as its student reads it: a flagged submission's findings can name the student's
    own variables, so the page says only that a person will look."""
    return FLAGGED_FOR_STUDENT if status is Status.FLAGGED else status_text(status, detail)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything grading found out about one submission (a record: :mod:`autograder.records`
    writes it as JSON and reads it back unchanged)."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: Status
    tests: tuple[TestOutcome, ...] = ()
    notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    errors: tuple[CellError, ...] = field(default=(), repr=False)
    warned: tuple[str, ...] = ()  # test cells that wrote to stderr (warnings); not penalised
    filename: str = ""
    seconds: float = field(default=0.0, compare=False)
    detail: str = ""  # what the status alone does not say ("the notebook ran longer than 900 s")
    cleared_score: float | None = None  # a flagged submission's score if an instructor clears it
    digest: str = ""  # SHA-256 of the submitted file's bytes (which submission a decision is on)
    answers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (answer id, source)
    submitted_at: str = ""  # ISO 8601, from the LMS's timestamps or the zip entry; "" unknown
    late_marker: bool = False  # the LMS's file name says LATE

    @property
    def ok(self) -> bool:
        return self.status is Status.GRADED

    @property
    def status_text(self) -> str:
        return status_text(self.status, self.detail)
