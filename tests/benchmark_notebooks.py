"""Benchmark: execute every chapter notebook and print its wall time (not a timed test).

    .venv/bin/python tests/benchmark_notebooks.py [--repeat N] [chapter ...]

Each notebook runs in a fresh kernel, the way nbval and the grader run it; the figure is the
median of N runs.  Student notebooks run with their stubs unanswered (errors allowed).
Targets: chapter 1's instructor notebook under 60 s, every other one under 90 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import notebook  # noqa: E402
from autograder.course import find_chapters  # noqa: E402
from autograder.execute import run_plain  # noqa: E402

TARGETS = {"ch01_keras_api": 60.0}
DEFAULT_TARGET = 90.0


def run_once(path: Path) -> float:
    nb = notebook.read(path)
    started = time.perf_counter()
    run_plain(nb, folder=path.parent)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    chapters = [c for c in find_chapters() if not args.chapters or c.name in args.chapters]
    print(f"{'chapter':18s} {'notebook':11s} {'median s':>9s} {'runs (s)':28s} target")
    missed = 0
    for chapter in chapters:
        for kind, path in (("instructor", chapter.instructor_notebook),
                           ("student", chapter.student_notebook)):
            times = [run_once(path) for _ in range(args.repeat)]
            median = statistics.median(times)
            runs = ", ".join(f"{t:.1f}" for t in times)
            verdict = ""
            if kind == "instructor":
                target = TARGETS.get(chapter.name, DEFAULT_TARGET)
                ok = median < target
                missed += not ok
                verdict = f"< {target:.0f} s: {'met' if ok else 'MISSED'}"
            print(f"{chapter.name:18s} {kind:11s} {median:9.1f} {runs:28s} {verdict}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
