"""The grader's side of the run-time guard: the cells it adds to a graded run, and their reports.

The first cell of every graded run installs the guard (:mod:`autograder.kernel_guard`, sent as
text) before any student code; a guard cell goes before and after every test cell.  The first
cell prints the run's key, and each guard cell's report must be signed with it (see the kernel
side for why).  A guard that did not report, or whose report does not verify, is a finding.
"""

from __future__ import annotations

import ast
import builtins
import secrets
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

from autograder import kernel_guard
from autograder.scan import module_aliases

KERNEL_GUARD_TEXT = Path(kernel_guard.__file__).read_text(encoding="utf-8")
SNAPSHOT_MARK = "# autograder: the guard's snapshot"
NO_REPORT = "the grader's integrity check did not report back"
NO_SNAPSHOT = "the grader's integrity snapshot failed"


@dataclass(frozen=True)
class Guard:
    """One guard cell's text and the nonce its report must carry."""

    nonce: str

    @property
    def source(self) -> str:
        return kernel_guard.guard_source(self.nonce)


def new_guard() -> Guard:
    return Guard(secrets.token_hex(8))


CHECK_FUNCTION = "_autograder_check"


def builtins_read(source: str) -> list[str]:
    """The builtins a test cell's code names (``isinstance``, ``abs`` ...)."""
    real = set(dir(builtins))
    return sorted({node.id for node in ast.walk(ast.parse(source))
                   if isinstance(node, ast.Name) and node.id in real})


def check_source(source: str) -> str:
    """The text the grader runs for a test cell: its code as the body of a function that binds,
    as locals, every builtin the code names, from the real ``builtins`` module (which the guard
    restores just before).  So every name a check reads is one the grader bound: its own imports
    and values (locals, which student code the check calls cannot rebind without reading frames,
    which the guard refuses), the real builtins even if the student defined ``isinstance`` or
    ``abs``, and the exercise's answer names.  The student's own globals stay as they were."""
    if any(isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value
           for node in ast.walk(ast.parse(source))):  # indenting would change such a string
        raise ValueError("a test cell holds a string literal over several lines")
    binds = "".join(f"    {name} = _autograder_builtins.{name}\n"
                    for name in builtins_read(source))
    return (f"{kernel_guard.CHECK_MARK}\n"
            f"def {CHECK_FUNCTION}():\n"
            "    import builtins as _autograder_builtins\n"
            f"{binds}"
            f"{textwrap.indent(source, '    ')}\n"
            "try:\n"
            f"    {CHECK_FUNCTION}()\n"
            "finally:\n"
            f"    del {CHECK_FUNCTION}\n")


def names_tests_read(sources: Iterable[str]) -> list[str]:
    """Dotted names the test cells read through their imports (``numpy.random.default_rng``,
    ``sklearn.metrics.precision_score``): the guard snapshots every module on their way."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        bound = module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and id(node) not in inner:
                parts = []
                current: ast.AST = node
                while isinstance(current, ast.Attribute):
                    parts.append(current.attr)
                    current = current.value
                if isinstance(current, ast.Name) and current.id in bound:
                    names.add(".".join([bound[current.id], *reversed(parts)]))
    return sorted(names)


def course_digests(sources: Iterable[str]) -> list[str]:
    """What the kernel is told about the course's own cells: the digest of each as sent and as
    IPython's transformer hands it to the compiler (they differ only for magics)."""
    manager = TransformerManager()
    return sorted({kernel_guard.digest(text) for source in sources
                   for text in (source, manager.transform_cell(source))})


def snapshot_source(*, tests: Iterable[str], guards: Iterable[Guard],
                    course: Iterable[str] = ()) -> str:
    """The first cell of a graded run: install the guard, with its snapshot of what the tests
    read, and print the run's key.  It leaves nothing in the student's namespace."""
    config = {"modules": names_tests_read(tests), "guards": [g.nonce for g in guards],
              "course": course_digests(course)}
    return (
        f"{SNAPSHOT_MARK}\n"
        "def _autograder_install():\n"
        "    namespace = {'__name__': 'autograder_guard'}\n"
        f"    exec(compile({KERNEL_GUARD_TEXT!r}, {kernel_guard.FILENAME!r}, 'exec'), namespace)\n"
        f"    namespace['install']({config!r})\n"
        "_autograder_install()\n"
        "del _autograder_install\n"
    )


def _stdout_lines(outputs: list[dict]) -> Iterable[str]:
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            yield from ("".join(text) if isinstance(text, list) else text).splitlines()


def read_key(outputs: list[dict]) -> bytes | None:
    """The key the first cell printed, or None if it printed none."""
    for line in _stdout_lines(outputs):
        if line.startswith(kernel_guard.KEY_MARK):
            try:
                return bytes.fromhex(line[len(kernel_guard.KEY_MARK):].strip())
            except ValueError:
                return None
    return None


def read_guard(outputs: list[dict], guard: Guard, key: bytes | None) -> list[str]:
    """What a guard cell reported; a missing, unsigned or forged report is itself a finding."""
    if key is not None:
        for line in _stdout_lines(outputs):
            found = kernel_guard.read_report(line, key, guard.nonce)
            if found is not None:
                return found
    return [NO_REPORT]
