"""The grading corpus: hostile and broken submissions, each with the status and score it must get,
graded in the sandbox by a pool of workers, plus the isolation, parallelism and intake rules."""

from __future__ import annotations

import html
import io
import secrets
import socket
import zipfile
from dataclasses import replace
from pathlib import Path

import corpus
import pytest
from corpus import CORPUS_LIMITS, WAITING_LIMITS

from autograder import reports
from autograder.course import REPO_ROOT
from autograder.grade import ClassResult, grade_folder
from autograder.intake import collect
from autograder.isolation.sandbox import SandboxPolicy
from autograder.messages import possible_messages
from autograder.results import Stop, not_run_because, stopped_because

MARKER = f"corpus-{secrets.token_hex(6)}"


@pytest.fixture(scope="session")
def listener():
    """A TCP port on the host that accepts connections (the sandbox must not reach it)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory, listener):
    """Every case graded by the local pool, two at a time in warm kernels, as `grade` does by
    default; with them, the whole-notebook cases (``whole-<name>``), lessons left out.  The cases
    that wait for the cell limit run as a second class under a shorter one (corpus.WAITING)."""
    folder = tmp_path_factory.mktemp("corpus")
    waiting = tmp_path_factory.mktemp("corpus-waiting")
    secret = tmp_path_factory.mktemp("instructor-files") / "gradebook.db"
    secret.write_text("not for students")
    hidden = [str(REPO_ROOT / "source"), str(corpus.CHAPTER.instructor_notebook),
              str(REPO_ROOT / "pyproject.toml"), str(folder / "complete-lean.ipynb"), str(secret)]
    cases = {c.name: c for c in corpus.cases(port=listener, marker=MARKER, hidden_paths=hidden)}
    for case in cases.values():
        into = waiting if case.name in corpus.WAITING else folder
        (into / f"{case.name}.ipynb").write_bytes(case.build())
    for name in corpus.WHOLE_NOTEBOOK:
        (folder / f"whole-{name}.ipynb").write_bytes(corpus.whole_notebook_case(name))
    main = grade_folder(chapter=corpus.CHAPTER, submissions=folder, limits=CORPUS_LIMITS,
                        workers=2)
    stopped = grade_folder(chapter=corpus.CHAPTER, submissions=waiting, limits=WAITING_LIMITS,
                           workers=2)
    assert sorted(r.student_id for r in stopped.results) == sorted(corpus.WAITING)
    result = ClassResult(corpus.CHAPTER, main.results + stopped.results)
    return cases, {r.student_id: r for r in result.results}, result, folder


CASE_NAMES = [c.name for c in corpus.cases(port=1, marker="x", hidden_paths=[])]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_case(corpus_run, name):
    cases, results, _, _ = corpus_run
    case, result = cases[name], results[name]
    assert result.status_text.startswith(case.status), (result.status_text, result.notes)
    assert result.score == case.score, (result.status, [(t.grade_id, t.message)
                                                        for t in result.tests if not t.passed])
    if case.note:
        assert any(case.note in note for note in result.notes), result.notes
    if case.item:
        item = next(t for t in result.tests if t.grade_id == case.item)
        earned = item.max_points if case.outcome == "passed" else 0
        assert (item.outcome, item.points) == (case.outcome, earned), item
        assert case.message in item.message, item
    assert not result.flags, result.flags  # the judge needs no flags: nothing to tamper with


def test_nothing_written_in_the_sandbox_outlives_it(corpus_run):
    assert not (Path("/tmp") / MARKER).exists()


def test_feedback_holds_only_words_the_grader_or_the_instructor_wrote(corpus_run, tmp_path):
    """Whatever a submission does, each item's message is one of the grader's fixed texts or a
    message written in that check's visible source; no hidden test reaches a feedback page."""
    _, results, result, _ = corpus_run
    fixed = {"", "not graded", *(stopped_because(s, limits.in_words()) for s in Stop
                                 for limits in (CORPUS_LIMITS, WAITING_LIMITS)),
             *(not_run_because(s) for s in [None, *Stop])}
    for r in results.values():
        for t in r.tests:
            allowed = fixed | possible_messages(corpus.KEY.tests[t.grade_id].visible_source)
            assert t.message in allowed, (r.student_id, t.grade_id, t.message[:200])
    reports.write_all(result, tmp_path)
    hidden = [line.strip() for test in corpus.KEY.tests.values()
              for line in test.source.splitlines()
              if len(line.strip()) > 12 and line not in test.visible_source]
    for page in (tmp_path / "feedback").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert corpus.LEAK not in text, page.name
        assert not [line for line in hidden if html.escape(line) in text], page.name
        assert "claims to equal anything" not in text  # a finding can name student variables


def test_cold_kernels_and_a_cluster_grade_as_the_pool_does(corpus_run, dask_cluster, tmp_path):
    """The corpus ran in the local pool, two at a time in warm kernels.  A subset of it (a
    complete notebook, a stopped loop, a kernel that exits, memory run out, a file that is not a
    notebook) gets the very same grades one at a time in cold kernels (each started from scratch
    in its own sandbox), and on a Dask cluster's two workers."""
    _, results, _, folder = corpus_run
    picked = ["complete-lean", "stop-loops", "kernel-exit", "stop-exceeds-memory", "not-json"]
    subset = tmp_path / "subset"
    subset.mkdir()
    for name in picked:
        (subset / f"{name}.ipynb").write_bytes((folder / f"{name}.ipynb").read_bytes())
    serial = grade_folder(chapter=corpus.CHAPTER, submissions=subset, workers=1,
                          limits=replace(CORPUS_LIMITS, sandbox=SandboxPolicy(warm=False)))
    remote = grade_folder(chapter=corpus.CHAPTER, submissions=subset, limits=CORPUS_LIMITS,
                          cluster=dask_cluster.scheduler_address)
    assert sorted(r.student_id for r in serial.results) == sorted(picked)
    for other in (*serial.results, *remote.results):
        pooled = results[other.student_id]
        # `warned` (test cells a library warning wrote to stderr, which costs nothing) is left
        # out: TensorFlow warns about retracing from a count of calls it keeps per process, and
        # a warm kernel starts with the calls its server made while preloading.
        assert replace(other, errors=(), seconds=0, warned=()) == \
            replace(pooled, errors=(), seconds=0, warned=())


