"""`python -m bench.interpreters`: which CPython lets which interpreter-bug reproducer through.

Each reproducer is plain, unrestricted Python (what an action that escaped RestrictedPython
could run) and ends by printing `RESULT: THROUGH ...` or `RESULT: CLOSED ...`; a signal
death counts as through. Run with the interpreters to compare as arguments (default: the
pyenv versions on this machine). This is a measurement, not a test: bugs depend on builds.
"""
from __future__ import annotations

import glob
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DEFAULT = sorted(glob.glob("/root/.pyenv/versions/3.1[1-9]*/bin/python3"))


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def verdict(python: str, script: Path) -> tuple[str, str]:
    try:
        proc = subprocess.run([python, "-I", "-u", str(script)], capture_output=True, text=True,
                              timeout=20, preexec_fn=_limits, cwd=HERE, check=False)
    except subprocess.TimeoutExpired:
        return "through", "timeout"
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if proc.returncode < 0:
        return "through", signal.Signals(-proc.returncode).name
    return ("through" if "RESULT: THROUGH" in last else "closed"), last[:90]


def main(pythons: list[str]) -> None:
    scripts = sorted(p for p in HERE.glob("[0-9]*.py"))
    through = dict.fromkeys(pythons, 0)
    for script in scripts:
        for python in pythons:
            outcome, detail = verdict(python, script)
            through[python] += outcome == "through"
            version = os.path.basename(os.path.dirname(os.path.dirname(python))) or python
            print(f"{script.stem:42s} {version:8s} {outcome:8s} {detail}")
    for python, count in through.items():
        print(f"{python}: {count} of {len(scripts)} reproducers got through")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
