"""Measure the site under a registration rush; called by bench/run.sh once gunicorn is up.

Throughput and latency come from wrk (`--latency`), one bounded run per endpoint, endpoints taken
round-robin (the starting point rotates each round) so machine noise hits all of them alike.
Ratios are taken per round against /healthz/ measured in the same round, then the median.
Writes bench/RESULTS.md and prints the same Markdown.
"""

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from registrations.models import Order  # noqa: E402
from registrations.selectors.availability import seat_taking_orders, seats_taken
from workshops.models import Workshop  # noqa: E402

BASE = os.environ["BENCH_URL"].rstrip("/")
HOST_PORT = urllib.parse.urlsplit(BASE).netloc
assert HOST_PORT.startswith(("127.", "localhost")), "the bench only sends traffic to this machine"
DURATION = int(os.environ.get("BENCH_DURATION", "5"))  # seconds per wrk run
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # per pass; two passes
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
WARMUP = 2
RUSH_SLUG = "using-racial-affinity-groups-in-schools"
CONTENDERS = 200
SEATS_LEFT_FOR_CONTENTION = 20
GET_TARGET = 0.80
CHECKOUT_TARGET = 0.25


# --- wrk -----------------------------------------------------------------------
@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx answers plus socket errors


@dataclass
class Endpoint:
    name: str
    label: str
    path: str
    script: str | None = None
    target: float | None = GET_TARGET
    fresh: bool = False  # rendered anew each time: the page cache is bypassed by a query string
    runs: list = field(default_factory=list)
    ratios: list = field(default_factory=list)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(text: str) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    pct = {m[0]: _ms(m[1], m[2]) for m in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", text))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        # gunicorn's sync workers close every connection; wrk may count those closes as read errors.
        connect, _read, write, timeout = (int(x) for x in socket_errors.groups())
        bad += connect + write + timeout
    return Run(rps=rps, p50_ms=pct["50"], p99_ms=pct["99"], requests=requests, bad=bad)


def wrk(endpoint: Endpoint, seconds: int, tag: str) -> Run:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if endpoint.script:
        cmd += ["-s", endpoint.script]
    cmd.append(BASE + endpoint.path)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
    (OUT / f"wrk-{endpoint.name}-{tag}.txt").write_text(" ".join(cmd) + "\n" + result.stdout + result.stderr)
    return parse_wrk(result.stdout)


# --- HTTP helpers (stdlib only) -------------------------------------------------
def get(path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = HTTPConnection(HOST_PORT, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def csrf_pair(register_path: str) -> tuple[str, str]:
    """The csrftoken cookie and a form token for it, fetched once like a browser's first visit."""
    status, headers, body = get(register_path)
    assert status == 200, f"GET {register_path} answered {status}"
    cookie = SimpleCookie()
    cookie.load(headers.get("set-cookie", ""))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    return cookie["csrftoken"].value, token


def registration_body(csrf_token: str, email: str) -> str:
    return urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": csrf_token,
            "buyer_name": "Rush Buyer",
            "buyer_email": email,
            "organisation": "Lincoln Unified School District",
            "role": "teacher",
            "seat_count": "1",
            "buyer_attends": "on",
            "attendees-TOTAL_FORMS": "0",
            "attendees-INITIAL_FORMS": "0",
            "attendees-MIN_NUM_FORMS": "0",
            "attendees-MAX_NUM_FORMS": "50",
        }
    )


def post_registration(register_path: str, cookie: str, token: str, email: str) -> tuple[int, str, float]:
    body = registration_body(token, email)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"}
    conn = HTTPConnection(HOST_PORT, timeout=60)
    started = time.perf_counter()
    try:
        conn.request("POST", register_path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or "", time.perf_counter() - started
    finally:
        conn.close()


def checkout_script(register_path: str, cookie: str, token: str) -> str:
    """A wrk script that posts the registration form, each request with its own buyer email."""
    template = registration_body(token, "EMAIL").replace("EMAIL", "rush%d.%d%%40school.example")
    path = OUT / "checkout.lua"
    path.write_text(
        f"""-- generated by bench/bench.py: registration POST (checkout start) with a CSRF cookie and token
local n = 0
local run = os.time()
local headers = {{["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "csrftoken={cookie}"}}
request = function()
  n = n + 1
  return wrk.format("POST", "{register_path}", headers, string.format("{template}", run, n))
end
"""
    )
    return str(path)


# --- memory ------------------------------------------------------------------------
def worker_pids() -> list[int]:
    master = int(Path(os.environ["BENCH_GUNICORN_PIDFILE"]).read_text().strip())
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == master:
                children.append(int(entry.name))
    return sorted(children)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_snapshot() -> dict[int, float]:
    return {pid: rss_mib(pid) for pid in worker_pids()}


# --- the suite ---------------------------------------------------------------------
def rotate(items: list, k: int) -> list:
    k %= len(items)
    return items[k:] + items[:k]


def run_pass(endpoints: list[Endpoint], number: int, first_round: int) -> None:
    healthz = endpoints[0]
    for r in range(ROUNDS):
        round_no = first_round + r
        results = {}
        for endpoint in rotate(endpoints, round_no):
            results[endpoint.name] = wrk(endpoint, DURATION, f"p{number}r{round_no}")
            endpoint.runs.append(results[endpoint.name])
        for endpoint in endpoints:
            endpoint.ratios.append(results[endpoint.name].rps / results[healthz.name].rps)
        line = "  ".join(f"{e.name} {results[e.name].rps:.0f}" for e in endpoints)
        print(f"  pass {number} round {r + 1}/{ROUNDS}: req/s  {line}", flush=True)


def preflight(endpoints: list[Endpoint], cookie: str, token: str, register_path: str) -> list[Endpoint]:
    """Every page answers 200 and checkout start redirects to Stripe before anything is timed."""
    ready = []
    for endpoint in endpoints:
        if endpoint.script:
            status, location, _ = post_registration(register_path, cookie, token, "preflight@school.example")
            assert status == 302 and "checkout.stripe.test" in location, f"checkout start answered {status} {location}"
        else:
            status, _, _ = get(endpoint.path)
            if status != 200:
                print(f"  skipping {endpoint.label}: {endpoint.path} answered {status}")
                continue
        ready.append(endpoint)
    return ready


# --- contention: a correctness race, not a throughput run ------------------------------
def contention(register_path: str, cookie: str, token: str) -> dict:
    workshop = Workshop.objects.get(slug=RUSH_SLUG)
    taken_before = seats_taken(workshop_id=workshop.pk)
    capacity = taken_before + SEATS_LEFT_FOR_CONTENTION
    Workshop.objects.filter(pk=workshop.pk).update(capacity=capacity)
    connection.close()
    tag = f"race{int(time.time())}"
    barrier = threading.Barrier(CONTENDERS)
    results: list[tuple[int, str, float, float]] = []
    lock = threading.Lock()
    t0 = 0.0

    def buyer(i: int) -> None:
        barrier.wait()
        try:
            status, location, latency = post_registration(register_path, cookie, token, f"{tag}.{i}@school.example")
        except OSError as exc:
            status, location, latency = 0, str(exc), float("nan")
        with lock:
            results.append((status, location, latency, time.perf_counter() - t0))

    threads = [threading.Thread(target=buyer, args=(i,), daemon=True) for i in range(CONTENDERS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    wall = time.perf_counter() - t0

    holds = [r for r in results if r[0] == 302 and "checkout.stripe.test" in r[1]]
    refused = [r for r in results if r[0] in (200, 400)]
    errors = len(results) - len(holds) - len(refused) + (CONTENDERS - len(results))
    latencies = sorted(r[2] for r in results if r[2] == r[2])
    # Verify in the database, not from the HTTP answers.
    taken_after = seats_taken(workshop_id=workshop.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(SUM(seat_count - refunded_seat_count), 0) FROM registrations_order
            WHERE workshop_id = %s AND (status IN ('paid', 'processing') OR (status = 'pending' AND hold_expires_at > now()))
            """,
            [workshop.pk],
        )
        sql_taken = cursor.fetchone()[0]
    race_orders = Order.objects.filter(workshop=workshop, buyer_email__startswith=f"{tag}.").count()
    last_hold_at = max((r[3] for r in holds), default=wall)
    return {
        "contenders": CONTENDERS,
        "seats_left": SEATS_LEFT_FOR_CONTENTION,
        "holds": len(holds),
        "refused": len(refused),
        "errors": errors,
        "orders_created": race_orders,
        "wall_s": wall,
        "holds_per_s": len(holds) / last_hold_at if last_hold_at else 0.0,
        "answers_per_s": len(results) / wall,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[max(0, int(round(0.99 * len(latencies))) - 1)] * 1000 if latencies else float("nan"),
        "capacity": capacity,
        "taken_sql": sql_taken,
        "taken_selector": taken_after,
        "oversold": max(0, sql_taken - capacity),
    }


# --- static files and third-party requests --------------------------------------------
def static_checks(pages: list[str]) -> list[str]:
    notes = []
    external = set()
    assets = set()
    for path in pages:
        _, _, body = get(path)
        html = body.decode()
        for tag, url in re.findall(r"<(script|link|img|iframe|source)\b[^>]*?(?:src|href)=\"([^\"]+)\"", html):
            if url.startswith(("http://", "https://", "//")) and HOST_PORT not in url:
                external.add(url)
            elif url.startswith("/static/"):
                assets.add(url)
    notes.append(f"third-party requests from the public pages: {len(external)}" + (f" ({', '.join(sorted(external))})" if external else ""))
    fingerprinted = [a for a in assets if re.search(r"\.[0-9a-f]{12}\.\w+$", a)]
    notes.append(f"static assets referenced: {len(assets)}, fingerprinted: {len(fingerprinted)}")
    for asset in sorted(assets):
        status, headers, body = get(asset, {"Accept-Encoding": "gzip, br"})
        notes.append(
            f"`{asset.split('/')[-1]}`: {status}, Content-Encoding {headers.get('content-encoding', 'none')}, "
            f"Cache-Control `{headers.get('cache-control', 'none')}`"
        )
    return notes


# --- indexes the hot queries use (EXPLAIN on the bench database) -----------------------
def explain_checks() -> list[str]:
    from registrations.models import Seat

    workshop = Workshop.objects.get(slug=RUSH_SLUG)
    order = Order.objects.filter(workshop=workshop).exclude(stripe_checkout_session_id="").first()
    seat = Seat.objects.first()
    queries = {
        "seats taken (paid + live holds)": Order.objects.filter(workshop_id=workshop.pk, status="paid"),
        "order by token": Order.objects.filter(token=order.token),
        "seat by token": Seat.objects.filter(token=seat.token),
        "order by Checkout Session id": Order.objects.filter(stripe_checkout_session_id=order.stripe_checkout_session_id),
        "order by PaymentIntent id": Order.objects.filter(stripe_payment_intent_id="pi_rush_5"),
        "seats of an order": Seat.objects.filter(order_id=order.pk),
    }

    # The columns selectors.seats_taken sums, so the plan shown is the count's own (an index-only scan).
    queries["seats taken (paid + live holds)"] = Order.objects.filter(
        seat_taking_orders(), workshop_id=workshop.pk
    ).values("seat_count", "refunded_seat_count")
    try:
        from django.apps import apps
        from django.db.models.functions import Lower

        WaitlistEntry = apps.get_model("cohorts", "WaitlistEntry")
        entry = WaitlistEntry.objects.first()
        if entry is not None:
            queries["waitlist entry by email"] = WaitlistEntry.objects.annotate(e=Lower("email")).filter(
                cohort_id=entry.cohort_id, e=entry.email.lower()
            )
            queries["waitlist entry by token"] = WaitlistEntry.objects.filter(token=entry.token)
    except LookupError:
        pass
    lines, full = [], []
    for label, qs in queries.items():
        plan = qs.explain()
        full.append(f"## {label}\n{qs.query}\n{plan}\n")
        scans = re.findall(r"((?:Index Only Scan|Index Scan|Bitmap Index Scan) using \w+|Seq Scan on \w+)", plan)
        lines.append(f"{label}: {', '.join(dict.fromkeys(scans)) or plan.splitlines()[0]}")
    (OUT / "explain.txt").write_text("\n".join(full))
    return lines


# --- report --------------------------------------------------------------------------
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg.split()[0]}, {wrk_version}; "
        "wrk, gunicorn, PostgreSQL and the Stripe test double all on the same machine"
    )


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def report(endpoints, memory, race, static_notes, explain_lines, elapsed) -> str:
    healthz = endpoints[0]
    header = [
        "| endpoint | req/s (median) | p50 ms | p99 ms | vs /healthz/ | target | holds? |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    rows, fresh_rows = list(header), list(header)
    missed = []
    ratios: dict[str, tuple[float, int]] = {}
    for e in endpoints:
        rps = statistics.median(r.rps for r in e.runs)
        p50 = statistics.median(r.p50_ms for r in e.runs)
        p99 = statistics.median(r.p99_ms for r in e.runs)
        ratio = statistics.median(e.ratios)
        bad = sum(r.bad for r in e.runs)
        if e is healthz:
            target, verdict = "baseline", "–"
        elif e.target is None:
            target, verdict = "–", "–"
        else:
            target = f"≥ {e.target:.0%}"
            ok = ratio >= e.target and bad == 0
            verdict = "yes" if ok else "**no**"
            if not ok:
                missed.append(f"{e.label} at {ratio:.0%} of /healthz/ (target {e.target:.0%})")
        if bad:
            verdict += f" ({bad} failed answers)"
            missed.append(f"{e.label}: {bad} failed answers")
        row = f"| {e.label} | {fmt(rps)} | {fmt(p50, 2)} | {fmt(p99, 2)} | {ratio:.0%} | {target} | {verdict} |"
        (fresh_rows if e.fresh else rows).append(row)
        ratios[e.name] = (ratio, bad)

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    total_requests = sum(r.requests for e in endpoints for r in e.runs)
    load = " / ".join(f"{x:.1f}" for x in LOAD_AT_START) + " at the start, " + " / ".join(
        f"{x:.1f}" for x in os.getloadavg()
    ) + " at the end"
    out = [
        "# Benchmark results",
        "",
        f"Last run: {now}, `make bench`, {elapsed:.0f} s in all. Machine: {machine()}. "
        f"Load average (1/5/15 min): {load}.",
        "",
        f"gunicorn, 2 sync workers, `config.settings.production` (DEBUG off), PostgreSQL. wrk `-t1 -c{CONNECTIONS}`, "
        f"{DURATION} s per run, endpoints round-robin with a rotating start, {ROUNDS} rounds in each of 2 passes "
        f"({2 * ROUNDS} runs per endpoint, {total_requests:,} requests); medians shown, ratios are the median of "
        "per-round ratios to /healthz/ measured in the same round.",
        "",
        "## Throughput and latency",
        "",
        *rows,
        "",
        "Public pages as production serves them: an anonymous visitor gets the process's copy of the page, at "
        f"most {settings.PUBLIC_PAGE_CACHE_SECONDS} s old (`PUBLIC_PAGE_CACHE_SECONDS`, "
        "workshops/middleware.py), with a CSRF token of their own. Checkout start is never cached.",
        "",
        "### The same pages rendered on every request (page cache bypassed)",
        "",
        "Measured in the same rounds, for comparison: the cost of a page whose cached copy has just expired.",
        "",
        *fresh_rows,
        "",
        "## Contention: checkout starts racing for the last seats",
        "",
        "| buyers at once | seats left | holds placed | refused (sold out) | errors | holds/s | answers/s | p50 ms | p99 ms | oversold seats (SQL) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {race['contenders']} | {race['seats_left']} | {race['holds']} | {race['refused']} | {race['errors']} | "
        f"{fmt(race['holds_per_s'])} | {fmt(race['answers_per_s'])} | {fmt(race['p50_ms'], 0)} | {fmt(race['p99_ms'], 0)} | "
        f"**{race['oversold']}** |",
        "",
        f"Capacity set to seats taken + {race['seats_left']} = {race['capacity']:,}; after the race SQL counts "
        f"{race['taken_sql']:,} seats taken (paid + live holds) and {race['orders_created']} orders created by the racers. "
        "Holds/s = holds placed ÷ time until the last hold was answered; the p99 includes waiting in gunicorn's "
        "backlog behind 199 other buyers on 2 workers.",
        "",
        "## Memory: resident set of each gunicorn worker (VmRSS)",
        "",
        "| worker pid | after warm-up MiB | after pass 1 MiB | after pass 2 MiB | growth pass 1 → 2 MiB |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for pid in memory["warm"]:
        a, b, c = memory["warm"][pid], memory["pass1"].get(pid, 0), memory["pass2"].get(pid, 0)
        out.append(f"| {pid} | {fmt(a)} | {fmt(b)} | {fmt(c)} | {c - b:+.1f} |")
    growth = max((memory["pass2"].get(p, 0) - memory["pass1"].get(p, 0)) for p in memory["warm"])
    steady = growth <= 2.0 and set(memory["pass1"]) == set(memory["pass2"])
    out += [
        "",
        f"Largest growth between the two consecutive passes: {growth:+.1f} MiB "
        f"({'no growth beyond allocator noise (≤ 2 MiB)' if steady else '**grew**'}); same worker pids throughout: "
        f"{'yes' if set(memory['warm']) == set(memory['pass2']) else 'no'}.",
        "",
        "## Static files and third-party requests",
        "",
        *[f"- {n}" for n in static_notes],
        "",
        "## Indexes used by the hot queries (EXPLAIN on the bench database)",
        "",
        *[f"- {line}" for line in explain_lines],
        "",
    ]
    if race["oversold"] or race["errors"]:
        missed.append(f"contention: {race['oversold']} oversold seats, {race['errors']} errors")
    if not steady:
        missed.append(f"memory grew by {growth:+.1f} MiB between passes")
    summary = "all targets hold" if not missed else "missed: " + "; ".join(missed)
    pages = [ratios[n] for n in ("home", "workshop", "register", "cohort") if n in ratios]
    pages_ok = all(r >= GET_TARGET and not bad for r, bad in pages)
    checkout, checkout_bad = ratios.get("checkout", (0.0, 0))
    checkout_ok = checkout >= CHECKOUT_TARGET and not checkout_bad
    memory_growth = ", ".join(
        f"{memory['pass2'].get(p, 0) - memory['pass1'].get(p, 0):+.1f}" for p in memory["warm"]
    )
    targets = [
        "## Targets",
        "",
        "| target | this run | holds? |",
        "| --- | --- | --- |",
        f"| every public GET page ≥ {GET_TARGET:.0%} of /healthz/ | "
        f"{min(r for r, _ in pages):.0%}–{max(r for r, _ in pages):.0%} ({len(pages)} pages) | {'yes' if pages_ok else '**no**'} |",
        f"| checkout start ≥ {CHECKOUT_TARGET:.0%} of /healthz/ | {checkout:.0%} | {'yes' if checkout_ok else '**no**'} |",
        f"| {race['contenders']} buyers for {race['seats_left']} seats: nothing oversold | "
        f"{race['holds']} holds, {race['refused']} refused, {race['errors']} errors, {race['oversold']} oversold (SQL) | "
        f"{'yes' if not race['oversold'] and not race['errors'] else '**no**'} |",
        f"| worker memory flat across two consecutive passes | {memory_growth} MiB | {'yes' if steady else '**no**'} |",
    ]
    out[3:3] = ["", f"**Verdict: {summary}.**", "", *targets]
    return "\n".join(out)


LOAD_AT_START = os.getloadavg()
README_START, README_END = "<!-- results: start (written by bench/bench.py) -->", "<!-- results: end -->"


def update_readme(text: str) -> None:
    """Put this run's results into bench/README.md between its markers, so the README shows the last run."""
    readme = ROOT / "bench" / "README.md"
    if not readme.exists():
        return
    current = readme.read_text()
    if README_START not in current or README_END not in current:
        return
    body = text.split("\n", 1)[1].strip().replace("\n### ", "\n#### ").replace("\n## ", "\n### ")
    head, rest = current.split(README_START, 1)
    readme.write_text(f"{head}{README_START}\n{body}\n{README_END}{rest.split(README_END, 1)[1]}")


def main() -> None:
    started = time.monotonic()
    OUT.mkdir(exist_ok=True)
    workshop = Workshop.objects.get(slug=RUSH_SLUG)
    # Plenty of room so checkout starts keep succeeding throughout the timed runs.
    Workshop.objects.filter(pk=workshop.pk).update(capacity=1_000_000)
    register_path = f"/workshops/{workshop.slug}/register/"
    try:
        from django.apps import apps

        Cohort = apps.get_model("cohorts", "Cohort")
        cohort = Cohort.objects.filter(is_published=True).order_by("pk").first()
    except Exception:  # the cohorts app may not have its tables yet
        cohort = None
    connection.close()

    cookie, token = csrf_pair(register_path)
    endpoints = [
        Endpoint("healthz", "`/healthz/` (one query: the floor)", "/healthz/", target=None),
        Endpoint("home", "home `/`", "/"),
        Endpoint("workshop", "workshop page", f"/workshops/{workshop.slug}/"),
        Endpoint("register", "registration form (GET)", register_path),
    ]
    if cohort is not None:
        endpoints.append(Endpoint("cohort", "cohort page", f"/cohorts/{cohort.slug}/"))
    endpoints.append(
        Endpoint("checkout", "checkout start (POST: order + hold + Stripe session)", register_path,
                 script=checkout_script(register_path, cookie, token), target=CHECKOUT_TARGET)
    )
    # The same pages rendered anew on every request (a query string skips the page cache): what a
    # page costs when its cached copy has just expired, shown beside the targets, not judged by them.
    for page in [e for e in endpoints if e.name in ("home", "workshop", "register", "cohort")]:
        endpoints.append(Endpoint(f"{page.name}-fresh", page.label, f"{page.path}?bench=fresh", target=None, fresh=True))
    endpoints = preflight(endpoints, cookie, token, register_path)

    print(f"warm-up: {WARMUP} s per endpoint", flush=True)
    for endpoint in endpoints:
        wrk(endpoint, WARMUP, "warmup")
    memory = {"warm": memory_snapshot()}
    for number in (1, 2):
        print(f"pass {number}: {ROUNDS} rounds x {len(endpoints)} endpoints x {DURATION} s", flush=True)
        run_pass(endpoints, number, first_round=(number - 1) * ROUNDS)
        memory[f"pass{number}"] = memory_snapshot()

    print(f"contention: {CONTENDERS} checkout starts at once for {SEATS_LEFT_FOR_CONTENTION} seats", flush=True)
    race = contention(register_path, cookie, token)
    print("  " + json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in race.items()}), flush=True)

    pages = [e.path for e in endpoints if not e.script and not e.fresh and e.name != "healthz"]
    static_notes = static_checks(pages)
    explain_lines = explain_checks()
    elapsed = time.time() - float(os.environ.get("BENCH_STARTED", time.time() - (time.monotonic() - started)))
    text = report(endpoints, memory, race, static_notes, explain_lines, elapsed)
    (ROOT / "bench" / "RESULTS.md").write_text(text)
    update_readme(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
