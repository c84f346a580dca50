"""OS containment a sandbox child applies to itself before it reads its first job.

Defence in depth under RestrictedPython: if guest code ever escaped the language-level
guards it would still run as an unprivileged uid with no new privileges, no new files or
processes (rlimits), a bounded address space and a seccomp allow-list under which files,
sockets, fork/exec, ptrace and signals to other processes all fail with EPERM.
Pure OS calls (ctypes + libseccomp); no aiohttp, no redis.

Honest limits: seccomp filters syscalls, not the memory the child already has mapped (the
warm template's heap, secrets of earlier runs of the *same* tenant), and the allowed set
still exposes the kernel's code for those syscalls.
"""
from __future__ import annotations

import ctypes
import os
import resource
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sandbox import landlock

NOBODY = 65534

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2

# The reviewed allow-list: every syscall a contained child may make, and why it needs it.
# Found with strace over the sandbox suite; everything else (open*, socket*, connect, clone*,
# fork, execve*, ptrace, kill, tgkill, pidfd_*, setuid*, process_vm_*, bpf, mount, unshare,
# io_uring_*, userfaultfd, perf_event_open, keyctl, ...) answers EPERM. tests/worker/
# test_containment.py proves the refusals with unrestricted code.
ALLOWED_SYSCALLS: Mapping[str, str] = MappingProxyType({
    "read": "job frames from the worker's pipe (fd 3)",
    "write": "result frames to the pipe; /dev/null on fds 0-2",
    "readv": "CPython's buffered reads of the pipe",
    "writev": "CPython's buffered writes of the pipe",
    "pread64": "reads of already-open descriptors (none but the pipe and /dev/null remain)",
    "close": "descriptors the interpreter closes on its own",
    "lseek": "position queries CPython makes on its standard streams",
    "fstat": "CPython stats a descriptor before buffering it",
    "newfstatat": "fstat's newer form (glibc uses it with AT_EMPTY_PATH)",
    "mmap": "the allocator's large blocks (never PROT_EXEC: rule below)",
    "munmap": "returning large blocks",
    "mremap": "growing large blocks in place (realloc)",
    "mprotect": "glibc's heap arenas (never PROT_EXEC: rule below)",
    "brk": "the main heap",
    "madvise": "glibc returning freed pages (MADV_DONTNEED only: rule below)",
    "futex": "the GIL and glibc's locks",
    "sched_yield": "spin-lock back-off in glibc",
    "sched_getaffinity": "os.cpu_count() / sched_getaffinity, read-only",
    "rt_sigaction": "the polite SIGALRM handler",
    "rt_sigprocmask": "signal masking around the handler",
    "rt_sigreturn": "returning from a signal handler",
    "sigaltstack": "faulthandler's alternate stack",
    "restart_syscall": "resuming a read interrupted by SIGALRM",
    "setitimer": "arming the polite alarm",
    "getitimer": "reading the alarm",
    "alarm": "the alarm's older form",
    "clock_gettime": "time.monotonic / perf_counter",
    "clock_getres": "time.get_clock_info",
    "gettimeofday": "time.time on old glibc",
    "time": "time(2) on old glibc",
    "nanosleep": "time.sleep",
    "clock_nanosleep": "time.sleep on newer glibc",
    "getrusage": "resource.getrusage (run accounting)",
    "times": "os.times",
    "getrandom": "random / uuid4 / hash seeds",
    "getpid": "os.getpid (frames name their process)",
    "gettid": "glibc's thread id (locks, raise)",
    "getppid": "the parent-death check",
    "getuid": "os.getuid",
    "geteuid": "os.geteuid",
    "getgid": "os.getgid",
    "getegid": "os.getegid",
    "exit": "thread exit",
    "exit_group": "process exit",
})
# mmap/mprotect may never make memory executable: injected machine code would need it.
_NO_EXEC_SYSCALLS = ("mmap", "mprotect")
PROT_EXEC = 0x4
MADV_DONTNEED = 4


class ContainmentError(OSError):
    """Raised when a containment layer cannot be applied; `layer` names which one."""

    def __init__(self, layer: str, message: str) -> None:
        super().__init__(f"{layer}: {message}")
        self.layer = layer


@dataclass(frozen=True)
class ContainmentReport:
    """What the kernel says about the contained process, read after the last layer."""

    pid: int
    uid: int
    gid: int
    no_new_privs: int
    seccomp_mode: int  # 2 = filter loaded, 0 = none (insecure mode)
    address_space_limit_bytes: int
    cpu_limit_s: int  # RLIMIT_CPU: the kernel kills the child past this much CPU in its life
    landlock_abi: int  # 0: the kernel has no Landlock, seccomp and the uid change stand alone
    chrooted: bool  # its root is an empty, deleted directory (needs a root worker)

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, arg: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise ContainmentError("prctl", f"option {option}: {os.strerror(err)}")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class SeccompProgram:
    """A compiled BPF filter. Compiling takes libseccomp ~0.4 ms, so the template compiles once
    and each child only hands the finished program to the kernel."""

    def __init__(self, bpf: bytes) -> None:
        if not bpf or len(bpf) % 8:
            raise ContainmentError("seccomp", "libseccomp exported an empty or torn program")
        self._buffer = ctypes.create_string_buffer(bpf, len(bpf))
        self._prog = _SockFprog(len(bpf) // 8, ctypes.addressof(self._buffer))
        self.instructions = len(bpf) // 8

    def load(self) -> None:
        """Install the filter on the calling thread; needs no_new_privs (set just before)."""
        if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0) != 0:
            raise ContainmentError("seccomp", os.strerror(ctypes.get_errno()))


