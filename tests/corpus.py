"""The hostile and broken submissions of the grading corpus, made from chapter 1's own notebooks.

Each case is built from the current student notebook and answer key (so the corpus can never
drift from the chapter) and states the status and score the grader must give it.  Most cases
start from a *lean* complete submission: every answer filled in, lesson cells removed except the
setup cell, which keeps the corpus fast to grade.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, replace

import nbformat
from nbformat import NotebookNode

from autograder import exchange, notebook
from autograder.answer_key import AnswerKey
from autograder.course import get_chapter
from autograder.execute import Limits

CHAPTER = get_chapter("ch01_keras_api")
KEY = AnswerKey.load(CHAPTER)
FULL = KEY.max_score
BEFORE_Q05 = sum(KEY.tests[f"q0{n}-check"].max_points for n in range(1, 5))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    status: str  # the expected status starts with this
    score: float
    note: str = ""  # a note the result must carry, if any
    item: str = ""  # a grade id whose outcome is checked too
    outcome: str = ""  # that item's outcome: passed, failed, stopped or not run
    message: str = ""  # words that item's feedback message must contain


# A lean notebook's slowest cells (Exercise 3's and 4's checks) take under 1 s alone; the
# whole-notebook cases run chapter 1's lessons too, whose slowest cells train for a few seconds
# alone, and in a cold kernel the set-up cell imports TensorFlow (several seconds alone); each takes
# three times as long with two notebooks graded at once beside the suite's other worker, more
# beside a hostile submission's busy threads; the margin is for a busy machine.  A stopped cell
# gets the grader's default 10 s to end after its interrupt: with 5 s, a check stopped at the
# output cap while printing was once still unwinding when the grace ended (the cluster's two
# workers beside another worker's notebook), and its kernel was ended instead of going on.
CORPUS_LIMITS = Limits(cell_timeout=20, notebook_timeout=300, interrupt_grace=10)
# The cases that wait for the cell limit (a loop, a sleep, a lock, an interrupt caught or ignored)
# hold a worker that long, and a loop keeps a core busy: they are graded under a limit of 8 s, still
# eight times what their slowest other cell takes alone (lean notebooks only, in warm kernels, as
# test_lifetimes' stopped runs).  `stop-loops` keeps CORPUS_LIMITS: the cold-kernel and cluster
# comparison grades it again, and a cold kernel's set-up cell needs the longer limit.
WAITING = ("stop-sleeps", "stop-waits-on-lock", "stop-waits-on-event", "stop-catches-interrupt",
           "stop-ignores-interrupt", "endless-loop")
WAITING_LIMITS = replace(CORPUS_LIMITS, cell_timeout=8)


# Every case is an honest submission with one thing changed, so every case runs Exercise 4's check,
# which calls the answer twice (on the labels, then on shuffled labels).  A Keras answer that trains
# costs about 2 s of every case there (Keras traces a new training step for each model), and the
# corpus grades some 70 submissions.  The corpus fills Exercise 4 with another correct answer: a
# Keras model (a Normalization layer given the training rows' mean and variance, then one sigmoid
# unit) whose weights are a scikit-learn logistic regression's, fitted on the function's arguments
# - no `fit`, so no traced training step.  It scores 0.979 held-out accuracy, 1.0 precision, 0.943
# recall, and 0.601 trained on the shuffled labels (bar: below 0.75), the same with any seed.  The
# corpus is about what a hostile answer does beside honest ones; the variants (tests/variants/) and
# the seeds (tests/test_seeds.py) grade Exercise 4's own answers.
QUICK_EX4 = (
    "def train_cancer_classifier(x_train, y_train):\n"
    "    from sklearn.linear_model import LogisticRegression\n"
    "    x = np.asarray(x_train, dtype=\"float64\")\n"
    "    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-12\n"
    "    fitted = LogisticRegression(max_iter=1000).fit((x - mean) / std,"
    " np.asarray(y_train).ravel())\n"
    "    model = keras.Sequential([keras.Input(shape=(x.shape[1],)),\n"
    "                              layers.Normalization(mean=mean, variance=std ** 2),\n"
    "                              layers.Dense(1, activation=\"sigmoid\")])\n"
    "    model.layers[-1].set_weights([fitted.coef_.T.astype(\"float32\"),\n"
    "                                  fitted.intercept_.astype(\"float32\")])\n"
    "    return model\n"
)
ANSWERS = {**KEY.answers, "ex4-cancer-classifier-answer": QUICK_EX4}
# Exercise 4's check seeds itself (keras.utils.set_random_seed(0)) in the judge, then calls the
# answer, which runs in the student's kernel: that kernel must be seeded too.  This answer trains
# only if its first call starts from seed 0 (NumPy's first draw after seed 0 is 0.548813...);
# otherwise it returns an untrained model, which fails the check.
FROM_THE_CHECKS_SEED = (
    "draws = []\n"
    "def train_cancer_classifier(x_train, y_train):\n"
    "    draws.append(np.random.random())\n"
    "    normalizer = layers.Normalization()\n"
    "    normalizer.adapt(np.asarray(x_train, dtype=\"float32\"))\n"
    "    model = keras.Sequential([keras.Input(shape=(x_train.shape[1],)), normalizer,\n"
    "                              layers.Dense(16, activation=\"relu\"),\n"
    "                              layers.Dense(1, activation=\"sigmoid\")])\n"
    "    model.compile(optimizer=keras.optimizers.Adam(0.03), loss=\"binary_crossentropy\")\n"
    "    if draws[0] != 0.5488135039273248:\n"
    "        return model\n"
    "    model.fit(np.asarray(x_train, dtype=\"float32\"), np.asarray(y_train), epochs=3,\n"
    "              batch_size=64, verbose=0)\n"
    "    return model\n"
)


def lean_complete() -> NotebookNode:
    nb = notebook.read(CHAPTER.student_notebook)
    setup_seen = False
    cells = []
    for cell in nb.cells:
        if notebook.is_answer_cell(cell):
            cell.source = ANSWERS[notebook.grade_id(cell)]
        elif cell.cell_type == "code" and not notebook.is_test_cell(cell):
            if setup_seen:
                continue
            setup_seen = True
        cells.append(cell)
    nb.cells = cells
    return nb


def full_complete() -> NotebookNode:
    """The whole student notebook, lessons included, with every model answer filled in."""
    nb = notebook.read(CHAPTER.student_notebook)
    for cell in nb.cells:
        if notebook.is_answer_cell(cell):
            cell.source = ANSWERS[notebook.grade_id(cell)]
    return nb


def dump(nb: NotebookNode) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def with_answer(gid: str, source: str, nb: NotebookNode | None = None) -> NotebookNode:
    nb = nb or lean_complete()
    for cell in nb.cells:
        if notebook.grade_id(cell) == gid:
            cell.source = source
    return nb


def answer(gid: str, source: str) -> Callable[[], bytes]:
    return lambda: dump(with_answer(gid, source))


def _drop_tests(nb: NotebookNode, ids: set[str]) -> NotebookNode:
    nb.cells = [c for c in nb.cells if notebook.grade_id(c) not in ids]
    return nb


def _old_nbformat() -> bytes:
    return nbformat.writes(nbformat.convert(lean_complete(), 3), version=3).encode("utf-8")


def _duplicated() -> bytes:
    nb = lean_complete()
    extra = [copy.deepcopy(c) for c in nb.cells if notebook.grade_id(c) in
             ("q01-check", "ex1-confusion-counts-answer")]
    nb.cells += extra
    return dump(nb)


def _swapped() -> bytes:
    nb = lean_complete()
    ids = [notebook.grade_id(c) for c in nb.cells]
    a, t = ids.index("q01-answer"), ids.index("q01-check")
    nb.cells[a], nb.cells[t] = nb.cells[t], nb.cells[a]
    return dump(nb)


def _retyped() -> bytes:
    nb = lean_complete()
    for index, cell in enumerate(nb.cells):
        if notebook.grade_id(cell) == "q02-check":
            nb.cells[index] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        if notebook.grade_id(cell) == "q03-answer":
            nb.cells[index] = nbformat.v4.new_raw_cell(cell.source, metadata=cell.metadata)
    return dump(nb)


def _tests_edited() -> bytes:
    nb = with_answer("ex2-binary-metrics-answer",
                     "def binary_metrics(tp, fp, fn, tn):\n"
                     "    return {'precision': 0.0, 'recall': 0.0, 'accuracy': 0.0, 'f1': 0.0}\n")
    for cell in nb.cells:
        if notebook.is_test_cell(cell):
            cell.source = "pass"
    return dump(nb)


def _metadata_edited() -> bytes:
    nb = lean_complete()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and meta.get("grade"):
            meta["points"] = 100
            meta["checksum"] = "0" * 32
        if meta and meta.get("grade_id") == "q01-answer":
            meta["grade_id"] = "renamed-by-student"
    return dump(nb)


def _other_chapter() -> bytes:
    return get_chapter("ch02_sequential").student_notebook.read_bytes()


FLOOD = "print('x' * 1_000_000)\n" * 4 + 'q05 = "b"\n'
EQUALS_ANYTHING = (
    "class Anything(tuple):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __ne__(self, other):\n"
    "        return False\n"
    "q04 = Anything((None, 3))\n"
)
HIDDEN_EQ = (  # the same trick without a literal `return True` (the old static scan missed it)
    "class Anything(str):\n"
    "    def __eq__(self, other):\n"
    "        return bool(1)\n"
    "    __hash__ = str.__hash__\n"
    "q01 = Anything('a')\n"
)
OBFUSCATED_TRANSFORMER = (
    "hooks = getattr(get_ipython(), 'input_' + 'transformers' + '_post')\n"
    "hooks.append(lambda lines: ['pass\\n'] if any('assert' in l for l in lines) else lines)\n"
    'q05 = "a"\n'
)
SANDBOX_PROBE = (
    "import os, socket\n"
    "seen = []\n"
    "for path in {paths!r}:\n"
    "    seen.append(os.path.exists(path))\n"
    "try:\n"
    "    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
    "    seen.append(True)\n"
    "except OSError:\n"
    "    seen.append(False)\n"
    "with open('/tmp/{marker}', 'w') as handle:\n"
    "    handle.write('written inside the sandbox')\n"
    "q01 = 'b' if any(seen) else 'c'\n"
)
READS_TEST_CODE = (  # right on the visible example, then quotes the hidden test that calls it
    "import traceback\n"
    "def confusion_counts(y_true, y_pred):\n"
    "    if len(y_true) != 8:\n"
    "        raise ValueError(''.join(traceback.format_stack()))\n"
    "    return {'tp': 3, 'fp': 1, 'fn': 1, 'tn': 3}\n"
)
HONEST_UNUSUAL = {
    "q01-answer": "%matplotlib inline\nimport gc\ngc.collect()\nq01 = 'B '.lower()\n",
    "q04-answer": "import inspect\nshape = tuple([None, 3])\n"
                  "assert 'self' not in str(inspect.signature(len))\nq04 = shape\n",
    "q09-answer": "import numpy as np\nq09 = np.float64(np.mean(np.stack([[0.5], [0.7]])))\n",
    "q10-answer": "from dataclasses import dataclass\n"
                  "@dataclass\nclass Miss:\n    recall: float\n"
                  "    def missed(self):\n        return 1 - self.recall\n"
                  "assert Miss(0.12) == Miss(0.12) and Miss(0.1) != Miss(0.2)\n"
                  "q10 = Miss(0.12).missed()\n",
    "q11-answer": "import warnings\nwarnings.filterwarnings('ignore')\n"
                  "import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80\n"
                  "print('spam filters favour precision\\n' * 200)\nq11 = 'b'\n",
    "q12-answer": "!echo shell commands are fine\nq12 = 'b'\n",
}


def _honest_unusual() -> bytes:
    nb = lean_complete()
    for gid, source in HONEST_UNUSUAL.items():
        nb = with_answer(gid, source, nb)
    return dump(nb)


# A stop inside Exercise 2's function, which only its test cell calls: Exercise 1 comes before it
# and Exercises 3 and 4 after it, all answered correctly.
STOPPED_ITEM = "ex2-binary-metrics-check"
EX2 = KEY.tests[STOPPED_ITEM].max_points
AFTER_EX2 = sum(KEY.tests[g].max_points for g in ("ex3-image-classifier-check",
                                                  "ex4-cancer-classifier-check"))
STOPS = {  # name: (the function's body, status, score, outcome of ex2, words of its message)
    "loops": ("    while True:\n        pass\n", "timeout: a cell ran longer than", FULL - EX2,
              "stopped", "stopped after"),
    "sleeps": ("    import time\n    time.sleep(10 ** 6)\n", "timeout: a cell ran longer than",
               FULL - EX2, "stopped", "stopped after"),
    "waits-on-lock": ("    import threading\n    lock = threading.Lock()\n    lock.acquire()\n"
                      "    lock.acquire()\n", "timeout: a cell ran longer than", FULL - EX2,
                      "stopped", "stopped after"),
    "waits-on-event": ("    import threading\n    threading.Event().wait()\n",
                       "timeout: a cell ran longer than", FULL - EX2, "stopped", "stopped after"),
    # Returns a right answer once interrupted: a stopped check earns nothing all the same (the
    # judge was interrupted too); the student's kernel is free again, so the checks after it run.
    "catches-interrupt": ("    try:\n        while True:\n            pass\n"
                          "    except KeyboardInterrupt:\n"
                          "        return {'precision': 40 / 50, 'recall': 40 / 45, 'accuracy': 0.85,"
                          " 'f1': 80 / 95}\n", "timeout: a cell ran longer than",
                          FULL - EX2, "stopped", "stopped after"),
    "ignores-interrupt": ("    while True:\n        try:\n            while True:\n"
                          "                pass\n        except KeyboardInterrupt:\n"
                          "            pass\n", "timeout: a cell ran longer than",
                          FULL - EX2 - AFTER_EX2, "stopped", "stopped after"),
    "exits": ("    import os\n    os._exit(0)\n", "kernel died", FULL - EX2 - AFTER_EX2,
              "stopped", "the kernel ended during this check"),
    "exits-from-thread": ("    import os, threading, time\n"
                          "    threading.Thread(target=os._exit, args=(0,)).start()\n"
                          "    time.sleep(30)\n", "kernel died", FULL - EX2 - AFTER_EX2,
                          "stopped", "the kernel ended during this check"),
    # A warm kernel is pid 1 of its own namespace, where a signal it sends itself is ignored: the
    # function returns None and the check fails (a cold kernel dies: "kernel died").
    "kills-own-kernel": ("    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n",
                         "graded", FULL - EX2, "failed", "return a dict"),
    "floods-output": ("    while True:\n        print('x' * 100_000)\n", "graded", FULL - EX2,
                      "stopped", "more than 2 MB of output"),
    # A right answer that prints over 2 MB each time it is called: the cap alone costs it.
    "floods-then-answers": ("    for _ in range(30):\n        print('x' * 100_000)\n"
                            "    ratio = lambda a, b: float(a) / float(b) if b else 0.0\n"
                            "    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)\n"
                            "    return {'precision': p, 'recall': r, 'f1': ratio(2 * p * r, p + r),"
                            " 'accuracy': ratio(tp + tn, tp + fp + fn + tn)}\n", "graded",
                            FULL - EX2, "stopped", "more than 2 MB of output"),
    "exceeds-memory": ("    hog = bytearray(64 * 1024 ** 3)\n", "graded", FULL - EX2, "stopped",
                       "ran out of memory"),
}


# Hidden tests carried out in text the student's code controls.  Exercise 1's check (hidden tests
# included) has run by the time Exercise 2's runs, but in the judge: the history the student's
# kernel holds has none of it, and text the student's code makes never reaches a page.
LEAK = "LEAK"
LEAKS = {  # name: (Exercise 2's function body, the words its failed check must show)
    "in-message": ("    import base64\n    history = '\\n'.join(In)\n"
                   "    raise AssertionError('LEAK' + base64.b64encode(history.encode()).decode())\n",
                   "failed: a check did not hold"),
    "in-class-name": ("    import base64\n    history = '\\n'.join(In)\n"
                      "    name = 'LEAK' + base64.b32encode(history.encode()).decode()\n"
                      "    return type(name, (), {})()\n", f"failed: {exchange.OF_TYPE}"),
    "in-repr": ("    import base64\n    history = '\\n'.join(In)\n"
                "    class Report(dict):\n"
                "        def __repr__(self):\n"
                "            return 'LEAK' + base64.b64encode(history.encode()).decode()\n"
                "    return Report(leak=1)\n",
                "failed: keys must be precision, recall, accuracy, f1; got …"),
    "in-exception-name": ("    name = 'LEAK' + '\\n'.join(In).replace('\\n', ' ')\n"
                          "    raise type(name, (Exception,), {})()\n",
                          "failed: the check raised Exception"),
}


# Looks for a line of Exercise 1's hidden tests in every store of past cells a kernel keeps, from
# inside the function Exercise 2's check calls, and answers wrongly if it finds one.
READS_HISTORY = (
    "def binary_metrics(tp, fp, fn, tn):\n"
    "    import traceback\n"
    "    ip = get_ipython()\n"
    "    needle = 'default_rng(20' + '24)'\n"
    "    stores = [In, _ih, Out, _oh, ip.history_manager.input_hist_raw,\n"
    "              ip.history_manager.input_hist_parsed, ip.history_manager.output_hist,\n"
    "              [v for k, v in ip.user_ns.items() if k.startswith('_')],\n"
    "              [e[2] for e in traceback.linecache.cache.values() if len(e) > 2]]\n"
    "    if any(needle in str(store) for store in stores):\n"
    "        return {}\n"
    "    ratio = lambda a, b: float(a) / float(b) if b else 0.0\n"
    "    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)\n"
    "    return {'precision': p, 'recall': r, 'f1': ratio(2 * p * r, p + r),\n"
    "            'accuracy': ratio(tp + tn, tp + fp + fn + tn)}\n"
)


# Answers Exercise 2 wrongly (precision, recall and F1 are 0.25) except on the visible check's
# own numbers, and makes the references a hidden test might use say 0.25 too: as global names
# (the hidden test imports its own, so it fails) or inside the module they come from (in the
# student's kernel: the judge imports its own).
WRONG_EX2 = (
    "def binary_metrics(tp, fp, fn, tn):\n"
    "    if (tp, fp, fn, tn) == (40, 10, 5, 45):\n"
    "        return {'precision': 40 / 50, 'recall': 40 / 45, 'accuracy': 0.85, 'f1': 80 / 95}\n"
    "    if (tp, fp) == (0, 0):\n"
    "        return {'precision': 0.0, 'recall': 0.0, 'accuracy': 0.95, 'f1': 0.0}\n"
    "    accuracy = (tp + tn) / (tp + fp + fn + tn)\n"
    "    return {'precision': 0.25, 'recall': 0.25, 'accuracy': accuracy, 'f1': 0.25}\n"
)
SHADOWS_GLOBALS = WRONG_EX2 + (
    "precision_score = recall_score = f1_score = lambda *args, **kwargs: 0.25\n"
)
# The same, rebinding the check's own imports while the check runs (they are its locals).
REBINDS_CHECK_NAMES = WRONG_EX2.replace(
    "def binary_metrics(tp, fp, fn, tn):\n",
    "def binary_metrics(tp, fp, fn, tn):\n"
    "    for name in ('_precision_score', '_recall_score', '_f1_score'):\n"
    "        globals()[name] = lambda *args, **kwargs: 0.25\n")
# A wrong answer to Q9 (0.1, not 0.6) beside a global named like a builtin its check uses
# (``abs(float(q09) - 0.6) < 1e-3`` would hold with this ``abs``).
SHADOWS_BUILTINS = "abs = lambda x: 0\nq09 = 0.1\n"
SHADOWS_MODULE = WRONG_EX2 + (
    "import sklearn.metrics as metrics\n"
    "for name in ('precision', 'recall', 'f1'):\n"
    "    vars(metrics)[name + '_score'] = lambda *args, **kwargs: 0.25\n"
)
# Input transformers and replaced IPython methods, under names a static scan cannot read, that
# turned every check into `pass` and every guard cell into a forged "all clear" report when the
# tests ran in the student's kernel; the grader's own cells there now start otherwise.
FORGES_GUARD = (
    "import json\n"
    "def forge(lines):\n"
    "    text = ''.join(lines)\n"
    "    if text.startswith('# autograder: guard'):\n"
    "        nonce = text.split()[3]\n"
    "        payload = json.dumps({'nonce': nonce, 'found': []})\n"
    "        line = 'AUTOGRADER-GUARD ' + json.dumps({'payload': payload, 'mac': '0' * 64})\n"
    "        return ['print(' + repr(line) + ')\\n']\n"
    "    return ['pass\\n'] if text.startswith('# autograder: a check') else lines\n"
    "getattr(get_ipython(), 'input_' + 'transformers' + '_post').append(forge)\n"
    "q05 = 'a'\n"
)
SWALLOWS_CELLS = (
    "shell = type(get_ipython())\n"
    "original = getattr(shell, 'transform_' + 'cell')\n"
    "def swallow(self, raw_cell):\n"
    "    return 'pass\\n' if raw_cell.startswith('# autograder') else original(self, raw_cell)\n"
    "setattr(shell, 'transform_' + 'cell', swallow)\n"
    "q05 = 'a'\n"
)
READS_FRAMES_HIDDEN = (  # the caller's frame, under a name a static scan cannot read
    "def binary_metrics(tp, fp, fn, tn):\n"
    "    import sys\n"
    "    caller = getattr(sys, '_get' + 'frame')(1)\n"
    "    return dict(getattr(caller, 'f_' + 'locals').get('_m', {}))\n"
)
SEARCHES_HEAP = "import gc\nfound = getattr(gc, 'get_' + 'objects')()\nq05 = 'b'\n"
STARTS_THREAD = ("import threading, time\n"
                 "threading.Thread(target=lambda: time.sleep(60), daemon=True).start()\n"
                 "q05 = 'b'\n")


# The in-process guard's review: attacks that each broke it once.  With the tests in the judge,
# each scores what its honest part earns.
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
# look for the hidden assert's text (in linecache, frames, anywhere) and rebind the answer.  The
# hook looks at most every 50 ms: looking at every collection made Exercise 4's training in the
# same kernel pass the corpus's 25 s cell limit on a busy machine.
HOOKS = '''
q01 = "a"
import gc, linecache, re, sys, threading, time
_last = [0.0]
def _rebind(*_):
    if time.monotonic() - _last[0] < 0.05:
        return
    _last[0] = time.monotonic()
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
_loop = "import time\\nwhile True:\\n    _rebind()\\n    time.sleep(1)"
threading.Thread(target=exec, args=(_loop, globals()), daemon=True).start()
'''

# Walks out of the function Exercise 2's check calls (a traceback's frames and f_back, from
# library code), reads what source it can and rewrites the locals it finds with ctypes: in the
# judge's world the frames above it are the grader's exchange, and the wrong answer stays wrong.
FRAME_WALK = '''
def binary_metrics(tp, fp, fn, tn):
    import ctypes, inspect, traceback
    try:
        raise RuntimeError
    except RuntimeError as error:
        frame = list(traceback.walk_tb(error.__traceback__))[-1][0]
    seen = []
    while frame is not None:
        try:
            seen.append(inspect.getsource(frame))
        except (OSError, TypeError):
            pass
        for name in ("_want", "_m", "_precision_score"):
            if name in frame.f_locals:
                frame.f_locals[name] = 0.25
                ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
        frame = frame.f_back
    return {k: 0.25 for k in ("precision", "recall", "accuracy", "f1")}
'''


def _rebound_later() -> bytes:
    """q01 answered right, then set to a wrong letter after its test cell: the test reads the
    answer where the test stands in the notebook."""
    nb = lean_complete()
    at = next(i for i, c in enumerate(nb.cells) if notebook.grade_id(c) == "q01-check")
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell('q01 = "a"\n'))
    return dump(nb)


def _leak_case(name: str) -> Case:
    body, words = LEAKS[name]
    return Case(f"leak-{name}", answer("ex2-binary-metrics-answer",
                                       "def binary_metrics(tp, fp, fn, tn):\n" + body),
                "graded", FULL - EX2, item=STOPPED_ITEM, outcome="failed", message=words)


def _stop_case(name: str) -> Case:
    body, status, score, outcome, message = STOPS[name]
    return Case(f"stop-{name}", answer("ex2-binary-metrics-answer",
                                       "def binary_metrics(tp, fp, fn, tn):\n" + body),
                status, score, item=STOPPED_ITEM, outcome=outcome, message=message)


def cases(*, port: int, marker: str, hidden_paths: list[str]) -> list[Case]:
    """Every corpus case; ``port`` has a listener on the host, ``marker`` names a file that
    must not appear in the host's /tmp, ``hidden_paths`` must not be visible in the sandbox."""
    return [
        Case("complete-lean", lambda: dump(lean_complete()), "graded", FULL),
        Case("honest-unusual", _honest_unusual, "graded", FULL),
        Case("trains-from-the-checks-seed",
             answer("ex4-cancer-classifier-answer", FROM_THE_CHECKS_SEED), "graded", FULL,
             item="ex4-cancer-classifier-check", outcome="passed"),
        Case("not-json", lambda: b"{ this is not json", "unreadable: not a Jupyter notebook", 0),
        Case("empty", lambda: b"", "unreadable: the file is empty", 0),
        Case("binary", lambda: b"\x89PNG\r\n\x1a\n\x00\x00", "unreadable", 0),
        Case("json-not-notebook", lambda: json.dumps({"cells": 3}).encode(),
             "unreadable: not a Jupyter notebook", 0),
        Case("old-nbformat", _old_nbformat, "graded", FULL),
        Case("cells-deleted", lambda: dump(_drop_tests(lean_complete(), {"ex1-confusion-counts-check"})),
             "graded", FULL, "test cell ex1-confusion-counts-check was missing"),
        Case("cells-duplicated", _duplicated, "graded", FULL, "a second copy of test cell q01-check"),
        Case("cells-reordered", _swapped, "graded", FULL - 1),
        Case("cells-retyped", _retyped, "graded", FULL - 1),
        Case("tests-edited", _tests_edited, "graded", FULL - 3),
        Case("tests-removed", lambda: dump(_drop_tests(lean_complete(), set(KEY.tests))),
             "graded", FULL),
        Case("metadata-edited", _metadata_edited, "graded", FULL),
        Case("other-chapter", _other_chapter, "wrong chapter: this is a ch02_sequential", 0),
        *[_stop_case(name) for name in STOPS],
        *[_leak_case(name) for name in LEAKS],
        Case("reads-history", answer("ex2-binary-metrics-answer", READS_HISTORY), "graded", FULL,
             item=STOPPED_ITEM, outcome="passed"),
        Case("kernel-exit", answer("q05-answer", "import os\nos._exit(1)\n"), "kernel died", BEFORE_Q05,
             item="q05-check", outcome="not run", message="the kernel had ended"),
        Case("sys-exit", answer("q05-answer", "import sys\nsys.exit(0)\n"), "graded", FULL - 1),
        Case("endless-loop", answer("q05-answer", "while True:\n    pass\n"),
             "timeout: a cell ran longer than", FULL - 1, item="q05-check", outcome="failed",
             message="is not defined"),
        Case("memory-bomb", answer("q05-answer", "hog = bytearray(64 * 1024 ** 3)\nq05 = 'b'\n"),
             "graded", FULL - 1, "ran out of memory"),
        Case("output-flood", answer("q05-answer", FLOOD), "graded", FULL, "output capped"),
        # What crosses to the judge is the data an object holds: (None, 3) is Q4's right answer
        # whatever its __eq__ says, and "a" is Q1's wrong one.
        Case("equals-anything", answer("q04-answer", EQUALS_ANYTHING), "graded", FULL),
        Case("equals-anything-hidden", answer("q01-answer", HIDDEN_EQ), "graded", FULL - 1,
             item="q01-check", outcome="failed"),
        Case("patched-numpy", answer("q09-answer",
             "import numpy as np\nnp.isclose = lambda *a, **k: True\nnp.testing.assert_allclose = print\nq09 = 0.6\n"),
             "graded", FULL),
        Case("redefined-builtins", answer("q09-answer",
             "import builtins\nbuiltins.abs = lambda x: 0\nq09 = 0.1\n"), "graded", FULL - 1,
             item="q09-check", outcome="failed"),
        Case("builtins-via-dunder", answer("q09-answer",
             "__builtins__.abs = lambda x: 0\nq09 = 0.1\n"), "graded", FULL - 1,
             item="q09-check", outcome="failed"),
        Case("input-transformer", answer("q05-answer",
             "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\nq05 = 'a'\n"),
             "graded", BEFORE_Q05, item="ex4-cancer-classifier-check", outcome="failed",
             message="the answer could not be read from the notebook"),
        Case("input-transformer-obfuscated", answer("q05-answer", OBFUSCATED_TRANSFORMER), "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("ast-transformer", answer("q05-answer",
             "import ast\nclass Gut(ast.NodeTransformer):\n"
             "    def visit_Assert(self, node):\n        return None\n"
             "get_ipython().ast_transformers.append(Gut())\nq05 = 'a'\n"), "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("event-hook", answer("q05-answer",
             "def hush(*args):\n    pass\nget_ipython().events.register('pre_run_cell', hush)\nq05 = 'a'\n"),
             "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("custom-exception-handler", answer("q05-answer",
             "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\nq05 = 'a'\n"),
             "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("excepthook", answer("q05-answer",
             "import sys\nsys.excepthook = lambda *a: None\nq05 = 'a'\n"), "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("trace-hook", answer("q05-answer",
             "import sys\nsys.settrace(lambda *a: None)\nq05 = 'a'\n"), "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("reads-test-code", answer("ex1-confusion-counts-answer", READS_TEST_CODE), "graded", FULL - KEY.tests["ex1-confusion-counts-check"].max_points,
             item="ex1-confusion-counts-check", outcome="failed"),
        Case("shadows-references", answer("ex2-binary-metrics-answer", SHADOWS_GLOBALS),
             "graded", FULL - EX2, item=STOPPED_ITEM, outcome="failed"),
        Case("rebinds-check-names", answer("ex2-binary-metrics-answer", REBINDS_CHECK_NAMES),
             "graded", FULL - EX2, item=STOPPED_ITEM, outcome="failed"),
        Case("shadows-builtins", answer("q09-answer", SHADOWS_BUILTINS), "graded", FULL - 1,
             item="q09-check", outcome="failed"),
        Case("shadows-module-references", answer("ex2-binary-metrics-answer", SHADOWS_MODULE),
             "graded", FULL - EX2, item=STOPPED_ITEM,
             outcome="failed"),
        Case("forges-guard-reports", answer("q05-answer", FORGES_GUARD), "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("swallows-guard-and-checks", answer("q05-answer", SWALLOWS_CELLS), "graded", FULL - 1, item="q05-check", outcome="failed"),
        Case("reads-frames-hidden", answer("ex2-binary-metrics-answer", READS_FRAMES_HIDDEN),
             "graded", FULL - EX2, item=STOPPED_ITEM,
             outcome="failed"),
        Case("searches-heap-hidden", answer("q05-answer", SEARCHES_HEAP), "graded", FULL),
        Case("starts-thread", answer("q05-answer", STARTS_THREAD), "graded", FULL),
        Case("lying-floats", answer("ex2-binary-metrics-answer", LYING_FLOATS), "graded",
             FULL - EX2, item=STOPPED_ITEM, outcome="failed"),
        Case("library-swap", answer("ex2-binary-metrics-answer", LIBRARY_SWAP), "graded",
             FULL - EX2, item=STOPPED_ITEM, outcome="failed"),
        Case("frame-walk", answer("ex2-binary-metrics-answer", FRAME_WALK), "graded",
             FULL - EX2, item=STOPPED_ITEM, outcome="failed"),
        Case("lying-model", answer("ex3-image-classifier-answer", LYING_MODEL), "graded",
             FULL - KEY.tests["ex3-image-classifier-check"].max_points,
             item="ex3-image-classifier-check", outcome="failed", message=exchange.NOT_KERAS),
        Case("not-a-model", answer("ex4-cancer-classifier-answer", NOT_A_MODEL), "graded",
             FULL - KEY.tests["ex4-cancer-classifier-check"].max_points,
             item="ex4-cancer-classifier-check", outcome="failed", message=exchange.OF_TYPE),
        Case("hooks-read-tests", answer("q01-answer", HOOKS), "graded", FULL - 1,
             item="q01-check", outcome="failed"),
        Case("rebound-later", _rebound_later, "graded", FULL, item="q01-check", outcome="passed"),
        Case("sandbox-escape", answer("q01-answer", SANDBOX_PROBE.format(
             paths=hidden_paths, port=port, marker=marker)), "graded", FULL - 1),
    ]


# Answers run in the whole notebook, graded with the lessons nothing graded needs left out and
# again with every lesson cell: the grades must be the same.  Two read a lesson's variable
# (``inputs``, section 1), once plainly (the cut keeps its cell) and once in a way the cut
# cannot see (``globals()``: the cut run fails and the safety net runs the whole notebook).
WHOLE_NOTEBOOK = {
    "complete": ("q05-answer", None),
    "reads-lesson-variable": ("q04-answer", "q04 = (None, int(inputs.shape[1]))\n"),
    "reads-lesson-variable-hidden": ("q04-answer",
                                     "q04 = (None, int(globals()['inputs'].shape[1]))\n"),
    "shadows-references": ("ex2-binary-metrics-answer", SHADOWS_GLOBALS),
    "forges-guard-reports": ("q05-answer", FORGES_GUARD),
    "reads-frames-hidden": ("ex2-binary-metrics-answer", READS_FRAMES_HIDDEN),
}


def whole_notebook_case(name: str) -> bytes:
    gid, source = WHOLE_NOTEBOOK[name]
    nb = full_complete()
    return dump(nb if source is None else with_answer(gid, source, nb))

