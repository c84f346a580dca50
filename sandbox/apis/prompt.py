"""`api.prompt`: render a custom prompt (an Auth0 Form) before the flow goes on.

Auth0's `render(promptId, {fields, vars})` is `render(prompt_id, fields=None, vars=None)`.
"""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class Prompt(Namespace):
    __slots__ = ()
    _path = "prompt"

    def render(self, prompt_id: str, fields: dict[str, Any] | None = None,
               vars: dict[str, Any] | None = None) -> None:  # `vars`: Auth0's name
        with self._calling("render"):
            self._record("render", prompt_id=prompt_id, fields=fields, vars=vars)
