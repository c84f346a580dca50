"""Pre user registration: refuse throwaway addresses, then seed the new user's metadata.
From the Auth0 blog example `onExecutePreUserRegistration`, completed."""

DISPOSABLE_DOMAINS = ("mailinator.com", "guerrillamail.com", "10minutemail.com")


def on_execute_pre_user_registration(event, api):
    domain = (event.user.email or "").rpartition("@")[2].lower()
    if domain in DISPOSABLE_DOMAINS:
        api.access.deny("disposable email domain: " + domain,
                        user_message="Please sign up with a permanent email address.")
        return
    api.user.set_user_metadata("ui_color", "default")
    api.user.set_user_metadata("use_verbose_messages", False)
    api.user.set_app_metadata("is_new_user", True)
    api.user.set_app_metadata("reward_status", 0)
