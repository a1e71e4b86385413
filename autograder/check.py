# Check my notebook: run this cell before you hand in.  It reads your notebook as last saved
# (in Colab: as Colab holds it), runs it from the top in a fresh kernel, and says what is still
# missing.  It changes nothing in your notebook and shows no hidden check.
from __future__ import annotations

import json as _json
import os as _os
import subprocess as _subprocess
import tempfile as _tempfile
import time as _time
from dataclasses import dataclass as _dataclass
from pathlib import Path as _Path

# Filled in by the course's release (and by `python -m autograder check`):
_CHAPTER = ""
_NOTEBOOK_LIMIT = 900  # seconds the grader allows one notebook
_CELL_LIMIT = 300  # seconds the grader allows one cell
_HIDDEN_CHECKS = 0  # checks that run only when the work is graded
_STUB = "raise NotImplementedError()"
TAG = "check-my-notebook"  # this cell's tag: never run by the check itself, nor by the grader


@_dataclass(frozen=True)
class _Report:
    """What the check found."""

    name: str
    unanswered: tuple[str, ...]
    failing: tuple[tuple[str, str], ...]  # (item, the check's message)
    broken: tuple[tuple[int, str, str], ...]  # (cell number, heading above it, error)
    seconds: float | None  # the run from the top (None: not run)
    timed_out: bool = False

    @property
    def problems(self) -> int:
        over = self.seconds is not None and (self.timed_out or self.seconds > _NOTEBOOK_LIMIT)
        return len(self.unanswered) + len(self.failing) + len(self.broken) + int(over)


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _item(grade_id: str) -> str:
    return grade_id.removesuffix("-answer").removesuffix("-check")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _first_line(text: str, limit: int = 160) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _run_from_the_top(nb: dict, folder: str) -> tuple[list[dict], float, bool]:
    """The notebook's code cells after a run in a fresh kernel, the time it took, and whether
    the grader's time limit for the notebook stopped it."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    node = nbformat.reads(_json.dumps(nb), as_version=4)  # joins sources kept as lists
    node.cells = [c for c in node.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in node.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # Only an error's name and value are read here: IPython's plainest report spares the kernel
    # reading the source of every frame of every cell that raises.
    client = NotebookClient(node, timeout=_CELL_LIMIT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": folder}},
                            extra_arguments=["--InteractiveShell.xmode=Minimal"])
    started = _time.perf_counter()
    stopped = False
    try:
        # The fresh kernel's own start-up logs (TensorFlow's) would land in this cell's output.
        client.execute(stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL)
    except (CellTimeoutError, DeadKernelError):
        stopped = True
    return list(node.cells), _time.perf_counter() - started, stopped


def _said_not_yet(cell) -> bool:
    """A practice question's self-check printed "not yet" (it does not raise)."""
    return any(o.get("output_type") == "stream" and ": not yet" in "".join(o.get("text", ""))
               for o in cell.get("outputs", []))


def _check(nb: dict, *, name: str = "your notebook", run: bool = True,
           folder: str | None = None) -> _Report:
    """Check a notebook (its JSON as a dict): what is unanswered, and, when ``run``, what fails
    or raises when it runs from the top in a fresh kernel."""
    cells = nb.get("cells", [])
    stubs = {_meta(c).get("grade_id") for c in cells
             if _meta(c).get("solution") and _STUB in _source(c)}
    unanswered = tuple(_item(g) for g in sorted(stubs, key=lambda g: [
        _meta(c).get("grade_id") for c in cells].index(g)))
    if not run:
        return _Report(name, unanswered, (), (), None)
    with _tempfile.TemporaryDirectory() as scratch:
        ran, seconds, stopped = _run_from_the_top(nb, folder or scratch)
    answer_of = {}
    last_answer = None
    failing, broken, heading, number = [], [], "", 0
    raised: set[str] = set()  # answer cells that raised something other than the stub
    for cell in ran:
        if cell.cell_type == "markdown":
            heads = [ln for ln in _source(cell).splitlines() if ln.startswith("#")]
            heading = heads[-1].lstrip("# ").strip() if heads else heading
            continue
        number += 1
        meta = _meta(cell)
        if meta.get("solution"):
            last_answer = meta.get("grade_id")
        if meta.get("grade") and not meta.get("solution"):
            answer_of[meta.get("grade_id")] = last_answer
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"),
                     None)
        gid = meta.get("grade_id")
        if error is None:
            if meta.get("grade") and _said_not_yet(cell):
                failing.append((_item(gid), "not yet: the answer does not match (self-check)"))
            continue
        if gid in stubs or answer_of.get(gid) in stubs | raised:
            continue  # not answered yet (already listed), or its answer cell raised (listed)
        if meta.get("solution"):
            raised.add(gid)
        words = f"{error.get('ename', 'Error')}: {_first_line(error.get('evalue', ''))}"
        # A check that fails says so; one that cannot find a name needs something missing.
        if meta.get("grade") and not meta.get("solution") and error.get("ename") != "NameError":
            failing.append((_item(gid), _first_line(error.get("evalue", "")) or words
                            if error.get("ename") == "AssertionError" else words))
        else:
            broken.append((number, heading, words))
    return _Report(name, unanswered, tuple(failing), tuple(broken), seconds, stopped)


