"""The daily digest: what fits a subscription, once per user and day, never one's own records."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from brokers.digest import digest_send_due
from brokers.models import DigestDelivery, Subscription
from marketplace.models import Notification
from tests.factories import DemandFactory, UserFactory
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 2)
YESTERDAY_NOON = timezone.make_aware(datetime.combine(TODAY - timedelta(days=1), time(12)))


def published_yesterday(record):
    type(record).objects.filter(pk=record.pk).update(published_at=YESTERDAY_NOON)
    return record


@pytest.fixture
def follower():
    return UserFactory()


def test_a_digest_lists_what_fits_and_a_rerun_sends_nothing(
    follower, university, django_capture_on_commit_callbacks
):
    Subscription.objects.create(
        user=follower, kind="both", field_codes=["advanced_manufacturing"], keywords="注塑 模具"
    )
    fits = published_yesterday(DemandFactory(title="注塑件银纹分析"))
    other_field = published_yesterday(DemandFactory(title="注塑废水", field_code="environment"))
    no_keyword = published_yesterday(DemandFactory(title="齿轮箱异响", summary="减速机运行噪声大。"))
    too_old = DemandFactory(title="注塑周期长", summary="冷却慢。")  # published today: tomorrow's digest
    listing = published_yesterday(make_listing(university, title="一种注塑模具随形冷却水路"))

    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_due(today=TODAY) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_due(today=TODAY) == 0

    delivery = DigestDelivery.objects.get(user=follower)
    assert (delivery.digest_date, delivery.demand_ids, delivery.listing_ids) == (
        TODAY - timedelta(days=1),
        [fits.pk],
        [listing.pk],
    )
    assert delivery.sent_at is not None
    assert [m.to for m in mail.outbox] == [[follower.email]]
    body = mail.outbox[0].body
    assert fits.title in body
    assert listing.title in body
    for absent in (other_field, no_keyword, too_old):
        assert absent.title not in body
    assert Notification.objects.filter(user=follower).count() == 1


def test_own_records_inactive_subscriptions_and_empty_days_send_nothing(
    enterprise, enterprise_admin, follower
):
    Subscription.objects.create(user=enterprise_admin, kind="demands", keywords="需求")
    Subscription.objects.create(user=follower, kind="demands", keywords="需求", is_active=False)
    published_yesterday(DemandFactory(owner=enterprise, title="我们自己的需求"))

    assert digest_send_due(today=TODAY) == 0
    assert not DigestDelivery.objects.exists()
    assert mail.outbox == []


def test_a_province_covers_its_cities_and_kinds_are_respected(follower, university):
    Subscription.objects.create(user=follower, kind="listings", region_codes=["330000"])
    published_yesterday(
        DemandFactory(title="杭州的需求", region_code="330100")
    )  # a demand: not followed here
    ningbo = published_yesterday(make_listing(university, title="宁波的成果", region="330200"))
    published_yesterday(make_listing(university, title="深圳的成果", region="440300"))

    assert digest_send_due(today=TODAY) == 1
    assert DigestDelivery.objects.get(user=follower).listing_ids == [ningbo.pk]
    assert DigestDelivery.objects.get(user=follower).demand_ids == []
