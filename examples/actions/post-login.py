"""Post-login: add the user's roles to the tokens, ask admins for a second factor, and enrich
the profile from an API.

From the Auth0 blog example `onExecutePostLogin`, translated to Python and completed. The
profile API is configured with secrets: PROFILE_API_URL (e.g. https://crm.example.com/users)
and PROFILE_API_KEY; its host must be on the tenant's egress allow-list
(PUT /v1/tenants/{tenant}/egress). Without PROFILE_API_URL the enrichment is skipped. A
profile API that is down or slow never blocks the login: the action logs it and goes on.
"""

from urllib.parse import quote

NAMESPACE = "https://my-app.example.com"


def enrich_profile(event, api):
    url = event.secrets.PROFILE_API_URL
    if not url:
        return
    key = event.secrets.PROFILE_API_KEY or ""
    try:
        response = fetch(url.rstrip("/") + "/" + quote(event.user.user_id, safe=""),
                         headers={"Authorization": "Bearer " + key}, timeout_s=2)
    except FetchError as error:
        print("profile API unavailable:", error.reason)
        return
    if not response.ok:
        print("profile API answered", response.status)
        return
    profile = response.json()
    api.user.set_app_metadata("plan", profile.get("plan"))
    api.id_token.set_custom_claim(NAMESPACE + "/plan", profile.get("plan"))


def on_execute_post_login(event, api):
    roles = event.authorization.roles if event.authorization else ()
    # Claims outside a namespace may collide with standard ones; "roles" itself is reserved.
    api.id_token.set_custom_claim(NAMESPACE + "/roles", roles)
    api.access_token.set_custom_claim(NAMESPACE + "/roles", roles)
    if "admin" in roles:
        api.multifactor.enable("any", allow_remember_browser=False)
    enrich_profile(event, api)
    print("login", event.user.user_id, "roles:", ", ".join(roles) or "none")
