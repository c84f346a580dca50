"""actions-runtime gateway: HTTP API, management store, process supervision and CLI."""
