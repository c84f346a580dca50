"""The base of every api namespace: immutable, underscore-only state, refusals named after the call."""
from __future__ import annotations

from types import TracebackType
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.effects import EffectRecorder
from sandbox.limits import Limits


class _Refusals:
    """Re-raises a validator's ApiUsageError as `api.<namespace>.<method>: <problem>`."""

    __slots__ = ("method",)

    def __init__(self, method: str) -> None:
        self.method = method

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if isinstance(error, ApiUsageError) and not error.method:
            raise error.at(self.method) from None


class Namespace:
    """One `api.<path>` object. The guest's getattr guard refuses "_" names, so the recorder and
    limits held here are unreachable; the public surface is only the Auth0 methods."""

    __slots__ = ("_limits", "_recorder")
    _limits: Limits
    _recorder: EffectRecorder
    _path = ""  # the op prefix, e.g. "id_token"

    def __init__(self, recorder: EffectRecorder, limits: Limits) -> None:
        object.__setattr__(self, "_recorder", recorder)
        object.__setattr__(self, "_limits", limits)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"api.{self._path} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"api.{self._path} is read-only")

    def __repr__(self) -> str:
        return f"<api.{self._path}>"

    def _calling(self, method: str) -> _Refusals:
        return _Refusals(f"api.{self._path}.{method}")

    def _record(self, method: str, **args: Any) -> dict[str, Any]:
        """Record `<path>.<method>` with the guest's raw arguments; returns the clean ones."""
        return self._recorder.record(f"{self._path}.{method}", args)
