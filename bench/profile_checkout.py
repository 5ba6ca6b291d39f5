"""In-process cost of checkout start and of the registration form rendered fresh, with a profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<filled bench db> .venv/bin/python bench/profile_checkout.py [--profile]

Runs against a database `make bench` filled (bench/fill_rush.py), with production settings and
the page cache off, through Django's test client: no server, no network but loopback to
PostgreSQL and to the Stripe test double (its own process, answering at once, so Stripe costs
this process only the SDK's work). Prints, per request, the wall time (what a buyer waits,
including PostgreSQL and the double) and the CPU time of this process (its in-process cost),
medians of --rounds rounds of --n requests each; with --profile, cProfile's top functions too.
"""

import argparse
import atexit
import cProfile
import io
import os
import pstats
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_double() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.stripe_double", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/_double/state", timeout=1)
            return url
        except urllib.error.HTTPError:  # an older double without the control paths: up all the same
            return url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the Stripe test double did not start")


DOUBLE_URL = start_double()
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
    DJANGO_ALLOWED_HOSTS="testserver",
    DJANGO_SECURE_SSL_REDIRECT="False",
    STRIPE_SECRET_KEY="sk_test_profile",
    STRIPE_WEBHOOK_SECRET="whsec_profile",
    STRIPE_API_BASE=DOUBLE_URL,
    PUBLIC_PAGE_CACHE_SECONDS="0",
    EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    # Every request here comes from one address: the cap on one network's unpaid card holds would
    # refuse all but the first 60 seats (as in bench/run.sh).
    CHECKOUT_HOLD_SEATS_PER_NETWORK="0",
)

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from workshops.models import Workshop  # noqa: E402

SLUG = "using-racial-affinity-groups-in-schools"
FORM = "application/x-www-form-urlencoded"


def form(i: int) -> dict:
    return {
        "buyer_name": "Rush Buyer",
        "buyer_email": f"profile{int(time.time())}.{i}@school.example",
        "organisation": "Lincoln Unified School District",
        "role": "teacher",
        "seat_count": "1",
        "buyer_attends": "on",
        "attendees-TOTAL_FORMS": "0",
        "attendees-INITIAL_FORMS": "0",
        "attendees-MIN_NUM_FORMS": "0",
        "attendees-MAX_NUM_FORMS": "50",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", choices=["post", "get"], help="measure one of the two")
    parser.add_argument("--dump", help="also write the raw profile to this file (pstats)")
    args = parser.parse_args()

    Workshop.objects.filter(slug=SLUG).update(capacity=1_000_000)
    client = Client()
    register = f"/workshops/{SLUG}/register/"
    checks = {
        # Form-encoded, as a browser posts it (the test client would otherwise send multipart).
        "checkout start (POST)": lambda i: client.post(register, urlencode(form(i)), content_type=FORM),
        "registration form (GET, rendered fresh)": lambda i: client.get(register),
    }
    for label, call in checks.items():
        if args.only and args.only.upper() not in label:
            continue
        response = call(-1)  # warm up, and check it does what it should
        expected = 302 if "POST" in label else 200
        assert response.status_code == expected, (label, response.status_code)
        if expected == 302:
            assert response["Location"].startswith("https://checkout.stripe.test/"), response["Location"]
        wall, cpu = [], []
        profiler = cProfile.Profile() if args.profile else None
        for r in range(args.rounds):
            if profiler:
                profiler.enable()
            started, started_cpu = time.perf_counter(), time.process_time()
            for i in range(args.n):
                status = call(r * args.n + i).status_code
                assert status == expected, f"{label}: answered {status}, not {expected}"
            wall.append((time.perf_counter() - started) / args.n * 1000)
            cpu.append((time.process_time() - started_cpu) / args.n * 1000)
            if profiler:
                profiler.disable()
        print(f"{label}: {statistics.median(cpu):.1f} ms CPU, {statistics.median(wall):.1f} ms wall per request "
              f"(medians of {args.rounds} rounds of {args.n}; CPU by round: {', '.join(f'{x:.1f}' for x in cpu)})")
        if profiler and args.dump:
            profiler.dump_stats(args.dump)
        if profiler:
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
                print(f"--- {label}, by {order} ---")
                print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
