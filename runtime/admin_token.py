"""The admin token: from ACTIONS_ADMIN_TOKEN, or generated once and kept in var/admin-token."""
from __future__ import annotations

import dataclasses
import os
import secrets

from runtime.settings import Settings


def ensure_admin_token(settings: Settings) -> tuple[Settings, bool]:
    """Settings with an admin token, and whether it was generated just now (print it once)."""
    if settings.admin_token:
        return settings, False
    path = settings.var_dir / "admin-token"
    if path.exists():
        return dataclasses.replace(settings, admin_token=path.read_text().strip()), False
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    token = "ara_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return dataclasses.replace(settings, admin_token=token), True