def test_leaving_out_lessons_changes_no_grade(corpus_run, tmp_path):
    """Hostile answers and answers that read a lesson's variables, in the whole notebook: graded
    with the lessons nothing graded needs left out (in the corpus run), and with every lesson
    cell, alike."""
    _, results, _, folder = corpus_run
    for name in corpus.WHOLE_NOTEBOOK:
        (tmp_path / f"whole-{name}.ipynb").write_bytes((folder / f"whole-{name}.ipynb").read_bytes())
    whole = grade_folder(chapter=corpus.CHAPTER, submissions=tmp_path, workers=2,
                         limits=CORPUS_LIMITS, whole_notebook=True)
    cut = [results[w.student_id] for w in whole.results]
    assert len(cut) == len(corpus.WHOLE_NOTEBOOK)
    for c, w in zip(cut, whole.results, strict=True):
        assert (c.student_id, c.status_text, c.score) == (w.student_id, w.status_text, w.score)
        assert [(t.grade_id, t.points) for t in c.tests] == \
            [(t.grade_id, t.points) for t in w.tests], c.student_id
    scores = {r.student_id: r.score for r in cut}
    assert scores["whole-reads-lesson-variable"] == scores["whole-reads-lesson-variable-hidden"] \
        == scores["whole-complete"] == corpus.FULL
    by_id = {r.student_id: r for r in cut}
    assert any("were not run" in n for n in by_id["whole-reads-lesson-variable"].notes)
    # the hidden read fails in the cut run, so the recorded result is the whole notebook's
    hidden = by_id["whole-reads-lesson-variable-hidden"].notes
    assert not any("were not run" in n for n in hidden)
    assert "graded with the whole notebook: with lessons left out, a cell raised KeyError" in \
        hidden


def test_reports_are_the_same_on_a_rerun(corpus_run, tmp_path):
    _, _, result, _ = corpus_run
    first, second = tmp_path / "a", tmp_path / "b"
    reports.write_all(result, first)
    reports.write_all(result, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {"grades.csv", "report.md", "score_histogram.png"} <= {str(f) for f in files}
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    report = (first / "report.md").read_text(encoding="utf-8")
    assert "endless-loop" in report and "timeout" in report


# --- intake (no kernels) -----------------------------------------------------------------------

CHAPTERS = {"ch01_keras_api", "ch02_sequential"}


@pytest.mark.fast
def test_intake_reads_lms_names_nbgrader_layout_and_plain_names(tmp_path):
    (tmp_path / "smithjane_4711_90001_ch01_keras_api.ipynb").write_text("{}")
    (tmp_path / "doejohn_LATE_4712_90002_ch01_keras_api-1.ipynb").write_text("{}")
    (tmp_path / "s123.ipynb").write_text("{}")
    layout = tmp_path / "submitted" / "alice" / "ch01_keras_api"
    layout.mkdir(parents=True)
    (layout / "ch01_keras_api.ipynb").write_text("{}")
    wrong = tmp_path / "submitted" / "bob" / "ch02_sequential"
    wrong.mkdir(parents=True)
    (wrong / "ch02_sequential.ipynb").write_text("{}")
    entries = {e.student_id: e for e in collect(tmp_path, chapter="ch01_keras_api",
                                                chapters=CHAPTERS)}
    assert set(entries) == {"4711", "4712", "s123", "alice", "bob"}
    assert all(entries[s].status is None for s in ("4711", "4712", "s123", "alice"))
    assert entries["bob"].status_text.startswith("wrong chapter: filed under ch02_sequential")


@pytest.mark.fast
def test_intake_reads_a_zip_and_keeps_every_file(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/ann_11_1_hw.ipynb", "{}")
        archive.writestr("export/ann_11_2_hw.ipynb", "{}")  # resubmission: newer id wins
        archive.writestr("export/ben_12_3_notes.pdf", "%PDF")
        archive.writestr("__MACOSX/export/._ann_11_1_hw.ipynb", "junk")
    path = tmp_path / "export.zip"
    path.write_bytes(buffer.getvalue())
    entries = collect(path, chapter="ch01_keras_api", chapters=CHAPTERS)
    by_file = {e.filename: e for e in entries}
    assert set(by_file) == {"export/ann_11_1_hw.ipynb", "export/ann_11_2_hw.ipynb",
                            "export/ben_12_3_notes.pdf"}
    assert by_file["export/ann_11_2_hw.ipynb"].status is None
    assert by_file["export/ann_11_1_hw.ipynb"].status_text.startswith(
        "duplicate: export/ann_11_2_hw.ipynb")
    assert by_file["export/ben_12_3_notes.pdf"].status_text.startswith("skipped: ")


@pytest.mark.fast
def test_intake_custom_id_pattern(tmp_path):
    (tmp_path / "week1-u0042-final.ipynb").write_text("{}")
    entries = collect(tmp_path, chapter="ch01_keras_api", chapters=CHAPTERS,
                      id_pattern=r"-(?P<id>u\d+)-")
    assert [e.student_id for e in entries] == ["u0042"]
