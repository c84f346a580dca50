"""`api.session` and `api.refresh_token`: revoke, shorten the lifetime, or tag the current one.

Times are absolute milliseconds since the Unix epoch, as in Auth0; when set more than once,
Auth0 uses the earliest. Metadata values are str (None deletes the key).
"""
from __future__ import annotations

from sandbox.apis.namespace import Namespace


class _Lifetime(Namespace):
    __slots__ = ()

    def set_expires_at(self, absolute: int) -> None:
        with self._calling("set_expires_at"):
            self._record("set_expires_at", absolute=absolute)

    def set_idle_expires_at(self, inactivity: int) -> None:
        with self._calling("set_idle_expires_at"):
            self._record("set_idle_expires_at", inactivity=inactivity)

    def set_metadata(self, key: str, value: str | None) -> None:
        with self._calling("set_metadata"):
            self._record("set_metadata", key=key, value=value)

    def delete_metadata(self, key: str) -> None:
        with self._calling("delete_metadata"):
            self._record("delete_metadata", key=key)

    def evict_metadata(self) -> None:
        with self._calling("evict_metadata"):
            self._record("evict_metadata")


class Session(_Lifetime):
    """post-login: `revoke(reason, preserve_refresh_tokens=False)` denies the login too."""

    __slots__ = ()
    _path = "session"

    def revoke(self, reason: str, preserve_refresh_tokens: bool = False) -> None:
        with self._calling("revoke"):
            self._record("revoke", reason=reason, preserve_refresh_tokens=preserve_refresh_tokens)

    def set_cookie_mode(self, mode: str) -> None:
        """`"persistent"` or `"non-persistent"` (Auth0 early access)."""
        with self._calling("set_cookie_mode"):
            self._record("set_cookie_mode", mode=mode)


class RefreshToken(_Lifetime):
    """post-login: `revoke(reason)` denies the refresh token exchange and revokes the token."""

    __slots__ = ()
    _path = "refresh_token"

    def revoke(self, reason: str) -> None:
        with self._calling("revoke"):
            self._record("revoke", reason=reason)
