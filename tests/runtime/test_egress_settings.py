"""The operator's egress settings: defaults, parsing and bounds (what fits the child's pipe)."""
from __future__ import annotations

import pytest

from runtime.errors import ConfigError
from runtime.settings import Settings
from worker.egress import EgressLimits


def test_defaults() -> None:
    limits = EgressLimits.from_settings(Settings.from_env({}))
    assert limits == EgressLimits(allow_loopback=False, max_requests=20,
                                  max_response_bytes=1024 * 1024, max_request_bytes=256 * 1024,
                                  max_concurrent=16)


def test_from_the_environment() -> None:
    settings = Settings.from_env({
        "ACTIONS_EGRESS_ALLOW_LOOPBACK": "1", "ACTIONS_EGRESS_MAX_REQUESTS": "5",
        "ACTIONS_EGRESS_MAX_RESPONSE_BYTES": "4194304", "ACTIONS_EGRESS_MAX_REQUEST_BYTES": "0",
        "ACTIONS_EGRESS_MAX_CONCURRENT": "2"})
    assert EgressLimits.from_settings(settings) == EgressLimits(
        allow_loopback=True, max_requests=5, max_response_bytes=4 * 1024 * 1024,
        max_request_bytes=0, max_concurrent=2)


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("ACTIONS_EGRESS_ALLOW_LOOPBACK", "maybe", "must be true or false"),
    ("ACTIONS_EGRESS_MAX_REQUESTS", "-1", "must be >= 0"),
    ("ACTIONS_EGRESS_MAX_RESPONSE_BYTES", "4194305", "must be <= 4194304"),
    ("ACTIONS_EGRESS_MAX_RESPONSE_BYTES", "10", "must be >= 1024"),
    ("ACTIONS_EGRESS_MAX_REQUEST_BYTES", "524289", "must be <= 524288"),
    ("ACTIONS_EGRESS_MAX_CONCURRENT", "0", "must be >= 1"),
])
def test_bad_values_are_refused(name: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env({name: value})
