"""The chapter 3 transactions set: regenerating it from the notebook's own function gives the
hash, size and class balance its data card (data/README.md) states."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from conftest import notebook_function

from autograder import notebook
from autograder.course import REPO_ROOT, get_chapter

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it


def _make_transactions():
    nb = notebook.read(get_chapter("ch03_fit_metrics").instructor_notebook)
    cell = next(c for c in nb.cells if "def make_transactions" in c.source)
    return notebook_function(cell.source, "make_transactions", {"np": np})


def test_transactions_match_the_data_card():
    card = (REPO_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"SHA-256 .*?`([0-9a-f]{64})`", card, re.S)[1]
    x, y = _make_transactions()(20_000, seed=2024)
    assert hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest() == stated
    assert x.shape == (20_000, 8) and x.dtype == np.float32
    assert int(y.sum()) == 385
