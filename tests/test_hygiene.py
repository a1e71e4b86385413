"""Notebook hygiene: one canonical form, sound nbgrader metadata, and the course's conventions."""

from __future__ import annotations

import ast
import builtins
import re

import pytest
from conftest import CHAPTER_IDS, CHAPTERS
from nbgrader.nbgraderformat import MetadataValidator

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.cells import bound_names, global_reads

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

ALL_NOTEBOOKS = [p for c in CHAPTERS for p in (c.instructor_notebook, c.student_notebook)]
ITEM_ID = re.compile(r"^(?P<item>q\d{2}|ex\d+(-[a-z0-9]+)+)-(?P<role>answer|check)$")
DIFFICULTY = re.compile(r"\((easy|medium|hard)\b")


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_notebook_is_in_canonical_form(path):
    assert notebook.is_canonical(path), f"run `python -m autograder fmt` to rewrite {path}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_only_compared_cells_store_outputs(path):
    for cell in _code_cells(notebook.read(path)):
        if notebook.CHECK_OUTPUT_TAG in notebook.tags(cell):
            assert cell.outputs, "a cell whose output nbval compares must store that output"
        else:
            assert not cell.outputs and cell.execution_count is None


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_nbgrader_metadata_is_schema_valid(path):
    MetadataValidator().validate_nb(notebook.read(path))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_grade_ids_are_unique_descriptive_and_paired(chapter):
    nb = notebook.read(chapter.instructor_notebook)
    ids = [notebook.grade_id(c) for c in nb.cells if notebook.grade_id(c)]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    answers, checks = [], []
    for gid in ids:
        match = ITEM_ID.match(gid)
        assert match, f"grade id {gid!r} is not q<NN>-answer/check or ex<N>-<what>-answer/check"
        (answers if match["role"] == "answer" else checks).append(match["item"])
    assert answers == checks, "every answer cell must be followed by its own check cell"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_points_and_roles(chapter):
    for cell in notebook.read(chapter.instructor_notebook).cells:
        gid = notebook.grade_id(cell)
        if gid is None:
            continue
        if gid.endswith("-check"):
            assert notebook.is_test_cell(cell), f"{gid} must be an autograder test cell"
            assert notebook.points(cell) > 0, f"{gid} has no points"
            assert notebook.nbgrader_meta(cell).get("locked"), f"{gid} must be locked"
        else:
            assert notebook.is_answer_cell(cell), f"{gid} must be an autograded answer cell"
            assert not notebook.nbgrader_meta(cell).get("grade"), f"{gid} must not be graded"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_every_check_has_visible_and_hidden_tests(chapter):
    for test in AnswerKey.load(chapter).tests.values():
        assert test.has_hidden_tests, f"{test.grade_id} has no hidden tests"
        hidden = test.source.replace(test.visible_source, "")
        assert "assert" in test.visible_source, f"{test.grade_id} has no visible test"
        assert "assert" in hidden, f"{test.grade_id}'s hidden tests assert nothing"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_practice_questions_and_exercises(chapter):
    key = AnswerKey.load(chapter)
    questions = [t for t in key.tests.values() if t.grade_id.startswith("q")]
    exercises = [t for t in key.tests.values() if t.grade_id.startswith("ex")]
    assert len(questions) >= 10, "at least 10 practice questions"
    assert len(exercises) >= 3, "at least 3 coding exercises"
    for test in questions + exercises:
        assert DIFFICULTY.search(test.title), f"{test.grade_id}: title {test.title!r} lacks a level"
    levels = {DIFFICULTY.search(t.title)[1] for t in questions}
    assert levels == {"easy", "medium", "hard"}, "questions span easy, medium and hard"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_structure(chapter):
    nb = notebook.read(chapter.instructor_notebook)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Chapter")
    headings = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(h.startswith("## Key results") for h in headings), "a closing key-result summary"
    code = _code_cells(nb)
    assert "import keras" in code[0].source, "the first code cell is the setup cell"
    assert "set_random_seed" in code[0].source, "the setup cell fixes the seeds"
    for cell in code[1:]:
        for line in cell.source.splitlines():
            if re.match(r"^(import|from)\s+\S+", line):
                assert "# noqa: E402" in line, f"import outside the setup cell: {line!r}"


