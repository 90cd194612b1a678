"""What the PostgreSQL benchmarks share: a dedicated database (never the development or test one), created if
missing, and the production settings of ``bench.settings`` (DEBUG off)."""

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def configure_environment(default_url: str, **environment: str) -> str:
    """Check ``DATABASE_URL`` (default ``default_url``): PostgreSQL, with "bench" in its name, so that a typo
    never fills or drops another database; set the environment of the benchmark's Django; return the URL."""
    os.environ.setdefault("DATABASE_URL", default_url)
    url = os.environ["DATABASE_URL"]
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench: DATABASE_URL must name PostgreSQL, not {parsed.scheme!r}")
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench: refusing database {name!r}: use a dedicated one whose name contains 'bench'")
    # Production behaviour: DEBUG off (no query log, no template debug), persistent connections.
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + secrets.token_hex(24))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(environment)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(BASE_DIR))
    return url


def ensure_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(
        dbname="postgres",
        user=parsed.username,
        password=parsed.password,
        host=parsed.hostname,
        port=parsed.port or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    conn.close()
