"""Reads of listings, public listings, auctions, deals and publicity."""

from django.db.models import Q, QuerySet
from django.http import Http404

from listings.models import (
    ACTIVE_PUBLIC_LISTING,
    Auction,
    Deal,
    Listing,
    ListingStatus,
    Publicity,
    PublicityStatus,
    PublicListing,
)
from marketplace.models import Membership

PUBLIC_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.TRANSFERRED)


def _member_org_ids(user) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def listing_list_public() -> QuerySet[Listing]:
    return Listing.objects.filter(status__in=PUBLIC_STATUSES).select_related(
        "owner", "field", "sub_field", "region"
    )


def listing_list_visible_to(*, user) -> QuerySet[Listing]:
    qs = Listing.objects.select_related("owner", "field", "sub_field", "region", "region__parent")
    if user.is_authenticated and user.is_staff:
        return qs
    return qs.filter(Q(status__in=PUBLIC_STATUSES) | Q(owner_id__in=_member_org_ids(user)))


def listing_get_for_user(*, user, pk) -> Listing:
    try:
        return listing_list_visible_to(user=user).get(pk=pk)
    except (Listing.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def listing_is_owner(*, user, listing: Listing) -> bool:
    return listing.owner_id in _member_org_ids(user)


def public_listing_current(*, listing: Listing) -> PublicListing | None:
    return listing.public_listings.filter(status__in=ACTIVE_PUBLIC_LISTING).first()


def auction_for_listing(*, listing: Listing) -> Auction | None:
    return Auction.objects.filter(public_listing__listing=listing).order_by("-id").first()


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in (text or "").lower() if not ch.isspace())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def comparable_deals(*, listing: Listing, limit: int = 5, pool: int = 200) -> list[dict]:
    """Completed deals for similar technologies: same field and listing type, nearest by text (Ocean Tomo style).

    Nearness is the Jaccard overlap of character bigrams of title and summary — it works for Chinese without a
    segmenter. The most recent ``pool`` deals of the same field and type are compared.
    """
    candidates = (
        Deal.objects.filter(listing__field_id=listing.field_id, listing__listing_type=listing.listing_type)
        .exclude(listing_id=listing.pk)
        .select_related("listing")
        .order_by("-concluded_at")[:pool]
    )
    reference = _bigrams(f"{listing.title}{listing.summary}")
    scored = []
    for deal in candidates:
        other = _bigrams(f"{deal.listing.title}{deal.listing.summary}")
        union = reference | other
        similarity = len(reference & other) / len(union) if union else 0.0
        scored.append((similarity, deal))
    scored.sort(key=lambda item: (-item[0], -item[1].concluded_at.timestamp()))
    return [
        {
            "title": deal.listing.title,
            "listing_type": deal.listing.listing_type,
            "price": deal.price,
            "via": deal.via,
            "concluded_at": deal.concluded_at,
            "similarity": round(similarity, 3),
        }
        for similarity, deal in scored[:limit]
    ]


def publicity_list_current() -> QuerySet[Publicity]:
    return Publicity.objects.filter(
        status__in=[PublicityStatus.OPEN, PublicityStatus.UNDER_REVIEW]
    ).select_related("deal", "deal__listing", "deal__listing__owner", "deal__buyer")


def publicity_by_code(*, code: str) -> Publicity | None:
    return (
        Publicity.objects.filter(
            certificate_code=(code or "").strip().upper(), status=PublicityStatus.CERTIFIED
        )
        .select_related("deal", "deal__listing", "deal__listing__owner", "deal__buyer")
        .first()
    )
