"""Writes: one module per capability; each function is keyword-only and owns its transaction."""
