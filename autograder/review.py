"""Review: what waits for a person in a results folder, and the decisions they make there.

Everything here works from the records a ``grade`` kept (:mod:`autograder.records`); nothing runs
a notebook.  A decision is appended to ``overrides.csv`` (:mod:`autograder.term`) and the
folder's grades.csv, report and feedback pages are written again at once, so what they show
always includes every decision made so far.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder import records, reports, term
from autograder.course import get_chapter
from autograder.errors import CourseError
from autograder.feedback import Level, shown_message
from autograder.grade import ClassResult
from autograder.results import NOT_RUN, STOPPED, Outcome, Status
from autograder.term import Override, Settled

BY_ITEM = "by_item"


def load(folder: Path) -> ClassResult:
    """The class graded into ``folder``, from its records."""
    results = records.read_records(folder)
    return ClassResult(get_chapter(results[0].assignment), results)


def settled(folder: Path, klass: ClassResult | None = None) -> reports.Graded:
    """The class in ``folder`` settled by its decisions (``klass``: its records, if read)."""
    return reports.settle_class(klass or load(folder), folder)


def main_rows(graded: Sequence[Settled]) -> dict[str, Settled]:
    """Each student's graded row: the file that ran (not a duplicate, not a skipped file)."""
    def rank(s: Settled) -> tuple[bool, bool]:
        return s.result.status not in NOT_RUN, s.result.status is not Status.DUPLICATE

    rows: dict[str, Settled] = {}
    for s in graded:
        old = rows.get(s.result.student_id)
        if old is None or rank(s) > rank(old):
            rows[s.result.student_id] = s
    return rows


# --- what waits ---------------------------------------------------------------------------------

def waiting_text(folder: Path) -> str:
    """Every submission that waits for a person, with what to look at and the command that
    settles it."""
    graded = settled(folder)
    waiting = term.waiting(graded.settled)
    if not waiting:
        return f"nothing waits for review in {folder}"
    lines = [f"{len(waiting)} submission(s) wait for review in {folder}:"]
    for s in waiting:
        r = s.result
        lines.append(f"\n- {r.student_id} ({r.filename}): {r.status_text}")
        if s.flagged:
            lines.append(f"    scores {r.cleared_score:g} if cleared; to clear it:")
            lines.append(f"    python -m autograder review {folder} --clear {r.student_id} "
                         "--reason \"...\"")
        stopped = [t for t in r.tests if t.outcome is Outcome.STOPPED]
        for t in stopped:
            lines.append(f"    {t.grade_id}: {t.message}")
        if r.status in STOPPED or stopped:
            lines.append(f"    to give points by hand: python -m autograder review {folder} "
                         f"--set {r.student_id} <grade-id>=<points> --reason \"...\"")
        if s.late is not None and s.late.late_hours is None and r.late_marker:
            lines.append(f"    {s.late.note}")
        for d in s.stale:
            lines.append(f"    a decision ({d.action} {d.grade_id}: {d.reason}) was made on an "
                         "earlier file of this student and is not applied to this one")
    return "\n".join(lines)


# --- decisions ----------------------------------------------------------------------------------

def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise CourseError("a decision needs --reason \"...\" (it is kept in overrides.csv)")
    return reason.strip()


def _row(graded: reports.Graded, student_id: str) -> Settled:
    rows = main_rows(graded.settled)
    if student_id not in rows:
        raise CourseError(f"no submission from {student_id!r} in these results")
    return rows[student_id]


def clear(folder: Path, *, student_id: str, reason: str | None) -> str:
    """Clear the flag on a student's submission: it gets the score the grader computed."""
    klass = load(folder)
    graded = settled(folder, klass)
    row = _row(graded, student_id)
    if row.result.status is not Status.FLAGGED:
        raise CourseError(f"{student_id}'s submission is not flagged "
                          f"({row.result.status_text})")
    if row.cleared:
        return f"{student_id}: already cleared"
    term.append_overrides(folder, [Override(student_id, term.CLEAR, _require_reason(reason),
                                            row.result.digest)])
    reports.write_pages(klass, folder)
    return f"{student_id}: flag cleared; scores {row.result.cleared_score:g}"


def parse_assignment(text: str) -> tuple[str, float]:
    """``<grade-id>=<points>`` -> (grade id, points)."""
    gid, sep, value = text.partition("=")
    try:
        points = float(value)
    except ValueError:
        points = None
    if not sep or not gid or points is None:
        raise CourseError(f"{text!r} is not <grade-id>=<points>, e.g. ex2-binary-metrics-check=3")
    return gid.strip(), points


def _check_points(graded: reports.Graded, gid: str, points: float) -> None:
    tests = {t.grade_id: t for t in graded.settled[0].result.tests}
    if gid not in tests:
        raise CourseError(f"no graded item {gid!r} (items: {', '.join(tests)})")
    if not 0 <= points <= tests[gid].max_points:
        raise CourseError(f"{gid} is worth 0 to {tests[gid].max_points:g} points, not {points:g}")


