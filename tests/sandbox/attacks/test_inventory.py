"""Deny by default for callables written in Python: every one an action can reach is reviewed.

A C function sees its arguments through the C API; a Python one sees their classes, calls
their methods and may keep references (`Counter.copy(int)` returned the real `type`). This
test recomputes, programmatically, every Python-level function, method and property an
action can reach through the builtins, the module views, the classes they expose and the
objects those return, and the event/api objects, and fails on any entry nobody reviewed.
A new module member, a library upgrade or a new api method shows up here first.
"""
from __future__ import annotations

import collections
import hmac
import inspect
import types
import urllib.parse
import uuid
from typing import Any

from sandbox import api as api_module
from sandbox import event as event_module
from sandbox import fetch as fetch_module
from sandbox import guards, imports, ipaddress_view
from sandbox.limits import Limits
from tests.sandbox import test_api_saml

# Classes of objects that allowed functions return (so their bound methods are reachable).
RETURNED_CLASSES = {
    "urllib.parse.SplitResult": urllib.parse.SplitResult,
    "urllib.parse.ParseResult": urllib.parse.ParseResult,
    "hmac.HMAC": hmac.HMAC,
    "collections.Counter": collections.Counter,
    "uuid.UUID": uuid.UUID,
}
SANDBOX_CLASSES = {
    # What ipaddress's functions return: the sandbox's wrappers, never the stdlib's objects.
    "ipaddress.<address>": ipaddress_view.Address,
    "ipaddress.<network>": ipaddress_view.Network,
    "ipaddress.<interface>": ipaddress_view.Interface,
    **{f"api.{kind.__name__}": kind for layout in api_module.NAMESPACES.values()
       for _name, kind in layout},
    "api.cache": api_module.Cache,
    "event": event_module.EventView, "event.<map>": event_module.EventMapView,
    "event.secrets": event_module.SecretsView,
    "fetch.Response": fetch_module.Response, "fetch.Headers": fetch_module.Headers,
}


def _python_level(raw: Any) -> bool:
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    return isinstance(raw, (types.FunctionType, property))


def _class_members(prefix: str, cls: type) -> set[str]:
    found = set()
    for name in dir(cls):
        if name.startswith("_"):
            continue  # the attribute guard refuses every `_` name
        try:
            raw = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if _python_level(raw):
            found.add(f"{prefix}.{name}")
    return found


def _walk(prefix: str, obj: Any) -> set[str]:
    if isinstance(obj, type):
        return _class_members(prefix, obj)
    if isinstance(obj, (types.FunctionType, types.MethodType)):
        return {prefix}
    return set()


def inventory() -> set[str]:
    found: set[str] = set()
    views = {**imports._STATIC_VIEWS, "random": imports.random_view()}
    for module, view in views.items():
        for name in dir(view):
            found |= _walk(f"{module}.{name}", getattr(view, name))
    for name, obj in guards.restricted_builtins(Limits(), imports.import_hook()).items():
        found |= _walk(f"builtins.{name}", obj)
    for prefix, cls in {**RETURNED_CLASSES, **SANDBOX_CLASSES}.items():
        found |= _class_members(prefix, cls)
    return found


def _reviewed(reason: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, reason)


OWN_GUARD = "the sandbox's own guard or wrapper: exact types, no guest state kept"
OWN_CALLABLES = ("calls only methods and callables of the action's own objects (its own code "
                 "running its own code); keeps nothing past the call")
BUILTIN_ARGS = ("works on builtin values; the action cannot make subclasses of them, and "
                "special methods cannot be defined, so no guest code runs inside")
BOUND_ONLY = ("reachable only bound to an instance the library made (the attribute guard "
              "refuses taking it from the class), so `self` is always genuine")
IPADDRESS = ("the sandbox's ipaddress wrappers: exact-type arguments (str/int/bytes or its own "
             "wrappers) unwrapped before the stdlib sees them, results wrapped, counts capped")
API = "the sandbox's own api/event surface: exact-type checks, values deep-copied to plain data"
FETCH = ("the sandbox's own fetch surface (sandbox/fetch.py): arguments checked by exact type "
         "and copied to plain data before they leave; responses are plain data the worker sent")

