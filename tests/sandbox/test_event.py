"""The event view: both access styles, read-only, secrets, nested lists, and guest-side access."""
from __future__ import annotations

from typing import Any

import pytest
from RestrictedPython import compile_restricted, safe_globals
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr

from sandbox.api import build_api
from sandbox.effects import EffectRecorder
from sandbox.event import EventMapView, EventView, SecretsView
from sandbox.limits import Limits

EVENT = {
    "user": {
        "email": "ada@example.com",
        "email_verified": True,
        "app_metadata": {"plan": "gold", "tags": ["a", {"deep": [1, 2]}]},
        "identities": [{"provider": "auth0", "user_id": "123"}],
    },
    "authorization": {"roles": ["admin", "ops"]},
    "tenant": {"id": "acme"},
    "secrets": {"SMUGGLED": "from the event file"},
}
SECRETS = {"API_KEY": "k-123", "items": "shadowed?"}


@pytest.fixture
def event() -> EventView:
    return EventView(EVENT, SECRETS)


@pytest.mark.parametrize(("read", "expected"), [
    (lambda e: e.user.email, "ada@example.com"),
    (lambda e: e["user"]["email"], "ada@example.com"),
    (lambda e: e.user["email_verified"], True),
    (lambda e: e["tenant"].id, "acme"),
    (lambda e: e.authorization.roles, ("admin", "ops")),
    (lambda e: e.user.app_metadata.tags[1].deep, (1, 2)),
    (lambda e: e.user.identities[0]["provider"], "auth0"),
    (lambda e: e.user.missing, None),
    (lambda e: e.nothing, None),
    (lambda e: e.user.get("missing", "dflt"), "dflt"),
    (lambda e: e.user.get("email"), "ada@example.com"),
    (lambda e: "email" in e.user, True),
    (lambda e: "nope" in e.user, False),
    (lambda e: len(e.user), 4),
    (lambda e: list(e.user), ["email", "email_verified", "app_metadata", "identities"]),
    (lambda e: e.keys(), ("user", "authorization", "tenant")),
    (lambda e: e.tenant.values(), ("acme",)),
    (lambda e: e.tenant.items(), (("id", "acme"),)),
    (lambda e: e.secrets.API_KEY, "k-123"),
    (lambda e: e.secrets["API_KEY"], "k-123"),
    (lambda e: e["secrets"].API_KEY, "k-123"),
    (lambda e: e.get("secrets").API_KEY, "k-123"),
    (lambda e: e.secrets.MISSING, None),
    (lambda e: e.secrets.get("MISSING", "d"), "d"),
    (lambda e: e.secrets.SMUGGLED, None),
    (lambda e: ("API_KEY" in e.secrets, "secrets" in e, e.keys().count("secrets")),
     (True, True, 0)),
])
def test_reads(event: EventView, read: Any, expected: Any) -> None:
    assert read(event) == expected


def test_missing_item_raises_key_error(event: EventView) -> None:
    with pytest.raises(KeyError):
        event["user"]["missing"]
    with pytest.raises(KeyError):
        event.secrets["MISSING"]


def test_nested_values_are_views_and_tuples(event: EventView) -> None:
    tags = event.user.app_metadata.tags
    assert type(tags) is tuple
    assert type(tags[1]) is EventMapView
    assert type(event.user.identities[0]) is EventMapView
    assert type(event.secrets) is SecretsView


@pytest.mark.parametrize("write", [
    lambda e: setattr(e, "user", None),
    lambda e: setattr(e.user, "email", "x"),
    lambda e: e.user.__setitem__("email", "x"),
    lambda e: e.__delitem__("user"),
    lambda e: delattr(e.user, "email"),
    lambda e: setattr(e.secrets, "API_KEY", "x"),
    lambda e: e.secrets.__setitem__("API_KEY", "x"),
])
def test_writes_raise_type_error(event: EventView, write: Any) -> None:
    with pytest.raises(TypeError, match="event is read-only"):
        write(event)
    assert event.user.email == "ada@example.com" and EVENT["user"]["email"] == "ada@example.com"


def test_tuples_cannot_be_mutated(event: EventView) -> None:
    with pytest.raises(AttributeError):
        event.authorization.roles.append("root")  # type: ignore[attr-defined]


def test_repr_shows_data_but_never_secret_values(event: EventView) -> None:
    assert repr(event.tenant) == "{'id': 'acme'}"
    assert repr(event.secrets) == "<secrets: API_KEY, items>"
    assert "k-123" not in repr(event) and "SMUGGLED" not in repr(event)


def _run_guest(source: str, **names: Any) -> dict[str, Any]:
    """Run guest code under RestrictedPython's stock guards (the ones that refuse "_" names)."""
    code = compile_restricted(source, "<guest>", "exec")
    scope: dict[str, Any] = dict(safe_globals)
    scope.update(_getattr_=safer_getattr, _getitem_=lambda obj, key: obj[key], _getiter_=iter,
                 _write_=full_write_guard, _iter_unpack_sequence_=guarded_iter_unpack_sequence,
                 getattr=safer_getattr, **names)
    exec(code, scope)
    return scope


def test_guest_reads_event_and_calls_api_through_restricted_python(event: EventView) -> None:
    limits = Limits()
    recorder = EffectRecorder(limits, "post-login")
    api = build_api("post-login", recorder, {}, limits)
    scope = _run_guest(
        "roles = [r for r in event.authorization.roles]\n"
        "keys = [k for k, v in event.user.items()]\n"
        "api.id_token.set_custom_claim('https://my-app.example.com/roles', event.authorization.roles)\n"
        "api.access_token.set_custom_claim('k', event['secrets']['API_KEY'])\n"
        "try:\n"
        "    event.user.email = 'x'\n"
        "    wrote = True\n"
        "except TypeError:\n"
        "    wrote = False\n",
        event=event, api=api)
    assert scope["roles"] == ["admin", "ops"] and scope["wrote"] is False
    assert scope["keys"] == ["email", "email_verified", "app_metadata", "identities"]
    assert recorder.effects == [
        {"op": "id_token.set_custom_claim",
         "args": {"name": "https://my-app.example.com/roles", "value": ["admin", "ops"]}},
        {"op": "access_token.set_custom_claim", "args": {"name": "k", "value": "k-123"}},
    ]


@pytest.mark.parametrize("path", [
    "event._data", "event.secrets._secrets", "event._secrets_view", "api._namespaces",
    "api.cache._entries", "api.access._recorder", "api.user._limits", "api.access.deny.__self__",
])
def test_guest_cannot_reach_internal_state(path: str) -> None:
    obj, *middle, last = path.split(".")
    target = obj + "".join(f".{m}" for m in middle)
    limits = Limits()
    api = build_api("post-login", EffectRecorder(limits, "post-login"), {}, limits)
    with pytest.raises(AttributeError, match='starts with "_"'):
        _run_guest(f"x = getattr({target}, '{last}')\n", event=EventView({}, {"S": "v"}), api=api)
