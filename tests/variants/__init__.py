"""Answer variants for every coding exercise, graded through `python -m autograder grade` by
tests/test_variants.py.

A *correct* variant is a right answer written another way (another spelling of a loss, metric
or activation, plain Python instead of NumPy, another container or dtype ...): it must earn every
point of the items its answer cell feeds.  A *wrong* variant is a known mistake (off by one, the
other class's metric, a model trained on the test data ...): it must earn none of them.

Each chapter lists its variants in ``tests/variants/<chapter>.py`` as ``VARIANTS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    answer_id: str  # the answer cell it fills, e.g. "ex1-confusion-counts-answer"
    name: str  # a few words: what is different about it
    source: str  # the answer cell's whole source
    correct: bool  # True: every point of the item; False: none


def right(answer_id: str, name: str, source: str) -> Variant:
    return Variant(answer_id, name, source, True)


def wrong(answer_id: str, name: str, source: str) -> Variant:
    return Variant(answer_id, name, source, False)


def variants_of(chapter_name: str) -> tuple[Variant, ...]:
    """The variants listed for a chapter (none when it has no file)."""
    try:
        module = importlib.import_module(f"variants.{chapter_name}")
    except ModuleNotFoundError:
        return ()
    return tuple(module.VARIANTS)
