"""Review 18: migration registrations/0023 on a live orders table.

As committed it runs, in one transaction, DROP INDEX order_buyer_email_idx (ACCESS EXCLUSIVE on
registrations_order until COMMIT) and a plain CREATE INDEX. Confirmed by hand: while it runs, even
`SELECT count(*) FROM registrations_order` waits (lock_timeout fires), so the workshop page's seat count,
checkout start and the webhook all queue behind the index build, and behind any long transaction the
DROP INDEX itself queues for. An index swap on a live table belongs in a non-atomic migration with
AddIndexConcurrently (first) and RemoveIndexConcurrently (after).
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
