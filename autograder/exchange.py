"""Answers as data: how a value crosses from the student's kernel to the judge, and back.

The judge (:mod:`autograder.judge`) runs every test cell in a process of its own; the student's
kernel never sees a test.  What a test reads from the student crosses this boundary as bytes in
one small format, and the judge rebuilds it from those bytes alone, so whatever the student's
code is, the judge compares real data, never an object the student wrote:

* ``None``, ``bool``, ``int``, ``float``, ``str``, and ``list``, ``tuple``, ``dict``, ``set``,
  ``frozenset`` of them, arrive as copies of the built-in type (a subclass arrives as its base
  type: a ``float`` that lies in ``__float__`` or ``__eq__`` arrives as the number it holds).
* NumPy arrays and scalars arrive as ``.npy`` data read with ``allow_pickle=False``
  (``tf.Tensor`` values and ``keras.Variable`` values arrive as arrays).
* A Keras model arrives in Keras's own ``.keras`` format and is rebuilt with ``safe_mode=True``
  from built-in Keras classes only; another Keras object (a loss, a metric, a layer, an
  activation) arrives as its Keras configuration, rebuilt the same way.
* A function arrives as a *stub*: calling it sends the arguments (in this format) to the
  student's kernel, which calls the real function there and sends the result back.
* An exception a function raised arrives as the most specific built-in exception class it
  derives from, with a fixed message: its text is the student's and never reaches a page.
* Anything else is refused with a one-line reason the student can act on, one of the fixed
  texts of :data:`REASONS` (a page may show them: none holds text from the student's code).

An object met twice (the same model returned by two calls) arrives as the same object twice,
so a test can still ask ``build() is not build()``.

This file runs in four places: the grader imports it; its text is the first cell of the
student's kernel and of the judge's in a graded run (neither can import the course's package);
and release puts it in every student notebook, where :func:`as_graded` lets each visible check
run on its answers as the judge will receive them (``%%check_as_graded``), so a student meets a
refusal before handing in.  So it needs
only the standard library and NumPy; Keras is imported when a Keras object crosses.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import os
import sys
import tempfile
import warnings
import zipfile

import numpy as np

FORMAT = 1
VALUE = "value.json"
MAX_BYTES = 200 * 1024 * 1024  # bytes one crossing may hold, all its parts together
MAX_DEPTH = 40  # containers inside containers
MAX_ITEMS = 1_000_000  # values in one crossing
# The exception classes a raised error may arrive as: the built-in ones, by name.
EXCEPTIONS = {name: obj for name, obj in vars(builtins).items()
              if isinstance(obj, type) and issubclass(obj, BaseException)}
# What a rebuilt Keras configuration may name: Keras's own modules and functions, nothing else.
KERAS_MODULES = ("keras", "keras.")
# TensorFlow functions that Keras saves under a name it cannot load again, and the Keras
# function that computes the same (a correct answer must not fail because of where it came from).
ALIASES = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax", "swish": "silu",
           "exp": "exponential"}
CONTAINERS = ((tuple, "tuple"), (list, "list"), (frozenset, "frozenset"), (set, "set"))
REFUSED_CLASSES = {"Lambda", "TFSMLayer"}
# Keras's own markers for values inside a configuration (a graph's tensors, tuples, arrays): data,
# rebuilt without naming any module.  ``__lambda__`` and ``__typespec__`` are not among them.
KERAS_VALUES = {"__keras_tensor__", "__tuple__", "__numpy__", "__tensor__", "__bytes__",
                "__ellipsis__", "__slice__"}  # run code from the file or load another format


# Why an answer cannot cross: the only texts a refusal carries (a closed set, so that a page
# can show them: nothing in them comes from the student's code).
LARGE = f"the answer is larger than {MAX_BYTES // (1024 * 1024)} MB: return less data"
DEEP = f"the answer nests containers more than {MAX_DEPTH} deep or holds too many values"
OF_TYPE = ("an answer of this type cannot be graded: use numbers, strings, lists, tuples, "
           "dicts, NumPy arrays or Keras objects")
OF_DTYPE = "a NumPy array of this dtype cannot be graded: use numbers"
UNSAVED = "the Keras object cannot be saved, so it cannot be graded: use Keras's own classes"
NOT_KERAS = ("the Keras object uses a class that is not Keras's own (one written in the "
             "notebook, say): use Keras's own layers, losses and metrics")
LAMBDA = "a Keras Lambda layer cannot be graded: use Keras's built-in layers"
UNREBUILT = "the Keras object could not be rebuilt from Keras's own classes"
UNREADABLE = "the answer could not be read from the notebook"
NO_FUNCTION = "a function cannot be passed here"
REASONS = frozenset({LARGE, DEEP, OF_TYPE, OF_DTYPE, UNSAVED, NOT_KERAS, LAMBDA, UNREBUILT,
                     UNREADABLE, NO_FUNCTION})


class Refused(Exception):
    """A value that cannot cross; the message is one line the student can act on."""


class Raised(Exception):
    """The student's function raised; ``kind`` is the built-in exception class it derives from."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


