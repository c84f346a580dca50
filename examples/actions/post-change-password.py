"""Post change password: tell the user their password changed.

From the Auth0 blog example `onExecutePostChangePassword`. Actions have no network in this
runtime, so the notification is printed to the logs and recorded in the cache (with a day's
lifetime) for a delivery service to pick up.
"""

ONE_DAY_MS = 24 * 60 * 60 * 1000


def send_password_change_email(email):
    # A real sender would call an email API here; this runtime gives actions no network.
    print("would notify", email, "that their password was changed")


def on_execute_post_change_password(event, api):
    send_password_change_email(event.user.email)
    api.cache.set("password-changed:" + event.user.user_id,
                  {"email": event.user.email, "ip": event.request.ip}, ttl_ms=ONE_DAY_MS)
