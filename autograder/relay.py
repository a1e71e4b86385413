"""Stands in for a kernel process on the grader's side (see :mod:`autograder.warm`).

jupyter_client starts this script as if it were the kernel.  It asks the warm-kernel server for
a kernel, passes Ctrl-C style interrupts on to it, and exits with the kernel's exit status.  When
jupyter_client kills it, the server's monitor sees the connection close and kills the kernel.

Run as ``python -I -S relay.py <socket> <request-json>``: standard library only, so it starts in
a few tens of milliseconds.
"""

import signal
import socket
import sys


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
            conn.sendall(b"signal %d\n" % signum)
        except OSError:
            pass

    signal.signal(signal.SIGINT, forward)
    for line in conn.makefile("rb"):
        if line.startswith(b"exit "):
            return int(line.split()[1])
        if line.startswith(b"refused"):
            print(f"relay: {line.decode().strip()}", file=sys.stderr)
            return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
