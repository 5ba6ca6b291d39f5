"""token_url answers what reverse() answers, for every page named by a token and any token."""

import pytest
from django.test import override_settings
from django.urls import reverse, set_script_prefix
from hypothesis import given, settings
from hypothesis import strategies as st

from registrations.links import token_url

TOKEN_PAGES = [
    "registrations:order_detail", "registrations:checkout_success", "registrations:checkout_cancel",
    "registrations:order_pay", "registrations:seat_detail", "registrations:seat_calendar",
]
URL_SAFE = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=64)
# Anything reverse() accepts for a str converter: no slash, not empty; accents, spaces, %, ? and # get quoted.
ANY_TOKEN = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(TOKEN_PAGES), token=st.one_of(URL_SAFE, ANY_TOKEN))
def test_token_url_is_reverses_answer(name, token):
    assert token_url(name, token) == reverse(name, kwargs={"token": token})


@pytest.mark.parametrize("prefix", ["/", "/registration/"])
def test_token_url_follows_the_script_prefix(prefix):
    set_script_prefix(prefix)
    try:
        assert token_url("registrations:order_detail", "abcDEF123_-xyz456789") == reverse(
            "registrations:order_detail", kwargs={"token": "abcDEF123_-xyz456789"}
        )
        assert token_url("registrations:order_detail", "abcDEF123_-xyz456789").startswith(prefix)
    finally:
        set_script_prefix("/")


@override_settings(ROOT_URLCONF="tests.registrations.links_urls")
def test_token_url_follows_the_urlconf():
    assert token_url("registrations:order_detail", "abcDEF123_-xyz456789") == "/elsewhere/abcDEF123_-xyz456789/order/"

