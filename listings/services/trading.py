"""Public listing (挂牌) with expressions of intent, the decision at the end of the period, negotiation, deals
and publicity (成果转化公示) with objections — the Shanghai Technology Exchange process of seed 002."""

import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from listings.models import (
    Auction,
    Deal,
    Intent,
    Listing,
    ListingStatus,
    Objection,
    Publicity,
    PublicityStatus,
    PublicListing,
    PublicListingStatus,
)
from marketplace.exceptions import ApplicationError
from marketplace.models import Membership, Organization, User
from marketplace.permissions import can_act_as_verified
from marketplace.services import audit_log, notification_create
from marketplace.services.notifications import bilingual_subject, bilingual_text

PL = PublicListingStatus


def listing_url(listing: Listing) -> str:
    try:
        return reverse("listings:detail", kwargs={"pk": listing.pk})
    except NoReverseMatch:  # the website of listings is not mounted (yet)
        return ""


def _notify(organization: Organization, subject, body, context: dict, url: str) -> None:
    """Tell every member of ``organization``; ``subject``/``body`` are lazy strings formatted with ``context``."""
    rendered_subject = bilingual_subject(lambda: str(subject) % context)
    rendered_body = bilingual_text(lambda: str(body) % context)
    for membership in Membership.objects.filter(
        organization=organization, user__is_active=True
    ).select_related("user"):
        notification_create(user=membership.user, subject=rendered_subject, body=rendered_body, url=url)


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            _("Enter an amount in yuan."), code="bad_amount", extra={"field": field}
        ) from None
    if amount <= 0:
        raise ApplicationError(_("The amount must be positive."), code="bad_amount", extra={"field": field})
    return amount


def _require_owner_member(listing: Listing, actor: User) -> None:
    require_member_of(listing.owner_id, actor)


def require_member_of(organization_id: int, actor: User) -> None:
    if actor.is_staff:
        return
    if not Membership.objects.filter(organization_id=organization_id, user=actor).exists():
        raise ApplicationError(_("Only members of the owner organization can do this."), code="not_owner")


# --- public listing and intents ---------------------------------------------------------------------------------


def public_listing_open(
    *, listing: Listing, actor: User, floor_price, increment, days: int, now=None
) -> PublicListing:
    """Put a published listing up for ``days`` with a floor price (and the increment of a possible auction)."""
    _require_owner_member(listing, actor)
    if not can_act_as_verified(actor, organization=listing.owner):
        raise ApplicationError(_("Only a verified organization can list technologies."), code="not_verified")
    if listing.status != ListingStatus.PUBLISHED:
        raise ApplicationError(
            _("Only a published listing can be put up for public listing."), code="bad_state"
        )
    floor_price, increment = _amount(floor_price, "floor_price"), _amount(increment, "increment")
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 365:
        raise ApplicationError(_("A listing period is between 1 and 365 days."), code="bad_period")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            public = PublicListing.objects.create(
                listing=listing,
                floor_price=floor_price,
                increment=increment,
                starts_at=now,
                ends_at=now + timedelta(days=int(days)),
                created_by=actor,
            )
            audit_log(
                actor=actor,
                action="public_listing.open",
                target=listing,
                data={"public_listing": public.pk, "floor_price": str(floor_price)},
            )
    except IntegrityError:
        raise ApplicationError(_("This listing is already publicly listed."), code="already_listed") from None
    return public


def intent_file(
    *, public_listing: PublicListing, organization: Organization, actor: User, message: str = "", now=None
) -> Intent:
    """A verified buyer expresses its intent to acquire (意向受让) during the listing period."""
    if not Membership.objects.filter(organization=organization, user=actor).exists():
        raise ApplicationError(_("You do not act for this organization."), code="not_member")
    if not organization.is_verified or not can_act_as_verified(actor, organization=organization):
        raise ApplicationError(_("Only verified organizations can express intent."), code="not_verified")
    if organization.pk == public_listing.listing.owner_id:
        raise ApplicationError(_("The owner cannot express intent on its own listing."), code="own_listing")
    now = now or timezone.now()
    if public_listing.status != PL.OPEN or not public_listing.starts_at <= now < public_listing.ends_at:
        raise ApplicationError(_("The listing period is over."), code="period_over")
    try:
        with transaction.atomic():
            intent = Intent.objects.create(
                public_listing=public_listing,
                organization=organization,
                submitted_by=actor,
                message=(message or "").strip(),
            )
            audit_log(
                actor=actor,
                action="public_listing.intent",
                target=public_listing.listing,
                data={"public_listing": public_listing.pk, "organization": organization.pk},
            )
    except IntegrityError:
        raise ApplicationError(
            _("Your organization has already expressed its intent."), code="duplicate"
        ) from None
    return intent


