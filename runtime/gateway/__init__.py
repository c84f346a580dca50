"""The HTTP gateway: execution and management API over the shared core (runtime/)."""
