"""The static scan of student code, without a kernel: each way to reach the test code is found,
written plainly or behind an alias, and the honest answers of the course are not flagged."""

from __future__ import annotations

import pytest

from autograder import notebook, scan
from autograder.answer_key import AnswerKey
from autograder.course import find_chapters

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it


def corpus_attacks() -> dict[str, str]:
    from corpus import RUN_TIME_ONLY  # tests/ is on the path, as for test_corpus.py

    return RUN_TIME_ONLY


@pytest.mark.parametrize(("source", "words"), [
    ("import sys\nf = sys._getframe(1)\n", "inspects the calling frames"),
    ("import sys as s\nf = s._getframe(1)\n", "inspects the calling frames"),
    ("def f():\n    yield 1\ng = f()\nprint(g.gi_frame)\n", "inspects the calling frames"),
    ("def f():\n    pass\nprint(f.__code__.co_consts)\n", "reads code objects"),
    ("def spy():\n    import inspect\n    return inspect.currentframe().f_back.f_code\n",
     "inspects the calling frames"),
    ("request = get_ipython().kernel.get_parent()\n", "reads the kernel's current request"),
    ("k = get_ipython().kernel\ncode = k._parent_header\n", "reads the kernel's current request"),
    ("import linecache\n", "reads the source of other cells"),
    ("get_ipython().input_transformers_post.append(lambda lines: lines)\n",
     "changes IPython's input transformers"),
])
def test_the_scan_finds_ways_to_the_test_code(source, words):
    found = scan.scan_cells([source])
    assert any(words in reason for reason in found), found


@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda c: c.name)
def test_no_model_answer_is_flagged(chapter):
    key = AnswerKey.load(chapter)
    lesson = [c.source for c in key.instructor.cells
              if c.cell_type == "code" and not notebook.nbgrader_meta(c)]
    assert scan.scan_cells(list(key.answers.values()), context=lesson) == []


@pytest.mark.parametrize("name", sorted(corpus_attacks()), ids=str)
def test_attacks_left_to_the_guard_are_invisible_to_the_scan(name):
    """These corpus cases are flagged at run time; were the scan to see them, their corpus
    results would not prove that the guard does."""
    assert scan.scan_cells([corpus_attacks()[name]]) == []
