"""The run-time guard's pure parts, without a kernel: signed reports, what the first cell is told,
and what the guard snapshots.  Its behaviour in a kernel is the corpus's (tests/corpus.py)."""

from __future__ import annotations

import ast
import json

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from autograder import guard, kernel_guard
from autograder.answer_key import AnswerKey
from autograder.course import find_chapters

pytestmark = pytest.mark.fast  # kernel-free: `make test-fast` runs it

KEY = bytes(range(32))


def report_outputs(line: str) -> list[dict]:
    return [{"output_type": "stream", "name": "stdout", "text": "other text\n" + line + "\n"}]


def test_a_signed_report_reads_back():
    g = guard.Guard("abc123")
    line = kernel_guard.signed_report(KEY, "abc123", ["b found", "a found", "a found"])
    assert guard.read_guard(report_outputs(line), g, KEY) == ["a found", "b found"]


@pytest.mark.parametrize("forge", ["wrong key", "wrong nonce", "edited", "unsigned", "none"])
def test_a_forged_or_missing_report_is_a_finding(forge):
    g = guard.Guard("abc123")
    line = {
        "wrong key": kernel_guard.signed_report(bytes(32), "abc123", []),
        "wrong nonce": kernel_guard.signed_report(KEY, "other", []),
        "edited": kernel_guard.signed_report(KEY, "abc123", ["x"]).replace('[\\"x\\"]', "[]"),
        "unsigned": kernel_guard.REPORT_MARK + json.dumps(
            {"payload": json.dumps({"nonce": "abc123", "found": []}), "mac": "0" * 64}),
        "none": "",
    }[forge]
    assert guard.read_guard(report_outputs(line), g, KEY) == [guard.NO_REPORT]


def test_without_the_key_no_report_counts():
    g = guard.Guard("abc123")
    line = kernel_guard.signed_report(KEY, "abc123", [])
    assert guard.read_guard(report_outputs(line), g, None) == [guard.NO_REPORT]
    assert guard.read_key(report_outputs(kernel_guard.KEY_MARK + KEY.hex())) == KEY
    assert guard.read_key(report_outputs("AUTOGRADER-KEY not-hex")) is None


def test_ipython_compiles_a_guard_cell_as_sent():
    """The hook runs the guard only on the exact text: IPython's own transform must keep it."""
    source = guard.new_guard().source
    assert TransformerManager().transform_cell(source).rstrip("\n") == source.rstrip("\n")


def test_the_first_cell_is_python_and_leaves_one_name_it_deletes():
    source = guard.snapshot_source(tests=["import numpy as _np\n"], guards=[guard.new_guard()],
                                   course=["x = 1\n"])
    tree = ast.parse(source)
    assigned = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    deleted = {t.id for n in tree.body if isinstance(n, ast.Delete) for t in n.targets}
    assert assigned == deleted == {"_autograder_install"}


def test_names_tests_read_follow_imports_and_attributes():
    names = guard.names_tests_read([
        "import numpy as _np\nfrom sklearn.metrics import f1_score as _f1\n"
        "import keras as _keras\n_np.random.default_rng(0)\n_keras.activations.relu\n"
        "_f1([1], [1])\nlocal.attribute\n"])
    assert names == ["keras", "keras.activations.relu", "numpy", "numpy.random.default_rng",
                     "sklearn.metrics.f1_score"]


@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda c: c.name)
def test_every_import_of_every_test_is_snapshotted(chapter):
    tests = [t.source for t in AnswerKey.load(chapter).tests.values()]
    names = set(guard.names_tests_read(tests))
    for source in tests:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                assert {f"{node.module}.{a.name}" for a in node.names} <= names
            elif isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= names


def test_course_cells_are_named_by_digest_as_sent_and_as_compiled():
    magic = "%matplotlib inline\nx = 1\n"
    digests = guard.course_digests([magic])
    assert kernel_guard.digest(magic) in digests
    assert kernel_guard.digest(TransformerManager().transform_cell(magic)) in digests
    assert kernel_guard.digest("x = 1\n") == kernel_guard.digest("x = 1")


def test_trusted_files_are_the_installed_libraries_and_nothing_a_cell_can_name():
    roots = kernel_guard.trusted_roots()
    assert kernel_guard.is_trusted_file(json.__file__, roots)
    assert kernel_guard.is_trusted_file(kernel_guard.FILENAME, roots)
    for name in ("<string>", "/tmp/ipykernel_12/3456.py", "<ipython-input-1>", "relative.py"):
        assert not kernel_guard.is_trusted_file(name, roots)


def test_a_check_runs_as_a_function_with_the_real_builtins_and_its_own_names():
    namespace = {"abs": lambda x: 0, "answer": -2}
    exec(guard.check_source("_ref = abs\nassert _ref(answer) == 2\n"), namespace)  # noqa: S102
    assert set(namespace) == {"abs", "answer", "__builtins__"}  # nothing of the check is left
    with pytest.raises(AssertionError):
        exec(guard.check_source("assert abs(answer) == 3\n"), namespace)  # noqa: S102
    assert guard.CHECK_FUNCTION not in namespace


def test_a_student_function_a_check_calls_cannot_rebind_the_checks_names():
    namespace = {}
    exec("def answer():\n    globals()['_ref'] = lambda: 'fake'\n    return 'real'\n",  # noqa: S102
         namespace)
    exec(guard.check_source("_ref = lambda: 'real'\nassert answer() == _ref()\n"),  # noqa: S102
         namespace)


@pytest.mark.parametrize("chapter", find_chapters(), ids=lambda c: c.name)
def test_every_test_cell_can_run_as_a_function(chapter):
    for test in AnswerKey.load(chapter).tests.values():
        compile(guard.check_source(test.source), test.grade_id, "exec")


def test_a_test_with_a_string_over_several_lines_is_refused():
    with pytest.raises(ValueError, match="several lines"):
        guard.check_source('text = """one\ntwo"""\n')


def test_assembly_installs_the_guard_first_and_guards_every_check():
    from autograder import grade, notebook

    chapter = find_chapters()[0]
    key = AnswerKey.load(chapter)
    student = notebook.read(chapter.student_notebook)
    dropped = "ex1-confusion-counts-check"
    student.cells = [c for c in student.cells if notebook.grade_id(c) != dropped]
    plan = grade.assemble(student, key)
    cells, roles = plan.nb.cells, plan.roles
    assert cells[grade.SNAPSHOT].source.startswith(guard.SNAPSHOT_MARK)
    tests = [i for i, r in enumerate(roles) if r == "test"]
    assert len(tests) == len(key.tests)  # the dropped one was put back
    for i in tests:
        assert i - 1 in plan.guards and i + 1 in plan.guards
        assert cells[i].source.startswith(kernel_guard.CHECK_MARK)
    for i, g in plan.guards.items():
        assert cells[i].source == g.source and repr(g.nonce) in cells[grade.SNAPSHOT].source
    assert any(dropped in note for note in plan.notes)
