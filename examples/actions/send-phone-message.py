"""Send phone message: hand MFA codes to a custom SMS provider.

From the Auth0 blog example `onExecuteSendPhoneMessage`. Actions have no network in this
runtime, so the message is printed (without the code: logs are not a place for one-time
codes) and the per-recipient count of the last hour is kept in the cache.
"""

ONE_HOUR_MS = 60 * 60 * 1000


def send_sms(phone_number, message, message_type):
    # A real provider call would go here; this runtime gives actions no network.
    print("would send", message_type, "to", phone_number, "-", len(message), "characters")


def on_execute_send_phone_message(event, api):
    options = event.message_options
    recipient = options.recipient or event.user.phone_number
    send_sms(recipient, options.text or "Your verification code is " + options.code,
             options.message_type or "sms")
    key = "sms-count:" + recipient
    record = api.cache.get(key)
    count = record["value"] + 1 if record else 1
    api.cache.set(key, count, ttl_ms=ONE_HOUR_MS)
