"""Trigram index for the keyword search on PostgreSQL.

``LIKE '%关键词%'`` cannot use a B-tree; a pg_trgm GIN index serves it for Chinese and Latin text alike.
SQLite (the embedded setup) scans instead, which is fine at its scale.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS demand_search_trgm_idx ON demands_demand USING gin (search_text gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS demand_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
