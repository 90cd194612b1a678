"""Proposals and bids: NDA acceptance, submission with sealed commitments, clarification questions,
evaluation (shortlist, questions, rejection with reasons), awards and reminders."""

import hashlib
import json
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.services import contract_draft_from_award
from demands.models import (
    Demand,
    DemandStatus,
    NdaAcceptance,
    Proposal,
    ProposalAttachment,
    ProposalMessage,
    ProposalReceipt,
    ProposalStatus,
    Question,
    RejectionReason,
)
from demands.services.lifecycle import _require_member, demand_url, notify_organization
from marketplace.exceptions import ApplicationError
from marketplace.models import Membership, Organization, User
from marketplace.permissions import can_act_as_verified
from marketplace.services import audit_log
from marketplace.validators import ALLOWED_ATTACHMENT_TYPES, inspect_document

P = ProposalStatus
ACTIVE = (P.SUBMITTED, P.SHORTLISTED)


# --- commitments -------------------------------------------------------------------------------------------


def proposal_content(proposal: Proposal) -> str:
    """The canonical text a commitment is computed over: sorted-key JSON of the bid, no spaces, UTF-8.

    Anyone holding the revealed bid (its fields, attachment digests and nonce) can recompute
    ``sha256(proposal_content(...))`` and compare it with the receipt published at close.
    """
    attachments = sorted(a.sha256 for a in proposal.attachments.all()) if proposal.pk else []
    return json.dumps(
        {
            "demand": proposal.demand_id,
            "supplier": proposal.supplier_id,
            "version": proposal.version,
            "approach": proposal.approach,
            "price": None if proposal.price is None else f"{Decimal(str(proposal.price)):.2f}",
            "duration_days": proposal.duration_days,
            "team": proposal.team,
            "attachments": attachments,
            "nonce": proposal.nonce,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def commitment_of(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def proposal_verify(*, content: str, commitment: str) -> bool:
    """Does the revealed content match the commitment of a receipt?"""
    return secrets.compare_digest(commitment_of(content), commitment.lower())


def _seal(proposal: Proposal) -> ProposalReceipt:
    """Compute the commitment of the proposal's current version and issue its receipt (inside a transaction)."""
    proposal.nonce = secrets.token_hex(16)
    proposal.commitment = commitment_of(proposal_content(proposal))
    Proposal.objects.filter(pk=proposal.pk).update(nonce=proposal.nonce, commitment=proposal.commitment)
    return ProposalReceipt.objects.create(
        proposal=proposal, version=proposal.version, commitment=proposal.commitment
    )


# --- checks ------------------------------------------------------------------------------------------------


def _require_supplier(organization: Organization, actor: User) -> None:
    if not Membership.objects.filter(organization=organization, user=actor).exists():
        raise ApplicationError(_("You do not act for this organization."), code="not_member")
    if not can_act_as_verified(actor, organization=organization) or not organization.is_verified:
        raise ApplicationError(
            _("Only members of a verified organization can submit proposals."), code="not_verified"
        )


def _require_open(demand: Demand) -> None:
    if demand.status != DemandStatus.PUBLISHED:
        raise ApplicationError(_("This demand does not accept proposals now."), code="bad_state")
    if demand.deadline <= timezone.now():
        raise ApplicationError(_("The deadline of this demand has passed."), code="deadline_passed")


def _clean_bid(*, approach: str, price, duration_days, team: str) -> dict:
    errors = {}
    approach = (approach or "").strip()
    if not approach:
        errors["approach"] = _("Describe your technical approach.")
    if price in ("", None):
        price = None
    else:
        try:
            price = Decimal(str(price)).quantize(Decimal("0.01"))
        except ArithmeticError:
            errors["price"] = _("Enter an amount in yuan.")
        else:
            if price < 0:
                errors["price"] = _("An amount cannot be negative.")
    try:
        duration_days = int(duration_days)
    except (TypeError, ValueError):
        errors["duration_days"] = _("Enter the duration in days.")
    else:
        if duration_days < 1:
            errors["duration_days"] = _("Enter the duration in days.")
    if errors:
        raise ValidationError(errors)
    return {
        "approach": approach,
        "price": price,
        "duration_days": duration_days,
        "team": (team or "").strip(),
    }


def _add_attachments(proposal: Proposal, actor: User, files) -> None:
    for uploaded in files or []:
        try:
            info = inspect_document(
                uploaded, allowed=ALLOWED_ATTACHMENT_TYPES, limit=settings.DEMAND_ATTACHMENT_MAX_BYTES
            )
        except ValidationError as exc:
            raise ValidationError({"attachments": exc.error_list}) from None
        attachment = ProposalAttachment(
            proposal=proposal, original_name=(uploaded.name or "")[:200], uploaded_by=actor, **info
        )
        attachment.file.save(uploaded.name, uploaded, save=False)
        attachment.save()


# --- NDA and questions --------------------------------------------------------------------------------------


def nda_accept(*, demand: Demand, organization: Organization, actor: User) -> NdaAcceptance:
    """The supplier accepts the demand's NDA terms; its members may then read the confidential details."""
    _require_supplier(organization, actor)
    if not demand.nda_required:
        raise ApplicationError(_("This demand requires no NDA."), code="no_nda")
    if demand.status not in (DemandStatus.PUBLISHED, DemandStatus.CLOSED):
        raise ApplicationError(_("This demand is not on the market."), code="bad_state")
    if organization.pk == demand.owner_id:
        raise ApplicationError(_("You own this demand."), code="own_demand")
    terms = hashlib.sha256(demand.nda_terms.encode("utf-8")).hexdigest()
    with transaction.atomic():
        acceptance, created = NdaAcceptance.objects.get_or_create(
            demand=demand, organization=organization, defaults={"accepted_by": actor, "terms_sha256": terms}
        )
        if created:
            audit_log(
                actor=actor,
                action="demand.nda_accept",
                target=demand,
                data={"organization": organization.pk, "terms_sha256": terms},
            )
    return acceptance


def question_ask(*, demand: Demand, organization: Organization, actor: User, text: str) -> Question:
    _require_supplier(organization, actor)
    _require_open(demand)
    if organization.pk == demand.owner_id:
        raise ApplicationError(_("You own this demand."), code="own_demand")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write your question.")})
    with transaction.atomic():
        question = Question.objects.create(
            demand=demand, organization=organization, asked_by=actor, text=text
        )
        context = {"title": demand.title}
        notify_organization(
            demand.owner,
            subject=lambda: _("A supplier asked a question about “%(title)s”") % context,
            body=lambda: (
                _(
                    "A supplier asked a public clarification question about “%(title)s”. "
                    "Your answer is shown to everyone."
                )
                % context
            ),
            url=demand_url(demand),
        )
    return question


def question_answer(*, question: Question, actor: User, answer: str) -> Question:
    _require_member(question.demand, actor)
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("Write your answer.")})
    with transaction.atomic():
        first_answer = not question.answer
        question.answer = answer
        question.answered_by = actor
        question.answered_at = timezone.now()
        question.save(update_fields=["answer", "answered_by", "answered_at", "updated_at"])
        audit_log(
            actor=actor,
            action="demand.question_answer",
            target=question.demand,
            data={"question": question.pk},
        )
        if not first_answer:
            # A corrected answer replaces the public one; the asker was told already.
            return question
        context = {"title": question.demand.title}
        notify_organization(
            question.organization,
            subject=lambda: _("Your question about “%(title)s” was answered") % context,
            body=lambda: _("The owner answered your question about “%(title)s”.") % context,
            url=demand_url(question.demand),
        )
    return question


# --- bidding -----------------------------------------------------------------------------------------------


def proposal_submit(
    *,
    demand: Demand,
    supplier: Organization,
    actor: User,
    approach: str,
    duration_days,
    price=None,
    team: str = "",
    attachments=(),
) -> tuple[Proposal, ProposalReceipt]:
    """Submit a proposal (or re-submit a withdrawn one). One per supplier organization per demand.

    Returns the proposal and the receipt carrying the SHA-256 commitment of its content.
    """
    _require_supplier(supplier, actor)
    if supplier.pk == demand.owner_id:
        raise ApplicationError(_("An organization cannot answer its own demand."), code="own_demand")
    bid = _clean_bid(approach=approach, price=price, duration_days=duration_days, team=team)
    try:
        with transaction.atomic():
            # Lock the demand: its close (deadline task or owner) and this submission are ordered.
            demand = Demand.objects.select_for_update().get(pk=demand.pk)
            _require_open(demand)
            if (
                demand.nda_required
                and not NdaAcceptance.objects.filter(demand=demand, organization=supplier).exists()
            ):
                raise ApplicationError(_("Accept the NDA terms of this demand first."), code="nda_required")
            existing = Proposal.objects.select_for_update().filter(demand=demand, supplier=supplier).first()
            if existing is not None and existing.status != P.WITHDRAWN:
                raise ApplicationError(
                    _("Your organization has already submitted a proposal; edit it instead."),
                    code="duplicate",
                )
            now = timezone.now()
            if existing is None:
                proposal = Proposal.objects.create(
                    demand=demand, supplier=supplier, submitted_by=actor, submitted_at=now, **bid
                )
            else:
                proposal = existing
                for key, value in bid.items():
                    setattr(proposal, key, value)
                proposal.status = P.SUBMITTED
                proposal.version += 1
                proposal.submitted_by = actor
                proposal.submitted_at = now
                proposal.attachments.all().delete()
                proposal.save()
            _add_attachments(proposal, actor, attachments)
            receipt = _seal(proposal)
            audit_log(
                actor=actor,
                action="proposal.submit",
                target=demand,
                data={"proposal": proposal.pk, "version": proposal.version, "commitment": receipt.commitment},
            )
            _notify_owner_of_proposal(demand)
    except IntegrityError:
        # Two members of one organization submitted at the same moment; the unique constraint kept one.
        raise ApplicationError(
            _("Your organization has already submitted a proposal; edit it instead."), code="duplicate"
        ) from None
    return proposal, receipt


def _notify_owner_of_proposal(demand: Demand) -> None:
    # On a sealed tender even the arrival of a bid is secret until the close.
    if demand.is_sealed:
        return
    context = {"title": demand.title}
    notify_organization(
        demand.owner,
        subject=lambda: _("New proposal for “%(title)s”") % context,
        body=lambda: (
            _("A supplier sent a proposal for “%(title)s”. Please answer it within %(days)d days.")
            % {**context, "days": settings.DEMAND_RESPONSE_DAYS}
        ),
        url=demand_url(demand),
    )


def proposal_update(
    *,
    proposal: Proposal,
    actor: User,
    approach: str,
    duration_days,
    price=None,
    team: str = "",
    attachments=None,
) -> tuple[Proposal, ProposalReceipt]:
    """Edit a submitted proposal before the deadline: a new version with a new receipt.

    ``attachments=None`` keeps the current files; a list replaces them.
    """
    _require_supplier(proposal.supplier, actor)
    bid = _clean_bid(approach=approach, price=price, duration_days=duration_days, team=team)
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=proposal.demand_id)
        _require_open(demand)
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status != P.SUBMITTED:
            raise ApplicationError(_("Only a submitted proposal can be edited."), code="bad_state")
        for key, value in bid.items():
            setattr(proposal, key, value)
        proposal.version += 1
        proposal.save()
        if attachments is not None:
            proposal.attachments.all().delete()
            _add_attachments(proposal, actor, attachments)
        receipt = _seal(proposal)
        audit_log(
            actor=actor,
            action="proposal.update",
            target=demand,
            data={"proposal": proposal.pk, "version": proposal.version, "commitment": receipt.commitment},
        )
    return proposal, receipt


