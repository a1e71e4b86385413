"""What a code cell binds, reads and may change in the kernel's global namespace, from its text.

Used to check that test cells read only what the grader binds (``tests/test_hygiene.py``) and
to leave out of a graded run the lesson cells nothing graded needs (:mod:`autograder.cut`).
The scopes are CPython's own (``symtable``, the compiler's scope pass).
"""

from __future__ import annotations

import ast
import re
import symtable

MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)[%!].*$", re.M)


def plain(source: str) -> str:
    """The cell as plain Python: IPython's line magics and shell escapes become `pass`."""
    return MAGIC_LINE.sub(lambda m: f"{m['indent']}pass", source)


def _walk_tables(table: symtable.SymbolTable):
    yield table
    for child in table.get_children():
        yield from _walk_tables(child)


def _top_level_bindings(top: symtable.SymbolTable) -> set[str]:
    """Names a cell binds in the kernel's global namespace: at its top level (imports,
    assignments, loop and `with` targets, `def`, `class` ...), or through `global` in a function."""
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    for table in _walk_tables(top):
        if table is not top:
            bound |= {s.get_name() for s in table.get_symbols()
                      if s.is_declared_global() and (s.is_assigned() or s.is_imported())}
    return bound


def bound_names(source: str) -> set[str]:
    return _top_level_bindings(symtable.symtable(plain(source), "<cell>", "exec"))


def global_reads(source: str) -> set[str]:
    """The names a cell reads from the kernel's globals without binding them itself.

    The scopes are CPython's own (`symtable`, the compiler's scope pass): a name bound anywhere at
    the cell's top level counts as bound for the whole cell; one bound in a function, lambda or
    comprehension (parameters and targets included) counts only there and in the scopes nested in
    it, never in a class body's methods; `global` and `nonlocal` are honoured.
    """
    source = plain(source)
    ast.parse(source)  # a syntax error is reported as such, not as a scope problem
    top = symtable.symtable(source, "<cell>", "exec")
    bound = _top_level_bindings(top)
    reads = set()
    for table in _walk_tables(top):
        for symbol in table.get_symbols():
            resolves_to_globals = table is top or symbol.is_global()
            if symbol.is_referenced() and resolves_to_globals and symbol.get_name() not in bound:
                reads.add(symbol.get_name())
    return reads


def changed_names(source: str) -> set[str]:
    """Names whose object a cell may change without rebinding them: the roots of attribute and
    item assignments, of method calls (``model.fit(...)``), and names passed to any call
    (``rng.shuffle(data)``).  A conservative list: it may name objects nothing changes."""
    tree = ast.parse(plain(source))
    changed: set[str] = set()

    def root(node: ast.AST) -> str | None:
        while isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                targets.append(node.func.value)
            targets += [*node.args, *(k.value for k in node.keywords)]
        for target in targets:
            if isinstance(target, ast.Starred):
                target = target.value
            if isinstance(target, ast.Attribute | ast.Subscript | ast.Name) and \
                    not (isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
                         and isinstance(target, ast.Name)):
                name = root(target)
                if name:
                    changed.add(name)
    return changed


def imported_names(source: str) -> set[str]:
    """Names a cell binds by importing (modules and what is imported from them)."""
    top = symtable.symtable(plain(source), "<cell>", "exec")
    return {s.get_name() for s in top.get_symbols() if s.is_imported()}
