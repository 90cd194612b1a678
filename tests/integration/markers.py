"""Skip conditions of the integration layer. They run in CI, where DATABASE_URL and REDIS_URL name real services.

Locally:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket REDIS_URL=redis://127.0.0.1:6379/15 \\
          make test-integration
"""

import pytest
from django.conf import settings

USES_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
USES_REDIS_BROKER = bool(settings.REDIS_URL) and settings.CELERY_BROKER_URL.startswith(
    ("redis://", "rediss://")
)

requires_postgres = pytest.mark.skipif(
    not USES_POSTGRES,
    reason="needs PostgreSQL: set DATABASE_URL=postgres://… (the suite runs on SQLite without it)",
)
requires_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="needs Redis: set REDIS_URL=redis://…",
)
requires_redis_broker = pytest.mark.skipif(
    not USES_REDIS_BROKER,
    reason="needs a Redis broker: set REDIS_URL=redis://… (CELERY_BROKER_URL defaults to it)",
)