def proposal_withdraw(*, proposal: Proposal, actor: User) -> Proposal:
    _require_supplier(proposal.supplier, actor)
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=proposal.demand_id)
        _require_open(demand)
        if (
            Proposal.objects.filter(pk=proposal.pk, status=P.SUBMITTED).update(
                status=P.WITHDRAWN, updated_at=timezone.now()
            )
            != 1
        ):
            raise ApplicationError(_("Only a submitted proposal can be withdrawn."), code="bad_state")
        proposal.refresh_from_db()
        audit_log(actor=actor, action="proposal.withdraw", target=demand, data={"proposal": proposal.pk})
    return proposal


# --- evaluation and award ------------------------------------------------------------------------------------


EVALUABLE_STATUSES = (DemandStatus.PUBLISHED, DemandStatus.CLOSED, DemandStatus.AWARDED)


def _require_evaluable(proposal: Proposal, actor: User) -> Demand:
    demand = proposal.demand
    _require_member(demand, actor)
    if demand.is_sealed:
        raise ApplicationError(_("Sealed bids are opened at the close."), code="sealed")
    if demand.status not in EVALUABLE_STATUSES:
        raise ApplicationError(_("Proposals of this demand can no longer be evaluated."), code="bad_state")
    return demand


def _responded(proposal: Proposal, now) -> None:
    Proposal.objects.filter(pk=proposal.pk, owner_responded_at__isnull=True).update(owner_responded_at=now)


