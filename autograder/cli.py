"""``python -m autograder``: release student notebooks, grade submissions, run the demo.

A thin layer over the keyword-only API: every option's default comes from the function it calls.
Errors the user can fix are printed as one line (exit status 2), not as a traceback.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from autograder import release, reports, selfcheck
from autograder.course import REPO_ROOT, find_chapters, get_chapter
from autograder.errors import CourseError
from autograder.examples import write_examples
from autograder.execute import Limits
from autograder.grade import grade_folder
from autograder.isolation.sandbox import SandboxPolicy, require_sandbox
from autograder.notebook import is_canonical, read, write
from autograder.outputs import refresh_outputs
from autograder.progress import print_progress

DEMO_CHAPTER = "ch01_keras_api"


def _cmd_release(args: argparse.Namespace) -> int:
    if args.check:
        release.check_in_sync()
        print("notebooks/ is in sync with source/")
        return 0
    written = release.release_all()
    for path in written:
        print(f"released {path.relative_to(REPO_ROOT)}")
    return 0


def _grade(chapter_name: str, submissions: Path, out: Path, *, workers: int | None,
           limits: Limits, id_pattern: str | None = None, whole_notebook: bool = False) -> int:
    chapter = get_chapter(chapter_name)
    if not submissions.exists():
        raise CourseError(f"submissions folder not found: {submissions}")
    require_sandbox(limits.sandbox)
    if not limits.sandbox.enabled:
        print("warning: grading WITHOUT the sandbox (--no-sandbox): student code runs with "
              "your rights and can read your files", file=sys.stderr)
    out = out.resolve()
    if out == REPO_ROOT or REPO_ROOT / "source" in [out, *out.parents] or \
            REPO_ROOT / "notebooks" in [out, *out.parents]:
        raise CourseError(f"--out must not be inside source/ or notebooks/: {out}")
    result = grade_folder(chapter=chapter, submissions=submissions, workers=workers,
                          limits=limits, id_pattern=id_pattern, progress=print_progress,
                          whole_notebook=whole_notebook)
    if not result.results:
        raise CourseError(f"no files to grade in {submissions}")
    reports.write_all(result, out)
    print(reports.grade_table(result))
    print(f"\nwrote {out / 'grades.csv'}, {out / 'report.md'} (with score_histogram.png) and "
          f"{len(result.results)} feedback pages in {out / 'feedback'}")
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                  output_mb=args.output_mb,
                  sandbox=SandboxPolicy(enabled=not args.no_sandbox, memory_mb=args.memory_mb,
                                        warm=not args.cold_kernels))


def _cmd_grade(args: argparse.Namespace) -> int:
    return _grade(args.chapter, args.submissions, args.out, workers=args.workers,
                  limits=_limits(args), id_pattern=args.id_pattern,
                  whole_notebook=args.full_notebook)


def _cmd_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    for path in release.release_all():
        print(f"released {path.relative_to(REPO_ROOT)}")
    chapter = get_chapter(DEMO_CHAPTER)
    submissions = args.out / "submissions"
    for example in write_examples(chapter, submissions):
        print(f"example submission {example.path}")
    code = _grade(DEMO_CHAPTER, submissions, args.out / "grades", workers=args.workers,
                  limits=_limits(args), whole_notebook=args.full_notebook)
    print(f"demo finished in {time.monotonic() - started:.0f} s")
    return code or _check_demo(args.out / "grades" / "grades.csv")


def _check_demo(grades_csv: Path) -> int:
    """The complete example must score full marks and the untouched one 0; anything else means
    the grader does not work on this machine, and the demo says so instead of passing."""
    with grades_csv.open(newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    complete, untouched = rows["example-complete"], rows["example-untouched"]
    if float(complete["score"]) == float(complete["max_score"]) and \
            float(untouched["score"]) == 0:
        return 0
    print(f"error: the complete example scored {complete['score']}/{complete['max_score']} "
          f"({complete['status']}) and the untouched one {untouched['score']}: the grader is "
          "not working on this machine", file=sys.stderr)
    return 1


def _cmd_outputs(args: argparse.Namespace) -> int:
    chapters = [get_chapter(name) for name in args.chapters] or find_chapters()
    for chapter in chapters:
        stored = refresh_outputs(chapter)
        print(f"{chapter.name}: stored the outputs of {stored} checked cells")
    return 0


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    stale = []
    for chapter in [get_chapter(name) for name in args.chapters] or find_chapters():
        nb = read(chapter.instructor_notebook)
        changed = selfcheck.sync(nb, chapter.name)
        if changed and args.check:
            stale.append(f"{chapter.name}: {', '.join(changed)}")
        elif changed:
            write(nb, chapter.instructor_notebook)
            print(f"{chapter.name}: updated the self-check digests of {', '.join(changed)}")
    for line in stale:
        print(f"self-check digests out of date: {line}")
    return 1 if stale else 0


def _cmd_fmt(args: argparse.Namespace) -> int:
    paths = args.paths or sorted([*REPO_ROOT.glob("source/*/*.ipynb"),
                                  *REPO_ROOT.glob("notebooks/*/*.ipynb")])
    bad = [p for p in paths if not is_canonical(p)]
    if args.check:
        for p in bad:
            print(f"not canonical: {p}")
        return 1 if bad else 0
    for p in bad:
        write(read(p), p)
        print(f"reformatted {p}")
    return 0


def _add_limit_options(p: argparse.ArgumentParser) -> None:
    d = Limits()
    p.add_argument("--workers", type=int, default=None,
                   help="submissions graded at once (default: one per core)")
    p.add_argument("--cell-timeout", type=int, default=d.cell_timeout,
                   help=f"seconds one cell may run (default {d.cell_timeout})")
    p.add_argument("--notebook-timeout", type=int, default=d.notebook_timeout,
                   help=f"seconds a whole notebook may run (default {d.notebook_timeout})")
    p.add_argument("--memory-mb", type=int, default=d.sandbox.memory_mb,
                   help=f"address-space cap per submission (default {d.sandbox.memory_mb} MB)")
    p.add_argument("--output-mb", type=int, default=d.output_mb,
                   help=f"output kept per cell and per submission (default {d.output_mb} MB)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code without isolation (never for a real class)")
    p.add_argument("--cold-kernels", action="store_true",
                   help="start every kernel from scratch in its own sandbox instead of forking "
                        "it from a warm server that has imported the libraries (slower)")
    p.add_argument("--full-notebook", action="store_true",
                   help="run every lesson cell, not only those the graded cells need "
                        "(slower; the grades are the same)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="generate notebooks/ from source/ with nbgrader")
    p.add_argument("--check", action="store_true",
                   help="change nothing; fail if notebooks/ differs from a fresh release")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("grade", help="grade a folder or .zip of submitted notebooks")
    p.add_argument("chapter", help="chapter folder name in source/, e.g. ch01_keras_api")
    p.add_argument("submissions", type=Path,
                   help="folder or .zip: <student_id>.ipynb files, an LMS export, or "
                        "nbgrader's submitted/<student>/<chapter>/ layout")
    p.add_argument("--out", type=Path, required=True,
                   help="folder for grades.csv, report.md and feedback/")
    p.add_argument("--id-pattern", default=None,
                   help="regular expression with a group (?P<id>...) that finds the student id "
                        "in a file name (default: <id>.ipynb or Canvas-style LMS names)")
    _add_limit_options(p)
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("demo", help="release, then grade chapter 1's example submissions")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "demo")
    _add_limit_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("outputs", help="store fresh outputs of the nbval-check-output cells")
    p.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    p.set_defaults(func=_cmd_outputs)

    p = sub.add_parser("selfcheck", help="write the practice questions' self-check digests")
    p.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    p.add_argument("--check", action="store_true", help="change nothing; fail if any is stale")
    p.set_defaults(func=_cmd_selfcheck)

    p = sub.add_parser("fmt", help="write notebooks in the canonical form")
    p.add_argument("paths", nargs="*", type=Path)
    p.add_argument("--check", action="store_true", help="change nothing; fail if any is not")
    p.set_defaults(func=_cmd_fmt)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # On a line of its own, after any progress bar.
        print("\ninterrupted", file=sys.stderr)
        return 130
