"""Every write of the listings app (SPEC §5) goes through one of these functions."""

from listings.services.auctions import (
    auction_bid,
    auction_close,
    auction_close_due,
    auction_join,
    auction_public_state,
    terms_digest,
)
from listings.services.trading import (
    auction_failed_fallback,
    deal_record,
    intent_file,
    negotiation_conclude,
    objection_file,
    objection_resolve,
    public_listing_decide,
    public_listing_decide_due,
    public_listing_open,
    public_listing_relist,
    public_listing_withdraw,
    publicity_certify,
    publicity_certify_due,
    publicity_open,
)

__all__ = [
    "auction_bid",
    "auction_close",
    "auction_close_due",
    "auction_failed_fallback",
    "auction_join",
    "auction_public_state",
    "deal_record",
    "intent_file",
    "negotiation_conclude",
    "objection_file",
    "objection_resolve",
    "public_listing_decide",
    "public_listing_decide_due",
    "public_listing_open",
    "public_listing_relist",
    "public_listing_withdraw",
    "publicity_certify",
    "publicity_certify_due",
    "publicity_open",
    "terms_digest",
]
