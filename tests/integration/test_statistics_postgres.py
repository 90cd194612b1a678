"""The annual report on PostgreSQL: the one-statement ``GROUPING SETS`` aggregation gives exactly the sums of
the portable per-table roll-up, on rows spread over types, provinces, flows and two years."""

import pytest

from contracts import statistics
from tests.contracts.test_annual_report import insert
from tests.integration.markers import requires_postgres

pytestmark = [pytest.mark.integration, requires_postgres, pytest.mark.django_db]


def test_grouping_sets_and_the_roll_up_agree():
    insert(2005, "development", 30, 1_000_001)
    insert(2005, "service", 7, 70_000, prefix="a", seller_region_id="320100", seller_province_id="320000")
    insert(2005, "transfer", 3, 9_999, prefix="b", buyer_region_id="110000", buyer_province_id="110000",
           objective="health", plan_level="national", field_id="biomedicine", buyer_type="government")  # fmt: skip
    insert(2004, "development", 11, 123_456, prefix="c")
    insert(2004, "consulting", 5, 500, prefix="d", seller_type="research_institute")

    fast = statistics._aggregate_grouping_sets(2005)
    portable = statistics._aggregate_per_table(2005)

    assert fast == portable
    assert fast["totals", 2005, None] == statistics.Cell(40, 1_080_000, 1_080_000)
    assert fast["flows", 2005, ("320000", "310000")].count == 7
    report = statistics.compute(2005, fast)
    assert [r["code"] for r in report["by_seller_region"]] == ["330000", "320000"]
