"""Notebook files in one canonical form, and the nbgrader cell roles the course uses.

The canonical form is Jupyter's own serialisation (sorted keys, one-space indent, sources split
into lines) with everything volatile removed: execution counts, outputs, execution timing and
editor state.  A cell tagged ``nbval-check-output`` keeps its outputs, because nbval compares them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode

CHECK_OUTPUT_TAG = "nbval-check-output"
KEPT_CELL_METADATA = ("deletable", "editable", "nbgrader", "tags", "jupyter", "cellView")
KEPT_NOTEBOOK_METADATA = ("kernelspec",)


def read(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def reads(text: str | bytes) -> NotebookNode:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return nbformat.reads(text, as_version=4)


def tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def canonical(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` in the course's canonical form (see the module docstring)."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))
    nb.nbformat, nb.nbformat_minor = 4, 5
    meta = {k: nb.metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    meta["language_info"] = {"name": "python"}
    nb.metadata = nbformat.from_dict(meta)
    used_ids: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata}
        )
        cell_id = cell.get("id") or f"cell-{index:03d}"
        while cell_id in used_ids:
            cell_id = f"{cell_id}-{index}"
        used_ids.add(cell_id)
        cell["id"] = cell_id
        if not cell.get("attachments"):
            cell.pop("attachments", None)
        if cell.cell_type == "code":
            if CHECK_OUTPUT_TAG in tags(cell):
                cell.execution_count = 1
                for output in cell.outputs:
                    if "execution_count" in output:
                        output["execution_count"] = 1
            else:
                cell.outputs = []
                cell.execution_count = None
    return nb


def dumps(nb: NotebookNode) -> str:
    """The canonical text of ``nb``."""
    text = nbformat.writes(canonical(nb), version=4)
    return text if text.endswith("\n") else text + "\n"


def write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb), encoding="utf-8")


def is_canonical(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return text == dumps(reads(text))


# --- nbgrader cell roles -------------------------------------------------------------------

def nbgrader_meta(cell: NotebookNode) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_answer_cell(cell: NotebookNode) -> bool:
    """A cell the student writes (nbgrader "autograded answer")."""
    return bool(nbgrader_meta(cell).get("solution")) and cell.cell_type == "code"


def is_test_cell(cell: NotebookNode) -> bool:
    """A locked cell of tests that earns points (nbgrader "autograder tests")."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def points(cell: NotebookNode) -> float:
    return float(nbgrader_meta(cell).get("points", 0))
