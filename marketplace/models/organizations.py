import os

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from marketplace.models.base import TimeStampedModel
from marketplace.taxonomy import CREDIT_CODE_REQUIRED_TYPES, OrganizationType


class OrganizationStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    NEEDS_DOCUMENTS = "needs_documents", _("More documents requested")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Organization(TimeStampedModel):
    """An enterprise, university, institute, intermediary, … that acts on the market.

    Verification is a small state machine driven by ``marketplace.services.verification``:
    pending → verified | rejected | needs_documents; needs_documents → pending (resubmitted);
    rejected → pending (reapplied); verified → suspended → verified (reinstated).
    """

    Status = OrganizationStatus

    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    org_type = models.CharField(_("organization type"), max_length=24, choices=OrganizationType.choices)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        null=True,
        blank=True,
        help_text=_("18 characters, GB 32100, with its check character."),
    )
    region = models.ForeignKey(
        "marketplace.Region", on_delete=models.PROTECT, related_name="organizations", verbose_name=_("region")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("profile"), blank=True)
    fields = models.ManyToManyField(
        "marketplace.TechnologyField",
        blank=True,
        related_name="organizations",
        verbose_name=_("technology fields"),
    )
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason for the last decision"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # Set when the record interchange (``marketplace.interchange``) created the organization as the owner of
    # imported records: it has no members and, until an administrator completes and verifies it, may lack
    # the credit code its type otherwise requires (constraint below).
    imported_at = models.DateTimeField(_("imported through the interchange at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="created_organizations",
        verbose_name=_("created by"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="marketplace.Membership", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_unique_name_ci"),
            models.UniqueConstraint(fields=["credit_code"], name="organization_unique_credit_code"),
            models.CheckConstraint(
                condition=models.Q(status__in=OrganizationStatus.values), name="organization_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(org_type__in=OrganizationType.values), name="organization_type_valid"
            ),
            # Enterprises, institutes and intermediaries carry a credit code (SPEC §2). The one exception is an
            # organization the interchange created (the format carries no code) while it is not verified: an
            # administrator enters the code before approving it, so every verified one has its code.
            models.CheckConstraint(
                condition=~models.Q(org_type__in=[t.value for t in CREDIT_CODE_REQUIRED_TYPES])
                | models.Q(credit_code__isnull=False)
                | (
                    models.Q(imported_at__isnull=False)
                    & ~models.Q(status__in=[OrganizationStatus.VERIFIED, OrganizationStatus.SUSPENDED])
                ),
                name="organization_credit_code_required",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "org_type"], name="organization_status_type_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    title = models.CharField(_("job title"), max_length=60, blank=True)

    class Meta:
        ordering = ["organization", "-role", "created_at"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_user_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invitation(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(
        _("role"), max_length=12, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "organization",
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"


class JoinRequest(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    message = models.CharField(_("message"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=models.Q(status="pending"),
                name="joinrequest_one_pending_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.organization} ({self.status})"


def credential_upload_to(instance: "CredentialDocument", filename: str) -> str:
    # The stored name never reuses the uploader's file name: it may carry personal data or path tricks.
    ext = os.path.splitext(filename)[1].lower()
    return f"credentials/{instance.organization_id}/{instance.sha256[:16]}{ext}"


class CredentialDocument(TimeStampedModel):
    """A business licence, institution certificate or authorization letter uploaded for verification."""

    class Kind(models.TextChoices):
        BUSINESS_LICENSE = "business_license", _("Business licence")
        INSTITUTION_CERTIFICATE = "institution_certificate", _("Public institution certificate")
        AUTHORIZATION_LETTER = "authorization_letter", _("Letter of authorization")
        OTHER = "other", _("Other document")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document type"), max_length=32, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=credential_upload_to)
    original_name = models.CharField(_("original file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("credential document")
        verbose_name_plural = _("credential documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"
