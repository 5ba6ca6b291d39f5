"""Management commands for staff data duties."""
