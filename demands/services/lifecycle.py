"""Demands: drafting, review (信息审核), publication, withdrawal, close, expiry and the later stages."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brokers.hooks import records_changed
from demands.models import Demand, DemandAttachment, DemandRevision, DemandStatus, Proposal, ProposalStatus
from marketplace.exceptions import ApplicationError
from marketplace.models import Membership, Organization, User
from marketplace.permissions import can_act_as_verified
from marketplace.records import clean_amounts, jsonable, resolve_classification, search_text, strip_texts
from marketplace.services import audit_log, notification_create
from marketplace.services.notifications import bilingual_subject, bilingual_text
from marketplace.taxonomy import CooperationMode
from marketplace.validators import ALLOWED_ATTACHMENT_TYPES, inspect_document

S = DemandStatus

# What an owner may set; everything else (status, dates, owner) only services change.
EDITABLE_FIELDS = (
    "title",
    "summary",
    "details",
    "field",
    "sub_field",
    "region",
    "budget_min",
    "budget_max",
    "budget_negotiable",
    "deadline",
    "cooperation_mode",
    "mode",
    "nda_required",
    "nda_terms",
    "award_amount",
    "max_winners",
    "contact_policy",
)


# --- helpers -----------------------------------------------------------------------------------------------


def demand_url(demand: Demand) -> str:
    return reverse("demands:detail", kwargs={"pk": demand.pk})


def notify_organization(
    organization: Organization, *, subject, body, url: str, admins_only: bool = False
) -> None:
    """Tell the members (or only the admins) of an organization, on the website and by e-mail after commit."""
    memberships = Membership.objects.filter(organization=organization, user__is_active=True).select_related(
        "user"
    )
    if admins_only:
        memberships = memberships.filter(role=Membership.Role.ADMIN)
    rendered_subject = bilingual_subject(subject)
    rendered_body = bilingual_text(body)
    for membership in memberships:
        notification_create(user=membership.user, subject=rendered_subject, body=rendered_body, url=url)


def _require_member(demand_or_org, actor: User) -> Organization:
    organization = demand_or_org.owner if isinstance(demand_or_org, Demand) else demand_or_org
    if actor.is_staff:
        return organization
    if not Membership.objects.filter(organization=organization, user=actor).exists():
        raise ApplicationError(_("Only members of the owner organization can do this."), code="not_owner")
    return organization


def _search_text(demand: Demand) -> str:
    return search_text(demand)


def _clean(data: dict, *, instance: Demand | None = None) -> dict:
    """Validate and normalise editable data; resolve codes to rows. Raises ValidationError with field errors."""
    errors: dict[str, str] = {}
    data = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    strip_texts(data, ("title", "summary", "details", "nda_terms"))
    if "title" in data and not data["title"]:
        errors["title"] = _("Please give the demand a title.")
    if "summary" in data and not data["summary"]:
        errors["summary"] = _("Please describe the problem in a public summary.")
    resolve_classification(data, errors, instance)
    clean_amounts(data, ("budget_min", "budget_max", "award_amount"), errors)
    budget_min = data.get("budget_min", instance.budget_min if instance else None)
    budget_max = data.get("budget_max", instance.budget_max if instance else None)
    if (
        budget_min is not None
        and budget_max is not None
        and not {"budget_min", "budget_max"} & errors.keys()
        and budget_min > budget_max
    ):
        errors["budget_max"] = _("The upper end of the budget is below its lower end.")
    if "cooperation_mode" in data and data["cooperation_mode"] not in CooperationMode.values:
        errors["cooperation_mode"] = _("Unknown cooperation mode “%(value)s”.") % {
            "value": data["cooperation_mode"]
        }
    if "mode" in data and data["mode"] not in Demand.Mode.values:
        errors["mode"] = _("Unknown mode “%(value)s”.") % {"value": data["mode"]}
    if "contact_policy" in data and data["contact_policy"] not in Demand.ContactPolicy.values:
        errors["contact_policy"] = _("Unknown contact policy “%(value)s”.") % {
            "value": data["contact_policy"]
        }
    if "max_winners" in data and (data["max_winners"] is None or int(data["max_winners"]) < 1):
        errors["max_winners"] = _("At least one winner.")
    if "deadline" in data and data["deadline"] is not None and data["deadline"] <= timezone.now():
        errors["deadline"] = _("The deadline must be in the future.")

    mode = data.get("mode", instance.mode if instance else Demand.Mode.OPEN)
    award = data.get("award_amount", instance.award_amount if instance else None)
    if mode == Demand.Mode.CHALLENGE:
        minimum = Decimal(settings.DEMAND_CHALLENGE_MIN_AWARD)
        if award is None or award < minimum:
            errors["award_amount"] = _("A challenge needs an award of at least %(minimum)s yuan.") % {
                "minimum": f"{minimum:,.0f}"
            }
    elif mode == Demand.Mode.TENDER and data.get("max_winners", 1) not in (None, 1):
        errors["max_winners"] = _("Only a challenge can have several winners.")
    nda_required = data.get("nda_required", instance.nda_required if instance else False)
    nda_terms = data.get("nda_terms", instance.nda_terms if instance else "")
    if nda_required and not nda_terms:
        errors["nda_terms"] = _("Write the NDA terms suppliers must accept.")
    if errors:
        raise ValidationError(errors)
    return data


REQUIRED_TO_SUBMIT = ("title", "summary", "field", "region", "deadline", "cooperation_mode")


# --- drafting ----------------------------------------------------------------------------------------------


def demand_create(*, owner: Organization, actor: User, **data) -> Demand:
    """A new demand, in draft. Any member of the owner organization may draft."""
    _require_member(owner, actor)
    cleaned = _clean(data)
    missing = [
        key
        for key in ("title", "summary", "field", "region", "deadline", "cooperation_mode")
        if not cleaned.get(key)
    ]
    if missing:
        raise ValidationError({key: _("This field is required.") for key in missing})
    with transaction.atomic():
        demand = Demand(owner=owner, created_by=actor, **cleaned)
        demand.search_text = _search_text(demand)
        demand.save()
        audit_log(actor=actor, action="demand.create", target=demand)
    return demand


def demand_update(*, demand: Demand, actor: User, **data) -> Demand | DemandRevision:
    """Edit a demand. Before publication the demand changes directly. Once published, the edit becomes a
    revision for review; the public version stays visible until a reviewer approves it."""
    _require_member(demand, actor)
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=demand.pk)
        if demand.status in (S.DRAFT, S.REJECTED, S.PENDING_REVIEW):
            cleaned = _clean(data, instance=demand)
            for key, value in cleaned.items():
                setattr(demand, key, value)
            if demand.status == S.PENDING_REVIEW:
                # The reviewer must approve what they read: an edit under review goes back to draft.
                demand.status = S.DRAFT
            demand.search_text = _search_text(demand)
            demand.save()
            audit_log(actor=actor, action="demand.update", target=demand, data={"fields": sorted(cleaned)})
            return demand
        if demand.status != S.PUBLISHED:
            raise ApplicationError(
                _("A demand that is %(status)s can no longer be edited.")
                % {"status": demand.get_status_display()},
                code="bad_state",
            )
        if "mode" in data and data["mode"] != demand.mode:
            raise ApplicationError(_("The mode of a published demand cannot change."), code="mode_locked")
        cleaned = _clean(data, instance=demand)
        changes = {
            key: jsonable(value)
            for key, value in cleaned.items()
            if jsonable(getattr(demand, key)) != jsonable(value)
        }
        if not changes:
            raise ApplicationError(_("Nothing was changed."), code="no_changes")
        # A newer edit replaces one still waiting: reviewers only ever look at the latest.
        DemandRevision.objects.filter(demand=demand, status=DemandRevision.Status.PENDING).update(
            status=DemandRevision.Status.SUPERSEDED, updated_at=timezone.now()
        )
        revision = DemandRevision.objects.create(demand=demand, changes=changes, submitted_by=actor)
        audit_log(
            actor=actor, action="demand.revision_submit", target=demand, data={"fields": sorted(changes)}
        )
    return revision


def demand_attachment_add(*, demand: Demand, actor: User, uploaded) -> DemandAttachment:
    _require_member(demand, actor)
    if demand.status not in (S.DRAFT, S.REJECTED, S.PENDING_REVIEW, S.PUBLISHED):
        raise ApplicationError(_("Attachments can no longer be added."), code="bad_state")
    try:
        info = inspect_document(
            uploaded, allowed=ALLOWED_ATTACHMENT_TYPES, limit=settings.DEMAND_ATTACHMENT_MAX_BYTES
        )
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from None
    with transaction.atomic():
        attachment = DemandAttachment(
            demand=demand, original_name=(uploaded.name or "")[:200], uploaded_by=actor, **info
        )
        attachment.file.save(uploaded.name, uploaded, save=False)
        attachment.save()
        audit_log(actor=actor, action="demand.attachment_add", target=demand, data={"sha256": info["sha256"]})
    return attachment


# --- review ------------------------------------------------------------------------------------------------


def demand_submit(*, demand: Demand, actor: User) -> Demand:
    """Send a draft (or a rejected demand, corrected) to review. Only verified organizations publish."""
    _require_member(demand, actor)
    if not can_act_as_verified(actor, organization=demand.owner) or not demand.owner.is_verified:
        raise ApplicationError(
            _("Only a verified organization can publish demands. Wait for your organization's verification."),
            code="not_verified",
        )
    demand.refresh_from_db()
    # Re-check the whole demand: the deadline may have passed, or the minimum award changed, since drafting.
    _clean(
        {
            key: getattr(demand, key)
            for key in ("deadline", "mode", "award_amount", "nda_required", "nda_terms")
        },
        instance=demand,
    )
    now = timezone.now()
    with transaction.atomic():
        updated = Demand.objects.filter(pk=demand.pk, status__in=[S.DRAFT, S.REJECTED]).update(
            status=S.PENDING_REVIEW, submitted_at=now, updated_at=now
        )
        if updated != 1:
            raise ApplicationError(
                _("Only a draft or a rejected demand can be submitted for review."), code="bad_state"
            )
        demand.refresh_from_db()
        audit_log(actor=actor, action="demand.submit", target=demand)
    return demand


def demand_review(*, demand: Demand, actor: User, approve: bool, reason: str = "") -> Demand:
    """A reviewer publishes a demand or rejects it with a reason the owner sees (信息审核)."""
    if not actor.is_staff:
        raise ApplicationError(_("Only platform reviewers decide on demands."), code="not_staff")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ApplicationError(
            _("Please give a reason for the rejection; the owner will see it."), code="reason_required"
        )
    now = timezone.now()
    if approve and demand.deadline <= now:
        raise ApplicationError(
            _("The deadline of this demand has passed; the owner must set a new one."), code="deadline_passed"
        )
    changes = {"status": S.PUBLISHED if approve else S.REJECTED, "status_reason": reason, "updated_at": now}
    if approve:
        changes["published_at"] = now
    with transaction.atomic():
        updated = Demand.objects.filter(pk=demand.pk, status=S.PENDING_REVIEW).update(**changes)
        if updated != 1:
            raise ApplicationError(_("This demand is not waiting for review."), code="bad_state")
        demand.refresh_from_db()
        action = "demand.publish" if approve else "demand.reject"
        audit_log(actor=actor, action=action, target=demand, reason=reason)
        if approve:
            records_changed(kind="demand", ids=[demand.pk])
        context = {"title": demand.title, "reason": reason}
        if approve:
            subject = gettext_lazy("Your demand “%(title)s” is published")
            body = gettext_lazy("Your demand “%(title)s” passed review and is now on the market.")
        else:
            subject = gettext_lazy("Your demand “%(title)s” was not published")
            body = gettext_lazy(
                "Your demand “%(title)s” was not published. Reason: %(reason)s. "
                "You may correct it and submit it again."
            )
        notify_organization(
            demand.owner,
            subject=lambda: subject % context,
            body=lambda: body % context,
            url=demand_url(demand),
        )
    return demand


def demand_revision_review(
    *, revision: DemandRevision, actor: User, approve: bool, reason: str = ""
) -> DemandRevision:
    """Apply (or refuse) a pending edit of a published demand."""
    if not actor.is_staff:
        raise ApplicationError(_("Only platform reviewers decide on demands."), code="not_staff")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ApplicationError(
            _("Please give a reason for the rejection; the owner will see it."), code="reason_required"
        )
    now = timezone.now()
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=revision.demand_id)
        updated = DemandRevision.objects.filter(pk=revision.pk, status=DemandRevision.Status.PENDING).update(
            status=DemandRevision.Status.APPROVED if approve else DemandRevision.Status.REJECTED,
            decided_by=actor,
            decided_at=now,
            reason=reason,
            updated_at=now,
        )
        if updated != 1:
            raise ApplicationError(_("This edit is no longer waiting for review."), code="bad_state")
        if approve:
            if demand.status != S.PUBLISHED:
                raise ApplicationError(
                    _("The demand is no longer published; the edit cannot apply."), code="bad_state"
                )
            cleaned = _clean(_from_json(revision.changes), instance=demand)
            for key, value in cleaned.items():
                setattr(demand, key, value)
            demand.search_text = _search_text(demand)
            demand.save()
            records_changed(kind="demand", ids=[demand.pk])
        audit_log(
            actor=actor,
            action="demand.revision_approve" if approve else "demand.revision_reject",
            target=demand,
            reason=reason,
            data={"revision": revision.pk},
        )
        context = {"title": demand.title, "reason": reason}
        if approve:
            subject = gettext_lazy("Your edit of “%(title)s” is published")
        else:
            subject = gettext_lazy("Your edit of “%(title)s” was not accepted: %(reason)s")
        notify_organization(
            demand.owner,
            subject=lambda: subject % context,
            body=lambda: subject % context,
            url=demand_url(demand),
        )
    revision.refresh_from_db()
    return revision


def _from_json(changes: dict) -> dict:
    from django.utils.dateparse import parse_datetime

    data = dict(changes)
    if data.get("deadline"):
        data["deadline"] = parse_datetime(data["deadline"])
    return data


# --- owner's exits and the later stages ----------------------------------------------------------------------


def demand_withdraw(*, demand: Demand, actor: User, reason: str = "") -> Demand:
    _require_member(demand, actor)
    now = timezone.now()
    with transaction.atomic():
        updated = Demand.objects.filter(
            pk=demand.pk, status__in=[S.DRAFT, S.PENDING_REVIEW, S.PUBLISHED, S.REJECTED]
        ).update(status=S.WITHDRAWN, status_reason=reason, finished_at=now, updated_at=now)
        if updated != 1:
            raise ApplicationError(_("This demand can no longer be withdrawn."), code="bad_state")
        demand.refresh_from_db()
        audit_log(actor=actor, action="demand.withdraw", target=demand, reason=reason)
        _tell_bidders(demand, gettext_lazy("The demand “%(title)s” was withdrawn by its owner"))
    return demand


def _tell_bidders(demand: Demand, subject) -> None:
    context = {"title": demand.title}
    active = (
        Proposal.objects.filter(demand=demand)
        .exclude(status=ProposalStatus.WITHDRAWN)
        .select_related("supplier")
    )
    for proposal in active:
        notify_organization(
            proposal.supplier,
            subject=lambda: subject % context,
            body=lambda: subject % context,
            url=demand_url(demand),
        )


def demand_close(*, demand: Demand, actor: User | None = None) -> bool:
    """Close a published demand (at its deadline, or early by its owner). Returns False when it was not open.

    Safe under concurrency and repetition: the guarded UPDATE closes once, and the notifications are claimed
    by a second guarded UPDATE, so two workers (or the owner and the beat task) never notify twice.
    """
    now = timezone.now()
    if actor is not None:
        _require_member(demand, actor)
        # Closing a tender opens its sealed bids; before the deadline that would betray the bidders.
        if demand.mode == Demand.Mode.TENDER and demand.deadline > now:
            raise ApplicationError(
                _("A sealed tender closes at its deadline; it cannot be opened early."),
                code="sealed_until_deadline",
            )
    with transaction.atomic():
        closed = Demand.objects.filter(pk=demand.pk, status=S.PUBLISHED).update(
            status=S.CLOSED, closed_at=now, updated_at=now
        )
        if closed != 1:
            return False
        demand.refresh_from_db()
        audit_log(
            actor=actor,
            action="demand.close",
            target=demand,
            data={"by": "owner" if actor is not None else "deadline"},
        )
        claimed = Demand.objects.filter(pk=demand.pk, close_notified_at__isnull=True).update(
            close_notified_at=now
        )
        if claimed == 1:
            count = Proposal.objects.filter(demand=demand).exclude(status=ProposalStatus.WITHDRAWN).count()
            context = {"title": demand.title, "count": count}
            notify_organization(
                demand.owner,
                subject=lambda: _("“%(title)s” is closed with %(count)d proposal(s)") % context,
                body=lambda: (
                    _(
                        "The demand “%(title)s” is closed. %(count)d proposal(s) wait for your evaluation: "
                        "shortlist, ask questions, award or decline them with a reason."
                    )
                    % context
                ),
                url=demand_url(demand),
            )
            _tell_bidders(
                demand, gettext_lazy("The demand “%(title)s” is closed; its commitments are published")
            )
    return True


def demand_close_due(*, now=None, batch_size: int = 200) -> int:
    """Close every published demand whose deadline has passed; returns how many this call closed."""
    now = now or timezone.now()
    # Ids first, then one guarded close each: a long batch never holds locks on many rows, and a demand another
    # worker closed meanwhile is simply skipped.
    ids = list(
        Demand.objects.filter(status=S.PUBLISHED, deadline__lte=now)
        .order_by("deadline")
        .values_list("pk", flat=True)[:batch_size]
    )
    closed = 0
    for demand in Demand.objects.filter(pk__in=ids):
        closed += demand_close(demand=demand)
    return closed


def demand_expire_stale(*, now=None) -> int:
    """Closed demands with no award after DEMAND_AWARD_GRACE_DAYS expire; their owners are told once."""
    from datetime import timedelta

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DEMAND_AWARD_GRACE_DAYS)
    expired = 0
    for pk in Demand.objects.filter(status=S.CLOSED, closed_at__lte=cutoff).values_list("pk", flat=True)[
        :500
    ]:
        with transaction.atomic():
            if (
                Demand.objects.filter(pk=pk, status=S.CLOSED).update(
                    status=S.EXPIRED, finished_at=now, updated_at=now
                )
                != 1
            ):
                continue
            demand = Demand.objects.get(pk=pk)
            audit_log(actor=None, action="demand.expire", target=demand)
            context = {"title": demand.title}
            notify_organization(
                demand.owner,
                subject=lambda context=context: _("“%(title)s” expired without an award") % context,
                body=lambda context=context: (
                    _(
                        "The demand “%(title)s” was closed for a long time without an award and has expired. "
                        "Post it again if the problem is still open."
                    )
                    % context
                ),
                url=demand_url(demand),
                admins_only=True,
            )
            _tell_bidders(demand, gettext_lazy("The demand “%(title)s” expired without an award"))
            expired += 1
    return expired


def demand_mark_contracted(*, demand: Demand, actor: User | None = None) -> Demand:
    """Called by the contracts capability when a contract for an awarded demand is signed."""
    return _advance(demand, S.AWARDED, S.CONTRACTED, actor, "demand.contracted")


def demand_mark_solved(*, demand: Demand, actor: User) -> Demand:
    _require_member(demand, actor)
    return _advance(demand, S.CONTRACTED, S.SOLVED, actor, "demand.solved")


def _advance(demand: Demand, source: str, target: str, actor, action: str) -> Demand:
    now = timezone.now()
    with transaction.atomic():
        changes = {"status": target, "updated_at": now}
        if target == S.CONTRACTED:
            changes["contracted_at"] = now
        if target == S.SOLVED:
            changes["finished_at"] = now
        if Demand.objects.filter(pk=demand.pk, status=source).update(**changes) != 1:
            raise ApplicationError(
                _("This step is not possible in the demand's current state."), code="bad_state"
            )
        demand.refresh_from_db()
        audit_log(actor=actor, action=action, target=demand)
    return demand
