"""Commands: purge_personal_data (daily)."""
