"""Warm kernels: pay for importing TensorFlow once per grading process, not once per submission.

A fresh kernel spends about 5 s starting Python and importing the chapter's libraries before
the first line of student code runs; for a chapter 1 notebook that is a third of its run.  So
each grading process starts one *warm-kernel server* (:mod:`autograder.isolation.zygote`) in a
bubblewrap sandbox.  It imports the modules the chapter's instructor notebook imports - never
anything a submission names - and then forks one kernel per submission, which confines itself
further (own namespaces, fresh ``/tmp``, only its own folder writable, no capabilities, memory
cap) before any student code runs.  jupyter_client talks to it through a small relay process
(:mod:`autograder.isolation.relay`) that it starts as if it were the kernel.  The three speak the
words of :mod:`autograder.isolation.protocol`; the server and the relay run as scripts, without
the ``autograder`` package, so each finds ``protocol.py`` next to itself.

Where the operating system does not allow the extra confinement (nested user namespaces), the
server says so at start-up and grading falls back to one bubblewrap sandbox per submission.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from autograder.isolation import protocol

ALWAYS = ("IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "matplotlib.pyplot")
# Scripts, run without the autograder package: each loads protocol.py from its own folder.
ZYGOTE = Path(__file__).with_name("zygote.py")  # copied to the server's folder, run there
RELAY = Path(__file__).with_name("relay.py")  # run from here, as ``python -I -S``
PROTOCOL = Path(protocol.__file__)


def preload_modules(nb: NotebookNode) -> tuple[str, ...]:
    """Every module the notebook's code cells import at top level, in order, plus what every
    kernel imports; cells that are not valid Python (magics) are skipped."""
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return tuple(dict.fromkeys([*found, *ALWAYS]))


def kernel_home(workdir: Path) -> dict[str, str]:
    """The environment variables that point a submission's kernel at its own folder."""
    return {"HOME": str(workdir), "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"),
            "TMPDIR": "/tmp"}


def ipc_folder(workdir: Path) -> Path:
    """Where the kernel of ``workdir`` (made by :func:`folder`) keeps its connection file and
    ipc sockets: beside its working folder, which the kernel sees as a tmpfs of its own."""
    return workdir.parent / "ipc"


@dataclass
class WarmServer:
    """One running warm-kernel server and the folder it shares with the grader.  A process
    that started it holds ``process`` and ends it; a pool worker that was handed it by its
    grader (:func:`adopt`) holds only its ``pid`` and never ends it."""

    key: tuple
    process: subprocess.Popen | None
    stage: Path
    log: Path | None
    limits: dict[str, int]  # the kernel's limits, as protocol.REQUEST_* keys
    pid: int = 0

    @property
    def socket_path(self) -> Path:
        return self.stage / protocol.SOCKET_NAME

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        try:  # another process's child: running, and not yet a zombie
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def kernel_command(self, workdir: Path, connection_file: str) -> list[str]:
        """The command jupyter_client runs in place of a kernel for ``workdir``."""
        request = {protocol.REQUEST_WORKDIR: str(workdir),
                   protocol.REQUEST_IPC: str(ipc_folder(workdir)),
                   protocol.REQUEST_CONNECTION_FILE: connection_file,
                   **self.limits, protocol.REQUEST_ENV: kernel_home(workdir)}
        return [sys.executable, "-I", "-S", str(RELAY), str(self.socket_path),
                json.dumps(request)]

    def close(self) -> None:
        if self.process is None:  # handed over by the grader, which ends it
            return
        if self.alive():
            self.process.kill()  # bubblewrap's init dies with it, and every kernel with that
            self.process.wait()
        shutil.rmtree(self.stage, ignore_errors=True)
        if self.log is not None:
            self.log.unlink(missing_ok=True)


@dataclass(frozen=True)
class Handover:
    """What a grading worker needs to take its kernels from a server its grader started."""

    key: tuple
    pid: int
    stage: str
    limits: tuple[tuple[str, int], ...]


def handover(server: WarmServer) -> Handover:
    assert server.process is not None, "only the process that started a server hands it over"
    return Handover(server.key, server.process.pid, str(server.stage),
                    tuple(sorted(server.limits.items())))


