"""Which lesson cells a graded run leaves out, without a kernel (the grades it gives are compared
with the whole notebook's in tests/test_grading.py and tests/test_corpus.py)."""

from __future__ import annotations

import pytest

from autograder import grade, notebook
from autograder.answer_key import AnswerKey
from autograder.course import find_chapters
from autograder.cut import always_runs, lessons_to_leave_out

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

SETUP = ("import numpy as np\nimport keras\n", True)
DATA = ("x = np.arange(10)\ny = x * 2\n", True)
MODEL = ("model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])\n", True)
TRAIN = ("history = model.fit(x, y, verbose=0)\n", True)
FIGURE = ("import matplotlib.pyplot as plt\nplt.plot(history.history['loss'])\n", True)
SEEDS = ("keras.utils.set_random_seed(1)\nnp.random.seed(1)\n", True)


def left_out(*cells):
    return lessons_to_leave_out(list(cells))


def test_lessons_nothing_graded_reads_are_left_out():
    answer = ("def f(a):\n    return np.mean(a)\n", False)
    test = ("assert f([1, 3]) == 2\n", False)
    assert left_out(SETUP, DATA, MODEL, TRAIN, FIGURE, answer, test) == {1, 2, 3, 4}


def test_what_an_answer_reads_stays_with_the_cells_that_change_it():
    answer = ("q1 = model.predict(x[:1], verbose=0).shape\n", False)
    # model is read: the cell that builds it and the one that trains it (model.fit changes it)
    # stay, and so does the data both read; the figure does not.
    assert left_out(SETUP, DATA, MODEL, TRAIN, FIGURE, answer) == {4}


def test_free_names_in_a_function_count_as_reads():
    answer = ("def predict_one():\n    return model.predict(x[:1], verbose=0)\n", False)
    assert left_out(SETUP, DATA, MODEL, TRAIN, answer) == set()


def test_set_up_imports_and_global_state_always_run():
    answer = ("q1 = 'b'\n", False)
    assert left_out(SETUP, SEEDS, DATA, answer) == {2}
    assert always_runs("import os\nos.environ['X'] = '1'\n%matplotlib inline\n")
    assert not always_runs("keras.utils.set_random_seed(1)\nmodel.fit(x, y)\n")


def test_cells_that_do_not_parse_leave_nothing_out():
    assert left_out(SETUP, DATA, ("def broken(:\n", False)) == set()


@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda c: c.name)
def test_a_model_solution_runs_the_set_up_answers_and_tests_only(chapter):
    key = AnswerKey.load(chapter)
    nb = notebook.read(chapter.instructor_notebook)
    for cell in nb.cells:
        if notebook.grade_id(cell) in key.answers:
            cell.source = key.answers[notebook.grade_id(cell)]
    plan = grade.assemble(nb, key, whole=False)
    lessons = [c for c in nb.cells if c.cell_type == "code" and c.source in key.lesson]
    assert len(plan.left_out) == len(lessons) - 1  # all but the set-up cell
    assert grade.assemble(nb, key, whole=True).left_out == []


def test_a_changed_lesson_cell_is_student_code_and_runs():
    chapter = find_chapters()[0]
    key = AnswerKey.load(chapter)
    nb = notebook.read(chapter.student_notebook)
    lesson = next(c for c in nb.cells[5:] if c.cell_type == "code" and c.source in key.lesson)
    lesson.source += "\n# my note\n"
    plan = grade.assemble(nb, key, whole=False)
    assert lesson.source in [c.source for c in plan.nb.cells]
