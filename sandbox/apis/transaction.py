"""`api.transaction`: metadata shared by the flow's actions (post-login) and the URL the user
lands on after a password reset (password-reset-post-challenge)."""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class Transaction(Namespace):
    """post-login: `set_metadata(key, value)`; values are str, number or bool (None removes),
    16 KB in all, and later actions read them in event.transaction.metadata."""

    __slots__ = ()
    _path = "transaction"

    def set_metadata(self, key: str, value: str | int | float | bool | None) -> None:
        with self._calling("set_metadata"):
            self._record("set_metadata", key=key, value=value)


class ResetTransaction(Namespace):
    """password-reset-post-challenge: `set_result_url(url, query=None)`."""

    __slots__ = ()
    _path = "transaction"

    def set_result_url(self, url: str, query: dict[str, Any] | None = None) -> None:
        with self._calling("set_result_url"):
            self._record("set_result_url", url=url, query=query)
