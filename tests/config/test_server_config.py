"""The production server configuration: gunicorn.conf.py, the connection pool and the Stripe limits together."""

from tests.server_config import gunicorn_config, production_settings

POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
SUPERUSER_RESERVED_CONNECTIONS = 3  # PostgreSQL's default superuser_reserved_connections
# Room for everything that is not an app server: run_worker processes, send_reminders, a migration, psql.
OTHER_CLIENTS = 10


def test_two_app_servers_at_full_concurrency_fit_in_postgres_default_max_connections():
    workers = gunicorn_config()["workers"]
    pool_size = production_settings()["pool"]["max_size"]
    two_servers = 2 * workers * pool_size
    assert two_servers + OTHER_CLIENTS <= POSTGRES_DEFAULT_MAX_CONNECTIONS - SUPERUSER_RESERVED_CONNECTIONS


def test_one_server_reloading_beside_another_fits_in_postgres_default_max_connections():
    """A graceful reload (SIGHUP) or a rolling deploy starts new workers before the old ones finish."""
    workers = gunicorn_config()["workers"]
    pool_size = production_settings()["pool"]["max_size"]
    reloading, other = 2 * workers * pool_size, workers * pool_size
    assert reloading + other + OTHER_CLIENTS <= POSTGRES_DEFAULT_MAX_CONNECTIONS - SUPERUSER_RESERVED_CONNECTIONS


def test_threads_share_pooled_connections_instead_of_keeping_one_each():
    settings = production_settings()
    assert settings["conn_max_age"] == 0
    assert settings["pool"]["max_size"] < gunicorn_config()["threads"]


def test_a_stripe_call_on_the_buyers_path_gives_up_within_8_seconds():
    assert production_settings()["stripe_budget"] <= 8.0


def test_requests_waiting_on_stripe_leave_threads_for_pages():
    assert production_settings()["stripe_cap"] < gunicorn_config()["threads"]


def test_the_stripe_cap_follows_the_thread_count_from_the_environment():
    assert production_settings(GUNICORN_THREADS="6")["stripe_cap"] < gunicorn_config(GUNICORN_THREADS="6")["threads"] == 6


def test_gunicorn_serves_the_app_from_threaded_workers():
    config = gunicorn_config()
    assert config["wsgi_app"] == "config.wsgi:application"
    assert config["worker_class"] == "gthread"
    assert config["threads"] > 1


def test_worker_and_thread_counts_come_from_the_environment():
    config = gunicorn_config(WEB_CONCURRENCY="3", GUNICORN_THREADS="8")
    assert (config["workers"], config["threads"]) == (3, 8)


def test_by_default_two_processes_per_core_of_a_2_core_machine_with_three_quarters_of_their_threads_for_stripe():
    config = gunicorn_config()
    assert (config["workers"], config["threads"]) == (4, 16)
    assert production_settings()["stripe_cap"] == 12
