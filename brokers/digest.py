"""The daily digest of subscriptions (SPEC §6): new demands and listings that match what a user follows.

Once a day the job looks at the records published the previous calendar day (the platform's time zone) and,
for every active user with active subscriptions, the ones that fit any subscription: its kind, one of its
fields (or their sub-fields), one of its regions (a province covers its cities), one of its keywords — each
criterion left empty matches all (a subscription has at least one). A user's own organizations' records are
left out. The job claims the day's ``DigestDelivery`` row before notifying, so a rerun — or two workers at
once — sends nothing more.

The subscription pages preview a subscription with the same rules (``match_counts``): whatever decides what
a digest brings is in ``subscription_q`` and ``published_between``, and nowhere else.
"""

from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brokers.models import DigestDelivery, Subscription
from demands.models import Demand, DemandStatus
from listings.models import Listing, ListingStatus
from marketplace.models import Membership
from marketplace.services.notifications import bilingual_subject, bilingual_text, notification_create

MAX_ITEMS = 20


def _window(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def subscription_q(subscription: Subscription) -> Q:
    """The records one subscription follows, as a filter on demands or listings (their columns agree)."""
    q = Q()
    if subscription.field_codes:
        q &= Q(field_id__in=subscription.field_codes) | Q(sub_field_id__in=subscription.field_codes)
    if subscription.region_codes:
        q &= Q(region_id__in=subscription.region_codes) | Q(region__parent_id__in=subscription.region_codes)
    keywords = [k for k in subscription.keywords.lower().split() if k]
    if keywords:
        any_keyword = Q()
        for keyword in keywords:
            any_keyword |= Q(search_text__contains=keyword)
        q &= any_keyword
    return q


def follows_demands(subscription: Subscription) -> bool:
    return subscription.kind in (Subscription.Kind.DEMANDS, Subscription.Kind.BOTH)


def follows_listings(subscription: Subscription) -> bool:
    return subscription.kind in (Subscription.Kind.LISTINGS, Subscription.Kind.BOTH)


def published_between(*, user, start: datetime, end: datetime) -> tuple[QuerySet[Demand], QuerySet[Listing]]:
    """Demands and listings published in [start, end) and still on the market, other than those of the user's
    own organizations: what any subscription of ``user`` may bring."""
    own = Membership.objects.filter(user=user).values("organization_id")
    demands = Demand.objects.filter(
        status=DemandStatus.PUBLISHED, published_at__gte=start, published_at__lt=end
    ).exclude(owner_id__in=own)
    listings = Listing.objects.filter(
        status=ListingStatus.PUBLISHED, published_at__gte=start, published_at__lt=end
    ).exclude(owner_id__in=own)
    return demands, listings


def digest_for_user(*, user, day: date) -> tuple[list[Demand], list[Listing]]:
    subscriptions = list(Subscription.objects.filter(user=user, is_active=True))
    start, end = _window(day)
    demands, listings = published_between(user=user, start=start, end=end)
    demand_q = Q(pk__in=[])
    listing_q = Q(pk__in=[])
    for subscription in subscriptions:
        if follows_demands(subscription):
            demand_q |= subscription_q(subscription)
        if follows_listings(subscription):
            listing_q |= subscription_q(subscription)
    return (
        list(demands.filter(demand_q).order_by("-published_at", "-id")[:MAX_ITEMS]),
        list(listings.filter(listing_q).order_by("-published_at", "-id")[:MAX_ITEMS]),
    )


def match_counts(*, user, subscriptions: list[Subscription], start: datetime, end: datetime) -> list[dict]:
    """For each subscription (saved or not), how many records published in [start, end) it would have brought
    ``user`` by the digest's rules: ``{"demands": n, "listings": n}``, ``None`` for a kind it does not follow.

    One query per kind of record whatever the number of subscriptions (a filtered count for each)."""
    demands, listings = published_between(user=user, start=start, end=end)
    counts = [{"demands": None, "listings": None} for _ in subscriptions]
    for key, queryset, follows in (
        ("demands", demands, follows_demands),
        ("listings", listings, follows_listings),
    ):
        wanted = {i: subscription_q(s) for i, s in enumerate(subscriptions) if follows(s)}
        if not wanted:
            continue
        totals = queryset.aggregate(**{f"s{i}": Count("pk", filter=q) for i, q in wanted.items()})
        for i in wanted:
            counts[i][key] = totals[f"s{i}"]
    return counts


def digest_send_due(*, today: date | None = None) -> int:
    """Send yesterday's digests; returns how many were sent now."""
    today = today or timezone.localdate()
    day = today - timedelta(days=1)
    sent = 0
    users = {
        s.user
        for s in Subscription.objects.filter(is_active=True, user__is_active=True).select_related("user")
    }
    for user in sorted(users, key=lambda u: u.pk):
        demands, listings = digest_for_user(user=user, day=day)
        if not demands and not listings:
            continue
        try:
            with transaction.atomic():
                delivery = DigestDelivery.objects.create(
                    user=user,
                    digest_date=day,
                    demand_ids=[d.pk for d in demands],
                    listing_ids=[item.pk for item in listings],
                )
                lines = [f"· {d.title}" for d in demands] + [f"· {item.title}" for item in listings]
                context = {"day": day.isoformat(), "demands": len(demands), "listings": len(listings)}
                notification_create(
                    user=user,
                    subject=bilingual_subject(lambda c=context: _("New on the market for you (%(day)s)") % c),
                    body=bilingual_text(
                        lambda c=context: (
                            _(
                                "%(demands)d new demands and %(listings)d new listings match your subscriptions:"
                            )
                            % c
                        )
                    )
                    + "\n\n"
                    + "\n".join(lines),
                    url=reverse("dashboard"),
                )
                delivery.sent_at = timezone.now()
                delivery.save(update_fields=["sent_at"])
        except IntegrityError:  # already sent for this day (a rerun, or another worker)
            continue
        sent += 1
    return sent
