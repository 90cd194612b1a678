"""Broker and matching reads used by other apps (SPEC §6), and the subscriptions of a user."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from brokers.models import ListingMatch, Subscription
from listings.models import ListingStatus

PREVIEW_DAYS = 7


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


# --- subscriptions -------------------------------------------------------------------------------------------


def subscriptions_of(*, user) -> QuerySet[Subscription]:
    """The user's subscriptions, oldest first (nobody else's: this is how pages and the API scope them)."""
    if not user.is_authenticated:
        return Subscription.objects.none()
    return Subscription.objects.filter(user=user).order_by("id")


def subscription_get_for_user(*, user, pk) -> Subscription:
    """The user's subscription ``pk``; 404 for anyone else's, so that its existence is not revealed."""
    return get_object_or_404(subscriptions_of(user=user), pk=pk)


def subscription_summary(*, user) -> dict[str, int]:
    """``{"total": n, "active": n}`` for the dashboard, in one query."""
    return subscriptions_of(user=user).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
    )


def subscriptions_label(subscriptions: list[Subscription]) -> list[Subscription]:
    """Give each subscription ``field_names`` and ``region_names`` (the active language; 浙江省杭州市 for a
    city) and ``keyword_list``, with one query for the fields and one for the regions of them all."""
    from marketplace.models import Region, TechnologyField

    field_codes = {code for s in subscriptions for code in s.field_codes}
    region_codes = {code for s in subscriptions for code in s.region_codes}
    fields = (
        {f.code: f.name for f in TechnologyField.objects.filter(code__in=field_codes)} if field_codes else {}
    )
    regions = (
        {r.code: r.full_name for r in Region.objects.filter(code__in=region_codes).select_related("parent")}
        if region_codes
        else {}
    )
    for subscription in subscriptions:
        subscription.field_names = [fields.get(code, code) for code in subscription.field_codes]
        subscription.region_names = [regions.get(code, code) for code in subscription.region_codes]
        subscription.keyword_list = subscription.keywords.split()
    return subscriptions


def subscription_previews(
    *, user, subscriptions: list[Subscription], days: int = PREVIEW_DAYS, now: datetime | None = None
) -> list[dict]:
    """For each subscription (saved or not, paused or not), how many records published in the last ``days``
    days it would have brought ``user``, by the digest's own rules (``brokers.digest.match_counts``)."""
    from brokers.digest import match_counts

    if not subscriptions:
        return []
    end = now or timezone.now()
    return match_counts(user=user, subscriptions=subscriptions, start=end - timedelta(days=days), end=end)
