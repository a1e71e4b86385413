"""The warm-kernel server, run *inside* a bubblewrap sandbox (see :mod:`.warm`).

It imports the chapter's libraries once (TensorFlow alone takes seconds), then serves kernel
requests on a unix socket: for each one it forks a child that confines itself further and becomes
an IPython kernel with everything already imported.  Each kernel gets

* its own user, mount, pid, network, IPC and UTS namespaces (it is pid 1 of its namespace, so
  every process it starts dies with it);
* a fresh, empty ``/tmp`` and ``/dev/shm`` and its own working folder (at the path the grader
  uses, holding copies of the files the grader put there), each a tmpfs of a fixed size, and
  nothing else writable; the server's folder (its socket, other submissions' folders) is hidden
  under the fresh ``/tmp``.  Its ipc folder (connection file and sockets) is bound from the
  grader's side only until the kernel has bound its sockets, then unmounted by the monitor
  before any cell runs;
* no capabilities at all (bounding set dropped, so not even after ``execve``), no new
  privileges, an address-space cap, a file-size cap, and a ``pid_max`` for its own pid
  namespace, set while it still holds its capabilities.  Inside its user namespace the kernel
  is never uid 0 (a grader running as root is mapped to ``nobody``), so nothing it runs later
  may raise that limit again;
* a server and monitor it cannot inspect: both are non-dumpable, so ``/proc/<pid>/mem``, ``fd``
  and ``root`` are closed to it.

The grader copies this file, with ``protocol.py`` next to it, into the server's folder and the
sandbox's own Python runs it as a script; it must not import the ``autograder`` package (the
course repository is not visible in the sandbox).  It speaks with the grader and with the relay
(:mod:`autograder.isolation.relay`) in the words of :mod:`autograder.isolation.protocol`: one
JSON request line per connection, answered by ``started`` and, when the kernel ends,
``exit <status>``; ``signal <n>`` from the relay is passed on to the kernel, and a closed
connection kills it.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import re
import select
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NAME = 1, 4, 15
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
O_PATH = 0o10000000
MNT_DETACH = 2
NOBODY = 65534  # the uid and gid a grader running as root has inside a kernel's user namespace
# Process names (as in /proc/<pid>/comm), so that tests and people can tell the three apart.
SERVER_NAME, MONITOR_NAME, KERNEL_NAME = "ag-zygote", "ag-monitor", "ag-kernel"

libc = ctypes.CDLL(None, use_errno=True)


def _load_protocol():
    """``protocol.py`` from this script's folder, by path: the package is not importable here."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol.py")
    spec = importlib.util.spec_from_file_location("autograder_isolation_protocol", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocol = _load_protocol()


class Refused(Exception):
    """A confinement step the kernel (of the OS) refused."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise Refused(f"{what}: {os.strerror(err)}")


def _name(name: str) -> None:
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_all_capabilities() -> None:
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop the capability bounding set")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    _check(libc.capset(ctypes.byref(header), (_CapData * 2)()), "capset")
    status = open("/proc/self/status").read()
    for field in ("CapEff", "CapPrm", "CapBnd"):
        value = next(line.split()[1] for line in status.splitlines() if line.startswith(field))
        if int(value, 16):
            raise Refused(f"{field} is still {value}")


def _enter_namespaces() -> None:
    """In the monitor: a new user namespace mapping this user to itself (root to ``nobody``:
    uid 0 inside may rewrite its pid namespace's ``pid_max``), and the rest."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
                        | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write(f"{uid or NOBODY} {uid} 1")
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid or NOBODY} {gid} 1")


def _mount_points_below(top: str) -> list[str]:
    """Mount points strictly below ``top`` (the sandbox's read-only binds, such as a virtual
    environment that lives under /tmp), parents first."""
    points = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
            if point.startswith(top.rstrip("/") + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: (p.count("/"), p))


def _copy_files(source_fd: int, target: str) -> None:
    """The plain files of the folder open as ``source_fd`` (the assets), into ``target``."""
    for name in os.listdir(source_fd):
        try:
            source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=source_fd)
        except OSError:
            continue  # not a plain file
        with os.fdopen(source, "rb") as src, open(os.path.join(target, name), "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)


def _set_pid_max(processes: int) -> None:
    """Allow this pid namespace ``processes`` tasks at once (pids 1 .. pid_max - 1)."""
    try:
        with open("/proc/sys/kernel/pid_max", "w") as handle:
            handle.write(str(processes + 1))
    except OSError as err:  # Linux before 6.14 has one pid_max for the whole machine
        raise Refused(f"limit the kernel's processes (pid_max of its namespace): {err}") from err


def _confine(request: dict, stage: str) -> None:
    """In the kernel (pid 1 of the new namespaces): the file system, the process limit, then
    the privileges."""
    workdir, ipc = request[protocol.REQUEST_WORKDIR], request.get(protocol.REQUEST_IPC)
    sized = f",size={int(request[protocol.REQUEST_SCRATCH_BYTES])}" \
        if protocol.REQUEST_SCRATCH_BYTES in request else ""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # A fresh /tmp hides the server's (its socket, other submissions' folders); what the sandbox
    # bound read-only below /tmp (Python itself, when it lives there) is bound again on top.
    rebind = [(point, os.open(point, O_PATH | os.O_DIRECTORY))
              for point in _mount_points_below("/tmp")
              if point != stage and not point.startswith(stage + "/")]
    assets = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
    keep_ipc = os.open(ipc, O_PATH | os.O_DIRECTORY) if ipc else None
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" + sized)
    if not (stage + "/").startswith("/tmp/"):
        _mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    for point, fd in rebind:  # a bind of a read-only mount is read-only too
        os.makedirs(point, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        os.close(fd)
    os.makedirs(workdir, exist_ok=True)
    _mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=700" + sized)
    _copy_files(assets, workdir)
    os.close(assets)
    if keep_ipc is not None:
        os.makedirs(ipc, exist_ok=True)
        _mount(f"/proc/self/fd/{keep_ipc}", ipc, None, MS_BIND)
        os.close(keep_ipc)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" + sized)
    os.makedirs(os.environ.get("MPLCONFIGDIR", "/tmp/matplotlib"), exist_ok=True)
    _set_pid_max(int(request.get(protocol.REQUEST_PROCESSES, 1024)))
    _drop_all_capabilities()


def _cap(resource_id: int, value: int) -> None:
    import resource
    hard = resource.getrlimit(resource_id)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource_id, (value, value))


def _kernel(request: dict, stage: str, sockets_bound: int, ipc_gone: int) -> None:
    """Become the kernel; never returns.  Once its sockets are bound it writes a byte to
    ``sockets_bound`` and waits for one on ``ipc_gone`` (see :func:`_monitor`)."""
    status = 1
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _name(KERNEL_NAME)
        workdir = request[protocol.REQUEST_WORKDIR]
        _confine(request, stage)
        os.setsid()
        import resource
        _cap(resource.RLIMIT_AS, int(request[protocol.REQUEST_MEMORY_BYTES]))
        if protocol.REQUEST_FILE_BYTES in request:
            _cap(resource.RLIMIT_FSIZE, int(request[protocol.REQUEST_FILE_BYTES]))
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        devnull = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir(workdir)
        os.environ.pop("JPY_PARENT_PID", None)
        os.environ.update(request.get(protocol.REQUEST_ENV, {}))
        if request.get(protocol.REQUEST_PROBE):
            status = 0
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from ipykernel.kernelapp import IPKernelApp
        app = IPKernelApp.instance()
        app.initialize(["-f", request[protocol.REQUEST_CONNECTION_FILE]])
        os.write(sockets_bound, b"1")  # no student code has run yet: it runs once app starts
        if os.read(ipc_gone, 1) != b"1":
            raise Refused("the monitor did not unmount the ipc folder")
        os.close(sockets_bound)
        os.close(ipc_gone)
        app.start()
        status = 0
    except SystemExit as stop:
        status = 0 if stop.code is None else stop.code if isinstance(stop.code, int) else 1
    except BaseException as err:  # noqa: BLE001 - reported to the monitor as an exit status
        try:
            os.write(2, f"kernel set-up failed: {err}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(status)


def _monitor(conn: socket.socket, stage: str) -> None:
    """In a forked child of the server: start one kernel and relay its life; never returns."""
    try:
        _name(MONITOR_NAME)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        lines = _Lines(conn)
        request = json.loads(lines.next() or b"{}")
        try:
            _enter_namespaces()
        except (Refused, OSError) as err:
            conn.sendall(protocol.line(protocol.REFUSED, err))
            return
        bound_r, bound_w = os.pipe()
        gone_r, gone_w = os.pipe()
        kernel = os.fork()
        if kernel == 0:
            conn.close()
            os.close(bound_r)
            os.close(gone_w)
            _kernel(request, stage, bound_w, gone_r)
        os.close(bound_w)
        os.close(gone_r)
        ended = False
        try:
            conn.sendall(protocol.line(protocol.STARTED))
            ended = _relay(conn, lines, kernel, _IpcSeal(request.get(protocol.REQUEST_IPC),
                                                         bound_r, gone_w))
        finally:  # whatever happened here, the kernel does not outlive its monitor
            if not ended:
                os.kill(kernel, signal.SIGKILL)
    finally:
        os._exit(0)


class _Lines:
    """Lines from a socket, unbuffered beyond what has arrived (so select() stays truthful)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.buffer = conn, b""

    def pending(self) -> bool:
        return b"\n" in self.buffer

    def next(self) -> bytes:
        """The next line, or b"" once the other end has closed."""
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(4096)
            if not chunk:
                return b""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"


class _IpcSeal:
    """The monitor's half of the ipc hand-over: when the kernel says its sockets are bound,
    unmount its ipc folder (in the mount namespace the two share), then tell it to go on.  The
    grader still reaches the sockets from its side; the kernel no longer sees the folder."""

    def __init__(self, ipc: str | None, bound: int, gone: int) -> None:
        self.ipc, self.bound, self.gone = ipc, bound, gone

    def done(self) -> None:
        if os.read(self.bound, 1) == b"1":
            if self.ipc:
                _check(libc.umount2(self.ipc.encode(), MNT_DETACH), f"unmount {self.ipc}")
            os.write(self.gone, b"1")
        self.close()

    def close(self) -> None:
        for fd in (self.bound, self.gone):
            try:
                os.close(fd)
            except OSError:
                pass
        self.bound = -1


def _relay(conn: socket.socket, lines: _Lines, kernel: int, seal: _IpcSeal) -> bool:
    """Until the kernel ends (report its status; True) or the relay goes (False)."""
    pidfd = os.pidfd_open(kernel)
    try:
        while True:
            waiting = [seal.bound] if seal.bound >= 0 else []
            ready = [conn] if lines.pending() else \
                select.select([conn, pidfd, *waiting], [], [])[0]
            if seal.bound in ready:
                seal.done()
                continue
            if pidfd in ready:
                _, wait_status = os.waitpid(kernel, 0)
                try:
                    conn.sendall(protocol.line(protocol.EXIT,
                                               os.waitstatus_to_exitcode(wait_status)))
                except OSError:
                    pass
                return True
            line = lines.next()
            if not line:  # the relay is gone: so is the kernel, and all it started
                return False
            word, argument = protocol.parse(line)
            if word == protocol.SIGNAL:
                os.kill(kernel, int(argument))
    finally:
        os.close(pidfd)
        seal.close()


def _serve(server: socket.socket, stage: str) -> None:
    while True:
        conn, _ = server.accept()
        while True:  # reap finished monitors
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        child = os.fork()
        if child == 0:
            server.close()
            _monitor(conn, stage)
        conn.close()


def _probe(stage: str) -> str:
    """Confine one child as a kernel would be (without starting a kernel): '' or why not."""
    probe_dir = os.path.join(stage, "probe")
    os.makedirs(probe_dir, exist_ok=True)
    left, right = socket.socketpair()
    child = os.fork()
    if child == 0:
        left.close()
        _monitor(right, stage)
    right.close()
    left.sendall(json.dumps({protocol.REQUEST_WORKDIR: probe_dir, protocol.REQUEST_PROBE: True,
                             protocol.REQUEST_MEMORY_BYTES: 1 << 40}).encode() + b"\n")
    answer = left.makefile("rb").read().decode(errors="replace")
    os.waitpid(child, 0)
    replies = [protocol.parse(reply) for reply in answer.splitlines()]
    if replies[:1] != [(protocol.STARTED, "")] or (protocol.EXIT, "0") not in replies:
        return answer.strip().replace("\n", "; ") or "the probe kernel did not start"
    return ""


def main() -> None:
    stage, modules = sys.argv[1], sys.argv[2:]
    if sys.path and sys.path[0] in ("", os.path.dirname(os.path.abspath(__file__))):
        del sys.path[0]  # as ipykernel_launcher does: nothing is imported from the folder
    _name(SERVER_NAME)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the kernel will import it (and report) itself
            pass
    server = socket.socket(socket.AF_UNIX)
    server.bind(os.path.join(stage, protocol.SOCKET_NAME))
    server.listen(16)
    reason = _probe(stage)
    print(f"{protocol.UNSUPPORTED} {reason}" if reason else protocol.READY, flush=True)
    if reason:
        return
    _serve(server, stage)


if __name__ == "__main__":
    main()
