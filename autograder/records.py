"""The grader's results as files: one JSON record per submission, written and read back unchanged.

A results folder holds, besides what people read (grades.csv, the report, the feedback pages):

* ``records/<row>.json``: one :class:`~autograder.results.SubmissionResult` per submitted file,
  in the intake's order, so that ``review``, ``feedback`` and ``export`` work from them without
  running anything again;
* ``cache/<key>.json``: the record of every submission graded into this folder, under a key made
  of the submission's bytes, the answer key, the grader's own code and the limits
  (:func:`cache_key`).  A later ``grade`` into the same folder takes a submission's record from
  there instead of grading it again; each is written the moment its grading ends, so a run that
  is killed loses only the submissions still running.

Records carry a format number; a record of another format, or one that does not parse, counts
as absent (a cache entry is then graded again; a ``records/`` folder is refused with one line).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, fields, replace
from functools import lru_cache
from pathlib import Path

from autograder.errors import CourseError
from autograder.results import CellError, Outcome, Status, SubmissionResult, TestOutcome

FORMAT = 1
RECORDS = "records"
CACHE = "cache"


# --- one record ---------------------------------------------------------------------------------

def to_json(result: SubmissionResult, *, timed: bool = True) -> dict:
    """A record as plain JSON values (enums by value, tuples as lists).  Without ``timed`` the
    grading time is left out, so the same grading writes the same bytes."""
    data = asdict(result)
    if not timed:
        del data["seconds"]
    data["status"] = result.status.value
    for test in data["tests"]:
        test["outcome"] = Outcome(test["outcome"]).value
    return {"format": FORMAT, "result": data}


def _tuple_of_pairs(items: Iterable) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in items)


def from_json(data: dict) -> SubmissionResult:
    """The record :func:`to_json` wrote (``ValueError`` for another format or a broken one)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a result record of this grader's format")
    raw = dict(data["result"])
    known = {f.name for f in fields(SubmissionResult)}
    if set(raw) - known:
        raise ValueError(f"unknown fields: {sorted(set(raw) - known)}")
    raw["status"] = Status(raw["status"])
    raw["tests"] = tuple(TestOutcome(**{**t, "outcome": Outcome(t["outcome"])})
                         for t in raw.get("tests", ()))
    raw["errors"] = tuple(CellError(**e) for e in raw.get("errors", ()))
    for name in ("notes", "flags", "warned"):
        raw[name] = tuple(raw.get(name, ()))
    raw["answers"] = _tuple_of_pairs(raw.get("answers", ()))
    return SubmissionResult(**raw)


def _write_json(path: Path, data: dict) -> None:
    """Write atomically: a reader (or a killed run) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp",
                                     delete=False) as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(handle.name, path)


# --- the records of a class ---------------------------------------------------------------------

def write_records(results: Iterable[SubmissionResult], folder: Path) -> Path:
    """Replace ``folder/records/`` with one file per result, numbered in the given order."""
    target = folder / RECORDS
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.json"):
        old.unlink()
    for row, result in enumerate(results, start=1):
        _write_json(target / f"{row:05d}.json", to_json(result, timed=False))
    return target


def read_records(folder: Path) -> tuple[SubmissionResult, ...]:
    """The records a ``grade`` wrote into the results folder ``folder``, in its order."""
    target = folder / RECORDS
    paths = sorted(target.glob("*.json")) if target.is_dir() else []
    if not paths:
        raise CourseError(f"no graded results in {folder} (run `python -m autograder grade "
                          f"... --out {folder}` first)")
    results = []
    for path in paths:
        try:
            results.append(from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, KeyError, TypeError) as err:
            raise CourseError(f"{path} is not a result record this grader can read "
                              f"({err}); grade the class again") from None
    return tuple(results)


# --- the cache ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def grader_version() -> str:
    """A digest of the grader's own source files: any change to the grader changes it."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(*, submission: bytes, key_digest: str, limits: object, whole: bool) -> str:
    """Names one grading: what was submitted, what it was graded against and how."""
    h = hashlib.sha256()
    for part in (submission, key_digest.encode(), grader_version().encode(),
                 repr(limits).encode(), b"whole" if whole else b"cut"):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def cached(folder: Path, key: str) -> SubmissionResult | None:
    """The record graded under ``key`` into ``folder``, or None."""
    path = folder / CACHE / f"{key}.json"
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(folder: Path, key: str, result: SubmissionResult) -> None:
    """Keep ``result`` under ``key`` (the grading time is kept too: it is what a rerun saves)."""
    _write_json(folder / CACHE / f"{key}.json", to_json(result))


def as_submitted(result: SubmissionResult, *, student_id: str, filename: str,
                 submitted_at: str, late_marker: bool) -> SubmissionResult:
    """A cached record for the file it now stands for (the same bytes may arrive renamed)."""
    return replace(result, student_id=student_id, filename=filename,
                   submitted_at=submitted_at, late_marker=late_marker)
