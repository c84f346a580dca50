"""Workers: Redis consumers that run flows in supervised sandbox child processes."""
