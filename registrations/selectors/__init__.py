"""Reads: one module per question staff, buyers and attendees ask; each returns querysets with their joins applied."""
