"""The grader's guard inside the grading kernel: snapshot, audit hook, and signed reports.

This file runs in two places.  The grader imports it for its constants and pure helpers; and it
sends the file's text to the kernel as the first cell of every graded run, before any student
code, where :func:`install` takes a snapshot and installs a Python audit hook.  It needs only the
standard library and IPython.

Why an audit hook.  Student code runs in the same interpreter as the tests, so anything the guard
keeps in the kernel's namespace, and any cell the grader sends, can be rewritten, swallowed or
imitated by a student's input transformer, event hook or replaced ``run_cell``, written in a way
the static scan cannot read.  An audit hook (PEP 578) cannot be removed once installed, and what
it keeps in its closure is out of reach of code that cannot read frames or search the heap, which
the hook itself refuses to student code.  So:

* **The guard runs inside the hook**, when IPython itself compiles the exact text of a guard cell
  with no cell code anywhere on the stack.  A guard cell that was rewritten, swallowed, or
  compiled by student code produces no report, and a missing report flags the submission.
* **Reports are signed.**  :func:`install` draws a key from ``os.urandom`` and prints it once, in
  the first cell's output, which goes to the grader and nowhere the kernel can read it back.  Each
  report carries an HMAC of its content under that key, so printing a fake "all clear" does not
  work.
* **Sensitive operations are attributed.**  Frame reads, code-object reads, heap searches, trace
  and audit hooks, and code built from strings raise audit events; when the Python code that asked
  for one is not part of the installed libraries (a notebook cell, or code made from a string),
  the hook records a finding, and refuses the frame and heap reads outright.

At each guard the hook also compares the kernel with the snapshot, and puts back what changed:
builtins and every module the tests import (their contents and their entries in
``sys.modules``), IPython's transformers, event hooks, exception handlers and its own classes and
components, ``sys`` hooks, signal handlers and timers; it reports threads started by student code
and values that claim to equal anything, drops the check cells from ``linecache``, and binds
``self_check`` (the notebooks' practice-feedback helper, which check cells call) to its own
silent copy, so that every name a check cell reads is one the grader bound.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import types

KEY_MARK = "AUTOGRADER-KEY "
REPORT_MARK = "AUTOGRADER-GUARD "
GUARD_MARK = "# autograder: guard "
CHECK_MARK = "# autograder: a check"  # the first line of every test cell the grader runs
FILENAME = "<autograder guard>"  # the file name the guard's own code runs under in the kernel

# What a finding says; the static scan uses the same words.
FRAMES = "inspects the calling frames (where the test code runs)"
CODE_OBJECTS = "reads code objects (which hold the test code)"
HEAP = "searches the interpreter's objects"
FROM_STRINGS = "runs code built from strings"
NEW_CODE = "builds functions from code objects"
TRACE = "installs a trace hook"
PROFILE = "installs a profile hook"
AUDIT = "installs an audit hook"
GUARD_FROM_STUDENT = "student code ran the grader's guard"
THREAD = "starts a thread that runs student code"
SIGNALS = "installs a signal handler or timer"

# Audit events the hook looks at: {event: (finding, refused)}.  A refused operation raises in
# the student code that asked for it.
EVENTS = {
    "sys._getframe": (FRAMES, True),
    "sys._current_frames": (FRAMES, True),
    "gc.get_objects": (HEAP, True),
    "gc.get_referrers": (HEAP, True),
    "gc.get_referents": (HEAP, True),
    "sys.settrace": (TRACE, False),
    "sys.setprofile": (PROFILE, False),
    "sys.addaudithook": (AUDIT, False),
    "compile": (FROM_STRINGS, False),
    "exec": (FROM_STRINGS, False),
    "code.__new__": (NEW_CODE, False),
    "function.__new__": (NEW_CODE, False),
}
ATTRIBUTES = {  # for "object.__getattr__" events: {attribute: (finding, refused)}
    "tb_frame": (FRAMES, True),
    "gi_frame": (FRAMES, True),
    "cr_frame": (FRAMES, True),
    "ag_frame": (FRAMES, True),
    "f_code": (CODE_OBJECTS, False),
    "__code__": (CODE_OBJECTS, False),
}
# Frames of these files are looked through when deciding who asked for a frame
# (``inspect.currentframe()`` and ``traceback.extract_stack()`` ask on their caller's behalf).
LOOK_THROUGH = ("/inspect.py", "/traceback.py")
KERNEL_ENTRY = "/ipykernel/kernelbase.py"  # where the kernel's handling of a request begins
BASE_MODULES = ("builtins", "math", "operator", "numpy", "numpy.testing")
# Attributes of IPython's shell that student code has no business replacing.
SHELL_PARTS = ("compile", "input_transformer_manager", "events", "displayhook", "display_pub",
               "prefilter_manager", "input_transformers_cleanup", "input_transformers_post",
               "ast_transformers", "custom_exceptions", "CustomTB", "showtraceback",
               "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async", "run_ast_nodes",
               "run_code", "transform_cell", "transform_ast")
TRUSTED_MODULES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "comm",
                   "ipywidgets", "tornado", "asyncio", "zmq", "jupyter_client")


def guard_source(nonce: str) -> str:
    """The exact text of a guard cell (what the hook waits to see IPython compile)."""
    return f"{GUARD_MARK}{nonce}\npass\n"


def digest(text: str) -> str:
    """How the grader names a cell's text to the kernel without sending it again."""
    return hashlib.sha256(text.rstrip("\n").encode()).hexdigest()


def sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def signed_report(key: bytes, nonce: str, found: list[str]) -> str:
    """One guard report line: its content and that content's HMAC under the run's key."""
    payload = json.dumps({"nonce": nonce, "found": sorted(set(found))})
    return REPORT_MARK + json.dumps({"payload": payload, "mac": sign(key, payload)})


def read_report(line: str, key: bytes, nonce: str) -> list[str] | None:
    """The findings of a report line signed with ``key`` for ``nonce``; None for anything else."""
    if not line.startswith(REPORT_MARK):
        return None
    try:
        outer = json.loads(line[len(REPORT_MARK):])
        payload, mac = outer["payload"], outer["mac"]
        if not (isinstance(payload, str) and isinstance(mac, str)):
            return None
        if not hmac.compare_digest(sign(key, payload), mac):
            return None
        report = json.loads(payload)
    except (ValueError, KeyError, TypeError):
        return None
    if report.get("nonce") != nonce:
        return None
    return [str(item) for item in report.get("found", [])]


def trusted_roots() -> tuple[str, ...]:
    """Folders whose code is the installed libraries and Python's own (never a notebook cell)."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return tuple(sorted(root.rstrip(os.sep) + os.sep for root in roots))


def is_trusted_file(filename: str, roots: tuple[str, ...]) -> bool:
    if filename == FILENAME or filename.startswith("<frozen "):
        return True
    return filename.startswith(roots) and not filename.startswith("<")


def module_chain(path: str) -> list[types.ModuleType]:
    """The modules a dotted name read by a test passes through, as far as they are modules.

    ``"keras.activations.relu"`` gives the modules ``keras`` and ``keras.activations``; each
    prefix that can be imported is imported (``sklearn.metrics`` is not an attribute of
    ``sklearn`` until it is)."""
    import importlib

    parts = path.split(".")
    chain: list[types.ModuleType] = []
    current = None
    for index, part in enumerate(parts):
        try:
            current = importlib.import_module(".".join(parts[:index + 1]))
        except ImportError:
            current = getattr(current, part, None) if current is not None else None
        if not isinstance(current, types.ModuleType):
            break
        chain.append(current)
    return chain


def _identical(a: list, b: list) -> bool:
    """Same length and the same objects, compared by identity (no student ``__eq__`` runs)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _text(source) -> str | None:
    """The text of a "compile" event's source (CPython passes it as bytes), without trailing
    newlines; None for anything else.  Exact types only: no student method runs here."""
    if type(source) is bytes:
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return source.rstrip("\n") if type(source) is str else None


def _silent_self_check(name, answer, digest):  # noqa: ARG001 - same signature as the notebooks'
    """Check cells call the practice helper; when grading, its verdict is the hidden tests'."""


