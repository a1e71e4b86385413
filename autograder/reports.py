"""What grading writes: ``grades.csv``, one feedback page per student, the instructor's report
(``report.md`` with per-exercise pass rates and the flagged and failed submissions, and
``score_histogram.png``), and the table printed in the terminal.  The same input gives the same
files: rows keep the intake's order and nothing records a time."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autograder import records, tables, term
from autograder.feedback import FeedbackPolicy, load_policy, shown_message
from autograder.grade import ClassResult, SubmissionResult
from autograder.late import LatePolicy
from autograder.results import NOT_RUN, Outcome, Status, student_status
from autograder.tables import csv_text, md_text
from autograder.term import Settled

BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "flags", "notes",
                "file", "auto_score", "override", "raw_score", "late_hours", "penalty"]


def _points(value: float) -> str:
    return f"{value:g}"


def write_grades_csv(graded: Graded, path: Path) -> Path:
    """One row per submission, with one column of points per graded test cell.  ``score`` is
    the grade: ``auto_score`` is the grader's, ``raw_score`` the grade after an instructor's
    decisions (``override``), before any late ``penalty`` (percent)."""
    test_ids = list(graded.item_ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [BASE_COLUMNS + test_ids]
    for s in graded.settled:
        r, earned = s.result, dict(s.items)
        late = s.late
        rows.append(
            [csv_text(r.student_id), csv_text(r.assignment), _points(s.score),
             _points(r.max_score), csv_text(_status_cell(s)), csv_text("; ".join(r.flags)),
             csv_text("; ".join(_notes(s))), csv_text(r.filename),
             _points(s.auto_score), csv_text(s.override_text), _points(s.raw_score),
             "" if late is None or late.late_hours is None else f"{late.late_hours:g}",
             "" if late is None else _points(late.penalty_percent)]
            + [_points(earned.get(gid, 0.0)) for gid in test_ids]
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        tables.write_rows(handle, rows)
    return path


def _status_cell(s: Settled) -> str:
    text = s.result.status_text
    if s.late is not None and s.late.late_hours is None and s.result.late_marker:
        text += "; late by an unknown amount (marked LATE, no submission time)"
    return f"{text} (cleared on review)" if s.cleared else text


def _notes(s: Settled) -> list[str]:
    notes = list(s.result.notes)
    if s.late is not None and s.late.note:
        notes.append(s.late.note)
    notes += [f"a decision on an earlier file ({d.action} {d.grade_id}) was not applied"
              for d in s.stale]
    return notes


# Colours meet WCAG AA for normal text on white (contrast at least 4.5:1): #1b1b1b 17.2:1,
# #17692d 6.8:1, #a11d1d 7.8:1, #595959 7.0:1 (tests/test_check.py computes them).  On a narrow
# screen each item becomes a block.
FEEDBACK_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 1rem auto; padding: 0 1rem;
       color: #1b1b1b; background: #fff; line-height: 1.45; }
.totals { font-size: 1.1rem; border: 2px solid #1b1b1b; border-radius: .4rem;
          padding: .6rem .9rem; }
.totals ul { margin: .3rem 0 0; padding-left: 1.2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #b3b3b3;
         vertical-align: top; }
small { color: #595959; }
.pass { color: #17692d; font-weight: 600; } .fail { color: #a11d1d; font-weight: 600; }
code { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .9em; }
@media (max-width: 36rem) {
  thead { display: none; }
  tr, td { display: block; border: 0; padding: .1rem 0; }
  tr { border-bottom: 1px solid #b3b3b3; padding: .5rem 0; }
}
"""


DEFAULT_POLICY = FeedbackPolicy()


