"""The cap on requests waiting on Stripe always leaves threads for pages: three quarters of a process's threads by
default, and production refuses to start with a cap that would leave none (one thread, or an override)."""

import os
import re
import subprocess
from types import SimpleNamespace
from unittest import mock

import pytest

from tests.server_config import ROOT, gunicorn_config, production_settings


def refusal(**extra: str) -> str:
    """What production settings say when they refuse to load with these variables."""
    with pytest.raises(subprocess.CalledProcessError) as refused:
        production_settings(**extra)
    return refused.value.stderr


@pytest.mark.parametrize("threads", ["2", "3", "4", "8"])
def test_small_thread_counts_still_leave_a_thread_for_pages(threads):
    assert 1 <= production_settings(GUNICORN_THREADS=threads)["stripe_cap"] < gunicorn_config(GUNICORN_THREADS=threads)["threads"]


def test_one_thread_per_process_is_refused_in_production():
    assert "GUNICORN_THREADS is 1: production needs at least 2 threads" in refusal(GUNICORN_THREADS="1")


@pytest.mark.parametrize("cap", ["16", "40", "0"])
def test_a_stripe_cap_that_leaves_no_thread_for_pages_is_refused(cap):
    message = refusal(GUNICORN_THREADS="16", STRIPE_MAX_CONCURRENT_CALLS=cap)
    assert f"STRIPE_MAX_CONCURRENT_CALLS is {cap} with 16 threads per process: set it between 1 and 15" in message


def test_a_stripe_cap_below_the_threads_is_taken_as_given():
    assert production_settings(GUNICORN_THREADS="16", STRIPE_MAX_CONCURRENT_CALLS="15")["stripe_cap"] == 15


def test_the_workers_are_told_the_thread_count_gunicorn_runs_with_even_from_a_command_line_flag():
    config = gunicorn_config(GUNICORN_THREADS="16")
    with mock.patch.dict(os.environ, {"GUNICORN_THREADS": "16"}):
        config["on_starting"](SimpleNamespace(cfg=SimpleNamespace(threads=3)))  # gunicorn ... --threads 3
        told = os.environ["GUNICORN_THREADS"]
    assert told == "3"
    assert production_settings(GUNICORN_THREADS=told)["stripe_cap"] == 2


def _documented_default(name: str) -> str:
    text = (ROOT / ".env.example").read_text()
    return re.search(rf"^# {name}=(\S+)", text, re.M).group(1)


def test_env_example_shows_the_production_defaults_of_the_server_settings():
    settings = production_settings()
    config = gunicorn_config()
    assert _documented_default("WEB_CONCURRENCY") == str(config["workers"])
    assert _documented_default("GUNICORN_THREADS") == str(config["threads"])
    assert _documented_default("DATABASE_POOL_MAX_SIZE") == str(settings["pool"]["max_size"])
    assert _documented_default("STRIPE_MAX_CONCURRENT_CALLS") == str(settings["stripe_cap"])
