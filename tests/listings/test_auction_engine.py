"""Property-based check of the auction rules against a small reference model.

The engine updates the state bid by bid; the reference recomputes from each bidder's standing maximum
(leader = the highest maximum, earliest on ties; after every competing bid the price = the lower of the
leader's maximum and the runner-up's maximum plus one increment; a leader raising their own maximum does not
move the price, since nobody bid against them). Both must agree on every accept/refuse, the price, the
leader and the end.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from listings.auction_engine import AuctionState, minimum_bid, place_bid

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class ReferenceAuction:
    def __init__(self, reserve, increment, ends_at, extension):
        self.reserve, self.increment, self.ends_at, self.extension = reserve, increment, ends_at, extension
        self.maxima: dict[int, tuple[Decimal, int]] = {}  # bidder -> (standing maximum, order it was set)
        self.order = 0
        self.price = None

    def ranking(self):
        return sorted(self.maxima.items(), key=lambda item: (-item[1][0], item[1][1]))

    @property
    def leader(self):
        ranking = self.ranking()
        return ranking[0][0] if ranking else None

    def second_price(self):
        ranking = self.ranking()
        if len(ranking) == 1:
            return self.reserve
        return min(ranking[0][1][0], ranking[1][1][0] + self.increment)

    def bid(self, bidder, maximum, at) -> bool:
        if at >= self.ends_at:
            return False
        if self.price is None:
            ok = maximum >= self.reserve
        elif bidder == self.leader:
            ok = maximum > self.maxima[bidder][0]
        else:
            ok = maximum >= self.price + self.increment
        if not ok:
            return False
        competing = bidder != self.leader
        self.order += 1
        self.maxima[bidder] = (maximum, self.order)
        if competing:
            self.price = self.second_price()
        if self.ends_at - at < self.extension:
            self.ends_at = at + self.extension
        return True


bids = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=5),  # bidder (paddle)
        st.integers(min_value=0, max_value=400),  # maximum in units of 100 yuan
        st.integers(min_value=0, max_value=90),  # seconds since the previous bid
    ),
    max_size=60,
)


@settings(max_examples=500, deadline=None)
@given(
    bids=bids,
    reserve=st.integers(min_value=1, max_value=100),
    increment=st.integers(min_value=1, max_value=30),
    duration=st.integers(min_value=60, max_value=1200),
    extension=st.integers(min_value=10, max_value=300),
)
def test_engine_agrees_with_the_reference_model(bids, reserve, increment, duration, extension):
    reserve, increment = Decimal(reserve * 100), Decimal(increment * 100)
    ends_at, ext = START + timedelta(seconds=duration), timedelta(seconds=extension)
    state = AuctionState(reserve=reserve, increment=increment, ends_at=ends_at, extension=ext)
    model = ReferenceAuction(reserve, increment, ends_at, ext)
    at = START
    for bidder, units, gap in bids:
        at += timedelta(seconds=gap)
        maximum = Decimal(units * 100)
        outcome = place_bid(state, bidder=bidder, maximum=maximum, at=at)
        assert outcome.accepted == model.bid(bidder, maximum, at)
        if outcome.accepted:
            state = outcome.state
        assert state.price == model.price
        assert state.leader == model.leader
        assert state.ends_at == model.ends_at
        # Invariants: the price never exceeds what the leader allowed, and never falls below the reserve.
        if state.price is not None:
            assert reserve <= state.price <= state.leader_max


@settings(max_examples=300, deadline=None)
@given(bids=bids)
def test_price_only_rises(bids):
    state = AuctionState(
        reserve=Decimal(1000),
        increment=Decimal(100),
        ends_at=START + timedelta(hours=1),
        extension=timedelta(minutes=5),
    )
    at, last = START, None
    for bidder, units, gap in bids:
        at += timedelta(seconds=gap)
        outcome = place_bid(state, bidder=bidder, maximum=Decimal(units * 100), at=at)
        if outcome.accepted:
            state = outcome.state
            assert last is None or state.price >= last
            last = state.price


def test_worked_example():
    state = AuctionState(
        reserve=Decimal(5000),
        increment=Decimal(1000),
        ends_at=START + timedelta(minutes=30),
        extension=timedelta(minutes=5),
    )
    state = place_bid(state, bidder=1, maximum=Decimal(10000), at=START).state  # proxy up to 10,000
    assert (state.price, state.leader) == (Decimal(5000), 1)
    assert minimum_bid(state) == Decimal(6000)
    refused = place_bid(state, bidder=2, maximum=Decimal(5500), at=START + timedelta(minutes=1))
    assert (refused.accepted, refused.reason) == (False, "below_increment")
    state = place_bid(state, bidder=2, maximum=Decimal(7000), at=START + timedelta(minutes=2)).state
    assert (state.price, state.leader) == (Decimal(8000), 1)  # the proxy answers for bidder 1
    outcome = place_bid(state, bidder=2, maximum=Decimal(12000), at=START + timedelta(minutes=27))
    state = outcome.state
    assert (state.price, state.leader, outcome.leader_changed) == (Decimal(11000), 2, True)
    assert outcome.extended
    assert state.ends_at == START + timedelta(minutes=32)
    late = place_bid(state, bidder=1, maximum=Decimal(20000), at=START + timedelta(minutes=32))
    assert (late.accepted, late.reason) == (False, "closed")
