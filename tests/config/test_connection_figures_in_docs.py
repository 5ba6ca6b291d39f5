"""Review 18: the connection arithmetic the docs state must be the one the defaults give.

a27b403 moved gunicorn to 4 workers x 16 threads; config/settings/production.py still says
"2 servers x 2 workers x 8 = 32 connections at most" next to the pool it configures. An operator sizing
PostgreSQL (or a PgBouncer) from that comment provisions half the connections the servers will open.
"""

import re
from pathlib import Path

from tests.server_config import gunicorn_config, production_settings

ROOT = Path(__file__).resolve().parents[2]


def _defaults() -> tuple[int, int]:
    return gunicorn_config()["workers"], production_settings()["pool"]["max_size"]


def test_production_settings_comment_states_the_default_connection_ceiling():
    workers, pool = _defaults()
    text = (ROOT / "config" / "settings" / "production.py").read_text()
    stated = re.search(r"(\d+) servers x (\d+) workers x (\d+) = (\d+) connections", text)
    assert stated, "production.py no longer states the connection arithmetic"
    servers, doc_workers, doc_pool, total = map(int, stated.groups())
    assert (doc_workers, doc_pool, total) == (workers, pool, servers * workers * pool), stated.group(0)


def test_readme_states_the_default_connection_ceiling():
    workers, pool = _defaults()
    text = (ROOT / "README.md").read_text()
    stated = re.search(r"two app servers × (\d+) workers × (\d+) = (\d+) at most", text)
    assert stated
    assert tuple(map(int, stated.groups())) == (workers, pool, 2 * workers * pool)


def test_readme_speed_section_describes_the_run_in_bench_results():
    """README "Speed under a registration rush" calls run B "the last, bench/RESULTS.md" and says the
    workshop page misses its 70 % share; bench/RESULTS.md (rewritten by a27b403) is a later run where all hold."""
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    last = re.search(r"Last run: \d{4}-\d\d-\d\d (\d\d:\d\d) UTC", results).group(1)
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Speed under a registration rush", 1)[1].split("\n## ", 1)[0]
    assert f"{last} UTC" in section, f"README's speed section does not describe the {last} UTC run in bench/RESULTS.md"