def set_points(folder: Path, *, student_id: str, assignment: str, reason: str | None) -> str:
    """Set one item's points for one student."""
    gid, points = parse_assignment(assignment)
    klass = load(folder)
    graded = settled(folder, klass)
    _check_points(graded, gid, points)
    row = _row(graded, student_id)
    term.append_overrides(folder, [Override(student_id, term.SET, _require_reason(reason),
                                            row.result.digest, gid, points)])
    after = reports.write_pages(klass, folder)
    score = main_rows(after.settled)[student_id].score
    return f"{student_id}: {gid} set to {points:g}; score now {score:g}"


# --- grading by question ------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """Students whose answer to one item came out the same way (the same outcome and words)."""

    number: int
    outcome: Outcome
    message: str
    rows: tuple[Settled, ...]


def groups(graded: reports.Graded, gid: str) -> list[Group]:
    """The students' results on item ``gid``, grouped; the largest failing group first, the
    passes last, numbered from 1 in that order (the numbers ``--set-group`` takes)."""
    found: dict[tuple[Outcome, str], list[Settled]] = {}
    for s in main_rows(graded.settled).values():
        if s.result.status in NOT_RUN:
            continue
        test = next(t for t in s.result.tests if t.grade_id == gid)
        found.setdefault((test.outcome, shown_message(test, Level.HIDDEN)), []).append(s)
    order = sorted(found.items(), key=lambda kv: (kv[0][0] is Outcome.PASSED, -len(kv[1]),
                                                  kv[0][0].value, kv[0][1]))
    return [Group(n, outcome, message, tuple(rows))
            for n, ((outcome, message), rows) in enumerate(order, start=1)]


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #1b1b1b; }
section { border-top: 2px solid #444; margin-top: 1.5rem; }
pre { background: #f4f4f4; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.pass { color: #17692d; } .fail { color: #a11d1d; }
"""


def by_item_page(folder: Path, *, gid: str) -> Path:
    """One HTML page with every student's answer to item ``gid`` and its result, grouped by
    outcome and message, for grading by question."""
    graded = settled(folder)
    _check_points(graded, gid, 0)
    test = next(t for t in graded.settled[0].result.tests if t.grade_id == gid)
    parts = [f"<h1>{html.escape(graded.chapter)}: {html.escape(test.title)} "
             f"(<code>{html.escape(gid)}</code>)</h1>",
             "<p>Give one group points: <code>python -m autograder review "
             f"{html.escape(str(folder))} --set-group {html.escape(gid)}:&lt;group&gt;="
             "&lt;points&gt; --reason \"...\"</code></p>"]
    for group in groups(graded, gid):
        css = "pass" if group.outcome is Outcome.PASSED else "fail"
        parts.append(f"<section><h2>Group {group.number}: <span class=\"{css}\">"
                     f"{html.escape(group.outcome.value)}</span> &middot; {len(group.rows)} "
                     f"student(s)</h2><p><code>{html.escape(group.message)}</code></p>")
        for s in group.rows:
            answers = dict(s.result.answers)
            source = answers.get(next(t.answer_id for t in s.result.tests
                                      if t.grade_id == gid), "")
            points = dict(s.items)[gid]
            parts.append(f"<h3>{html.escape(s.result.student_id)} &middot; {points:g} / "
                         f"{test.max_points:g}</h3><pre>{html.escape(source)}</pre>")
        parts.append("</section>")
    path = folder / BY_ITEM / f"{gid}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    f"<title>{html.escape(gid)}</title><style>{PAGE_STYLE}</style></head><body>\n"
                    + "\n".join(parts) + "\n</body></html>\n", encoding="utf-8")
    return path


def set_group(folder: Path, *, target: str, reason: str | None) -> str:
    """``<grade-id>:<group>=<points>``: set the item's points for every student in a group of
    :func:`groups` (each student gets a row of their own in overrides.csv)."""
    left, points = parse_assignment(target)
    gid, _, number = left.rpartition(":")
    klass = load(folder)
    graded = settled(folder, klass)
    if not gid or not number.isdigit():
        raise CourseError(f"{target!r} is not <grade-id>:<group>=<points>, e.g. "
                          "ex2-binary-metrics-check:1=2")
    _check_points(graded, gid, points)
    chosen = [g for g in groups(graded, gid) if g.number == int(number)]
    if not chosen:
        raise CourseError(f"{gid} has no group {number} (see review --by-item {gid})")
    why = _require_reason(reason)
    term.append_overrides(folder, [Override(s.result.student_id, term.SET, why,
                                            s.result.digest, gid, points)
                                   for s in chosen[0].rows])
    reports.write_pages(klass, folder)
    return f"{gid}: set to {points:g} for {len(chosen[0].rows)} student(s) of group {number}"
