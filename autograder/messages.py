"""What a student may read about a graded check: words the grader chose, or the instructor's own
message as written in the check's visible source.  Never text from the student's kernel.

The tests run in the judge (:mod:`autograder.judge`), so the exception a check raised is the
judge's; but the values it formats into a message came from the student, and a string, a key or
a number the student chose can say anything.  So the exception's message is used only to
*choose* among the visible check's own messages (an ``assert`` whose message is a string or an
f-string, its fields shown as ``…``) and the exchange's fixed reasons for refusing an answer
(:data:`autograder.exchange.REASONS`); the page can only show text the student could already
read in the released notebook or in the grader.  The exception's name is shown only when it is
one of Python's own.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from functools import lru_cache

from autograder import exchange

FIELD = "…"  # what stands for a value an f-string message would have shown

NOT_ANSWERED = "not answered: the answer cell still raises NotImplementedError"
NO_MESSAGE = "failed: a check did not hold"
RAISED = "failed: the check raised {ename}"
RAISED_OTHER = "failed: the check raised an exception"
MISSING_NAME = ("failed: a name this check needs is not defined (run the answer cell, and keep "
                "the names the exercise asks for)")
BUILTIN_ERRORS = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


@dataclass(frozen=True)
class CheckMessage:
    """One assertion message of a visible check: the text shown, and a pattern that recognises
    the message it produces at run time."""

    text: str
    pattern: re.Pattern[str]


def _message_parts(node: ast.expr) -> list[str | None] | None:
    """The literal pieces of an assertion message (None for a formatted field), or None when
    the message is not a plain string or f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value if isinstance(v, ast.Constant) else None for v in node.values]
    return None


@lru_cache(maxsize=256)
def check_messages(visible_source: str) -> tuple[CheckMessage, ...]:
    """Every assertion message written in a check's visible source, in order."""
    try:
        tree = ast.parse(visible_source)
    except SyntaxError:
        return ()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            parts = _message_parts(node.msg)
            if not parts or all(p is None for p in parts):
                continue
            text = "".join(FIELD if p is None else p for p in parts)
            regex = "".join("(?s:.*)" if p is None else re.escape(p) for p in parts)
            found.append(CheckMessage(text, re.compile(regex)))
    return tuple(found)


def failure_message(*, visible_source: str, ename: str, evalue: str) -> str:
    """The words a student reads for a check that raised ``ename`` with ``evalue`` (both from
    the student's kernel, and so used only to choose among fixed texts)."""
    if ename == "AssertionError":
        if evalue in exchange.REASONS:  # the judge refused the answer: the grader's own words
            return f"failed: {evalue}"
        for message in check_messages(visible_source):
            if message.pattern.fullmatch(evalue):
                return f"failed: {message.text}"
        return NO_MESSAGE
    if ename == "NameError":
        return MISSING_NAME
    if ename == "NotImplementedError":
        return NOT_ANSWERED
    if ename in BUILTIN_ERRORS:
        return RAISED.format(ename=ename)
    return RAISED_OTHER


def possible_messages(visible_source: str) -> frozenset[str]:
    """Every failure message :func:`failure_message` can give for one check (for tests)."""
    return frozenset({NO_MESSAGE, MISSING_NAME, NOT_ANSWERED, RAISED_OTHER,
                      *(RAISED.format(ename=e) for e in BUILTIN_ERRORS),
                      *(f"failed: {reason}" for reason in exchange.REASONS),
                      *(f"failed: {m.text}" for m in check_messages(visible_source))})
