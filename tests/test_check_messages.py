"""A check that rejects an answer says why in its own words: the answer fails an `assert` of the
check's visible source, whose message is what the student reads (never an `AttributeError` or
another error raised on the way, which the feedback can only call "the check raised ...").

Each case runs its answer and then its check cell (hidden tests included), in one namespace, in
this process, as the kernel would, and asks `failure_message` what the student reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from autograder.answer_key import AnswerKey
from autograder.course import get_chapter
from autograder.messages import failure_message


@dataclass(frozen=True)
class Case:
    chapter: str
    check_id: str
    answer: str  # the answer cell's source
    reads: str  # what the student must read


CASES = [
    Case("ch02_sequential", "ex1-spec-model-check",
         "def build_spec_model():\n"
         "    return keras.Sequential([keras.Input(shape=(20,)),\n"
         "                             layers.Dense(32, activation='relu'),\n"
         "                             layers.Dense(16, activation='relu'),\n"
         "                             layers.Dense(4, activation='softmax')])\n",
         "failed: the model must be compiled (optimizer and loss)"),
    Case("ch01_keras_api", "ex3-image-classifier-check",
         "def build_image_classifier():\n"
         "    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),\n"
         "                             layers.Dense(128, activation='relu'),\n"
         "                             layers.Dense(10, activation='softmax')])\n",
         "failed: compile the model before returning it"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.chapter}-{c.check_id}")
def test_a_rejected_answer_reads_the_checks_own_message(case):
    keras = pytest.importorskip("keras")
    test = AnswerKey.load(get_chapter(case.chapter)).tests[case.check_id]
    namespace = {"keras": keras, "layers": keras.layers}
    exec(case.answer, namespace)
    with pytest.raises(AssertionError) as raised:
        exec(test.source, namespace)
    assert failure_message(visible_source=test.visible_source, ename="AssertionError",
                           evalue=str(raised.value)) == case.reads
