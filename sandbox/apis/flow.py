"""Namespaces that steer the flow: multifactor, validation, transaction, authentication.

api.redirect has its own module (sandbox/apis/redirect.py).
"""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class Multifactor(Namespace):
    __slots__ = ()
    _path = "multifactor"

    def enable(self, provider: str, allow_remember_browser: bool = False) -> None:
        with self._calling("enable"):
            self._record("enable", provider=provider, allow_remember_browser=allow_remember_browser)


class Validation(Namespace):
    __slots__ = ()
    _path = "validation"

    def error(self, code: str, message: str) -> None:
        with self._calling("error"):
            self._record("error", code=code, message=message)


class Transaction(Namespace):
    __slots__ = ()
    _path = "transaction"

    def set_metadata(self, name: str, value: Any) -> None:
        with self._calling("set_metadata"):
            self._record("set_metadata", name=name, value=value)


class Authentication(Namespace):
    """password-reset-post-challenge: require one more factor before the reset goes on."""

    __slots__ = ()
    _path = "authentication"

    def challenge_with(self, factor: dict[str, Any]) -> None:
        with self._calling("challenge_with"):
            self._record("challenge_with", factor=factor)
