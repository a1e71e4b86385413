"""Shared fixtures: the course's chapters, and one grading run of each chapter's examples.

Grading runs real kernels (20-60 s a submission), so each chapter's example submissions are
graded once per test session and every grading test reads that one result.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.course import Chapter, find_chapters
from autograder.examples import Example, write_examples
from autograder.grade import ClassResult, grade_folder

CHAPTERS = find_chapters()
CHAPTER_IDS = [c.name for c in CHAPTERS]


# `make test` runs the suite on two pytest-xdist workers (`-n 2`), scheduled by the groups below.
# Each file of POOL grades with two kernels at a time (or a two-worker Dask cluster) and shares
# session fixtures with the others: they form one group, run one after another on one worker, so
# two gradings never fight for the machine's two cores.  `test_limits` is in it too, since it
# times honest notebooks against each other (the bound applies to the second honest notebook after
# each flood; the first overlaps the end of the flood's kernel).  Files that grade
# one submission at a time and time nothing (`test_term_run` with one worker, `test_lifetimes`)
# run beside that group, as a notebook's nbval cells do.  The other worker takes everything else:
# each notebook's nbval cells (in order, in one kernel), each other test file as a group of its own
# (its module fixtures are computed once), and the tests of SPLIT one by one (each starts its own
# kernel or Python and shares nothing).  (xdist's own `--dist loadgroup` renames node ids, which
# pytest 9 no longer reads; this scheduler groups by the node id as it is.)
POOL = {"test_grading.py", "test_corpus.py", "test_cluster.py", "test_variants.py",
        "test_limits.py"}
SPLIT = {"test_seeds.py", "test_standalone.py"}


def xdist_group(nodeid: str) -> str:
    """The group of a test (its node id): the tests of one group run on one worker, in order."""
    path = nodeid.split("::")[0]
    name = path.rsplit("/", 1)[-1]
    if name in POOL:
        return "pool"
    return nodeid if name in SPLIT else path


# The groups that take longest start first, so none is left for the end of the run, when one worker
# would run it alone while the other has nothing left; the rest follow in collection order.  (The
# times are in tests/README.md, "Where the suite's time goes".)
LONGEST_FIRST = ("pool", "tests/test_seeds.py", "tests/test_browser.py",
                 "source/ch03_fit_metrics", "notebooks/ch03_fit_metrics",
                 "source/ch02_sequential", "notebooks/ch02_sequential", "tests/test_lifetimes.py",
                 "tests/test_term_run.py", "tests/test_release.py",
                 "tests/test_standalone.py", "tests/test_check.py")


def start_rank(nodeid: str) -> int:
    """Where a test's group stands in LONGEST_FIRST (groups not listed come after)."""
    group = xdist_group(nodeid)
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST) if group.startswith(prefix)),
                len(LONGEST_FIRST))


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """xdist's scope scheduling (one group per worker at a time), with xdist_group() as the
        scope, handing out the groups in collection order (see pytest_collection_modifyitems)."""

        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid)

    config.option.loadscopereorder = False  # not by test count: longest first
    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """On xdist workers, the longest groups first (LONGEST_FIRST); in one process, the slow
    notebook executions (nbval items) last, after the quick checks.  Each group keeps its order."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: start_rank(item.nodeid))
    else:
        items.sort(key=lambda item: item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid)


# Every run ends with how busy the machine's processors were while it ran (/proc/stat): a suite
# that keeps them busy is bound by its work, and only less work makes it shorter.
def _machine_busy() -> tuple[float, float]:
    """Seconds of all processors since boot: (busy, total), from /proc/stat."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    tick = os.sysconf("SC_CLK_TCK")  # the unit of /proc/stat's counts
    return (sum(fields) - idle) / tick, sum(fields) / tick


def pytest_sessionstart(session):
    session.config.stash[_MACHINE_START] = (*_machine_busy(), time.monotonic())


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput") or _MACHINE_START not in config.stash:
        return
    busy0, total0, start = config.stash[_MACHINE_START]
    busy1, total1 = _machine_busy()
    if total1 > total0:
        share = 100 * (busy1 - busy0) / (total1 - total0)
        terminalreporter.write_line(
            f"processors: {busy1 - busy0:.0f} s busy in {time.monotonic() - start:.0f} s wall "
            f"({share:.0f} % of the machine)")
    if config.getoption("processor_seconds"):
        _report_processor_seconds(terminalreporter, config.stash.get(_ITEM_BUSY, []))


