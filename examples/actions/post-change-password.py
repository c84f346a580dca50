"""Post change password: tell the user their password changed.

From the Auth0 blog example `onExecutePostChangePassword`. The notification goes to an email
API configured with secrets: NOTIFY_URL (e.g. https://mail.example.com/v3/send) and
NOTIFY_API_KEY, whose host must be on the tenant's egress allow-list. Without NOTIFY_URL (a
local run) it is only printed. The change is recorded in the cache for a day.
"""

ONE_DAY_MS = 24 * 60 * 60 * 1000


def send_password_change_email(secrets, email, ip):
    if not secrets.NOTIFY_URL:
        print("would notify", email, "that their password was changed")
        return
    response = fetch(secrets.NOTIFY_URL, method="POST", timeout_s=3,
                     headers={"Authorization": "Bearer " + (secrets.NOTIFY_API_KEY or "")},
                     json={"to": email, "template": "password-changed",
                           "variables": {"ip": ip}})
    if not response.ok:
        raise RuntimeError(f"the email API answered {response.status}")
    print("notified", email, "that their password was changed")


def on_execute_post_change_password(event, api):
    send_password_change_email(event.secrets, event.user.email, event.request.ip)
    api.cache.set("password-changed:" + event.user.user_id,
                  {"email": event.user.email, "ip": event.request.ip}, ttl=ONE_DAY_MS)
