"""Thin HTTP handlers of the management API: parse, validate, call the store, respond."""