REVIEWED: dict[str, str] = {
    **_reviewed(FETCH, "builtins.fetch", "fetch.Response.json", "fetch.Headers.get",
                "fetch.Headers.items", "fetch.Headers.keys", "fetch.Headers.values"),
    **_reviewed(OWN_GUARD, "builtins.__import__", "builtins.delattr", "builtins.getattr",
                "builtins.hasattr", "builtins.iter", "builtins.pow", "builtins.setattr",
                "builtins.sum", "builtins.map", "builtins.filter", "builtins.zip",
                "builtins.enumerate", "math.prod",
                "urllib.parse.urlsplit", "urllib.parse.urlparse", "urllib.parse.urljoin",
                *(f"itertools.{name}" for name in imports.MODULE_MEMBERS["itertools"])),
    **_reviewed(BUILTIN_ARGS,
                *(f"base64.{name}" for name in imports.MODULE_MEMBERS["base64"]),
                "re.compile", "re.escape", "re.findall", "re.finditer", "re.fullmatch",
                "re.match", "re.search", "re.split", "re.sub", "re.subn",
                "random.choice", "random.choices", "random.randint", "random.randrange",
                "random.sample", "random.shuffle", "random.uniform",
                "uuid.uuid3", "uuid.uuid4", "uuid.uuid5", "hmac.digest"),
    **_reviewed(OWN_CALLABLES, "json.dumps", "json.loads", "string.capwords", "hmac.new",
                "urllib.parse.parse_qs", "urllib.parse.parse_qsl", "urllib.parse.quote",
                "urllib.parse.quote_plus", "urllib.parse.unquote", "urllib.parse.unquote_plus",
                "urllib.parse.urlencode", "urllib.parse.urlunparse", "urllib.parse.urlunsplit"),
    **_reviewed(IPADDRESS,
                *(f"ipaddress.{name}" for name in ("ip_address", "ip_network", "ip_interface",
                                                   "collapse_addresses",
                                                   "summarize_address_range")),
                *(f"ipaddress.<network>.{name}" for name in (
                    "hosts", "subnets", "supernet", "overlaps", "subnet_of", "supernet_of",
                    "compare_networks", "address_exclude"))),
    **_reviewed(BOUND_ONLY,
                *(f"collections.Counter.{name}" for name in (
                    "copy", "elements", "fromkeys", "most_common", "subtract", "total",
                    "update")),
                *(f"uuid.UUID.{name}" for name in (
                    "bytes", "bytes_le", "clock_seq", "clock_seq_hi_variant", "clock_seq_low",
                    "fields", "hex", "node", "time", "time_hi_version", "time_low", "time_mid",
                    "urn", "variant", "version")),
                *(f"hmac.HMAC.{name}" for name in ("copy", "digest", "hexdigest", "name",
                                                    "update")),
                *(f"urllib.parse.{kind}.{name}" for kind in ("SplitResult", "ParseResult")
                  for name in ("encode", "geturl", "hostname", "password", "port", "username"))),
}


def test_every_python_level_callable_an_action_reaches_was_reviewed() -> None:
    found = inventory()
    api_entries = {name for name in found if name.startswith(("api.", "event"))}
    unreviewed = sorted(found - api_entries - set(REVIEWED))
    assert unreviewed == [], f"review these and add them to REVIEWED: {unreviewed}"
    # Entries that no longer exist are dropped from the table, so it stays the truth.
    stale = sorted(set(REVIEWED) - found)
    assert stale == [], f"no longer reachable, remove from REVIEWED: {stale}"


# Auth0's api.samlResponse setters, in snake_case (tests/sandbox/test_api_saml.py lists them).
SAML_SETTERS = test_api_saml.AUTH0_SETTERS


def test_the_api_surface_is_only_the_auth0_methods() -> None:
    found = {name for name in inventory() if name.startswith(("api.", "event"))}
    methods = {name.rsplit(".", 1)[1] for name in found}
    assert methods <= {"deny", "set_custom_claim", "add_scope", "remove_scope", "enable",
                       "send_user_to", "encode_token", "validate_token", "set_app_metadata",
                       "set_user_metadata", "error", "set_metadata", "challenge_with",
                       "challenge_with_any", "enroll_with", "enroll_with_any", "record_method",
                       "set_primary_user", "render", "revoke", "set_cookie_mode",
                       "set_expires_at", "set_idle_expires_at", "delete_metadata",
                       "evict_metadata", "set_result_url", *SAML_SETTERS, "get", "set",
                       "delete", "items", "keys", "values", "secrets"}, sorted(found)
    assert "api.AccessToken.add_scope" in found  # every trigger's namespace class is walked


def test_the_inventory_sees_what_it_claims_to() -> None:
    """The walk itself must find a known Python-level member, or the review proves nothing."""
    found = inventory()
    assert {"collections.Counter.copy", "json.dumps", "uuid.UUID.hex"} <= found
