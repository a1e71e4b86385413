"""Running one assembled notebook: a kernel in the sandbox, time limits and an output cap, and
a record of how every cell ended."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import queue
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from autograder import exchange, judge
from autograder.isolation.sandbox import MB, SandboxPolicy, kernel_manager
from autograder.isolation.warm import WarmServer
from autograder.results import CellEnd, CellRun, LimitsInWords, Status, Stop, stop_of_error

KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
}


def run_plain(nb: NotebookNode, *, folder: Path, timeout: int = 600,
              allow_errors: bool = True, env: dict[str, str] | None = None) -> NotebookNode:
    """Execute ``nb`` in place in an ordinary (unsandboxed) kernel working in ``folder``, with
    the course's kernel environment plus ``env``; the kernel's own start-up logs are discarded.
    For the course's own notebooks (tests, benchmarks, stored outputs), never for submissions."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(folder)}}).execute(
        env={**os.environ, **KERNEL_ENV, **(env or {})}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    return nb


@dataclass(frozen=True)
class Limits:
    """What one submission may use: every time and size limit of a grading run (the sandbox's
    own in :class:`SandboxPolicy`).  Times in seconds, sizes in MB (one unit: :data:`MB`).  The
    defaults are documented in the README."""

    cell_timeout: int = 300  # s; nbgrader's 30 s default is too short for training cells
    notebook_timeout: int = 900  # s for the whole notebook
    output_mb: int = 2  # MB of output for one cell, and for all cells together
    interrupt_grace: int = 10  # s a stopped cell has to end after its interrupt
    kernel_start_timeout: int = 120  # s a kernel may take to start and answer the grader
    sandbox: SandboxPolicy = SandboxPolicy()

    def in_words(self) -> LimitsInWords:
        return LimitsInWords(self.cell_timeout, self.notebook_timeout, self.output_mb,
                             self.sandbox.memory_mb, self.sandbox.scratch_mb,
                             self.sandbox.file_mb, self.sandbox.processes)

    @property
    def output_bytes(self) -> int:
        return self.output_mb * MB


# After a cell the grader interrupted, the kernel idles this long before the next cell, so an
# interrupt that arrives late (the cell had just finished) lands while nothing runs, where
# ipykernel ignores it, instead of in the next cell.
SETTLE_AFTER_INTERRUPT = 1.0  # s


