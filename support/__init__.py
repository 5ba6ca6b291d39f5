"""Helping people who are stuck: contact, policy pages staff edit, and "email me my links"."""
