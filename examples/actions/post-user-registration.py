"""Post user registration: send a welcome email through an email API.

From the Auth0 blog example `onExecutePostUserRegistration`. The email API is configured with
secrets: EMAIL_API_URL (e.g. https://mail.example.com/v3/send) and EMAIL_API_KEY; its host
must be on the tenant's egress allow-list (PUT /v1/tenants/{tenant}/egress). Without
EMAIL_API_URL (a local run) the email is only printed. A cache entry records that the welcome
email is done. This trigger runs in the background: a failed run is retried, so a provider
that takes an idempotency key (here the user id) will not send it twice.
"""


def send_welcome_email(secrets, email, name, user_id):
    if not secrets.EMAIL_API_URL:
        print("would send welcome email to", email, "for", name)
        return
    response = fetch(secrets.EMAIL_API_URL, method="POST", timeout_s=3,
                     headers={"Authorization": "Bearer " + (secrets.EMAIL_API_KEY or ""),
                              "Idempotency-Key": "welcome-" + user_id},
                     json={"to": email, "template": "welcome", "variables": {"name": name}})
    if not response.ok:
        raise RuntimeError(f"the email API answered {response.status}")  # retried later
    print("sent welcome email to", email)


def on_execute_post_user_registration(event, api):
    user = event.user
    send_welcome_email(event.secrets, user.email, user.name or "new user", user.user_id)
    api.cache.set("welcome-email:" + user.user_id, {"email": user.email, "name": user.name})
