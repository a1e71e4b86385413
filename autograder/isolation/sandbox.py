"""Isolation for student code: each submission's kernel runs inside bubblewrap (``bwrap``).

Inside the sandbox the kernel sees a read-only system (``/usr``, ``/etc``, the Python install and
the virtual environment), an empty ``/tmp`` and ``/dev/shm``, and one writable folder that holds
only the submission's working files, each a tmpfs of :attr:`SandboxPolicy.scratch_mb`. The course
repository (``source/``, the answer key), other submissions and the instructor's home are not
there at all. It has no network (its own empty network namespace), an address-space cap
(``prlimit --as``), so a memory bomb ends in a ``MemoryError`` instead of taking the machine
down, a file-size cap and a process cap.  The grader talks to the kernel over ``ipc`` sockets in
a folder beside the working folder; the tests themselves live only in the grader's memory and
reach the kernel one cell at a time.

By default the kernel is not started from scratch: it is forked from a warm-kernel server that
runs in a sandbox built the same way and confines each kernel further
(:mod:`autograder.isolation.warm`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from autograder.errors import CourseError
from autograder.isolation import warm
from autograder.isolation.warm import WarmServer

SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
# The megabyte of every ``*_mb`` limit, here and in :class:`autograder.execute.Limits`: 2^20
# bytes, as ``prlimit`` and ``free -m`` count.
MB = 1024 * 1024
INSTALL_HINT = (
    "bubblewrap (bwrap) is needed to isolate student code: install it with "
    "`apt-get install bubblewrap`, or pass --no-sandbox to grade without isolation "
    "(only for your own test runs, never for a real class)"
)


@dataclass(frozen=True)
class SandboxPolicy:
    """How a submission's kernel is confined.  Sizes in :data:`MB`, times in seconds (importing
    TensorFlow in the warm server on a busy 2-core machine can take 20 s)."""

    enabled: bool = True
    memory_mb: int = 4096  # MB address-space cap; TensorFlow needs about 2 GB to train small models
    # MB that each of /tmp, /dev/shm and the working folder can hold.  All three are tmpfs, so
    # what a submission writes there is memory too: at most memory_mb + 3 * scratch_mb in all.
    scratch_mb: int = 512
    file_mb: int = 256  # MB of the largest file the kernel may write (RLIMIT_FSIZE)
    # Processes and threads (each takes a pid) the kernel and everything it starts may hold at
    # once: a warm kernel's own pid namespace allows no more.  TensorFlow starts about 2 threads
    # per core.  At least 300 (the smallest pid_max Linux accepts is 301).
    processes: int = 1024
    warm: bool = True  # fork kernels from a server that has imported the libraries once
    warm_start_timeout: int = 300  # s the warm server may take to import the libraries and be ready

    def __post_init__(self) -> None:
        if self.processes < 300:
            raise CourseError(f"the process limit must be at least 300, not {self.processes}")

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * MB

    @property
    def kernel_limits(self) -> dict[str, int]:
        """The limits a warm kernel sets on itself, in the words of its request."""
        return {warm.protocol.REQUEST_MEMORY_BYTES: self.memory_bytes,
                warm.protocol.REQUEST_SCRATCH_BYTES: self.scratch_mb * MB,
                warm.protocol.REQUEST_FILE_BYTES: self.file_mb * MB,
                warm.protocol.REQUEST_PROCESSES: self.processes}


def _python_roots() -> list[str]:
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    return sorted(roots)


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can create a sandbox on this machine."""
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"],
        capture_output=True, timeout=30,
    )
    return probe.returncode == 0


def require_sandbox(policy: SandboxPolicy) -> None:
    if policy.enabled and not bwrap_works():
        raise CourseError(INSTALL_HINT)


