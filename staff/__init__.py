"""Staff: the admin site (home, sections by task, email previews), roles, the audit trail of staff changes, erasing a person, and deleting access needs on schedule."""
