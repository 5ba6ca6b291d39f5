"""gunicorn's configuration: production (`gunicorn -c gunicorn.conf.py`), `make bench` and the two-server test.

Threaded workers (gthread). A buyer starting checkout waits on Stripe for hundreds of
milliseconds, up to the Stripe time budget (7.5 s) when Stripe hangs. With sync workers that
wait holds a whole process and every page queues behind it; here it holds one thread while
the process's other threads keep serving. At most three quarters of the threads may wait on Stripe at
once (STRIPE_MAX_CONCURRENT_CALLS, config/settings/base.py), so pages always have the other quarter
(pages are CPU work, a few milliseconds each: four threads per process keep the cores busy). Half was
too tight in a rush: buyers do not spread evenly over the processes (a process whose threads wait on
Stripe is idle and accepts the next connections first), and one process reached 9 waiting buyers while
20 a second came in with Stripe 400 ms away (make bench, fourth session: 2 of 500 sent to the retry page).

Sized for 2 cores: two processes per core (WEB_CONCURRENCY=4), 16 threads each (GUNICORN_THREADS).
Threads waiting on Stripe cost no CPU and, with the connection pool, no database connection.
A process runs one thread at a time (Python's GIL): with one process per core, a page request
waited behind a checkout's few milliseconds of Python in the same process, and every thread
hand-off (poller -> thread -> poller) waited for the GIL too. With two per core the kernel
shares the cores between processes instead, and a page is rarely stuck behind a checkout:
measured, the workshop page kept 63-83 % of its throughput during a 400 ms-Stripe rush with
4 x 16 (median 74-76 % over eight runs), against 59-63 % with 2 x 32 and 64-76 % with 3 x 22
(README, "Stripe far away, or down").
Any command-line flag (e.g. --bind) overrides what is set here.
"""

import os
import sys

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# A kept-alive connection waits for its next request in the worker's event loop, not in a thread.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# A worker whose event loop has not checked in for this long is restarted (a slow request in a thread
# does not count: the loop keeps running).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
backlog = 2048
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def on_starting(server):
    """Tell the workers how many threads they run (a --threads flag may differ from GUNICORN_THREADS): production
    settings size the Stripe cap from it and refuse a cap that leaves no thread for pages."""
    os.environ["GUNICORN_THREADS"] = str(server.cfg.threads)


def post_worker_init(worker):
    """Refuse to serve with a Stripe cap that leaves no thread for pages, against the threads this worker really runs:
    with --preload, production settings were read before on_starting could pass the thread count on."""
    from django.conf import settings

    from config.stripe_cap import stripe_cap_problem

    problem = stripe_cap_problem(threads=worker.cfg.threads, cap=settings.STRIPE_MAX_CONCURRENT_CALLS)
    if problem:
        worker.log.error("%s (With --preload, set GUNICORN_THREADS rather than --threads.)", problem)
        sys.exit(3)  # gunicorn's "worker failed to boot": the server stops instead of running without the cap

