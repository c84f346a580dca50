"""Post-login: add the user's roles to the tokens, and ask admins for a second factor.

From the Auth0 blog example `onExecutePostLogin`, translated to Python and completed.
"""

NAMESPACE = "https://my-app.example.com"


def on_execute_post_login(event, api):
    roles = event.authorization.roles if event.authorization else ()
    # Claims outside a namespace may collide with standard ones; "roles" itself is reserved.
    api.id_token.set_custom_claim(NAMESPACE + "/roles", roles)
    api.access_token.set_custom_claim(NAMESPACE + "/roles", roles)
    if "admin" in roles:
        api.multifactor.enable("any", allow_remember_browser=False)
    print("login", event.user.user_id, "roles:", ", ".join(roles) or "none")
