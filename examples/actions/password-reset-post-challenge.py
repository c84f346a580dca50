"""Password reset, after the challenge: send verified users to a custom page first; ask the
others for one more factor. From the Auth0 blog example `onExecutePreChangePassword`, which
belongs to this trigger, completed.

Secret (optional): RESET_PORTAL_URL, e.g. --secret RESET_PORTAL_URL=https://account.example.com/reset
"""

DEFAULT_PORTAL_URL = "https://account.example.com/password-reset/confirm"


def on_execute_post_challenge(event, api):
    if event.user.email_verified:
        url = event.secrets.RESET_PORTAL_URL or DEFAULT_PORTAL_URL
        api.redirect.send_user_to(url, query={"user_id": event.user.user_id})
    else:
        api.authentication.challenge_with({"type": "email"})


def on_continue_post_challenge(event, api):
    # The portal sent the user back: nothing more to decide, the reset goes on.
    print("user", event.user.user_id, "came back from the reset portal")
