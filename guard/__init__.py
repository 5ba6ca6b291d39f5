"""Request-level protection every app shares: rate limits on public forms, and security headers."""