# --- writing ------------------------------------------------------------------------------


class Writer:
    """Encodes values into one crossing.  ``functions`` (on the student's side) is where a
    function is kept so that a later call can reach it; ``None`` refuses functions (the judge
    sends data only)."""

    def __init__(self, *, functions: dict[str, object] | None = None,
                 seen: dict[int, tuple[str, object]] | None = None) -> None:
        self.functions = functions
        self.seen = seen if seen is not None else {}  # id -> (token, object), across crossings
        self.blobs: dict[str, bytes] = {}
        self.items = 0
        self.size = 0

    def _blob(self, suffix: str, data: bytes) -> str:
        self.size += len(data)
        if self.size > MAX_BYTES:
            raise Refused(LARGE)
        name = f"b{len(self.blobs)}{suffix}"
        self.blobs[name] = data
        return name

    def _token(self, value: object) -> tuple[str, bool]:
        """A token for an object whose identity matters, and whether it crossed before."""
        known = self.seen.get(id(value))
        if known is not None and known[1] is value:
            return known[0], True
        token = f"o{len(self.seen)}"
        self.seen[id(value)] = (token, value)  # holding it keeps its id from being reused
        return token, False

    def node(self, value: object, depth: int = 0) -> dict:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise Refused(DEEP)
        if depth > MAX_DEPTH:
            raise Refused(DEEP)
        if value is None:
            return {"t": "none"}
        if isinstance(value, bool):
            return {"t": "bool", "v": bool.__bool__(value)}
        if isinstance(value, int):
            return {"t": "int", "v": int.__repr__(value)}
        if isinstance(value, float):
            return {"t": "float", "v": float.hex(value)}
        if isinstance(value, str):
            return {"t": "str", "v": str.__str__(value)}
        for kind, name in CONTAINERS:
            if isinstance(value, kind):
                items = kind.__iter__(value)
                return {"t": name, "v": [self.node(item, depth + 1) for item in items]}
        if isinstance(value, dict):
            return {"t": "dict", "v": [[self.node(k, depth + 1), self.node(v, depth + 1)]
                                       for k, v in dict.items(value)]}
        if isinstance(value, np.ndarray | np.generic):
            return self._array(value)
        array = self._tensor(value)
        if array is not None:
            return self._array(array)
        keras_node = self._keras(value)
        if keras_node is not None:
            return keras_node
        if callable(value) and self.functions is not None:
            token, again = self._token(value)
            if again:
                return {"t": "same", "ref": token}
            self.functions[token] = value
            name = str(getattr(value, "__name__", "function"))[:80]
            return {"t": "function", "ref": token, "name": name}
        raise Refused(OF_TYPE)

    def _array(self, value: np.ndarray | np.generic) -> dict:
        array = np.asarray(value)
        if array.dtype.hasobject or array.dtype.kind not in "biufcSUM" or array.dtype.fields:
            raise Refused(OF_DTYPE)
        out = io.BytesIO()
        np.save(out, array, allow_pickle=False)
        return {"t": "scalar" if isinstance(value, np.generic) else "array",
                "blob": self._blob(".npy", out.getvalue())}

    @staticmethod
    def _tensor(value: object) -> np.ndarray | None:
        """A TensorFlow tensor or variable, or a Keras variable, as an array; else ``None``."""
        module = (getattr(type(value), "__module__", "") or "").split(".")[0]
        try:
            tensor_like = all(hasattr(value, a) for a in ("numpy", "dtype", "shape"))
            if module == "tensorflow" and tensor_like:
                return np.asarray(value.numpy())
            keras = sys.modules.get("keras")
            if module == "keras" and keras is not None and isinstance(value, keras.Variable):
                return np.asarray(keras.ops.convert_to_numpy(value))
        except Exception:  # not a tensor after all
            return None
        return None

    def _keras(self, value: object) -> dict | None:
        """A Keras model (its ``.keras`` file) or another Keras object (its configuration);
        ``None`` for anything that is neither."""
        keras = sys.modules.get("keras")
        if keras is None:
            return None
        kinds = (keras.Model, keras.layers.Layer, keras.losses.Loss, keras.metrics.Metric,
                 keras.optimizers.Optimizer)
        if not isinstance(value, kinds) and not _is_keras_function(value):
            return None
        token, again = self._token(value)
        if again:
            return {"t": "same", "ref": token}
        if isinstance(value, keras.Model):
            return {"t": "model", "ref": token, "blob": self._blob(".keras", _saved(value))}
        try:
            text = json.dumps(keras.saving.serialize_keras_object(value))
        except Exception:
            raise Refused(UNSAVED) from None
        return {"t": "keras", "ref": token, "config": text}

    def write(self, value: object) -> bytes:
        """The crossing that holds ``value``."""
        return self.write_node(self.node(value))

    def write_node(self, node: dict) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(VALUE, json.dumps({"format": FORMAT, "value": node}))
            for name, data in self.blobs.items():
                archive.writestr(name, data)
        return out.getvalue()


