"""Bigram index for two-character keywords on PostgreSQL (see ``marketplace.search``).

pg_trgm extracts no trigram from a two-character term such as 注塑, so ``LIKE '%注塑%'`` scanned the table;
a GIN index over the text's character bigrams answers it. SQLite has neither and scans.
"""

from django.db import migrations

from marketplace.search import BIGRAMS_FUNCTION_SQL


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BIGRAMS_FUNCTION_SQL)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS demand_search_bigram_idx "
        "ON demands_demand USING gin (techmarket_bigrams(search_text))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS demand_search_bigram_idx")


class Migration(migrations.Migration):
    dependencies = [("demands", "0003_list_order_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
