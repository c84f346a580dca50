"""Landlock: a kernel ruleset with no filesystem (and, where the ABI has them, no TCP, abstract
unix socket or signal) rights, under seccomp, so that one mistake in the syscall filter alone
does not open the filesystem or the network to a child. Pure ctypes; unprivileged."""
from __future__ import annotations

import ctypes
import os

_SYS_CREATE_RULESET = 444  # x86_64 and arm64 share the generic syscall numbers here
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
# Every filesystem right each ABI knows (ABI 1: 13 rights, 2: +REFER, 3: +TRUNCATE, 5: +IOCTL_DEV).
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_ALL_FS_RIGHTS = (1 << 16) - 1
_NET_BIND_CONNECT_TCP = 0b11  # ABI 4
_SCOPE_ABSTRACT_UNIX_AND_SIGNAL = 0b11  # ABI 6

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def abi_version() -> int:
    """The kernel's Landlock ABI, 0 when Landlock is absent or disabled."""
    version = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, int(version))


def deny_everything() -> int:
    """Restrict the calling process (needs no_new_privs); returns the ABI applied, 0 if none.

    Must run while a descriptor is still free (the ruleset takes one for a moment).
    """
    abi = abi_version()
    if abi == 0:
        return 0
    attr = _RulesetAttr(_FS_RIGHTS_BY_ABI.get(abi, _ALL_FS_RIGHTS),
                        _NET_BIND_CONNECT_TCP if abi >= 4 else 0,
                        _SCOPE_ABSTRACT_UNIX_AND_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    fd = _libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                       ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        if _libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(fd)
    return abi
