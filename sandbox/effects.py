"""Recording api calls as effects (checked by the effect rules), and applying them to the event."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sandbox.api_errors import EffectLimitError
from sandbox.effect_rules import clean_args
from sandbox.effect_totals import Totals
from sandbox.limits import Limits
from sandbox.plain import serialized_size_bytes


class EffectRecorder:
    """The ordered effect list of one action run, within max_effects and effects_limit_bytes."""

    __slots__ = ("_limits", "_size_bytes", "_totals", "_trigger_id", "effects")

    def __init__(self, limits: Limits, trigger_id: str) -> None:
        self.effects: list[dict[str, Any]] = []
        self._limits = limits
        self._trigger_id = trigger_id
        self._size_bytes = 0
        self._totals = Totals()

    def load_cache(self, entries: Mapping[str, Any]) -> None:
        """Start the cache totals from the action's entries (key -> {"value", "expires_at"})."""
        self._totals = Totals(entries)

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
        self._totals.admit(op, args)  # last: it counts the effect when it does not raise
        self.effects.append(effect)
        self._size_bytes += size_bytes
        return args


# op -> where in the event it writes (section, field) and the argument naming the entry
_EVENT_FIELDS = {
    "user.set_app_metadata": ("user", "app_metadata", "name"),
    "user.set_user_metadata": ("user", "user_metadata", "name"),
    "transaction.set_metadata": ("transaction", "metadata", "key"),
}


def apply_to_event(event: dict[str, Any], effects: list[dict[str, Any]]) -> dict[str, Any]:
    """A new event with the metadata effects merged, for the next action of the same flow:
    user metadata in `event.user`, transaction metadata in `event.transaction.metadata`.
    A None value removes the field, as in Auth0. The input event is not modified."""
    updated = copy.deepcopy(event)
    for effect in effects:
        path = _EVENT_FIELDS.get(effect["op"])
        if path is None:
            continue
        section_name, field, entry = path
        section = updated.get(section_name)
        if not isinstance(section, dict):
            section = updated[section_name] = {}
        metadata = section.get(field)
        if not isinstance(metadata, dict):
            metadata = section[field] = {}
        name, value = effect["args"][entry], effect["args"]["value"]
        if value is None:
            metadata.pop(name, None)
        else:
            metadata[name] = copy.deepcopy(value)
    return updated
