from django.core.mail.backends.base import BaseEmailBackend


class BrokenMailBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unavailable")