def public_listing_decide(*, public_listing: PublicListing, now=None) -> str | None:
    """At the end of the period: no intent → the owner relists or withdraws; one → negotiation; several → an
    auction is scheduled. Returns the new status, or None when not due or already decided (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = PublicListing.objects.select_for_update().select_related("listing").get(pk=public_listing.pk)
        if locked.status != PL.OPEN or locked.ends_at > now:
            return None
        intents = list(locked.intents.select_related("organization"))
        target = PL.AWAITING_OWNER if not intents else PL.NEGOTIATION if len(intents) == 1 else PL.AUCTION
        PublicListing.objects.filter(pk=locked.pk).update(status=target, decided_at=now, updated_at=now)
        audit_log(
            actor=None,
            action=f"public_listing.{target}",
            target=locked.listing,
            data={"public_listing": locked.pk, "intents": len(intents)},
        )
        listing, url = locked.listing, listing_url(locked.listing)
        context = {"title": listing.title, "count": len(intents)}
        if target == PL.AWAITING_OWNER:
            _notify(
                listing.owner,
                gettext_lazy("No intent for “%(title)s”"),
                gettext_lazy(
                    "The listing period of “%(title)s” ended without an intent. Relist it or withdraw it."
                ),
                context,
                url,
            )
        elif target == PL.NEGOTIATION:
            _notify(
                listing.owner,
                gettext_lazy("One intent for “%(title)s”: negotiate the agreement"),
                gettext_lazy("One buyer expressed intent for “%(title)s”. Negotiate the agreement with it."),
                context,
                url,
            )
            _notify(
                intents[0].organization,
                gettext_lazy("You may negotiate for “%(title)s”"),
                gettext_lazy("Yours was the only intent for “%(title)s”: the owner will negotiate with you."),
                context,
                url,
            )
        else:
            starts = now + timedelta(hours=settings.AUCTION_LEAD_HOURS)
            end = starts + timedelta(hours=settings.AUCTION_DURATION_HOURS)
            Auction.objects.create(
                public_listing=locked,
                reserve=locked.floor_price,
                increment=locked.increment,
                starts_at=starts,
                scheduled_end=end,
                ends_at=end,
                extension_minutes=settings.AUCTION_EXTENSION_MINUTES,
            )
            auction_context = {**context, "starts": timezone.localtime(starts).strftime("%Y-%m-%d %H:%M")}
            for party in [listing.owner] + [intent.organization for intent in intents]:
                _notify(
                    party,
                    gettext_lazy("“%(title)s” goes to auction"),
                    gettext_lazy(
                        "%(count)d buyers expressed intent for “%(title)s”. The online auction starts "
                        "at %(starts)s; accept the bidding terms on the auction page to bid."
                    ),
                    auction_context,
                    url,
                )
    return target


def public_listing_decide_due(*, now=None, batch_size: int = 200) -> int:
    now = now or timezone.now()
    due = list(
        PublicListing.objects.filter(status=PL.OPEN, ends_at__lte=now)
        .order_by("ends_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    return sum(
        1
        for pl in PublicListing.objects.filter(pk__in=due)
        if public_listing_decide(public_listing=pl, now=now)
    )


def public_listing_relist(
    *, public_listing: PublicListing, actor: User, days: int, floor_price=None, now=None
) -> PublicListing:
    """After a period without intent, the owner lists again (possibly at a new floor price)."""
    _require_owner_member(public_listing.listing, actor)
    now = now or timezone.now()
    with transaction.atomic():
        if (
            PublicListing.objects.filter(pk=public_listing.pk, status=PL.AWAITING_OWNER).update(
                status=PL.RELISTED, updated_at=now
            )
            != 1
        ):
            raise ApplicationError(
                _("Only a listing that ended without intent can be relisted."), code="bad_state"
            )
        return public_listing_open(
            listing=public_listing.listing,
            actor=actor,
            days=days,
            now=now,
            floor_price=public_listing.floor_price if floor_price is None else floor_price,
            increment=public_listing.increment,
        )


def public_listing_withdraw(*, public_listing: PublicListing, actor: User) -> PublicListing:
    _require_owner_member(public_listing.listing, actor)
    with transaction.atomic():
        if (
            PublicListing.objects.filter(
                pk=public_listing.pk, status__in=[PL.OPEN, PL.AWAITING_OWNER]
            ).update(status=PL.WITHDRAWN, updated_at=timezone.now())
            != 1
        ):
            raise ApplicationError(_("This public listing can no longer be withdrawn."), code="bad_state")
        audit_log(actor=actor, action="public_listing.withdraw", target=public_listing.listing)
    public_listing.refresh_from_db()
    return public_listing


def auction_failed_fallback(*, public_listing: PublicListing, now) -> None:
    """A failed auction falls back to negotiation with the buyers that expressed intent (inside the close)."""
    PublicListing.objects.filter(pk=public_listing.pk, status=PL.AUCTION).update(
        status=PL.NEGOTIATION, updated_at=now
    )
    listing = public_listing.listing
    context = {"title": listing.title}
    for party in [listing.owner] + [
        i.organization for i in public_listing.intents.select_related("organization")
    ]:
        _notify(
            party,
            gettext_lazy("The auction of “%(title)s” failed"),
            gettext_lazy(
                "No valid bid reached the reserve of “%(title)s”. The owner may now negotiate an "
                "agreement with the interested buyers."
            ),
            context,
            listing_url(listing),
        )


def negotiation_conclude(*, public_listing: PublicListing, actor: User, buyer: Organization, price) -> Deal:
    """The owner records the agreement reached in negotiation with one of the buyers that expressed intent."""
    _require_owner_member(public_listing.listing, actor)
    price = _amount(price, "price")
    if not public_listing.intents.filter(organization=buyer).exists():
        raise ApplicationError(_("The buyer must be one that expressed intent."), code="not_an_intent")
    with transaction.atomic():
        locked = PublicListing.objects.select_for_update().get(pk=public_listing.pk)
        if locked.status != PL.NEGOTIATION:
            raise ApplicationError(_("This listing is not in negotiation."), code="bad_state")
        return deal_record(
            listing=locked.listing,
            buyer=buyer,
            price=price,
            via=Deal.Via.NEGOTIATION,
            public_listing=locked,
            actor=actor,
        )


def deal_record(
    *,
    listing: Listing,
    buyer: Organization,
    price,
    via: str,
    public_listing: PublicListing | None = None,
    actor: User | None = None,
    now=None,
) -> Deal:
    """Record a completed transfer (inside the caller's transaction): the deal feeds comparable prices; a
    state-funded result goes to publicity; the contract draft starts from here."""
    from contracts.services import contract_draft_from_deal

    now = now or timezone.now()
    deal = Deal.objects.create(listing=listing, buyer=buyer, price=price, via=via, concluded_at=now)
    if public_listing is not None:
        PublicListing.objects.filter(pk=public_listing.pk).update(status=PL.COMPLETED, updated_at=now)
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.TRANSFERRED, updated_at=now)
    audit_log(
        actor=actor,
        action="deal.record",
        target=listing,
        data={"deal": deal.pk, "buyer": buyer.pk, "price": str(price), "via": via},
    )
    context = {"title": listing.title, "price": f"{price:,.2f}"}
    for party in (listing.owner, buyer):
        _notify(
            party,
            gettext_lazy("Deal concluded for “%(title)s”"),
            gettext_lazy(
                "The transfer of “%(title)s” was concluded at %(price)s yuan. A draft contract follows."
            ),
            context,
            listing_url(listing),
        )
    if listing.state_funded:
        publicity_open(deal=deal, now=now)
    contract_draft_from_deal(deal=deal, actor=actor)
    return deal


# --- publicity --------------------------------------------------------------------------------------------------


def publicity_open(*, deal: Deal, now=None) -> Publicity:
    now = now or timezone.now()
    publicity = Publicity.objects.create(
        deal=deal, starts_at=now, ends_at=now + timedelta(days=settings.PUBLICITY_DAYS)
    )
    audit_log(actor=None, action="publicity.open", target=deal.listing, data={"publicity": publicity.pk})
    return publicity


def objection_file(*, publicity: Publicity, actor: User, text: str, now=None) -> Objection:
    """Any logged-in user may object during the publicity period."""
    if not actor.is_authenticated:
        raise ApplicationError(_("Log in to file an objection."), code="login_required")
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("State your objection."), code="empty")
    now = now or timezone.now()
    if publicity.status != PublicityStatus.OPEN or not publicity.starts_at <= now < publicity.ends_at:
        raise ApplicationError(
            _("The publicity period is over; objections are no longer accepted."), code="period_over"
        )
    with transaction.atomic():
        objection = Objection.objects.create(publicity=publicity, filed_by=actor, text=text)
        audit_log(
            actor=actor,
            action="publicity.objection",
            target=publicity.deal.listing,
            data={"objection": objection.pk},
        )
    return objection


def objection_resolve(*, objection: Objection, actor: User, uphold: bool, resolution: str) -> Objection:
    """Staff uphold or dismiss an objection, with the reason; an upheld one cancels the publicity."""
    if not actor.is_staff:
        raise ApplicationError(_("Only platform administrators resolve objections."), code="not_staff")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ApplicationError(_("Please give the reason of the resolution."), code="reason_required")
    now = timezone.now()
    with transaction.atomic():
        target = Objection.Status.UPHELD if uphold else Objection.Status.DISMISSED
        if (
            Objection.objects.filter(pk=objection.pk, status=Objection.Status.PENDING).update(
                status=target, resolved_by=actor, resolution=resolution, resolved_at=now, updated_at=now
            )
            != 1
        ):
            raise ApplicationError(_("This objection has already been resolved."), code="bad_state")
        if uphold:
            Publicity.objects.filter(pk=objection.publicity_id).exclude(
                status=PublicityStatus.CERTIFIED
            ).update(status=PublicityStatus.CANCELLED, updated_at=now)
        audit_log(
            actor=actor,
            action=f"publicity.objection_{target}",
            target=objection.publicity.deal.listing,
            reason=resolution,
            data={"objection": objection.pk},
        )
    objection.refresh_from_db()
    publicity_certify(publicity=objection.publicity, now=now)
    return objection


def publicity_certify(*, publicity: Publicity, now=None) -> bool:
    """After the period, with no objection pending or upheld, issue the no-objection certificate (once)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Publicity.objects.select_for_update().get(pk=publicity.pk)
        if locked.status not in (PublicityStatus.OPEN, PublicityStatus.UNDER_REVIEW) or locked.ends_at > now:
            return False
        if locked.objections.filter(status=Objection.Status.PENDING).exists():
            Publicity.objects.filter(pk=locked.pk).update(status=PublicityStatus.UNDER_REVIEW, updated_at=now)
            return False
        code = secrets.token_hex(8).upper()
        Publicity.objects.filter(pk=locked.pk).update(
            status=PublicityStatus.CERTIFIED, certificate_code=code, certified_at=now, updated_at=now
        )
        audit_log(actor=None, action="publicity.certify", target=locked.deal.listing, data={"code": code})
    return True


def publicity_certify_due(*, now=None) -> int:
    now = now or timezone.now()
    due = Publicity.objects.filter(
        status__in=[PublicityStatus.OPEN, PublicityStatus.UNDER_REVIEW], ends_at__lte=now
    )
    return sum(1 for publicity in due[:500] if publicity_certify(publicity=publicity, now=now))
