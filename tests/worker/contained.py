"""Test-only entry: contain this process exactly as a sandbox child does, then run raw Python.

This plays a RestrictedPython bypass: the snippet (argv[1]) is ordinary, unrestricted Python.
Prints one JSON line: the kernel's containment report and the snippet's result or exception.
stdout must be a pipe (RLIMIT_FSIZE is 0: writes to a regular file would raise SIGXFSZ).
"""
from __future__ import annotations

# Everything a snippet uses is imported first: the filter forbids open(), so no later import.
import ctypes
import json
import mmap
import os
import resource
import signal
import socket
import subprocess
import sys

from sandbox import containment
from sandbox.limits import Limits

libc = ctypes.CDLL(None, use_errno=True)
_ = (mmap, resource, signal, socket, subprocess)


def main() -> None:
    snippet = sys.argv[1]
    # `--no-seccomp` plays a mistake in the syscall table: what holds without it?
    program = None if sys.argv[2:] == ["--no-seccomp"] else containment.build_filter()
    os.fchdir(containment.empty_directory())
    report = containment.contain(memory_limit_bytes=Limits().memory_limit_bytes, chroot_to_cwd=True,
                                 seccomp_filter=program, parent_pid=os.getppid())
    namespace = {"libc": libc, "ctypes": ctypes, "os": os, "mmap": mmap, "resource": resource,
                 "socket": socket}
    pid = os.getpid()
    try:
        exec(snippet, namespace)
        result = f"ok: {namespace.get('result')!r}"
    except BaseException as exc:
        result = f"{type(exc).__name__}: {exc}"
    if os.getpid() != pid:  # a fork that should have failed did not: the child must not talk
        os._exit(0)
    os.write(1, (json.dumps({"report": report.to_dict(), "result": result}) + "\n").encode())


if __name__ == "__main__":
    main()
