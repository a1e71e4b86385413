"""Chapter 3, Exercise 3: how far new data moves a threshold chosen on the validation split.

Runs Exercise 3's real check cell (hidden tests included) on the model answer and on every correct
answer variant of tests/variants/ch03_fit_metrics.py, once per seed (the check's own seed replaced),
and prints each run's validation and new-data recall and precision, whether the check passed, and
for comparison the recall on the test split (what the check graded before: recall >= 0.8 there).
The bars written in the exercise's text come from this table: every correct answer must pass at
every seed.  It trains about 100 small models: a few minutes.

    .venv/bin/python tests/ch03_ex3_margin.py [--seeds 20] [--wrong]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from variants import variants_of  # noqa: E402

from autograder import notebook  # noqa: E402
from autograder.answer_key import AnswerKey  # noqa: E402
from autograder.course import get_chapter  # noqa: E402

ANSWER = "ex3-fix-fraud-recall-answer"
CHECK = "ex3-fix-fraud-recall-check"
SEED_LINE = re.compile(r"_keras\.utils\.set_random_seed\(\d+\)")


def run(setup: str, answer: str, check: str, seed: int) -> dict:
    """One graded run of the check cell on one answer, with the check's seed set to `seed`."""
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(setup, namespace)
        exec(answer, namespace)
        try:
            exec(SEED_LINE.sub(f"_keras.utils.set_random_seed({seed})", check), namespace)
            passed, why = True, ""
        except AssertionError as err:
            passed, why = False, str(err)
    keys = ("_threshold", "_val_recall", "_val_precision", "_new_recall", "_new_precision")
    result = {"passed": passed, "why": why, **{k.strip("_"): namespace.get(k) for k in keys}}
    if isinstance(result["threshold"], float):   # for comparison: the test split the old check graded on
        x_all, y_all = namespace["_x_all"], namespace["_y_all"]
        _, x_test, _, y_test = namespace["_train_test_split"](x_all, y_all, test_size=0.2, stratify=y_all,
                                                              random_state=0)
        result["test_recall"], result["test_precision"], _ = namespace["_fraud_scores"](
            namespace["_model"], x_test, y_test, result["threshold"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--wrong", action="store_true", help="also run the wrong variants")
    args = parser.parse_args()
    chapter = get_chapter("ch03_fit_metrics")
    key = AnswerKey.load(chapter)
    setup = next(c.source for c in notebook.read(chapter.instructor_notebook).cells if c.cell_type == "code")
    answers = [("model answer", True, key.answers[ANSWER])]
    answers += [(v.name, v.correct, v.source) for v in variants_of(chapter.name)
                if v.answer_id == ANSWER and (v.correct or args.wrong)]
    check = key.tests[CHECK].source
    for name, correct, source in answers:
        print(f"\n{'right' if correct else 'wrong'}: {name}")
        rows = []
        for seed in range(args.seeds):
            r = run(setup, source, check, seed)
            rows.append(r)
            numbers = " ".join(f"{k} {r[k]:.3f}" for k in
                               ("threshold", "val_recall", "val_precision", "new_recall", "new_precision",
                                         "test_recall", "test_precision")
                               if isinstance(r.get(k), float))
            print(f"  seed {seed:2d}: {'pass' if r['passed'] else 'FAIL'}  {numbers}  {r['why'][:70]}",
                  flush=True)
        done = [r for r in rows if isinstance(r["new_recall"], float)]
        if done:
            print(f"  passed {sum(r['passed'] for r in rows)}/{len(rows)}; new-data recall "
                  f"{min(r['new_recall'] for r in done):.3f}-{max(r['new_recall'] for r in done):.3f}, "
                  f"precision {min(r['new_precision'] for r in done):.3f}-"
                  f"{max(r['new_precision'] for r in done):.3f}; validation recall "
                  f"{min(r['val_recall'] for r in done):.3f}-{max(r['val_recall'] for r in done):.3f}, "
                  f"precision {min(r['val_precision'] for r in done):.3f}-"
                  f"{max(r['val_precision'] for r in done):.3f}; the test split (graded before): recall "
                  f"{min(r['test_recall'] for r in done):.3f}-{max(r['test_recall'] for r in done):.3f}, "
                  f"{sum(r['test_recall'] < 0.8 for r in done)} of {len(done)} below 0.8")


if __name__ == "__main__":
    main()
