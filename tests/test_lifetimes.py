"""How a grading run stops and what it leaves behind: the notebook time limit, no kernel or
warm-kernel server outliving its submission, and a grader stopped by Ctrl-C or killed outright
ending its workers and kernels.

Each test here grades on its own (one submission, or a grader it stops), so these tests run beside
the suite's grading group rather than in it (``tests/conftest.py``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import corpus
import pytest

from autograder.course import REPO_ROOT
from autograder.execute import Limits
from autograder.grade import grade_folder, grade_submission
from autograder.isolation import zygote
from autograder.isolation.sandbox import SandboxPolicy


def test_the_notebook_time_limit(tmp_path):
    nb = corpus.with_answer("q05-answer", "import time\ntime.sleep(60)\n")
    (tmp_path / "slow.ipynb").write_bytes(corpus.dump(nb))
    result = grade_folder(chapter=corpus.CHAPTER, submissions=tmp_path, workers=1,
                          limits=Limits(cell_timeout=120, notebook_timeout=15)).results[0]
    assert result.status_text == "timeout: the notebook ran longer than 15 s"
    assert result.score == corpus.BEFORE_Q05


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
@pytest.mark.parametrize("finished", [True, False], ids=["finished", "timed-out"])
def test_no_kernel_outlives_its_submission(finished, warm):
    """Every submission's kernel is gone when its grading returns, whether the notebook ran
    to the end or was stopped; an idle TensorFlow kernel holds about 750 MB.  The warm-kernel
    server it started is gone too."""
    source = "x = 1\n" if finished else "while True:\n    pass\n"
    before = _live_descendants()
    limits = replace(corpus.CORPUS_LIMITS, cell_timeout=60 if finished else 8,
                     sandbox=SandboxPolicy(warm=warm))
    result = grade_submission(student_id="s", submission=corpus.answer("q05-answer", source)(),
                              chapter=corpus.CHAPTER, key=corpus.KEY, limits=limits)
    assert result.status_text.startswith("graded" if finished else "timeout"), result.status_text
    left = {pid: _comm(pid) for pid in _live_descendants() - before}
    assert not left, left


def _descendants(root: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _live_descendants() -> set[int]:
    return {pid for pid in _descendants(os.getpid()) if _running(pid)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _is_kernel(pid: int) -> bool:
    return b"ipykernel" in _cmdline(pid) or _comm(pid) == zygote.KERNEL_NAME


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _grader_with_kernels(tmp_path: Path) -> tuple[subprocess.Popen, set[int]]:
    """A grader (in its own process group, as in a terminal) grading four submissions two at a
    time, once both workers have a kernel; and every process it has started."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for n in range(4):
        (subs / f"s{n}.ipynb").write_bytes(corpus.answer("q05-answer", "x = 1\n")())
    _scratch(tmp_path).mkdir()
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", corpus.CHAPTER.name,
                               str(subs), "--out", str(tmp_path / "out"), "--workers", "2"],
                              cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True,
                              env={**os.environ, "TMPDIR": str(_scratch(tmp_path))})
    deadline = time.monotonic() + 120
    kernels = set()
    while len(kernels) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        kernels = {p for p in _descendants(grader.pid) if _is_kernel(p)}
    assert len(kernels) >= 2, "the grader never started its kernels"
    assert any(_scratch(tmp_path).glob("autograder-run-*")), "the grader keeps no scratch there"
    return grader, _descendants(grader.pid)


def _assert_all_end(pids: set[int], seconds: float = 30) -> None:
    """Every process in ``pids`` ends within ``seconds`` of the grader's end."""
    deadline = time.monotonic() + seconds
    while (left := {p for p in pids if _running(p)}) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, [_cmdline(p)[:150] for p in left]  # outlived the grader


def _scratch(tmp_path: Path) -> Path:
    """The grader's temporary folder (its ``TMPDIR``): its own, as other tests grade beside it."""
    return tmp_path / "tmp"


def test_ctrl_c_stops_the_grader_at_once(tmp_path):
    grader, tree = _grader_with_kernels(tmp_path)
    os.killpg(grader.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = grader.communicate(timeout=60)
    assert grader.returncode == 130
    assert stderr.rstrip().endswith("interrupted") and "Traceback" not in stderr, stderr[-2000:]
    assert not (tmp_path / "out").exists()
    _assert_all_end(tree)
    assert list(_scratch(tmp_path).iterdir()) == []  # the warm servers' folders too


def test_killing_the_grader_ends_its_workers_and_kernels(tmp_path):
    """A grader killed outright (SIGKILL, nothing cleaned up) leaves no worker grading on."""
    grader, tree = _grader_with_kernels(tmp_path)
    grader.kill()
    grader.communicate()
    _assert_all_end(tree)
    shutil.rmtree(_scratch(tmp_path), ignore_errors=True)  # nobody was left to remove it