def compile_filter() -> bytes:
    """The allow-list filter as BPF, from libseccomp.

    Called in the worker, not the template: merely loading libseccomp into the template
    makes every fork ~0.5 ms slower (more mappings to copy).
    """
    import pyseccomp as seccomp

    flt = seccomp.SyscallFilter(seccomp.ERRNO(1))  # EPERM
    for name in sorted(ALLOWED_SYSCALLS):
        conditions = []
        if name in _NO_EXEC_SYSCALLS:
            conditions = [seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, 0)]
        elif name == "madvise":
            conditions = [seccomp.Arg(2, seccomp.EQ, MADV_DONTNEED)]
        try:
            flt.add_rule(seccomp.ALLOW, name, *conditions)
        except (OSError, ValueError):
            continue  # not a syscall on this architecture (e.g. `time` on arm64)
    # The child's own limits may be read (CPython asks at start-up) but never raised.
    flt.add_rule(seccomp.ALLOW, "prlimit64", seccomp.Arg(0, seccomp.EQ, 0),
                 seccomp.Arg(2, seccomp.EQ, 0))
    read_fd, write_fd = os.pipe()
    try:
        with open(write_fd, "wb", closefd=True) as sink:
            flt.export_bpf(sink)
        with open(read_fd, "rb", closefd=False) as source:
            return source.read()
    finally:
        os.close(read_fd)


def build_filter() -> SeccompProgram:
    return SeccompProgram(compile_filter())


def _address_space_bytes() -> int:
    fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return int(os.read(fd, 256).split()[0]) * resource.getpagesize()
    finally:
        os.close(fd)


def _drop_identity(uid: int, gid: int) -> None:
    if os.geteuid() != 0:
        return  # not root: nothing to drop to; seccomp still forbids setuid and kill
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as exc:
        raise ContainmentError("setuid", str(exc)) from None


def empty_directory() -> int:
    """A descriptor of an empty directory that is already deleted: nothing can ever be created
    in it, and nothing is left behind however the process ends. `fchdir` to it before fork."""
    path = tempfile.mkdtemp(prefix="actions-empty-root-")
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    finally:
        os.rmdir(path)


def _chroot_to_cwd() -> bool:
    if os.geteuid() != 0:
        return False  # unprivileged: Landlock and seccomp still refuse every open
    try:
        os.chroot(".")
        os.chdir("/")
    except OSError as exc:
        raise ContainmentError("chroot", str(exc)) from None
    return True


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False  # e.g. the descriptor listdir itself used
    return True


def _status_fields(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def contain(
    *,
    memory_limit_bytes: int,
    seccomp_filter: SeccompProgram | None,
    cpu_limit_s: int = 600,
    chroot_to_cwd: bool = False,
    parent_pid: int | None = None,
    uid: int = NOBODY,
    gid: int = NOBODY,
) -> ContainmentReport:
    """Apply every layer to the calling process, in an order that keeps each one effective.

    `seccomp_filter=None` skips seccomp (the loudly logged insecure mode). With `parent_pid`
    the process gets SIGKILL when that parent dies (and exits now if it already has). With
    `chroot_to_cwd` (and root) the current directory, an empty deleted one from
    `empty_directory()`, becomes `/`: seccomp must allow `newfstatat` (glibc's fstat), and
    Landlock does not cover stat, so without it a child could tell which paths exist.
    """
    address_space = _address_space_bytes() + memory_limit_bytes  # before seccomp forbids open
    # Opened now, read after seccomp: the kernel's own word on the final state.
    status_fd = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
    highest_fd = max(fd for fd in map(int, os.listdir("/proc/self/fd")) if _is_open(fd))
    chrooted = _chroot_to_cwd() if chroot_to_cwd else False
    _drop_identity(uid, gid)
    # After the uid change: the kernel resets dumpable and the parent-death signal on it.
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)
    if parent_pid is not None:
        prctl(PR_SET_PDEATHSIG, 9)
        if os.getppid() != parent_pid:
            os._exit(1)
    try:
        landlock_abi = landlock.deny_everything()
    except OSError as exc:
        raise ContainmentError("landlock", str(exc)) from None
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest_fd + 1, highest_fd + 1))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        # SIGXCPU at the soft limit (a crash the worker reports), SIGKILL a second later.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit_s, cpu_limit_s + 1))
    except (OSError, ValueError) as exc:
        raise ContainmentError("rlimit", str(exc)) from None
    if seccomp_filter is not None:
        seccomp_filter.load()
    try:
        status = _status_fields(os.read(status_fd, 8192).decode("ascii", "replace"))
    finally:
        os.close(status_fd)  # only the pipe and /dev/null stay open
    return ContainmentReport(
        pid=os.getpid(),
        uid=int(status["Uid"].split()[1]),
        gid=int(status["Gid"].split()[1]),
        no_new_privs=int(status.get("NoNewPrivs", "0")),
        seccomp_mode=int(status.get("Seccomp", "0")),
        address_space_limit_bytes=address_space,
        cpu_limit_s=resource.getrlimit(resource.RLIMIT_CPU)[0],
        landlock_abi=landlock_abi,
        chrooted=chrooted,
    )


def seccomp_available() -> bool:
    """Whether libseccomp can build the filter here (the kernel's say comes per child)."""
    try:
        build_filter()
    except (OSError, ImportError, RuntimeError, AttributeError):  # pyseccomp: RuntimeError
        return False
    return True