def proposal_shortlist(*, proposal: Proposal, actor: User) -> Proposal:
    demand = _require_evaluable(proposal, actor)
    now = timezone.now()
    with transaction.atomic():
        if (
            Proposal.objects.filter(pk=proposal.pk, status=P.SUBMITTED).update(
                status=P.SHORTLISTED, decided_at=now, updated_at=now
            )
            != 1
        ):
            raise ApplicationError(_("Only a submitted proposal can be shortlisted."), code="bad_state")
        _responded(proposal, now)
        proposal.refresh_from_db()
        audit_log(actor=actor, action="proposal.shortlist", target=demand, data={"proposal": proposal.pk})
        context = {"title": demand.title}
        notify_organization(
            proposal.supplier,
            subject=lambda: _("Your proposal for “%(title)s” is shortlisted") % context,
            body=lambda: (
                _("The owner of “%(title)s” shortlisted your proposal and may ask you questions.") % context
            ),
            url=demand_url(demand),
        )
    return proposal


def proposal_reject(*, proposal: Proposal, actor: User, reason: str, note: str = "") -> Proposal:
    """Decline a proposal with a structured reason the bidder sees (feedback to the losing side)."""
    demand = _require_evaluable(proposal, actor)
    if reason not in RejectionReason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    if reason == RejectionReason.OTHER and not (note or "").strip():
        raise ValidationError({"note": _("Explain the reason to the bidder.")})
    now = timezone.now()
    with transaction.atomic():
        if (
            Proposal.objects.filter(pk=proposal.pk, status__in=ACTIVE).update(
                status=P.REJECTED,
                rejection_reason=reason,
                rejection_note=(note or "").strip(),
                decided_at=now,
                updated_at=now,
            )
            != 1
        ):
            raise ApplicationError(_("This proposal has already been decided."), code="bad_state")
        _responded(proposal, now)
        proposal.refresh_from_db()
        audit_log(
            actor=actor,
            action="proposal.reject",
            target=demand,
            reason=note,
            data={"proposal": proposal.pk, "reason": reason},
        )
        _tell_rejected(proposal)
    return proposal