class _RunStopped(Exception):
    """Raised inside the client to end the whole run; ``stop`` says why."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.value)
        self.stop = stop


class GradingClient(NotebookClient):
    """A notebook client that records how every cell ended, from the kernel's reply to it.

    * A cell that passes the cell time limit is interrupted and recorded as stopped; the run
      goes on with the next cell.  A cell that does not end within ``interrupt_grace`` after
      its interrupt ends the run (the kernel is killed), and so does the notebook time limit.
    * A cell whose own output passes the output cap is recorded as stopped, however it ends.
      A check (a cell in ``checks``) is interrupted there, since it scores nothing whatever it
      does next; a student's own cell runs on (its output dropped), so that what it leaves
      behind is the same on every run.  Past the cap for the whole notebook, outputs are
      dropped (errors are kept).  The cells in ``uncapped`` (the grader's own) count against
      neither.
    * A kernel that dies stops the cell it was running and ends the run.
    * The cells in ``unrecorded`` (tests and the grader's own) run with ``store_history=False``:
      they never enter IPython's ``In``, ``Out``, ``_i<n>`` or history database, where student
      code that runs later could read them.
    """

    def __init__(self, nb: NotebookNode, *, limits: Limits, uncapped: set[int],
                 unrecorded: set[int] = frozenset(), checks: set[int] = frozenset(),
                 judged: set[int] = frozenset(), judge_km: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.judged = judged
        self.judge = _JudgeSide(judge_km) if judge_km is not None else None
        self._student: tuple[Any, Any] = (None, None)  # the student's (km, kc) during a test
        self._student_call: str | None = None  # the grader's request the student's kernel runs
        self._student_interrupted = False  # the student's kernel was interrupted during a test
        self._start_kwargs: dict[str, Any] = {}
        self.limits = limits
        self.uncapped = uncapped
        self.checks = checks
        self.unrecorded = unrecorded
        self.runs: dict[int, CellRun] = {}
        self.ended_early: Stop | None = None
        self.output_capped = False
        self.timed_out: set[int] = set()  # cells that met the cell time limit
        self.on_cell_executed = self._record
        self.timeout_func = self._timeout_for
        self._deadline = time.monotonic() + limits.notebook_timeout
        self._stopping: dict[int, Stop] = {}
        self._interrupted: set[int] = set()
        self._notebook_bound: set[int] = set()
        self._current = -1
        self._output_used = 0
        self._cell_output = 0
        self._tasks: set[asyncio.Future] = set()

    def _timeout_for(self, cell: NotebookNode) -> int:
        # The grader's own cells are not held to the student's cell limit: the first one imports
        # what the tests read, which in a cold kernel is part of starting it.
        limit = max(self.limits.cell_timeout, self.limits.kernel_start_timeout) \
            if self._current in self.uncapped else self.limits.cell_timeout
        remaining = int(self._deadline - time.monotonic())
        if remaining < limit:
            self._notebook_bound.add(self._current)
        return max(1, min(limit, remaining))

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int,
                                 execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        self._current, self._cell_output = cell_index, 0
        try:
            if cell_index in self.judged and self.judge is not None:
                return await self._judged_cell(cell, cell_index)
            return await super().async_execute_cell(
                cell, cell_index, execution_count,
                store_history and cell_index not in self.unrecorded)
        except DeadKernelError:
            self._end_run(cell_index, Stop.KERNEL_ENDED)
            raise
        except _RunStopped as stopped:
            self._end_run(cell_index, stopped.stop)
            raise
        finally:
            if cell_index in self._interrupted:
                await asyncio.sleep(SETTLE_AFTER_INTERRUPT)

    async def async_execute(self, reset_kc: bool = False, **kwargs: Any) -> NotebookNode:
        self._start_kwargs = kwargs
        try:
            return await super().async_execute(reset_kc=reset_kc, **kwargs)
        finally:
            if self.judge is not None:
                await self.judge.close()

    execute = run_sync(async_execute)  # nbclient's own wraps its own async_execute

    # --- the judge (see autograder.judge): test cells run in a kernel of their own ----------

    async def _judged_cell(self, cell: NotebookNode, index: int) -> NotebookNode:
        """Run a test cell in the judge's kernel, answering its questions from the student's."""
        assert self.judge is not None
        if self.judge.kc is None:
            await self.judge.start(self, {k: v for k, v in self._start_kwargs.items()
                                          if k in ("env", "stdout", "stderr")})
        student = (self.km, self.kc)
        self._student = student
        deadline = time.monotonic() + self._timeout_for(cell)
        self.km, self.kc = self.judge.km, self.judge.kc
        serving = asyncio.ensure_future(self._serve_judge(deadline))
        try:
            return await super().async_execute_cell(cell, index, None, False)
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await serving
            self.km, self.kc = student
            await self._settle_student(index)

    async def _serve_judge(self, deadline: float) -> None:
        assert self.judge is not None and self.judge.kc is not None
        while True:
            try:
                msg = await ensure_async(self.judge.kc.get_stdin_msg(timeout=0.05))
            except queue.Empty:
                continue
            if msg.get("msg_type") != "input_request":
                continue
            asked = judge.question(msg.get("content", {}).get("prompt", ""))
            self.judge.kc.input(await self._answer(asked, deadline))

    async def _answer(self, asked: dict, deadline: float) -> str:
        """The grader's reply to one of the judge's questions (see :mod:`autograder.judge`)."""
        request = judge.request_of(asked) if asked.get("op") == judge.CALL else None
        if asked.get("op") == judge.FETCH and isinstance(asked.get("names"), list):
            code = judge.export_source([str(n) for n in asked["names"]])
        elif request is not None and isinstance(asked.get("ref"), str):
            code = judge.call_source(asked["ref"], request,
                                     limit=self.limits.output_bytes)
        elif asked.get("op") == judge.SEED and type(asked.get("value")) is int:
            code = judge.seed_source(asked["value"])
        else:
            return judge.reply(None, "the grader did not understand the judge")
        data, why = await self._run_in_student(code, deadline)
        return judge.reply(data, why)

    async def _run_in_student(self, code: str, deadline: float) -> tuple[bytes | None, str]:
        """Run the grader's ``code`` in the student's kernel: the one crossing it sent, or
        ``None`` and why there is none.  What the student's code prints meanwhile reaches no
        page, and counts against the output cap as a check's own output does."""
        km, kc = self._student
        msg_id = kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        self._student_call = msg_id
        call = _StudentCall(msg_id)
        replied_at = None
        # Done when the kernel has replied (the reply holds the status) and said it is idle (its
        # outputs, the crossing among them, come before that); either may be read first.
        while replied_at is None or (not call.idle and time.monotonic() < replied_at + 5):
            if replied_at is None and time.monotonic() > deadline:
                return None, f"the notebook's code ran longer than {self.limits.cell_timeout} s"
            await self._take_outputs(call, wait=0 if replied_at is None else 0.02,
                                     stoppable=replied_at is None)
            if replied_at is not None:
                continue
            try:
                reply = await ensure_async(kc.get_shell_msg(timeout=0.05))
            except queue.Empty:
                if not await ensure_async(km.is_alive()):
                    return None, "the notebook's kernel ended"
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                replied_at, self._student_call = time.monotonic(), None
                call.status = reply.get("content", {}).get("status", "")
        return call.crossing()

    async def _take_outputs(self, call: _StudentCall, *, wait: float, stoppable: bool) -> None:
        """Read what the student's kernel has sent for ``call`` (waiting up to ``wait`` s for the
        first message).  At the output cap, stop the call at once: a flood read to its end first
        may never end (it can print faster than a busy grader reads), and what waits unread
        fills the kernel's memory until it dies."""
        km, kc = self._student
        with contextlib.suppress(queue.Empty):
            while True:
                call.take(await ensure_async(kc.get_iopub_msg(timeout=wait)))
                wait = 0
                if call.printed > self.limits.output_bytes:
                    await self._stop_flood(km, stoppable=stoppable)

    async def _stop_flood(self, km: Any, *, stoppable: bool) -> None:
        """The student's kernel passed the output cap during a check: the check is stopped,
        and the call still running is interrupted (once)."""
        if self._current in self._stopping:
            return
        self._stopping[self._current] = Stop.OUTPUT_CAP
        if stoppable:
            self._student_interrupted = True
            await ensure_async(km.interrupt_kernel())

    async def _settle_student(self, index: int) -> None:
        """After a test: a call still running in the student's kernel is interrupted and must
        end within the grace; a student's kernel that ended ends the run."""
        km, kc = self._student
        msg_id, self._student_call = self._student_call, None
        interrupted, self._student_interrupted = self._student_interrupted or msg_id, False
        if not await ensure_async(km.is_alive()):
            raise DeadKernelError("the notebook's kernel ended")
        if msg_id is not None:
            await ensure_async(km.interrupt_kernel())
            if await _reply_to(kc, msg_id, self.limits.interrupt_grace) is None:
                raise _RunStopped(Stop.KERNEL_STOPPED)
        if interrupted:  # a late interrupt lands while nothing runs, not in the next cell
            await asyncio.sleep(SETTLE_AFTER_INTERRUPT)
        if not await ensure_async(km.is_alive()):
            raise DeadKernelError("the notebook's kernel ended")

    def _end_run(self, index: int, stop: Stop) -> None:
        self.runs[index] = CellRun(CellEnd.STOPPED, self._stopping.get(index, stop))
        self.ended_early = stop

    async def _record(self, cell: NotebookNode, cell_index: int, execute_reply: dict) -> None:
        content = (execute_reply or {}).get("content", {})
        status, ename = content.get("status"), content.get("ename", "")
        stop = self._stopping.get(cell_index)
        if stop is None and status == "error":
            stop = stop_of_error(ename, content.get("evalue", ""))
        if stop is None and status not in ("ok", "error"):
            stop = Stop.INTERRUPTED  # "aborted": the kernel never ran it
        end = CellEnd.STOPPED if stop else (
            CellEnd.COMPLETED if status == "ok" else CellEnd.RAISED)
        self.runs[cell_index] = CellRun(end, stop, ename, content.get("evalue", ""))

    async def _interrupt(self, index: int) -> None:
        self._interrupted.add(index)
        assert self.km is not None
        await ensure_async(self.km.interrupt_kernel())
        if index in self.judged and self._student_call is not None:
            self._student_interrupted = True
            await ensure_async(self._student[0].interrupt_kernel())

    async def _async_handle_timeout(self, timeout: int,
                                    cell: NotebookNode | None = None) -> None:
        index = self._current
        if index in self._notebook_bound:
            raise _RunStopped(Stop.NOTEBOOK_TIME)
        self._stopping.setdefault(index, Stop.CELL_TIME)
        self.timed_out.add(index)
        await self._interrupt(index)
        # Wait for the reply the interrupt brings, leaving it on the channel for nbclient.
        assert self.kc is not None
        end = time.monotonic() + self.limits.interrupt_grace
        while time.monotonic() < end:
            if await ensure_async(self.kc.shell_channel.msg_ready()):
                return None
            await self._async_check_alive()
            await asyncio.sleep(0.1)
        raise _RunStopped(Stop.KERNEL_STOPPED)

    def output(self, outs, msg, display_id, cell_index):  # noqa: D102 - nbclient's hook
        if msg["msg_type"] != "error" and cell_index not in self.uncapped:
            size = len(json.dumps(msg.get("content", {}), default=str))
            self._output_used += size
            self._cell_output += size
            if self._cell_output > self.limits.output_bytes and cell_index not in self._stopping:
                self._stopping[cell_index] = Stop.OUTPUT_CAP
                if cell_index in self.checks:
                    task = asyncio.ensure_future(self._interrupt(cell_index))
                    self._tasks.add(task)  # a task nobody holds may be collected mid-way
                    task.add_done_callback(self._tasks.discard)
            if self._output_used > self.limits.output_bytes:
                if not self.output_capped:
                    self.output_capped = True
                    outs.append(nbformat.v4.new_output(
                        "stream", name="stdout", text="[output capped by the grader]\n"))
                return None
        return super().output(outs, msg, display_id, cell_index)


async def _reply_to(kc: Any, msg_id: str, seconds: float) -> dict | None:
    """The kernel's reply to the request ``msg_id`` within ``seconds``, or ``None``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            reply = await ensure_async(kc.get_shell_msg(timeout=0.1))
        except queue.Empty:
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return reply
    return None


class _StudentCall:
    """What one grader's request to the student's kernel sent back, read from its outputs."""

    def __init__(self, msg_id: str) -> None:
        self.msg_id = msg_id
        self.sent: list[str] = []  # the exchange's outputs (one, when all is well)
        self.printed = 0  # bytes of everything else the request printed
        self.idle = False  # the kernel said it is done with the request
        self.status = ""  # the reply's status

    def take(self, msg: dict) -> None:
        if msg.get("parent_header", {}).get("msg_id") != self.msg_id:
            return
        kind, content = msg.get("msg_type"), msg.get("content", {})
        if kind == "status" and content.get("execution_state") == "idle":
            self.idle = True
            return
        payload = content.get("data", {}).get(exchange.MIME) if kind == "display_data" else None
        if isinstance(payload, str):
            self.sent.append(payload)
        elif kind in ("stream", "display_data", "execute_result", "error"):
            self.printed += len(json.dumps(content, default=str))

    def crossing(self) -> tuple[bytes | None, str]:
        """The crossing sent, or ``None`` and why there is none."""
        if self.status != "ok" or len(self.sent) != 1:
            return None, exchange.UNREADABLE
        try:
            return base64.b64decode(self.sent[0], validate=True), ""
        except (binascii.Error, ValueError):
            return None, exchange.UNREADABLE


class _JudgeSide:
    """The judge's kernel of one run: started at the first test cell, ended with the run."""

    def __init__(self, km: Any) -> None:
        self.km = km
        self.kc: Any = None

    async def start(self, client: GradingClient, kwargs: dict) -> None:
        await ensure_async(self.km.start_kernel(**kwargs))
        self.kc = self.km.client()
        self.kc.start_channels()
        await ensure_async(self.kc.wait_for_ready(timeout=client.limits.kernel_start_timeout))
        self.kc.allow_stdin = True
        msg_id = self.kc.execute(judge.judge_setup_source(), store_history=False,
                                 allow_stdin=False)
        reply = await _reply_to(self.kc, msg_id, client.limits.kernel_start_timeout)
        if reply is None or reply.get("content", {}).get("status") != "ok":
            raise DeadKernelError("the judge did not start")

    async def close(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            await ensure_async(self.km.shutdown_kernel(now=True))


@dataclass(frozen=True)
class RunReport:
    """How a run went: its status (graded, a timeout or a dead kernel) and what the status
    alone does not say, and per cell index how that cell ended."""

    status: Status
    detail: str
    output_capped: bool
    cells: Mapping[int, CellRun] = field(default_factory=dict)
    ended_early: Stop | None = None  # why the cells after the last one recorded did not run


def _status(client: GradingClient, limits: Limits) -> tuple[Status, str]:
    if client.ended_early is Stop.NOTEBOOK_TIME:
        return Status.TIMEOUT, f"the notebook ran longer than {limits.notebook_timeout} s"
    if client.ended_early is Stop.KERNEL_STOPPED:
        return (Status.TIMEOUT, f"a cell ran longer than {limits.cell_timeout} s and did not "
                "stop when interrupted; its kernel was ended")
    if client.ended_early is Stop.KERNEL_ENDED:
        return Status.KERNEL_DIED, "the notebook crashed or ended the Python process"
    if client.timed_out:
        return (Status.TIMEOUT, f"a cell ran longer than {limits.cell_timeout} s; it was "
                "stopped and grading went on")
    return Status.GRADED, ""


def run_notebook(nb: NotebookNode, *, workdir: Path, limits: Limits,
                 uncapped: frozenset[int] | set[int] = frozenset(),
                 unrecorded: frozenset[int] | set[int] = frozenset(),
                 checks: frozenset[int] | set[int] = frozenset(),
                 judged: frozenset[int] | set[int] = frozenset(),
                 judge_workdir: Path | None = None,
                 server: WarmServer | None = None) -> RunReport:
    """Execute ``nb`` in place in a fresh kernel confined to ``workdir`` (forked by ``server``
    when given, see :mod:`autograder.isolation.warm`), recording how each cell ended (see
    :class:`GradingClient`); the outputs of the cells in ``uncapped`` (the grader's own) do not
    count against the output cap, the cells in ``unrecorded`` leave no trace in IPython's
    history, and the cells in ``checks`` are interrupted when they pass the output cap."""
    client = GradingClient(
        nb,
        limits=limits,
        uncapped=set(uncapped),
        unrecorded=set(unrecorded),
        checks=set(checks),
        judged=set(judged),
        judge_km=kernel_manager(judge_workdir, limits.sandbox, server) if judge_workdir else None,
        km=kernel_manager(workdir, limits.sandbox, server),
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        startup_timeout=limits.kernel_start_timeout,
        # The kernel is killed as soon as the last cell has run: it has nothing to save, and a
        # grader that left it idle would hold about 750 MB per graded submission.
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(workdir)}},
    )
    env = {**os.environ, **KERNEL_ENV}
    try:
        # The kernel's own stderr (start-up logs) would interleave with the progress bar;
        # everything the notebook prints still reaches the cells' outputs.
        # cleanup_kc: the client shuts down the kernel of a manager it was handed, too.
        client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cleanup_kc=True)
    except (_RunStopped, DeadKernelError):
        pass  # recorded by the client
    except RuntimeError as err:  # a kernel that never came up
        return RunReport(Status.KERNEL_DIED, str(err), client.output_capped,
                         dict(client.runs), Stop.KERNEL_ENDED)
    return RunReport(*_status(client, limits), client.output_capped, dict(client.runs),
                     client.ended_early)