def _words(report: _Report, hidden_checks: int | None = None) -> str:
    """The report in plain words, as the notebook cell and `python -m autograder check` print it."""
    hidden = _HIDDEN_CHECKS if hidden_checks is None else hidden_checks
    lines = [f"Check my notebook: {report.name}"]
    if report.unanswered:
        lines.append(f"- Not answered yet ({len(report.unanswered)}): "
                     + ", ".join(report.unanswered))
    if report.failing:
        lines.append(f"- Checks that fail ({len(report.failing)}):")
        lines += [f"    {item}: {message}" for item, message in report.failing]
    if report.broken:
        lines.append(f"- Cells that raise when the notebook runs from the top in a fresh kernel "
                     f"({len(report.broken)}); each may need a cell you deleted, or one you ran "
                     "out of order:")
        lines += [f"    code cell {n}" + (f" (under \"{h}\")" if h else "") + f": {e}"
                  for n, h, e in report.broken]
    if report.seconds is not None:
        verdict = "too long: the grader stops it there" if report.timed_out or \
            report.seconds > _NOTEBOOK_LIMIT else "within the limit"
        lines.append(f"- Run from the top: {report.seconds:.0f} s; the grader allows "
                     f"{_NOTEBOOK_LIMIT} s for the notebook and {_CELL_LIMIT} s per cell "
                     f"({verdict})")
    if hidden:
        lines.append(f"- {hidden} more checks run when your work is graded.")
    if report.problems:
        lines.append(f"{report.problems} thing(s) to fix before you hand in.")
    else:
        lines.append("Everything is answered, every visible check passes, and the notebook "
                     "runs from the top.")
    return "\n".join(lines)


def _find_notebook() -> tuple[dict, str, str | None]:
    """This notebook's JSON as saved, its name, and its folder: from Colab, or from the file
    JupyterLab says this kernel belongs to."""
    try:
        from google.colab import _message  # noqa: PLC0415 - only in Colab
    except ImportError:
        _message = None
    if _message is not None:
        nb = _message.blocking_request("get_ipynb", request="", timeout_sec=120)["ipynb"]
        return nb, "this Colab notebook", None
    path = _os.environ.get("JPY_SESSION_NAME") or globals().get("__session__") or ""
    candidates = [_Path(path)] if path.endswith(".ipynb") else sorted(
        _Path.cwd().glob(f"{_CHAPTER or '*'}.ipynb"))
    if not candidates or not candidates[0].is_file():
        raise FileNotFoundError("cannot tell which file this notebook is; run "
                                "`python -m autograder check <notebook.ipynb>` in a terminal")
    file = candidates[0]
    saved = _time.strftime("%H:%M", _time.localtime(file.stat().st_mtime))
    return (_json.loads(file.read_text(encoding="utf-8")),
            f"{file.name} as saved at {saved} (save it first)", str(file.parent))


def _check_my_notebook() -> None:
    nb, name, folder = _find_notebook()
    print(_words(_check(nb, name=name, folder=folder)))


if __name__ == "__main__" and "get_ipython" in globals():
    _check_my_notebook()