def _tell_rejected(proposal: Proposal) -> None:
    demand = proposal.demand
    context = {"title": demand.title}
    reason = RejectionReason(proposal.rejection_reason)
    notify_organization(
        proposal.supplier,
        subject=lambda: _("Your proposal for “%(title)s” was not selected") % context,
        body=lambda: (
            _("Your proposal for “%(title)s” was not selected. Reason: %(reason)s. %(note)s")
            % {**context, "reason": str(reason.label), "note": proposal.rejection_note}
        ),
        url=demand_url(demand),
    )


def proposal_message(*, proposal: Proposal, actor: User, body: str) -> ProposalMessage:
    """The owner asks a bidder a question after the close, or the bidder answers."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write a message.")})
    member_of = set(Membership.objects.filter(user=actor).values_list("organization_id", flat=True))
    if proposal.demand.owner_id in member_of:
        author_org, recipient = proposal.demand.owner, proposal.supplier
        _require_evaluable(proposal, actor)
    elif proposal.supplier_id in member_of:
        author_org, recipient = proposal.supplier, proposal.demand.owner
        if proposal.demand.is_sealed:
            raise ApplicationError(_("Sealed bids are opened at the close."), code="sealed")
        # The thread serves the evaluation; once the demand is withdrawn, expired or contracted it is closed
        # to both sides (the owner's side is held by _require_evaluable).
        if proposal.demand.status not in EVALUABLE_STATUSES:
            raise ApplicationError(_("This demand no longer takes messages."), code="bad_state")
    else:
        raise ApplicationError(_("Only the owner and the bidder can write here."), code="not_party")
    if proposal.status == P.WITHDRAWN:
        raise ApplicationError(_("This proposal was withdrawn."), code="bad_state")
    with transaction.atomic():
        message = ProposalMessage.objects.create(
            proposal=proposal, author=actor, author_organization=author_org, body=body
        )
        if author_org.pk == proposal.demand.owner_id:
            _responded(proposal, message.created_at)
        context = {"title": proposal.demand.title}
        notify_organization(
            recipient,
            subject=lambda: _("New message about a proposal for “%(title)s”") % context,
            body=lambda: body,
            url=demand_url(proposal.demand),
        )
    return message


def proposal_award(*, proposal: Proposal, actor: User):
    """Award a proposal after the close. One winner, or up to ``max_winners`` in a challenge.

    Locks the demand so two awards at once cannot exceed the number of winners. In single-winner modes the
    other active proposals are declined with the reason "another proposal was selected". Hands over to
    contract drafting through ``contracts.services.contract_draft_from_award``.
    """
    _require_member(proposal.demand, actor)
    now = timezone.now()
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=proposal.demand_id)
        if demand.status not in (DemandStatus.CLOSED, DemandStatus.AWARDED):
            raise ApplicationError(_("A demand is awarded after it is closed."), code="bad_state")
        winners = Proposal.objects.filter(demand=demand, status=P.AWARDED).count()
        limit = demand.max_winners if demand.mode == Demand.Mode.CHALLENGE else 1
        if winners >= limit:
            raise ApplicationError(_("All awards of this demand have been made."), code="awards_exhausted")
        if (
            Proposal.objects.filter(pk=proposal.pk, demand=demand, status__in=ACTIVE).update(
                status=P.AWARDED, decided_at=now, updated_at=now
            )
            != 1
        ):
            raise ApplicationError(
                _("Only a submitted or shortlisted proposal can be awarded."), code="bad_state"
            )
        _responded(proposal, now)
        Demand.objects.filter(pk=demand.pk, status=DemandStatus.CLOSED).update(
            status=DemandStatus.AWARDED, awarded_at=now, updated_at=now
        )
        proposal.refresh_from_db()
        demand.refresh_from_db()
        audit_log(actor=actor, action="proposal.award", target=demand, data={"proposal": proposal.pk})
        context = {"title": demand.title}
        notify_organization(
            proposal.supplier,
            subject=lambda: _("Your proposal for “%(title)s” won") % context,
            body=lambda: (
                _(
                    "Congratulations: the owner of “%(title)s” awarded your proposal. "
                    "A draft contract follows."
                )
                % context
            ),
            url=demand_url(demand),
        )
        if winners + 1 >= limit:
            losers = Proposal.objects.filter(demand=demand, status__in=ACTIVE).select_related(
                "supplier", "demand"
            )
            for loser in losers:
                Proposal.objects.filter(pk=loser.pk).update(
                    status=P.REJECTED,
                    rejection_reason=RejectionReason.OTHER_AWARDED,
                    decided_at=now,
                    updated_at=now,
                )
                _responded(loser, now)
                loser.rejection_reason = RejectionReason.OTHER_AWARDED
                _tell_rejected(loser)
        draft = contract_draft_from_award(proposal=proposal, actor=actor)
    return proposal, draft


def proposal_remind_unanswered(*, now=None) -> int:
    """Remind owners of proposals unanswered for DEMAND_RESPONSE_DAYS; each proposal reminds once."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DEMAND_RESPONSE_DAYS)
    due = (
        Proposal.objects.filter(
            status=P.SUBMITTED,
            owner_responded_at__isnull=True,
            reminder_sent_at__isnull=True,
            submitted_at__lte=cutoff,
            # Only where the owner can act: not on withdrawn or expired demands, not on a sealed tender.
            demand__status__in=[DemandStatus.PUBLISHED, DemandStatus.CLOSED],
        )
        .exclude(demand__mode=Demand.Mode.TENDER, demand__status=DemandStatus.PUBLISHED)
        .values_list("pk", flat=True)[:500]
    )
    reminded = 0
    for pk in list(due):
        with transaction.atomic():
            if (
                Proposal.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now)
                != 1
            ):
                continue
            proposal = Proposal.objects.select_related("demand", "demand__owner").get(pk=pk)
            context = {"title": proposal.demand.title, "days": settings.DEMAND_RESPONSE_DAYS}
            notify_organization(
                proposal.demand.owner,
                subject=lambda context=context: (
                    _("A proposal for “%(title)s” waits for your answer") % context
                ),
                body=lambda context=context: (
                    _(
                        "A proposal for “%(title)s” has waited more than %(days)d days. Shortlist it, ask "
                        "a question or decline it with a reason: your response rate is shown on your "
                        "profile."
                    )
                    % context
                ),
                url=demand_url(proposal.demand),
                admins_only=True,
            )
            reminded += 1
    return reminded
