"""Benchmark: grading a class with stock nbgrader against `python -m autograder grade`.

    .venv/bin/python tests/benchmark_grading.py [--submissions 40] [--workers 2] [--chapter NAME]
                                                [--ceiling] [--cold]

Not a timed test: it prints its figures.  On the same N submissions (a mix of complete, partly
correct and untouched notebooks made from the chapter) it measures, in one run:

* stock nbgrader: `nbgrader autograde` over a course directory with a gradebook (serial);
* this course's grader: `python -m autograder grade --workers W` (sandbox, guards, reports);
* plain execution: the same notebooks run with nbclient, W at a time, nothing else;

and prints both grading wall times, their ratio (goal: at least 1.8x faster than stock on two
cores) and the grading overhead, grading wall time / plain execution wall time (goal: at most
1.2).

With ``--cold`` it also grades with ``--cold-kernels`` (every kernel started from scratch in a
sandbox of its own), which shows what the warm kernels save.  Every grading run's grades.csv is
checked: each copy of an example notebook gets the same score, the complete one full marks and
the untouched one 0 (a fast grader that grades wrongly would prove nothing).

With ``--ceiling`` it also runs the notebooks plainly one at a time, and prints how much faster
W at a time is: the most any W-worker grader that runs the same cells can gain on this machine
over a serial one (a notebook keeps about one core busy; W of them at once share the caches and
memory bandwidth, so the gain is below W).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import REPO_ROOT, get_chapter  # noqa: E402
from autograder.examples import write_examples  # noqa: E402

BIN = Path(sys.executable).parent


def make_submissions(chapter, folder: Path, count: int) -> list[Path]:
    examples = write_examples(chapter, folder / "examples")
    mix = [e.path for e in examples]  # complete, untouched, partial
    files = []
    for n in range(count):
        path = folder / "class" / f"s{n + 1:03d}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(mix[n % len(mix)], path)
        files.append(path)
    return files


def run_stock(chapter, files: list[Path], root: Path) -> float:
    course = root / "stock"
    shutil.copytree(chapter.instructor_notebook.parent, course / "source" / chapter.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        "c.Execute.timeout = 300\n", encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", chapter.name, "--force"],
                   cwd=course, env=env, check=True, capture_output=True)
    for path in files:
        target = course / "submitted" / path.stem / chapter.name / f"{chapter.name}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(path, target)
    started = time.perf_counter()
    subprocess.run([str(BIN / "nbgrader"), "autograde", chapter.name, "--force",
                    "--Autograde.create_student=True"], cwd=course, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def run_ours(chapter, folder: Path, out: Path, workers: int, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", chapter.name, str(folder),
                    "--out", str(out), "--workers", str(workers), *extra], cwd=REPO_ROOT,
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    check_grades(out / "grades.csv")
    return elapsed


def check_grades(grades_csv: Path) -> None:
    """Copies of one example score alike; complete scores full, untouched 0 (see make_submissions:
    submission n is a copy of example n mod 3)."""
    with grades_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_kind: dict[int, set[tuple[float, str]]] = {}
    for row in rows:
        kind = (int(row["student_id"].lstrip("s")) - 1) % 3
        by_kind.setdefault(kind, set()).add((float(row["score"]), row["status"]))
    complete, untouched = by_kind[0], by_kind[1]
    maximum = float(rows[0]["max_score"])
    problems = [f"{kind}: {found}" for kind, found in by_kind.items() if len(found) != 1]
    if complete != {(maximum, "graded")} or untouched != {(0.0, "graded")} or problems:
        raise SystemExit(f"wrong grades in {grades_csv}: {by_kind}")


def _plain(path: str) -> None:
    from autograder import notebook
    from autograder.execute import run_plain

    with tempfile.TemporaryDirectory() as tmp:
        run_plain(notebook.read(Path(path)), folder=Path(tmp), timeout=300)


def run_plain(files: list[Path], workers: int) -> float:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_plain, [str(p) for p in files]))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chapter", default="ch01_keras_api")
    parser.add_argument("--ceiling", action="store_true",
                        help="also time plain execution one at a time (adds a serial run)")
    parser.add_argument("--cold", action="store_true",
                        help="also grade with --cold-kernels (no warm kernel server)")
    args = parser.parse_args()
    chapter = get_chapter(args.chapter)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        files = make_submissions(chapter, root, args.submissions)
        print(f"{len(files)} submissions of {chapter.name}, {os.cpu_count()} cores", flush=True)
        plain = run_plain(files, args.workers)
        print(f"plain execution, {args.workers} at a time:   {plain:7.1f} s", flush=True)
        if args.ceiling:
            serial = run_plain(files, 1)
            print(f"plain execution, 1 at a time:      {serial:7.1f} s "
                  f"(ceiling: {args.workers} at a time is {serial / plain:.2f}x faster)",
                  flush=True)
        ours = run_ours(chapter, root / "class", root / "results", args.workers)
        print(f"autograder grade --workers {args.workers}:      {ours:7.1f} s", flush=True)
        if args.cold:
            cold = run_ours(chapter, root / "class", root / "results-cold", args.workers,
                            "--cold-kernels")
            print(f"  the same with --cold-kernels:    {cold:7.1f} s "
                  f"(warm kernels are {cold / ours:.2f}x faster)", flush=True)
        stock = run_stock(chapter, files, root)
        print(f"stock nbgrader autograde (serial): {stock:7.1f} s", flush=True)
    speedup, overhead = stock / ours, ours / plain
    verdict = {True: "met", False: "MISSED"}
    print(f"speed-up over stock: {speedup:.2f}x (goal >= 1.8x: {verdict[speedup >= 1.8]})")
    print(f"grading overhead:    {overhead:.2f} (goal <= 1.2: {verdict[overhead <= 1.2]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