def install(config: dict) -> None:
    """Take the snapshot, install the audit hook and print the run's key (first cell only).

    ``config``: ``modules`` (dotted names the tests read, e.g. ``"numpy.random.default_rng"``),
    ``guards`` (the nonces of the guard cells the grader will send) and ``course`` (the
    :func:`digest` of each cell that is the course's own code: the test cells, and the lesson
    cells the student left as released).  Code compiled from a course cell is trusted like the
    libraries; so a lesson cell may ``exec`` its example, a student cell may not."""
    import signal
    import threading

    from IPython import get_ipython

    ip = get_ipython()
    roots = trusted_roots()
    key = os.urandom(32)
    out = sys.stdout
    expected = {guard_source(nonce).rstrip("\n") for nonce in config["guards"]}
    course = set(config.get("course", ()))
    trusted_code: dict[int, types.CodeType] = {}  # by id; the values keep the ids unique
    modules: dict[str, tuple[types.ModuleType, dict]] = {}
    for path in (*BASE_MODULES, *config["modules"]):
        for module in module_chain(path):
            modules.setdefault(module.__name__, (module, dict(vars(module))))
    classes = {cls: dict(vars(cls)) for part in (ip, ip.compile, ip.input_transformer_manager)
               for cls in type(part).__mro__
               if cls.__module__.split(".")[0] in ("IPython", "ipykernel")}
    missing = object()
    # A method is replaced on the instance (its __dict__) or on a class (checked above); any
    # other part (traitlets keep theirs outside __dict__) is compared by identity.
    parts = {name: ("method", vars(ip).get(name, missing))
             if isinstance(getattr(ip, name, None), types.MethodType)
             else ("value", getattr(ip, name, missing)) for name in SHELL_PARTS}
    lists = {name: list(getattr(ip, name)) for name in
             ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")}
    manager = ip.input_transformer_manager
    manager_lists = {name: list(value) for name, value in vars(manager).items()
                     if isinstance(value, list)}
    compiler_vars = dict(vars(ip.compile))
    events = {name: list(callbacks) for name, callbacks in ip.events.callbacks.items()}
    hooks = {"excepthook": sys.excepthook, "displayhook": sys.displayhook}
    handlers = {}
    for number in signal.valid_signals():
        try:
            handlers[number] = signal.getsignal(number)
        except (OSError, ValueError):
            continue
    threads_before = {id(t) for t in threading.enumerate()}
    state = {"busy": False, "found": set(), "used": set(), "course_cell": None}

    def untrusted(frame) -> bool:
        if frame is None:
            return False
        code = frame.f_code
        return trusted_code.get(id(code)) is not code and \
            not is_trusted_file(code.co_filename, roots)

    def trust(code: types.CodeType) -> None:
        trusted_code[id(code)] = code
        for const in code.co_consts:
            if type(const) is types.CodeType:
                trust(const)

    def caller(look_through: bool):
        frame = sys._getframe(2)  # 0: this function, 1: the hook, 2: who raised the event
        while look_through and frame is not None and \
                frame.f_code.co_filename.endswith(LOOK_THROUGH):
            frame = frame.f_back
        return frame

    def stack_is_clean() -> bool:
        """No code but the libraries' between the kernel's request handler and this event.
        (Below the handler is whatever started the kernel, e.g. the warm-kernel server.)"""
        frame = sys._getframe(2)
        while frame is not None:
            if untrusted(frame):
                return False
            if frame.f_code.co_filename.endswith(KERNEL_ENTRY):
                return True
            frame = frame.f_back
        return True

    def code_file(obj) -> str:
        code = getattr(obj, "__code__", None)
        return code.co_filename if isinstance(code, types.CodeType) else ""

    def from_student(obj) -> bool:
        target = getattr(obj, "__func__", obj)
        name = code_file(target)
        return bool(name) and not is_trusted_file(name, roots)

    def check() -> list[str]:
        found: list[str] = []
        per_request = {"input", "raw_input", "getpass", "get_ipython", "_", "__", "___"}
        for name, (module, saved) in modules.items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}] was replaced")
                sys.modules[name] = module
            current = vars(module)
            for attr, value in saved.items():
                if name == "builtins" and attr in per_request:
                    continue
                if attr not in current or current[attr] is not value:
                    found.append(f"{name}.{attr} was replaced")
                    setattr(module, attr, value)
        for cls, saved in classes.items():
            current = vars(cls)
            for attr in set(current) | set(saved):
                if current.get(attr, None) is not saved.get(attr, None):
                    found.append(f"IPython's {cls.__name__}.{attr} was changed")
                    if attr in saved:
                        setattr(cls, attr, saved[attr])
                    else:
                        delattr(cls, attr)
        for name, (kind, saved) in parts.items():
            current = vars(ip).get(name, missing) if kind == "method" else \
                getattr(ip, name, missing)
            if current is saved:
                continue
            found.append(f"IPython's {name} was replaced")
            if saved is not missing:
                setattr(ip, name, saved)
            elif name in vars(ip):
                delattr(ip, name)
        for name, saved in lists.items():
            if not _identical(getattr(ip, name), saved):
                found.append(f"IPython {name} were changed")
                getattr(ip, name)[:] = saved
        for name, saved in manager_lists.items():
            if not _identical(getattr(manager, name), saved):
                found.append("IPython's input transformers were changed")
                getattr(manager, name)[:] = saved
        for name, value in vars(ip.compile).items():
            if callable(value) and value is not compiler_vars.get(name):
                found.append("IPython's compiler was changed")
                if name in compiler_vars:
                    setattr(ip.compile, name, compiler_vars[name])
                else:
                    delattr(ip.compile, name)
        for event, callbacks in ip.events.callbacks.items():
            before = events.get(event, [])
            added = [c for c in callbacks if not any(c is b for b in before)]
            foreign = [c for c in added if from_student(c) or not str(
                getattr(c, "__module__", "") or "").startswith(TRUSTED_MODULES)]
            if foreign:
                found.append(f"an IPython '{event}' event hook was registered")
                callbacks[:] = [c for c in callbacks if not any(c is f for f in foreign)]
        for name, saved in hooks.items():
            current = getattr(sys, name)
            if current is not saved and not str(getattr(current, "__module__", "")).startswith(
                    TRUSTED_MODULES):
                found.append(f"sys.{name} was replaced")
                setattr(sys, name, saved)
        if sys.gettrace() is not None:
            found.append("a trace hook was installed")
            sys.settrace(None)
        if sys.getprofile() is not None:
            found.append("a profile hook was installed")
            sys.setprofile(None)
        for number, saved in handlers.items():
            if number == signal.SIGINT:
                continue  # the kernel sets its own for each request
            if signal.getsignal(number) is not saved:
                found.append(SIGNALS)
                if saved is not None:
                    signal.signal(number, saved)
        if signal.getitimer(signal.ITIMER_REAL)[0] or signal.getitimer(signal.ITIMER_VIRTUAL)[0]:
            found.append(SIGNALS)
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        for thread in threading.enumerate():
            if id(thread) in threads_before:
                continue
            runs = [getattr(thread, "_target", None), getattr(thread, "function", None),
                    type(thread).run]
            if any(from_student(r) for r in runs if r is not None):
                found.append(THREAD)
        import linecache

        for filename, entry in list(linecache.cache.items()):
            lines = entry[2] if len(entry) > 2 else []
            if lines and isinstance(lines[0], str) and lines[0].startswith(CHECK_MARK):
                del linecache.cache[filename]
        ip.user_ns["self_check"] = _silent_self_check
        return found

    def equals_anything() -> list[str]:
        """Values that claim to equal an object they have never seen.  This calls student
        ``__eq__`` methods, so it runs with the hook watching (not busy)."""
        class Nothing:
            pass

        nothing = Nothing()
        found = []
        for name, value in list(ip.user_ns.items()):
            if type(name) is not str or name.startswith("_") or \
                    isinstance(value, types.ModuleType):
                continue
            try:
                claims = (value == nothing) is True or (value != nothing) is False
            except BaseException as err:  # noqa: BLE001 - any student exception means "no"
                err.__traceback__ = None
                claims = False
            if claims:
                found.append(f"'{name}' claims to equal anything")
        return found

    def run_guard(source: str) -> None:
        state["used"].add(source)
        nonce = source[len(GUARD_MARK):].split("\n", 1)[0]
        found = check()
        state["busy"] = False
        try:
            found += equals_anything()
        finally:
            state["busy"] = True
        found += sorted(state["found"])
        out.write(signed_report(key, nonce, found) + "\n")
        out.flush()

    def hook(event, args):
        if state["busy"]:
            return
        if event not in EVENTS and event != "object.__getattr__":
            return
        state["busy"] = True
        refuse = None
        try:
            source = _text(args[0]) if event == "compile" and args else None
            if source is not None and len(args) > 1 and type(args[1]) is str and \
                    source not in expected and stack_is_clean():
                # IPython compiles a cell's text, then each statement from its AST; remember
                # which cell file is the course's, to trust the code objects it then runs.
                state["course_cell"] = args[1] if digest(source) in course else None
                return
            if event == "exec" and args and type(args[0]) is types.CodeType and \
                    args[0].co_filename == state["course_cell"] and stack_is_clean():
                trust(args[0])
                return
            if source in expected:
                if source in state["used"]:
                    return
                if stack_is_clean():
                    run_guard(source)
                else:
                    state["found"].add(GUARD_FROM_STUDENT)
                return
            if event == "object.__getattr__":
                name = args[1] if len(args) > 1 else None
                if type(name) is not str or name not in ATTRIBUTES:
                    return
                finding, refused = ATTRIBUTES[name]
            else:
                finding, refused = EVENTS[event]
            if untrusted(caller(look_through=event == "sys._getframe")):
                state["found"].add(finding)
                if refused:
                    refuse = finding
        finally:
            state["busy"] = False
        if refuse:
            raise RuntimeError(f"the grader does not allow this while grading: it {refuse}")

    sys.addaudithook(hook)
    ip.user_ns["self_check"] = _silent_self_check
    print(KEY_MARK + key.hex(), flush=True)
