"""Keyword search indexes on PostgreSQL, as for demands (see ``marketplace.search``): pg_trgm for terms of
three characters or more, character bigrams for two-character terms. SQLite has neither and scans."""

from django.db import migrations

from marketplace.search import BIGRAMS_FUNCTION_SQL


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(BIGRAMS_FUNCTION_SQL)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS listing_search_trgm_idx "
        "ON listings_listing USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS listing_search_bigram_idx "
        "ON listings_listing USING gin (techmarket_bigrams(search_text))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS listing_search_bigram_idx")
    schema_editor.execute("DROP INDEX IF EXISTS listing_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("listings", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
