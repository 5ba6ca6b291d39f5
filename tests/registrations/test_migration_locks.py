"""Migration registrations/0023 swaps an index on the orders table, which a live site reads and writes
on every page and checkout.

A plain DROP INDEX holds an ACCESS EXCLUSIVE lock until COMMIT (even `SELECT count(*)` waits behind it,
and it queues behind any long transaction first), and a plain CREATE INDEX blocks writes while it builds.
So the new index is built CONCURRENTLY first and the old one dropped CONCURRENTLY after, outside a
transaction.
"""

import io
import re

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)  # sqlmigrate of a non-atomic migration refuses to run inside one
def test_the_email_index_swap_never_locks_the_orders_table(db_vendor):
    if db_vendor != "postgresql":
        pytest.skip("PostgreSQL's locks")
    out = io.StringIO()
    call_command("sqlmigrate", "registrations", "0023", stdout=out)
    sql = out.getvalue()
    statements = [s for s in sql.splitlines() if re.match(r"\s*(CREATE|DROP)( UNIQUE)? INDEX", s)]
    assert statements, sql
    blocking = [s for s in statements if "CONCURRENTLY" not in s]
    assert not blocking, f"index statements that lock registrations_order on a live site: {blocking}"
    assert "BEGIN;" not in sql, "an index built concurrently cannot run inside the migration's transaction"
