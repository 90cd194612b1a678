"""Listings of technology achievements: drafting, review (信息审核), publication and withdrawal (SPEC §5)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brokers.hooks import records_changed
from listings.models import Listing, ListingAttachment, ListingRevision, ListingStatus
from listings.services.trading import _notify, _require_owner_member, listing_url, require_member_of
from marketplace.exceptions import ApplicationError
from marketplace.models import Organization, User
from marketplace.permissions import can_act_as_verified
from marketplace.records import clean_amounts, jsonable, resolve_classification, search_text, strip_texts
from marketplace.services import audit_log
from marketplace.taxonomy import ListingType, Maturity, TransferMode
from marketplace.validators import ALLOWED_ATTACHMENT_TYPES, inspect_document

S = ListingStatus

EDITABLE_FIELDS = (
    "title",
    "summary",
    "details",
    "listing_type",
    "patent_number",
    "field",
    "sub_field",
    "region",
    "maturity",
    "scenarios",
    "transfer_modes",
    "asking_price",
    "price_negotiable",
    "inventors",
    "state_funded",
)
REQUIRED = ("title", "summary", "listing_type", "field", "maturity", "transfer_modes")


def _search_text(listing: Listing) -> str:
    return search_text(listing, listing.scenarios)


def _clean(data: dict, *, instance: Listing | None = None) -> dict:
    errors: dict[str, str] = {}
    data = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    strip_texts(data, ("title", "summary", "details", "patent_number", "scenarios", "inventors"))
    for key in ("title", "summary"):
        if key in data and not data[key]:
            errors[key] = _("This field is required.")
    if "listing_type" in data and data["listing_type"] not in ListingType.values:
        errors["listing_type"] = _("Unknown listing type “%(value)s”.") % {"value": data["listing_type"]}
    if "maturity" in data and data["maturity"] not in Maturity.values:
        errors["maturity"] = _("Unknown maturity “%(value)s”.") % {"value": data["maturity"]}
    if "transfer_modes" in data:
        modes = list(dict.fromkeys(data["transfer_modes"] or []))
        unknown = [m for m in modes if m not in TransferMode.values]
        if unknown or not modes:
            errors["transfer_modes"] = _("Choose at least one transfer mode from the list.")
        data["transfer_modes"] = modes
    resolve_classification(data, errors, instance)
    clean_amounts(data, ("asking_price",), errors)
    if errors:
        raise ValidationError(errors)
    return data


def listing_create(*, owner: Organization, actor: User, **data) -> Listing:
    """A new listing, in draft; the region defaults to the owner's."""
    require_member_of(owner.pk, actor)
    data.setdefault("region", owner.region_id)
    cleaned = _clean(data)
    missing = [key for key in REQUIRED if not cleaned.get(key)]
    if missing:
        raise ValidationError({key: _("This field is required.") for key in missing})
    with transaction.atomic():
        listing = Listing(owner=owner, created_by=actor, **cleaned)
        listing.search_text = _search_text(listing)
        listing.save()
        audit_log(actor=actor, action="listing.create", target=listing)
    return listing


def listing_update(*, listing: Listing, actor: User, **data) -> Listing | ListingRevision:
    """Before publication the listing changes directly; once published an edit is reviewed first."""
    _require_owner_member(listing, actor)
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        cleaned = _clean(data, instance=listing)
        if listing.status in (S.DRAFT, S.REJECTED, S.PENDING_REVIEW):
            for key, value in cleaned.items():
                setattr(listing, key, value)
            if listing.status == S.PENDING_REVIEW:
                # The reviewer must approve what they read: an edit under review goes back to draft.
                listing.status = S.DRAFT
            listing.search_text = _search_text(listing)
            listing.save()
            audit_log(actor=actor, action="listing.update", target=listing, data={"fields": sorted(cleaned)})
            return listing
        if listing.status != S.PUBLISHED:
            raise ApplicationError(_("This listing can no longer be edited."), code="bad_state")
        changes = {k: jsonable(v) for k, v in cleaned.items() if jsonable(getattr(listing, k)) != jsonable(v)}
        if not changes:
            raise ApplicationError(_("Nothing was changed."), code="no_changes")
        ListingRevision.objects.filter(listing=listing, status=ListingRevision.Status.PENDING).update(
            status=ListingRevision.Status.SUPERSEDED, updated_at=timezone.now()
        )
        revision = ListingRevision.objects.create(listing=listing, changes=changes, submitted_by=actor)
        audit_log(
            actor=actor, action="listing.revision_submit", target=listing, data={"fields": sorted(changes)}
        )
    return revision


def listing_attachment_add(*, listing: Listing, actor: User, uploaded) -> ListingAttachment:
    _require_owner_member(listing, actor)
    try:
        info = inspect_document(
            uploaded, allowed=ALLOWED_ATTACHMENT_TYPES, limit=settings.DEMAND_ATTACHMENT_MAX_BYTES
        )
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from None
    with transaction.atomic():
        attachment = ListingAttachment(
            listing=listing, original_name=(uploaded.name or "")[:200], uploaded_by=actor, **info
        )
        attachment.file.save(uploaded.name, uploaded, save=False)
        attachment.save()
        audit_log(
            actor=actor, action="listing.attachment_add", target=listing, data={"sha256": info["sha256"]}
        )
    return attachment


