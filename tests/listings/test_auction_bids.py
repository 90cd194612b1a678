"""Bids through the service: admission, refusals that change nothing, idempotent retries, the stored state."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from listings import services
from listings.models import Auction, Bid, Listing, PublicListing
from marketplace.exceptions import ApplicationError
from tests.factories import EnterpriseFactory, UniversityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auction(db):
    owner = UniversityFactory()
    listing = Listing.objects.create(
        owner=owner,
        created_by=owner.created_by,
        title="一种高效注塑模具冷却流道设计",
        summary="随形冷却",
        listing_type="invention_patent",
        field_id="advanced_manufacturing",
        region_id="330100",
        maturity="pilot",
        transfer_modes=["transfer"],
        status=Listing.Status.PUBLISHED,
    )
    now = timezone.now()
    public = PublicListing.objects.create(
        listing=listing,
        floor_price=Decimal("100000"),
        increment=Decimal("5000"),
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(days=1),
        status=PublicListing.Status.AUCTION,
        created_by=owner.created_by,
    )
    return Auction.objects.create(
        public_listing=public,
        reserve=Decimal("100000"),
        increment=Decimal("5000"),
        starts_at=now - timedelta(minutes=5),
        scheduled_end=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        extension_minutes=5,
    )


def join(auction, org=None):
    org = org or EnterpriseFactory()
    services.auction_join(auction=auction, organization=org, actor=org.created_by)
    return org


def test_bidders_get_paddles_in_order(auction):
    first, second = join(auction), join(auction)
    paddles = list(auction.bidders.order_by("paddle").values_list("organization", "paddle"))
    assert paddles == [(first.pk, 101), (second.pk, 102)]
    # Joining again changes nothing.
    services.auction_join(auction=auction, organization=first, actor=first.created_by)
    assert auction.bidders.count() == 2


def test_unverified_organization_cannot_join(auction):
    org = EnterpriseFactory(pending=True)
    with pytest.raises(ApplicationError) as exc:
        services.auction_join(auction=auction, organization=org, actor=org.created_by)
    assert exc.value.code == "not_verified"
    assert auction.bidders.count() == 0


def test_owner_cannot_bid_on_its_lot(auction):
    owner = auction.public_listing.listing.owner
    with pytest.raises(ApplicationError) as exc:
        services.auction_join(auction=auction, organization=owner, actor=owner.created_by)
    assert exc.value.code == "own_lot"


def test_bid_without_accepting_terms_is_refused(auction):
    org = EnterpriseFactory()
    with pytest.raises(ApplicationError) as exc:
        services.auction_bid(
            auction=auction, organization=org, actor=org.created_by, maximum=120000, client_token="t1"
        )
    assert exc.value.code == "terms_not_accepted"
    assert Bid.objects.count() == 0


@pytest.mark.parametrize(("maximum", "code"), [(99999, "below_reserve")])
def test_first_bid_below_reserve_changes_nothing(auction, maximum, code):
    org = join(auction)
    with pytest.raises(ApplicationError) as exc:
        services.auction_bid(
            auction=auction, organization=org, actor=org.created_by, maximum=maximum, client_token="a"
        )
    assert exc.value.code == code
    auction.refresh_from_db()
    assert (auction.price, auction.bid_count, Bid.objects.count()) == (None, 0, 0)


def test_proxy_bidding_and_increment(auction):
    a, b = join(auction), join(auction)
    services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=150000, client_token="a1"
    )
    with pytest.raises(ApplicationError) as exc:
        services.auction_bid(
            auction=auction, organization=b, actor=b.created_by, maximum=104000, client_token="b1"
        )
    assert exc.value.code == "below_increment"
    assert exc.value.extra == {"minimum": "105000.00"}
    services.auction_bid(
        auction=auction, organization=b, actor=b.created_by, maximum=120000, client_token="b2"
    )
    auction.refresh_from_db()
    assert auction.price == Decimal("125000.00")
    assert auction.leader.organization == a
    assert list(Bid.objects.values_list("sequence", "price_after")) == [
        (1, Decimal("100000.00")),
        (2, Decimal("125000.00")),
    ]


def test_retried_bid_is_not_applied_twice(auction):
    a = join(auction)
    first = services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=110000, client_token="x"
    )
    again = services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=110000, client_token="x"
    )
    assert first.pk == again.pk
    auction.refresh_from_db()
    assert auction.bid_count == 1


def test_bid_after_the_end_is_refused(auction):
    a = join(auction)
    with pytest.raises(ApplicationError) as exc:
        services.auction_bid(
            auction=auction,
            organization=a,
            actor=a.created_by,
            maximum=200000,
            client_token="late",
            now=auction.ends_at + timedelta(seconds=1),
        )
    assert exc.value.code == "closed"
    assert Bid.objects.count() == 0


def test_late_bid_extends_the_end(auction):
    a = join(auction)
    at = auction.ends_at - timedelta(minutes=2)
    services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=100000, client_token="s", now=at
    )
    auction.refresh_from_db()
    assert auction.ends_at == at + timedelta(minutes=5)
    assert auction.scheduled_end < auction.ends_at


def test_public_state_shows_paddles_not_names(auction):
    a = join(auction)
    services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=180000, client_token="p"
    )
    state = services.auction_public_state(auction=auction)
    assert state["leader_paddle"] == 101
    assert state["price"] == "100000.00"
    assert state["minimum_bid"] == "105000.00"
    assert a.name not in str(state)
    assert "180000" not in str(state)  # the proxy maximum stays secret
