from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from listings import selectors
from listings.models import Deal, Listing
from tests.factories import EnterpriseFactory, UniversityFactory

pytestmark = pytest.mark.django_db


def make_listing(owner, title, summary="", field="new_energy", listing_type="invention_patent"):
    return Listing.objects.create(
        owner=owner,
        created_by=owner.created_by,
        title=title,
        summary=summary,
        listing_type=listing_type,
        field_id=field,
        region_id="330100",
        maturity="pilot",
        transfer_modes=["transfer"],
        status="transferred",
    )


def test_comparable_deals_are_same_field_and_type_nearest_by_text():
    owner, buyer = UniversityFactory(), EnterpriseFactory()
    subject = make_listing(owner, "锂电池极片涂布厚度在线检测方法")
    now = timezone.now()
    deals = {
        "near": make_listing(owner, "锂电池极片涂布面密度在线检测装置"),
        "far": make_listing(owner, "光伏组件清洗机器人"),
        "other_type": make_listing(owner, "锂电池极片涂布厚度检测软件", listing_type="software"),
        "other_field": make_listing(owner, "锂电池极片涂布厚度在线检测", field="advanced_manufacturing"),
    }
    for n, listing in enumerate(deals.values()):
        Deal.objects.create(
            listing=listing,
            buyer=buyer,
            price=Decimal(100000 + n),
            via="negotiation",
            concluded_at=now - timedelta(days=n),
        )

    rows = selectors.comparable_deals(listing=subject)

    assert [row["title"] for row in rows] == ["锂电池极片涂布面密度在线检测装置", "光伏组件清洗机器人"]
    assert rows[0]["price"] == Decimal("100000.00")
    assert rows[0]["similarity"] > rows[1]["similarity"] == 0.0
