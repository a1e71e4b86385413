"""What grading writes: ``grades.csv``, one feedback page per student, the instructor's report
(``report.md`` with per-exercise pass rates and the flagged and failed submissions, and
``score_histogram.png``), and the table printed in the terminal.  The same input gives the same
files: rows keep the intake's order and nothing records a time."""

from __future__ import annotations

import csv
import html
from pathlib import Path

from autograder.grade import ClassResult, SubmissionResult
from autograder.messages import student_status

BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "flags", "notes",
                "file"]


def _points(value: float) -> str:
    return f"{value:g}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula (a student id
    taken from a file name such as ``=HYPERLINK(...).ipynb``) gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


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
                [csv_text(r.student_id), csv_text(r.assignment), _points(r.score),
                 _points(r.max_score), csv_text(r.status), csv_text("; ".join(r.flags)),
                 csv_text("; ".join(r.notes)), csv_text(r.filename)]
                + [earned.get(gid, "0") for gid in test_ids]
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
    """A student's feedback: each graded item, passed, failed, stopped or not run, and why.

    It never contains test code: hidden tests stay hidden after grading.
    """
    rows = []
    for t in r.tests:
        verdict = f'<span class="{"pass" if t.passed else "fail"}">{t.outcome.value}</span>'
        rows.append(
            f"<tr><td>{html.escape(t.title)}<br><small>{html.escape(t.grade_id)}</small></td>"
            f"<td>{verdict}</td><td>{_points(t.points)} / {_points(t.max_points)}</td>"
            f"<td><code>{html.escape(t.message)}</code></td></tr>"
        )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in r.notes
                    if not n.startswith("scores "))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Feedback: {html.escape(r.assignment)} - {html.escape(r.student_id)}</title>"
        f"<style>{FEEDBACK_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(r.assignment)}: feedback for {html.escape(r.student_id)}</h1>\n"
        f"<p><strong>Score: {_points(r.score)} / {_points(r.max_score)}</strong>"
        f" &middot; status: {html.escape(student_status(r.status))}</p>\n"
        + (f"<ul>{notes}</ul>\n" if notes else "")
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


def write_feedback(result: ClassResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written, taken = [], set()
    for r in result.results:
        path = folder / f"{_feedback_name(r, taken)}.html"
        path.write_text(feedback_html(r), encoding="utf-8")
        written.append(path)
    return written


def pass_rates(result: ClassResult) -> list[tuple[str, str, int, int]]:
    """(grade id, title, passed, graded) per test, over the submissions that were run."""
    ran = [r for r in result.results if r.ok or r.status.startswith(("flagged", "timeout",
                                                                       "kernel died"))]
    rows = []
    if not result.results:
        return rows
    for index, test in enumerate(result.results[0].tests):
        passed = sum(1 for r in ran if r.tests[index].passed)
        rows.append((test.grade_id, test.title, passed, len(ran)))
    return rows


def write_histogram(result: ClassResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = [r.score for r in result.results]
    top = result.results[0].max_score if result.results else 1.0
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=min(20, max(5, int(top))), range=(0, top), color="#3b6ea8",
            edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"{result.chapter.name}: scores of {len(scores)} submissions")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def report_markdown(result: ClassResult) -> str:
    results = result.results
    graded = [r for r in results if r.ok]
    flagged = [r for r in results if r.flags]
    failed = [r for r in results if not r.ok and not r.flags]
    lines = [f"# Grading report: {result.chapter.name}", "",
             f"- submissions: {len(results)}", f"- graded cleanly: {len(graded)}",
             f"- flagged for review (score 0 until reviewed): {len(flagged)}",
             f"- not graded or stopped early: {len(failed)}"]
    if graded:
        scores = sorted(r.score for r in graded)
        mid = scores[len(scores) // 2] if len(scores) % 2 else \
            (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
        lines.append(f"- scores of those graded cleanly: mean {sum(scores) / len(scores):.2f}, "
                     f"median {mid:g}, out of {graded[0].max_score:g}")
    lines += ["", "![score histogram](score_histogram.png)", "",
              "## Pass rate per exercise (lowest first)", "",
              "| item | grade id | passed | pass rate |", "| --- | --- | --- | --- |"]
    rates = sorted(pass_rates(result), key=lambda row: (row[2] / row[3] if row[3] else 0, row[0]))
    for gid, title, passed, ran in rates:
        rate = f"{100 * passed / ran:.0f} %" if ran else "-"
        lines.append(f"| {title} | `{gid}` | {passed}/{ran} | {rate} |")
    lines += ["", "## Flagged for review", ""]
    lines += [f"- **{r.student_id}** ({r.filename}): {'; '.join(r.flags)}; "
              f"{'; '.join(n for n in r.notes if n.startswith('scores'))}"
              for r in flagged] or ["None."]
    lines += ["", "## Not graded or stopped early", ""]
    lines += [f"- **{r.student_id}** ({r.filename}): {r.status}" for r in failed] or ["None."]
    return "\n".join(lines) + "\n"



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
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report_markdown(result), encoding="utf-8")
    return {
        "grades": write_grades_csv(result, out / "grades.csv"),
        "report": out / "report.md",
        "histogram": write_histogram(result, out / "score_histogram.png"),
        "feedback": out / "feedback",
        **{f"feedback/{p.stem}": p for p in write_feedback(result, out / "feedback")},
    }
