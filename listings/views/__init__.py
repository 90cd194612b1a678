"""Website views of the listings app (SPEC §5, §10), thin: parse the form, call one service or selector, render.

catalog     the market list, the listing page, the owner's forms, "my listings"
trading     public listing (挂牌): open, intents, relist/withdraw, the agreement after negotiation
auctions    the auction page, its polled JSON state, admission and bids
publicity   publicity notices, objections, the certificate PDF and its public verification
"""

from listings.views.auctions import auction_bid, auction_detail, auction_join, auction_state
from listings.views.catalog import (
    attachment_download,
    listing_attachments,
    listing_create,
    listing_detail,
    listing_edit,
    listing_list,
    listing_mine,
    listing_submit,
    listing_withdraw,
)
from listings.views.publicity import certificate_download, objection_file, publicity_list, publicity_verify
from listings.views.trading import (
    intent_file,
    negotiation_conclude,
    public_listing_open,
    public_listing_relist,
    public_listing_withdraw,
)

__all__ = [
    "attachment_download",
    "auction_bid",
    "auction_detail",
    "auction_join",
    "auction_state",
    "certificate_download",
    "intent_file",
    "listing_attachments",
    "listing_create",
    "listing_detail",
    "listing_edit",
    "listing_list",
    "listing_mine",
    "listing_submit",
    "listing_withdraw",
    "negotiation_conclude",
    "objection_file",
    "public_listing_open",
    "public_listing_relist",
    "public_listing_withdraw",
    "publicity_list",
    "publicity_verify",
]
