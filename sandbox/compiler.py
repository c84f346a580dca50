"""Compile an action's source under limits into restricted code; rejected code is data."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from types import CodeType

from RestrictedPython import compile_restricted_exec

from sandbox.limits import Limits
from sandbox.policy import ActionPolicy

# Hostile sources crash or exhaust the parser and the (recursive) policy walk; real actions
# stay far below these. CPython's own limits are 200 brackets and 100 indents.
MAX_BRACKET_DEPTH = 50
MAX_INDENT_DEPTH = 30
MAX_AST_DEPTH = 100

_RP_ERROR = re.compile(r"Line (\d+|None): (?:column (\d+): )?(.*)", re.DOTALL)
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")


@dataclass(frozen=True)
class CompileError:
    """One refusal; `line` is 1-based, `column` 1-based or 0 when unknown."""

    line: int
    column: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class CompileResult:
    """Restricted code when `ok`, else the errors to show the tenant."""

    code: CodeType | None
    errors: tuple[CompileError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code is not None and not self.errors


def compile_action(source: str, filename: str = "<action>", *,
                   limits: Limits | None = None) -> CompileResult:
    """Compile `source` with the action policy. Never raises: every failure is a CompileError."""
    try:
        return _compile(source, filename, limits or Limits())
    except SyntaxError as exc:  # from compile(): symbol-table errors, after the policy passed
        return _failed(exc.lineno or 1, exc.offset or 0, f"{type(exc).__name__}: {exc.msg}")
    except RecursionError:
        return _failed(1, 0, "source is nested too deeply to compile")
    except MemoryError:
        return _failed(1, 0, "source is too complex to compile")
    except BaseException as exc:  # hostile input must not crash the caller
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return _failed(1, 0, f"could not compile: {type(exc).__name__}: {exc}")


def defined_functions(source: str) -> frozenset[str]:
    """Names of the top-level functions in `source` (to warn about missing handlers); empty on error."""
    try:
        tree = ast.parse(source)
    except BaseException:
        return frozenset()
    return frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def _compile(source: str, filename: str, limits: Limits) -> CompileResult:
    if not isinstance(source, str):
        return _failed(1, 0, f"source must be text, not {type(source).__name__}")
    # len() first: a huge string is refused before encoding doubles it.
    if len(source) > limits.source_limit_bytes or \
            len(source.encode("utf-8", "surrogatepass")) > limits.source_limit_bytes:
        return _failed(1, 0, f"source is larger than {limits.source_limit_bytes} bytes")
    nesting = _nesting_error(source)
    if nesting is not None:
        return CompileResult(None, (nesting,))
    try:
        tree = ast.parse(source, filename, "exec")
    except SyntaxError as exc:
        return _failed(exc.lineno or 1, exc.offset or 0, f"{type(exc).__name__}: {exc.msg}")
    deep = _depth_error(tree)
    if deep is not None:
        return CompileResult(None, (deep,))
    result = compile_restricted_exec(tree, filename, policy=ActionPolicy)
    if result.errors:
        return CompileResult(None, tuple(_parse_rp_error(text) for text in result.errors))
    return CompileResult(result.code, ())


def _nesting_error(source: str) -> CompileError | None:
    """Bracket and indentation depth from the tokenizer (iterative, so safe on hostile input)."""
    brackets = indents = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.OP and tok.string in _OPENERS:
                brackets += 1
                if brackets > MAX_BRACKET_DEPTH:
                    return CompileError(tok.start[0], tok.start[1] + 1,
                                        f"brackets nested deeper than {MAX_BRACKET_DEPTH} levels")
            elif tok.type == tokenize.OP and tok.string in _CLOSERS:
                brackets -= 1
            elif tok.type == tokenize.INDENT:
                indents += 1
                if indents > MAX_INDENT_DEPTH:
                    return CompileError(tok.start[0], 1,
                                        f"blocks nested deeper than {MAX_INDENT_DEPTH} levels")
            elif tok.type == tokenize.DEDENT:
                indents -= 1
    except (tokenize.TokenError, SyntaxError):
        return None  # ast.parse reports the real syntax error with its position
    return None


def _depth_error(tree: ast.AST) -> CompileError | None:
    """The AST's depth, walked with an explicit stack: the policy walk after it is recursive."""
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    while stack:
        node, depth, where = stack.pop()
        if hasattr(node, "lineno"):
            where = node  # the nearest node with a position (contexts and operators have none)
        if depth > MAX_AST_DEPTH:
            return CompileError(getattr(where, "lineno", 1), getattr(where, "col_offset", -1) + 1,
                                f"expression nested deeper than {MAX_AST_DEPTH} levels")
        stack.extend((child, depth + 1, where) for child in ast.iter_child_nodes(node))
    return None


def _parse_rp_error(text: str) -> CompileError:
    match = _RP_ERROR.fullmatch(text)
    if match is None:
        return CompileError(1, 0, text)
    line, column, message = match.groups()
    return CompileError(int(line) if line != "None" else 1, int(column or 0), message)


def _failed(line: int, column: int, message: str) -> CompileResult:
    return CompileResult(None, (CompileError(line, column, message),))
