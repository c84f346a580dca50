"""`api.saml_response`: the SAML assertion's attributes and the SAML add-on's settings.

Exactly Auth0's setters (post-login API object, `api.samlResponse`), one effect each, named
`saml_response.<method>` with the argument in snake_case (`setLifetimeInSeconds(lifetimeInSeconds)`
is `set_lifetime_in_seconds(lifetime_in_seconds)`). Sizes are Auth0's ("SAML attributes",
"SAML configuration" limits).
"""
from __future__ import annotations

from typing import Any

from sandbox.apis.namespace import Namespace


class SamlResponse(Namespace):
    __slots__ = ()
    _path = "saml_response"

    def set_attribute(self, attribute: str, value: Any) -> None:
        """A str, number, bool or list of those; None removes the attribute."""
        with self._calling("set_attribute"):
            self._record("set_attribute", attribute=attribute, value=value)

    def set_audience(self, audience: str) -> None:
        with self._calling("set_audience"):
            self._record("set_audience", audience=audience)

    def set_recipient(self, recipient: str) -> None:
        with self._calling("set_recipient"):
            self._record("set_recipient", recipient=recipient)

    def set_create_upn_claim(self, create_upn_claim: bool) -> None:
        with self._calling("set_create_upn_claim"):
            self._record("set_create_upn_claim", create_upn_claim=create_upn_claim)

    def set_passthrough_claims_with_no_mapping(self, passthrough_claims_with_no_mapping: bool) -> None:
        with self._calling("set_passthrough_claims_with_no_mapping"):
            self._record("set_passthrough_claims_with_no_mapping", passthrough_claims_with_no_mapping=passthrough_claims_with_no_mapping)

    def set_map_unknown_claims_as_is(self, map_unknown_claims_as_is: bool) -> None:
        with self._calling("set_map_unknown_claims_as_is"):
            self._record("set_map_unknown_claims_as_is", map_unknown_claims_as_is=map_unknown_claims_as_is)

    def set_map_identities(self, map_identities: bool) -> None:
        with self._calling("set_map_identities"):
            self._record("set_map_identities", map_identities=map_identities)

    def set_signature_algorithm(self, signature_algorithm: str) -> None:
        with self._calling("set_signature_algorithm"):
            self._record("set_signature_algorithm", signature_algorithm=signature_algorithm)

    def set_digest_algorithm(self, digest_algorithm: str) -> None:
        with self._calling("set_digest_algorithm"):
            self._record("set_digest_algorithm", digest_algorithm=digest_algorithm)

    def set_destination(self, destination: str) -> None:
        with self._calling("set_destination"):
            self._record("set_destination", destination=destination)

    def set_lifetime_in_seconds(self, lifetime_in_seconds: int) -> None:
        with self._calling("set_lifetime_in_seconds"):
            self._record("set_lifetime_in_seconds", lifetime_in_seconds=lifetime_in_seconds)

    def set_sign_response(self, sign_response: bool) -> None:
        with self._calling("set_sign_response"):
            self._record("set_sign_response", sign_response=sign_response)

    def set_name_identifier_format(self, name_identifier_format: str) -> None:
        with self._calling("set_name_identifier_format"):
            self._record("set_name_identifier_format", name_identifier_format=name_identifier_format)

    def set_name_identifier_probes(self, name_identifier_probes: list[str]) -> None:
        with self._calling("set_name_identifier_probes"):
            self._record("set_name_identifier_probes", name_identifier_probes=name_identifier_probes)

    def set_authn_context_class_ref(self, authn_context_class_ref: str) -> None:
        with self._calling("set_authn_context_class_ref"):
            self._record("set_authn_context_class_ref", authn_context_class_ref=authn_context_class_ref)

    def set_signing_cert(self, signing_cert: str) -> None:
        with self._calling("set_signing_cert"):
            self._record("set_signing_cert", signing_cert=signing_cert)

    def set_include_attribute_name_format(self, include_attribute_name_format: bool) -> None:
        with self._calling("set_include_attribute_name_format"):
            self._record("set_include_attribute_name_format", include_attribute_name_format=include_attribute_name_format)

    def set_typed_attributes(self, typed_attributes: bool) -> None:
        with self._calling("set_typed_attributes"):
            self._record("set_typed_attributes", typed_attributes=typed_attributes)

    def set_encryption_cert(self, encryption_cert: str) -> None:
        with self._calling("set_encryption_cert"):
            self._record("set_encryption_cert", encryption_cert=encryption_cert)

    def set_encryption_public_key(self, encryption_public_key: str) -> None:
        with self._calling("set_encryption_public_key"):
            self._record("set_encryption_public_key", encryption_public_key=encryption_public_key)

    def set_cert(self, cert: str) -> None:
        with self._calling("set_cert"):
            self._record("set_cert", cert=cert)

    def set_key(self, key: str) -> None:
        with self._calling("set_key"):
            self._record("set_key", key=key)

    def set_relay_state(self, relay_state: str) -> None:
        with self._calling("set_relay_state"):
            self._record("set_relay_state", relay_state=relay_state)

    def set_issuer(self, issuer: str) -> None:
        with self._calling("set_issuer"):
            self._record("set_issuer", issuer=issuer)

    def set_encryption_algorithm(self, encryption_algorithm: str) -> None:
        with self._calling("set_encryption_algorithm"):
            self._record("set_encryption_algorithm", encryption_algorithm=encryption_algorithm)
