import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def test_two_gunicorn_servers_hold_exactly_the_available_seats():
    """bench/two_servers.py: 200 buyers over two app servers on one PostgreSQL, 20 seats."""
    result = subprocess.run(
        [sys.executable, "bench/two_servers.py", "--buyers", "200", "--seats", "20"],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| seats held afterwards (SQL) | 20 in 20 orders |" in result.stdout
    assert "| oversold seats | 0 |" in result.stdout
    assert "| anything else (errors) | 0 |" in result.stdout
