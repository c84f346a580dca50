"""The `api` object per trigger: exactly the namespaces Auth0 offers there, nothing else."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sandbox.apis.access import ExchangeAccess, LoginAccess, RegistrationAccess
from sandbox.apis.authentication import Authentication, LoginAuthentication
from sandbox.apis.cache import Cache
from sandbox.apis.flow import Multifactor, Validation
from sandbox.apis.namespace import Namespace
from sandbox.apis.prompt import Prompt
from sandbox.apis.redirect import Redirect
from sandbox.apis.saml import SamlResponse
from sandbox.apis.session import RefreshToken, Session
from sandbox.apis.tokens import AccessToken, ExchangeAccessToken, IdToken
from sandbox.apis.transaction import ResetTransaction, Transaction
from sandbox.apis.user import User
from sandbox.effects import EffectRecorder
from sandbox.limits import Limits

# trigger id -> (attribute, namespace class); `cache` is added to every trigger.
NAMESPACES: Mapping[str, tuple[tuple[str, type[Namespace]], ...]] = MappingProxyType({
    "post-login": (
        ("access", LoginAccess), ("id_token", IdToken), ("access_token", AccessToken),
        ("authentication", LoginAuthentication), ("multifactor", Multifactor),
        ("prompt", Prompt), ("redirect", Redirect), ("refresh_token", RefreshToken),
        ("saml_response", SamlResponse), ("session", Session), ("user", User),
        ("validation", Validation), ("transaction", Transaction),
    ),
    "credentials-exchange": (("access", ExchangeAccess), ("access_token", ExchangeAccessToken)),
    "pre-user-registration": (
        ("access", RegistrationAccess), ("user", User), ("validation", Validation),
    ),
    "post-user-registration": (),
    "post-change-password": (),
    "send-phone-message": (),
    "password-reset-post-challenge": (
        ("access", LoginAccess), ("redirect", Redirect), ("authentication", Authentication),
        ("prompt", Prompt), ("transaction", ResetTransaction),
    ),
})


class Api:
    """The guest's `api`. Namespaces live in a private map; a namespace another trigger has is
    simply absent (AttributeError naming the trigger), and nothing can be assigned."""

    __slots__ = ("_namespaces", "_trigger_id")
    _namespaces: Mapping[str, Namespace]
    _trigger_id: str

    def __init__(self, trigger_id: str, namespaces: Mapping[str, Namespace]) -> None:
        object.__setattr__(self, "_trigger_id", trigger_id)
        object.__setattr__(self, "_namespaces", MappingProxyType(dict(namespaces)))

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._namespaces[name]
        except KeyError:
            raise AttributeError(
                f"api.{name} is not available in the {self._trigger_id!r} trigger") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("api is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("api is read-only")

    def __dir__(self) -> list[str]:
        return sorted(self._namespaces)

    def __repr__(self) -> str:
        return f"<api for {self._trigger_id}: {', '.join(sorted(self._namespaces))}>"


def build_api(trigger_id: str, recorder: EffectRecorder, cache: Mapping[str, Any],
              limits: Limits, event: Mapping[str, Any] | None = None) -> Api:
    """The api for one run. `cache` maps key -> {"value", "expires_at"} (the action's entries);
    `event` is the run's plain event (api.redirect signs and reads tokens with it)."""
    try:
        layout = NAMESPACES[trigger_id]
    except KeyError:
        raise ValueError(f"unknown trigger {trigger_id!r}") from None
    namespaces: dict[str, Namespace] = {
        name: Redirect(recorder, limits, event) if kind is Redirect else kind(recorder, limits)
        for name, kind in layout}
    namespaces["cache"] = Cache(recorder, limits, cache)
    return Api(trigger_id, namespaces)
