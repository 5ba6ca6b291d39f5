"""The one rule for how many of a process's threads may wait on Stripe, checked by production settings and, for a
preloaded app, by each gunicorn worker against the threads it really runs (gunicorn.conf.py)."""


def stripe_cap_problem(*, threads: int, cap: int) -> str:
    """Why this thread count and Stripe cap would let a Stripe outage stop every page ("" when they are fine): the
    threads not waiting on Stripe serve the pages."""
    if threads < 2:
        return (
            f"GUNICORN_THREADS is {threads}: production needs at least 2 threads per process, so that pages are served "
            "while a buyer waits on Stripe."
        )
    if not 1 <= cap < threads:
        return (
            f"STRIPE_MAX_CONCURRENT_CALLS is {cap} with {threads} threads per process: set it between 1 and "
            f"{threads - 1}, so that some threads always serve pages (unset, it is three quarters of the threads)."
        )
    return ""