def adopt(given: Handover) -> None:
    """Make ``given`` this process's server: :func:`server_for` returns it while it runs (and
    its settings are asked for), and starts one of this process's own if it has ended."""
    global _server
    _server = WarmServer(given.key, None, Path(given.stage), None, dict(given.limits),
                         pid=given.pid)


# Where servers keep their files (None: the system's temporary folder).  A grading run points it
# at a folder of its own, which it removes even when it has to kill its workers.
SCRATCH: str | None = None
_server: WarmServer | None = None
_unsupported: dict[tuple, str] = {}


def server_for(sandbox_prefix: Callable[[Path], list[str]], limits: dict[str, int],
               modules: Iterable[str], env: dict[str, str], *,
               ready_timeout: float) -> WarmServer | None:
    """This process's warm-kernel server for these settings, started on first use (and
    replaced when they change); ``None`` where warm kernels cannot be confined here (the
    reason is printed once).  ``sandbox_prefix`` gives the bubblewrap command for a folder,
    ``limits`` what each kernel sets on itself (``protocol.REQUEST_*`` keys); a server that is
    not ready ``ready_timeout`` seconds after its start is given up."""
    global _server
    key = server_key(limits, modules, env)
    if key in _unsupported:
        return None
    if _server is not None and _server.key == key and _server.alive():
        return _server
    if _server is not None:
        _server.close()
        _server = None
    server, reason = start_server(key, sandbox_prefix, limits, list(modules), env,
                                  ready_timeout=ready_timeout)
    if server is None:
        _unsupported[key] = reason
        print(f"note: warm kernels are not available here ({reason}); every submission starts "
              "its own kernel, which is slower", file=sys.stderr)
        return None
    _server = server
    return server


def server_key(limits: dict[str, int], modules: Iterable[str], env: dict[str, str]) -> tuple:
    """What makes two servers interchangeable: the kernels' limits, the preloaded modules and
    the environment."""
    return tuple(sorted(limits.items())), tuple(modules), tuple(sorted(env.items()))


def close_server() -> None:
    """End this process's warm-kernel server, if it has one (the next grading starts another)."""
    global _server
    if _server is not None:
        _server.close()
        _server = None


def start_server(key: tuple, sandbox_prefix: Callable[[Path], list[str]],
                 limits: dict[str, int], modules: list[str], env: dict[str, str], *,
                 ready_timeout: float,
                 scratch: str | None = None) -> tuple[WarmServer | None, str]:
    """A new warm-kernel server (the caller closes it), or ``None`` and the reason; one that
    has not said it is ready within ``ready_timeout`` seconds counts as not started.  Its files
    go in ``scratch`` (by default :data:`SCRATCH`)."""
    scratch = scratch or SCRATCH
    stage = Path(tempfile.mkdtemp(prefix="autograder-warm-", dir=scratch))
    handle, log_name = tempfile.mkstemp(prefix="autograder-warm-", suffix=".log", dir=scratch)
    log = Path(log_name)
    script = stage / "server.py"  # the sandbox sees the stage, not the course repository
    shutil.copyfile(ZYGOTE, script)
    shutil.copyfile(PROTOCOL, stage / PROTOCOL.name)  # the server loads it from its folder
    command = sandbox_prefix(stage) + [sys.executable, str(script), str(stage), *modules]
    with os.fdopen(handle, "wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=stderr, env={**os.environ, **env})
    server = WarmServer(key, process, stage, log, dict(limits))
    line = _first_line(process, ready_timeout)
    if line == protocol.READY:
        atexit.register(server.close)
        return server, ""
    server.close()
    word, reason = protocol.parse(line)
    if word == protocol.UNSUPPORTED:
        return None, reason
    return None, "the server did not start" + (f": {line}" if line else "")


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        return ""
    return process.stdout.readline().decode(errors="replace").strip()


@contextlib.contextmanager
def folder(server: WarmServer | None):
    """A fresh, empty working folder for one submission, with its :func:`ipc_folder` beside it:
    inside the server's shared folder when there is a server, otherwise in an ordinary
    temporary folder.  Removed afterwards."""
    parent = str(server.stage) if server else None
    with tempfile.TemporaryDirectory(prefix="grade-", dir=parent) as tmp:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        ipc_folder(workdir).mkdir()
        yield workdir
