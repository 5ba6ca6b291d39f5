"""Staff screens for registrations, one module per area; importing them registers them with the admin site."""

from . import breakout, codes, dashboard, ledger, orders, roster, system  # noqa: F401
