"""Guest comparison hooks handed to the api: validation never runs them (exact types only)."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

# A class whose every allowed hook says "yes" and leaves a trace.
SPY = """
calls = []
class Spy:
    def __eq__(self, other):
        calls.append(('eq', other))
        return True
    def __ne__(self, other):
        calls.append(('ne', other))
        return False
    def __lt__(self, other):
        calls.append(('lt', other))
        return True
    def __contains__(self, item):
        calls.append(('contains', item))
        return True
spy = Spy()
"""


def _probe(call: str) -> str:
    return SPY + f"try:\n    {call}\nexcept (ValueError, TypeError) as e:\n    print(e)\nprint(calls)"


# (api call, what the action is told)
CASES = [
    ("api.multifactor.enable(spy)", "unknown provider Spy"),
    ("api.id_token.set_custom_claim(spy, 1)", "claim name must be a str, not Spy"),
    ("api.id_token.set_custom_claim('https://x/c', [spy])",
     "value of type 'Spy' is not JSON-compatible"),
    ("api.access_token.add_scope(spy)", "scope must be a str, not Spy"),
    ("api.access.deny(spy)", "reason must be a str, not Spy"),
    ("api.user.set_app_metadata('k', {'a': spy})", "value of type 'Spy' is not JSON-compatible"),
    ("api.redirect.send_user_to(spy)", "url must be a str, not Spy"),
    ("api.redirect.send_user_to('https://x/', {'q': spy})",
     "query parameter 'q' must be a str, int, float or bool"),
    ("api.validation.error('c', spy)", "message must be a str, not Spy"),
    ("api.transaction.set_metadata('k', (spy,))", "value of type 'Spy' is not JSON-compatible"),
    ("api.cache.set(spy, 1)", "key must be a str, not Spy"),
    ("api.cache.get(spy)", "key must be a str, not Spy"),
    ("api.multifactor.enable('any', spy)", "allow_remember_browser must be True or False"),
    # The event's own lookups: a Spy key is unhashable (it defines __eq__), no trace either.
    ("event.get(spy)", "unhashable type: 'Spy'"),
    ("event[spy]", "unhashable type: 'Spy'"),
    ("spy in event", "unhashable type: 'Spy'"),
    ("spy in event.user", "unhashable type: 'Spy'"),
]


@pytest.mark.parametrize(("call", "message"), CASES)
def test_api_never_runs_guest_hooks(call: str, message: str) -> None:
    result = expect(_probe(call), "ok", None, message)
    assert result.logs.endswith("\n[]\n"), result.logs
