"""The daily digest of subscriptions (SPEC §6): new demands and listings that match what a user follows.

Once a day the job looks at the records published the previous calendar day (the platform's time zone) and,
for every active user with active subscriptions, the ones that fit any subscription: its kind, one of its
fields (or their sub-fields), one of its regions (a province covers its cities), one of its keywords — each
criterion left empty matches all. A user's own organizations' records are left out. The job claims the day's
``DigestDelivery`` row before notifying, so a rerun — or two workers at once — sends nothing more.
"""

from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
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


def _subscription_q(subscription: Subscription) -> Q:
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


def digest_for_user(*, user, day: date) -> tuple[list[Demand], list[Listing]]:
    subscriptions = list(Subscription.objects.filter(user=user, is_active=True))
    start, end = _window(day)
    own = Membership.objects.filter(user=user).values("organization_id")
    demand_q = Q(pk__in=[])
    listing_q = Q(pk__in=[])
    for subscription in subscriptions:
        if subscription.kind in (Subscription.Kind.DEMANDS, Subscription.Kind.BOTH):
            demand_q |= _subscription_q(subscription)
        if subscription.kind in (Subscription.Kind.LISTINGS, Subscription.Kind.BOTH):
            listing_q |= _subscription_q(subscription)
    demands = list(
        Demand.objects.filter(
            demand_q, status=DemandStatus.PUBLISHED, published_at__gte=start, published_at__lt=end
        )
        .exclude(owner_id__in=own)
        .order_by("-published_at", "-id")[:MAX_ITEMS]
    )
    listings = list(
        Listing.objects.filter(
            listing_q, status=ListingStatus.PUBLISHED, published_at__gte=start, published_at__lt=end
        )
        .exclude(owner_id__in=own)
        .order_by("-published_at", "-id")[:MAX_ITEMS]
    )
    return demands, listings


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
