"""The sandbox: compile, guard and run one tenant action; pure (no aiohttp, no redis)."""
from __future__ import annotations

from sandbox.compiler import CompileError, CompileResult, compile_action, defined_functions
from sandbox.execute import run_action

__all__ = ["CompileError", "CompileResult", "compile_action", "defined_functions", "run_action"]
