"""Defences against submissions that try to make failing tests pass.

Two layers, because neither alone is complete:

* a static scan of the student's code (after IPython's own magic-to-Python transform) for the
  tools of tampering: IPython input/AST transformers, custom exception handlers, event hooks,
  trace/profile/audit hooks, frame and source introspection, assignments to attributes of
  imported modules, classes that claim equality with everything or fake ``isinstance``;
* a guard cell the grader runs before every test cell (the student never sees it).  It
  compares the kernel with a snapshot taken before any student code ran - builtins, numpy,
  IPython's hooks, ``sys`` hooks - puts back whatever was changed, looks for answers that claim
  to equal anything, and reports what it found.

Anything either layer finds flags the submission for review: it scores 0 until an instructor
has looked, and the status says why.
"""

from __future__ import annotations

import ast
import json
import secrets
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager

GUARD_MARK = "AUTOGRADER-GUARD "
# The first line of every test cell the grader runs: the guard drops the cells that start with it
# from linecache, where IPython keeps every cell's source for tracebacks.
CHECK_MARK = "# autograder: a check"

# Attribute names whose only use in a notebook answer is to interfere with how cells run.
HOOK_ATTRIBUTES = {
    "input_transformers_cleanup": "changes IPython's input transformers",
    "input_transformers_post": "changes IPython's input transformers",
    "ast_transformers": "changes IPython's AST transformers",
    "set_custom_exc": "installs a custom exception handler",
    "CustomTB": "installs a custom exception handler",
    "custom_exceptions": "installs a custom exception handler",
    "showtraceback": "replaces IPython's traceback display",
    "run_cell": "replaces IPython's cell runner",
    "run_cell_async": "replaces IPython's cell runner",
    "run_ast_nodes": "replaces IPython's cell runner",
    "transform_cell": "replaces IPython's cell transformer",
    "excepthook": "replaces the exception hook",
    "f_back": "inspects the calling frames (where the test code runs)",
    "f_globals": "inspects the calling frames (where the test code runs)",
    "f_locals": "inspects the calling frames (where the test code runs)",
    "tb_frame": "inspects the calling frames (where the test code runs)",
    "gi_frame": "inspects the calling frames (where the test code runs)",
    "cr_frame": "inspects the calling frames (where the test code runs)",
    "ag_frame": "inspects the calling frames (where the test code runs)",
    "f_code": "reads code objects (which hold the test code)",
    "co_consts": "reads code objects (which hold the test code)",
    "co_code": "reads code objects (which hold the test code)",
    "__code__": "reads code objects (which hold the test code)",
    "get_parent": "reads the kernel's current request (the check being run)",
    "parent_header": "reads the kernel's current request (the check being run)",
    "_parent_header": "reads the kernel's current request (the check being run)",
    "__builtins__": "changes Python's builtins",
    "__instancecheck__": "fakes isinstance()",
    "__subclasscheck__": "fakes isinstance()",
}
MODULE_CALLS = {
    ("sys", "settrace"): "installs a trace hook",
    ("sys", "setprofile"): "installs a profile hook",
    ("sys", "addaudithook"): "installs an audit hook",
    ("sys", "_getframe"): "inspects the calling frames (where the test code runs)",
    ("sys", "modules"): "changes the module table",
    ("inspect", "currentframe"): "inspects the calling frames (where the test code runs)",
    ("inspect", "stack"): "inspects the calling frames (where the test code runs)",
    ("inspect", "getouterframes"): "inspects the calling frames (where the test code runs)",
    ("traceback", "extract_stack"): "inspects the calling frames (where the test code runs)",
    ("traceback", "format_stack"): "inspects the calling frames (where the test code runs)",
    ("traceback", "walk_stack"): "inspects the calling frames (where the test code runs)",
    ("gc", "get_objects"): "searches the interpreter's objects",
    ("gc", "get_referrers"): "searches the interpreter's objects",
    ("threading", "settrace"): "installs a trace hook",
}
FORBIDDEN_IMPORTS = {
    "builtins": "changes Python's builtins",
    "ctypes": "uses ctypes to reach into the interpreter",
    "linecache": "reads the source of other cells",
    "unittest.mock": "uses mock objects that equal anything",
}
FORBIDDEN_CALLS = {
    "exec": "runs code built from strings",
    "eval": "runs code built from strings",
    "compile": "runs code built from strings",
    "__import__": "imports modules by computed names",
}
FORBIDDEN_MAGICS = {
    "load_ext": "loads an IPython extension",
    "run": "runs another file",
    "config": "reconfigures IPython",
}


