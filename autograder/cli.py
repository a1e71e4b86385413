"""``python -m autograder``: release student notebooks, grade submissions, run the demo.

A thin layer over the keyword-only API: every option's default comes from the function it calls.
Errors the user can fix are printed as one line (exit status 2), not as a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from autograder import late, lms, release, reports, review, selfcheck, term
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
    if args.mode == "assessed" and args.out is None:
        raise CourseError("an assessed release needs --out FOLDER (notebooks/ holds the practice "
                          "release)")
    written = release.release_all(dest=args.out, mode=args.mode)
    for path in written:
        print(f"released {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return 0


def _grade(chapter_name: str, submissions: Path, out: Path, *, workers: int | None,
           limits: Limits, id_pattern: str | None = None, whole_notebook: bool = False,
           fresh: bool = False, only: frozenset[str] = frozenset(),
           timestamps: dict[str, str] | None = None, cluster: str | None = None) -> int:
    chapter = get_chapter(chapter_name)
    if not submissions.exists():
        raise CourseError(f"submissions folder not found: {submissions}")
    if cluster is None:
        require_sandbox(limits.sandbox)
    else:
        from autograder.cluster import check_reachable

        check_reachable(cluster)
    if not limits.sandbox.enabled:
        print("warning: grading WITHOUT the sandbox (--no-sandbox): student code runs with "
              "your rights and can read your files", file=sys.stderr)
    out = _results_folder(out)
    started = time.monotonic()
    result = grade_folder(chapter=chapter, submissions=submissions, workers=workers,
                          limits=limits, id_pattern=id_pattern, progress=print_progress,
                          whole_notebook=whole_notebook, cache=out, fresh=fresh, only=only,
                          timestamps=timestamps, cluster=cluster)
    if not result.results:
        raise CourseError(f"no files to grade in {submissions}")
    graded = reports.write_all(result, out)
    print(reports.grade_table(graded))
    ran = len(result.results) - result.reused
    print(f"\ngraded {ran} submission(s) in {time.monotonic() - started:.0f} s"
          + (f"; {result.reused} unchanged since an earlier run into {out} were not graded "
             "again (--fresh grades everything)" if result.reused else ""))
    waiting = len(term.waiting(graded.settled))
    print(f"wrote {out / 'grades.csv'}, {out / 'report.md'} (with score_histogram.png) and "
          f"{len(result.results)} feedback pages in {out / 'feedback'}"
          + (f"\n{waiting} submission(s) wait for review: python -m autograder review {out}"
             if waiting else ""))
    return 0


def _results_folder(out: Path) -> Path:
    out = out.resolve()
    if out == REPO_ROOT or REPO_ROOT / "source" in [out, *out.parents] or \
            REPO_ROOT / "notebooks" in [out, *out.parents]:
        raise CourseError(f"--out must not be inside source/ or notebooks/: {out}")
    return out


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                  output_mb=args.output_mb,
                  sandbox=SandboxPolicy(enabled=not args.no_sandbox, memory_mb=args.memory_mb,
                                        warm=not args.cold_kernels))


def _cmd_grade(args: argparse.Namespace) -> int:
    out = _results_folder(args.out)
    if args.due:
        policy = late.make_policy(due=args.due, late=args.late, extensions=args.extensions)
        term.save_late_policy(out, policy)
    elif args.late or args.extensions:
        raise CourseError("--late and --extensions need --due")
    stamps = {sid: when.isoformat() for sid, when in
              late.read_timestamps(args.timestamps).items()} if args.timestamps else None
    only = frozenset(x.strip() for x in (args.only or "").split(",") if x.strip())
    return _grade(args.chapter, args.submissions, out, workers=args.workers,
                  limits=_limits(args), id_pattern=args.id_pattern,
                  whole_notebook=args.full_notebook, fresh=args.fresh, only=only,
                  timestamps=stamps, cluster=args.cluster)


def _cmd_review(args: argparse.Namespace) -> int:
    folder = args.results.resolve()
    if args.clear:
        print(review.clear(folder, student_id=args.clear, reason=args.reason))
    elif args.set:
        print(review.set_points(folder, student_id=args.set[0], assignment=args.set[1],
                                reason=args.reason))
    elif args.set_group:
        print(review.set_group(folder, target=args.set_group, reason=args.reason))
    elif args.by_item:
        print(f"wrote {review.by_item_page(folder, gid=args.by_item)}")
    else:
        print(review.waiting_text(folder))
    return 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    folder = args.results.resolve()
    now = late.parse_due(args.now) if args.now else None
    graded = reports.write_pages(review.load(folder), folder, now=now)
    print(f"wrote {len(graded.settled)} feedback pages in {folder / 'feedback'} "
          f"(as of {graded.now.isoformat(timespec='minutes')})")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    folder = args.results.resolve()
    graded = review.settled(folder)
    rows = [lms.GradeRow(s.result.student_id, s.score, s.result.max_score, s.flagged)
            for s in review.main_rows(graded.settled).values()]
    summary = lms.export_grades(rows, fmt=args.format, out=args.out, roster=args.roster,
                                column=args.column, missing=args.missing, flagged=args.flagged)
    print(f"wrote {summary.written} grades to {summary.path}")
    if summary.unmatched:
        print(f"not in the roster, so not in the file ({len(summary.unmatched)}): "
              f"{', '.join(summary.unmatched)}")
    if summary.missing:
        print(f"in the roster with no submission ({len(summary.missing)}, given "
              f"{'0' if args.missing == 'zero' else 'a blank'}): {', '.join(summary.missing)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    for path in release.release_all():
        print(f"released {path.relative_to(REPO_ROOT)}")
    chapter = get_chapter(DEMO_CHAPTER)
    submissions = args.out / "submissions"
    for example in write_examples(chapter, submissions):
        print(f"example submission {example.path}")
    # The demo checks the grader on this machine: it always grades, never reuses earlier runs.
    code = _grade(DEMO_CHAPTER, submissions, args.out / "grades", workers=args.workers,
                  limits=_limits(args), whole_notebook=args.full_notebook, fresh=True)
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


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder import check
    from autograder.release import hidden_checks

    path = args.notebook
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CourseError(f"cannot read {path} as a notebook: {err}") from None
    chapter = _chapter_of(nb)
    hidden = hidden_checks(read(chapter.instructor_notebook)) if chapter else 0
    report = check._check(nb, name=path.name, folder=str(path.resolve().parent),
                          run=not args.no_run)
    print(check._words(report, hidden_checks=hidden))
    return 1 if report.problems else 0


def _chapter_of(nb: dict):
    """The chapter whose graded cells the notebook shares most, if any."""
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])}
    best, shared = None, 0
    for chapter in find_chapters():
        own = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
               for c in read(chapter.instructor_notebook).cells}
        if len(ids & own - {None}) > shared:
            best, shared = chapter, len(ids & own - {None})
    return best


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
    p.add_argument("--mode", choices=release.MODES, default="practice",
                   help="practice: instant correct / not yet on practice questions (self-study, "
                   "Colab; what notebooks/ holds); assessed: without it, for graded work")
    p.add_argument("--out", type=Path, default=None,
                   help="the folder to release into (default: notebooks/; required with "
                   "--mode assessed)")
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
    p.add_argument("--fresh", action="store_true",
                   help="grade every submission again, ignoring what earlier runs into --out "
                        "kept")
    p.add_argument("--only", metavar="ID[,ID...]",
                   help="grade these students again even if their files have not changed")
    p.add_argument("--due", metavar="TIME",
                   help="due date and time, ISO 8601 (e.g. 2026-11-20T23:59+01:00; no offset "
                        "means UTC); kept in --out for later runs")
    p.add_argument("--late", metavar="POLICY",
                   help="deduction for late work: '<percent per day>,max=<percent>' or 'zero' "
                        "(default: none; lateness is still reported)")
    p.add_argument("--extensions", type=Path, metavar="CSV",
                   help="CSV with columns student_id,due: each student's own due time")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on this Dask scheduler's workers (e.g. tcp://10.0.0.5:8786) "
                        "instead of on this machine; each worker needs the course's "
                        "environment and bubblewrap")
    p.add_argument("--timestamps", type=Path, metavar="CSV",
                   help="CSV with columns student_id,submitted_at (ISO 8601); otherwise a "
                        "zip entry's time is used")
    _add_limit_options(p)
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("review", help="list what waits for a person, or record a decision")
    p.add_argument("results", type=Path, help="a results folder written by grade")
    p.add_argument("--clear", metavar="STUDENT", help="clear the flag on a submission")
    p.add_argument("--set", nargs=2, metavar=("STUDENT", "GRADE_ID=POINTS"),
                   help="set one item's points for one student")
    p.add_argument("--by-item", metavar="GRADE_ID",
                   help="write one page with every student's answer to an item, grouped")
    p.add_argument("--set-group", metavar="GRADE_ID:GROUP=POINTS",
                   help="set an item's points for every student of one group of --by-item")
    p.add_argument("--reason", help="why (kept in overrides.csv with who and when)")
    p.set_defaults(func=_cmd_review)

    p = sub.add_parser("feedback", help="write the feedback pages again from stored results "
                                        "(after a policy or date change)")
    p.add_argument("results", type=Path, help="a results folder written by grade")
    p.add_argument("--now", metavar="TIME", help="write the pages as of this time (ISO 8601)")
    p.set_defaults(func=_cmd_feedback)

    p = sub.add_parser("export", help="write grades in a file an LMS imports")
    p.add_argument("results", type=Path, help="a results folder written by grade")
    p.add_argument("--format", choices=lms.FORMATS, required=True)
    p.add_argument("--out", type=Path, required=True, help="the file to write")
    p.add_argument("--roster", type=Path,
                   help="the LMS's own grade export (Canvas: required; Moodle: optional)")
    p.add_argument("--column", help="the gradebook column (Canvas: required)")
    p.add_argument("--missing", choices=("blank", "zero"), default="blank",
                   help="what roster students with no submission get (default: blank)")
    p.add_argument("--flagged", choices=("blank", "zero"), default="blank",
                   help="what a flagged, not yet cleared submission exports as "
                        "(default: blank)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("demo", help="release, then grade chapter 1's example submissions")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "demo")
    _add_limit_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("check", help="check a notebook before handing it in: what is missing, "
                                     "what fails, and whether it runs from the top")
    p.add_argument("notebook", type=Path, help="the .ipynb file")
    p.add_argument("--no-run", action="store_true",
                   help="only list unanswered items; do not run the notebook")
    p.set_defaults(func=_cmd_check)

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
