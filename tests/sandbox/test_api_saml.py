"""api.saml_response: Auth0's setters, its SAML limits, and refusals."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.api_errors import ApiUsageError
from sandbox.apis.saml import SamlResponse
from sandbox.effect_rules import TRIGGER_OPS
from tests.sandbox.api_cases import assert_refused, make_api

Call = Callable[[Any], Any]
PEM = "-----BEGIN CERTIFICATE-----\nMIIC8jCCAdqgAwIBAgIJObB6jmhG0QIEMA0GCSqGSIb3DQEBBQUAMCAxHjAcBgNV\n" \
      "-----END CERTIFICATE-----\n"
# Auth0's samlResponse methods (post-login API object), in snake_case.
AUTH0_SETTERS = {
    "set_attribute", "set_audience", "set_recipient", "set_create_upn_claim",
    "set_passthrough_claims_with_no_mapping", "set_map_unknown_claims_as_is", "set_map_identities",
    "set_signature_algorithm", "set_digest_algorithm", "set_destination",
    "set_lifetime_in_seconds", "set_sign_response", "set_name_identifier_format",
    "set_name_identifier_probes", "set_authn_context_class_ref", "set_signing_cert",
    "set_include_attribute_name_format", "set_typed_attributes", "set_encryption_cert",
    "set_encryption_public_key", "set_cert", "set_key", "set_relay_state", "set_issuer",
    "set_encryption_algorithm",
}


def test_the_setters_are_exactly_auth0s() -> None:
    assert {name for name in dir(SamlResponse) if not name.startswith("_")} == AUTH0_SETTERS
    assert {op.split(".")[1] for op in TRIGGER_OPS["post-login"]
            if op.startswith("saml_response.")} == AUTH0_SETTERS


CALLS = [
    (lambda api: api.saml_response.set_attribute(
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/color", "purple"),
     "set_attribute", {"attribute": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/color",
                       "value": "purple"}),
    (lambda api: api.saml_response.set_attribute("groups", ("a", "b", 3, True)),
     "set_attribute", {"attribute": "groups", "value": ["a", "b", 3, True]}),
    (lambda api: api.saml_response.set_attribute("groups", None),
     "set_attribute", {"attribute": "groups", "value": None}),
    (lambda api: api.saml_response.set_audience("urn:sp"), "set_audience", {"audience": "urn:sp"}),
    (lambda api: api.saml_response.set_lifetime_in_seconds(36000), "set_lifetime_in_seconds",
     {"lifetime_in_seconds": 36000}),
    (lambda api: api.saml_response.set_sign_response(True), "set_sign_response",
     {"sign_response": True}),
    (lambda api: api.saml_response.set_name_identifier_probes(["Email"]),
     "set_name_identifier_probes", {"name_identifier_probes": ["Email"]}),
    (lambda api: api.saml_response.set_signature_algorithm("rsa-sha256"),
     "set_signature_algorithm", {"signature_algorithm": "rsa-sha256"}),
    (lambda api: api.saml_response.set_digest_algorithm("sha256"), "set_digest_algorithm",
     {"digest_algorithm": "sha256"}),
    (lambda api: api.saml_response.set_encryption_algorithm("aes256-gcm"),
     "set_encryption_algorithm", {"encryption_algorithm": "aes256-gcm"}),
    (lambda api: api.saml_response.set_encryption_cert(PEM), "set_encryption_cert",
     {"encryption_cert": PEM}),
    (lambda api: api.saml_response.set_key(PEM), "set_key", {"key": PEM}),
    (lambda api: api.saml_response.set_relay_state("state-1"), "set_relay_state",
     {"relay_state": "state-1"}),
    (lambda api: api.saml_response.set_typed_attributes(False), "set_typed_attributes",
     {"typed_attributes": False}),
]


@pytest.mark.parametrize(("call", "method", "args"), CALLS)
def test_each_setter_records_its_effect(call: Call, method: str, args: dict[str, Any]) -> None:
    api, recorder = make_api("post-login")
    assert call(api) is None
    assert recorder.effects == [{"op": f"saml_response.{method}", "args": args}]


BAD_CALLS = [
    (lambda api: api.saml_response.set_attribute("a" * 1025, "v"),
     "api.saml_response.set_attribute: attribute is 1025 characters, over the 1024-byte limit"),
    (lambda api: api.saml_response.set_attribute("", "v"), "attribute must not be empty"),
    (lambda api: api.saml_response.set_attribute("a", {"k": "v"}),
     "SAML attribute value must be a str, number, bool, a list of those, or None; not dict"),
    (lambda api: api.saml_response.set_attribute("a", [[1]]), "not list"),
    (lambda api: api.saml_response.set_attribute("a", list(range(101))), "at most 100 values"),
    (lambda api: api.saml_response.set_audience("a" * 2049), "over the 2048-byte limit"),
    (lambda api: api.saml_response.set_audience(None), "audience must be a str, not NoneType"),
    (lambda api: api.saml_response.set_name_identifier_format("f" * 513), "512-byte limit"),
    (lambda api: api.saml_response.set_name_identifier_probes(["p"] * 11), "11 items, over the 10"),
    (lambda api: api.saml_response.set_name_identifier_probes("Email"), "must be a list of str"),
    (lambda api: api.saml_response.set_signing_cert("c" * 4097), "4096-byte limit"),
    (lambda api: api.saml_response.set_lifetime_in_seconds(0), "from 1 to 2592000"),
    (lambda api: api.saml_response.set_lifetime_in_seconds("3600"), "not str"),
    (lambda api: api.saml_response.set_sign_response(1), "must be True or False, not int"),
    (lambda api: api.saml_response.set_signature_algorithm("rsa-sha1"),
     "unknown signature_algorithm 'rsa-sha1'; expected one of rsa-sha256"),
    (lambda api: api.saml_response.set_encryption_algorithm("aes256-cbc"), "expected one of aes256-gcm"),
]


@pytest.mark.parametrize(("call", "fragment"), BAD_CALLS)
def test_bad_arguments_are_refused(call: Call, fragment: str) -> None:
    api, recorder = make_api("post-login")
    assert_refused(recorder, lambda: call(api), fragment)


def test_at_most_100_attributes_and_10_kb_of_them() -> None:
    api, recorder = make_api("post-login")
    for index in range(100):
        api.saml_response.set_attribute(f"a{index}", 1)
    with pytest.raises(ApiUsageError, match="at most 100 SAML attributes"):
        api.saml_response.set_attribute("one-more", 1)
    api.saml_response.set_attribute("a0", None)  # removing frees a slot
    api.saml_response.set_attribute("one-more", 1)
    api, recorder = make_api("post-login")
    for index in range(5):
        api.saml_response.set_attribute(f"big{index}", "v" * 2000)
    with pytest.raises(ApiUsageError, match="SAML attributes would total 10286 bytes, over the "
                                            "10240-byte limit"):
        api.saml_response.set_attribute("big5", "v" * 250)
    assert len(recorder.effects) == 5
