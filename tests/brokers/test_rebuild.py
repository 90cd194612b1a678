"""The full rebuild: chunks, phases, idempotent reruns, resumption after a worker died, the command."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from brokers import matching, rebuild
from brokers.models import DemandMatch, ListingMatch, ListingText, RebuildChunk, RebuildRun, SupplierMatch
from demands.models import Demand
from listings.models import Listing

# Real commits: the rebuild's chunks are queued after commit, and the command waits for them.
pytestmark = pytest.mark.django_db(transaction=True)


def snapshot():
    return (
        sorted(ListingMatch.objects.values_list("demand_id", "listing_id", "rank", "score", "computed_at")),
        sorted(DemandMatch.objects.values_list("listing_id", "demand_id", "rank", "score", "computed_at")),
    )


def test_the_command_rebuilds_everything_in_chunks_and_returns_when_complete(market, settings, monkeypatch):
    published_listings = sorted(
        Listing.objects.filter(status=Listing.Status.PUBLISHED).values_list("pk", flat=True)
    )
    assert len(published_listings) == 3
    saved = []
    save = matching._save_shared
    monkeypatch.setattr(matching, "_save_shared", lambda *args: saved.append(args[0]) or save(*args))
    out = StringIO()
    call_command("rebuild_matches", "--chunk-size", "2", stdout=out)

    run = RebuildRun.objects.get()
    assert run.phase == RebuildRun.Phase.DONE
    assert run.finished_at is not None
    # 1 published demand and 3 published listings, by 2: one demand chunk and two listing chunks of matches;
    # texts by 2 × TEXT_CHUNK_FACTOR, one chunk of each kind.
    assert rebuild.TEXT_CHUNK_FACTOR >= 2
    assert sorted(run.chunks.values_list("phase", "kind", "number", "ids")) == [
        ("matches", "demand", 0, [market["demand"].pk]),
        ("matches", "listing", 0, published_listings[:2]),
        ("matches", "listing", 1, published_listings[2:]),
        ("texts", "demand", 0, [market["demand"].pk]),
        ("texts", "listing", 0, published_listings),
    ]
    assert not run.chunks.filter(done_at__isnull=True).exists()
    assert (
        ListingMatch.objects.filter(demand=market["demand"]).order_by("rank").first().listing_id
        == market["drying"].pk
    )
    assert ListingText.objects.filter(listing=market["draft"]).exists() is False  # drafts are not segmented
    assert f"rebuild {run.pk} complete" in out.getvalue()
    # The run's corpora were shared through files while it ran, and are gone with it.
    assert sorted(saved) == ["demands", "listings"]
    assert not list(Path(settings.MATCHING_CORPUS_DIR).glob("*.pickle"))


def test_a_second_rebuild_changes_nothing(market):
    call_command("rebuild_matches", stdout=StringIO())
    before = snapshot()
    texts = sorted(ListingText.objects.values_list("listing_id", "updated_at"))

    call_command("rebuild_matches", stdout=StringIO())

    assert snapshot() == before
    assert sorted(ListingText.objects.values_list("listing_id", "updated_at")) == texts
    assert RebuildRun.objects.filter(finished_at__isnull=False).count() == 2


def lost_queue(monkeypatch):
    """The chunks are queued, but the worker that took them dies before doing them: nothing runs."""
    monkeypatch.setattr(rebuild, "_queue", lambda chunk_ids: None)


def test_a_run_left_unfinished_by_a_dead_worker_is_resumed_and_completed(market, monkeypatch):
    with monkeypatch.context() as patch:
        lost_queue(patch)
        run = rebuild.rebuild_start(chunk_size=2)
    assert run.finished_at is None
    assert not ListingMatch.objects.exists()

    out = StringIO()
    call_command("rebuild_matches", stdout=out)

    run.refresh_from_db()
    assert f"resuming rebuild {run.pk}" in out.getvalue()
    assert run.finished_at is not None
    assert RebuildRun.objects.count() == 1
    assert ListingMatch.objects.filter(demand=market["demand"]).exists()


def test_a_chunk_delivered_twice_is_done_once(market, monkeypatch):
    with monkeypatch.context() as patch:
        lost_queue(patch)
        run = rebuild.rebuild_start(chunk_size=10)
    chunk = run.chunks.get(kind="listing")

    assert rebuild.rebuild_chunk(chunk.pk) is True
    assert rebuild.rebuild_chunk(chunk.pk) is False
    assert RebuildChunk.objects.get(pk=chunk.pk).done_at is not None


def test_matches_of_records_that_left_the_market_are_pruned(market):
    call_command("rebuild_matches", stdout=StringIO())
    assert ListingMatch.objects.filter(listing=market["drying"]).exists()
    Listing.objects.filter(pk=market["drying"].pk).update(status=Listing.Status.WITHDRAWN)
    Demand.objects.filter(pk=market["demand"].pk).update(status=Demand.Status.CLOSED)
    matching._corpora.clear()

    call_command("rebuild_matches", stdout=StringIO())

    assert not ListingMatch.objects.exists()
    assert not DemandMatch.objects.filter(demand=market["demand"]).exists()


def test_pruning_deletes_exactly_the_matches_of_records_that_left(market):
    call_command("rebuild_matches", stdout=StringIO())
    demand, drying = market["demand"], market["drying"]
    kept_listing_matches = set(
        ListingMatch.objects.exclude(listing=drying).values_list("demand_id", "listing_id")
    )
    kept_demand_matches = set(
        DemandMatch.objects.exclude(listing=drying).values_list("listing_id", "demand_id")
    )
    assert kept_listing_matches
    assert kept_demand_matches
    assert ListingMatch.objects.filter(listing=drying).count() == 1
    drying_recommendations = DemandMatch.objects.filter(listing=drying).count()
    assert drying_recommendations > 0
    assert rebuild.prune_matches() == {"listing": 0, "supplier": 0, "expert": 0, "demand": 0}  # all live

    Listing.objects.filter(pk=drying.pk).update(status=Listing.Status.WITHDRAWN)
    pruned = rebuild.prune_matches()

    assert pruned["listing"] == 1
    assert pruned["supplier"] == pruned["expert"] == 0
    assert pruned["demand"] == drying_recommendations
    assert set(ListingMatch.objects.values_list("demand_id", "listing_id")) == kept_listing_matches
    assert set(DemandMatch.objects.values_list("listing_id", "demand_id")) == kept_demand_matches
    suppliers = SupplierMatch.objects.filter(demand=demand).count()
    assert suppliers > 0

    Demand.objects.filter(pk=demand.pk).update(status=Demand.Status.CLOSED)
    pruned = rebuild.prune_matches()

    assert pruned["supplier"] == suppliers
    assert pruned["listing"] == len(kept_listing_matches)
    assert not ListingMatch.objects.exists()
    assert not SupplierMatch.objects.exists()
    assert not DemandMatch.objects.filter(demand=demand).exists()


def test_the_nightly_task_resumes_an_unfinished_run_instead_of_starting_another(market, monkeypatch):
    from brokers.tasks import rebuild_matches_task

    with monkeypatch.context() as patch:
        lost_queue(patch)
        run = rebuild.rebuild_start(chunk_size=2)

    assert rebuild_matches_task() == run.pk
    run.refresh_from_db()
    assert run.finished_at is not None
    assert RebuildRun.objects.count() == 1
    assert rebuild_matches_task() != run.pk  # nothing unfinished now: a new run
    assert RebuildRun.objects.filter(finished_at__isnull=False).count() == 2
