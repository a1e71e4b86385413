"""The command line: clear one-line errors for bad input, rows (not crashes) for bad files."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from autograder.cli import main
from autograder.course import REPO_ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=600)


def test_unknown_chapter_is_a_one_line_error(tmp_path):
    done = run_cli("grade", "no_such_chapter", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "no chapter 'no_such_chapter'" in done.stderr and "ch01_keras_api" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_submissions_folder_is_a_one_line_error(tmp_path):
    done = run_cli("grade", "ch01_keras_api", str(tmp_path / "nope"), "--out", str(tmp_path))
    assert done.returncode == 2 and "submissions folder not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_output_inside_the_source_tree_is_refused(tmp_path):
    code = main(["grade", "ch01_keras_api", str(tmp_path), "--out",
                 str(REPO_ROOT / "source" / "ch01_keras_api" / "grades")])
    assert code == 2
    assert not (REPO_ROOT / "source" / "ch01_keras_api" / "grades").exists()


def test_broken_files_get_rows_with_a_clear_status(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ann.txt").write_text("my answers are in the e-mail", encoding="utf-8")
    (subs / "ben.ipynb").write_bytes(b"")
    (subs / "cai.ipynb").write_text("{ this is not json", encoding="utf-8")
    (subs / "dee.ipynb").write_bytes(b"\xff\xfe\x00binary")
    out = tmp_path / "out"
    assert main(["grade", "ch01_keras_api", str(subs), "--out", str(out), "--workers", "2"]) == 0
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["ann"]["status"].startswith("skipped: ann.txt is not an .ipynb")
    assert rows["ben"]["status"] == "unreadable: the file is empty"
    assert rows["cai"]["status"].startswith("unreadable: not a Jupyter notebook")
    assert rows["dee"]["status"].startswith("unreadable")
    assert all(float(r["score"]) == 0 for r in rows.values())
    assert sorted(p.stem for p in (out / "feedback").iterdir()) == ["ann", "ben", "cai", "dee"]


def test_names_are_data_and_links_are_never_followed(tmp_path):
    """A file name that looks like a spreadsheet formula stays text in grades.csv, and a symbolic
    link (here to the instructor notebook, which would score full marks) gets a row of its own
    and is never read."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / '=HYPERLINK("example.invalid","x").ipynb').write_bytes(b"")
    (subs / "@sum(1).ipynb").write_bytes(b"")
    (subs / "sneaky.ipynb").symlink_to(REPO_ROOT / "source" / "ch01_keras_api" /
                                       "ch01_keras_api.ipynb")
    (subs / "linked-folder").symlink_to(REPO_ROOT / "source")
    out = tmp_path / "out"
    assert main(["grade", "ch01_keras_api", str(subs), "--out", str(out), "--workers", "1"]) == 0
    text = (out / "grades.csv").read_text(encoding="utf-8")
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    assert rows["'=HYPERLINK(\"example.invalid\",\"x\").ipynb"]["student_id"] == \
        "'=HYPERLINK(\"example.invalid\",\"x\")"
    assert rows["'@sum(1).ipynb"]["student_id"] == "'@sum(1)"
    assert not any(line.startswith(("=", "@", "+", "-")) or ",=" in line or ",@" in line
                   for line in text.splitlines())
    for link in ("sneaky.ipynb", "linked-folder"):
        assert rows[link]["status"].startswith("refused: a symbolic link"), rows[link]
        assert float(rows[link]["score"]) == 0


@pytest.mark.fast
def test_a_link_inside_a_zip_is_refused(tmp_path):
    import stat
    import zipfile

    from autograder.intake import collect

    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("ann_11_1_hw.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "../../source/ch01_keras_api/ch01_keras_api.ipynb")
        archive.writestr("ben_12_2_hw.ipynb", "{}")
    entries = {e.student_id: e for e in collect(path, chapter="ch01_keras_api",
                                                chapters={"ch01_keras_api"})}
    assert entries["11"].status_text.startswith("refused: a symbolic link")
    assert entries["11"].data is None
    assert entries["12"].status is None


@pytest.mark.fast
def test_the_readme_states_the_default_limits():
    """The README's limits row, the command line's defaults and ``Limits`` say the same."""
    import re

    from autograder.cli import build_parser
    from autograder.execute import Limits

    row = next(line for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if "| limits (defaults) |" in line)
    stated = {flag: int(value) for flag, value in re.findall(r"`--([a-z-]+) (\d+)`", row)}
    d = Limits()
    assert stated == {"cell-timeout": d.cell_timeout, "notebook-timeout": d.notebook_timeout,
                      "memory-mb": d.sandbox.memory_mb, "output-mb": d.output_mb}
    assert f"{d.interrupt_grace} s after its interrupt" in row
    assert f"not started within {d.kernel_start_timeout} s" in row
    assert f"not ready {d.sandbox.warm_start_timeout} s after its start" in row
    args = build_parser().parse_args(["grade", "ch01_keras_api", "x", "--out", "y"])
    assert {flag: getattr(args, flag.replace("-", "_")) for flag in stated} == stated
    disk = next(line for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
                .splitlines() if "| disk and processes |" in line)
    assert dict(re.findall(r"`([a-z_]+)` = (\d+)", disk)) == {
        "scratch_mb": str(d.sandbox.scratch_mb), "file_mb": str(d.sandbox.file_mb),
        "processes": str(d.sandbox.processes)}
