"""`actions-runtime run --allow-host`: fetch() from a local run, under the service's checks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.remote import Remote, RemoteThread

ROOT = Path(__file__).resolve().parents[2]
ACTION = ("def on_execute_post_login(event, api):\n"
          "    r = fetch(event.secrets.URL + '/echo')\n"
          "    api.id_token.set_custom_claim('https://a.example/method', r.json()['method'])\n")


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    thread = RemoteThread()
    yield thread.start()
    thread.stop()


def cli(tmp_path: Path, remote: Remote, *extra: str, loopback: bool = True) -> tuple[int, dict]:
    action, event = tmp_path / "action.py", tmp_path / "event.json"
    action.write_text(ACTION)
    event.write_text(json.dumps({"user": {"user_id": "u1"}}))
    env = {**os.environ, "ACTIONS_EGRESS_ALLOW_LOOPBACK": "1" if loopback else "0"}
    proc = subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(action), "--trigger",
                           "post-login", "--event", str(event), "--secret", f"URL={remote.url}",
                           *extra], capture_output=True, text=True, timeout=30, cwd=ROOT,
                          env=env, check=False)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {"stderr": proc.stderr}


def test_an_allowed_host_is_fetched(tmp_path: Path, remote: Remote) -> None:
    code, result = cli(tmp_path, remote, "--allow-host", remote.url)
    assert code == 0, result
    assert result["effects"] == [{"op": "id_token.set_custom_claim",
                                  "args": {"name": "https://a.example/method", "value": "GET"}}]


@pytest.mark.parametrize(("extra", "loopback", "reason"), [
    ((), True, "host_not_allowed"),
    (("--allow-host", "http://127.0.0.1:1"), True, "host_not_allowed"),
    (("--allow-host", "{url}"), False, "address_not_allowed"),
])
def test_everything_else_is_refused(tmp_path: Path, remote: Remote, extra: tuple[str, ...],
                                    loopback: bool, reason: str) -> None:
    code, result = cli(tmp_path, remote, *(e.replace("{url}", remote.url) for e in extra),
                       loopback=loopback)
    assert code == 1
    assert result["error"]["type"] == "FetchError"
    assert result["error"]["message"].endswith(f"({reason})")


def test_a_bad_entry_is_refused_before_running(tmp_path: Path, remote: Remote) -> None:
    code, result = cli(tmp_path, remote, "--allow-host", "ftp://x.example")
    assert code == 2
    assert "--allow-host 'ftp://x.example': the scheme must be https or http" in result["stderr"]
