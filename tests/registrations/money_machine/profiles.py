"""The machine's hypothesis profiles (see __init__.py); PROFILE is the one this run uses."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "money-ci",
    max_examples=300,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile("money-dev", settings.get_profile("money-ci"), max_examples=25)
settings.register_profile("money-probe", settings.get_profile("money-ci"), max_examples=int(os.environ.get("MONEY_EXAMPLES", "5")))
settings.register_profile("money-probe-long", settings.get_profile("money-probe"), stateful_step_count=int(os.environ.get("MONEY_STEPS", "20")))
PROFILE = os.environ.get("MONEY_PROFILE") or ("money-ci" if os.environ.get("CI") else "money-dev")
