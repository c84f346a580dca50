"""The sandbox: compile, guard and run one tenant action; pure (no aiohttp, no redis)."""
