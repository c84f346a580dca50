"""A trigger's failure policy: fail closed (Auth0's behaviour) or fail open (Okta's option)."""
from __future__ import annotations

from typing import Any

FAIL_CLOSED = "fail_closed"
FAIL_OPEN = "fail_open"


def apply_failure_policy(result: dict[str, Any], policy: str) -> dict[str, Any]:
    """Say which policy applied; under fail_open a failed flow answers `success`.

    The effects of the actions that completed stay; the failing action's were already
    discarded. `on_error.applied` is true only when the policy decided the answer.
    """
    failed = result.get("status") == "failed"
    decided = {"policy": policy, "applied": failed}
    if failed and policy == FAIL_OPEN:
        return {**result, "status": "success", "on_error": decided}
    return {**result, "on_error": decided}
