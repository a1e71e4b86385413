"""The judge: every test cell runs in a kernel of its own, which student code never touches.

A graded run has two kernels, each in its own sandbox (:mod:`autograder.isolation`): the
student's, which runs the submission's cells, and the judge's, which runs the test cells.  The
student's kernel never receives a test cell's source, its reference values or its imports.  The
two never talk to each other; the grader carries data between them, in the format of
:mod:`autograder.exchange`:

* Before a test cell runs, the judge asks for the answers it reads (the names
  :func:`answer_names` finds in its code).  The grader runs :func:`export_source` in the
  student's kernel, where the notebook stands at that test cell (so a name rebound later in the
  notebook does not change an earlier test), and hands the bytes to the judge, which rebuilds
  them as plain data (:func:`autograder.exchange.read_names`).
* A function crosses as a stub: when the test calls it, the judge asks the grader, which runs
  :func:`call_source` in the student's kernel and brings the result back the same way.
* A check that seeds itself (``keras.utils.set_random_seed``) seeds both kernels: the judge
  asks the grader, which runs :func:`seed_source` in the student's kernel, so a function the
  check calls trains from the check's seed, whatever the notebook did before.
* The judge asks with ``input()``: the question reaches the grader on the kernel's stdin
  channel and the answer comes back on it.  The student's kernel hands its bytes to the grader
  as one output of the grader's cell (:data:`autograder.exchange.MIME`); neither kernel can
  write anywhere the grader reads.

What the judge prints and raises is all a page ever shows of a test; the student's kernel only
ever returns data.  ``self_check`` (the practice questions' visible feedback) is bound in the
judge to a silent function of its own.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
from pathlib import Path

from autograder import cells, exchange

EXCHANGE_TEXT = Path(exchange.__file__).read_text(encoding="utf-8")
MODULE = "_autograder_exchange"  # the exchange's module name, in both kernels
SILENT = {"self_check"}  # names a test reads that the judge binds itself
FETCH, CALL, SEED = "fetch", "call", "seed"  # the three questions the judge asks
# The tag of the student notebooks' own copy of the exchange (see autograder.release): a graded
# run never runs that cell, since the grader installs its own before any student code.
STUDENT_EXCHANGE_TAG = "course-exchange"


def answer_names(source: str) -> list[str]:
    """The names a test cell reads from the notebook: what it reads at top level and in its
    functions, minus what it binds, imports or finds in ``builtins``, and minus :data:`SILENT`."""
    read = cells.global_reads(source) - cells.imported_names(source) - set(dir(builtins))
    return sorted(read - SILENT)


def install_source(module: str, extra: str = "") -> str:
    """A cell that makes the exchange an importable module named ``module`` (its text as it is,
    in a raw string, so that a student who opens the cell can read it), then runs ``extra``,
    which may use the new module as ``_module``."""
    if "'''" in EXCHANGE_TEXT or EXCHANGE_TEXT.endswith("\\"):
        raise ValueError("the exchange must fit in a raw string in three single quotes")
    return (
        "import sys as _sys, types as _types\n"
        f"_module = _types.ModuleType({module!r})\n"
        f"_text = r'''{EXCHANGE_TEXT}'''\n"
        "exec(compile(_text, '<exchange>', 'exec'), _module.__dict__)\n"
        f"_sys.modules[{module!r}] = _module\n"
        f"{extra}"
        "del _sys, _types, _module, _text\n"
    )


# No traceback from either kernel reaches anyone: the grader reads an error's name and value
# only.  IPython's default report reads the source of every frame and looks each frame's module
# up among all those loaded (twice: for display and for its history).  With TensorFlow loaded,
# a check that fails through the exchange's frames (an unanswered exercise's stub raising) cost
# the judge about 45 ms that way, so both kernels use IPython's plainest report.
PLAIN_ERRORS = "get_ipython().InteractiveTB.set_mode('Minimal')\n"


def student_setup_source() -> str:
    """The first cell of the student's kernel: the exchange, before any student code."""
    return install_source(MODULE, PLAIN_ERRORS)


def export_source(names: list[str]) -> str:
    """The grader's cell, in the student's kernel, that sends the answers ``names``."""
    return f"__import__({MODULE!r}).export(globals(), {names!r})"


def call_source(ref: str, request: bytes, *, limit: int) -> str:
    """The grader's cell, in the student's kernel, that calls the stub ``ref``'s function with
    the arguments ``request`` (a crossing); what it prints past ``limit`` bytes is dropped."""
    data = base64.b64encode(request).decode("ascii")
    return f"__import__({MODULE!r}).serve_call({ref!r}, {data!r}, {int(limit)})"


def seed_source(value: int) -> str:
    """The grader's cell, in the student's kernel, that seeds it with ``value``."""
    return f"__import__({MODULE!r}).seed({int(value)})"


JUDGE_RUNTIME = '''
import base64 as _base64
import json as _json
import _autograder_exchange as _exchange


def _ask(question):
    reply = _json.loads(input(_json.dumps(question)))
    if "error" in reply:
        raise AssertionError(reply["error"])
    return _base64.b64decode(reply["data"])


def _call(ref, request):
    return _ask({"op": "call", "ref": ref, "data": _base64.b64encode(request).decode("ascii")})


_known = {}


def _bind(namespace, names):
    for name in names:
        namespace.pop(name, None)
    if not names:
        return
    values = _exchange.read_names(_ask({"op": "fetch", "names": names}), call=_call,
                                  known=_known)
    for name, value in values.items():
        if isinstance(value, _exchange.Refused):
            raise AssertionError(str(value))
        namespace[name] = value


def self_check(name, answer, digest):
    return None


def _seed_both():
    import keras
    seed_judge = keras.utils.set_random_seed
    if getattr(seed_judge, "seeds_both", False):
        return

    def set_random_seed(seed):
        seed_judge(seed)
        _ask({"op": "seed", "value": int(seed)})

    set_random_seed.seeds_both = True
    keras.utils.set_random_seed = set_random_seed
'''


def judge_setup_source() -> str:
    """The first cell of the judge's kernel: the exchange and the judge's own helpers."""
    return install_source(MODULE, PLAIN_ERRORS + JUDGE_RUNTIME)


def judged_source(test_source: str) -> str:
    """A test cell as the judge runs it: its answers bound first (and, if it seeds itself,
    ``keras.utils.set_random_seed`` made to seed both kernels), then its own code as written.
    Keras is imported there, not when the judge starts, so what its import writes to stderr in
    a cold kernel lands in the first test cell that uses Keras, as it would anyway."""
    seeds = "_seed_both()\n" if "set_random_seed" in test_source else ""
    return f"_bind(globals(), {answer_names(test_source)!r})\n{seeds}{test_source}"


def question(prompt: str) -> dict:
    """The judge's question, read from the prompt of its ``input()`` (one of three shapes)."""
    try:
        asked = json.loads(prompt)
    except ValueError:
        return {}
    if not isinstance(asked, dict) or asked.get("op") not in (FETCH, CALL, SEED):
        return {}
    return asked


def request_of(asked: dict) -> bytes | None:
    """The arguments a call question carries, or ``None`` if it carries none that decode."""
    try:
        return base64.b64decode(str(asked.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        return None


def reply(data: bytes | None, why: str) -> str:
    """The grader's answer to the judge: the crossing, or why there is none."""
    if data is None:
        return json.dumps({"error": why})
    return json.dumps({"data": base64.b64encode(data).decode("ascii")})
