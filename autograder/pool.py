"""A pool of worker processes that grade submissions, and what happens when the grader is stopped.

Workers are started with ``spawn`` (a clean interpreter: no inherited TensorFlow state or
threads).  They take their kernels from the warm-kernel server the caller hands them
(:mod:`autograder.isolation.warm`), or each starts its own, in a scratch folder the caller
owns.  Whatever way the grader ends, no worker or kernel outlives it:

* Ctrl-C reaches the grader alone (workers start with SIGINT ignored and in their own session);
  the grader then kills every worker at once, not after its current task;
* if the grader is killed, each worker is killed by the kernel (``PR_SET_PDEATHSIG``), and its
  sandboxed kernel dies with it; a server the grader started ends with the grader (bubblewrap's
  ``--die-with-parent``), and every kernel forked from it with that.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager as ContextManager
from multiprocessing import get_context
from typing import TypeVar

from autograder.isolation import warm

Task = TypeVar("Task")
Result = TypeVar("Result")


def _end_with_grader(grader_pid: int, scratch: str, server: warm.Handover | None) -> None:
    """Worker initializer: end this worker when the grader itself is killed, take kernels from
    the grader's warm-kernel ``server`` if there is one, and keep the files of any server of its
    own in ``scratch``, which the grader removes even when it has to kill the worker."""
    warm.SCRATCH = scratch
    if server is not None:
        warm.adopt(server)
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
def _workers_start_deaf_to_ctrl_c() -> Iterator[None]:
    """Workers start while this is open (``submit`` spawns them); they inherit an ignored
    SIGINT, so a Ctrl-C that lands while one is still starting up prints no traceback from it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_in_pool(work: Callable[[Task], Result], tasks: Mapping[int, Task], *, workers: int,
                scratch: str, done: Callable[[int, Result], None],
                server: Callable[[], ContextManager[warm.Handover | None]] | None = None) -> None:
    """Run ``work`` on every task, ``workers`` processes at a time, calling ``done(index,
    result)`` in this process as each one finishes.  ``work`` must be importable by name.
    ``server()``, if given, is entered before the workers start and left after they end: the
    warm-kernel server it gives (if any) is every worker's."""
    with (server or contextlib.nullcontext)() as shared:
        _run(work, tasks, workers=workers, scratch=scratch, done=done, server=shared)


def _run(work: Callable[[Task], Result], tasks: Mapping[int, Task], *, workers: int,
         scratch: str, done: Callable[[int, Result], None],
         server: warm.Handover | None) -> None:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_end_with_grader,
                               initargs=(os.getpid(), scratch, server))
    try:
        with _workers_start_deaf_to_ctrl_c():
            futures = {pool.submit(work, task): index for index, task in tasks.items()}
        for future in as_completed(futures):
            done(futures[future], future.result())
    except BaseException:  # Ctrl-C, or a bug: stop the workers now, not after their task
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()  # its kernel dies with it
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
