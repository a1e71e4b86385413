"""Benchmark: grading a class with stock nbgrader against `python -m autograder grade`.

    .venv/bin/python tests/benchmark_grading.py [--submissions 40] [--workers 2]
        [--chapter NAME ...] [--overhead] [--ceiling] [--cold] [--no-stock] [--no-whole]
        [--cluster]

Not a timed test: it prints its figures.  For each chapter (all by default), on the same N
submissions (a mix of complete, partly correct and untouched notebooks made from the chapter),
it measures in one run:

* this course's grader running the whole notebook (``--full-notebook``);
* this course's grader as it grades by default, leaving out the lesson cells nothing graded
  needs (goal: at least 3x faster than the whole notebook);
* stock nbgrader: `nbgrader autograde` over a course directory with a gradebook (serial; goal:
  the default grader at least 5x faster on two cores).

The two runs of our grader must give the same grades.csv, notes aside (the script stops if
not), and each is checked: every copy of an example notebook gets the same score, the complete
one full marks and the untouched one 0 (a fast grader that grades wrongly would prove nothing).

``--cluster`` adds the same grading on a Dask LocalCluster of 1 and W worker processes, with
the cluster's overhead over local grading with as many workers (goal: within 10 %) and its
scaling from 1 to W workers.

``--overhead`` adds plain execution (nbclient, W at a time, nothing else) and prints the
grading overhead; ``--ceiling`` adds a serial plain run, which shows how much faster W notebooks
at a time run on the machine at all; ``--cold`` adds a run with ``--cold-kernels``, which shows
what the warm kernels save.
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

from autograder.course import REPO_ROOT, find_chapters, get_chapter  # noqa: E402
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


def bench_chapter(chapter, args) -> dict[str, float]:
    """One chapter's figures, all on the same submissions and in one run."""
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        files = make_submissions(chapter, root, args.submissions)
        print(f"\n{chapter.name}: {len(files)} submissions, {os.cpu_count()} cores", flush=True)
        times: dict[str, float] = {}
        if args.overhead or args.ceiling:
            times["plain"] = run_plain(files, args.workers)
            print(f"  plain execution, {args.workers} at a time:    {times['plain']:7.1f} s",
                  flush=True)
        if args.ceiling:
            serial = run_plain(files, 1)
            print(f"  plain execution, 1 at a time:       {serial:7.1f} s "
                  f"(ceiling: {args.workers} at a time is {serial / times['plain']:.2f}x faster)",
                  flush=True)
        if not args.no_whole:
            times["full"] = run_ours(chapter, root / "class", root / "results-full",
                                     args.workers, "--full-notebook")
            print(f"  autograder, whole notebook:         {times['full']:7.1f} s", flush=True)
        times["cut"] = run_ours(chapter, root / "class", root / "results", args.workers)
        print(f"  autograder, lessons left out:       {times['cut']:7.1f} s"
              + (f" ({times['full'] / times['cut']:.2f}x faster than the whole notebook)"
                 if "full" in times else ""), flush=True)
        if args.cold:
            cold = run_ours(chapter, root / "class", root / "results-cold", args.workers,
                            "--cold-kernels")
            print(f"  the same with --cold-kernels:       {cold:7.1f} s "
                  f"(warm kernels are {cold / times['cut']:.2f}x faster)", flush=True)
        if args.cluster:
            bench_cluster(chapter, root, times, args.workers)
        if not args.no_stock:
            times["stock"] = run_stock(chapter, files, root)
            print(f"  stock nbgrader autograde (serial):  {times['stock']:7.1f} s", flush=True)
        if "full" in times:
            same_grades(root / "results-full" / "grades.csv", root / "results" / "grades.csv")
    return times


def bench_cluster(chapter, root: Path, times: dict[str, float], workers: int) -> None:
    """The same submissions on a Dask LocalCluster of 1 and of ``workers`` worker processes,
    against local grading with as many workers (the cluster's overhead per task)."""
    import dask
    from distributed import LocalCluster

    for count in sorted({1, workers}):
        local = times["cut"] if count == workers else run_ours(
            chapter, root / "class", root / f"results-local-{count}", count)
        with dask.config.set({"distributed.scheduler.allowed-failures": 2}), \
                LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None, memory_limit=0) as cluster:
            out = root / f"results-cluster-{count}"
            took = run_ours(chapter, root / "class", out, count, "--cluster",
                            cluster.scheduler_address)
        same_grades(root / "results" / "grades.csv", out / "grades.csv")
        times[f"cluster-{count}"] = took
        print(f"  Dask LocalCluster, {count} worker(s):     {took:7.1f} s (local --workers "
              f"{count}: {local:.1f} s; cluster overhead {100 * (took / local - 1):+.1f} %)",
              flush=True)
    if workers > 1:
        print(f"  cluster scaling, 1 -> {workers} workers:     "
              f"{times['cluster-1'] / times[f'cluster-{workers}']:.2f}x", flush=True)


def same_grades(full_csv: Path, cut_csv: Path) -> None:
    """Leaving lessons out must not change one point: every column but the notes is equal."""
    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(newline="", encoding="utf-8") as handle:
            return [{k: v for k, v in row.items() if k != "notes"}
                    for row in csv.DictReader(handle)]
    if rows(full_csv) != rows(cut_csv):
        raise SystemExit(f"the cut run graded differently from the whole notebook: {cut_csv}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chapter", action="append",
                        help="a chapter to measure (repeatable; default: every chapter)")
    parser.add_argument("--overhead", action="store_true",
                        help="also time plain execution W at a time (the grading overhead)")
    parser.add_argument("--ceiling", action="store_true",
                        help="also time plain execution one at a time (adds a serial run)")
    parser.add_argument("--cold", action="store_true",
                        help="also grade with --cold-kernels (no warm kernel server)")
    parser.add_argument("--no-stock", action="store_true", help="skip stock nbgrader")
    parser.add_argument("--no-whole", action="store_true",
                        help="skip the whole-notebook run (for a cluster-only measurement)")
    parser.add_argument("--cluster", action="store_true",
                        help="also grade on a Dask LocalCluster of 1 and W worker processes")
    args = parser.parse_args()
    chapters = [get_chapter(name) for name in args.chapter] if args.chapter else find_chapters()
    figures = {chapter.name: bench_chapter(chapter, args) for chapter in chapters}
    verdict = {True: "met", False: "MISSED"}
    print("\nchapter            whole/cut   stock/cut")
    for name, times in figures.items():
        if "full" not in times:
            continue
        cut_gain = times["full"] / times["cut"]
        line = f"{name:18} {cut_gain:8.2f}x  (goal >= 3x: {verdict[cut_gain >= 3]})"
        if "stock" in times:
            stock_gain = times["stock"] / times["cut"]
            line += f"   {stock_gain:6.2f}x (goal >= 5x: {verdict[stock_gain >= 5]})"
        if "plain" in times:
            line += f"   overhead cut/plain {times['cut'] / times['plain']:.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
