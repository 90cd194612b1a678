"""The engine on the platform's records: stored terms, stored matches, idempotent reruns, incremental edits."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from brokers import matching
from brokers.matching import fingerprint
from brokers.models import DemandMatch, DemandText, ListingMatch, ListingText, SupplierMatch
from brokers.text import default_analyzer
from demands.models import Demand
from listings.models import Listing
from tests.factories import DemandFactory
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db


def test_a_demand_gets_its_listings_and_suppliers_ranked_with_explanations(market):
    demand = market["demand"]

    matching.match_demand(demand)

    rows = list(ListingMatch.objects.filter(demand=demand).order_by("rank"))
    assert [r.listing_id for r in rows][:1] == [market["drying"].pk]
    assert market["draft"].pk not in [r.listing_id for r in rows]  # only published listings
    assert market["dyeing"].pk not in [r.listing_id for r in rows]  # nothing in common
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    assert {"银纹", "气泡"} <= set(rows[0].explanation["shared_terms"])
    assert rows[0].explanation["same_field"] is True
    suppliers = list(
        SupplierMatch.objects.filter(demand=demand).order_by("rank").values_list("organization_id", flat=True)
    )
    assert suppliers[0] == market["institute"].pk


def test_a_rerun_writes_nothing_and_an_edit_is_picked_up(market):
    demand = market["demand"]
    matching.match_demand(demand)
    before = list(
        ListingMatch.objects.filter(demand=demand).values_list("listing_id", "rank", "score", "computed_at")
    )

    rerun = matching.match_demand(demand)

    assert rerun == {"listings": 0, "suppliers": 0, "experts": 0}
    assert (
        list(
            ListingMatch.objects.filter(demand=demand).values_list(
                "listing_id", "rank", "score", "computed_at"
            )
        )
        == before
    )

    Demand.objects.filter(pk=demand.pk).update(
        title="模具冷却周期长", summary="希望缩短模具冷却时间，采用随形冷却。"
    )
    demand.refresh_from_db()
    matching.match_demand(demand)

    assert (
        ListingMatch.objects.filter(demand=demand).order_by("rank").first().listing_id == market["cooling"].pk
    )
    assert DemandText.objects.get(demand=demand).title_terms.split()[:2] == ["模具", "冷却"]


def test_unchanged_texts_are_not_segmented_again(market):
    ids = [market["cooling"].pk, market["drying"].pk]
    assert matching.refresh_listing_texts(ids) == 2
    stamp = list(ListingText.objects.filter(listing_id__in=ids).values_list("updated_at", flat=True))

    assert matching.refresh_listing_texts(ids) == 0
    assert list(ListingText.objects.filter(listing_id__in=ids).values_list("updated_at", flat=True)) == stamp


def test_a_listing_gets_published_demands_from_their_public_text_only(market, enterprise):
    secret = DemandFactory(
        owner=enterprise, title="降低能耗", summary="空压机能耗高。", details="随形冷却 注塑模具 水路"
    )
    listing = market["cooling"]

    matching.match_listing(listing)

    demand_ids = list(DemandMatch.objects.filter(listing=listing).values_list("demand_id", flat=True))
    assert (
        secret.pk not in demand_ids
    )  # its details mention the listing's words, but suppliers never see details


def test_matches_are_cleared_when_the_demand_is_no_longer_published(market):
    demand = market["demand"]
    matching.match_demand(demand)
    assert ListingMatch.objects.filter(demand=demand).exists()

    Demand.objects.filter(pk=demand.pk).update(status=Demand.Status.WITHDRAWN)
    demand.refresh_from_db()
    matching.match_demand(demand)

    assert not ListingMatch.objects.filter(demand=demand).exists()
    assert not SupplierMatch.objects.filter(demand=demand).exists()


def test_the_hook_queues_matching_after_commit_and_a_second_delivery_writes_nothing(
    market, django_capture_on_commit_callbacks
):
    from brokers import hooks, tasks

    demand = market["demand"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hooks.records_changed(kind="demand", ids=[demand.pk])
    assert not ListingMatch.objects.filter(demand=demand).exists()  # nothing before the commit

    for callback in callbacks:
        callback()  # eager Celery: the task runs now
    first = list(ListingMatch.objects.filter(demand=demand).values_list("listing_id", "rank", "computed_at"))
    tasks.match_records("demand", [demand.pk])

    assert first[0][0] == market["drying"].pk
    assert (
        list(ListingMatch.objects.filter(demand=demand).values_list("listing_id", "rank", "computed_at"))
        == first
    )
    with pytest.raises(ValueError, match="unknown record kind"):
        hooks.records_changed(kind="contract", ids=[1])


def test_publishing_a_demand_or_a_listing_computes_its_matches(
    market, enterprise, staff_user, django_capture_on_commit_callbacks
):
    from demands import services as demand_services
    from listings import services as listing_services

    demand = DemandFactory(
        pending_review=True, owner=enterprise, title="注塑件银纹气泡", summary="原料干燥不足。"
    )
    listing = make_listing(
        market["university"], title="注塑件银纹成因分析", status=Listing.Status.PENDING_REVIEW
    )

    with django_capture_on_commit_callbacks(execute=True):
        demand_services.demand_review(demand=demand, actor=staff_user, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        listing_services.listing_review(listing=listing, actor=staff_user, approve=True)

    assert (
        ListingMatch.objects.filter(demand=demand).order_by("rank").first().listing_id == market["drying"].pk
    )
    assert set(DemandMatch.objects.filter(listing=listing).values_list("demand_id", flat=True)) == {
        market["demand"].pk,
        demand.pk,
    }
    # Each side entered the other's lists at once: the new demand in the recommendations of the listings that
    # fit it, the new listing in the matches of the demands it serves.
    assert demand.pk in DemandMatch.objects.filter(listing=market["drying"]).values_list(
        "demand_id", flat=True
    )
    assert listing.pk in ListingMatch.objects.filter(demand=market["demand"]).values_list(
        "listing_id", flat=True
    )


def test_an_expert_edited_in_the_admin_is_segmented_again(market):
    from brokers.models import Expert, ExpertMatch
    from marketplace.models import Region, TechnologyField

    expert = Expert.objects.create(
        name="陈立舟",
        field=TechnologyField.objects.get(code="advanced_manufacturing"),
        region=Region.objects.get(code="330100"),
        expertise="齿轮箱振动诊断",
        status=Expert.Status.VETTED,
    )
    matching.match_demand(market["demand"])
    assert not ExpertMatch.objects.filter(demand=market["demand"]).exists()

    expert.refresh_from_db()  # as the admin's form does: the stored hash of the old text comes along
    assert expert.text_hash
    expert.expertise = "注塑件银纹与气泡缺陷诊断"
    expert.save()
    matching.match_demand(market["demand"])

    assert list(ExpertMatch.objects.filter(demand=market["demand"]).values_list("expert_id", flat=True)) == [
        expert.pk
    ]


def test_a_large_batch_gets_its_own_matches_and_leaves_the_other_side_to_the_rebuild(market, monkeypatch):
    matching.match_demand(market["demand"])
    before = list(
        ListingMatch.objects.filter(demand=market["demand"]).values_list("listing_id", "rank", "computed_at")
    )
    listing = make_listing(market["university"], title="注塑件银纹成因分析")
    monkeypatch.setattr(matching, "PROPAGATE_AT_MOST", 0)

    matching.match_changed(kind="listing", ids=[listing.pk])

    assert market["demand"].pk in DemandMatch.objects.filter(listing=listing).values_list(
        "demand_id", flat=True
    )
    assert (
        list(
            ListingMatch.objects.filter(demand=market["demand"]).values_list(
                "listing_id", "rank", "computed_at"
            )
        )
        == before
    )


def test_a_rebuild_runs_chunks_against_one_corpus_and_other_callers_see_changes(market):
    first = matching.listing_corpus(snapshot=7)
    make_listing(market["university"], title="注塑件银纹气泡的成因分析与工艺窗口", summary="银纹 气泡 干燥")

    # The run's later chunks skip the checks: the same corpus, without the listing published meanwhile.
    assert matching.listing_corpus(snapshot=7) is first
    assert len(first.records) == 3
    # Any other caller checks, and sees it.
    assert len(matching.listing_corpus().records) == 4
    assert len(matching.listing_corpus(snapshot=8).records) == 4


def forget_in_process():
    """What another worker process of the machine starts with: no corpus of its own."""
    matching._corpora.clear()
    matching._snapshots.clear()


def test_a_rebuilds_corpus_is_built_once_per_machine_and_loaded_by_the_other_workers(
    market, settings, django_assert_num_queries
):
    built = matching.listing_corpus(snapshot=7)
    directory = Path(settings.MATCHING_CORPUS_DIR)
    assert [f.name for f in directory.iterdir() if f.suffix == ".pickle"] == [
        matching._shared_file("listings", 7).name
    ]
    query = matching.demand_query(market["demand"], with_details=True)
    expected = [(m.id, m.score, m.explanation) for m in built.rank(query, limit=3)]
    make_listing(market["university"], title="注塑件银纹气泡的成因分析与工艺窗口", summary="银纹 气泡 干燥")
    forget_in_process()

    with django_assert_num_queries(0):  # neither built nor checked: loaded
        loaded = matching.listing_corpus(snapshot=7)

    assert loaded is not built
    assert loaded.analyzer is built.analyzer
    assert len(loaded.records) == 3  # the run's corpus, as the other worker built it
    assert [(m.id, m.score, m.explanation) for m in loaded.rank(query, limit=3)] == expected
    # A caller outside the run checks, and sees the listing published since.
    assert len(matching.listing_corpus().records) == 4
    # The next run builds its own, and the earlier run's file goes.
    forget_in_process()
    assert len(matching.listing_corpus(snapshot=8).records) == 4
    assert sorted(f.name for f in directory.iterdir()) == [matching._shared_file("listings", 8).name]


def test_a_shared_corpus_of_another_vocabulary_is_not_used(market, monkeypatch):
    matching.listing_corpus(snapshot=7)
    forget_in_process()
    analyzer = default_analyzer()
    monkeypatch.setattr(analyzer, "version", "another vocabulary")

    assert matching._load_shared("listings", 7, analyzer) is None
    assert not matching._shared_file("listings", 7).exists()  # not left for another worker to try


def test_a_shared_corpus_of_other_ranking_code_or_damaged_is_built_again(market, monkeypatch):
    built = matching.listing_corpus(snapshot=7)
    path = matching._shared_file("listings", 7)
    forget_in_process()
    monkeypatch.setattr(matching, "_engine_version", lambda: "a deploy later")

    assert matching._load_shared("listings", 7, default_analyzer()) is None
    assert not path.exists()  # whoever builds it next shares it again
    monkeypatch.undo()
    matching.listing_corpus(snapshot=7)
    forget_in_process()
    path.write_bytes(path.read_bytes()[:1000])  # damaged

    rebuilt = matching.listing_corpus(snapshot=7)

    assert rebuilt is not built
    assert [r.id for r in rebuilt.records] == [r.id for r in built.records]
    forget_in_process()
    assert matching._load_shared("listings", 7, default_analyzer())[1].ids.tolist() == built.ids.tolist()


def test_a_corpus_that_cannot_be_shared_is_still_used_and_leaves_no_file(market, monkeypatch, settings):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matching.pickle, "dump", disk_full)

    corpus = matching.listing_corpus(snapshot=7)

    assert len(corpus.records) == 3
    assert matching.listing_corpus(snapshot=7) is corpus
    assert not list(Path(settings.MATCHING_CORPUS_DIR).iterdir())  # neither the file nor the one aside


def test_shared_corpora_are_read_only_from_a_directory_only_this_user_can_write(market, settings, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    settings.MATCHING_CORPUS_DIR = str(shared)

    with pytest.raises(ImproperlyConfigured):
        matching.listing_corpus(snapshot=7)
    assert not list(shared.iterdir())


def test_the_first_demand_chunk_leads_a_run_of_listing_chunks(market, monkeypatch):
    from brokers import rebuild
    from brokers.models import RebuildRun

    monkeypatch.setattr(rebuild, "LISTING_LEAD", 1)
    run = RebuildRun.objects.create(chunk_size=1)
    chunks = rebuild._create_chunks(run, RebuildRun.Phase.MATCHES, 1)
    # 1 demand, 3 listings: the demand chunk, one listing chunk, (no more demands), the other listings.
    assert [(c.kind, c.number) for c in chunks] == [
        ("demand", 0),
        ("listing", 0),
        ("listing", 1),
        ("listing", 2),
    ]
    assert [c.pk for c in chunks] == sorted(c.pk for c in chunks)  # queued in this order
    texts = rebuild._create_chunks(run, RebuildRun.Phase.TEXTS, 1)
    assert [(c.kind, c.number) for c in texts] == [("demand", 0), ("listing", 0)]


def test_a_batch_of_demands_is_matched_like_each_one_alone(market, enterprise):
    second = DemandFactory(
        owner=enterprise, title="模具冷却不均导致翘曲", summary="希望采用随形冷却缩短周期。"
    )
    matching.match_demands([market["demand"], second])
    together = sorted(
        ListingMatch.objects.values_list("demand_id", "listing_id", "rank", "score", "explanation")
    )
    ListingMatch.objects.all().delete()

    matching.match_demand(market["demand"])
    matching.match_demand(second)

    alone = sorted(
        ListingMatch.objects.values_list("demand_id", "listing_id", "rank", "score", "explanation")
    )
    assert together == alone
    assert {row[0] for row in together} == {market["demand"].pk, second.pk}


def test_a_batch_loads_only_what_matching_reads(market, enterprise):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    """Records loaded by ``matchable_*`` never fetch a deferred column: the queries are the same for 1 or 3."""
    demands = [market["demand"].pk] + [
        DemandFactory(owner=enterprise, title=f"注塑件缩痕{n}", summary="保压不足。").pk for n in range(2)
    ]
    listings = [market[name].pk for name in ("cooling", "drying", "dyeing")]
    matching.match_demands(matching.matchable_demands(demands[:1]))  # corpora built and texts segmented
    matching.match_listings(matching.matchable_listings(listings[:1]))
    matching.match_demands(matching.matchable_demands(demands))
    matching.match_listings(matching.matchable_listings(listings))

    counts = []
    for batch in (demands[:1], demands):
        with CaptureQueriesContext(connection) as captured:
            matching.match_demands(matching.matchable_demands(batch))
        counts.append(len(captured.captured_queries))
    for batch in (listings[:1], listings):
        with CaptureQueriesContext(connection) as captured:
            matching.match_listings(matching.matchable_listings(batch))
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert counts[2] == counts[3]


def test_a_rebuild_chunk_reads_stored_terms_without_the_texts_and_queries_per_chunk_not_per_record(market):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    listing_ids = sorted(Listing.objects.filter(status=Listing.Status.PUBLISHED).values_list("pk", flat=True))
    corpus = matching.demand_corpus()
    matching.match_listings(matching.matchable_listings(listing_ids), demands=corpus)
    expected = sorted(
        DemandMatch.objects.values_list("listing_id", "demand_id", "rank", "score", "explanation")
    )
    DemandMatch.objects.all().delete()
    ListingText.objects.filter(listing_id=listing_ids[0]).delete()  # published since the texts phase

    counts = []
    for ids in (listing_ids[1:2], listing_ids):
        with CaptureQueriesContext(connection) as queries:
            matching.match_listings(matching.matchable_listings(ids, with_texts=False), demands=corpus)
        counts.append(len(queries))

    assert (
        sorted(DemandMatch.objects.values_list("listing_id", "demand_id", "rank", "score", "explanation"))
        == expected
    )
    assert ListingText.objects.filter(listing_id=listing_ids[0]).exists()  # segmented on the way
    assert counts[1] <= counts[0] + 6  # the missing text's segmenting, not a query per listing
    lean = str(matching.matchable_listings(listing_ids, with_texts=False).query)
    assert "details" not in lean
    assert "summary" not in lean
    assert "details" in str(matching.matchable_listings(listing_ids).query)


def test_a_fingerprint_depends_on_the_content_only():
    explanation = {"shared_terms": ["注塑", "模具"], "bridges": [], "same_field": True, "track_record": 0.25}
    # The same content from other objects: strings built at run time (not interned), lists not shared.
    rebuilt = json.loads(json.dumps(explanation, ensure_ascii=False))
    rebuilt["shared_terms"] = ["".join(["注", "塑"]), "".join(["模", "具"])]
    shared = ["注塑", "模具"]
    twice = {"shared_terms": shared, "bridges": [], "same_field": True, "track_record": 0.25, "again": shared}
    again = {"shared_terms": ["注塑", "模具"], "bridges": [], "same_field": True, "track_record": 0.25}
    again["again"] = ["注塑", "模具"]

    assert fingerprint(0.5, 1, explanation) == fingerprint(0.5, 1, rebuilt)
    assert fingerprint(0.5, 1, twice) == fingerprint(0.5, 1, again)
    others = [
        fingerprint(0.500001, 1, explanation),
        fingerprint(0.5, 2, explanation),
        fingerprint(0.5, 1, {**explanation, "shared_terms": ["模具", "注塑"]}),
        fingerprint(0.5, 1, {**explanation, "same_field": False}),
        fingerprint(0.5, 1, {**explanation, "track_record": 0.26}),
    ]
    assert len({fingerprint(0.5, 1, explanation), *others}) == 6
