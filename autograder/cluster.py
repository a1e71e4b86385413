"""Grading on a Dask cluster: the same grading tasks, run by ``dask.distributed`` workers.

``python -m autograder grade ... --cluster <scheduler address>`` sends each submission's
:class:`~autograder.grade.GradingTask` to an existing cluster instead of the local pool
(:mod:`autograder.pool`).  Nothing relies on a shared file system:

* what every task shares (the answer key, the chapter's assets, the limits) is sent once, as a
  task of its own that the workers fetch from each other (and that the scheduler makes again if
  every copy dies with its worker); each task carries only its submission's bytes and names;
* the result comes back as the same :class:`~autograder.results.SubmissionResult` a local run
  makes, and the caller keeps it (records, cache) exactly as it does for a local run.

Each worker process grades one submission at a time, with its own warm-kernel server, inside the
same bubblewrap sandbox as local grading; a worker without a working bubblewrap refuses the task
(the run stops with that worker's one-line error) rather than grade unsandboxed.  A task whose
worker dies is retried on another worker by the scheduler; after ``allowed-failures`` deaths
(Dask's setting, 3 by default) the submission gets the status "crashed every worker" and the run
goes on.  A task's result is delivered once, however many times it ran.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from autograder.answer_key import AnswerKey
from autograder.errors import CourseError
from autograder.execute import Limits
from autograder.results import Outcome, Status, SubmissionResult, TestOutcome

_one_at_a_time = threading.Lock()  # a worker's warm server grades one submission at a time
_closing_registered: list[bool] = []


@dataclass(frozen=True)
class Shared:
    """What every grading task of a class needs, sent to each worker once."""

    key: AnswerKey
    assets: Mapping[str, bytes]
    limits: Limits
    other_chapters: Mapping[str, frozenset[str]]
    whole_notebook: bool


@dataclass(frozen=True)
class Own:
    """What one task carries: its submission."""

    student_id: str
    submission: bytes
    filename: str


def grade_on_worker(shared: Shared, own: Own) -> SubmissionResult:
    """Run on a worker: refuse without the sandbox, then grade as a local worker does."""
    from autograder.grade import GradingTask, run_task
    from autograder.isolation import warm
    from autograder.isolation.sandbox import require_sandbox

    require_sandbox(shared.limits.sandbox)  # CourseError: no bubblewrap on this worker
    with _one_at_a_time:
        if not _closing_registered:
            atexit.register(warm.close_server)  # the worker's warm server ends with it
            _closing_registered.append(True)
        return run_task(GradingTask(own.student_id, own.submission, shared.key, shared.assets,
                                    shared.limits, shared.other_chapters, own.filename,
                                    shared.whole_notebook))


def _connect(address: str, *, timeout: str = "20s"):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is a dependency of the course
        raise CourseError("--cluster needs dask.distributed (pip install distributed)") from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def check_reachable(address: str) -> None:
    """Fail with one line, before any grading starts, when no scheduler answers at ``address``."""
    _connect(address, timeout="10s").close()


def crashed(task, tries: str) -> SubmissionResult:
    """The record of a submission whose grading killed every worker it was sent to."""
    from autograder.grade import digest

    tests = tuple(TestOutcome(gid, t.title, 0.0, t.max_points, Outcome.NOT_RUN,
                              "not run: grading this submission ended its worker",
                              answer_id=t.answer_id or "")
                  for gid, t in task.key.tests.items())
    return SubmissionResult(task.student_id, task.key.chapter.name, 0.0, task.key.max_score,
                            Status.CRASHED_WORKERS, tests, filename=task.filename,
                            detail=f"its grading ended the worker process {tries}",
                            digest=digest(task.submission))


def run_on_cluster(tasks: Mapping[int, object], *, address: str,
                   done: Callable[[int, SubmissionResult], None],
                   work: Callable[[Shared, Own], SubmissionResult] = grade_on_worker) -> None:
    """Grade ``tasks`` (index -> GradingTask, all of one class) on the cluster at ``address``,
    calling ``done(index, result)`` here as each finishes, once per task.  ``work`` is what
    the workers run (the tests swap it for one that ends its worker)."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    if not tasks:
        return
    client = _connect(address)
    try:
        first = next(iter(tasks.values()))
        # Sent once, as a task of its own rather than scattered data: a worker that needs it
        # fetches it from another, and if every copy dies with its worker, the scheduler makes
        # it again (scattered data would be lost, and every task needing it cancelled).
        shared = client.submit(_same, Shared(first.key, first.assets, first.limits,
                                             first.other_chapters, first.whole_notebook),
                               pure=False, key="shared-class-files")
        futures = {client.submit(work, shared,
                                 Own(t.student_id, t.submission, t.filename),
                                 pure=False, key=f"grade-{index}-{t.student_id[:40]}"): index
                   for index, t in tasks.items()}
        delivered: set[int] = set()
        for future in as_completed(futures, loop=client.loop):
            index = futures[future]
            if index in delivered:
                continue
            try:
                result = future.result()
            except KilledWorker:
                allowed = client.run_on_scheduler(_allowed_failures)
                result = crashed(tasks[index], f"on {allowed + 1} tries")
            delivered.add(index)
            done(index, result)
    finally:
        client.close()


def _same(shared: Shared) -> Shared:
    return shared


def _allowed_failures(dask_scheduler) -> int:
    """Run on the scheduler (Dask passes it by this argument's name): its own setting."""
    return int(dask_scheduler.allowed_failures)
