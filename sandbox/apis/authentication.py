"""`api.authentication`: ask for more factors, record custom methods, switch the primary user.

Auth0's option objects become keyword arguments: `challengeWith(factor, {additionalFactors})`
is `challenge_with(factor, additional_factors=None)`.
"""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class Authentication(Namespace):
    """password-reset-post-challenge: require one more factor before the reset goes on."""

    __slots__ = ()
    _path = "authentication"

    def challenge_with(self, factor: dict[str, Any],
                       additional_factors: list[dict[str, Any]] | None = None) -> None:
        with self._calling("challenge_with"):
            self._record("challenge_with", factor=factor, additional_factors=additional_factors)

    def challenge_with_any(self, factors: list[dict[str, Any]]) -> None:
        with self._calling("challenge_with_any"):
            self._record("challenge_with_any", factors=factors)


class LoginAuthentication(Authentication):
    """post-login: challenges, enrollments, custom methods and account linking."""

    __slots__ = ()

    def enroll_with(self, factor: dict[str, Any],
                    additional_factors: list[dict[str, Any]] | None = None) -> None:
        with self._calling("enroll_with"):
            self._record("enroll_with", factor=factor, additional_factors=additional_factors)

    def enroll_with_any(self, factors: list[dict[str, Any]]) -> None:
        with self._calling("enroll_with_any"):
            self._record("enroll_with_any", factors=factors)

    def record_method(self, provider_url: str) -> None:
        """Auth0 allows it in on_continue_post_login only (after a redirect)."""
        with self._calling("record_method"):
            self._record("record_method", provider_url=provider_url)

    def set_primary_user(self, primary_user_id: str) -> None:
        """Once per transaction, as in Auth0."""
        with self._calling("set_primary_user"):
            self._record("set_primary_user", primary_user_id=primary_user_id)