def _saved(model) -> bytes:
    """The model's ``.keras`` file, made in memory (the student's code may have filled every
    folder it can write).  Keras accepts a metric or loss *class* in ``compile`` but cannot save
    one: such a model is saved with an instance of the class in its place."""
    from keras.src.saving import saving_lib

    def save() -> bytes:
        out = io.BytesIO()
        saving_lib.save_model(model, out)
        return out.getvalue()

    try:
        return save()
    except Exception:
        compiled = getattr(model, "_compile_config", None)
        if compiled is None or not hasattr(compiled, "config"):
            raise Refused(UNSAVED) from None
        try:
            model._compile_config = type(compiled)(**{
                key: _instances(item) for key, item in compiled.config.items()})
            return save()
        except Exception:
            raise Refused(UNSAVED) from None
        finally:
            model._compile_config = compiled


def _instances(item: object) -> object:
    """``item`` with each Keras class in it (a metric's or a loss's) made an instance."""
    if isinstance(item, list | tuple):
        return type(item)(_instances(part) for part in item)
    if isinstance(item, dict):
        return {key: _instances(part) for key, part in item.items()}
    if isinstance(item, type) and (getattr(item, "__module__", "") or "").startswith("keras"):
        return item()
    return item


def _is_keras_function(value: object) -> bool:
    """A function of Keras's own (an activation or a loss function)."""
    module = getattr(value, "__module__", "") or ""
    return callable(value) and not isinstance(value, type) and module.split(".")[0] == "keras"


def write(value: object, **kwargs) -> bytes:
    """``value`` as the bytes of one crossing (see :class:`Writer`)."""
    return Writer(**kwargs).write(value)


def write_raised(error: BaseException) -> bytes:
    """A crossing that says a call raised ``error``: only the built-in class it derives from."""
    kind = next((cls.__name__ for cls in type(error).__mro__
                 if EXCEPTIONS.get(cls.__name__) is cls), "Exception")
    return Writer().write_node({"t": "raised", "kind": kind})


# --- reading (the judge's side: every byte here is the student's) ----------------------------


