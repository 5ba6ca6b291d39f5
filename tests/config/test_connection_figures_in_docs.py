"""The figures the docs give an operator are the ones the code and the last bench run give.

Someone sizing PostgreSQL (or a PgBouncer) reads the connection arithmetic beside the pool settings
and in the README; someone judging the site's speed reads the README's speed section. Both must say
what the defaults and bench/RESULTS.md say.
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
    """The README's speed section describes the run bench/RESULTS.md holds (make bench rewrites that file)."""
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    last = re.search(r"Last run: \d{4}-\d\d-\d\d (\d\d:\d\d) UTC", results).group(1)
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Speed under a registration rush", 1)[1].split("\n## ", 1)[0]
    assert f"{last} UTC" in section, f"README's speed section does not describe the {last} UTC run in bench/RESULTS.md"
