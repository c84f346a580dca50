"""The trigger table: which handlers an action defines for each trigger point."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Trigger:
    """One trigger point of the auth flow (Auth0's trigger ids and versions)."""

    id: str
    version: str
    handlers: tuple[str, ...]  # the first is the default; the second, if any, is the continuation
    blocking: bool  # background triggers answer 202 and run asynchronously

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "version": self.version,
            "handlers": list(self.handlers),
            "blocking": self.blocking,
        }


_ALL = (
    Trigger("post-login", "v3", ("on_execute_post_login", "on_continue_post_login"), True),
    Trigger("credentials-exchange", "v2", ("on_execute_credentials_exchange",), True),
    Trigger("pre-user-registration", "v2", ("on_execute_pre_user_registration",), True),
    Trigger("post-user-registration", "v2", ("on_execute_post_user_registration",), False),
    Trigger("post-change-password", "v2", ("on_execute_post_change_password",), False),
    Trigger("send-phone-message", "v2", ("on_execute_send_phone_message",), True),
    Trigger(
        "password-reset-post-challenge",
        "v1",
        ("on_execute_post_challenge", "on_continue_post_challenge"),
        True,
    ),
)

TRIGGERS: Mapping[str, Trigger] = MappingProxyType({t.id: t for t in _ALL})
