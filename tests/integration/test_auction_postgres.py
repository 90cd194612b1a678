"""Fifty bidders bidding on one lot at once, on PostgreSQL (SPEC §5: bids never lost, reordered or doubled)."""

import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from listings import services
from listings.auction_engine import AuctionState, place_bid
from listings.models import Auction, Bid, Listing, PublicListing
from marketplace.exceptions import ApplicationError
from tests.factories import EnterpriseFactory, UniversityFactory
from tests.integration.markers import requires_postgres

pytestmark = [pytest.mark.integration, requires_postgres]

BIDDERS = 50
BIDS_EACH = 4


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_bidders():
    owner = UniversityFactory()
    listing = Listing.objects.create(
        owner=owner,
        created_by=owner.created_by,
        title="高导热氮化铝陶瓷基板制备技术",
        summary="流延成型",
        listing_type="invention_patent",
        field_id="new_materials",
        region_id="330100",
        maturity="pilot",
        transfer_modes=["transfer"],
        status=Listing.Status.PUBLISHED,
    )
    now = timezone.now()
    public = PublicListing.objects.create(
        listing=listing,
        floor_price=Decimal("100000"),
        increment=Decimal("1000"),
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(days=1),
        status=PublicListing.Status.AUCTION,
        created_by=owner.created_by,
    )
    # Ending soon, so that bids land inside the extension window and the soft close is exercised too.
    auction = Auction.objects.create(
        public_listing=public,
        reserve=Decimal("100000"),
        increment=Decimal("1000"),
        starts_at=now - timedelta(minutes=1),
        scheduled_end=now + timedelta(minutes=3),
        ends_at=now + timedelta(minutes=3),
        extension_minutes=5,
    )
    organizations = [EnterpriseFactory() for _ in range(BIDDERS)]
    for org in organizations:
        services.auction_join(auction=auction, organization=org, actor=org.created_by)

    barrier = threading.Barrier(BIDDERS)
    accepted: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def bidder(index: int, org):
        rng = random.Random(index)
        try:
            barrier.wait(timeout=30)
            for n in range(BIDS_EACH):
                maximum = Decimal(100000 + rng.randrange(0, 200) * 1000)
                try:
                    bid = services.auction_bid(
                        auction=auction,
                        organization=org,
                        actor=org.created_by,
                        maximum=maximum,
                        client_token=f"{index}-{n}",
                    )
                except ApplicationError as exc:
                    with lock:
                        refused.append(exc.code)
                else:
                    with lock:
                        accepted.append(bid.pk)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=bidder, args=(i, org)) for i, org in enumerate(organizations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(accepted) + len(refused) == BIDDERS * BIDS_EACH
    assert set(refused) <= {"below_increment", "below_reserve", "not_above_own_max"}
    bids = list(Bid.objects.filter(auction=auction).order_by("sequence"))
    # Every accepted bid is recorded once, numbered without gaps.
    assert sorted(b.pk for b in bids) == sorted(accepted)
    assert [b.sequence for b in bids] == list(range(1, len(bids) + 1))
    # The price only rises.
    prices = [b.price_after for b in bids]
    assert prices == sorted(prices)
    # Replaying the recorded bids through the rules, in their order, reproduces every stored step, the final
    # state, the winner (the highest maximum, earliest on ties) and the soft-close end.
    auction.refresh_from_db()
    state = AuctionState(
        reserve=auction.reserve,
        increment=auction.increment,
        ends_at=auction.scheduled_end,
        extension=timedelta(minutes=5),
    )
    for bid in bids:
        outcome = place_bid(state, bidder=bid.bidder_id, maximum=bid.maximum, at=bid.placed_at)
        assert outcome.accepted
        state = outcome.state
        assert (state.price, state.leader, state.ends_at) == (
            bid.price_after,
            bid.leader_after_id,
            bid.ends_at_after,
        )
    assert (auction.price, auction.leader_id, auction.ends_at, auction.bid_count) == (
        state.price,
        state.leader,
        state.ends_at,
        len(bids),
    )
    highest = max(b.maximum for b in bids)
    winner = next(b for b in bids if b.maximum == highest)
    assert auction.leader_id == winner.bidder_id
    assert auction.ends_at > auction.scheduled_end
