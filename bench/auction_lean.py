"""A PROTOTYPE of a leaner bid path, for measuring only (``bench/auction_bids.py --variant lean``).

It is not the project's code and changes no file of it: imported into the benchmark's gunicorn workers (through
``bench/auction_wsgi.py``), it replaces ``AuctionViewSet.bids`` in memory, so the benchmark can measure what
the change proposed in docs/performance.md would bring, and check it with the same database checks (no bid
lost, reordered or doubled; every bid replayed through the auction rules).

Same contract as the real endpoint — same request, answers, refusal codes, idempotency on ``client_token``,
and the same rules (``listings.auction_engine.place_bid`` on the state of the locked row) — with fewer
statements: 5 instead of 9 for an accepted bid, 2 of them while the auction row is locked instead of 4.

- Outside the lock, one query finds the caller's paddle on this auction for a *verified* organization they are
  a member of; it replaces the view's paddle query, the service's membership ``exists()``, its
  ``can_act_as_verified`` ``exists()`` and the bidder query under the lock. When it finds nothing (not a
  member, not verified, terms not accepted, several paddles, unknown auction, staff acting for an unverified
  organization), the request goes to the real implementation, which gives the exact refusal.
- Under the lock, plain SQL: ``SELECT … FOR UPDATE`` of the auction (with the leader's paddle), then
  ``INSERT … ON CONFLICT (auction, bidder, client_token) DO NOTHING RETURNING id`` — the unique constraint
  does the idempotency check that was a separate ``SELECT`` — then the ``UPDATE`` of the auction, and the
  commit. A repeated token is looked up only when the insert did not happen or the rules refused the bid.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from listings.api import serializers as s
from listings.api.views import AuctionViewSet
from listings.auction_engine import AuctionState, minimum_bid, place_bid
from listings.models import AuctionBidder, AuctionStatus, Bid
from listings.services.auctions import REFUSALS
from marketplace.exceptions import ApplicationError
from marketplace.models import Organization

_real_bids = AuctionViewSet.bids

LOCK = """
SELECT a.status, a.starts_at, a.reserve, a.increment, a.ends_at, a.extension_minutes, a.price, a.leader_id,
       a.leader_max, a.bid_count, l.paddle
FROM listings_auction a LEFT JOIN listings_auctionbidder l ON l.id = a.leader_id
WHERE a.id = %s
FOR UPDATE OF a
"""
INSERT = """
INSERT INTO listings_bid (auction_id, bidder_id, placed_by_id, sequence, maximum, price_after, leader_after_id,
                          ends_at_after, client_token, placed_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (auction_id, bidder_id, client_token) DO NOTHING
RETURNING id
"""
UPDATE = """
UPDATE listings_auction SET status = %s, price = %s, leader_id = %s, leader_max = %s, bid_count = %s, ends_at = %s,
       updated_at = %s
WHERE id = %s
"""


def _body(bid_id, sequence, paddle, maximum, price_after, leader_paddle, leading, ends_at, placed_at):
    return {
        "id": bid_id,
        "sequence": sequence,
        "paddle": paddle,
        "maximum": f"{maximum:.2f}",
        "price_after": f"{price_after:.2f}",
        "leader_paddle": leader_paddle,
        "leading": leading,
        "ends_at": ends_at.isoformat(),
        "placed_at": placed_at.isoformat(),
    }


def _repeated(auction_id, bidder_id, paddle, client_token):
    bid = Bid.objects.filter(auction_id=auction_id, bidder_id=bidder_id, client_token=client_token).first()
    if bid is None:
        return None
    leading = bid.leader_after_id == bidder_id
    leader_paddle = (
        paddle
        if leading
        else AuctionBidder.objects.filter(pk=bid.leader_after_id).values_list("paddle", flat=True).first()
    )
    return Response(
        _body(
            bid.pk,
            bid.sequence,
            paddle,
            bid.maximum,
            bid.price_after,
            leader_paddle,
            leading,
            bid.ends_at_after,
            bid.placed_at,
        ),
        status=status.HTTP_201_CREATED,
    )


def lean_bids(self, request, pk=None):
    serializer = s.BidCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    auction_id = int(pk)
    paddles = AuctionBidder.objects.filter(
        auction_id=auction_id,
        organization__memberships__user=request.user,
        organization__status=Organization.Status.VERIFIED,
    )
    if data.get("organization") is not None:
        paddles = paddles.filter(organization_id=data["organization"])
    found = list(paddles.values_list("pk", "paddle")[:2])
    if len(found) != 1:
        return _real_bids(self, request, pk)  # every refusal exactly as the real endpoint gives it
    bidder_id, paddle = found[0]
    maximum = data["maximum"].quantize(Decimal("0.01"))
    client_token = data["client_token"].strip()[:64]
    if not client_token:
        return _real_bids(self, request, pk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK, [auction_id])
        row = cursor.fetchone()
        if row is None:
            return _real_bids(self, request, pk)
        (
            status_,
            starts_at,
            reserve,
            increment,
            ends_at,
            extension_minutes,
            price,
            leader_id,
            leader_max,
            bid_count,
            leader_paddle,
        ) = row
        state = AuctionState(
            reserve=reserve,
            increment=increment,
            ends_at=ends_at,
            extension=timedelta(minutes=extension_minutes),
            price=price,
            leader=leader_id,
            leader_max=leader_max,
            bid_count=bid_count,
        )
        now = timezone.now()
        if status_ not in (AuctionStatus.SCHEDULED, AuctionStatus.RUNNING) or now < starts_at:
            repeated = _repeated(auction_id, bidder_id, paddle, client_token)
            if repeated is not None:
                return repeated
            raise ApplicationError(_("The auction is not running."), code="not_running")
        outcome = place_bid(state, bidder=bidder_id, maximum=maximum, at=now)
        if not outcome.accepted:
            repeated = _repeated(auction_id, bidder_id, paddle, client_token)
            if repeated is not None:
                return repeated
            raise ApplicationError(
                REFUSALS[outcome.reason](), code=outcome.reason, extra={"minimum": str(minimum_bid(state))}
            )
        new = outcome.state
        cursor.execute(
            INSERT,
            [
                auction_id,
                bidder_id,
                request.user.pk,
                new.bid_count,
                maximum,
                new.price,
                new.leader,
                new.ends_at,
                client_token,
                now,
            ],
        )
        inserted = cursor.fetchone()
        if inserted is None:  # the same token again: nothing written, the first answer again
            return _repeated(auction_id, bidder_id, paddle, client_token)
        cursor.execute(
            UPDATE,
            [
                AuctionStatus.RUNNING,
                new.price,
                new.leader,
                new.leader_max,
                new.bid_count,
                new.ends_at,
                now,
                auction_id,
            ],
        )
    leading = new.leader == bidder_id
    body = _body(
        inserted[0],
        new.bid_count,
        paddle,
        maximum,
        new.price,
        paddle if leading else leader_paddle,
        leading,
        new.ends_at,
        now,
    )
    return Response(body, status=status.HTTP_201_CREATED)


def install() -> None:
    AuctionViewSet.bids = lean_bids