def _bwrap(writable: Path, policy: SandboxPolicy, env: dict[str, str],
           extra: list[str] = (), *, scratch: bool = False) -> list[str]:
    """bubblewrap's arguments; ``scratch``: size /tmp and /dev/shm to the policy's
    ``scratch_mb`` (the warm server's own /tmp is not: each kernel mounts its own)."""
    size = ["--size", str(policy.scratch_mb * MB)]
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all",
            "--proc", "/proc", "--dev", "/dev",
            *([*size, "--tmpfs", "/dev/shm", *size] if scratch else []), "--tmpfs", "/tmp"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for root in _python_roots():
        args += ["--ro-bind", root, root]
    work = str(writable)
    # ipykernel's parent poller reads the grader's pid, which means nothing in the sandbox's own
    # pid namespace; --die-with-parent does that job instead.
    args += [*extra, "--chdir", work, "--unsetenv", "JPY_PARENT_PID"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return args + ["prlimit", f"--as={policy.memory_bytes}"]


def bwrap_command(workdir: Path, policy: SandboxPolicy) -> list[str]:
    """The command prefix that runs a kernel confined to ``workdir`` from scratch (the cold
    path): the folder is a tmpfs of its own holding read-only copies of the files the grader
    put there, beside its ipc folder (:func:`warm.ipc_folder`).  The process limit here is
    ``RLIMIT_NPROC``, which Linux does not apply to a grader running as root; the ipc folder
    stays writable (each file within ``file_mb``).  Warm kernels have neither gap."""
    work, ipc = str(workdir), str(warm.ipc_folder(workdir))
    binds = ["--size", str(policy.scratch_mb * MB), "--tmpfs", work]
    for asset in sorted(workdir.iterdir()):
        binds += ["--ro-bind", str(asset), str(asset)]
    binds += ["--bind", ipc, ipc]
    return _bwrap(workdir, policy, warm.kernel_home(workdir), binds, scratch=True) + [
        f"--fsize={policy.file_mb * MB}", f"--nproc={policy.processes}", "--"]


def server_command(stage: Path, policy: SandboxPolicy, extra: list[str] = ()) -> list[str]:
    """The command prefix for the warm-kernel server (:mod:`autograder.isolation.warm`).  It
    outlives single submissions, so everything it shares with its kernels is read-only (``/``
    and ``/dev`` too); each kernel mounts its own ``/tmp`` and ``/dev/shm`` over the server's."""
    stage_dir = str(stage)
    return _bwrap(stage, policy, {"HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
                                  "TMPDIR": "/tmp"},
                  ["--bind", stage_dir, stage_dir, *extra, "--remount-ro", "/dev",
                   "--remount-ro", "/"]) + ["--"]


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside :func:`bwrap_command`'s sandbox."""

    sandbox_prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return self.sandbox_prefix + super().format_kernel_cmd(extra_arguments)

    @property
    def kernel_spec(self):  # noqa: D102
        # A signal would reach bubblewrap (which would end), not the kernel inside it: interrupt
        # with a message on the control channel instead, which ipykernel turns into a SIGINT
        # to itself.
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
        return spec


class WarmKernelManager(AsyncKernelManager):
    """A kernel manager whose "kernel process" is the relay to a warm-kernel server."""

    relay_command: list[str] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return list(self.relay_command)


def kernel_manager(workdir: Path, policy: SandboxPolicy,
                   server: WarmServer | None = None) -> AsyncKernelManager:
    """A kernel manager for one submission, talking over ipc sockets in ``workdir``; its kernel
    comes from ``server`` when given, else from a sandbox of its own."""
    ipc = warm.ipc_folder(workdir)
    connection_file = str(ipc / "kernel-connection.json")
    if server is not None:
        km: AsyncKernelManager = WarmKernelManager(kernel_name="python3", transport="ipc")
        km.relay_command = server.kernel_command(workdir, connection_file)
        km.ip = str(ipc / "kernel")
    elif policy.enabled:
        km = SandboxedKernelManager(kernel_name="python3", transport="ipc")
        km.sandbox_prefix = bwrap_command(workdir, policy)
        km.ip = str(ipc / "kernel")
    else:
        km = AsyncKernelManager(kernel_name="python3")
    km.connection_file = connection_file
    return km


def warm_server(policy: SandboxPolicy, modules: tuple[str, ...],
                env: dict[str, str]) -> WarmServer | None:
    """This process's warm-kernel server for ``policy``, or ``None`` when the policy does not
    want one or this machine cannot confine its kernels."""
    if not (policy.enabled and policy.warm):
        return None
    return warm.server_for(lambda stage: server_command(stage, policy), policy.kernel_limits,
                           modules, env, ready_timeout=policy.warm_start_timeout)


def shared_warm_server(policy: SandboxPolicy, modules: tuple[str, ...], env: dict[str, str], *,
                       scratch: str) -> WarmServer | None:
    """A warm-kernel server that several grading processes take their kernels from (see
    :func:`autograder.isolation.warm.adopt`); the caller ends it.  ``None`` when the policy
    does not want one or it did not start (each process then goes on as :func:`warm_server`
    says)."""
    if not (policy.enabled and policy.warm):
        return None
    server, _ = warm.start_server(warm.server_key(policy.kernel_limits, modules, env),
                                  lambda stage: server_command(stage, policy),
                                  policy.kernel_limits, list(modules), env,
                                  ready_timeout=policy.warm_start_timeout, scratch=scratch)
    return server
