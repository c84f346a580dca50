"""The read-only event an action receives: `event.user.email` and `event["user"]["email"]` alike."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_READ_ONLY = "event is read-only"


def _wrap(value: Any) -> Any:
    """Nested maps become views and lists become tuples, lazily, so no guest can mutate the event."""
    if isinstance(value, Mapping):
        return EventMapView(value)
    if isinstance(value, (list, tuple)):
        return tuple(_wrap(item) for item in value)
    return value


class _ReadOnly:
    """Refuses every write; subclasses keep their state in underscore slots the guest cannot name."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(_READ_ONLY)

    def __delattr__(self, name: str) -> None:
        raise TypeError(_READ_ONLY)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(_READ_ONLY)

    def __delitem__(self, key: Any) -> None:
        raise TypeError(_READ_ONLY)


class EventMapView(_ReadOnly):
    """A read-only map. A missing attribute reads as None (JS `undefined`); a missing item raises."""

    __slots__ = ("_data",)
    _data: Mapping[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed. Dunder probes (copy, pickle) must not see data.
        if name.startswith("_"):
            raise AttributeError(name)
        return _wrap(self._data.get(name))

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def get(self, key: str, default: Any = None) -> Any:
        return _wrap(self._data[key]) if key in self._data else default

    def keys(self) -> tuple[str, ...]:
        return tuple(self._data)

    def values(self) -> tuple[Any, ...]:
        return tuple(_wrap(v) for v in self._data.values())

    def items(self) -> tuple[tuple[str, Any], ...]:
        return tuple((k, _wrap(v)) for k, v in self._data.items())

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._data))

    def __repr__(self) -> str:
        # Plain-data repr so print(event.user) is useful in the action's logs.
        return repr(self._data)


_MAPPING_METHODS = frozenset({"keys", "values", "items", "copy", "update", "pop", "popitem",
                              "setdefault", "clear", "fromkeys"})


class SecretsView(_ReadOnly):
    """The action's secrets by name; deliberately neither iterable nor copyable into an effect."""

    __slots__ = ("_secrets",)
    _secrets: dict[str, str]

    def __init__(self, secrets: Mapping[str, str]) -> None:
        object.__setattr__(self, "_secrets", dict(secrets))

    def __getattr__(self, name: str) -> str | None:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._secrets:
            return self._secrets[name]
        if name in _MAPPING_METHODS:  # `.keys` used to be None while hasattr(.., "items") held
            raise AttributeError(f"event.secrets has no {name}(): read each secret by its name")
        return None  # an unset secret, as in Auth0 (undefined there)

    def __getitem__(self, name: str) -> str:
        return self._secrets[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._secrets.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._secrets

    def __repr__(self) -> str:
        # Names only: a printed event must never put secret values into the logs.
        return f"<secrets: {', '.join(sorted(self._secrets))}>"


def _is_secrets(key: object) -> bool:
    # An exact str: a guest object's __eq__ must not get to answer (or see the name).
    return type(key) is str and key == "secrets"


class EventView(EventMapView):
    """The top-level event: an event map plus `secrets` (not among keys(), len() or iteration)."""

    __slots__ = ("_secrets_view",)
    _secrets_view: SecretsView

    def __init__(self, event: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        # A "secrets" key in the event data would be a second, stale source of truth: drop it.
        super().__init__({k: v for k, v in event.items() if k != "secrets"})
        object.__setattr__(self, "_secrets_view", SecretsView(secrets))

    @property
    def secrets(self) -> SecretsView:
        return self._secrets_view

    def __getitem__(self, key: str) -> Any:
        if _is_secrets(key):
            return self._secrets_view
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if _is_secrets(key):
            return self._secrets_view
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        return _is_secrets(key) or super().__contains__(key)


def unwrap(value: EventMapView) -> Mapping[str, Any]:
    """The map behind a view, for the effect recorder to deep-copy (never handed to the guest)."""
    return value._data
