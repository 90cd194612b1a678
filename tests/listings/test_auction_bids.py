"""Bids through the service: admission, refusals that change nothing, idempotent retries, the stored state."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from listings import services
from listings.models import Auction, Bid, Listing, PublicListing
from marketplace.exceptions import ApplicationError
from marketplace.models import Organization
from tests.factories import EnterpriseFactory, MembershipFactory, UniversityFactory

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


def state_of(auction):
    auction.refresh_from_db()
    return (auction.price, auction.leader_id, auction.leader_max, auction.bid_count, auction.ends_at)


def test_a_token_reused_with_another_maximum_returns_the_first_bid_and_changes_nothing(auction):
    a = join(auction)
    first = services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=110000, client_token="x"
    )
    before = state_of(auction)

    # The rules would accept a higher maximum; the unique (auction, bidder, token) refuses the second row.
    again = services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=300000, client_token="x"
    )

    assert (again.pk, again.maximum) == (first.pk, Decimal("110000.00"))
    assert state_of(auction) == before
    assert Bid.objects.count() == 1


def test_a_retry_after_being_outbid_or_after_the_close_returns_the_bid_it_placed(auction):
    a, b = join(auction), join(auction)
    placed = services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=110000, client_token="a1"
    )
    services.auction_bid(
        auction=auction, organization=b, actor=b.created_by, maximum=200000, client_token="b1"
    )
    before = state_of(auction)

    retried = services.auction_bid(
        auction=auction, organization=a, actor=a.created_by, maximum=110000, client_token="a1"
    )
    after_close = services.auction_bid(
        auction=auction,
        organization=a,
        actor=a.created_by,
        maximum=110000,
        client_token="a1",
        now=auction.ends_at + timedelta(minutes=1),
    )

    assert retried.pk == after_close.pk == placed.pk
    assert (retried.bidder.paddle, retried.leader_after.paddle) == (101, 101)
    assert state_of(auction) == before
    assert Bid.objects.count() == 2


def test_a_bidder_suspended_after_joining_is_refused_with_its_reason(auction):
    a = join(auction)
    Organization.objects.filter(pk=a.pk).update(status=Organization.Status.SUSPENDED)

    for organization in (a, None):  # named, or found through the actor's memberships
        with pytest.raises(ApplicationError) as exc:
            services.auction_bid(
                auction=auction,
                organization=organization,
                actor=a.created_by,
                maximum=120000,
                client_token="t",
            )
        assert exc.value.code == "not_verified"
    assert state_of(auction)[3] == 0
    assert Bid.objects.count() == 0


def test_a_user_cannot_bid_for_an_organization_they_do_not_belong_to(auction):
    a = join(auction)
    stranger = EnterpriseFactory()

    with pytest.raises(ApplicationError) as exc:
        services.auction_bid(
            auction=auction, organization=a, actor=stranger.created_by, maximum=120000, client_token="t"
        )

    assert exc.value.code == "not_member"
    assert Bid.objects.count() == 0


def test_a_member_of_two_bidding_organizations_must_say_which_bids(auction):
    a, b = join(auction), join(auction)
    MembershipFactory(organization=b, user=a.created_by)

    with pytest.raises(ApplicationError) as exc:
        services.auction_bid(
            auction=auction, organization=None, actor=a.created_by, maximum=120000, client_token="t"
        )
    named = services.auction_bid(
        auction=auction, organization=b, actor=a.created_by, maximum=120000, client_token="t"
    )

    assert exc.value.code == "several_paddles"
    assert (named.bidder.organization_id, named.sequence) == (b.pk, 1)


def test_an_unknown_auction_is_not_found(auction):
    a = join(auction)
    with pytest.raises(Auction.DoesNotExist):
        services.auction_bid(
            auction=Auction(pk=auction.pk + 1000),
            organization=None,
            actor=a.created_by,
            maximum=1,
            client_token="t",
        )


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
