"""The AST policy: RestrictedPython's transformer, refusing more and routing size-prone operators."""
from __future__ import annotations

import ast
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

# Operators that can build a huge value in one C call (`10**10**10`, `'a' * 10**10`, `1 << 10**10`)
# are rewritten to these guards (sandbox/guards.py), which check the result size first.
GUARDED_BINOPS: dict[type[ast.operator], str] = {
    ast.Pow: "_pow_",
    ast.Mult: "_mul_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",  # only to refuse `bytearray % args` (its C formatter trusts the buffer)
}

# Called first in every `except` and `finally` body: re-raises the polite timeout once the
# deadline has passed, so `while True: try/except: pass` cannot swallow it (sandbox/alarm.py).
DEADLINE_HOOK = "_deadline_"

# `L[::2] = value` passes `value` through this guard: only a list (a generator that shrinks L
# while it is consumed overflowed the heap, gh-120384).
EXTENDED_SLICE_HOOK = "_extended_slice_value_"

_ASYNC_MESSAGE = "async def is not supported: write a synchronous handler"

# The only special method an action's class may define. C code calls the others (__eq__,
# __lt__, __hash__, __contains__, ...) in the middle of container operations, which is how
# CPython's use-after-free bugs are reached from plain code (docs/actions.md).
ALLOWED_SPECIAL_METHODS = frozenset({"__init__"})


def _is_special(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


class ActionPolicy(RestrictingNodeTransformer):
    """RestrictedPython's `RestrictingNodeTransformer` plus this runtime's refusals and hooks.

    Every error carries a column: `Line N: column C: message` (parsed by sandbox/compiler.py).
    """

    def error(self, node: ast.AST, info: str) -> None:
        lineno = getattr(node, "lineno", None)
        column = getattr(node, "col_offset", None)
        where = f"Line {lineno}: column {column + 1}: " if column is not None else f"Line {lineno}: "
        self.errors.append(where + info)

    # -- refusals with messages a tenant can act on

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> Any:
        self.error(node, _ASYNC_MESSAGE)

    def visit_Await(self, node: ast.Await) -> Any:
        self.error(node, "await is not supported: " + _ASYNC_MESSAGE)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> Any:
        self.error(node, "async for is not supported: " + _ASYNC_MESSAGE)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> Any:
        self.error(node, "async with is not supported: " + _ASYNC_MESSAGE)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_special(
                    stmt.name) and stmt.name not in ALLOWED_SPECIAL_METHODS:
                self.error(stmt, f"special method {stmt.name} is not allowed in an action's "
                                 "class: define __init__ and ordinary methods only")
        return super().visit_ClassDef(node)

    def visit_TryStar(self, node: ast.AST) -> Any:
        # ExceptionGroup handling has no guarded form in RestrictedPython (a known escape route).
        self.error(node, "try/except* (exception groups) is not allowed")

    def visit_Match(self, node: ast.AST) -> Any:
        # Class patterns read attributes without `_getattr_`; not reviewed, so refused.
        self.error(node, "match statements are not allowed: use if/elif")

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        """`x: int = 1` is `x = 1`; a bare `x: int` does nothing. The annotation is dropped."""
        if not isinstance(node.target, ast.Name):
            self.error(node, "annotated assignment is only allowed to a plain name")
            return node
        if node.value is None:
            stmt: ast.stmt = ast.Pass()
        else:
            stmt = ast.Assign(targets=[node.target], value=node.value)
        copy_locations(stmt, node)
        return self.visit(stmt)

    # -- hooks

    def visit_Assign(self, node: ast.Assign) -> Any:
        extended = any(isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice)
                       and t.slice.step is not None for t in node.targets)
        result = super().visit_Assign(node)
        if extended and isinstance(result, ast.Assign):  # the hook is added after the checks
            call = ast.Call(func=ast.Name(EXTENDED_SLICE_HOOK, ast.Load()),
                            args=[result.value], keywords=[])
            copy_locations(call, result.value)
            result.value = call
        elif extended:
            self.error(node, "extended-slice assignment cannot be combined with unpacking")
        return result

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        hook = GUARDED_BINOPS.get(type(node.op))
        if hook is None:
            return node
        call = ast.Call(func=ast.Name(hook, ast.Load()), args=[node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        node = super().visit_ExceptHandler(node)  # type: ignore[assignment]
        node.body.insert(0, self._deadline_call(node))
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        node = self.node_contents_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, self._deadline_call(node.finalbody[0]))
        return node

    def _deadline_call(self, where: ast.AST) -> ast.stmt:
        stmt = ast.Expr(ast.Call(func=ast.Name(DEADLINE_HOOK, ast.Load()), args=[], keywords=[]))
        copy_locations(stmt, where)  # type: ignore[arg-type]
        return stmt
