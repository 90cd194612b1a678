"""The interchange on PostgreSQL: the ``UPDATE … FROM (VALUES …)`` path that writes changed records (SQLite uses
``bulk_update``), with every column type it writes — text, numeric, boolean, jsonb, timestamps, foreign keys."""

import json
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from demands.models import Demand
from listings.models import Listing
from marketplace.interchange import interchange_import
from tests.integration.markers import requires_postgres
from tests.marketplace.test_interchange import demand_line, listing_line

pytestmark = [pytest.mark.integration, requires_postgres, pytest.mark.django_db]


def lines(*rows):
    return [json.dumps(row, ensure_ascii=False) for row in rows]


def test_changed_records_are_written_with_every_column_type():
    interchange_import(lines(demand_line(), listing_line(), listing_line(external_ref="same")), publish=True)
    untouched = Listing.objects.get(external_ref="same").updated_at

    report = interchange_import(
        lines(
            demand_line(
                title="新标题", budget_yuan=None, deadline="2031-01-31", field="new_energy.energy_storage"
            ),
            listing_line(asking_price_yuan=123456, transfer_modes=["equity", "transfer"], region="330100"),
            listing_line(external_ref="same"),
        ),
        publish=True,
    )

    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 2, 1, 0)
    demand = Demand.objects.get()
    assert (demand.title, demand.budget_min, demand.budget_max, demand.budget_negotiable) == (
        "新标题",
        None,
        None,
        True,
    )
    assert (demand.field_id, demand.sub_field_id) == ("new_energy", "new_energy.energy_storage")
    assert demand.deadline == timezone.make_aware(datetime.combine(date(2031, 1, 31), time(23, 59, 59)))
    assert "新标题" in demand.search_text
    listing = Listing.objects.get(external_ref="zj-l-001")
    assert (listing.asking_price, listing.price_negotiable) == (Decimal("123456.00"), False)
    assert (listing.transfer_modes, listing.region_id) == (["equity", "transfer"], "330100")
    assert listing.updated_at > untouched
    assert Listing.objects.get(external_ref="same").updated_at == untouched
