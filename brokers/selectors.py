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


def demand_recommendations(*, demand, limit: int = 5) -> dict[str, list]:
    """What the demand's page shows its owner, broker and staff: listings, suppliers and experts, each row with
    ``text``, its explanation in the active language."""
    from brokers.explain import explanation_text
    from brokers.models import Expert, ExpertMatch, SupplierMatch

    listings = list(listing_matches_for_demand(demand=demand, limit=limit).select_related("listing__owner"))
    suppliers = list(
        SupplierMatch.objects.filter(demand=demand).select_related("organization").order_by("rank")[:limit]
    )
    experts = list(
        ExpertMatch.objects.filter(demand=demand, expert__status=Expert.Status.VETTED)
        .select_related("expert__organization")
        .order_by("rank")[:limit]
    )
    for row in (*listings, *suppliers, *experts):
        row.text = explanation_text(row.explanation)
    return {"listings": listings, "suppliers": suppliers, "experts": experts}


def recommended_demands_for_user(*, user, limit: int = 10) -> list:
    """Published demands matched to the listings of the user's organizations, best first, one row per demand
    (the supplier's dashboard). Public text only was used to match them."""
    from brokers.explain import explanation_text
    from brokers.models import DemandMatch
    from demands.models import DemandStatus

    if not user.is_authenticated:
        return []
    rows = (
        DemandMatch.objects.filter(
            listing__owner__memberships__user=user,
            listing__status=ListingStatus.PUBLISHED,
            demand__status=DemandStatus.PUBLISHED,
        )
        .exclude(demand__owner__memberships__user=user)
        .select_related("demand", "listing")
        .order_by("-score", "rank")[: limit * 5]
    )
    seen, picked = set(), []
    for row in rows:
        if row.demand_id in seen:
            continue
        seen.add(row.demand_id)
        row.text = explanation_text(row.explanation)
        picked.append(row)
        if len(picked) == limit:
            break
    return picked
