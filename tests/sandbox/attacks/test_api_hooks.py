"""Guest objects handed to the api: validation never calls their methods (exact types only).

Special methods (`__eq__`, `__contains__`, ...) cannot even be defined any more (compile
error, tests/sandbox/attacks/test_classes.py); the spy's ordinary methods named like the
ones a sloppy validator might call must not run either."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

# A class whose every allowed hook says "yes" and leaves a trace.
SPY = """
calls = []
class Spy:
    def keys(self):
        calls.append('keys')
        return ['k']
    def items(self):
        calls.append('items')
        return [('k', 1)]
    def get(self, key, default=None):
        calls.append(('get', key))
        return 1
    def decode(self, *args):
        calls.append('decode')
        return 'x'
    def encode(self, *args):
        calls.append('encode')
        return b'x'
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
    ("api.transaction.set_metadata('k', spy)", "value must be a str, int, float, bool or None, not Spy"),
    ("api.saml_response.set_attribute('a', (spy,))", "list of those, or None; not Spy"),
    ("api.prompt.render('p', vars={'k': (spy,)})", "value of type 'Spy' is not JSON-compatible"),
    ("api.authentication.challenge_with_any([spy])", "factor must be a dict"),
    ("api.session.set_expires_at(spy)", "absolute must be an int from 1 to 253402300799999, not Spy"),
    ("api.cache.set(spy, 1)", "key must be a str, not Spy"),
    ("api.cache.get(spy)", "key must be a str, not Spy"),
    ("api.multifactor.enable('any', spy)", "allow_remember_browser must be True or False"),
    ("api.user.set_user_metadata(spy, 1)",
     "metadata name must be a str, not Spy"),
]


@pytest.mark.parametrize(("call", "message"), CASES)
def test_api_never_runs_guest_hooks(call: str, message: str) -> None:
    result = expect(_probe(call), "ok", None, message)
    assert result.logs.endswith("\n[]\n"), result.logs
