"""Exercises graded on a trained model: the model answer, trained with 20 seeds, passes the
whole check (hidden tests included) every time, so a sound answer never fails by bad luck.

An exercise counts as trained when its check seeds itself (`set_random_seed(N)`) and its model
answer calls `fit`.  Each such check runs 20 times in a fresh Python, its seed replaced by 0..19,
after the chapter's setup cell and the model answers; the smallest margin of every threshold in
its hidden tests (`assert _name > 0.8` and the like) is printed, and must be above 0.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.course import find_chapters

SEEDS = 20
SEED_CALL = re.compile(r"set_random_seed\(\d+\)")
THRESHOLD = re.compile(r"^\s*assert (_\w+) ([<>]=?) ([0-9.]+)", re.M)

RUNNER = r'''
import json, os, re, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
job = json.loads(sys.stdin.read())
ns = {"__name__": "__main__"}
exec(job["setup"], ns)
for answer in job["answers"]:
    exec(answer, ns)
rows = []
for seed in range(job["seeds"]):
    check = re.sub(r"set_random_seed\(\d+\)", f"set_random_seed({seed})", job["check"])
    try:
        exec(check, ns)
        error = ""
    except AssertionError as err:
        error = str(err) or "assertion failed"
    values = {name: float(ns[name]) for name in job["names"] if name in ns}
    rows.append({"seed": seed, "error": error, "values": values})
print("RESULT " + json.dumps(rows))
'''


def _trained_checks():
    cases = []
    for chapter in find_chapters():
        key = AnswerKey.load(chapter)
        for test in key.tests.values():
            answer = key.answers.get(test.answer_id or "", "")
            if SEED_CALL.search(test.source) and ".fit(" in answer:
                cases.append(pytest.param(chapter, key, test, id=f"{chapter.name}-{test.grade_id}"))
    return cases


def _setup_source(chapter) -> str:
    nb = notebook.read(chapter.instructor_notebook)
    return next(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize(("chapter", "key", "test"), _trained_checks())
def test_the_model_answer_passes_with_every_seed(chapter, key, test):
    assert len(SEED_CALL.findall(test.source)) == 1, "the check should seed itself exactly once"
    thresholds = [(name, op, float(value)) for name, op, value in THRESHOLD.findall(test.source)]
    job = {"setup": _setup_source(chapter), "answers": list(key.answers.values()),
           "check": test.source, "seeds": SEEDS, "names": sorted({t[0] for t in thresholds})}
    run = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(job), text=True,
                         capture_output=True, timeout=1800)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, run.stderr[-2000:]
    rows = json.loads(lines[-1][len("RESULT "):])
    failed = [(row["seed"], row["error"]) for row in rows if row["error"]]
    assert not failed, failed
    margins = {}
    for name, op, limit in thresholds:
        values = [row["values"][name] for row in rows if name in row["values"]]
        margins[f"{name} {op} {limit}"] = (min(values) - limit if op.startswith(">")
                                            else limit - max(values))
    print(f"\n{chapter.name} {test.grade_id}: smallest margin over {SEEDS} seeds:",
          {k: round(v, 4) for k, v in margins.items()})
    assert len(rows) == SEEDS and all(m > 0 for m in margins.values()), margins
