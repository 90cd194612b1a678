"""Website views of the online auctions (SPEC §5): the auction page, its JSON state polled every two seconds by
``static/js/auction.js``, admission (accepting the bidding terms) and bids.

Bidders see each other by paddle number only: the page and the JSON carry paddles, prices and times — never an
organization's name nor anybody's maximum (``services.auction_public_state``). The only extra a viewer gets is
which paddles are their own, so the page can say "you lead" or "you were outbid".
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from listings import selectors, services
from listings.forms import AuctionJoinForm, BidForm
from listings.models import Auction, AuctionBidder, AuctionStatus
from listings.presentation import yuan
from listings.services.auctions import BIDDING_TERMS
from listings.views.helpers import buyer_organizations, error_message, login_first
from marketplace.exceptions import ApplicationError

OPEN = (AuctionStatus.SCHEDULED, AuctionStatus.RUNNING)


def _auction(request, pk) -> Auction:
    """An auction of a listing the user may see (every auctioned listing is published); 404 otherwise."""
    auction = get_object_or_404(Auction.objects.select_related("public_listing__listing__owner"), pk=pk)
    selectors.listing_get_for_user(user=request.user, pk=auction.public_listing.listing_id)
    return auction


def _auction_url(auction: Auction) -> str:
    return reverse("listings:auction", kwargs={"pk": auction.pk})


def _own_bidders(user, auction: Auction) -> list[AuctionBidder]:
    if not user.is_authenticated:
        return []
    return list(
        AuctionBidder.objects.filter(auction=auction, organization__memberships__user=user)
        .select_related("organization")
        .order_by("paddle")
    )


def _context(request, auction: Auction, *, join_form=None, bid_form=None) -> dict:
    user = request.user
    listing = auction.public_listing.listing
    state = services.auction_public_state(auction=auction)
    bidders = _own_bidders(user, auction)
    now = timezone.now()
    # Bidders join as soon as the auction is scheduled; bids are taken from its start to its (moving) end.
    is_open = auction.status in OPEN and now < auction.ends_at
    bidding = is_open and auction.starts_at <= now
    context = {
        "auction": auction,
        "listing": listing,
        "state": state,
        "own_paddles": [b.paddle for b in bidders],
        "is_open": is_open,
        "now": now,
        "terms": BIDDING_TERMS,
        "state_url": reverse("listings:auction_state", kwargs={"pk": auction.pk}),
    }
    if bidding and bidders:
        # One bid form per own paddle (a user acting for two bidding organizations is rare but possible).
        context["bid_forms"] = [
            (
                bidder,
                bid_form
                if bid_form is not None
                and str(bid_form.data.get("organization")) == str(bidder.organization_id)
                else BidForm(
                    initial={"organization": bidder.organization_id, "maximum": state["minimum_bid"]}
                ),
            )
            for bidder in bidders
        ]
    joined = {b.organization_id for b in bidders}
    candidates = [
        org for org in buyer_organizations(user, exclude_owner_id=listing.owner_id) if org.pk not in joined
    ]
    if is_open and candidates:
        context["join_form"] = join_form or AuctionJoinForm(organizations=candidates)
    context["join_needs_verified"] = (
        is_open
        and user.is_authenticated
        and not candidates
        and not bidders
        and not selectors.listing_is_owner(user=user, listing=listing)  # the owner does not bid on its lot
    )
    return context


def auction_detail(request, pk):
    auction = _auction(request, pk)
    return render(request, "listings/auction.html", _context(request, auction))


@never_cache
@require_GET
def auction_state(request, pk):
    """The live state for the page's polling: paddles and prices only, plus which paddles are the viewer's."""
    auction = _auction(request, pk)
    state = services.auction_public_state(auction=auction)
    own = [b.paddle for b in _own_bidders(request.user, auction)]
    state.update(
        server_time=timezone.now().isoformat(),
        reserve=str(auction.reserve),
        increment=str(auction.increment),
        own_paddles=own,
        leading=state["leader_paddle"] in own if own else False,
    )
    return JsonResponse(state)


@require_POST
def auction_join(request, pk):
    auction = _auction(request, pk)
    if response := login_first(request, _auction_url(auction)):
        return response
    owner_id = auction.public_listing.listing.owner_id
    form = AuctionJoinForm(
        request.POST, organizations=buyer_organizations(request.user, exclude_owner_id=owner_id)
    )
    if form.is_valid():
        try:
            bidder = services.auction_join(
                auction=auction, organization=form.cleaned_data["organization"], actor=request.user
            )
        except (ValidationError, ApplicationError) as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(
                request,
                _("You accepted the bidding terms. Your paddle number is %(paddle)d.")
                % {"paddle": bidder.paddle},
            )
            return redirect(_auction_url(auction))
    return render(request, "listings/auction.html", _context(request, auction, join_form=form), status=400)


@login_required
@require_POST
def auction_bid(request, pk):
    auction = _auction(request, pk)
    form = BidForm(request.POST)
    if form.is_valid():
        bidder = next(
            (
                b
                for b in _own_bidders(request.user, auction)
                if b.organization_id == form.cleaned_data["organization"]
            ),
            None,
        )
        if bidder is None:
            raise Http404
        try:
            bid = services.auction_bid(
                auction=auction,
                organization=bidder.organization,
                actor=request.user,
                maximum=form.cleaned_data["maximum"],
                client_token=form.cleaned_data["client_token"],
            )
        except ApplicationError as exc:
            message = str(exc.message)
            if "minimum" in exc.extra:
                message += " " + _("The minimum bid now is %(amount)s.") % {
                    "amount": yuan(Decimal(exc.extra["minimum"]))
                }
            form.add_error("maximum", message)
        else:
            if bid.leader_after_id == bid.bidder_id:
                messages.success(
                    request,
                    _("Your bid is accepted: you lead at %(price)s.") % {"price": yuan(bid.price_after)},
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Your bid is accepted, but another bidder's maximum is higher: the price is now %(price)s."
                    )
                    % {"price": yuan(bid.price_after)},
                )
            return redirect(_auction_url(auction))
    auction.refresh_from_db()
    return render(request, "listings/auction.html", _context(request, auction, bid_form=form), status=400)