def check_keras_config(config: object) -> None:
    """Refuse a Keras configuration that names anything but Keras's own classes and functions."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "class_name" in item:
                module = item.get("module")
                name = item.get("class_name")
                registered = item.get("registered_name")
                if name in REFUSED_CLASSES:
                    raise Refused(LAMBDA)
                if name in KERAS_VALUES and module is None and registered is None:
                    stack.extend(item.values())
                    continue
                if module == "builtins" and name == "function":
                    if registered not in (None, "function") or \
                            not isinstance(item.get("config"), str):
                        raise Refused(NOT_KERAS)
                elif not (isinstance(module, str) and module.startswith(KERAS_MODULES)) \
                        or registered not in (None, name):
                    raise Refused(NOT_KERAS)
            stack.extend(item.values())


def alias_functions(config: object) -> object:
    """``config`` with every function Keras saved under a TensorFlow name (:data:`ALIASES`)
    renamed to the Keras function that computes the same."""
    if isinstance(config, list):
        return [alias_functions(item) for item in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "function" and config.get("config") in ALIASES:
        return {**config, "config": ALIASES[config["config"]]}
    return {key: alias_functions(value) for key, value in config.items()}


class Reader:
    """Decodes crossings.  ``call(ref, data) -> bytes`` sends a stub's call to the student's
    kernel (``None``: functions are refused); ``folder`` is where a model file is put while
    Keras reads it; ``quiet`` keeps Keras's warnings while it rebuilds a model off stderr."""

    def __init__(self, *, call=None, folder: str | None = None,
                 known: dict[str, object] | None = None, quiet: bool = False) -> None:
        self.call = call
        self.folder = folder
        self.quiet = quiet
        self.known = known if known is not None else {}  # token -> object, across crossings

    def read(self, data: bytes, *, top: str = "") -> object:
        """The value of one crossing; with ``top="names"``, the nodes of a fetch, by name."""
        if len(data) > MAX_BYTES:
            raise Refused(LARGE)
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = {info.filename: info for info in archive.infolist()}
            if sum(info.file_size for info in infos.values()) > MAX_BYTES or VALUE not in infos:
                raise Refused(UNREADABLE)
            document = json.loads(archive.read(VALUE))
        except (zipfile.BadZipFile, ValueError, KeyError, OSError):
            raise Refused(UNREADABLE) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise Refused(UNREADABLE)
        self._archive, self._infos, self._count = archive, infos, 0
        value = document.get("value")
        if top:
            if not isinstance(value, dict) or value.get("t") != top or \
                    not isinstance(value.get("v"), dict):
                raise Refused(UNREADABLE)
            return value["v"]
        return self.node(value, 0)

    def _blob(self, name: object) -> bytes:
        if not isinstance(name, str) or name not in self._infos or name == VALUE:
            raise Refused(UNREADABLE)
        return self._archive.read(name)

    def node(self, node: object, depth: int) -> object:
        self._count += 1
        if self._count > MAX_ITEMS or depth > MAX_DEPTH or not isinstance(node, dict):
            raise Refused(UNREADABLE)
        kind, value = node.get("t"), node.get("v")
        try:
            return self._node(kind, value, node, depth)
        except (Refused, Raised):
            raise
        except Exception:  # a value of the wrong shape for its tag
            raise Refused(UNREADABLE) from None

    def _node(self, kind, value, node: dict, depth: int) -> object:
        if kind == "none":
            return None
        if kind == "bool" and type(value) is bool:
            return value
        if kind == "int" and type(value) is str and len(value) <= 4300:
            return int(value)
        if kind == "float" and type(value) is str:
            return float.fromhex(value)
        if kind == "str" and type(value) is str:
            return value
        if kind in ("list", "tuple", "set", "frozenset") and type(value) is list:
            items = [self.node(item, depth + 1) for item in value]
            return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
        if kind == "dict" and type(value) is list:
            return {self.node(k, depth + 1): self.node(v, depth + 1) for k, v in value}
        if kind in ("array", "scalar"):
            array = np.load(io.BytesIO(self._blob(node.get("blob"))), allow_pickle=False)
            return array[()] if kind == "scalar" else array
        if kind == "same" and node.get("ref") in self.known:
            return self.known[node["ref"]]
        if kind == "model":
            return self._remember(node, self._model(self._blob(node.get("blob"))))
        if kind == "keras" and type(node.get("config")) is str:
            return self._remember(node, self._keras_object(json.loads(node["config"])))
        if kind == "function" and type(node.get("ref")) is str:
            if self.call is None:
                raise Refused(NO_FUNCTION)
            return self._remember(node, Stub(node["ref"], str(node.get("name", ""))[:80], self))
        if kind == "raised" and node.get("kind") in EXCEPTIONS:
            raise Raised(node["kind"])
        if kind == "refuse" and type(node.get("why")) is str:
            raise Refused(node["why"] if node["why"] in REASONS else UNREADABLE)
        raise Refused(UNREADABLE)

    def _remember(self, node: dict, value: object) -> object:
        ref = node.get("ref")
        if type(ref) is str:
            self.known[ref] = value
        return value

    def _model(self, data: bytes) -> object:
        import keras
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as model_file:
                if sum(info.file_size for info in model_file.infolist()) > MAX_BYTES:
                    raise Refused(LARGE)
                parts = {info.filename: model_file.read(info) for info in model_file.infolist()}
            config = json.loads(parts["config.json"])
            check_keras_config(config)
        except (zipfile.BadZipFile, KeyError, ValueError):
            raise Refused(UNREADABLE) from None
        parts["config.json"] = json.dumps(alias_functions(config)).encode()
        with tempfile.TemporaryDirectory(dir=self.folder) as tmp:
            path = os.path.join(tmp, "model.keras")
            with zipfile.ZipFile(path, "w") as model_file:
                for name, part in parts.items():
                    model_file.writestr(name, part)
            try:
                with warnings.catch_warnings():
                    if self.quiet:
                        warnings.simplefilter("ignore")
                    return keras.saving.load_model(path, safe_mode=True)
            except Exception:
                raise Refused(UNREBUILT) from None

    @staticmethod
    def _keras_object(config: object) -> object:
        import keras
        check_keras_config(config)
        try:
            return keras.saving.deserialize_keras_object(alias_functions(config), safe_mode=True)
        except Exception:
            raise Refused(UNREBUILT) from None


