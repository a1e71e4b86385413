"""One submission cannot hurt the next: disk, tmpfs, file size and process floods, each graded
in one serial run followed by two honest complete notebooks that must still score full marks
(the second no slower than the honest notebooks usually are), and markup in a file name,
escaped in every file the course writes."""

from __future__ import annotations

import csv
import html
import io
import statistics

import corpus
import nbformat
import pytest

from autograder import reports, tables
from autograder.execute import Limits
from autograder.grade import grade_folder
from autograder.isolation.sandbox import SandboxPolicy

# Small limits, so that each flood is over in a second or two.
POLICY = SandboxPolicy(scratch_mb=64, file_mb=16, processes=400)
LIMITS = Limits(cell_timeout=20, notebook_timeout=300, interrupt_grace=5, sandbox=POLICY)
FLOOD = "for i in range(200):\n    with open(f'{folder}/flood{{i}}', 'wb') as f:\n" \
        "        f.write(b'x' * (1 << 20))\n"
ATTACKS = {  # name: (the cell added after the set-up cell, the note its result must carry)
    "shm-flood": (FLOOD.format(folder="/dev/shm"), "wrote more than 64 MB"),
    "tmp-flood": (FLOOD.format(folder="/tmp"), "wrote more than 64 MB"),
    "folder-flood": (FLOOD.format(folder="."), "wrote more than 64 MB"),
    "huge-file": ("with open('/tmp/huge', 'wb') as f:\n    f.write(b'x' * (40 << 20))\n",
                  "a file larger than 16 MB"),
    "process-flood": ("import subprocess\n"
                      "held = [subprocess.Popen(['sleep', '600']) for _ in range(1000)]\n",
                      "more than 400 processes and threads"),
    # Every process forks again: the cell never ends, so the cell limit ends the kernel.
    "fork-bomb": ("import os\nwhile True:\n    os.fork()\n", "ran longer than 20 s"),
}
MARKUP = "<img src=x onerror=alert(1)>"


def _with_cell(source: str) -> bytes:
    nb = corpus.lean_complete()
    nb.cells.insert(2, nbformat.v4.new_code_cell(source))
    return corpus.dump(nb)


@pytest.fixture(scope="module")
def floods(tmp_path_factory):
    folder = tmp_path_factory.mktemp("floods")
    honest = corpus.dump(corpus.lean_complete())
    for n, (name, (source, _)) in enumerate(ATTACKS.items()):
        (folder / f"{3 * n:02d}-{name}.ipynb").write_bytes(_with_cell(source))
        (folder / f"{3 * n + 1:02d}-honest.ipynb").write_bytes(honest)
        (folder / f"{3 * n + 2:02d}-honest-later.ipynb").write_bytes(honest)
    (folder / f"{MARKUP}.ipynb").write_bytes(b"{ not json")  # listed in report.md
    result = grade_folder(chapter=corpus.CHAPTER, submissions=folder, workers=1, limits=LIMITS)
    return result, {r.student_id: r for r in result.results}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_flood_stops_its_own_submission_only(floods, name):
    _, results = floods
    n = list(ATTACKS).index(name)
    attacked = results[f"{3 * n:02d}-{name}"]
    honest, later = results[f"{3 * n + 1:02d}-honest"], results[f"{3 * n + 2:02d}-honest-later"]
    assert any(ATTACKS[name][1] in note for note in attacked.notes), attacked.notes
    if name not in ("process-flood", "fork-bomb"):  # its own cell is stopped, nothing else
        assert attacked.score == corpus.FULL, attacked.notes
    # (processes the flood left hold their pids, so its own later training cells may fail)
    for after in (honest, later):
        assert (after.score, after.status_text, after.notes) == (corpus.FULL, "graded", ())
    # Nothing the flood left behind slows the submissions after it: the second honest notebook
    # after it takes no more than three times as long as the honest notebooks' median.  (The
    # first one may overlap the end of the flood's own kernel: after the fork bomb it takes 1.7
    # times the median alone, and more than 3 times beside a grading.  Measured against the
    # others, not a fixed number of seconds, which a busy machine fails on its own.)
    typical = statistics.median(r.seconds for sid, r in results.items() if "honest" in sid)
    assert later.seconds < 3 * typical, (later.seconds, typical)


def test_markup_in_a_file_name_is_escaped_in_every_written_file(floods, tmp_path):
    result, results = floods
    assert results[MARKUP].status_text.startswith("unreadable")
    reports.write_all(result, tmp_path)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".md", ".html")]
    assert "report.md" in {p.name for p in written} and len(written) > 2
    for page in written:
        assert MARKUP not in page.read_text(encoding="utf-8"), page.name
    assert html.escape(MARKUP, quote=False) in (tmp_path / "report.md").read_text(encoding="utf-8")


@pytest.mark.fast
def test_markdown_text_shows_markup_as_text():
    assert tables.md_text(MARKUP + ".ipynb") == "&lt;img src=x onerror=alert(1)&gt;.ipynb"
    assert tables.md_text("a_b|c*[x](y)`~\\\r\nz") == "a\\_b\\|c\\*\\[x\\](y)\\`\\~\\\\ z"


@pytest.mark.fast
def test_a_row_with_a_bare_carriage_return_is_quoted():
    out = io.StringIO()
    tables.write_rows(out, [["id", "note"], ["a\rb", "plain"], ["c", "d"]])
    assert out.getvalue() == 'id,note\n"a\rb","plain"\nc,d\n'
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [
        ["id", "note"], ["a\rb", "plain"], ["c", "d"]]