def _captured_calls(tree: ast.AST) -> set[int]:
    """ids of the calls made inside `with contextlib.redirect_stdout(...)` blocks."""
    captured = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
                "redirect_stdout" in ast.unparse(item.context_expr) for item in node.items):
            captured |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return captured


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_every_fit_call_is_quiet(chapter):
    """`verbose="auto"` writes progress bars full of escape codes into saved outputs: every fit
    says verbose=0 or 2, unless its output is captured (a demonstration of verbose itself)."""
    for cell in _code_cells(notebook.read(chapter.instructor_notebook)):
        tree = ast.parse(cell.source)
        captured = _captured_calls(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "fit":
                verbose = [k for k in node.keywords if k.arg == "verbose"]
                assert verbose, f"fit without verbose=:\n{cell.source}"
                quiet = isinstance(verbose[0].value, ast.Constant) and \
                    verbose[0].value.value in (0, 2)
                assert quiet or id(node) in captured, f"fit not quiet:\n{cell.source}"


# --- what a check cell reads -------------------------------------------------------------------
# A check runs in the student's kernel, after the student's code: every global it reads, other than
# its own answer, is a name the student can rebind (`np = fake`, `precision_score = lambda *a: 0.5`)
# to make a hidden test compare the student with the student. So a check cell imports what it
# needs under private names, and reads nothing else from the notebook.

GRADER_BOUND = frozenset({"self_check"})  # the grader binds its own copy before every test
BUILTIN_NAMES = frozenset(dir(builtins))


@pytest.mark.parametrize(("source", "reads"), [
    ("x = np.zeros(3)", {"np"}),
    ("import numpy as _np\nx = _np.zeros(3)", set()),
    ("def f():\n    return np.zeros(3)\n", {"np"}),
    ("def f():\n    return _np.zeros(3)\nimport numpy as _np\n", set()),
    ("def f(np):\n    return np\n", set()),
    ("def f():\n    y = 1\n    return y\nz = y\n", {"y"}),
    ("_s = [v for v in range(3)]\n_t = v\n", {"range", "v"}),  # builtins are reads too
    ("_f = lambda a: a + b\n", {"b"}),
    ("class _K:\n    z = 1\n    def m(self):\n        return z\n", {"z"}),
    ("def f():\n    global g\n    g = 1\nf()\nprint(g)\n", {"print"}),
    ("def f():\n    n = 0\n    def g():\n        nonlocal n\n        n += k\n    g()\n", {"k"}),
    ("_m = q01\n### BEGIN HIDDEN TESTS\nassert precision_score(1, 2)\n### END HIDDEN TESTS\n",
     {"q01", "precision_score"}),
    ("%matplotlib inline\n_y = 1 + w\n", {"w"}),
], ids=["unbound", "private-import", "nested-def", "import-after-def", "parameter",
        "function-local", "comprehension", "lambda", "class-body", "global", "nonlocal",
        "hidden", "magic"])
def test_global_reads_finds_what_a_cell_reads_unbound(source, reads):
    assert global_reads(source) == reads


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_check_cells_read_only_what_the_grader_binds(chapter):
    """A check cell (visible and hidden tests) reads only what it binds itself, builtins, the
    names its own answer cell binds, and `self_check`."""
    key = AnswerKey.load(chapter)
    problems = []
    for test in key.tests.values():
        answer = bound_names(key.answers[test.answer_id]) if test.answer_id else set()
        foreign = global_reads(test.source) - BUILTIN_NAMES - GRADER_BOUND - answer
        if foreign:
            problems.append(f"{chapter.name} {test.grade_id} reads {sorted(foreign)}")
    assert not problems, "check cells read names the student can rebind (import them under a " \
        "private name in the cell):\n" + "\n".join(problems)


RANDOM_WORK = re.compile(r"\.fit\(|\bkeras\.|\blayers\.|random")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_checks_seed_before_calling_an_answer_that_trains_or_draws(chapter):
    """A graded result must not depend on which lesson cells ran before (the grader leaves out
    those nothing graded needs): a check that calls an answer which builds, trains or draws
    random numbers sets its own seed first."""
    key = AnswerKey.load(chapter)
    problems = []
    for test in key.tests.values():
        answer = key.answers.get(test.answer_id or "", "")
        if not RANDOM_WORK.search(answer):
            continue
        names = bound_names(answer)
        tree = ast.parse(test.source)
        calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id in names]
        seeds = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr == "set_random_seed"]
        if calls and not (seeds and min(seeds) < min(calls)):
            problems.append(f"{chapter.name} {test.grade_id}")
    assert not problems, "checks that call a random answer without seeding first:\n" + \
        "\n".join(problems)


def _functions_named(nb, name: str) -> list[str]:
    """The source of every top-level function called `name` in the notebook's code cells."""
    found = []
    for cell in _code_cells(nb):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with IPython syntax defines nothing we look for
            continue
        found += [ast.get_source_segment(cell.source, node) for node in tree.body
                  if isinstance(node, ast.FunctionDef) and node.name == name]
    return found


def test_good_and_bad_follow_one_set_of_rules():
    """Chapter 1 teaches the course's rules of thumb as `verdict`; chapter 2 applies the very same
    function (same code, same thresholds), so the two chapters cannot drift apart again."""
    rules = {c.name: _functions_named(notebook.read(c.instructor_notebook), "verdict")
             for c in CHAPTERS}
    assert len(rules["ch01_keras_api"]) == 1, "chapter 1 defines `verdict` once"
    assert rules["ch02_sequential"] == rules["ch01_keras_api"], \
        "chapter 2's `verdict` differs from chapter 1's"
