"""The matching engine's writes on PostgreSQL: derived rows commit without waiting for the WAL flush, and only
in transactions of their own."""

import pytest
from django.db import connection, transaction

from brokers import matching
from tests.integration.markers import requires_postgres

pytestmark = [pytest.mark.integration, requires_postgres, pytest.mark.django_db(transaction=True)]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_the_engines_own_transaction_commits_asynchronously_and_only_itself():
    before = synchronous_commit()

    with matching.derived_writes():
        inside = synchronous_commit()
    after = synchronous_commit()

    assert (before, inside, after) == ("on", "off", "on")


def test_inside_another_transaction_the_outer_one_decides():
    with transaction.atomic(), matching.derived_writes():
        assert synchronous_commit() == "on"
