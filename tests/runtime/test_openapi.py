"""docs/openapi.yaml and the routes create_app registers agree, and the spec is self-consistent."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.gateway.app import create_app
from runtime.settings import Settings
from tests.runtime.apiclient import Api, Tenant

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "options", "head", "trace"})
REQUIRED_SCHEMAS = frozenset({"Error", "Action", "Version", "Binding", "ExecutionResult"})


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in METHODS}


def registered_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(redis_url="redis://127.0.0.1:1/0", admin_token="x"))
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.method != "HEAD" and route.resource is not None}


def test_spec_is_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearer"] == {
        **spec["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    assert REQUIRED_SCHEMAS <= set(spec["components"]["schemas"])


def test_every_route_is_documented(spec: dict[str, Any]) -> None:
    assert sorted(registered_routes() - operations(spec)) == []


def test_every_documented_operation_is_routed(spec: dict[str, Any]) -> None:
    assert sorted(operations(spec) - registered_routes()) == []


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_ref_resolves(spec: dict[str, Any]) -> None:
    refs = _refs(spec)
    assert len(refs) > 100
    for ref in refs:
        assert _resolve(spec, ref) is not None, ref


def test_operations_are_complete(spec: dict[str, Any]) -> None:
    ids = []
    for path, item in spec["paths"].items():
        shared = [_resolve(spec, p["$ref"]) if "$ref" in p else p for p in item.get("parameters", [])]
        for method, op in item.items():
            if method not in METHODS:
                continue
            ids.append(op["operationId"])
            assert op["responses"], (method, path)
            own = [_resolve(spec, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            in_path = {p["name"] for p in shared + own if p["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path)), (method, path)
    assert len(ids) == len(set(ids))


async def test_documented_shapes_match_real_answers(
    spec: dict[str, Any], api: Api, acme: Tenant
) -> None:
    schemas = spec["components"]["schemas"]
    action = await api.create_action(acme)
    assert set(action) == set(schemas["Action"]["required"]) == set(schemas["Action"]["properties"])
    version = await api.deploy(acme, action["id"])
    assert set(version) == set(schemas["Version"]["properties"])
    assert set(schemas["Version"]["required"]) <= set(version)
    status, body = await api.bind(acme, "post-login", action["name"])
    assert status == 200
    assert set(body["bindings"][0]) == set(schemas["Binding"]["required"])
    assert set(body["bindings"][0]["action"]) == set(
        schemas["Binding"]["properties"]["action"]["required"])
    status, body = await api.call("GET", f"/v1/tenants/{acme.id}/triggers",
                                  token=acme.management_token)
    assert set(body["triggers"][0]) == set(schemas["Trigger"]["required"])
    status, body = await api.call("GET", "/v1/tenants/acme/actions/missing",
                                  token=acme.management_token)
    assert set(body["error"]) == set(schemas["Error"]["properties"]["error"]["required"])
