"""Stands in for a kernel process on the grader's side (see :mod:`autograder.isolation.warm`).

jupyter_client starts this script as if it were the kernel.  It asks the warm-kernel server for
a kernel, passes Ctrl-C style interrupts on to it, and exits with the kernel's exit status.  When
jupyter_client kills it, the server's monitor sees the connection close and kills the kernel.
The words it exchanges with the server are those of :mod:`autograder.isolation.protocol`.

Run as ``python -I -S relay.py <socket> <request-json>``: standard library only, so it starts in
a few tens of milliseconds.  The ``autograder`` package is not importable then (and ``-I`` keeps
this script's own folder off ``sys.path``), so it loads ``protocol.py`` from its folder by path.
"""

import importlib.util
import os
import signal
import socket
import sys


def _load_protocol():
    """``protocol.py`` from this script's folder, by path: the package is not importable here."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol.py")
    spec = importlib.util.spec_from_file_location("autograder_isolation_protocol", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocol = _load_protocol()


def main() -> int:
    path, request = sys.argv[1], sys.argv[2]
    conn = socket.socket(socket.AF_UNIX)
    try:
        conn.connect(path)
        conn.sendall(request.encode() + b"\n")
    except OSError as err:
        print(f"relay: the warm-kernel server is not reachable: {err}", file=sys.stderr)
        return 1

    def forward(signum, _frame):
        try:
            conn.sendall(protocol.line(protocol.SIGNAL, signum))
        except OSError:
            pass

    signal.signal(signal.SIGINT, forward)
    for line in conn.makefile("rb"):
        word, argument = protocol.parse(line)
        if word == protocol.EXIT:
            return int(argument)
        if word == protocol.REFUSED:
            print(f"relay: {protocol.REFUSED} {argument}", file=sys.stderr)
            return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
