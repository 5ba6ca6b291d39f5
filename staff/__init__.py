"""Staff roles, the audit trail of staff changes, erasing a person, and deleting access needs on schedule."""