# `--processor-seconds`, with `-n 0` on an otherwise idle machine: the processor time each test
# costs (its setup, call and teardown; a shared fixture's grading where it is first set up),
# from /proc/stat, so that the sandboxed kernels and servers a test starts are counted too
# (they are not the test's child processes, and per-process counters miss them).
def pytest_addoption(parser):
    parser.addoption("--processor-seconds", action="store_true",
                     help="print the processor-seconds of every test file and the 30 costliest "
                          "tests (run with -n 0 on an idle machine: the machine's busy time)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not item.config.getoption("processor_seconds"):
        yield
        return
    busy, wall = _machine_busy()[0], time.monotonic()
    yield
    item.config.stash.setdefault(_ITEM_BUSY, []).append(
        (item.nodeid, _machine_busy()[0] - busy, time.monotonic() - wall))


def _report_processor_seconds(reporter, rows: list[tuple[str, float, float]]) -> None:
    if not rows:
        reporter.write_line("processor-seconds: no test ran in this process (use -n 0)")
        return
    files: dict[str, list[float]] = {}
    for nodeid, busy, wall in rows:
        entry = files.setdefault(nodeid.split("::")[0], [0.0, 0.0])
        entry[0], entry[1] = entry[0] + busy, entry[1] + wall
    reporter.write_sep("=", "processor-seconds per file (busy, wall)")
    for name, (busy, wall) in sorted(files.items(), key=lambda kv: -kv[1][0]):
        reporter.write_line(f"{busy:8.1f} {wall:8.1f}  {name}")
    reporter.write_line(f"{sum(r[1] for r in rows):8.1f} {sum(r[2] for r in rows):8.1f}  all")
    reporter.write_sep("=", "the 30 costliest tests (busy, wall)")
    for nodeid, busy, wall in sorted(rows, key=lambda r: -r[1])[:30]:
        reporter.write_line(f"{busy:8.1f} {wall:8.1f}  {nodeid}")


_ITEM_BUSY = pytest.StashKey[list]()
_MACHINE_START = pytest.StashKey[tuple]()


def notebook_function(source: str, name: str, namespace: dict):
    """A top-level function defined in one of the course's own cells (its ``def`` up to the next
    two blank lines), executed in ``namespace`` - course code under test, never a submission."""
    start = source.index(f"def {name}")
    end = source.find("\n\n\n", start)
    exec(source[start:] if end < 0 else source[start:end], namespace)
    return namespace[name]


@pytest.fixture(scope="session", params=CHAPTERS, ids=CHAPTER_IDS)
def chapter(request) -> Chapter:
    return request.param


# An answer to exercise 3 of chapter 1 that is correct but written the Keras 2 way: the
# `input_shape=` argument makes Keras warn on stderr while the test cell builds the model.
WARNING_ANSWER = {
    "ch01_keras_api": (
        "ex3-image-classifier-answer",
        "def build_image_classifier():\n"
        "    model = keras.Sequential([\n"
        "        layers.Flatten(input_shape=(28, 28, 1)),\n"
        "        layers.Dense(128, activation=\"relu\"),\n"
        "        layers.Dense(10, activation=\"softmax\"),\n"
        "    ])\n"
        "    model.compile(optimizer=\"adam\", loss=\"sparse_categorical_crossentropy\",\n"
        "                  metrics=[\"accuracy\"])\n"
        "    return model\n",
    ),
}


@dataclass(frozen=True)
class GradedExamples:
    chapter: Chapter
    key: AnswerKey
    examples: dict[str, Example]
    result: ClassResult
    folder: Path

    def __getitem__(self, student_id: str):
        return next(r for r in self.result.results if r.student_id == student_id)


def _write_warning_example(chapter: Chapter, folder: Path) -> None:
    answer_id, source = WARNING_ANSWER[chapter.name]
    nb = notebook.read(folder / "example-complete.ipynb")
    cells = [c for c in nb.cells if notebook.grade_id(c) == answer_id]
    assert cells, f"{chapter.name} has no answer cell {answer_id}"
    cells[0].source = source
    notebook.write(nb, folder / "example-warning.ipynb")


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict[str, GradedExamples]:
    """Every chapter's examples (plus a repeat of the complete one) graded in one pool run,
    leaving out the lesson cells nothing graded needs, as the grader does by default."""
    runs: dict[str, GradedExamples] = {}
    for chapter in CHAPTERS:
        folder = tmp_path_factory.mktemp(f"submissions-{chapter.name}")
        examples = {e.student_id: e for e in write_examples(chapter, folder)}
        shutil.copy(folder / "example-complete.ipynb", folder / "example-complete-again.ipynb")
        if chapter.name in WARNING_ANSWER:
            _write_warning_example(chapter, folder)
        result = grade_folder(chapter=chapter, submissions=folder, workers=2)
        runs[chapter.name] = GradedExamples(chapter, AnswerKey.load(chapter), examples, result,
                                            folder)
    return runs


# The whole-notebook comparison runs on a fixed subset: every lesson cell of a chapter costs
# minutes.  Here, chapter 1's partial example, which holds model answers and untouched stubs; the
# rest of the subset is every chapter's first right and first wrong answer variants
# (test_variants.py, a variant of every exercise each) and the corpus's whole-notebook cases.
WHOLE_EXAMPLE = ("ch01_keras_api", "example-partial")


def assert_same_grades(cut, whole, name: str) -> None:
    """One submission graded with the lessons nothing graded needs left out (``cut``) and with
    the whole notebook: the cut really left lessons out, and the status, score and every item's
    points, outcome and words (visible and hidden) are the same."""
    assert any("were not run" in note for note in cut.notes), (name, cut.notes)
    assert not any("were not run" in note for note in whole.notes), (name, whole.notes)
    assert (cut.status, cut.score) == (whole.status, whole.score), name
    assert [(t.grade_id, t.points, t.outcome, t.message, t.hidden_message) for t in cut.tests] \
        == [(t.grade_id, t.points, t.outcome, t.message, t.hidden_message)
            for t in whole.tests], name


@pytest.fixture(scope="session")
def graded_whole(graded, tmp_path_factory) -> ClassResult:
    """Chapter 1's partial example graded again running every lesson cell (``--full-notebook``);
    the ``graded`` run left out the lesson cells nothing graded needs."""
    name, example = WHOLE_EXAMPLE
    folder = tmp_path_factory.mktemp(f"whole-{name}")
    shutil.copy(graded[name].folder / f"{example}.ipynb", folder / f"{example}.ipynb")
    return grade_folder(chapter=graded[name].chapter, submissions=folder, workers=1,
                        whole_notebook=True)


@pytest.fixture(scope="session")
def dask_cluster():
    """A Dask cluster on this machine: two worker processes of one thread, loopback only.  A
    task may end its worker twice before the scheduler gives it up (Dask's default: 3)."""
    import logging

    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, memory_limit=0,
                               silence_logs=logging.ERROR)
    yield cluster
    cluster.close()
