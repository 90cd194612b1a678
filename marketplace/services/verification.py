"""Administrators' decisions on organizations (SPEC §3): approve, reject, ask for documents, suspend, reinstate.

Each decision is one guarded UPDATE (the allowed source states are the guard, so a double click or two
administrators deciding at once change the organization once), an audit entry with the reason, a notice on
the website and an e-mail to every administrator of the organization, queued after commit.
"""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.exceptions import ApplicationError
from marketplace.models import Membership, Organization, User
from marketplace.services.audit import audit_log
from marketplace.services.notifications import bilingual_subject, bilingual_text, notification_create
from marketplace.taxonomy import CREDIT_CODE_REQUIRED_TYPES

S = Organization.Status


@dataclass(frozen=True)
class Decision:
    action: str
    target: str
    sources: tuple[str, ...]
    subject: object
    message: object


DECISIONS = {
    "approve": Decision(
        "organization.approve",
        S.VERIFIED,
        (S.PENDING,),
        gettext_lazy("%(organization)s has been verified"),
        gettext_lazy(
            "Your organization %(organization)s is verified. You can now publish demands and listings, "
            "bid and sign contracts on the technology market."
        ),
    ),
    "reject": Decision(
        "organization.reject",
        S.REJECTED,
        (S.PENDING, S.NEEDS_DOCUMENTS),
        gettext_lazy("The verification of %(organization)s was rejected"),
        gettext_lazy(
            "The registration of %(organization)s was not approved. You may correct it and apply again."
        ),
    ),
    "request_documents": Decision(
        "organization.request_documents",
        S.NEEDS_DOCUMENTS,
        (S.PENDING,),
        gettext_lazy("More documents are needed to verify %(organization)s"),
        gettext_lazy(
            "To verify %(organization)s we need more documents. Upload them on the organization page "
            "and resubmit."
        ),
    ),
    "suspend": Decision(
        "organization.suspend",
        S.SUSPENDED,
        (S.VERIFIED,),
        gettext_lazy("%(organization)s has been suspended"),
        gettext_lazy(
            "%(organization)s has been suspended and can no longer act on the market until it is reinstated."
        ),
    ),
    "reinstate": Decision(
        "organization.reinstate",
        S.VERIFIED,
        (S.SUSPENDED,),
        gettext_lazy("%(organization)s has been reinstated"),
        gettext_lazy("%(organization)s has been reinstated and may act on the market again."),
    ),
}


def organization_decide(
    *, organization: Organization, decision: str, actor: User, reason: str
) -> Organization:
    """Apply one administrator decision. ``reason`` is required: it is shown to the applicant and audited."""
    rule = DECISIONS.get(decision)
    if rule is None:
        raise ApplicationError(_("Unknown decision “%(value)s”.") % {"value": decision}, code="bad_decision")
    if not actor.is_staff:
        raise ApplicationError(_("Only platform administrators decide on verification."), code="not_staff")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("Please give a reason for this decision; the applicant will see it."), code="reason_required"
        )
    if (
        rule.target == S.VERIFIED
        and organization.org_type in CREDIT_CODE_REQUIRED_TYPES
        and not organization.credit_code
    ):
        # Only an organization created by the record interchange can lack its code (the database allows it
        # while unverified); the administrator completes it first.
        raise ApplicationError(
            _("Enter the unified social credit code of %(organization)s before verifying it.")
            % {"organization": organization.name},
            code="credit_code_missing",
        )
    now = timezone.now()
    changes = {"status": rule.target, "status_reason": reason, "status_changed_at": now, "updated_at": now}
    if decision == "approve":
        changes["verified_at"] = now
    with transaction.atomic():
        updated = Organization.objects.filter(pk=organization.pk, status__in=rule.sources).update(**changes)
        if updated != 1:
            current = Organization.objects.filter(pk=organization.pk).values_list("status", flat=True).first()
            raise ApplicationError(
                _("%(organization)s is “%(status)s”; this decision is not possible in that state.")
                % {"organization": organization.name, "status": S(current).label if current else "?"},
                code="bad_state",
            )
        previous = organization.status
        organization.refresh_from_db()
        audit_log(
            actor=actor,
            action=rule.action,
            target=organization,
            reason=reason,
            data={"from": previous, "to": rule.target},
        )
        _tell_admins(organization, rule, reason)
    return organization


def _tell_admins(organization: Organization, rule: Decision, reason: str) -> None:
    context = {"organization": organization.name}
    subject = bilingual_subject(lambda: rule.subject % context)
    body = bilingual_text(lambda: f"{rule.message % context}\n\n{_('Reason')}: {reason}")
    url = reverse("organizations:detail", kwargs={"pk": organization.pk})
    admins = User.objects.filter(
        memberships__organization=organization, memberships__role=Membership.Role.ADMIN, is_active=True
    )
    for admin in admins:
        notification_create(user=admin, subject=subject, body=body, url=url)
