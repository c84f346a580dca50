"""The layering of the packages: a shared core, a gateway and a worker over it.

    runtime/ (core: keys, jobs, settings, errors, store, redis_client, ...)
      ^           ^
      |           |
    runtime/gateway/ (aiohttp.web)    worker/        runtime/cli/ (launches either)
                  \\                    /
                   sandbox/ (pure; tests/sandbox/test_purity.py)

The worker imports only the core and sandbox/, the core imports neither the gateway nor
the worker nor aiohttp.web, and the gateway never imports the worker. Checked twice: from
the source (so an import inside a function counts too) and by importing every module.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GATEWAY, CLI = "runtime.gateway", "runtime.cli"

# Layer -> module prefixes it must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": (GATEWAY, CLI, "worker", "aiohttp.web"),
    "worker": (GATEWAY, CLI, "aiohttp.web"),
    "gateway": ("worker", CLI),
    "sandbox": ("runtime", "worker", "aiohttp", "redis"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    for prefix, layer in ((GATEWAY, "gateway"), (CLI, None), ("runtime", "core"),
                          ("worker", "worker"), ("sandbox", "sandbox")):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def imported_names(path: Path) -> set[str]:
    """Every module an import statement in `path` names (absolute imports only: the
    project uses no relative ones), as `pkg.mod` and, for `from pkg import name`, also
    `pkg.name` (which may be a submodule)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def breaks(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def violations(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        layer = layer_of(module_name(path))
        if layer is None:
            continue
        crossing = {n for n in imported_names(path) if breaks(n, FORBIDDEN[layer])}
        # `from runtime.gateway import http` names both; the shorter one says it.
        shortest = {n for n in crossing if not any(n.startswith(c + ".") for c in crossing)}
        found += [f"{module_name(path)} ({layer}) imports {n}" for n in sorted(shortest)]
    return found


def project_files() -> list[Path]:
    return sorted(p for top in ("runtime", "worker", "sandbox") for p in (ROOT / top).rglob("*.py"))


def test_no_module_imports_across_its_layer() -> None:
    files = project_files()
    assert {layer_of(module_name(p)) for p in files} >= {"core", "gateway", "worker", "sandbox"}
    assert violations(files) == []


@pytest.mark.parametrize(("source", "where", "expected"), [
    ("from runtime.gateway.dispatch import Dispatcher\n", "worker/x.py",
     ["worker.x (worker) imports runtime.gateway.dispatch"]),
    ("def f():\n    from runtime.gateway import http\n", "runtime/store/x.py",
     ["runtime.store.x (core) imports runtime.gateway"]),
    ("from aiohttp import web\n", "runtime/x.py",
     ["runtime.x (core) imports aiohttp.web"]),
    ("import worker.pool\n", "runtime/gateway/x.py",
     ["runtime.gateway.x (gateway) imports worker.pool"]),
    ("import aiohttp\nfrom runtime import keys\n", "worker/x.py", []),
])
def test_the_check_sees_each_kind_of_crossing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              source: str, where: str, expected: list[str]) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    path = tmp_path / where
    path.parent.mkdir(parents=True)
    path.write_text(source)
    assert violations([path]) == expected


_CHILD = r"""
import importlib, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(root))
names = sorted(".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
               for top in ("runtime", "worker") for p in (root / top).rglob("*.py"))
names = [n for n in names if not n.startswith(("runtime.gateway", "runtime.cli"))]
for name in names:
    importlib.import_module(name)
loaded = sorted(n for n in sys.modules
                if n.startswith(("runtime.gateway", "runtime.cli", "aiohttp.web")))
print(json.dumps({"modules": names, "forbidden": loaded}))
"""


def test_importing_the_core_and_the_worker_loads_no_gateway_code() -> None:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {"runtime.keys", "runtime.store.flows", "worker.consumer"} <= set(report["modules"])
    assert report["forbidden"] == []
