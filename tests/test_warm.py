"""Warm kernels (autograder/isolation/warm.py, zygote.py): a kernel forked from the shared server
is confined as tightly as one started in a sandbox of its own, and nothing one submission does
reaches the submissions graded after it by the same server."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import corpus
import nbformat
import pytest

from autograder.execute import KERNEL_ENV, Limits, run_notebook
from autograder.grade import grade_folder
from autograder.isolation import protocol, warm, zygote
from autograder.isolation.sandbox import (
    MB,
    SandboxPolicy,
    _python_roots,
    server_command,
    warm_server,
)
from autograder.results import Status

POLICY = SandboxPolicy()
SERVER_NAMES = {"bwrap", zygote.SERVER_NAME, zygote.MONITOR_NAME, zygote.KERNEL_NAME}

PROBE = f"KERNEL_NAME = {zygote.KERNEL_NAME!r}\n" + r'''
import ctypes, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
facts = {"pid": os.getpid(), "tmp": sorted(os.listdir("/tmp")), "cwd": os.getcwd(),
         "shm": sorted(os.listdir("/dev/shm"))}
status = open("/proc/self/status").read().splitlines()
facts["caps"] = {line.split(":")[0]: int(line.split()[1], 16)
                 for line in status if line.startswith("Cap")}
others = [p for p in os.listdir("/proc") if p.isdigit()
          and open(f"/proc/{p}/comm").read().strip() != KERNEL_NAME]
facts["others"] = sorted(open(f"/proc/{p}/comm").read().strip() for p in others)
opened = []
for p in others:
    paths = [f"/proc/{p}/{name}" for name in ("mem", "environ", "maps", "cwd", "root", "exe")]
    paths += [f"/proc/{p}/fd/{fd}" for fd in os.listdir(f"/proc/{p}/fd")]
    for path in paths:
        try:
            os.listdir(path) if path.endswith(("cwd", "root")) else open(path, "rb").read(1)
            opened.append(path)
        except OSError:
            pass
facts["opened"] = opened
facts["umount_tmp"] = libc.umount2(b"/tmp", 2)
written = []
for path in ("/escape", "/dev/escape", "/usr/escape", "/proc/escape"):
    try:
        open(path, "w").write("x")
        written.append(path)
    except OSError:
        pass
facts["written"] = written
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    facts["network"] = True
except OSError:
    facts["network"] = False
facts["ipc"] = sorted(os.listdir(os.path.join(os.path.dirname(os.getcwd()), "ipc")))
facts["uid"] = os.getuid()
try:
    open("/proc/sys/kernel/pid_max", "w").write("4000000")
    facts["pid_max_raised"] = True
except OSError:
    facts["pid_max_raised"] = False
facts["pid_max"] = int(open("/proc/sys/kernel/pid_max").read())
facts["sizes"] = {path: os.statvfs(path).f_blocks * os.statvfs(path).f_frsize
                  for path in ("/tmp", "/dev/shm", ".")}
import resource
facts["fsize"] = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
print(json.dumps(facts))
'''


@pytest.fixture(scope="module")
def server():
    found = warm_server(POLICY, ("json",), KERNEL_ENV)
    if found is None:
        pytest.skip("this machine does not allow the nested namespaces warm kernels need")
    return found


def _run(server, source: str) -> tuple[str, list]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    with warm.folder(server) as workdir:
        (workdir / "asset.csv").write_text("a,b\n")
        report = run_notebook(nb, workdir=workdir, limits=Limits(cell_timeout=60), server=server)
    return report.status, nb.cells[0].outputs


def test_a_warm_kernel_is_confined(server):
    status, outputs = _run(server, PROBE)
    assert status is Status.GRADED, outputs
    facts = json.loads(outputs[0]["text"])
    assert facts["pid"] == 1  # so everything it starts dies with it
    assert all(value == 0 for value in facts["caps"].values()), facts["caps"]
    # its own folder's parent, and where Python is bound again when it lives under /tmp
    python_under_tmp = {Path(root).relative_to("/tmp").parts[0] for root in _python_roots()
                        if Path(root).is_relative_to("/tmp")}
    assert set(facts["tmp"]) <= {"matplotlib", server.stage.name, *python_under_tmp}
    assert Path(facts["cwd"]).parent.parent == server.stage
    assert facts["shm"] == []
    # the ipc folder was unmounted before the cell ran; the limits are the policy's, and the
    # kernel cannot raise its process limit (it is not uid 0 in its own user namespace)
    assert facts["ipc"] == []
    assert facts["uid"] != 0 and not facts["pid_max_raised"]
    assert facts["pid_max"] == POLICY.processes + 1
    assert set(facts["sizes"].values()) == {POLICY.scratch_mb * MB}, facts["sizes"]
    assert facts["fsize"] == POLICY.file_mb * MB
    assert set(facts["others"]) <= SERVER_NAMES and zygote.SERVER_NAME in facts["others"]
    assert facts["opened"] == []  # the server's and monitor's memory, files and folders
    assert facts["umount_tmp"] != 0
    assert facts["written"] == []
    assert facts["network"] is False


def test_the_kernel_sees_only_its_own_folder(server):
    status, outputs = _run(server, "import os\nprint(sorted(os.listdir(os.path.dirname("
                                   "os.path.dirname(os.getcwd())))), sorted(os.listdir('.')))")
    assert status is Status.GRADED, outputs
    parent, own = outputs[0]["text"].split("] [")
    assert protocol.SOCKET_NAME not in parent and parent.count("grade-") == 1
    assert "asset.csv" in own


def test_preloaded_modules_come_from_the_instructor_notebook():
    modules = warm.preload_modules(corpus.KEY.instructor)
    assert {"tensorflow", "keras", "numpy", "sklearn.datasets"} <= set(modules)
    assert set(warm.ALWAYS) <= set(modules)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import a.b, c\nfrom d import e\nfrom . import f\n"
                                  "def g():\n    import hidden\n"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport ignored"),
    ])
    assert warm.preload_modules(nb)[:3] == ("a.b", "c", "d")


LEAVE_BEHIND = (
    "import os, subprocess, sys\n"
    "for path in ('/tmp/left-behind', '/dev/shm/left-behind',\n"
    "             os.path.join(os.path.dirname(os.getcwd()), 'left-behind')):\n"
    "    try:\n"
    "        open(path, 'w').write('from an earlier submission')\n"
    "    except OSError:\n"
    "        pass\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],\n"
    "                 start_new_session=True)\n"
    "os.environ['LEFT_BEHIND'] = '1'\n"
    "q05 = 'left things behind'\n"
)
LOOK_FOR_IT = (
    "import os\n"
    "seen = [os.path.exists(path) for path in ('/tmp/left-behind', '/dev/shm/left-behind',\n"
    "        os.path.join(os.path.dirname(os.getcwd()), 'left-behind'))]\n"
    "seen.append('LEFT_BEHIND' in os.environ)\n"
    "names = set()\n"
    "for pid in (p for p in os.listdir('/proc') if p.isdigit()):\n"
    "    try:\n"
    "        names.add(open(f'/proc/{pid}/comm').read().strip())\n"
    "    except OSError:\n"
    "        pass\n"
    f"seen.append(bool(names - {SERVER_NAMES!r}))\n"
    "print(seen, names)\n"
    "q01 = 'c' if any(seen) else 'b'\n"
)


def test_one_submission_cannot_reach_the_next(tmp_path, server):
    """One worker grades a submission that leaves files in every writable place it has and a
    daemon behind, then one that looks for them: the second finds nothing and scores full."""
    (tmp_path / "a-leaves.ipynb").write_bytes(corpus.answer("q05-answer", LEAVE_BEHIND)())
    (tmp_path / "b-looks.ipynb").write_bytes(corpus.answer("q01-answer", LOOK_FOR_IT)())
    results = grade_folder(chapter=corpus.CHAPTER, submissions=tmp_path, workers=1,
                           limits=Limits(cell_timeout=60, notebook_timeout=300)).results
    by_id = {r.student_id: r for r in results}
    assert by_id["a-leaves"].status.startswith(("graded", "flagged")), by_id["a-leaves"].status
    looked = by_id["b-looks"]
    assert looked.status == "graded" and looked.score == corpus.FULL, \
        [(t.grade_id, t.message) for t in looked.tests if not t.passed]


def test_an_interrupt_reaches_a_warm_kernel(server, tmp_path):
    """jupyter_client's interrupt (SIGINT to what it thinks is the kernel) goes through the relay
    to the forked kernel, which stops the running cell with a KeyboardInterrupt."""
    import asyncio
    import time

    from autograder.isolation.sandbox import kernel_manager

    async def interrupted() -> str:
        with warm.folder(server) as workdir:
            km = kernel_manager(workdir, POLICY, server)
            await km.start_kernel(env={**KERNEL_ENV})
            client = km.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=60)
                started = time.monotonic()
                msg_id = client.execute("import time\ntime.sleep(60)")
                await asyncio.sleep(2)
                await km.interrupt_kernel()
                reply = await client.get_shell_msg(timeout=30)
                assert reply["parent_header"]["msg_id"] == msg_id
                assert time.monotonic() - started < 30
                return reply["content"].get("ename", reply["content"]["status"])
            finally:
                client.stop_channels()
                await km.shutdown_kernel(now=True)

    assert asyncio.run(interrupted()) == "KeyboardInterrupt"


def test_what_the_sandbox_binds_below_tmp_stays_visible_and_read_only(tmp_path_factory):
    """A course cloned under /tmp has its virtual environment there: the kernel's fresh /tmp must
    bind it again (read-only), or the kernel could not import anything the server had not."""
    library = Path(tempfile.mkdtemp(prefix="warm-library-", dir="/tmp"))
    try:
        (library / "lazy_module.py").write_text("ANSWER = 42\n")
        policy = SandboxPolicy()
        prefix = lambda stage: server_command(  # noqa: E731
            stage, policy, ["--ro-bind", str(library), str(library)])
        server, reason = warm.start_server(("library",), prefix, POLICY.kernel_limits, ["json"],
                                           KERNEL_ENV, ready_timeout=policy.warm_start_timeout)
        assert server is not None, reason
        try:
            status, outputs = _run(server, (
                f"import sys\nsys.path.insert(0, {str(library)!r})\nimport lazy_module\n"
                "try:\n"
                f"    open({str(library / 'x')!r}, 'w')\n"
                "    print(lazy_module.ANSWER, 'writable')\n"
                "except OSError:\n"
                "    print(lazy_module.ANSWER, 'read-only')\n"))
        finally:
            server.close()
        assert status is Status.GRADED, outputs
        assert outputs[0].get("text", "").split() == ["42", "read-only"], outputs
    finally:
        shutil.rmtree(library)
