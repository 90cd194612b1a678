"""The rules of an English ascending auction with proxy bids and a soft close, as pure functions.

The service (``listings.services``) holds the auction row locked, loads an ``AuctionState``, calls
``place_bid`` and writes the result; keeping the rules free of the database lets property-based tests compare
them with an independent reference model over thousands of random bid sequences.

Rules (SPEC §5, seed 002):
- The reserve is the floor price of the public listing; the first accepted bid opens at the reserve.
- Every bid is a maximum the bidder is willing to pay (a proxy bid; a plain bid is a maximum equal to the
  amount). The platform bids for the leader up to their maximum, one increment at a time.
- A challenger's maximum must reach the current price plus one increment (the reserve for the first bid).
  The leader may raise their own maximum at any time; the price does not move for that.
- When a challenger's maximum exceeds the leader's, the challenger leads at the lower of their maximum and
  the old leader's maximum plus one increment. Otherwise the leader stays and the price rises to the lower of
  the leader's maximum and the challenger's maximum plus one increment. Equal maximums: the earlier bid wins.
- Soft close: a bid accepted within the last ``extension`` before the end moves the end to ``extension``
  after that bid, so nobody can win by sniping.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class AuctionState:
    reserve: Decimal
    increment: Decimal
    ends_at: datetime
    extension: timedelta
    price: Decimal | None = None  # None until the first accepted bid
    leader: int | None = None  # bidder id
    leader_max: Decimal | None = None
    bid_count: int = 0


@dataclass(frozen=True)
class BidOutcome:
    accepted: bool
    reason: str = (
        ""  # why a bid was refused: "closed", "below_reserve", "below_increment", "not_above_own_max"
    )
    state: AuctionState | None = None
    extended: bool = False
    leader_changed: bool = False


def minimum_bid(state: AuctionState) -> Decimal:
    """The lowest maximum a challenger may bid now."""
    return state.reserve if state.price is None else state.price + state.increment


def place_bid(state: AuctionState, *, bidder: int, maximum: Decimal, at: datetime) -> BidOutcome:
    """Apply one bid. Pure: returns the new state (or the reason for refusal) and never mutates ``state``."""
    if at >= state.ends_at:
        return BidOutcome(False, "closed")
    if state.price is None:
        if maximum < state.reserve:
            return BidOutcome(False, "below_reserve")
        new = replace(state, price=state.reserve, leader=bidder, leader_max=maximum, bid_count=1)
        return _with_extension(new, at, leader_changed=True)
    if bidder == state.leader:
        if maximum <= state.leader_max:
            return BidOutcome(False, "not_above_own_max")
        new = replace(state, leader_max=maximum, bid_count=state.bid_count + 1)
        return _with_extension(new, at, leader_changed=False)
    if maximum < state.price + state.increment:
        return BidOutcome(False, "below_increment")
    if maximum > state.leader_max:
        price = min(maximum, state.leader_max + state.increment)
        new = replace(state, price=price, leader=bidder, leader_max=maximum, bid_count=state.bid_count + 1)
        return _with_extension(new, at, leader_changed=True)
    price = min(state.leader_max, maximum + state.increment)
    new = replace(state, price=price, bid_count=state.bid_count + 1)
    return _with_extension(new, at, leader_changed=False)


def _with_extension(state: AuctionState, at: datetime, *, leader_changed: bool) -> BidOutcome:
    if state.ends_at - at < state.extension:
        return BidOutcome(
            True,
            state=replace(state, ends_at=at + state.extension),
            extended=True,
            leader_changed=leader_changed,
        )
    return BidOutcome(True, state=state, leader_changed=leader_changed)
