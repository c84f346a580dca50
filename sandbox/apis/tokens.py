"""`api.id_token` and `api.access_token`: custom claims and scopes of the issued tokens."""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class IdToken(Namespace):
    __slots__ = ()
    _path = "id_token"

    def set_custom_claim(self, name: str, value: Any) -> None:
        with self._calling("set_custom_claim"):
            self._record("set_custom_claim", name=name, value=value)


class ExchangeAccessToken(Namespace):
    """credentials-exchange: claims only (Auth0 offers no scope changes there)."""

    __slots__ = ()
    _path = "access_token"

    def set_custom_claim(self, name: str, value: Any) -> None:
        with self._calling("set_custom_claim"):
            self._record("set_custom_claim", name=name, value=value)


class AccessToken(ExchangeAccessToken):
    """post-login: claims and scopes."""

    __slots__ = ()

    def add_scope(self, scope: str) -> None:
        with self._calling("add_scope"):
            self._record("add_scope", scope=scope)

    def remove_scope(self, scope: str) -> None:
        with self._calling("remove_scope"):
            self._record("remove_scope", scope=scope)
