"""Post user registration: "send" a welcome email.

From the Auth0 blog example `onExecutePostUserRegistration`. Actions have no network in this
runtime (the sandbox refuses sockets), so the email is printed to the action's logs and a cache
entry records that it is due; a service that reads the cache or the logs would deliver it.
"""


def send_welcome_email(email, name):
    # A real sender would call an email API here; this runtime gives actions no network.
    print("would send welcome email to", email, "for", name)


def on_execute_post_user_registration(event, api):
    user = event.user
    send_welcome_email(user.email, user.name or "new user")
    api.cache.set("welcome-email:" + user.user_id, {"email": user.email, "name": user.name})
