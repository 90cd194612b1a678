"""Platform figures on PostgreSQL: the month of a record in the market's time zone, and two refreshes racing
(two beat deliveries, or the hourly job and an administrator's recompute) each storing one row per scope."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from marketplace import kpis
from marketplace.models import PlatformKpiSnapshot
from tests.factories import DemandFactory
from tests.integration.conftest import TIMEOUT, Racer
from tests.integration.markers import requires_postgres

pytestmark = [pytest.mark.integration, requires_postgres]
UTC = ZoneInfo("UTC")


@pytest.mark.django_db
def test_a_record_counts_in_its_month_of_the_markets_time_zone():
    # 16:30 UTC on 31 December is 00:30 on 1 January in Beijing time: the new year's first demand.
    DemandFactory(published_at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
    DemandFactory(published_at=datetime(2025, 12, 31, 15, 30, tzinfo=UTC))

    reports = kpis.compute()

    assert [(m["code"], m["demands"]) for m in reports[kpis.ALL]["by_month"]] == [
        ("2025-12", 1),
        ("2026-01", 1),
    ]
    assert (reports["2025"]["totals"]["demands"], reports["2026"]["totals"]["demands"]) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_released_together_store_one_row_per_scope():
    DemandFactory(published_at=datetime(2026, 3, 1, 4, tzinfo=UTC))
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def job():
        barrier.wait()
        return kpis.snapshot_refresh()

    racers = [Racer(job, "first"), Racer(job, "second")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.finish()

    assert [racer.error for racer in racers] == [None, None]
    assert [racer.result for racer in racers] == [["2026", "all"], ["2026", "all"]]
    assert sorted(PlatformKpiSnapshot.objects.values_list("scope", flat=True)) == ["2026", "all"]
    assert PlatformKpiSnapshot.objects.get(scope="all").data["totals"]["demands"] == 1
