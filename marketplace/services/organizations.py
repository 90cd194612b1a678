import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.exceptions import ApplicationError
from marketplace.models import (
    CredentialDocument,
    Invitation,
    JoinRequest,
    Membership,
    Organization,
    Region,
    TechnologyField,
    User,
)
from marketplace.services.audit import audit_log
from marketplace.services.notifications import bilingual_subject, bilingual_text, notification_create
from marketplace.taxonomy import CREDIT_CODE_REQUIRED_TYPES, OrganizationType
from marketplace.validators import inspect_document, validate_credit_code

PROFILE_FIELDS = (
    "short_name",
    "address",
    "website",
    "description",
    "contact_name",
    "contact_email",
    "contact_phone",
)


def _clean_identity(*, name: str, org_type: str, credit_code: str | None, region_code: str, exclude_pk=None):
    """Validate what identifies an organization; return (name, credit_code, region). Raises ValidationError."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Please enter the organization's full registered name.")
    elif Organization.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = _(
            "An organization with this name is already registered. Ask its administrator to invite you."
        )
    if org_type not in OrganizationType.values:
        errors["org_type"] = _("Unknown organization type “%(value)s”.") % {"value": org_type}
    code = (credit_code or "").strip()
    if code:
        try:
            code = validate_credit_code(code)
        except ValidationError as exc:
            errors["credit_code"] = exc.messages[0]
        else:
            if Organization.objects.filter(credit_code=code).exclude(pk=exclude_pk).exists():
                errors["credit_code"] = _(
                    "An organization with this unified social credit code is already registered."
                )
    elif org_type in CREDIT_CODE_REQUIRED_TYPES:
        errors["credit_code"] = _(
            "Enterprises, research institutes and intermediaries must give their unified social credit code."
        )
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        errors["region"] = _("Unknown region code “%(value)s”. Use a GB/T 2260 province or city code.") % {
            "value": region_code
        }
    if errors:
        raise ValidationError(errors)
    return name, code or None, region


def organization_create(
    *,
    user: User,
    name: str,
    org_type: str,
    region_code: str,
    credit_code: str | None = None,
    field_codes: list[str] | None = None,
    **profile,
) -> Organization:
    """Register a new organization, pending verification, with ``user`` as its first administrator."""
    if not user.is_email_verified:
        raise ApplicationError(
            _("Please verify your e-mail address before registering an organization."),
            code="email_not_verified",
        )
    name, code, region = _clean_identity(
        name=name, org_type=org_type, credit_code=credit_code, region_code=region_code
    )
    fields = _fields(field_codes)
    try:
        with transaction.atomic():
            organization = Organization.objects.create(
                name=name,
                org_type=org_type,
                credit_code=code,
                region=region,
                created_by=user,
                status_changed_at=timezone.now(),
                **{key: (profile.get(key) or "").strip() for key in PROFILE_FIELDS},
            )
            organization.fields.set(fields)
            Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
            audit_log(actor=user, action="organization.register", target=organization)
    except IntegrityError:
        # Two registrations of the same name or code raced past the checks above; the constraint decided.
        raise ValidationError(
            _("An organization with this name or credit code is already registered.")
        ) from None
    return organization


def _fields(field_codes):
    if not field_codes:
        return []
    fields = list(TechnologyField.objects.filter(code__in=field_codes))
    unknown = sorted(set(field_codes) - {f.code for f in fields})
    if unknown:
        raise ValidationError(
            {"fields": _("Unknown technology field: %(codes)s") % {"codes": ", ".join(unknown)}}
        )
    return fields


def organization_update(
    *,
    organization: Organization,
    actor: User,
    field_codes: list[str] | None = None,
    region_code: str | None = None,
    **profile,
) -> Organization:
    """Edit the profile. Identity (name, type, credit code) is changed only by staff, since it was verified."""
    _require_admin(organization, actor)
    with transaction.atomic():
        if region_code is not None and region_code != organization.region_id:
            region = Region.objects.filter(code=region_code).first()
            if region is None:
                raise ValidationError(
                    {
                        "region": _("Unknown region code “%(value)s”. Use a GB/T 2260 province or city code.")
                        % {"value": region_code}
                    }
                )
            organization.region = region
        for key in PROFILE_FIELDS:
            if key in profile and profile[key] is not None:
                setattr(organization, key, profile[key].strip())
        organization.full_clean(exclude=["credit_code", "name", "created_by", "region"])
        organization.save()
        if field_codes is not None:
            organization.fields.set(_fields(field_codes))
        audit_log(actor=actor, action="organization.update", target=organization)
    return organization


def credential_document_add(
    *, organization: Organization, actor: User, kind: str, uploaded
) -> CredentialDocument:
    """Store a credential document after checking its size and real type (not its name)."""
    _require_admin(organization, actor)
    if kind not in CredentialDocument.Kind.values:
        raise ValidationError({"kind": _("Unknown document type “%(value)s”.") % {"value": kind}})
    try:
        info = inspect_document(uploaded)
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from None
    with transaction.atomic():
        document = CredentialDocument(
            organization=organization,
            kind=kind,
            original_name=(uploaded.name or "")[:200],
            uploaded_by=actor,
            **info,
        )
        document.file.save(uploaded.name, uploaded, save=False)
        document.save()
        audit_log(
            actor=actor,
            action="organization.document_add",
            target=organization,
            data={"document": document.pk, "kind": kind, "sha256": info["sha256"]},
        )
    return document


def organization_resubmit(*, organization: Organization, actor: User, note: str = "") -> Organization:
    """The applicant answers a request for documents (or a rejection) by sending the file back to review."""
    _require_admin(organization, actor)
    now = timezone.now()
    with transaction.atomic():
        updated = Organization.objects.filter(
            pk=organization.pk,
            status__in=[Organization.Status.NEEDS_DOCUMENTS, Organization.Status.REJECTED],
        ).update(status=Organization.Status.PENDING, status_changed_at=now, updated_at=now)
        if updated != 1:
            raise ApplicationError(
                _("Only an organization asked for more documents, or rejected, can be resubmitted."),
                code="bad_state",
            )
        organization.refresh_from_db()
        audit_log(actor=actor, action="organization.resubmit", target=organization, reason=note)
    return organization


# --- memberships -------------------------------------------------------------------------------------------


def _require_admin(organization: Organization, actor: User) -> None:
    if actor.is_staff:
        return
    if not Membership.objects.filter(
        organization=organization, user=actor, role=Membership.Role.ADMIN
    ).exists():
        raise ApplicationError(
            _("Only an administrator of this organization can do this."), code="not_org_admin"
        )


def invitation_create(
    *, organization: Organization, actor: User, email: str, role: str = Membership.Role.MEMBER
) -> Invitation:
    _require_admin(organization, actor)
    email = User.objects.normalize_email(email).strip()
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Unknown role “%(value)s”.") % {"value": role}})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                token=secrets.token_urlsafe(32),
                invited_by=actor,
                expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
            )
            audit_log(
                actor=actor,
                action="invitation.create",
                target=organization,
                data={"email": email, "role": role},
            )
            link = reverse("organizations:invitation", kwargs={"token": invitation.token})
            invitee = User.objects.filter(email__iexact=email).first()
            context = {"organization": organization.name, "inviter": actor.display_name}
            subject = bilingual_subject(
                lambda: _("%(inviter)s invites you to join %(organization)s") % context
            )
            body = bilingual_text(
                lambda: (
                    _(
                        "%(inviter)s invites you to join %(organization)s on the technology market. "
                        "Open the link to accept; sign up first with this e-mail address if you have no account."
                    )
                    % context
                )
            )
            if invitee is not None:
                notification_create(user=invitee, subject=subject, body=body, url=link)
            else:
                from marketplace.services.notifications import email_send

                email_send(
                    subject=settings.EMAIL_SUBJECT_PREFIX + subject,
                    body=f"{body}\n\n{settings.SITE_URL}{link}",
                    recipients=[email],
                )
    except IntegrityError:
        raise ValidationError({"email": _("An invitation to this address is already pending.")}) from None
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    if not user.is_email_verified:
        raise ApplicationError(_("Please verify your e-mail address first."), code="email_not_verified")
    if invitation.email.lower() != user.email.lower():
        raise ApplicationError(_("This invitation was sent to another e-mail address."), code="wrong_invitee")
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(_("This invitation has expired. Ask for a new one."), code="expired")
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.ACCEPTED, accepted_by=user, updated_at=timezone.now()
        )
        if claimed != 1:
            raise ApplicationError(_("This invitation is no longer valid."), code="bad_state")
        membership, created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization, defaults={"role": invitation.role}
        )
        audit_log(
            actor=user,
            action="invitation.accept",
            target=invitation.organization,
            data={"role": membership.role},
        )
    return membership


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    _require_admin(invitation.organization, actor)
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.REVOKED, updated_at=timezone.now()
        )
        if updated != 1:
            raise ApplicationError(_("This invitation is no longer pending."), code="bad_state")
        audit_log(
            actor=actor,
            action="invitation.revoke",
            target=invitation.organization,
            data={"email": invitation.email},
        )
    invitation.refresh_from_db()
    return invitation


def invitation_expire_stale() -> int:
    """Revoke pending invitations past their expiry date; safe to run any number of times."""
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=timezone.now()).update(
        status=Invitation.Status.REVOKED, updated_at=timezone.now()
    )


def join_request_create(*, organization: Organization, user: User, message: str = "") -> JoinRequest:
    if not user.is_email_verified:
        raise ApplicationError(_("Please verify your e-mail address first."), code="email_not_verified")
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ApplicationError(_("You are already a member of this organization."), code="already_member")
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(
                organization=organization, user=user, message=message.strip()
            )
            context = {"user": user.display_name, "organization": organization.name}
            for admin in User.objects.filter(
                memberships__organization=organization, memberships__role=Membership.Role.ADMIN
            ):
                notification_create(
                    user=admin,
                    subject=bilingual_subject(lambda: _("%(user)s asks to join %(organization)s") % context),
                    body=bilingual_text(
                        lambda: (
                            _(
                                "%(user)s asks to join %(organization)s. "
                                "Approve or decline the request on the members page."
                            )
                            % context
                        )
                    ),
                    url=reverse("organizations:members", kwargs={"pk": organization.pk}),
                )
    except IntegrityError:
        raise ApplicationError(
            _("You have already asked to join this organization."), code="duplicate"
        ) from None
    return join_request


def join_request_decide(*, join_request: JoinRequest, actor: User, approve: bool) -> JoinRequest:
    organization = join_request.organization
    _require_admin(organization, actor)
    new_status = JoinRequest.Status.APPROVED if approve else JoinRequest.Status.DECLINED
    with transaction.atomic():
        updated = JoinRequest.objects.filter(pk=join_request.pk, status=JoinRequest.Status.PENDING).update(
            status=new_status, decided_by=actor, decided_at=timezone.now(), updated_at=timezone.now()
        )
        if updated != 1:
            raise ApplicationError(_("This request has already been decided."), code="bad_state")
        if approve:
            Membership.objects.get_or_create(user=join_request.user, organization=organization)
        audit_log(
            actor=actor,
            action=f"join_request.{new_status}",
            target=organization,
            data={"user": join_request.user_id},
        )
        context = {"organization": organization.name}
        if approve:
            subject = bilingual_subject(lambda: _("You have joined %(organization)s") % context)
        else:
            subject = bilingual_subject(
                lambda: _("Your request to join %(organization)s was declined") % context
            )
        notification_create(
            user=join_request.user,
            subject=subject,
            body=subject,
            url=reverse("organizations:detail", kwargs={"pk": organization.pk}),
        )
    join_request.refresh_from_db()
    return join_request


def membership_set_role(*, membership: Membership, actor: User, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Unknown role “%(value)s”.") % {"value": role}})
    with transaction.atomic():
        # Lock the organization's memberships so two admins demoting each other cannot leave it with none.
        list(Membership.objects.select_for_update().filter(organization_id=membership.organization_id))
        _require_admin(membership.organization, actor)
        membership.refresh_from_db()
        if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
            _ensure_another_admin(membership)
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_log(
            actor=actor,
            action="membership.set_role",
            target=membership.organization,
            data={"user": membership.user_id, "role": role},
        )
    return membership


def membership_remove(*, membership: Membership, actor: User) -> None:
    """An admin removes a member, or a member leaves (actor == member)."""
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(organization_id=membership.organization_id))
        if actor.pk != membership.user_id:
            _require_admin(membership.organization, actor)
        if membership.role == Membership.Role.ADMIN:
            _ensure_another_admin(membership)
        audit_log(
            actor=actor,
            action="membership.remove",
            target=membership.organization,
            data={"user": membership.user_id},
        )
        membership.delete()


def _ensure_another_admin(membership: Membership) -> None:
    others = Membership.objects.filter(
        organization_id=membership.organization_id, role=Membership.Role.ADMIN
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ApplicationError(
            _("An organization needs at least one administrator. Appoint another one first."),
            code="last_admin",
        )
