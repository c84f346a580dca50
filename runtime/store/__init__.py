"""The management store: tenants, actions, versions and bindings in Redis (see runtime/keys.py)."""
