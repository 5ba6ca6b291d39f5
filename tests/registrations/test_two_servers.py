import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server_config import gunicorn_config, production_settings

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def race():
    """bench/two_servers.py: 200 buyers over two app servers (gunicorn.conf.py) on one PostgreSQL, 20 seats."""
    result = subprocess.run(
        [sys.executable, "bench/two_servers.py", "--buyers", "200", "--seats", "20"],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=240,
    )
    return result


def test_two_gunicorn_servers_hold_exactly_the_available_seats(race):
    assert race.returncode == 0, race.stdout + race.stderr
    assert "| seats held afterwards (SQL) | 20 in 20 orders |" in race.stdout
    assert "| oversold seats | 0 |" in race.stdout
    assert "| anything else (errors) | 0 |" in race.stdout


def test_two_servers_racing_stay_within_their_connection_pools(race):
    peak = int(re.search(r"\| database connections, both servers, at the peak \(pg_stat_activity\) \| (\d+) \|", race.stdout).group(1))
    workers = int(os.environ.get("WEB_CONCURRENCY") or gunicorn_config()["workers"])
    pool_size = production_settings()["pool"]["max_size"]
    # 200 buyers at once keep every thread of both servers busy (2 servers x workers x threads).
    assert 0 < peak <= 2 * workers * pool_size
