"""Isolation for student code: each submission's kernel runs inside bubblewrap (``bwrap``).

Inside the sandbox the kernel sees a read-only system (``/usr``, ``/etc``, the Python install and
the virtual environment), an empty ``/tmp``, and one writable folder that holds only the
submission's working files. The course repository (``source/``, the answer key), other
submissions and the instructor's home are not there at all. It has no network (its own empty
network namespace) and an address-space cap (``prlimit --as``), so a memory bomb ends in a
``MemoryError`` instead of taking the machine down.  The grader talks to the kernel over
``ipc`` sockets in the working folder; the tests themselves live only in the grader's memory and
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
    warm: bool = True  # fork kernels from a server that has imported the libraries once
    warm_start_timeout: int = 300  # s the warm server may take to import the libraries and be ready

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * MB


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
           extra: list[str] = ()) -> list[str]:
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
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
    args += ["--bind", work, work, "--chdir", work, "--unsetenv", "JPY_PARENT_PID", *extra]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return args + ["prlimit", f"--as={policy.memory_bytes}", "--"]


def bwrap_command(workdir: Path, policy: SandboxPolicy) -> list[str]:
    """The command prefix that runs a program confined to ``workdir``."""
    return _bwrap(workdir, policy, warm.kernel_home(workdir))


def server_command(stage: Path, policy: SandboxPolicy, extra: list[str] = ()) -> list[str]:
    """The command prefix for the warm-kernel server (:mod:`autograder.isolation.warm`).  It
    outlives single submissions, so everything it shares with its kernels is read-only (``/``
    and ``/dev`` too); each kernel mounts its own ``/tmp`` and ``/dev/shm`` over the server's."""
    return _bwrap(stage, policy, {"HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
                                  "TMPDIR": "/tmp"},
                  [*extra, "--remount-ro", "/dev", "--remount-ro", "/"])


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
    connection_file = str(workdir / "kernel-connection.json")
    if server is not None:
        km: AsyncKernelManager = WarmKernelManager(kernel_name="python3", transport="ipc")
        km.relay_command = server.kernel_command(workdir, connection_file)
        km.ip = str(workdir / "kernel-ipc")
    elif policy.enabled:
        km = SandboxedKernelManager(kernel_name="python3", transport="ipc")
        km.sandbox_prefix = bwrap_command(workdir, policy)
        km.ip = str(workdir / "kernel-ipc")
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
    return warm.server_for(lambda stage: server_command(stage, policy), policy.memory_bytes,
                           modules, env, ready_timeout=policy.warm_start_timeout)
