"""Namespaces that steer the flow: multifactor and validation.

api.redirect, api.authentication and api.transaction have their own modules.
"""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class Multifactor(Namespace):
    """post-login: Auth0's `enable(provider, {allowRememberBrowser, providerOptions})`;
    `provider_options` is for the duo provider."""

    __slots__ = ()
    _path = "multifactor"

    def enable(self, provider: str, allow_remember_browser: bool = False,
               provider_options: dict[str, Any] | None = None) -> None:
        with self._calling("enable"):
            self._record("enable", provider=provider, allow_remember_browser=allow_remember_browser,
                         provider_options=provider_options)


class Validation(Namespace):
    __slots__ = ()
    _path = "validation"

    def error(self, code: str, message: str) -> None:
        with self._calling("error"):
            self._record("error", code=code, message=message)

