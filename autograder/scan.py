"""The static scan: student code read before it runs, for the tools of tampering.

It reads the student's cells (after IPython's own magic-to-Python transform) for IPython
input/AST transformers, custom exception handlers, event hooks, trace/profile/audit hooks, frame,
code-object and kernel-request reads, assignments to attributes of imported modules, code built
from strings, and classes that claim equality with everything or fake ``isinstance``.

It is one of two layers, because neither alone is complete: code the scan cannot read (names
built from strings) is met at run time by the guard (:mod:`autograder.guard`).  Anything either
layer finds flags the submission for review: it scores 0 until an instructor has looked, and the
status says why.  Findings use the guard's words where both layers can see the same thing.
"""

from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager

from autograder.kernel_guard import AUDIT, CODE_OBJECTS, FRAMES, FROM_STRINGS, HEAP, PROFILE, TRACE

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
    "f_back": FRAMES,
    "f_globals": FRAMES,
    "f_locals": FRAMES,
    "tb_frame": FRAMES,
    "gi_frame": FRAMES,
    "cr_frame": FRAMES,
    "ag_frame": FRAMES,
    "f_code": CODE_OBJECTS,
    "co_consts": CODE_OBJECTS,
    "co_code": CODE_OBJECTS,
    "__code__": CODE_OBJECTS,
    "get_parent": "reads the kernel's current request (the check being run)",
    "parent_header": "reads the kernel's current request (the check being run)",
    "_parent_header": "reads the kernel's current request (the check being run)",
    "__builtins__": "changes Python's builtins",
    "__instancecheck__": "fakes isinstance()",
    "__subclasscheck__": "fakes isinstance()",
}
MODULE_CALLS = {
    ("sys", "settrace"): TRACE,
    ("sys", "setprofile"): PROFILE,
    ("sys", "addaudithook"): AUDIT,
    ("sys", "_getframe"): FRAMES,
    ("sys", "modules"): "changes the module table",
    ("inspect", "currentframe"): FRAMES,
    ("inspect", "stack"): FRAMES,
    ("inspect", "getouterframes"): FRAMES,
    ("traceback", "extract_stack"): FRAMES,
    ("traceback", "format_stack"): FRAMES,
    ("traceback", "walk_stack"): FRAMES,
    ("gc", "get_objects"): HEAP,
    ("gc", "get_referrers"): HEAP,
    ("threading", "settrace"): TRACE,
}
FORBIDDEN_IMPORTS = {
    "builtins": "changes Python's builtins",
    "ctypes": "uses ctypes to reach into the interpreter",
    "linecache": "reads the source of other cells",
    "unittest.mock": "uses mock objects that equal anything",
}
FORBIDDEN_CALLS = {
    "exec": FROM_STRINGS,
    "eval": FROM_STRINGS,
    "compile": FROM_STRINGS,
    "__import__": "imports modules by computed names",
}
FORBIDDEN_MAGICS = {
    "load_ext": "loads an IPython extension",
    "run": "runs another file",
    "config": "reconfigures IPython",
}


def module_aliases(tree: ast.AST) -> dict[str, str]:
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
            aliases.update(module_aliases(ast.parse(TransformerManager().transform_cell(source))))
        except SyntaxError:
            continue
    reasons: list[str] = []
    for source in sources:
        reasons += scan_source(source, aliases)
    return sorted(set(reasons))
