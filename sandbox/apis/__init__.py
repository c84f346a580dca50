"""The api namespaces an action calls (`api.access`, `api.id_token`, ...), one module per area."""