class Stub:
    """The judge's stand-in for a student's function: a call crosses to the student's kernel."""

    def __init__(self, ref: str, name: str, reader: Reader) -> None:
        self._ref, self.__name__, self._reader = ref, name or "function", reader

    def __call__(self, *args, **kwargs):
        request = Writer().write((list(args), dict(kwargs)))
        try:
            return self._reader.read(self._reader.call(self._ref, request))
        except Raised as raised:
            kind = EXCEPTIONS[raised.kind]
            raise kind(f"the function raised {raised.kind}") from None
        except Refused as why:  # a check fails with the reason, as a failed assert does
            raise AssertionError(str(why)) from None

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


def read(data: bytes, **kwargs) -> object:
    """The value a crossing holds (see :class:`Reader`)."""
    return Reader(**kwargs).read(data)


def read_names(data: bytes, **kwargs) -> dict[str, object]:
    """The answers of one fetch, by name: each is its value, or a :class:`Refused` that says
    why it cannot be graded.  A name the student's notebook does not define is absent."""
    reader = Reader(**kwargs)
    document = reader.read(data, top="names")
    out: dict[str, object] = {}
    for name, node in document.items():
        try:
            out[name] = reader.node(node, 1)
        except Refused as why:
            out[name] = why
        except Raised:
            out[name] = Refused(UNREADABLE)
    return out


# --- the student's kernel: what the grader's exchange cells call ------------------------------

FUNCTIONS: dict[str, object] = {}  # the functions that crossed as stubs, by token
SEEN: dict[int, tuple[str, object]] = {}  # the objects that crossed, by id


MIME = "application/x-autograder-exchange"  # the output that carries a crossing to the grader


def _send(data: bytes) -> None:
    """Hand ``data`` to the grader: the only output of the grader's cell it reads."""
    from IPython.display import publish_display_data
    publish_display_data({MIME: base64.b64encode(data).decode("ascii")})


def exported(namespace: dict, names: list[str], *, functions: dict, seen: dict) -> bytes:
    """The crossing of the answers ``names`` of ``namespace`` (the notebook's), one by one: an
    answer that cannot cross holds the reason, and does not stop the others."""
    writer = Writer(functions=functions, seen=seen)
    nodes = {}
    for name in names:
        if name not in namespace:
            continue
        try:
            nodes[name] = writer.node(namespace[name])
        except Refused as why:
            nodes[name] = {"t": "refuse", "why": str(why)}
        except Exception:  # noqa: BLE001 - a value that breaks while it is read
            nodes[name] = {"t": "refuse", "why": UNREADABLE}
    return writer.write_node({"t": "names", "v": nodes})


