"""`api.access`: deny the transaction; its arguments differ per trigger, as in Auth0."""
from __future__ import annotations

from sandbox.apis.namespace import Namespace


class LoginAccess(Namespace):
    """post-login and password-reset-post-challenge: `deny(reason)`."""

    __slots__ = ()
    _path = "access"

    def deny(self, reason: str) -> None:
        with self._calling("deny"):
            self._record("deny", reason=reason)


class ExchangeAccess(Namespace):
    """credentials-exchange: `deny(code, reason)` with an OAuth2 error code."""

    __slots__ = ()
    _path = "access"

    def deny(self, code: str, reason: str) -> None:
        with self._calling("deny"):
            self._record("deny", code=code, reason=reason)


class RegistrationAccess(Namespace):
    """pre-user-registration: `deny(reason, user_message=None)`; user_message is shown to the user."""

    __slots__ = ()
    _path = "access"

    def deny(self, reason: str, user_message: str | None = None) -> None:
        with self._calling("deny"):
            self._record("deny", reason=reason, user_message=user_message)
