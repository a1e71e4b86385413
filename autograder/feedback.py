"""How much a student's feedback page says about each graded item, and from when.

A chapter may keep a policy in ``source/<chapter>/grading.toml`` (never released to students)::

    [feedback]
    before_due = "visible"    # until the due date
    after_due = "visible"     # from the due date on

    [feedback.items."ex2-binary-metrics-check"]
    after_due = "hidden"

Each level says what a failed item shows:

* ``pass-fail``: only that it failed;
* ``visible``: the message of the failing visible assertion, as the released notebook shows it
  (the default, before and after the due date);
* ``hidden``: as ``visible``, and where a hidden assertion failed, that assertion's own message.

Every level shows only text the instructor wrote in the check's source or words the grader
chose; never test code, and never anything the student's code printed or raised
(:mod:`autograder.messages`).  ``python -m autograder feedback <results>`` writes the pages again
from the stored records when the policy or the date changes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from autograder.course import Chapter
from autograder.errors import CourseError
from autograder.results import Outcome, TestOutcome

POLICY_FILE = "grading.toml"
FAILED = "failed"


class Level(StrEnum):
    PASS_FAIL = "pass-fail"
    VISIBLE = "visible"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class ItemPolicy:
    before_due: Level = Level.VISIBLE
    after_due: Level = Level.VISIBLE


@dataclass(frozen=True)
class FeedbackPolicy:
    default: ItemPolicy = ItemPolicy()
    items: Mapping[str, ItemPolicy] = field(default_factory=dict)

    def level(self, grade_id: str, *, now: datetime, due: datetime | None) -> Level:
        """The level for one item at ``now`` (no due date: the before-due level holds)."""
        item = self.items.get(grade_id, self.default)
        return item.after_due if due is not None and now >= due else item.before_due


def _level(value: object, where: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        choices = ", ".join(repr(v.value) for v in Level)
        raise CourseError(f"{where}: {value!r} is not a feedback level ({choices})") from None


def _item(table: Mapping, default: ItemPolicy, where: str) -> ItemPolicy:
    unknown = set(table) - {"before_due", "after_due"}
    if unknown:
        raise CourseError(f"{where}: unknown setting {sorted(unknown)[0]!r}")
    before = _level(table.get("before_due", default.before_due.value), where)
    after = _level(table.get("after_due", table.get("before_due", default.after_due.value)),
                   where)
    return ItemPolicy(before, after)


def load_policy(chapter: Chapter) -> FeedbackPolicy:
    """The chapter's feedback policy (the defaults when it has no grading.toml)."""
    path = chapter.instructor_notebook.parent / POLICY_FILE
    if not path.is_file():
        return FeedbackPolicy()
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8")).get("feedback", {})
    except tomllib.TOMLDecodeError as err:
        raise CourseError(f"{path}: {err}") from None
    items = settings.get("items", {})
    default = _item({k: v for k, v in settings.items() if k != "items"}, ItemPolicy(),
                    f"{path} [feedback]")
    return FeedbackPolicy(default, {gid: _item(table, default, f"{path} [feedback.items.{gid}]")
                                    for gid, table in items.items()})


def shown_message(test: TestOutcome, level: Level) -> str:
    """What the page says about one item at ``level``."""
    if test.outcome is not Outcome.FAILED:
        return test.message  # not answered, stopped, not run: the grader's own words
    if level is Level.PASS_FAIL:
        return FAILED
    if level is Level.HIDDEN and test.hidden_message:
        return test.hidden_message
    return test.message
