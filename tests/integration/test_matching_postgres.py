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


def test_matches_written_through_copy_read_back_as_computed_and_a_rerun_writes_nothing(
    enterprise, monkeypatch
):
    from brokers.models import ExpertMatch, ListingMatch, SupplierMatch
    from tests.factories import DemandFactory, InstituteFactory, UniversityFactory
    from tests.listings.builders import make_listing

    institute, university = InstituteFactory(), UniversityFactory()
    drying = make_listing(
        institute, title="注塑原料除湿干燥工艺", summary="降低含水率，消除注塑件银纹与气泡。\\t反斜杠\\\\"
    )
    make_listing(university, title="注塑件银纹在线检测", summary="银纹 气泡 检测")
    demand = DemandFactory(
        owner=enterprise,
        title="注塑件表面银纹与气泡缺陷分析",
        summary="PC/ABS外壳注塑件浇口附近出现银纹和气泡。",
    )
    matching._corpora.clear()
    computed = {}
    real_store = matching._store

    def spy(model, owner, target, results):
        computed[model] = {
            (key, m.id): (round(m.score, 6), m.explanation) for key, ms in results.items() for m in ms
        }
        return real_store(model, owner, target, results)

    monkeypatch.setattr(matching, "COPY_AT_LEAST", 1)  # a rebuild chunk's path, for this demand's few rows
    with monkeypatch.context() as patch:
        patch.setattr(matching, "_store", spy)
        written = matching.match_demand(demand)

    assert written["listings"] == 2
    stored = {
        (row.demand_id, row.listing_id): (row.score, row.explanation)
        for row in ListingMatch.objects.filter(demand=demand)
    }
    assert stored == computed[ListingMatch]
    assert ListingMatch.objects.get(demand=demand, listing=drying).rank == 1
    assert SupplierMatch.objects.filter(demand=demand).count() == 2
    fingerprints = sorted(ListingMatch.objects.values_list("listing_id", "fingerprint"))
    assert all(fingerprint != 0 for _, fingerprint in fingerprints)

    assert matching.match_demand(demand) == {"listings": 0, "suppliers": 0, "experts": 0}
    assert sorted(ListingMatch.objects.values_list("listing_id", "fingerprint")) == fingerprints
    assert not ExpertMatch.objects.exists()
