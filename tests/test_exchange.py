"""The exchange (autograder.exchange) without kernels: what crosses, as what, and what is refused.

Each test writes a value as the student's kernel would and reads it as the judge does, in this
process; the plain-value tests need no Keras and are in the fast tier."""

from __future__ import annotations

import base64
import io
import json
import math
import zipfile

import numpy as np
import pytest

from autograder import exchange, judge


class Side:
    """Both ends of one submission's exchange: the student's registries and the judge's."""

    def __init__(self) -> None:
        self.functions: dict = {}
        self.seen: dict = {}
        self.known: dict = {}

    def send(self, value):
        return exchange.write(value, functions=self.functions, seen=self.seen)

    def call(self, ref, data):
        args, kwargs = exchange.read(data)
        try:
            return self.send(self.functions[ref](*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - as the student's kernel does
            return exchange.write_raised(error)

    def cross(self, value):
        return exchange.read(self.send(value), call=self.call, known=self.known)


class LyingFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __float__(self):
        return 0.5


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingDict(dict):
    def __eq__(self, other):
        return True

    __hash__ = None


PLAIN = [None, True, False, 0, -7, 2**100, 1.5, -0.0, math.inf, "b", "", [1, "a"], (1, (2, 3)),
         {"tp": 3, 2: [0.5]}, {1, 2}, frozenset({"x"}), [[[]]]]


@pytest.mark.fast
@pytest.mark.parametrize("value", PLAIN, ids=[repr(v)[:20] for v in PLAIN])
def test_plain_values_arrive_as_equal_copies_of_the_same_type(value):
    got = Side().cross(value)
    assert got == value and type(got) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, got) == math.copysign(1, value)


@pytest.mark.fast
def test_nan_arrives_as_nan():
    assert math.isnan(Side().cross(float("nan")))


@pytest.mark.fast
def test_objects_that_lie_arrive_as_the_data_they_hold():
    side = Side()
    got = side.cross([LyingFloat(0.25), LyingInt(3), LyingDict(a=1), True])
    assert got == [0.25, 3, {"a": 1}, True]
    assert [type(v) for v in got] == [float, int, dict, bool]
    assert got[0] != 0.5 and got[1] != 4 and got[2] != {}


@pytest.mark.fast
def test_numpy_arrays_and_scalars_keep_dtype_shape_and_values():
    side = Side()
    array = np.arange(12, dtype="float32").reshape(3, 4)[:, ::2]  # not contiguous
    for value in (array, np.array([True, False]), np.zeros((0, 3), dtype="int8"),
                  np.array(["ab", "c"])):
        got = side.cross(value)
        assert isinstance(got, np.ndarray) and got.dtype == value.dtype
        assert got.shape == value.shape and np.array_equal(got, value)
    for scalar in (np.float32(0.5), np.int64(3), np.bool_(True)):
        got = side.cross(scalar)
        assert type(got) is type(scalar) and got == scalar


@pytest.mark.fast
@pytest.mark.parametrize("value, words", [
    (object(), exchange.OF_TYPE),
    (np.array([object()]), exchange.OF_DTYPE),
    (np.zeros(2, dtype=[("a", "i4")]), exchange.OF_DTYPE),
    (io.StringIO("x"), exchange.OF_TYPE),
])
def test_other_types_are_refused_with_a_reason(value, words):
    with pytest.raises(exchange.Refused) as refused:
        Side().send(value)
    assert str(refused.value) == words and words in exchange.REASONS


@pytest.mark.fast
def test_the_judge_sends_data_only():
    with pytest.raises(exchange.Refused):
        exchange.write(len)  # no registry of functions: a function cannot go to the student


@pytest.mark.fast
def test_a_function_arrives_as_a_stub_that_calls_it_with_copies():
    side = Side()
    received = []

    def counts(y_true, y_pred, *, scale=1):
        received.append((type(y_true), type(y_pred)))
        return {"tp": int(sum(t and p for t, p in zip(y_true, y_pred, strict=True))) * scale}

    stub = side.cross(counts)
    assert isinstance(stub, exchange.Stub) and stub.__name__ == "counts"
    assert stub([1, 1, 0], np.array([1, 0, 0]), scale=2) == {"tp": 2}
    assert received == [(list, np.ndarray)]


@pytest.mark.fast
def test_a_raised_error_arrives_as_its_builtin_class_with_a_fixed_message():
    side = Side()

    class Sneaky(ValueError):
        pass

    def updates(n, batch_size=32):
        if batch_size < 0:
            raise Sneaky("<script>text the student chose</script>")
        if batch_size == 0:
            raise ZeroDivisionError("also the student's")
        return n

    stub = side.cross(updates)
    with pytest.raises(ValueError) as raised:
        stub(100, -1)
    assert type(raised.value) is ValueError and "script" not in str(raised.value)
    assert str(raised.value) == "the function raised ValueError"
    with pytest.raises(ZeroDivisionError):
        stub(100, 0)


@pytest.mark.fast
def test_what_a_called_function_prints_past_the_cap_stays_in_its_kernel(monkeypatch, capsys):
    """A function the judge calls that floods the output passes on one character more than the
    cap (so the grader sees the cap passed and stops it) and drops the rest, in both streams
    together, instead of piling it up in the kernel; the streams are restored after the call."""
    import sys

    sent = []
    monkeypatch.setattr(exchange, "_send", sent.append)

    def floods():
        for _ in range(50):
            print("x" * 1000)
            print("y" * 1000, file=sys.stderr)
        return 7

    exchange.FUNCTIONS["flood"] = floods
    try:
        request = exchange.write(((), {}))
        streams = sys.stdout, sys.stderr
        exchange.serve_call("flood", base64.b64encode(request).decode("ascii"), 2500)
        assert (sys.stdout, sys.stderr) == streams
    finally:
        del exchange.FUNCTIONS["flood"]
    out, err = capsys.readouterr()
    assert len(out) + len(err) == 2501 and out.startswith("x" * 1000)
    assert exchange.read(sent[0]) == 7


@pytest.mark.fast
def test_a_visible_check_sees_its_answers_as_the_judge_will():
    """What the student notebook's ``%%check_as_graded`` checks run on: each named answer after
    the round trip, in this process (lying objects arrive as their data, functions as stubs
    whose results make the trip too); a name not bound stays unbound; a refused answer fails
    the check with its reason, before grading."""
    def metrics(tp, fp):
        return {"precision": LyingFloat(tp / (tp + fp))}

    namespace = {"q01": LyingFloat(0.25), "metrics": metrics, "other": 1}
    values = exchange.as_graded(namespace, ["q01", "metrics", "missing"])
    assert set(values) == {"q01", "metrics"} and type(values["q01"]) is float
    assert values["q01"] != 0.5 and isinstance(values["metrics"], exchange.Stub)
    result = values["metrics"](3, 1)
    assert result == {"precision": 0.75} and type(result["precision"]) is float
    with pytest.raises(AssertionError, match="cannot be graded"):
        exchange.as_graded({"q01": object()}, ["q01"])
    stub = exchange.as_graded({"f": lambda: object()}, ["f"])["f"]
    with pytest.raises(AssertionError, match="cannot be graded"):
        stub()
    with pytest.raises(NotImplementedError):
        exchange.as_graded({"f": _stub}, ["f"])["f"]()


def _stub():
    raise NotImplementedError()


@pytest.mark.fast
def test_the_same_object_arrives_as_the_same_object():
    side = Side()
    shared = [1, 2]

    def same():
        return same

    first = side.cross(same)
    assert side.cross(same) is first  # a function met again is the same stub
    assert first() is first
    assert side.cross([shared, shared]) == [[1, 2], [1, 2]]


@pytest.mark.fast
def test_fetched_names_cross_one_by_one():
    side = Side()
    namespace = {"q01": "b", "q02": object(), "f": len}
    nodes = exchange.Writer(functions=side.functions, seen=side.seen)
    data = nodes.write_node({"t": "names", "v": {
        "q01": nodes.node(namespace["q01"]),
        "q02": {"t": "refuse", "why": exchange.OF_TYPE},
        "q03": {"t": "refuse", "why": "<b>text the student chose</b>"}}})
    got = exchange.read_names(data, call=side.call)
    assert got["q01"] == "b" and "f" not in got
    assert str(got["q02"]) == exchange.OF_TYPE  # a reason of the closed set arrives as it is
    assert str(got["q03"]) == exchange.UNREADABLE  # any other text does not


def _crossing(value_node: dict, blobs: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        document = {"format": exchange.FORMAT, "value": value_node}
        archive.writestr(exchange.VALUE, json.dumps(document))
        for name, data in (blobs or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def _pickled_array() -> bytes:
    out = io.BytesIO()
    np.save(out, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return out.getvalue()


@pytest.mark.fast
@pytest.mark.parametrize("data", [
    b"", b"not a zip", _crossing({"t": "int", "v": 3}).replace(b'"format": 1', b'"format": 9'),
    _crossing({"t": "eval", "v": "__import__('os')"}),
    _crossing({"t": "int", "v": 3.5}),
    _crossing({"t": "array", "blob": "b0.npy"}, {"b0.npy": _pickled_array()}),
    _crossing({"t": "array", "blob": "../etc/passwd"}),
    _crossing({"t": "raised", "kind": "SystemExitNotABuiltin"}),
    _crossing({"t": "list", "v": [{"t": "list", "v": []}] * 3}).replace(b"[]", b"[" * 50),
], ids=["empty", "not-zip", "format", "unknown-tag", "wrong-shape", "pickle", "path", "raised",
        "broken-json"])
def test_bytes_that_are_not_a_crossing_are_refused(data):
    with pytest.raises(exchange.Refused):
        exchange.read(data)


@pytest.mark.fast
def test_nesting_past_the_limit_is_refused_both_ways():
    deep: list = []
    for _ in range(exchange.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(exchange.Refused, match="deep"):
        Side().send(deep)
    node: dict = {"t": "list", "v": []}
    for _ in range(exchange.MAX_DEPTH + 2):
        node = {"t": "list", "v": [node]}
    with pytest.raises(exchange.Refused):
        exchange.read(_crossing(node))


@pytest.mark.fast
def test_a_test_reads_its_answers_and_binds_self_check_itself():
    source = ("import numpy as _np\n_c = confusion_counts([1], [0])\nself_check('q01', q01, 'x')\n"
              "def _helper(v):\n    return _np.asarray(v) + len(v) + train(v)\n")
    assert judge.answer_names(source) == ["confusion_counts", "q01", "train"]


# --- Keras objects (imports Keras: not in the fast tier) ----------------------------------------


@pytest.fixture(scope="module")
def keras():
    import keras
    return keras


def _model(keras, *layers):
    model = keras.Sequential([keras.Input((4,)), *layers])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_keras_model_arrives_rebuilt_with_its_weights_and_compile_settings(keras):
    model = _model(keras, keras.layers.Dense(3, activation="relu"),
                   keras.layers.Dense(2, activation="softmax"))
    side = Side()
    got = side.cross(model)
    assert got is not model and type(got) is keras.Sequential
    assert got.count_params() == model.count_params() == 4 * 3 + 3 + 3 * 2 + 2
    assert got.compiled and isinstance(got.optimizer, keras.optimizers.Adam)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    assert np.allclose(got.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert side.cross(model) is got  # the same model twice is the same model


def test_a_model_with_tensorflow_activations_keras_cannot_reload_arrives_with_keras_ones(keras):
    import tensorflow as tf
    model = _model(keras, keras.layers.Dense(3, activation=tf.nn.swish),
                   keras.layers.Dense(3, activation=tf.nn.log_softmax),
                   keras.layers.Dense(2, activation=tf.nn.softmax))
    with pytest.raises(TypeError):  # Keras alone cannot: it saved them as swish, ..._v2
        keras.saving.load_model(_saved(model))
    got = Side().cross(model)
    assert [layer.activation for layer in got.layers] == [
        keras.activations.silu, keras.activations.log_softmax, keras.activations.softmax]
    x = np.random.default_rng(1).normal(size=(4, 4)).astype("float32")
    assert np.allclose(got.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_a_functional_model_arrives_rebuilt(keras):
    inputs = keras.Input((8,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(4)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[keras.metrics.Recall()])
    got = Side().cross(model)
    x = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    assert isinstance(got, keras.Model) and len(got.layers) == 3
    assert np.allclose(got.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_a_model_compiled_with_a_metric_class_arrives_with_an_instance(keras):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=(keras.metrics.SparseCategoricalAccuracy,))
    with pytest.raises(TypeError):  # Keras alone cannot save it
        _saved(model)
    before = model._compile_config
    got = Side().cross(model)
    assert model._compile_config is before  # the student's model is left as it was
    x = np.zeros((4, 4), dtype="float32")
    scores = got.evaluate(x, np.array([0, 1, 0, 1]), verbose=0, return_dict=True)
    assert set(scores) == {"loss", "sparse_categorical_accuracy"}


def _saved(model) -> str:
    import tempfile
    path = tempfile.mkdtemp() + "/model.keras"
    model.save(path)
    return path


def test_keras_losses_and_activations_arrive_as_keras_objects(keras):
    import tensorflow as tf
    side = Side()
    loss = side.cross(keras.losses.BinaryCrossentropy(from_logits=True))
    assert isinstance(loss, keras.losses.BinaryCrossentropy) and loss.get_config()["from_logits"]
    assert side.cross(keras.activations.sigmoid) is keras.activations.sigmoid
    relu = side.cross(tf.nn.relu)  # not Keras's: a stub that runs it where the student is
    z = np.array([-1.0, 2.0], dtype="float32")
    assert np.array_equal(relu(z), np.array([0.0, 2.0], dtype="float32"))
    tensor = side.cross(tf.constant([1.0, 2.0]))
    assert np.array_equal(tensor, np.array([1.0, 2.0], dtype="float32"))


def test_a_model_of_a_class_the_student_wrote_is_refused(keras):
    class Liar(keras.Sequential):
        def count_params(self):
            return 101770

    liar = Liar([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(exchange.Refused, match="not Keras's own"):
        Side().cross(liar)


def test_a_visible_check_refuses_a_lambda_layer_before_grading(keras):
    def build():
        return keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2.0)])

    stub = exchange.as_graded({"build": build}, ["build"])["build"]
    with pytest.raises(AssertionError, match="Lambda"):
        stub()


def test_a_model_file_that_runs_code_is_refused(keras):
    lam = _model(keras, keras.layers.Lambda(lambda z: z * 2))
    with pytest.raises(exchange.Refused, match="Lambda"):
        Side().cross(lam)
    # The same file with the check fooled (the config renamed) is still refused by safe_mode.
    data = Side().send(lam)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    model_name = next(n for n in parts if n.endswith(".keras"))
    with zipfile.ZipFile(io.BytesIO(parts[model_name])) as model_file:
        inner = {info.filename: model_file.read(info) for info in model_file.infolist()}
    inner["config.json"] = inner["config.json"].replace(b'"Lambda"', b'"Dense"', 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as model_file:
        for name, blob in inner.items():
            model_file.writestr(name, blob)
    parts[model_name] = out.getvalue()
    with pytest.raises(exchange.Refused):
        exchange.read(_crossing(json.loads(parts[exchange.VALUE])["value"],
                                {n: b for n, b in parts.items() if n != exchange.VALUE}))


@pytest.mark.parametrize("config", [
    {"module": "os", "class_name": "system", "config": {}, "registered_name": None},
    {"module": "keras.layers", "class_name": "Dense", "config": {}, "registered_name": "Custom>X"},
    {"module": "builtins", "class_name": "function", "config": {"x": 1},
     "registered_name": "function"},
    {"module": "keras.layers", "class_name": "Dense",
     "config": {"activation": {"module": "__main__", "class_name": "Evil", "config": {},
                               "registered_name": "Evil"}}, "registered_name": None},
    {"module": None, "class_name": "__lambda__", "config": {"code": "x"}, "registered_name": None},
    {"module": None, "class_name": "__tuple__", "registered_name": None,
     "config": {"value": [{"module": "os", "class_name": "system", "config": {},
                           "registered_name": None}]}},
])
def test_keras_configurations_naming_other_code_are_refused(config):
    with pytest.raises(exchange.Refused):
        exchange.check_keras_config(config)


@pytest.mark.fast
def test_nothing_of_the_tests_reaches_the_students_kernel():
    """The assembled run gives the student's kernel the exchange and the student's own cells:
    no line of any test, visible or hidden, is in what it runs."""
    from corpus import KEY, lean_complete

    from autograder.grade import assemble
    plan = assemble(lean_complete(), KEY, whole=True)
    student = "\n".join(c.source for c, r in zip(plan.nb.cells, plan.roles, strict=True)
                        if r != "test")
    tests = [c.source for c, r in zip(plan.nb.cells, plan.roles, strict=True) if r == "test"]
    assert len(tests) == len(KEY.tests)
    for test in KEY.tests.values():
        lines = [line.strip() for line in test.source.splitlines() if len(line.strip()) > 20]
        assert lines and not [line for line in lines if line in student], test.grade_id


@pytest.mark.fast
def test_the_judge_asks_three_questions_and_the_grader_understands_no_other():
    """A fetch, a call and a seed (a check's keras.utils.set_random_seed, which the grader
    repeats in the student's kernel with a plain int); anything else gets no answer."""
    assert judge.question('{"op": "seed", "value": 3}') == {"op": "seed", "value": 3}
    assert judge.question('{"op": "fetch", "names": ["q01"]}')["names"] == ["q01"]
    assert judge.question('{"op": "run", "code": "import os"}') == {}
    assert judge.question("not json") == {} and judge.question("[1]") == {}
    assert judge.seed_source(7) == "__import__('_autograder_exchange').seed(7)"
    with pytest.raises(ValueError):
        judge.seed_source("7); import os; (1")
