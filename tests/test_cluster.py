"""Grading on a Dask cluster (a LocalCluster of two worker processes): the same grades as local
workers, every submission delivered once when a worker is killed mid-run, a submission that
ends every worker it lands on gets a status that says so, and the run's progress is reported.

A subset of the hostile corpus is graded on this cluster too, and gets the grades the local pool
gave it (tests/test_corpus.py, ``test_cold_kernels_and_a_cluster_grade_as_the_pool_does``)."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from dataclasses import replace

import cloudpickle
import pytest

from autograder.cluster import Own, Shared, run_on_cluster
from autograder.course import get_chapter
from autograder.grade import GradingTask, chapter_assets, grade_folder
from autograder.results import Status

CHAPTER = get_chapter("ch01_keras_api")


def comparable(result):
    """A record without what may differ between two gradings of the same file."""
    return replace(result, seconds=0.0, errors=())


def test_the_cluster_grades_the_example_class_as_local_workers_do(graded, dask_cluster,
                                                                   tmp_path):
    local = graded[CHAPTER.name]
    seen: list[tuple[int, int, int]] = []
    remote = grade_folder(chapter=CHAPTER, submissions=local.folder,
                          cluster=dask_cluster.scheduler_address, cache=tmp_path,
                          progress=lambda *state: seen.append(state))
    assert [comparable(r) for r in remote.results] == [comparable(r) for r in local.result.results]
    total = len(local.result.results)
    assert seen[0] == (0, total, 0) and seen[-1][:2] == (total, total)
    assert [s[0] for s in seen] == list(range(total + 1))  # one step per submission
    # the cache works with a cluster as it does locally: a rerun grades nothing
    again = grade_folder(chapter=CHAPTER, submissions=local.folder,
                         cluster=dask_cluster.scheduler_address, cache=tmp_path, progress=None)
    assert again.reused == total and again.results == remote.results


def test_a_worker_killed_mid_run_loses_nothing_and_grades_once(graded, dask_cluster, tmp_path):
    local = graded[CHAPTER.name]
    for n in range(2):  # six submissions: two of each example
        for example in ("example-complete", "example-untouched", "example-partial"):
            shutil.copy(local.folder / f"{example}.ipynb", tmp_path / f"{example}-{n}.ipynb")
    expected = {r.student_id: r.score for r in local.result.results}
    client_pids = _worker_pids(dask_cluster)
    delivered: list[str] = []
    killed = threading.Event()

    def progress(done, total, failures):
        if done == 1 and not killed.is_set():  # the first result is in: others are running
            os.kill(client_pids[0], signal.SIGKILL)
            killed.set()

    result = grade_folder(chapter=CHAPTER, submissions=tmp_path,
                          cluster=dask_cluster.scheduler_address, progress=progress)
    delivered = [r.student_id for r in result.results]
    assert killed.is_set()
    assert sorted(delivered) == sorted(p.stem for p in tmp_path.glob("*.ipynb"))
    for r in result.results:
        assert r.status is Status.GRADED, r.status_text
        assert r.score == expected[r.student_id.rsplit("-", 1)[0]], r.student_id
    _wait_for_workers(dask_cluster, 2)


def _worker_pids(cluster) -> list[int]:
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        return sorted(client.run(os.getpid).values())


def _wait_for_workers(cluster, count: int) -> None:
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=120)


def ends_its_worker(shared: Shared, own: Own):
    """Stands in for grading: the worker process running it dies."""
    os._exit(1)


cloudpickle.register_pickle_by_value(sys.modules[__name__])


def test_a_submission_that_ends_every_worker_gets_a_status_and_the_run_goes_on(
        graded, dask_cluster):
    local = graded[CHAPTER.name]
    task = GradingTask("ends-workers", b"{}", local.key, chapter_assets(CHAPTER),
                       filename="ends-workers.ipynb")
    delivered = []
    run_on_cluster({0: task}, address=dask_cluster.scheduler_address,
                   done=lambda index, result: delivered.append(result), work=ends_its_worker)
    [result] = delivered
    assert result.status is Status.CRASHED_WORKERS and result.score == 0
    assert result.status_text == ("crashed every worker: its grading ended the worker process "
                                  "on 3 tries")
    _wait_for_workers(dask_cluster, 2)


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, capsys):
    from autograder.cli import main

    (tmp_path / "a.ipynb").write_text("{}")
    assert main(["grade", CHAPTER.name, str(tmp_path), "--out", str(tmp_path / "out"),
                 "--cluster", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert err.count("\n") == 1


def test_a_worker_without_bubblewrap_refuses(graded, dask_cluster):
    """A worker whose bubblewrap does not work raises the grader's one-line error instead of
    grading unsandboxed (simulated: the worker's check is made to fail)."""
    from distributed import Client

    from autograder.errors import CourseError

    def break_bwrap():  # in each worker process only
        from autograder.isolation import sandbox
        sandbox.real_bwrap_works = sandbox.bwrap_works
        sandbox.bwrap_works = lambda: False

    def mend_bwrap():
        from autograder.isolation import sandbox
        sandbox.bwrap_works = sandbox.real_bwrap_works

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        client.run(break_bwrap)
        try:
            local = graded[CHAPTER.name]
            task = GradingTask("x", (local.folder / "example-complete.ipynb").read_bytes(),
                               local.key, chapter_assets(CHAPTER), filename="x.ipynb")
            with pytest.raises(CourseError, match="bubblewrap"):
                run_on_cluster({0: task}, address=dask_cluster.scheduler_address,
                               done=lambda index, result: None)
        finally:
            client.run(mend_bwrap)
