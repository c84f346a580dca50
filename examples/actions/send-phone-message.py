"""Send phone message: hand MFA codes to a custom SMS provider.

From the Auth0 blog example `onExecuteSendPhoneMessage`. The provider is configured with
secrets: SMS_PROVIDER_URL (e.g. https://sms.example.com/v1/messages) and SMS_API_KEY; its host
must be on the tenant's egress allow-list (PUT /v1/tenants/{tenant}/egress). Without
SMS_PROVIDER_URL (say, `actions-runtime run` on a laptop) nothing is sent and the message is
printed without the code: logs are not a place for one-time codes. The per-recipient count of
the last hour is kept in the cache.
"""

ONE_HOUR_MS = 60 * 60 * 1000


def send_sms(secrets, recipient, text, message_type):
    if not secrets.SMS_PROVIDER_URL:
        print("would send", message_type, "to", recipient, "-", len(text), "characters")
        return
    response = fetch(secrets.SMS_PROVIDER_URL, method="POST",
                     headers={"Authorization": "Bearer " + (secrets.SMS_API_KEY or "")},
                     json={"to": recipient, "body": text, "channel": message_type})
    if not response.ok:
        # The user gets no code: fail the action so the auth server knows.
        raise RuntimeError(f"the SMS provider answered {response.status}")
    print("sent", message_type, "to", recipient, "as", response.json().get("id"))


def on_execute_send_phone_message(event, api):
    options = event.message_options
    recipient = options.recipient or event.user.phone_number
    send_sms(event.secrets, recipient,
             options.text or "Your verification code is " + options.code,
             options.message_type or "sms")
    key = "sms-count:" + recipient
    record = api.cache.get(key)
    count = record["value"] + 1 if record else 1
    api.cache.set(key, count, ttl=ONE_HOUR_MS)
