"""Which lesson cells a graded run can leave out: those nothing graded needs.

A chapter's lessons (illustrative training runs, figures) cost far more than its answers and
tests, and the tests read only what they bind themselves and the answers' names.  So a graded
run keeps

* every cell the student wrote or changed, and every test cell;
* the first code cell (the chapter's set-up) and every cell that only imports or sets global
  state the course relies on (seeds, warnings filters, logging levels, environment variables);
* every lesson cell that binds, or may change, a name a kept cell reads, until nothing more is
  needed (free names inside functions count as reads; passing an object to a call or calling
  one of its methods counts as a change, so a cell that trains a model a kept cell uses stays);

and leaves out the rest, but only lesson cells the student left exactly as released.  The
grader's safety net (:func:`autograder.grade.run_task`) runs the whole notebook whenever a cut
run shows a sign that it left out too much.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Sequence

from autograder.cells import bound_names, changed_names, global_reads, imported_names, plain

# Calls that set state the rest of a notebook relies on; a cell of nothing else always runs.
STATE_CALLS = frozenset({
    "set_random_seed", "seed", "set_seed", "filterwarnings", "simplefilter", "setLevel",
    "set_printoptions", "use", "rc", "set_visible_devices", "enable_op_determinism",
    "set_floatx", "set_image_data_format", "disable_interactive_logging", "setdefault",
})


def _is_state(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import | ast.ImportFrom | ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True  # a docstring or a bare constant
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in STATE_CALLS
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        # os.environ["X"] = ... and plt.rcParams["x"] = ...
        return isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) \
            and target.value.attr in ("environ", "rcParams")
    return False


def always_runs(source: str) -> bool:
    """Whether a cell only imports or sets global state (it runs in every graded run)."""
    try:
        tree = ast.parse(plain(source))
    except SyntaxError:
        return True
    return all(_is_state(statement) for statement in tree.body)


def lessons_to_leave_out(cells: Sequence[tuple[str, bool]]) -> set[int]:
    """The indices of the cells to leave out, given every code cell of the run in order as
    ``(source, is_unchanged_lesson)``.  Only unchanged lesson cells are ever left out."""
    try:
        binds = [bound_names(source) for source, _ in cells]
        reads = [global_reads(source) for source, _ in cells]
        changes = [changed_names(source) for source, _ in cells]
        # Calling a method of a module, or passing a builtin, changes neither.
        unchanging = set(dir(builtins)).union(*(imported_names(source) for source, _ in cells))
    except SyntaxError:  # a cell that does not parse: keep everything, let it fail as it will
        return set()
    first_code = 0
    keep = {i for i, (source, lesson) in enumerate(cells)
            if not lesson or i == first_code or always_runs(source)}
    needed = set().union(*(reads[i] for i in keep))
    grew = True
    while grew:
        grew = False
        for i in range(len(cells)):
            if i in keep:
                continue
            provides = binds[i] | (changes[i] - unchanging)
            if provides & needed:
                keep.add(i)
                needed |= reads[i]
                grew = True
    return set(range(len(cells))) - keep
