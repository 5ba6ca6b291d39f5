"""Two app servers, one shared store: the waitlist form's rate limits hold across both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/two_servers_ratelimit.py [--redis]

Like two_servers.py: its own database (created, then dropped), two gunicorn instances on production
settings and different loopback ports. Limits are set low through the environment; then, at once and
alternating servers, 24 joins name one email address (limit 3 per email), and 24 joins from one
address name 24 different emails (limit 5 per address, after the store is cleared). Each server alone
would let its own share through; shared counters let exactly the limit through in all. With --redis the
counters live in Redis (RATE_LIMIT_CACHE_URL=redis://127.0.0.1:6379/15), otherwise in the database
cache. Exits non-zero unless exactly the limits got through, the rest were told so (429) and nothing
answered 500. Traffic stays on 127.0.0.1.
"""

import argparse
import concurrent.futures
import os
import re
import secrets
import subprocess
import sys
import urllib.parse
from pathlib import Path

from two_servers import free_port, request, wait_for

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
COHORT = "/cohorts/racial-affinity-groups-year-long-cohort/"
PER_EMAIL, PER_ADDRESS, ATTEMPTS = 3, 5, 24


def manage(env: dict, *args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def fire(ports: list[int], emails: list[str]) -> list[int]:
    """One join per email, all at once, alternating servers; each with a CSRF pair fetched from its server."""
    tokens = {}
    for port in ports:
        _, headers, body = request(f"http://127.0.0.1:{port}{COHORT}")
        cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
        tokens[port] = (cookie, re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode())

    def join(i: int) -> int:
        port = ports[i % 2]
        cookie, token = tokens[port]
        body = urllib.parse.urlencode({
            "csrfmiddlewaretoken": token, "name": f"Person {i}", "email": emails[i], "role": "teacher",
            "organisation": "District", "kind": "individual", "team_size": "", "note": "",
        }).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"}
        return request(f"http://127.0.0.1:{port}{COHORT}", data=body, headers=headers)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(emails)) as pool:
        return list(pool.map(join, range(len(emails))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", action="store_true", help="keep the counters in Redis instead of the database")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server.")
    db_name = f"two_servers_rl_{secrets.token_hex(4)}"
    parts = urllib.parse.urlsplit(base_url)
    admin_url = parts._replace(path="/postgres").geturl()

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": parts._replace(path=f"/{db_name}").geturl(),
        "STRIPE_SECRET_KEY": "sk_test_two_servers",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "SITE_URL": "http://127.0.0.1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "RATE_LIMIT_PER_EMAIL": str(PER_EMAIL),
        "RATE_LIMIT_PER_ADDRESS": str(PER_ADDRESS),
        "RATE_LIMIT_CACHE_URL": "redis://127.0.0.1:6379/15" if args.redis else "dbcache://rate_limit_cache",
        # Its own keys in a Redis that others may share: cleared by prefix, never by FLUSHDB.
        "RATE_LIMIT_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
    }
    procs: list[subprocess.Popen] = []
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "seed_demo")
        clear = (
            "from django.conf import settings; from django.core.cache import caches; c = caches['ratelimit']\n"
            "if settings.CACHES['ratelimit']['BACKEND'].endswith('RedisCache'):\n"
            "    r = c._cache.get_client(write=True); [r.delete(k) for k in r.scan_iter(match=c.key_prefix + ':*')]\n"
            "else:\n    c.clear()"
        )
        manage(env, "shell", "-c", clear)
        for port in ports:
            procs.append(subprocess.Popen(
                [str(Path(PY).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                 "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz/")

        one_email = fire(ports, ["same.person@district.example"] * ATTEMPTS)
        queued = manage(env, "shell", "-c", "from registrations.models import OutboundEmail;"
                        "print(OutboundEmail.objects.filter(to_address__iexact='same.person@district.example').count())")
        manage(env, "shell", "-c", clear)
        one_address = fire(ports, [f"person{i}@district.example" for i in range(ATTEMPTS)])
        entries = manage(env, "shell", "-c", "from cohorts.models import WaitlistEntry; print(WaitlistEntry.objects.count())")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.redis:
            subprocess.run([PY, "manage.py", "shell", "-c", clear], cwd=ROOT, env=env, check=False, capture_output=True)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    def count(results, status):
        return sum(1 for r in results if r == status)

    queued, entries = int(queued.split()[-1]), int(entries.split()[-1])
    store = "Redis" if args.redis else "the database cache"
    print(f"| store | {store} |")
    print("| figure | one email, limit 3 | one address, limit 5 |")
    print("| --- | --- | --- |")
    print(f"| joins sent at once over 2 servers | {ATTEMPTS} | {ATTEMPTS} |")
    print(f"| accepted (302) | {count(one_email, 302)} | {count(one_address, 302)} |")
    print(f"| told to wait (429) | {count(one_email, 429)} | {count(one_address, 429)} |")
    print(f"| anything else | {ATTEMPTS - count(one_email, 302) - count(one_email, 429)} | "
          f"{ATTEMPTS - count(one_address, 302) - count(one_address, 429)} |")
    print(f"| emails queued to the one address | {queued} | |")
    print(f"| waitlist entries afterwards | | {entries} (1 + {entries - 1}) |")
    ok = (
        count(one_email, 302) == PER_EMAIL and count(one_email, 429) == ATTEMPTS - PER_EMAIL and queued == PER_EMAIL
        and count(one_address, 302) == PER_ADDRESS and count(one_address, 429) == ATTEMPTS - PER_ADDRESS
        and entries == 1 + PER_ADDRESS
    )
    print("RESULT:", "the limits held across both servers" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
