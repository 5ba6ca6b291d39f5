"""The Stripe SDK client with its time budget and cap on waiting requests, the test-payment mode, and the error buyers are shown."""

import hashlib
import hmac
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import stripe
import urllib3
from django.conf import settings

from workshops.site import site_url

from . import limits

logger = logging.getLogger(__name__)


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused the request; safe to show the buyer a retry.

    `outcome_unknown`: Stripe may have done what was asked (no answer in time, the connection dropped, Stripe's own
    error): only a retry with the same idempotency key finds out. Otherwise Stripe answered that it did nothing, or the
    request never left (the cap on requests waiting for Stripe).
    `in_progress`: Stripe is still answering an earlier request with the same idempotency key (a second press of the
    same button); that earlier request's answer is the one that counts.
    """

    def __init__(self, message: str = "", *, outcome_unknown: bool = False, in_progress: bool = False):
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.in_progress = in_progress

    @classmethod
    def from_stripe(cls, exc: stripe.StripeError) -> "PaymentProviderError":
        status = getattr(exc, "http_status", None) or 0
        # 409: a request with the same idempotency key is still being processed at Stripe.
        unknown = isinstance(exc, stripe.APIConnectionError) or status >= 500 or status == 409
        return cls(str(exc), outcome_unknown=unknown, in_progress=status == 409)


def is_test_payment_mode() -> bool:
    return not settings.STRIPE_SECRET_KEY


def webhook_secret() -> str:
    if settings.STRIPE_WEBHOOK_SECRET:
        return settings.STRIPE_WEBHOOK_SECRET
    if is_test_payment_mode():
        # Local test payments sign their events with a secret derived from SECRET_KEY.
        digest = hmac.new(settings.SECRET_KEY.encode(), b"local-test-payments-webhook", hashlib.sha256).hexdigest()
        return f"whsec_local_{digest}"
    return ""


class _Watched(threading.local):
    key: str | None = None
    unanswered = False


_watched = _Watched()


@contextmanager
def own_attempt_unanswered(idempotency_key: str) -> Iterator[list[bool]]:
    """Whether, inside the block, a request this thread sent with this idempotency key went unanswered (no answer in
    time, a dropped connection, Stripe's own 5xx error): Stripe may have carried out that attempt, and a replay the
    SDK's own retry then gets may be of it. A 409 (another request with the key in progress) or a 429 is an answer
    that nothing was done. [flag], filled in on the way out."""
    _watched.key, _watched.unanswered = idempotency_key, False
    flag = [False]
    try:
        yield flag
    finally:
        flag[0], _watched.key, _watched.unanswered = _watched.unanswered, None, False


def _note_unanswered(headers, status: int | None) -> None:
    if _watched.key is not None and headers.get("Idempotency-Key") == _watched.key and (status is None or status >= 500):
        _watched.unanswered = True


class _HTTPClient(stripe.HTTPClient):
    """The SDK's HTTP calls over urllib3 directly, which requests is built on: requests' own work per call (merging
    settings, preparing the request, its adapter) was a third of the Stripe call's CPU. It keeps what the SDK's
    requests client does: (connect, read) timeouts, certificates checked against the SDK's bundle, a proxy (the
    STRIPE_PROXY setting) and the same errors, so the SDK retries a timeout or a failed connection and nothing else."""

    name = "urllib3"

    def __init__(self, *, timeout: tuple[float, float], proxy: str | None = None):
        super().__init__(proxy=proxy)
        self._timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        pool = {"cert_reqs": "CERT_REQUIRED", "ca_certs": stripe.ca_bundle_path, "maxsize": 16, "retries": False}
        self._pool = urllib3.ProxyManager(proxy, **pool) if proxy else urllib3.PoolManager(**pool)

    def request(self, method, url, headers, post_data=None):
        response = self._send(method, url, headers, post_data, stream=False)
        return response.data, response.status, response.headers

    def request_stream(self, method, url, headers, post_data=None):
        response = self._send(method, url, headers, post_data, stream=True)
        return response, response.status, response.headers

    def _send(self, method, url, headers, post_data, *, stream: bool):
        try:
            response = self._pool.request(
                method.upper(), url, headers=headers, body=post_data, timeout=self._timeout, preload_content=not stream,
                redirect=False,
            )
            _note_unanswered(headers, response.status)
            return response
        except urllib3.exceptions.SSLError as exc:
            raise stripe.APIConnectionError(f"Could not verify Stripe's SSL certificate: {exc}", should_retry=False) from exc
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.NewConnectionError, urllib3.exceptions.ProtocolError,
                urllib3.exceptions.ProxyError, OSError) as exc:
            _note_unanswered(headers, None)
            # A timeout or a connection that failed or dropped: the SDK may retry it (requests' Timeout and ConnectionError).
            raise stripe.APIConnectionError(f"Unexpected error communicating with Stripe: {exc}", should_retry=True) from exc
        except Exception as exc:
            raise stripe.APIConnectionError(f"Unexpected error communicating with Stripe: {exc!r}", should_retry=False) from exc

    def close(self):
        self._pool.clear()


@lru_cache(maxsize=8)
def _client(
    api_key: str, api_base: str, retries: int, connect_timeout: float, timeout: float, proxy: str
) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        # (connect, read): at most this long to connect, then at most this long waiting for the answer.
        http_client=_HTTPClient(timeout=(connect_timeout, timeout), proxy=proxy or None),
    )


def client() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_CONNECT_TIMEOUT_SECONDS,
        settings.STRIPE_TIMEOUT_SECONDS,
        settings.STRIPE_PROXY,
    )


@contextmanager
def _waiting_on_stripe(what: str) -> Iterator[None]:
    """A place among the requests waiting on Stripe (limits.waiting_on_stripe), or PaymentProviderError at once."""
    try:
        with limits.waiting_on_stripe(what):
            yield
    except limits.StripeBusyError as exc:
        raise PaymentProviderError(str(exc)) from exc


def _absolute(path: str) -> str:
    return f"{site_url()}{path}"
