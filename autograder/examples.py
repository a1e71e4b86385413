"""Example submissions made from a chapter's own notebooks, so they can never drift from it.

* ``example-complete``: the student notebook with every answer cell filled with the model answer;
* ``example-untouched``: the student notebook as released;
* ``example-partial``: the first half of the answers filled in, one of them with a wrong choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from autograder import notebook
from autograder.answer_key import AnswerKey
from autograder.course import Chapter

CHOICE = re.compile(r'^(?P<name>q\d+) = "(?P<letter>[a-e])"\s*$', re.M)


def wrong_choice(answer: str) -> str | None:
    """A well-formed but wrong multiple-choice answer, or None when ``answer`` is not one."""
    match = CHOICE.search(answer)
    if not match:
        return None
    letter = "b" if match["letter"] == "a" else "a"
    return CHOICE.sub(f'{match["name"]} = "{letter}"', answer, count=1)


@dataclass(frozen=True)
class Example:
    student_id: str
    path: Path
    correct_answers: frozenset[str]  # answer cells filled with the model answer


def _fill(chapter: Chapter, answers: dict[str, str]):
    nb = notebook.read(chapter.student_notebook)
    for cell in nb.cells:
        gid = notebook.grade_id(cell)
        if notebook.is_answer_cell(cell) and gid in answers:
            cell.source = answers[gid]
    return nb


def write_examples(chapter: Chapter, dest: Path) -> list[Example]:
    """Write the three example submissions of ``chapter`` into ``dest``."""
    key = AnswerKey.load(chapter)
    dest.mkdir(parents=True, exist_ok=True)
    ids = list(key.answers)
    half = ids[: max(1, len(ids) // 2)]
    wrong_id = next((gid for gid in half if wrong_choice(key.answers[gid])), None)
    partial = {gid: key.answers[gid] for gid in half}
    if wrong_id:
        partial[wrong_id] = wrong_choice(key.answers[wrong_id])
    plans = [
        ("example-complete", dict(key.answers), frozenset(ids)),
        ("example-untouched", {}, frozenset()),
        ("example-partial", partial, frozenset(half) - {wrong_id}),
    ]
    examples = []
    for student_id, answers, correct in plans:
        path = dest / f"{student_id}.ipynb"
        notebook.write(_fill(chapter, answers), path)
        examples.append(Example(student_id, path, correct))
    return examples
