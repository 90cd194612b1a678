"""Builders of listings-app rows for the website, API and admin tests (plain functions, not fixtures).

Listings are drafted through ``services.listing_create`` (so ``search_text`` is what the services store) and
then put in the wanted state directly; public listings, auctions and publicity are built through the services
where a test needs their side effects, and as rows where it only needs a state.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from listings import services
from listings.models import Auction, Deal, Listing, Publicity, PublicListing


def make_listing(owner, *, status=Listing.Status.PUBLISHED, **overrides) -> Listing:
    data = {
        "title": "一种注塑模具随形冷却水路的设计方法",
        "summary": "随形冷却水路，成型周期缩短20%。",
        "details": "中试数据：周期由48秒降至37秒。",
        "listing_type": "invention_patent",
        "patent_number": "ZL202110358214.6",
        "field": "advanced_manufacturing",
        "region": "330100",
        "maturity": "pilot",
        "transfer_modes": ["transfer", "exclusive_license"],
        "asking_price": Decimal("500000"),
        "inventors": "王建国、李晓峰",
        **overrides,
    }
    listing = services.listing_create(owner=owner, actor=owner.created_by, **data)
    changes = {"status": status}
    if status in (Listing.Status.PUBLISHED, Listing.Status.TRANSFERRED):
        changes["published_at"] = timezone.now()
    Listing.objects.filter(pk=listing.pk).update(**changes)
    listing.refresh_from_db()
    return listing


def make_public_listing(
    listing, *, status=PublicListing.Status.OPEN, days=20, floor="200000", increment="10000"
):
    """An open public listing through the service; other statuses as a row whose period has ended."""
    if status == PublicListing.Status.OPEN:
        return services.public_listing_open(
            listing=listing, actor=listing.owner.created_by, floor_price=floor, increment=increment, days=days
        )
    now = timezone.now()
    return PublicListing.objects.create(
        listing=listing,
        floor_price=Decimal(floor),
        increment=Decimal(increment),
        starts_at=now - timedelta(days=days + 1),
        ends_at=now - timedelta(days=1),
        status=status,
        decided_at=now - timedelta(hours=1),
        created_by=listing.owner.created_by,
    )


def make_auction(
    listing, *, reserve="100000", increment="5000", minutes_left=60, started_minutes_ago=5, **extra
):
    public = make_public_listing(
        listing, status=PublicListing.Status.AUCTION, floor=reserve, increment=increment
    )
    now = timezone.now()
    end = now + timedelta(minutes=minutes_left)
    return Auction.objects.create(
        public_listing=public,
        reserve=Decimal(reserve),
        increment=Decimal(increment),
        starts_at=now - timedelta(minutes=started_minutes_ago),
        scheduled_end=end,
        ends_at=end,
        extension_minutes=5,
        **extra,
    )


def join(auction, organization, user=None):
    return services.auction_join(
        auction=auction, organization=organization, actor=user or organization.created_by
    )


def bid(auction, organization, maximum, token, user=None):
    return services.auction_bid(
        auction=auction,
        organization=organization,
        actor=user or organization.created_by,
        maximum=Decimal(maximum),
        client_token=token,
    )


def make_publicity(listing, buyer, *, price="360000", days_ago=0, certified=False) -> Publicity:
    """A deal of a state-funded listing and its publicity notice (open, or certified after its period)."""
    now = timezone.now()
    concluded = now - timedelta(days=days_ago)
    deal = Deal.objects.create(
        listing=listing, buyer=buyer, price=Decimal(price), via=Deal.Via.NEGOTIATION, concluded_at=concluded
    )
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.TRANSFERRED)
    publicity = services.publicity_open(deal=deal, now=concluded)
    if certified:
        services.publicity_certify(publicity=publicity, now=publicity.ends_at + timedelta(seconds=1))
    publicity.refresh_from_db()
    return publicity
