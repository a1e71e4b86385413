"""One term on chapter 1's example submissions, through the command line, start to finish.

    .venv/bin/python tests/scripted_term.py [--keep FOLDER]

1. Four submissions arrive in a Canvas-style zip before the due date (a complete one, an
   untouched one, a partly correct one, and a complete one that installs an exception hook,
   which changes nothing: the tests run in the judge); they are graded with a due date and a
   late policy.
2. ``review`` shows what waits; the instructor sets the points of one item of the partly
   correct one by hand.
3. Two late files arrive in a new export of all six; ``grade`` into the same folder grades only
   those two, and applies the late penalty.
4. The grades go out as a Canvas import file and a Moodle one.
5. The same class graded from scratch (``--fresh``) into a second folder, with the same decisions
   and policy, writes byte-identical files: the cache changes no grade.

It prints each step's command and result and the time of each grading.  tests/test_term_run.py
runs it and checks every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import notebook  # noqa: E402
from autograder.cli import main  # noqa: E402
from autograder.course import get_chapter  # noqa: E402
from autograder.examples import write_examples  # noqa: E402

CHAPTER = "ch01_keras_api"
DUE = "2026-11-20T23:59Z"
LATE = "10,max=50"
ON_TIME = (2026, 11, 20, 18, 0, 0)
# Canvas's file names: <name>_[LATE_]<user id>_<submission id>_<original name>
ON_TIME_FILES = {"lee_101_9001_ch01.ipynb": "complete", "ng_102_9002_ch01.ipynb": "untouched",
                 "ode_103_9003_ch01.ipynb": "partial", "park_104_9004_ch01.ipynb": "hooked"}
LATE_FILES = {"ruiz_LATE_105_9005_ch01.ipynb": ("late-partial", (2026, 11, 22, 2, 0, 0)),
              "sun_LATE_106_9006_ch01.ipynb": ("late-complete", (2026, 11, 21, 3, 0, 0))}
CANVAS_ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Chapter 1 (4410)\n"
    "    Points Possible,,,,,26\n"
    '"Lee, Ann",101,S101,alee,K-1,\n"Ng, Ben",102,S102,bng,K-1,\n'
    '"Ode, Cai",103,S103,code,K-1,\n"Park, Dee",104,S104,dpark,K-2,\n'
    '"Ruiz, Eve",105,S105,eruiz,K-2,\n"Sun, Fay",106,S106,fsun,K-2,\n'
    '"Tan, Gil",107,S107,gtan,K-2,\n')
EXCEPTHOOK = "import sys\nsys.excepthook = lambda *args: None\n"


@dataclass
class Term:
    folder: Path
    seconds: dict[str, float] = field(default_factory=dict)
    said: dict[str, str] = field(default_factory=dict)


def _notebooks(work: Path) -> dict[str, bytes]:
    """The kinds of submission the term uses, as notebook bytes."""
    chapter = get_chapter(CHAPTER)
    examples = {e.student_id.removeprefix("example-"): e.path.read_bytes()
                for e in write_examples(chapter, work / "examples")}
    hooked = notebook.reads(examples["complete"])
    first = next(c for c in hooked.cells if notebook.is_answer_cell(c))
    first.source = EXCEPTHOOK + first.source
    late = {}
    for kind in ("partial", "complete"):  # other bytes than the on-time files
        nb = notebook.reads(examples[kind])
        nb.cells.append(nbformat.v4.new_markdown_cell("Handed in late, sorry."))
        late[f"late-{kind}"] = notebook.dumps(nb).encode()
    return {**examples, "hooked": notebook.dumps(hooked).encode(), **late}


def _zip(path: Path, files: dict[str, tuple[bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, (data, when) in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _run(term: Term, step: str, argv: list[str], *, say=print) -> str:
    """Run one command as an instructor would, and keep what it printed."""
    say(f"\n$ python -m autograder {' '.join(argv)}")
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    term.seconds[step] = time.perf_counter() - started
    term.said[step] = out.getvalue()
    say(out.getvalue().rstrip())
    if code != 0:
        raise SystemExit(f"{step}: exit status {code}")
    return out.getvalue()


def run_term(work: Path, *, say=print, workers: int = 2) -> Term:
    nbs = _notebooks(work)
    results = work / "results"
    term = Term(results)
    first = _zip(work / "export-1.zip", {name: (nbs[kind], ON_TIME)
                                         for name, kind in ON_TIME_FILES.items()})
    grade = ["grade", CHAPTER, "--workers", str(workers)]
    _run(term, "grade-1", [*grade, str(first), "--out", str(results), "--due", DUE,
                           "--late", LATE], say=say)
    _run(term, "review", ["review", str(results)], say=say)
    _run(term, "set", ["review", str(results), "--set", "103", "q01-check=1", "--reason",
                       "regrade request: the question's wording allowed this answer"], say=say)
    second = _zip(work / "export-2.zip", {
        **{name: (nbs[kind], ON_TIME) for name, kind in ON_TIME_FILES.items()},
        **{name: (nbs[kind], when) for name, (kind, when) in LATE_FILES.items()}})
    _run(term, "grade-2", [*grade, str(second), "--out", str(results)], say=say)
    roster = work / "canvas-gradebook.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8")
    _run(term, "canvas", ["export", str(results), "--format", "canvas", "--roster", str(roster),
                          "--column", "Chapter 1 (4410)", "--out", str(work / "canvas.csv")],
         say=say)
    _run(term, "moodle", ["export", str(results), "--format", "moodle", "--out",
                          str(work / "moodle.csv")], say=say)
    fresh = work / "results-fresh"
    fresh.mkdir()
    for name in ("overrides.csv", "late_policy.json"):
        shutil.copy(results / name, fresh / name)
    _run(term, "fresh", [*grade, str(second), "--out", str(fresh), "--fresh"], say=say)
    return term


def differing_files(a: Path, b: Path) -> list[str]:
    """Files of results folder ``a`` that ``b`` lacks or holds with other bytes (the cache and
    the by-item pages aside: those record how the folder was worked, not grades)."""
    skip = {"cache", "by_item"}
    files = [p.relative_to(a) for p in a.rglob("*") if p.is_file() and not skip & set(
        p.relative_to(a).parts)]
    return [str(rel) for rel in files
            if not (b / rel).is_file() or (a / rel).read_bytes() != (b / rel).read_bytes()]


def grades(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def main_script() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="term-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        term = run_term(work)
        print("\n--- figures")
        for step in ("grade-1", "grade-2", "fresh"):
            print(f"{step:8} {term.seconds[step]:7.1f} s")
        print(f"grade-2 (2 new of 6) took {term.seconds['grade-2'] / term.seconds['fresh']:.2f}"
              " of a fresh regrade of all 6")
        diff = differing_files(work / "results", work / "results-fresh")
        print("incremental and fresh results folders: "
              + ("identical" if not diff else f"DIFFER in {diff}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main_script())
