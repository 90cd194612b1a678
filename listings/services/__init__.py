"""Every write of the listings app (SPEC §5) goes through one of these functions."""

from listings.services.auctions import auction_bid, auction_join, auction_public_state, terms_digest

__all__ = ["auction_bid", "auction_join", "auction_public_state", "terms_digest"]
