"""Private links never reach the log: Django logs every 4xx with the request's path ("Bad Request: /orders/<token>/…").

`PrivateLinkFilter` (settings.LOGGING, on the console handler) replaces the token in such paths with
"[private]" before the line is written, so whoever reads the logs (operators, a log service) cannot open
anyone's order, seat, waitlist page or certificate from them.
"""

import logging
import re

# Paths whose next segment is a private link, longest prefixes first; and the query parameters that carry one.
# (A seat's number under its order, /orders/<token>/seats/2/, is not a link: all digits are left alone.)
PRIVATE_PATH = re.compile(
    r"(/(?:cohorts/waitlist/confirm-email|cohorts/waitlist|orders|seats|certificates)/)(?!\d+(?:[/?#\s\"']|$))[^/?#\s\"']+"
)
PRIVATE_QUERY = re.compile(r"([?&](?:from|quote)=)[^&#\s\"']+")


def mask(text: str) -> str:
    return PRIVATE_QUERY.sub(r"\1[private]", PRIVATE_PATH.sub(r"\1[private]", text))


class PrivateLinkFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
