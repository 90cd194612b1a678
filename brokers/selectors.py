"""Broker and matching reads used by other apps (SPEC §6)."""

from django.db.models import QuerySet

from brokers.models import ListingMatch
from listings.models import ListingStatus


def broker_is_assigned_to_demand(*, user, demand) -> bool:
    """True when ``user`` is the vetted broker working this demand (SPEC §6). No brokers exist yet."""
    return False


def demand_matches_visible_to(*, user, demand) -> bool:
    """Matches of a demand are for its owner, its assigned broker and the platform's staff (SPEC §9.4)."""
    from demands.selectors import demand_is_owner

    if not user.is_authenticated or not user.is_active:
        return False
    return bool(
        user.is_staff
        or demand_is_owner(user=user, demand=demand)
        or broker_is_assigned_to_demand(user=user, demand=demand)
    )


def listing_matches_for_demand(*, demand, limit: int) -> QuerySet[ListingMatch]:
    """In rank order; listings that left the market since the last computation are left out."""
    return (
        ListingMatch.objects.filter(demand=demand, listing__status=ListingStatus.PUBLISHED)
        .select_related("listing")
        .order_by("rank")[:limit]
    )
