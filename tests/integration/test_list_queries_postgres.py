"""The list queries on PostgreSQL use the indexes built for them: two-character Chinese keywords go through the
bigram index and find exactly what ``LIKE`` finds, longer terms keep the trigram index, and a signed-in
member's list is counted from an index alone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from demands.filters import DemandFilter
from demands.models import Demand
from demands.selectors import demand_list_visible_to
from listings.filters import ListingFilter
from listings.models import Listing
from marketplace.search import filter_keywords
from tests.factories import DemandFactory, ProposalFactory, UniversityFactory
from tests.integration.markers import requires_postgres
from tests.listings.builders import make_listing

pytestmark = [pytest.mark.integration, requires_postgres, pytest.mark.django_db]


def plan_of(queryset) -> str:
    with connection.cursor() as cursor:
        # A handful of rows would always be scanned; forbidding the scan shows which index the filter can use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_two_character_terms_find_what_like_finds_through_the_bigram_index():
    moulding = DemandFactory(title="注塑件表面银纹分析", summary="浇口附近银纹，不良率3%。")
    edge = DemandFactory(title="冷却水路改造", summary="提高注塑周期效率")  # the term at a word's start
    DemandFactory(title="印染废水深度处理", summary="COD与色度超标。")
    DemandFactory(title="注 塑分开写的标题", summary="不应命中：两个字之间隔着空格。")

    found = DemandFilter({"q": "注塑"}, queryset=Demand.objects.all()).qs
    by_like = Demand.objects.filter(search_text__contains="注塑")

    assert set(found) == set(by_like) == {moulding, edge}
    assert "demand_search_bigram_idx" in plan_of(found)


def test_terms_combine_and_a_longer_term_uses_the_trigram_index():
    hit = DemandFactory(title="注塑模具随形冷却", summary="缩短成型周期。")
    DemandFactory(title="注塑件银纹", summary="浇口附近。")

    both = filter_keywords(Demand.objects.all(), "注塑 随形冷却")
    longer = filter_keywords(Demand.objects.all(), "随形冷却")

    assert list(both) == [hit]
    assert list(longer) == [hit]
    assert "demand_search_trgm_idx" in plan_of(longer)
    assert "demand_search_bigram_idx" not in plan_of(longer)


def test_one_character_terms_still_match_by_like():
    hit = DemandFactory(title="钛合金薄壁件加工", summary="变形大。")
    DemandFactory(title="铝型材挤压", summary="表面划伤。")

    assert list(filter_keywords(Demand.objects.all(), "钛")) == [hit]


def test_listing_search_has_both_indexes():
    owner = UniversityFactory()
    hit = make_listing(owner, title="一种注塑模具随形冷却水路的设计方法")
    make_listing(owner, title="一种印染废水臭氧催化氧化方法", summary="处理难降解有机废水。")

    two = ListingFilter({"q": "模具"}, queryset=Listing.objects.all()).qs
    three = ListingFilter({"q": "随形冷却"}, queryset=Listing.objects.all()).qs

    assert list(two) == [hit]
    assert list(three) == [hit]
    assert "listing_search_bigram_idx" in plan_of(two)
    assert "listing_search_trgm_idx" in plan_of(three)


def test_a_members_list_is_counted_by_an_index_only_scan(enterprise_admin, enterprise):
    own_draft = DemandFactory(owner=enterprise, draft=True)
    public = DemandFactory()
    DemandFactory(draft=True)  # another organization's draft: not visible
    withdrawn = DemandFactory(status=Demand.Status.WITHDRAWN)
    ProposalFactory(demand=withdrawn, supplier=enterprise)

    visible = demand_list_visible_to(user=enterprise_admin)

    assert set(visible) == {own_draft, public, withdrawn}
    with CaptureQueriesContext(connection) as queries:
        assert visible.all().count() == 3  # a fresh query, not the evaluated rows
    with connection.cursor() as cursor:
        # With a few rows any plan is cheap; forbidding the table and bitmap scans shows that the covering
        # index answers the whole condition (on 100,000 demands the planner picks it unprompted).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {queries.captured_queries[-1]['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using demand_owner_status_cover_idx" in plan