def listing_submit(*, listing: Listing, actor: User) -> Listing:
    """Send a draft or rejected listing to review; only verified organizations list technologies."""
    _require_owner_member(listing, actor)
    if not listing.owner.is_verified or not can_act_as_verified(actor, organization=listing.owner):
        raise ApplicationError(_("Only a verified organization can publish listings."), code="not_verified")
    now = timezone.now()
    with transaction.atomic():
        if (
            Listing.objects.filter(pk=listing.pk, status__in=[S.DRAFT, S.REJECTED]).update(
                status=S.PENDING_REVIEW, submitted_at=now, updated_at=now
            )
            != 1
        ):
            raise ApplicationError(
                _("Only a draft or a rejected listing can be submitted for review."), code="bad_state"
            )
        listing.refresh_from_db()
        audit_log(actor=actor, action="listing.submit", target=listing)
    return listing


def listing_review(*, listing: Listing, actor: User, approve: bool, reason: str = "") -> Listing:
    if not actor.is_staff:
        raise ApplicationError(_("Only platform reviewers decide on listings."), code="not_staff")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ApplicationError(
            _("Please give a reason for the rejection; the owner will see it."), code="reason_required"
        )
    now = timezone.now()
    changes = {"status": S.PUBLISHED if approve else S.REJECTED, "status_reason": reason, "updated_at": now}
    if approve:
        changes["published_at"] = now
    with transaction.atomic():
        if Listing.objects.filter(pk=listing.pk, status=S.PENDING_REVIEW).update(**changes) != 1:
            raise ApplicationError(_("This listing is not waiting for review."), code="bad_state")
        listing.refresh_from_db()
        audit_log(
            actor=actor,
            action="listing.publish" if approve else "listing.reject",
            target=listing,
            reason=reason,
        )
        if approve:
            records_changed(kind="listing", ids=[listing.pk])
        context = {"title": listing.title, "reason": reason}
        if approve:
            _notify(
                listing.owner,
                gettext_lazy("Your listing “%(title)s” is published"),
                gettext_lazy("Your listing “%(title)s” passed review and is now on the market."),
                context,
                listing_url(listing),
            )
        else:
            _notify(
                listing.owner,
                gettext_lazy("Your listing “%(title)s” was not published"),
                gettext_lazy(
                    "Your listing “%(title)s” was not published. Reason: %(reason)s. You may correct "
                    "it and submit it again."
                ),
                context,
                listing_url(listing),
            )
    return listing


def listing_revision_review(*, revision: ListingRevision, actor: User, approve: bool, reason: str = ""):
    if not actor.is_staff:
        raise ApplicationError(_("Only platform reviewers decide on listings."), code="not_staff")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ApplicationError(
            _("Please give a reason for the rejection; the owner will see it."), code="reason_required"
        )
    now = timezone.now()
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=revision.listing_id)
        if (
            ListingRevision.objects.filter(pk=revision.pk, status=ListingRevision.Status.PENDING).update(
                status=ListingRevision.Status.APPROVED if approve else ListingRevision.Status.REJECTED,
                decided_by=actor,
                decided_at=now,
                reason=reason,
                updated_at=now,
            )
            != 1
        ):
            raise ApplicationError(_("This edit is no longer waiting for review."), code="bad_state")
        if approve:
            if listing.status != S.PUBLISHED:
                raise ApplicationError(
                    _("The listing is no longer published; the edit cannot apply."), code="bad_state"
                )
            for key, value in _clean(revision.changes, instance=listing).items():
                setattr(listing, key, value)
            listing.search_text = _search_text(listing)
            listing.save()
            records_changed(kind="listing", ids=[listing.pk])
        audit_log(
            actor=actor,
            action="listing.revision_approve" if approve else "listing.revision_reject",
            target=listing,
            reason=reason,
            data={"revision": revision.pk},
        )
    revision.refresh_from_db()
    return revision


def listing_withdraw(*, listing: Listing, actor: User, reason: str = "") -> Listing:
    _require_owner_member(listing, actor)
    now = timezone.now()
    with transaction.atomic():
        # Lock the listing's public listings: the end-of-period decision must not start an auction meanwhile.
        trading = list(listing.public_listings.select_for_update().values_list("status", flat=True))
        if {"negotiation", "auction"} & set(trading):
            raise ApplicationError(
                _("A listing in negotiation or auction cannot be withdrawn."), code="in_trade"
            )
        if (
            Listing.objects.filter(
                pk=listing.pk, status__in=[S.DRAFT, S.PENDING_REVIEW, S.PUBLISHED, S.REJECTED]
            ).update(status=S.WITHDRAWN, status_reason=reason, updated_at=now)
            != 1
        ):
            raise ApplicationError(_("This listing can no longer be withdrawn."), code="bad_state")
        listing.public_listings.filter(status__in=["open", "awaiting_owner"]).update(
            status="withdrawn", updated_at=now
        )
        listing.refresh_from_db()
        audit_log(actor=actor, action="listing.withdraw", target=listing, reason=reason)
    return listing
