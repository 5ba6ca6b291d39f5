"""The table Django's database cache keeps rate-limit counters in, created by a migration like any other.

`manage.py createcachetable` would make the same table; owning it as a model means `migrate` alone
prepares every database (developers, CI, the two-server test, production), whichever store is chosen.
"""

from django.db import models


class RateLimitCacheEntry(models.Model):
    """One key of the shared rate-limit store (django.core.cache.backends.db.DatabaseCache's layout)."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "rate_limit_cache"
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return self.cache_key
