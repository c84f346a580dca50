"""Recording api calls as effects (checked by the effect rules), and applying them to the event."""
from __future__ import annotations

import copy
from typing import Any

from sandbox.api_errors import EffectLimitError
from sandbox.effect_rules import clean_args
from sandbox.limits import Limits
from sandbox.plain import serialized_size_bytes


class EffectRecorder:
    """The ordered effect list of one action run, within max_effects and effects_limit_bytes."""

    __slots__ = ("_limits", "_size_bytes", "_trigger_id", "effects")

    def __init__(self, limits: Limits, trigger_id: str) -> None:
        self.effects: list[dict[str, Any]] = []
        self._limits = limits
        self._trigger_id = trigger_id
        self._size_bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._size_bytes

    def record(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        """Check `args` against the op's rules, append the effect and return its clean args.

        The worker checks the list again: this pass exists for the action's error messages.
        """
        args = clean_args(self._trigger_id, op, args, self._limits)
        if len(self.effects) >= self._limits.max_effects:
            raise EffectLimitError(
                f"too many api calls: the limit is {self._limits.max_effects} per action")
        effect = {"op": op, "args": args}
        size_bytes = serialized_size_bytes(effect)
        if self._size_bytes + size_bytes > self._limits.effects_limit_bytes:
            raise EffectLimitError(
                f"effects would total over {self._limits.effects_limit_bytes} bytes per action")
        self.effects.append(effect)
        self._size_bytes += size_bytes
        return args


_METADATA_OPS = {"user.set_app_metadata": "app_metadata", "user.set_user_metadata": "user_metadata"}


def apply_to_event(event: dict[str, Any], effects: list[dict[str, Any]]) -> dict[str, Any]:
    """A new event with user metadata effects merged, for the next action of the same flow.
    A None value removes the field, as in Auth0. The input event is not modified."""
    updated = copy.deepcopy(event)
    for effect in effects:
        field = _METADATA_OPS.get(effect["op"])
        if field is None:
            continue
        user = updated.get("user")
        if not isinstance(user, dict):
            user = updated["user"] = {}
        metadata = user.get(field)
        if not isinstance(metadata, dict):
            metadata = user[field] = {}
        name, value = effect["args"]["name"], effect["args"]["value"]
        if value is None:
            metadata.pop(name, None)
        else:
            metadata[name] = copy.deepcopy(value)
    return updated
