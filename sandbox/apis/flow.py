"""Namespaces that steer the flow: multifactor, redirect, validation, transaction, authentication."""
from __future__ import annotations

from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.apis import checks
from sandbox.apis.namespace import Namespace


class Multifactor(Namespace):
    __slots__ = ()
    _path = "multifactor"

    def enable(self, provider: str, allow_remember_browser: bool = False) -> None:
        with self._calling("enable"):
            self._record("enable", provider=checks.choice(provider, "provider", checks.MFA_PROVIDERS),
                         allow_remember_browser=checks.flag(allow_remember_browser,
                                                            "allow_remember_browser"))


class Redirect(Namespace):
    """Auth0's encode_token/validate_token are not offered: actions hold no signing keys here."""

    __slots__ = ()
    _path = "redirect"

    def send_user_to(self, url: str, query: dict[str, Any] | None = None) -> None:
        with self._calling("send_user_to"):
            self._record("send_user_to", url=checks.url(url),
                         query=self._plain(checks.query(query)))


class Validation(Namespace):
    __slots__ = ()
    _path = "validation"

    def error(self, code: str, message: str) -> None:
        with self._calling("error"):
            self._record("error", code=checks.name(code, "code"),
                         message=checks.text(message, "message"))


class Transaction(Namespace):
    __slots__ = ()
    _path = "transaction"

    def set_metadata(self, name: str, value: Any) -> None:
        with self._calling("set_metadata"):
            self._record("set_metadata", name=checks.name(name, "metadata name"),
                         value=self._plain(value))


def _factor(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise ApiUsageError("factor must be a dict like {'type': 'otp'}")
    extra = set(value) - {"type", "options"}
    if extra:
        raise ApiUsageError(f"factor has unknown keys: {', '.join(sorted(map(str, extra)))[:120]}")
    factor: dict[str, Any] = {"type": checks.choice(value.get("type"), "factor type",
                                                    checks.CHALLENGE_FACTORS)}
    if "options" in value:
        if type(value["options"]) is not dict:
            raise ApiUsageError("factor options must be a dict")
        factor["options"] = value["options"]
    return factor


class Authentication(Namespace):
    """password-reset-post-challenge: require one more factor before the reset goes on."""

    __slots__ = ()
    _path = "authentication"

    def challenge_with(self, factor: dict[str, Any]) -> None:
        with self._calling("challenge_with"):
            self._record("challenge_with", factor=self._plain(_factor(factor)))
