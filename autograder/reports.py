"""What grading writes: ``grades.csv``, one feedback page per student, and a printed table."""

from __future__ import annotations

import csv
import html
from pathlib import Path

from autograder.grade import ClassResult, SubmissionResult

BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "notes"]


def _points(value: float) -> str:
    return f"{value:g}"


def write_grades_csv(result: ClassResult, path: Path) -> Path:
    """One row per submission, with one column of points per graded test cell."""
    test_ids = [t.grade_id for t in result.results[0].tests] if result.results else []
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(BASE_COLUMNS + test_ids)
        for r in result.results:
            earned = {t.grade_id: _points(t.points) for t in r.tests}
            writer.writerow(
                [r.student_id, r.assignment, _points(r.score), _points(r.max_score), r.status,
                 "; ".join(r.notes)] + [earned.get(gid, "0") for gid in test_ids]
            )
    return path


FEEDBACK_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
.pass { color: #17692d; font-weight: 600; } .fail { color: #a11d1d; font-weight: 600; }
code { white-space: pre-wrap; font-size: .9em; }
"""


def feedback_html(r: SubmissionResult) -> str:
    """A student's feedback: each graded item, pass or fail, and the failure message.

    It never contains test code: hidden tests stay hidden after grading.
    """
    rows = []
    for t in r.tests:
        verdict = ('<span class="pass">passed</span>' if t.passed
                   else '<span class="fail">failed</span>')
        rows.append(
            f"<tr><td>{html.escape(t.title)}<br><small>{html.escape(t.grade_id)}</small></td>"
            f"<td>{verdict}</td><td>{_points(t.points)} / {_points(t.max_points)}</td>"
            f"<td><code>{html.escape(t.message)}</code></td></tr>"
        )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in r.notes)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Feedback: {html.escape(r.assignment)} - {html.escape(r.student_id)}</title>"
        f"<style>{FEEDBACK_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(r.assignment)}: feedback for {html.escape(r.student_id)}</h1>\n"
        f"<p><strong>Score: {_points(r.score)} / {_points(r.max_score)}</strong>"
        f" &middot; status: {html.escape(r.status)}</p>\n"
        + (f"<ul>{notes}</ul>\n" if notes else "")
        + "<table><thead><tr><th>Item</th><th>Result</th><th>Points</th><th>Message</th></tr>"
        "</thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n</body></html>\n"
    )


def write_feedback(result: ClassResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for r in result.results:
        path = folder / f"{r.student_id}.html"
        path.write_text(feedback_html(r), encoding="utf-8")
        written.append(path)
    return written


def grade_table(result: ClassResult) -> str:
    """The grades as a fixed-width text table, for the terminal."""
    header = ("student_id", "score", "status")
    rows = [(r.student_id, f"{_points(r.score)}/{_points(r.max_score)}", r.status)
            for r in result.results]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_all(result: ClassResult, out: Path) -> dict[str, Path]:
    return {
        "grades": write_grades_csv(result, out / "grades.csv"),
        "feedback": out / "feedback",
        **{f"feedback/{p.stem}": p for p in write_feedback(result, out / "feedback")},
    }
