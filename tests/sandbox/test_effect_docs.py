"""The published effect schema cannot drift from the rules the worker enforces.

docs/openapi.yaml's `Effect` must equal the schema derived from sandbox/effect_rules.py, each
per-trigger table of docs/actions.md must list exactly the table's ops and argument names, and
each api method must take exactly its effect's arguments. Regenerate the OpenAPI part with
`python -m tests.sandbox.test_effect_docs` after changing a rule.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.api import NAMESPACES
from sandbox.apis.cache import Cache
from sandbox.effect_rules import CACHE_OPS, TRIGGER_OPS
from sandbox.effect_schema import effect_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROW_OP = re.compile(r"`([a-z_]+\.[a-z_]+)` `\{([^}`]*)\}`")


def test_openapi_effect_is_the_generated_schema() -> None:
    spec = yaml.safe_load((DOCS / "openapi.yaml").read_text())
    assert spec["components"]["schemas"]["Effect"] == effect_json_schema(), (
        "regenerate with: python -m tests.sandbox.test_effect_docs")


def documented_ops(trigger: str) -> dict[str, frozenset[str]]:
    """op -> argument names from the `### <trigger>` table of docs/actions.md."""
    text = (DOCS / "actions.md").read_text()
    section = text.split(f"\n### {trigger}\n", 1)[1].split("\n### ", 1)[0]
    found: dict[str, frozenset[str]] = {}
    for line in section.splitlines():
        if line.startswith("|"):
            for op, names in ROW_OP.findall(line):
                found[op] = frozenset(re.findall(r'"([a-z_]+)"', names))
    return found


@pytest.mark.parametrize("trigger", [t for t, ops in TRIGGER_OPS.items() if set(ops) - CACHE_OPS])
def test_actions_md_lists_each_op_with_its_arguments(trigger: str) -> None:
    expected = {op: frozenset(rules) for op, rules in TRIGGER_OPS[trigger].items()
                if op not in CACHE_OPS}
    assert documented_ops(trigger) == expected


def method_args(trigger: str) -> dict[str, list[str]]:
    """op -> the parameter names of the api method that records it."""
    found: dict[str, list[str]] = {}
    for attribute, kind in NAMESPACES[trigger]:
        for name, member in inspect.getmembers(kind, inspect.isfunction):
            if not name.startswith("_"):
                params = list(inspect.signature(member).parameters)[1:]
                found[f"{kind._path}.{name}"] = params
        assert kind._path == attribute
    for name in ("set", "delete"):
        found[f"cache.{name}"] = list(inspect.signature(getattr(Cache, name)).parameters)[1:]
    return found


@pytest.mark.parametrize("trigger", sorted(TRIGGER_OPS))
def test_each_method_takes_exactly_its_effect_arguments(trigger: str) -> None:
    methods = method_args(trigger)
    recording = {op: params for op, params in methods.items()
                 if op not in ("redirect.encode_token", "redirect.validate_token")}
    assert recording == {op: list(rules) for op, rules in TRIGGER_OPS[trigger].items()}


def yaml_block() -> str:
    """The `Effect:` entry for docs/openapi.yaml's components.schemas (4-space indent)."""
    dumped = yaml.safe_dump({"Effect": effect_json_schema()}, sort_keys=False, width=100,
                            default_flow_style=None)
    return "".join("    " + line + "\n" for line in dumped.splitlines())


def _main() -> Any:
    print(yaml_block(), end="")


if __name__ == "__main__":
    _main()
