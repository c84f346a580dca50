"""`api.user`: metadata written back to the user profile (later actions of the flow see it)."""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class User(Namespace):
    """A value of None removes the field, as in Auth0."""

    __slots__ = ()
    _path = "user"

    def set_app_metadata(self, name: str, value: Any) -> None:
        with self._calling("set_app_metadata"):
            self._record("set_app_metadata", name=name, value=value)

    def set_user_metadata(self, name: str, value: Any) -> None:
        with self._calling("set_user_metadata"):
            self._record("set_user_metadata", name=name, value=value)