def feedback_html(s: Settled, *, policy: FeedbackPolicy = DEFAULT_POLICY,
                  now: datetime | None = None, due: datetime | None = None) -> str:
    """A student's feedback: each graded item, passed, failed, stopped or not run, and why, at
    the level the chapter's feedback policy allows at ``now`` (:mod:`autograder.feedback`).

    It never contains test code: hidden tests stay hidden after grading.
    """
    r, earned = s.result, dict(s.items)
    now = now or datetime.now(UTC)
    rows = []
    for t in r.tests:
        verdict = f'<span class="{"pass" if t.passed else "fail"}">{t.outcome.value}</span>'
        changed = " (set on review)" if t.grade_id in s.overridden else ""
        message = shown_message(t, policy.level(t.grade_id, now=now, due=due))
        rows.append(
            f"<tr><td>{html.escape(t.title)}<br><small>{html.escape(t.grade_id)}</small></td>"
            f"<td>{verdict}</td><td>{_points(earned.get(t.grade_id, 0.0))} / "
            f"{_points(t.max_points)}{changed}</td>"
            f"<td><code>{html.escape(message)}</code></td></tr>"
        )
    notes = [n for n in r.notes if not n.startswith("scores ")]
    if s.late is not None and s.late.note:
        notes.append(s.late.note)
    listed = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    status = "graded (cleared on review)" if s.cleared else student_status(r.status, r.detail)
    counts = Counter(t.outcome for t in r.tests)
    tally = ", ".join(f"{counts[o]} {o.value}" for o in Outcome if counts[o])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Feedback: {html.escape(r.assignment)} - {html.escape(r.student_id)}</title>"
        f"<style>{FEEDBACK_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(r.assignment)}: feedback for {html.escape(r.student_id)}</h1>\n"
        f"<div class=\"totals\"><strong>Score: {_points(s.score)} / {_points(r.max_score)}"
        f"</strong> &middot; {html.escape(tally)}<br>status: {html.escape(status)}\n"
        + (f"<ul>{listed}</ul>\n" if listed else "") + "</div>\n"
        + "<table><thead><tr><th>Item</th><th>Result</th><th>Points</th><th>Message</th></tr>"
        "</thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n</body></html>\n"
    )


def _feedback_name(r: SubmissionResult, taken: set[str]) -> str:
    """A safe file name per row; a student's second file gets a numbered page of its own."""
    base = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in r.student_id) or "unknown"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def write_feedback(graded: Graded, folder: Path) -> list[Path]:
    """One page per submission (written again from scratch: a page never outlives its row)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.html"):
        old.unlink()
    written, taken = [], set()
    for s in graded.settled:
        due = graded.late.due_for(s.result.student_id) if graded.late else None
        path = folder / f"{_feedback_name(s.result, taken)}.html"
        path.write_text(feedback_html(s, policy=graded.policy, now=graded.now, due=due),
                        encoding="utf-8")
        written.append(path)
    return written


def pass_rates(graded: Graded) -> list[tuple[str, str, int, int]]:
    """(grade id, title, passed, graded) per test, over the submissions that were run."""
    ran = [s.result for s in graded.settled if s.result.status not in NOT_RUN]
    rows = []
    if not graded.settled:
        return rows
    for index, test in enumerate(graded.settled[0].result.tests):
        passed = sum(1 for r in ran if r.tests[index].passed)
        rows.append((test.grade_id, test.title, passed, len(ran)))
    return rows


def write_histogram(graded: Graded, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = [s.score for s in graded.settled]
    top = graded.settled[0].result.max_score if graded.settled else 1.0
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=min(20, max(5, int(top))), range=(0, top), color="#3b6ea8",
            edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"{graded.chapter}: scores of {len(scores)} submissions")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def _median(values: list[float]) -> float:
    ordered, half = sorted(values), len(values) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def _who(s: Settled) -> str:
    """A submission's student id and file name, as Markdown text."""
    return f"**{md_text(s.result.student_id)}** ({md_text(s.result.filename)})"