def export(namespace: dict, names: list[str]) -> None:
    """Send the answers ``names`` of ``namespace`` to the grader (see :func:`exported`)."""
    _send(exported(namespace, names, functions=FUNCTIONS, seen=SEEN))


def seed(value: int) -> None:
    """Seed this kernel as a check seeds the judge's (``keras.utils.set_random_seed``), so that
    the function the check calls next starts from the seed the check chose, as it would if the
    check ran here; tell the grader it is done."""
    import keras

    keras.utils.set_random_seed(int(value))
    _send(write(None))


def called(ref: str, request: bytes, *, functions: dict, seen: dict) -> bytes:
    """The crossing of what the function ``ref`` returned (or raised) when called with the
    arguments ``request`` (a crossing)."""
    try:
        args, kwargs = Reader().read(request)
        result = functions[ref](*args, **kwargs)
        return Writer(functions=functions, seen=seen).write(result)
    except Refused as why:
        return Writer().write_node({"t": "refuse", "why": str(why)})
    except BaseException as error:  # noqa: BLE001 - KeyboardInterrupt too: the grader's stop
        return write_raised(error)


class _Capped:
    """A stream that passes on at most ``budget[0]`` more characters (a budget shared with the
    other stream) and drops the rest.  The grader stops a call that prints past its output cap;
    until that stop arrives, a flood must not pile up in this kernel's memory (the kernel sends
    what it buffered as one message, hundreds of MB of it on a busy machine)."""

    def __init__(self, stream: object, budget: list[int]) -> None:
        self._stream, self._budget = stream, budget

    def write(self, text):  # noqa: ANN001, ANN201 - a stream's own signature
        if not isinstance(text, str):
            return self._stream.write(text)
        if self._budget[0] > 0:
            part = text[:self._budget[0]]
            self._budget[0] -= len(part)
            self._stream.write(part)
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def serve_call(ref: str, request: str, limit: int) -> None:
    """Call the function ``ref`` with the arguments in ``request`` (a crossing, in base64) and
    send what it returned (or raised); what it prints past ``limit`` characters (one more than
    the grader's cap, so the grader sees the cap passed) is dropped."""
    streams = sys.stdout, sys.stderr
    budget = [limit + 1]
    sys.stdout, sys.stderr = (_Capped(s, budget) for s in streams)
    try:
        data = called(ref, base64.b64decode(request), functions=FUNCTIONS, seen=SEEN)
    finally:
        sys.stdout, sys.stderr = streams
    _send(data)


# --- the student's own notebook: a visible check sees its answers as the judge will -----------

def as_graded(namespace: dict, names: list[str]) -> dict[str, object]:
    """The answers ``names`` of ``namespace`` after the round trip a graded run makes (written
    as for the judge, read back as the judge reads them, functions as stubs whose calls make the
    same trip), all in this process.  An answer that could not cross fails with its reason, so
    a student meets it in the visible check, before grading.  A name not bound is left out."""
    functions: dict[str, object] = {}
    seen: dict[int, tuple[str, object]] = {}

    def call(ref: str, request: bytes) -> bytes:
        return called(ref, request, functions=functions, seen=seen)

    data = exported(namespace, names, functions=functions, seen=seen)
    # quiet: Keras warns while it rebuilds a model whose optimizer has state, and a check cell
    # that writes to stderr fails nbgrader's Validate (the grader scores such a cell as usual).
    values = read_names(data, call=call, known={}, quiet=True)
    for value in values.values():
        if isinstance(value, Refused):
            raise AssertionError(str(value))
    return values


def check_as_graded(line: str, cell: str) -> None:
    """The ``%%check_as_graded`` cell magic of the student notebooks: run the check below the
    magic's line with the answers it names (on that line) as :func:`as_graded` makes them, in a
    copy of the notebook's namespace (so nothing the check binds stays behind)."""
    from IPython import get_ipython

    shell = get_ipython()
    namespace = dict(shell.user_ns)
    namespace.update(as_graded(shell.user_ns, line.split()))
    exec(compile(cell, shell.compile.cache(cell), "exec"), namespace)  # noqa: S102 - the check
