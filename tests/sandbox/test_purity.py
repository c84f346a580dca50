"""sandbox/ is pure: importing every module of it loads neither aiohttp nor redis."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r"""
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import sandbox
names = sorted(m.name for m in pkgutil.walk_packages(sandbox.__path__, "sandbox."))
for name in names:
    importlib.import_module(name)
loaded = sorted(n for n in sys.modules if n.split(".")[0] in ("aiohttp", "redis"))
print(json.dumps({"modules": names, "forbidden": loaded}))
"""


def test_sandbox_imports_neither_aiohttp_nor_redis() -> None:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT)], capture_output=True,
                          text=True, timeout=30, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["forbidden"] == []
    for name in ("sandbox.compiler", "sandbox.guards", "sandbox.imports", "sandbox.execute",
                 "sandbox.logs", "sandbox.policy", "sandbox.alarm", "sandbox.errors"):
        assert name in report["modules"]
