"""`actions-runtime run`: every shipped example through the real pool, and the exit statuses."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.compiler import compile_action
from sandbox.execute import run_action
from sandbox.limits import Limits
from sandbox.triggers import TRIGGERS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", "run", *map(str, args)],
                          capture_output=True, text=True, timeout=30, cwd=ROOT, check=False)


def in_process(trigger: str) -> dict[str, Any]:
    """What sandbox.execute alone makes of the example: the CLI must agree exactly."""
    source = (EXAMPLES / "actions" / f"{trigger}.py").read_text()
    event = json.loads((EXAMPLES / "events" / f"{trigger}.json").read_text())
    compiled = compile_action(source)
    assert compiled.code is not None
    outcome = run_action(compiled.code, trigger_id=trigger, handler=TRIGGERS[trigger].handlers[0],
                         event=event, secrets={}, cache={}, limits=Limits())
    return {"status": outcome.status, "effects": outcome.effects, "logs": outcome.logs,
            "error": outcome.error}


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_every_example_runs(trigger: str) -> None:
    proc = cli(EXAMPLES / "actions" / f"{trigger}.py", "--trigger", trigger,
               "--event", EXAMPLES / "events" / f"{trigger}.json")
    assert (proc.returncode, proc.stderr) == (0, "")
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"
    assert result["effects"]  # every example does something visible
    assert {k: result[k] for k in ("status", "effects", "logs", "error")} == in_process(trigger)


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"user": {"user_id": "auth0|1", "email": "a@example.com"}}))
    return path


def write_action(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "action.py"
    lines = "\n".join("    " + line for line in body.splitlines())
    path.write_text(f"def on_execute_post_login(event, api):\n{lines}\n")
    return path


@pytest.mark.parametrize(("body", "extra", "status", "code"), [
    ("api.access.deny('no')", [], "denied", 0),
    ("api.id_token.set_custom_claim('k', event.secrets.K)", ["--secret", "K=v=w"], "ok", 0),
    ("raise KeyError('missing')", [], "error", 1),
    ("while True:\n    pass", ["--timeout-s", "0.2"], "timeout", 1),
    ("x = []\nwhile True:\n    x.append('a' * 1000)", [], "memory_limit", 1),
], ids=["deny", "secret", "error", "timeout", "memory"])
def test_outcome_exit_status(tmp_path: Path, event_file: Path, body: str, extra: list[str],
                             status: str, code: int) -> None:
    proc = cli(write_action(tmp_path, body), "--trigger", "post-login", "--event", event_file,
               *extra)
    result = json.loads(proc.stdout)
    assert (proc.returncode, result["status"]) == (code, status)
    if status == "ok":
        assert result["effects"] == [
            {"op": "id_token.set_custom_claim", "args": {"name": "k", "value": "v=w"}}]


UNUSABLE = [
    # (id, action body or None for a missing file, event JSON text, extra args, stderr part)
    ("missing file", None, "{}", [], "cannot read action file"),
    ("compile errors", "x = 1\ny = x._hidden", "{}", [], "line 3, column"),
    ("event not an object", "pass", "[1, 2]", [], "must hold a JSON object"),
    ("event not JSON", "pass", "{user:", [], "is not valid JSON"),
    ("unknown trigger", "pass", "{}", ["--trigger", "post-logout"], "unknown trigger 'post-logout'"),
    ("unknown handler", "pass", "{}", ["--handler", "on_nothing"], "has no handler 'on_nothing'"),
    ("bad secret", "pass", "{}", ["--secret", "NOEQUALS"], "expected NAME=VALUE"),
    ("bad timeout", "pass", "{}", ["--timeout-s", "0"], "--timeout-s must be positive"),
]


@pytest.mark.parametrize(("body", "event", "extra", "message"), [u[1:] for u in UNUSABLE],
                         ids=[u[0] for u in UNUSABLE])
def test_cannot_run_exits_2(tmp_path: Path, body: str | None, event: str, extra: list[str],
                            message: str) -> None:
    action = tmp_path / "missing.py" if body is None else write_action(tmp_path, body)
    event_path = tmp_path / "event.json"
    event_path.write_text(event)
    args: list[str | Path] = [action, "--event", event_path]
    if "--trigger" not in extra:
        args += ["--trigger", "post-login"]
    proc = cli(*args, *extra)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert message in proc.stderr


def test_without_libseccomp_it_refuses_unless_insecure(tmp_path: Path, event_file: Path) -> None:
    # What the real binding raises on a machine without libseccomp.so.
    (tmp_path / "pyseccomp.py").write_text("raise RuntimeError('Unable to find libseccomp')\n")
    action = write_action(tmp_path, "api.id_token.set_custom_claim('k', 1)")
    args = ["-m", "runtime.cli", "run", str(action), "--trigger", "post-login",
            "--event", str(event_file)]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)}
    refused = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                             env=env, timeout=30, check=False)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "seccomp is unavailable: libseccomp: Unable to find libseccomp" in refused.stderr
    insecure = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                              env={**env, "ACTIONS_INSECURE_NO_SECCOMP": "1"}, timeout=30,
                              check=False)
    assert insecure.returncode == 0
    assert json.loads(insecure.stdout)["effects"] == [
        {"op": "id_token.set_custom_claim", "args": {"name": "k", "value": 1}}]
    assert "INSECURE: seccomp is unavailable" in insecure.stderr
