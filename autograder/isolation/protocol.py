"""The words the grader, the warm-kernel server and the relay say to each other, defined once.

Three programs speak this protocol, and two of them cannot import the ``autograder`` package:

* the grader (:mod:`autograder.isolation.warm`) imports this module as usual;
* the warm-kernel server (:mod:`autograder.isolation.zygote`) runs inside the sandbox from a
  copy in the server's folder, and the relay (:mod:`autograder.isolation.relay`) runs as
  ``python -I -S``; both load the ``protocol.py`` that sits next to them by its path.

So this module uses the standard library only, and only what starts fast.

Start-up: the server prints one line on its standard output, :data:`READY`, or
:data:`UNSUPPORTED` followed by the reason it cannot confine kernels here.  It then listens on
the unix socket :data:`SOCKET_NAME` in its folder.

One connection per kernel, from the relay: a request, one JSON object on one line (the
``REQUEST_*`` keys)::

    {"workdir": ..., "ipc": ..., "connection_file": ..., "memory_bytes": ...,
     "scratch_bytes": ..., "file_bytes": ..., "processes": ..., "env": {...}}

answered by ``started`` (:data:`STARTED`) and, when the kernel ends, ``exit <status>``
(:data:`EXIT`), or by ``refused <reason>`` (:data:`REFUSED`) when the kernel could not be
confined.  ``signal <n>`` (:data:`SIGNAL`) from the relay is passed on to the kernel, and a
closed connection kills it.
"""

from __future__ import annotations

SOCKET_NAME = "zygote.sock"  # in the server's folder

# The server's first line on its standard output.
READY = "ready"
UNSUPPORTED = "unsupported"  # followed by the reason

# The request's keys.
REQUEST_WORKDIR = "workdir"  # the kernel's working folder, the only place it may write
REQUEST_CONNECTION_FILE = "connection_file"  # jupyter_client's connection file for the kernel
REQUEST_IPC = "ipc"  # the folder of the kernel's ipc sockets; unmounted once they are bound
REQUEST_MEMORY_BYTES = "memory_bytes"  # the kernel's address-space cap
REQUEST_SCRATCH_BYTES = "scratch_bytes"  # the size of each of /tmp, /dev/shm and the workdir
REQUEST_FILE_BYTES = "file_bytes"  # the largest file the kernel may write
REQUEST_PROCESSES = "processes"  # processes and threads the kernel's pid namespace may hold
REQUEST_ENV = "env"  # environment variables the kernel sets before it starts
REQUEST_PROBE = "probe"  # true: confine the child, then exit 0 instead of starting a kernel

# Lines on the connection: a word, and for some an argument after one space.
STARTED = "started"  # server -> relay: the kernel has been forked
EXIT = "exit"  # server -> relay: ``exit <status>``, the kernel's exit status
REFUSED = "refused"  # server -> relay: ``refused <reason>``, the kernel could not be confined
SIGNAL = "signal"  # relay -> server: ``signal <n>``, pass signal n on to the kernel


def line(word: str, argument: object = None) -> bytes:
    """One protocol line: ``word``, then `` argument`` when given, then a newline."""
    text = word if argument is None else f"{word} {argument}"
    return text.encode() + b"\n"


def parse(raw: bytes | str) -> tuple[str, str]:
    """A protocol line as (word, argument); the argument is ``""`` when there is none."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    word, _, argument = text.strip().partition(" ")
    return word, argument
