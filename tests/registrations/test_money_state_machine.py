"""The money rules under any order of events: the money state machine (money_machine/: its rules, its invariants and
its profiles) drives the site through its public surface, for as many examples as the profile says."""

import pytest
from django.conf import settings as django_settings
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests.registrations.money_machine import PROFILE, MoneyMachine


@pytest.mark.django_db
def test_money_rules_hold_under_any_order_of_events(stripe_double):
    profile = settings.get_profile(PROFILE)
    run_state_machine_as_test(lambda: MoneyMachine(stripe_double), settings=profile)
    assert django_settings.STRIPE_SECRET_KEY  # the real SDK talked to the double throughout
