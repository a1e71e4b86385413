"""Self-study feedback: a practice question's visible check says "correct" or "not yet"
without the answer appearing anywhere in the student notebook.

Each question's check cell calls ``self_check("q03", q03, "<digest>")``; the digest is a salted
SHA-256 of the normalised model answer, and ``self_check`` (defined in the chapter's setup cell)
compares the student's answer by the same recipe.  It is plain Python, so it works the same in
JupyterLab, Colab and any other front end, with no extension to install.  (nbgrader 0.9's
hashed autotests need nbgrader's own preprocessing; a small function needs nothing.)  A
multiple-choice digest can be found by trying the options: it is feedback for practice, and the
hidden tests still decide the grade.

``python -m autograder selfcheck`` writes the digests into ``source/`` from the model answers;
``--check`` fails when any digest is out of date.
"""

from __future__ import annotations

import ast
import hashlib
import operator
import re

from nbformat import NotebookNode

from autograder import notebook
from autograder.answer_key import SOLUTION_MARKER
from autograder.errors import CourseError

QUESTION = re.compile(r"^(q\d{2})-check$")
CALL = re.compile(r'^self_check\("(?P<name>q\d{2})", (?P=name), "(?P<digest>[0-9a-f]*)"\)$', re.M)
HIDDEN_START = "### BEGIN HIDDEN TESTS"
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
             ast.Mod: operator.mod, ast.USub: operator.neg}


def normalise(value: object) -> str:
    """The text that is hashed: the same recipe as the notebooks' ``self_check``."""
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return f"{float(value):.3f}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(normalise(v) for v in value) + ")"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(normalise(v) for v in value)) + "}"
    raise CourseError(f"cannot self-check a {type(value).__name__} answer")


def digest(chapter: str, name: str, value: object) -> str:
    text = f"{chapter}:{name}:{normalise(value)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _evaluate(node: ast.AST) -> object:
    """A literal, or arithmetic on literals (e.g. ``30 / (30 + 20)``)."""
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = [_evaluate(item) for item in node.elts]
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
    return ast.literal_eval(node)


def model_answer(source: str, name: str) -> object:
    """The value the model answer assigns to ``name``."""
    tree = ast.parse(SOLUTION_MARKER.sub("", source))
    for node in reversed(tree.body):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return _evaluate(node.value)
            except ValueError as err:
                raise CourseError(f"{name}'s model answer must be a literal or arithmetic on "
                                  f"literals for its self-check digest ({err})") from None
    raise CourseError(f"the model answer of {name} does not assign {name}")


def expected_calls(nb: NotebookNode, chapter: str) -> dict[str, str]:
    """{question: the self_check line its check cell should contain}."""
    answers = {notebook.grade_id(c): c.source for c in nb.cells if notebook.is_answer_cell(c)}
    calls = {}
    for cell in nb.cells:
        match = QUESTION.match(notebook.grade_id(cell) or "")
        if match and notebook.is_test_cell(cell):
            name = match[1]
            value = model_answer(answers[f"{name}-answer"], name)
            calls[name] = f'self_check("{name}", {name}, "{digest(chapter, name, value)}")'
    return calls


def sync(nb: NotebookNode, chapter: str) -> list[str]:
    """Write the up-to-date self_check line into every question's check cell; list changes."""
    calls = expected_calls(nb, chapter)
    changed = []
    for cell in nb.cells:
        match = QUESTION.match(notebook.grade_id(cell) or "")
        if not match or match[1] not in calls:
            continue
        line = calls[match[1]]
        if CALL.search(cell.source):
            updated = CALL.sub(line, cell.source)
        elif HIDDEN_START in cell.source:
            updated = cell.source.replace(HIDDEN_START, f"{line}\n{HIDDEN_START}", 1)
        else:
            updated = f"{cell.source.rstrip()}\n{line}"
        if updated != cell.source:
            cell.source = updated
            changed.append(match[1])
    return changed
