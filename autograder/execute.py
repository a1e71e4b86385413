"""Running one assembled notebook: a kernel in the sandbox, time limits and an output cap."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from autograder.sandbox import SandboxPolicy, kernel_manager
from autograder.warm import WarmServer

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
    """What one submission may use.  The defaults are documented in the README."""

    cell_timeout: int = 300  # s; nbgrader's 30 s default is too short for training cells
    notebook_timeout: int = 900  # s for the whole notebook
    output_bytes: int = 2_000_000  # all outputs together; the rest is dropped
    sandbox: SandboxPolicy = SandboxPolicy()


class CappedClient(NotebookClient):
    """A notebook client that stops recording outputs past a byte budget (errors are kept)."""

    def __init__(self, nb: NotebookNode, *, output_bytes: int, uncapped: set[int],
                 **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.uncapped = uncapped
        self.output_budget = output_bytes
        self.output_used = 0
        self.output_capped = False

    def output(self, outs, msg, display_id, cell_index):  # noqa: D102 - nbclient's hook
        if msg["msg_type"] != "error" and cell_index not in self.uncapped:
            self.output_used += len(json.dumps(msg.get("content", {}), default=str))
            if self.output_used > self.output_budget:
                if not self.output_capped:
                    self.output_capped = True
                    outs.append(nbformat.v4.new_output(
                        "stream", name="stdout", text="[output capped by the grader]\n"))
                return None
        return super().output(outs, msg, display_id, cell_index)


@dataclass(frozen=True)
class RunReport:
    status: str  # "complete", or why the run stopped early
    output_capped: bool


def run_notebook(nb: NotebookNode, *, workdir: Path, limits: Limits,
                 uncapped: frozenset[int] | set[int] = frozenset(),
                 server: WarmServer | None = None) -> RunReport:
    """Execute ``nb`` in place in a fresh kernel confined to ``workdir`` (forked by ``server``
    when given, see :mod:`autograder.warm`); the outputs of the cells in ``uncapped`` (the
    grader's own) do not count against the output cap."""
    deadline = time.monotonic() + limits.notebook_timeout
    hit_notebook_limit = False

    def timeout_for(cell: NotebookNode) -> int:
        nonlocal hit_notebook_limit
        remaining = int(deadline - time.monotonic())
        if remaining < limits.cell_timeout:
            hit_notebook_limit = True
        return max(1, min(limits.cell_timeout, remaining))

    client = CappedClient(
        nb,
        output_bytes=limits.output_bytes,
        uncapped=set(uncapped),
        km=kernel_manager(workdir, limits.sandbox, server),
        timeout_func=timeout_for,
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        startup_timeout=120,
        # The kernel is killed as soon as the last cell has run: it has nothing to save, and a
        # grader that left it idle would hold about 750 MB per graded submission.
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(workdir)}},
    )
    env = {**os.environ, **KERNEL_ENV}
    status = "complete"
    try:
        # The kernel's own stderr (start-up logs) would interleave with the progress bar;
        # everything the notebook prints still reaches the cells' outputs.
        # cleanup_kc: the client shuts down the kernel of a manager it was handed, too.
        client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cleanup_kc=True)
    except CellTimeoutError:
        status = (f"timeout: the notebook ran longer than {limits.notebook_timeout} s"
                  if hit_notebook_limit else
                  f"timeout: a cell ran longer than {limits.cell_timeout} s")
    except DeadKernelError:
        status = "kernel died: the notebook crashed or ended the Python process"
    except RuntimeError as err:  # a kernel that never came up
        status = f"kernel died: {err}"
    return RunReport(status, client.output_capped)
