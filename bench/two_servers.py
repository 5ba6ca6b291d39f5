"""Two app servers, one PostgreSQL: race 200 checkout starts for the last 20 seats across both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/two_servers.py

Creates (and afterwards drops) its own database next to DATABASE_URL's, starts the Stripe
test double and two gunicorn instances (production settings, `gunicorn -c gunicorn.conf.py`:
4 workers x 16 threads each by default, a connection pool per worker) on different loopback ports, then
fires the buyers from threads, alternating servers, while it samples pg_stat_activity for the
database connections both servers hold. Exits non-zero unless exactly the available seats end
up held. Traffic stays on 127.0.0.1.
"""

import argparse
import concurrent.futures
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def request(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with OPENER.open(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if request(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--seats", type=int, default=20)
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (the race needs row locks).")
    db_name = f"two_servers_{secrets.token_hex(4)}"
    parts = urllib.parse.urlsplit(base_url)
    admin_url = parts._replace(path="/postgres").geturl()
    db_url = parts._replace(path=f"/{db_name}").geturl()

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')

    stripe_port, ports = free_port(), [free_port(), free_port()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": db_url,
        "STRIPE_SECRET_KEY": "sk_test_two_servers",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "SITE_URL": "http://127.0.0.1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        setup = (
            "from workshops.models import Workshop; from django.core.management import call_command;"
            "call_command('seed_demo', verbosity=0);"
            f"w = Workshop.objects.get(slug='using-racial-affinity-groups-in-schools'); w.capacity = {args.seats}; w.save();"
            "print(w.slug)"
        )
        slug = subprocess.run(
            [PY, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip().splitlines()[-1]
        procs.append(subprocess.Popen([PY, "-m", "tests.stripe_double", "--port", str(stripe_port)], cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            procs.append(subprocess.Popen(
                [str(Path(PY).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                 "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz/")

        register = f"/workshops/{slug}/register/"
        tokens = {}
        for port in ports:  # one CSRF cookie/token pair per server, fetched like a browser would
            status, headers, body = request(f"http://127.0.0.1:{port}{register}")
            cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
            tokens[port] = (cookie, token)

        def buy(i: int) -> tuple[int, int, float]:
            port = ports[i % 2]
            cookie, token = tokens[port]
            body = urllib.parse.urlencode({
                "csrfmiddlewaretoken": token, "buyer_name": f"Buyer {i}", "buyer_email": f"buyer{i}@race.example",
                "organisation": "District", "role": "teacher", "seat_count": "1", "buyer_attends": "on",
                "attendees-TOTAL_FORMS": "0", "attendees-INITIAL_FORMS": "0",
            }).encode()
            started = time.perf_counter()
            status, _, _ = request(
                f"http://127.0.0.1:{port}{register}", data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
            )
            return port, status, time.perf_counter() - started

        connections = []  # pg_stat_activity samples: connections to this database (the sampler uses another)
        race_over = threading.Event()

        def sample_connections() -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                while not race_over.is_set():
                    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [db_name]).fetchone()
                    connections.append(row[0])
                    time.sleep(0.01)

        sampler = threading.Thread(target=sample_connections, daemon=True)
        sampler.start()
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.buyers) as pool:
            results = list(pool.map(buy, range(args.buyers)))
        elapsed = time.perf_counter() - started
        race_over.set()
        sampler.join(timeout=5)

        count = (
            "from registrations.models import Order; from registrations.selectors.availability import seats_taken;"
            "from workshops.models import Workshop; w = Workshop.objects.get(slug=%r);"
            "print(Order.objects.filter(status='pending').count(), seats_taken(workshop_id=w.pk), w.capacity)" % slug
        )
        held_orders, held_seats, capacity = map(int, subprocess.run(
            [PY, "manage.py", "shell", "-c", count], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.split()[-3:])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    by_status: dict[int, int] = {}
    for _, status, _ in results:
        by_status[status] = by_status.get(status, 0) + 1
    per_server = {port: sum(1 for p, s, _ in results if p == port and s == 302) for port in ports}
    latencies = sorted(r[2] for r in results)
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| buyers (1 seat each), split over 2 servers | {args.buyers} |")
    print(f"| seats available | {capacity} |")
    print(f"| sent to Stripe Checkout (302) | {by_status.get(302, 0)} (server A {per_server[ports[0]]}, server B {per_server[ports[1]]}) |")
    print(f"| told \"only N left\" beside the seat field (400) | {by_status.get(400, 0)} |")
    print(f"| shown the sold-out page (200) | {by_status.get(200, 0)} |")
    print(f"| anything else (errors) | {sum(v for k, v in by_status.items() if k not in (200, 302, 400))} |")
    print(f"| seats held afterwards (SQL) | {held_seats} in {held_orders} orders |")
    print(f"| oversold seats | {max(held_seats - capacity, 0)} |")
    print(f"| wall time | {elapsed:.2f} s |")
    print(f"| median / p99 latency | {statistics.median(latencies) * 1000:.0f} ms / {p99 * 1000:.0f} ms |")
    print(f"| database connections, both servers, at the peak (pg_stat_activity) | {max(connections, default=0)} |")
    errors = sum(v for k, v in by_status.items() if k not in (200, 302, 400))
    ok = held_seats == capacity and held_orders == capacity and by_status.get(302, 0) == capacity and not errors
    print("RESULT:", "exactly the available seats were held" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
