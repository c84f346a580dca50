"""Credentials exchange (machine to machine): add a claim for one trusted client, refuse writes
by any other. From the Auth0 blog example `onExecuteMachineToMachine`, completed."""

TRUSTED_CLIENT_ID = "m2m-reporting-7f3c"


def on_execute_credentials_exchange(event, api):
    if event.client.client_id == TRUSTED_CLIENT_ID:
        api.access_token.set_custom_claim("custom_claim", "custom_value")
        return
    requested = event.transaction.requested_scopes if event.transaction else ()
    if "write:reports" in requested:
        api.access.deny("invalid_scope", "only the reporting job may write reports")