def _module_aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to modules by import statements: {alias: module}."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for item in node.names:
                aliases[item.asname or item.name.split(".")[0]] = (
                    item.name if item.asname else item.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for item in node.names:
                aliases[item.asname or item.name] = f"{node.module}.{item.name}"
    return aliases


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _returns_constant(func: ast.FunctionDef, value: bool) -> bool:
    returns = [n for n in ast.walk(func) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        isinstance(r.value, ast.Constant) and r.value.value is value for r in returns)


def scan_source(source: str, module_aliases: dict[str, str]) -> list[str]:
    """Reasons to flag one cell of student code (empty when nothing looks like tampering)."""
    python = TransformerManager().transform_cell(source)
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return []  # it will fail when it runs; nothing to hide there
    reasons: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in HOOK_ATTRIBUTES:
                reasons.append(HOOK_ATTRIBUTES[node.attr])
            if node.attr == "register" and isinstance(node.value, ast.Attribute) and \
                    node.value.attr == "events":
                reasons.append("registers an IPython event hook")
            root = _root_name(node.value)
            module = module_aliases.get(root or "", "")
            if isinstance(node.value, ast.Name) and module:
                reason = MODULE_CALLS.get((module.split(".")[-1], node.attr)) or \
                    MODULE_CALLS.get((module, node.attr))
                if reason:
                    reasons.append(reason)
        elif isinstance(node, ast.Name) and node.id in HOOK_ATTRIBUTES:
            reasons.append(HOOK_ATTRIBUTES[node.id])
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name in FORBIDDEN_IMPORTS:
                    reasons.append(FORBIDDEN_IMPORTS[name])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                reasons.append(FORBIDDEN_CALLS[node.func.id])
            if node.func.id in ("setattr", "delattr") and node.args and \
                    _root_name(node.args[0]) in module_aliases:
                reasons.append("changes an attribute of an imported module")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "run_line_magic" and node.args and \
                isinstance(node.args[0], ast.Constant) and node.args[0].value in FORBIDDEN_MAGICS:
            reasons.append(FORBIDDEN_MAGICS[node.args[0].value])
        elif isinstance(node, ast.FunctionDef):
            if node.name == "__eq__" and _returns_constant(node, True):
                reasons.append("defines __eq__ that claims equality with everything")
            if node.name == "__ne__" and _returns_constant(node, False):
                reasons.append("defines __ne__ that denies every difference")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _root_name(target) in module_aliases:
                    reasons.append("changes an attribute of an imported module")
    return sorted(set(reasons))


def scan_cells(sources: list[str], *, context: list[str] = ()) -> list[str]:
    """Reasons to flag a submission, from the source of its student-written code cells.

    ``context`` holds the course's own cells (unchanged lesson code); they are not scanned,
    but the modules they import count when the student's code uses them."""
    aliases: dict[str, str] = {}
    for source in [*context, *sources]:
        try:
            aliases.update(_module_aliases(ast.parse(TransformerManager().transform_cell(source))))
        except SyntaxError:
            continue
    reasons: list[str] = []
    for source in sources:
        reasons += scan_source(source, aliases)
    return sorted(set(reasons))


# --- the guard cells -------------------------------------------------------------------------

SNAPSHOT_CELL = r'''
def _autograder_snapshot():
    import builtins, math, operator, sys
    import numpy, numpy.testing
    ip = get_ipython()
    modules = {m.__name__: dict(vars(m)) for m in (builtins, math, operator, numpy, numpy.testing)}
    state = {
        "modules": modules,
        "cleanup": list(ip.input_transformers_cleanup),
        "post": list(ip.input_transformers_post),
        "ast": list(ip.ast_transformers),
        "events": {k: list(v) for k, v in ip.events.callbacks.items()},
        "excepthook": sys.excepthook,
        "custom_exceptions": ip.custom_exceptions,
        "instance_attrs": set(vars(ip)),
        "audit": [],
    }
    def audit(event, args, _log=state["audit"]):
        if event == "sys.addaudithook":
            _log.append(event)
    sys.addaudithook(audit)
    return state
_autograder_state = _autograder_snapshot()
del _autograder_snapshot
'''

GUARD_CELL = r'''
def _autograder_guard(nonce, state=_autograder_state):
    import json, sys
    ip = get_ipython()
    found = []
    trusted = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "comm", "ipywidgets")
    def from_jupyter(obj):
        module = getattr(obj, "__module__", None) or getattr(type(obj), "__module__", "")
        return str(module).startswith(trusted)
    # ipykernel swaps these in for every request it runs; they are not the student's doing.
    per_request = {"input", "raw_input", "_", "__", "___"}
    for name, saved in state["modules"].items():
        module = sys.modules[name]
        current = vars(module)
        for key, value in saved.items():
            if name == "builtins" and key in per_request:
                continue
            if current.get(key, value) is not value or key not in current:
                found.append(f"{name}.{key} was replaced")
                setattr(module, key, value)
    for key in ("cleanup", "post", "ast"):
        attr = {"cleanup": "input_transformers_cleanup", "post": "input_transformers_post",
                "ast": "ast_transformers"}[key]
        if list(getattr(ip, attr)) != state[key]:
            found.append(f"IPython {attr} were changed")
            getattr(ip, attr)[:] = state[key]
    for event, callbacks in ip.events.callbacks.items():
        added = [c for c in callbacks if c not in state["events"].get(event, [])]
        foreign = [c for c in added if not from_jupyter(c)]
        if foreign:
            found.append(f"an IPython '{event}' event hook was registered")
            callbacks[:] = [c for c in callbacks if c not in foreign]
    if ip.custom_exceptions != state["custom_exceptions"]:
        found.append("a custom exception handler was installed")
        ip.set_custom_exc((), None)
    for attr in set(vars(ip)) - state["instance_attrs"]:
        if attr in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell",
                    "showtraceback", "_showtraceback", "showsyntaxerror", "CustomTB"):
            found.append(f"IPython's {attr} was replaced")
            delattr(ip, attr)
    if sys.excepthook is not state["excepthook"] and not from_jupyter(sys.excepthook):
        found.append("sys.excepthook was replaced")
        sys.excepthook = state["excepthook"]
    if sys.gettrace() is not None:
        found.append("a trace hook was installed")
        sys.settrace(None)
    if sys.getprofile() is not None:
        found.append("a profile hook was installed")
        sys.setprofile(None)
    if state["audit"]:
        found.append("an audit hook was installed")
    import linecache
    for filename, entry in list(linecache.cache.items()):
        lines = entry[2] if len(entry) > 2 else []
        if lines and lines[0].startswith("# autograder: a check"):
            del linecache.cache[filename]
    class _Nothing:
        pass
    nothing = _Nothing()
    for name, value in list(ip.user_ns.items()):
        if name.startswith("_") or isinstance(value, type(sys)):
            continue
        try:
            claims = (value == nothing) is True or (value != nothing) is False
        except Exception:
            claims = False
        if claims:
            found.append(f"'{name}' claims to equal anything")
    print("AUTOGRADER-GUARD " + json.dumps({"nonce": nonce, "found": sorted(set(found))}))
'''


@dataclass(frozen=True)
class Guard:
    """One guard cell's code and the nonce its report must carry."""

    nonce: str
    source: str


def new_guard() -> Guard:
    nonce = secrets.token_hex(8)
    return Guard(nonce, f"_autograder_guard({nonce!r})")


def read_guard(outputs: list[dict], guard: Guard) -> list[str]:
    """What a guard cell reported; a missing or forged report is itself a finding."""
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            for line in output.get("text", "").splitlines():
                if line.startswith(GUARD_MARK):
                    try:
                        report = json.loads(line[len(GUARD_MARK):])
                    except ValueError:
                        continue
                    if report.get("nonce") == guard.nonce:
                        return [str(item) for item in report.get("found", [])]
    return ["the grader's integrity check did not report back"]
