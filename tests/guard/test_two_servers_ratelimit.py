"""bench/two_servers_ratelimit.py: the waitlist form's limits hold across two gunicorn servers."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("store", ["database", "redis"])
def test_two_gunicorn_servers_share_the_rate_limit_counters(store):
    if store == "redis" and not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("CI machines run Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    args = [sys.executable, "bench/two_servers_ratelimit.py"] + (["--redis"] if store == "redis" else [])
    result = subprocess.run(args, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| accepted (302) | 3 | 5 |" in result.stdout
    assert "| anything else | 0 | 0 |" in result.stdout
