"""The judge (autograder.judge) end to end: chapter 1 submissions graded once with the test cells
in their own kernel, then asserted on.

Each attack of the in-process guard's review (hooks, a thread started through ``exec``,
check-time swaps of library functions, objects that lie, a "model" that is not one) is here with
its honest part: it must score exactly what that honest part earns, without any guard."""

from __future__ import annotations

import nbformat
import pytest
from corpus import CHAPTER, FULL, KEY, dump, lean_complete, with_answer

from autograder import exchange, notebook
from autograder.grade import GradingTask, chapter_assets, run_task
from autograder.isolation import warm

LYING_FLOATS = '''
class _Lies(float):
    def __sub__(self, other):
        return 0.0
    __rsub__ = __sub__
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__
def binary_metrics(tp, fp, fn, tn):
    return {k: _Lies(0.0) for k in ("precision", "recall", "accuracy", "f1")}
'''

LIBRARY_SWAP = '''
def binary_metrics(tp, fp, fn, tn):
    import sklearn.metrics as metrics
    for name in ("precision_score", "recall_score", "f1_score"):
        setattr(metrics, name, lambda *a, **k: 0.5)
    return {k: 0.5 for k in ("precision", "recall", "accuracy", "f1")}
'''

LYING_MODEL = '''
import keras
class _Lies(keras.Sequential):
    def count_params(self):
        return 101770
def build_image_classifier():
    model = _Lies([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''

NOT_A_MODEL = '''
class _Lookup:
    def predict(self, x, verbose=0):
        import numpy
        return numpy.zeros((len(x), 1))
def train_cancer_classifier(x_train, y_train):
    return _Lookup()
'''

# Wrong practice answers, with a garbage-collector hook and a thread started through exec that
# look for the hidden assert's text (in linecache, frames, anywhere) and rebind the answer.
HOOKS = '''
q01 = "a"
import gc, linecache, re, sys, threading
def _rebind(*_):
    for lines in list(linecache.cache.values()):
        for line in (lines[2] if len(lines) > 2 else []):
            found = re.search(r'(q0[12])\\.strip\\(\\)\\.lower\\(\\) == "(\\w)"', line)
            if found:
                globals()[found[1]] = found[2]
    for frame in list(sys._current_frames().values()):
        while frame is not None:
            for name in ("q01", "q02"):
                if name in frame.f_locals and frame.f_globals is not globals():
                    globals()[name] = frame.f_locals[name]
            frame = frame.f_back
gc.callbacks.append(lambda *_: _rebind())
gc.set_threshold(1)
_loop = "import time\\nwhile True:\\n    _rebind()\\n    time.sleep(0.001)"
threading.Thread(target=exec, args=(_loop, globals()), daemon=True).start()
'''

def _points(*gids: str) -> float:
    return sum(KEY.tests[g].max_points for g in gids)


def _rebound_later() -> bytes:
    """q01 answered right, then set to a wrong letter after its test cell: the test reads the
    answer where the test stands in the notebook."""
    nb = lean_complete()
    at = next(i for i, c in enumerate(nb.cells) if notebook.grade_id(c) == "q01-check")
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell('q01 = "a"\n'))
    return dump(nb)


CASES = {
    "solution": (lambda: dump(lean_complete()), FULL, {}),
    "lying-floats": (lambda: dump(with_answer("ex2-binary-metrics-answer", LYING_FLOATS)),
                     FULL - _points("ex2-binary-metrics-check"), {}),
    "library-swap": (lambda: dump(with_answer("ex2-binary-metrics-answer", LIBRARY_SWAP)),
                     FULL - _points("ex2-binary-metrics-check"), {}),
    "lying-model": (lambda: dump(with_answer("ex3-image-classifier-answer", LYING_MODEL)),
                    FULL - _points("ex3-image-classifier-check"),
                    {"ex3-image-classifier-check": exchange.NOT_KERAS}),
    "not-a-model": (lambda: dump(with_answer("ex4-cancer-classifier-answer", NOT_A_MODEL)),
                    FULL - _points("ex4-cancer-classifier-check"),
                    {"ex4-cancer-classifier-check": exchange.OF_TYPE}),
    "hooks": (lambda: dump(with_answer("q01-answer", HOOKS)), FULL - _points("q01-check"), {}),
    "rebound-later": (_rebound_later, FULL, {}),
}


@pytest.fixture(scope="module")
def judged():
    assets = chapter_assets(CHAPTER)
    try:
        return {name: run_task(GradingTask(name, build(), KEY, assets, judge=True))
                for name, (build, _, _) in CASES.items()}
    finally:
        warm.close_server()


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_scores_what_its_honest_part_earns(judged, name):
    result = judged[name]
    assert result.status.value == "graded", (result.status, result.detail)
    assert result.score == CASES[name][1], [(o.grade_id, o.points, o.message) for o in result.tests]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c[2]])
def test_a_refused_answer_says_why(judged, name):
    outcomes = {o.grade_id: o for o in judged[name].tests}
    for gid, words in CASES[name][2].items():
        assert outcomes[gid].points == 0 and words in outcomes[gid].message, outcomes[gid]


def test_nothing_of_the_tests_reaches_the_students_kernel():
    from autograder.grade import assemble
    plan = assemble(lean_complete(), KEY, whole=True, judged=True)
    student_code = "\n".join(c.source for c, r in zip(plan.nb.cells, plan.roles, strict=True)
                             if r != "test")
    for test in KEY.tests.values():
        hidden = test.source.split("### BEGIN HIDDEN TESTS")[-1].strip().splitlines()
        assert not any(line.strip() and line.strip() in student_code for line in hidden
                       if len(line.strip()) > 20)