def report_markdown(graded: Graded) -> str:
    settled = graded.settled
    clean = [s for s in settled if s.result.ok or s.cleared]
    flagged = [s for s in settled if s.flagged]
    failed = [s for s in settled if not s.result.ok and s.result.status is not Status.FLAGGED]
    late = [s for s in settled if s.late is not None and s.late.penalty_percent]
    lines = [f"# Grading report: {md_text(graded.chapter)}", "",
             f"- submissions: {len(settled)}", f"- graded cleanly: {len(clean)}"
             + (f" (of which {sum(s.cleared for s in settled)} cleared on review)"
                if any(s.cleared for s in settled) else ""),
             f"- flagged for review and not yet reviewed (score 0 until then): {len(flagged)}",
             f"- not graded or stopped early: {len(failed)}",
             f"- items set by an instructor: {sum(len(s.overridden) for s in settled)}"]
    if graded.late is not None:
        lines.append(f"- late with a deduction: {len(late)} (due {graded.late.due.isoformat()})")
    if clean:
        scores = [s.score for s in clean]
        lines.append(f"- scores of those graded cleanly: mean {sum(scores) / len(scores):.2f}, "
                     f"median {_median(scores):g}, out of {clean[0].result.max_score:g}")
    lines += ["", "![score histogram](score_histogram.png)", "",
              "## Pass rate per exercise (lowest first)", "",
              "| item | grade id | passed | pass rate |", "| --- | --- | --- | --- |"]
    rates = sorted(pass_rates(graded), key=lambda row: (row[2] / row[3] if row[3] else 0, row[0]))
    for gid, title, passed, ran in rates:
        rate = f"{100 * passed / ran:.0f} %" if ran else "-"
        lines.append(f"| {md_text(title)} | {md_text(gid)} | {passed}/{ran} | {rate} |")
    lines += ["", "## Flagged for review", "",
              "`python -m autograder review <this folder>` lists them with what to do.", ""]
    lines += [f"- {_who(s)}: {md_text('; '.join(s.result.flags))}"
              f"; scores {s.result.cleared_score:g} if cleared" for s in flagged] or ["None."]
    lines += ["", "## Not graded or stopped early", ""]
    lines += [f"- {_who(s)}: {md_text(s.result.status_text)}" for s in failed] or ["None."]
    return "\n".join(lines) + "\n"


def grade_table(graded: Graded) -> str:
    """The grades as a fixed-width text table, for the terminal."""
    header = ("student_id", "score", "status")
    rows = [(s.result.student_id, f"{_points(s.score)}/{_points(s.result.max_score)}",
             _status_cell(s)) for s in graded.settled]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- from records to pages ------------------------------------------------------------------

@dataclass(frozen=True)
class Graded:
    """A class's grades as people read them: the records settled by the instructor's decisions
    and the late policy, with the chapter's feedback policy and the time the pages are for."""

    chapter: str
    settled: tuple[Settled, ...]
    policy: FeedbackPolicy
    now: datetime
    late: LatePolicy | None = None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(t.grade_id for t in self.settled[0].result.tests) if self.settled else ()


def settle_class(result: ClassResult, out: Path, *, now: datetime | None = None) -> Graded:
    """The class's records with the decisions and late policy kept in the results folder."""
    late = term.load_late_policy(out)
    settled = term.settle_all(result.results, term.read_overrides(out), late)
    return Graded(result.chapter.name, settled, load_policy(result.chapter),
                  now or datetime.now(UTC), late)


def write_all(result: ClassResult, out: Path, *, now: datetime | None = None) -> Graded:
    """Write everything a results folder holds: the records, then grades.csv, report.md with
    its histogram, and the feedback pages, all settled by the folder's decisions."""
    out.mkdir(parents=True, exist_ok=True)
    records.write_records(result.results, out)
    return write_pages(result, out, now=now)


def write_pages(result: ClassResult, out: Path, *, now: datetime | None = None) -> Graded:
    """grades.csv, report.md, the histogram and the feedback pages, from records already kept."""
    graded = settle_class(result, out, now=now)
    (out / "report.md").write_text(report_markdown(graded), encoding="utf-8")
    write_grades_csv(graded, out / "grades.csv")
    write_histogram(graded, out / "score_histogram.png")
    write_feedback(graded, out / "feedback")
    return graded
