"""Technical problems (技术难题), tenders (招标) and challenges, with their proposals (SPEC §4)."""

import os

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.models import TimeStampedModel
from marketplace.taxonomy import CooperationMode


class DemandMode(models.TextChoices):
    OPEN = "open", _("Open call")
    TENDER = "tender", _("Sealed tender")
    CHALLENGE = "challenge", _("Challenge with award")


class DemandStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_REVIEW = "pending_review", _("Pending review")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")
    AWARDED = "awarded", _("Awarded")
    CONTRACTED = "contracted", _("Contracted")
    SOLVED = "solved", _("Solved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class ContactPolicy(models.TextChoices):
    PLATFORM = "platform", _("Through the platform only")
    AFTER_PROPOSAL = "after_proposal", _("Contact details shown to bidders")
    PUBLIC = "public", _("Contact details public")


# Statuses in which a demand is on the public market (list and detail pages for everyone).
PUBLIC_STATUSES = (
    DemandStatus.PUBLISHED,
    DemandStatus.CLOSED,
    DemandStatus.AWARDED,
    DemandStatus.CONTRACTED,
    DemandStatus.SOLVED,
)


class Demand(TimeStampedModel):
    """A technical problem an enterprise wants solved.

    Lifecycle (``demands.services``): draft → pending_review → published → closed → awarded → contracted →
    solved; exits rejected (review), withdrawn (owner), expired (no award within the grace period).
    ``summary`` is public; ``details`` and attachments are confidential (``selectors.demand_can_see_details``).
    """

    Mode = DemandMode
    Status = DemandStatus
    ContactPolicy = ContactPolicy

    owner = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, related_name="demands", verbose_name=_("owner")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("public summary"))
    details = models.TextField(_("confidential details"), blank=True)
    field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("technology field"),
    )
    sub_field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("sub-field"),
    )
    region = models.ForeignKey(
        "marketplace.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    budget_min = models.DecimalField(
        _("budget from (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_max = models.DecimalField(
        _("budget up to (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_negotiable = models.BooleanField(_("budget negotiable"), default=False)
    deadline = models.DateTimeField(_("deadline"))
    cooperation_mode = models.CharField(_("cooperation mode"), max_length=20, choices=CooperationMode.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=DemandMode.choices, default=DemandMode.OPEN)
    nda_required = models.BooleanField(_("NDA required"), default=False)
    nda_terms = models.TextField(_("NDA terms"), blank=True)
    award_amount = models.DecimalField(
        _("challenge award (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    max_winners = models.PositiveSmallIntegerField(_("number of winners"), default=1)
    contact_policy = models.CharField(
        _("contact policy"), max_length=20, choices=ContactPolicy.choices, default=ContactPolicy.PLATFORM
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DemandStatus.choices, default=DemandStatus.DRAFT
    )
    status_reason = models.TextField(_("reason for the last decision"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    awarded_at = models.DateTimeField(null=True, blank=True)
    # When the contract for the award was signed: the month the platform's statistics count the contract in.
    contracted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Claims that make the close notifications and the expiry notice go out once, whoever runs the job.
    close_notified_at = models.DateTimeField(null=True, blank=True)
    external_ref = models.CharField(_("interchange reference"), max_length=100, null=True, blank=True)
    # Lower-cased title, summary and field names: what the keyword search scans (trigram-indexed on PostgreSQL).
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DemandStatus.values), name="demand_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=DemandMode.values), name="demand_mode_valid"),
            models.CheckConstraint(
                condition=Q(cooperation_mode__in=CooperationMode.values), name="demand_cooperation_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(budget_min__isnull=True) | Q(budget_min__gte=0),
                name="demand_budget_min_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(budget_min__isnull=True)
                | Q(budget_max__isnull=True)
                | Q(budget_min__lte=F("budget_max")),
                name="demand_budget_range_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(mode=DemandMode.CHALLENGE) | Q(award_amount__gt=0),
                name="demand_challenge_has_award",
            ),
            models.CheckConstraint(condition=Q(max_winners__gte=1), name="demand_max_winners_positive"),
            models.UniqueConstraint(fields=["external_ref"], name="demand_unique_external_ref"),
        ]
        indexes = [
            # The public list's order: walked (and stopped after one page) instead of sorting every demand.
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(status__in=PUBLIC_STATUSES),
                name="demand_public_recent_idx",
            ),
            # The same order for a member's list, which adds their own drafts ("OR owner …").
            models.Index(fields=["-published_at", "-id"], name="demand_recent_idx"),
            models.Index(fields=["status", "-published_at"], name="demand_status_published_idx"),
            models.Index(fields=["status", "deadline"], name="demand_status_deadline_idx"),
            models.Index(fields=["status", "field", "-published_at"], name="demand_status_field_idx"),
            models.Index(fields=["status", "region", "-published_at"], name="demand_status_region_idx"),
            # Covers id as well: a signed-in member's list counts "public, or ours, or one we bid on" over this
            # index alone (an index-only scan) instead of reading the table (docs/performance.md).
            models.Index(fields=["owner", "status"], include=["id"], name="demand_owner_status_cover_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def is_sealed(self) -> bool:
        """A tender until its close: nobody but each bidder sees anything of the bids, not even their number.

        Only the close (at the deadline) opens the bids; a tender withdrawn before it stays sealed for good.
        """
        return self.mode == DemandMode.TENDER and self.closed_at is None

    @property
    def accepts_proposals(self) -> bool:
        return self.status == DemandStatus.PUBLISHED and self.deadline > timezone.now()


class DemandRevision(TimeStampedModel):
    """An edit of a published demand, waiting for review; the public version stays until it is approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="revisions")
    changes = models.JSONField(_("proposed changes"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("demand revision")
        verbose_name_plural = _("demand revisions")
        constraints = [
            models.UniqueConstraint(
                fields=["demand"], condition=Q(status="pending"), name="demandrevision_one_pending_per_demand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demand} ({self.get_status_display()})"


def attachment_upload_to(instance, filename: str) -> str:
    # Never the uploader's name: it may carry personal data or path tricks, and the content hash is stable.
    ext = os.path.splitext(filename)[1].lower()
    return f"{instance.storage_prefix()}/{instance.sha256[:16]}{ext}"


class Attachment(TimeStampedModel):
    file = models.FileField(_("file"), upload_to=attachment_upload_to)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class DemandAttachment(Attachment):
    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="attachments")

    class Meta(Attachment.Meta):
        verbose_name = _("demand attachment")
        verbose_name_plural = _("demand attachments")

    def storage_prefix(self) -> str:
        return f"demands/{self.demand_id}"


class NdaAcceptance(TimeStampedModel):
    """A supplier organization accepted a demand's NDA terms (the exact text, by its SHA-256)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="nda_acceptances")
    organization = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    terms_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("NDA acceptance")
        verbose_name_plural = _("NDA acceptances")
        constraints = [
            models.UniqueConstraint(
                fields=["demand", "organization"], name="ndaacceptance_unique_demand_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} – {self.demand}"


class ProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SHORTLISTED = "shortlisted", _("Shortlisted")
    AWARDED = "awarded", _("Awarded")
    REJECTED = "rejected", _("Not selected")


class RejectionReason(models.TextChoices):
    PRICE = "price", _("The price is above what we can pay")
    APPROACH = "approach", _("The technical approach does not fit our problem")
    CAPABILITY = "capability", _("The team's capability or track record is not sufficient")
    DURATION = "duration", _("The proposed duration is too long")
    OTHER_AWARDED = "other_awarded", _("Another proposal was selected")
    OTHER = "other", _("Other reason")


class Proposal(TimeStampedModel):
    """A supplier organization's answer to a demand: one per organization per demand (database constraint)."""

    Status = ProposalStatus
    RejectionReason = RejectionReason

    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="proposals")
    supplier = models.ForeignKey(
        "marketplace.Organization",
        on_delete=models.PROTECT,
        related_name="proposals",
        verbose_name=_("supplier"),
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approach = models.TextField(_("technical approach"))
    price = models.DecimalField(_("price (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    duration_days = models.PositiveIntegerField(_("duration (days)"))
    team = models.TextField(_("team"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.SUBMITTED
    )
    version = models.PositiveIntegerField(default=1)
    # SHA-256 over the canonical content of the current version and a secret nonce (services.proposal_content).
    commitment = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(
        _("reason not selected"), max_length=16, choices=RejectionReason.choices, blank=True
    )
    rejection_note = models.TextField(_("feedback to the bidder"), blank=True)
    # First time the owner reacted (shortlist, reject, award, message): the response rate counts it.
    owner_responded_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            models.UniqueConstraint(fields=["demand", "supplier"], name="proposal_one_per_supplier"),
            models.CheckConstraint(
                condition=Q(status__in=ProposalStatus.values), name="proposal_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="proposal_price_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=ProposalStatus.REJECTED) | ~Q(rejection_reason=""),
                name="proposal_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["demand", "status"], name="proposal_demand_status_idx"),
            models.Index(fields=["supplier", "status"], name="proposal_supplier_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} → {self.demand}"


class ProposalReceipt(models.Model):
    """Every submit or edit of a proposal leaves a receipt with the commitment of that version."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="receipts")
    version = models.PositiveIntegerField()
    commitment = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["proposal", "version"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "version"], name="proposalreceipt_unique_version"),
        ]

    def __str__(self) -> str:
        return f"#{self.proposal_id} v{self.version} {self.commitment[:12]}…"


class ProposalAttachment(Attachment):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")

    class Meta(Attachment.Meta):
        verbose_name = _("proposal attachment")
        verbose_name_plural = _("proposal attachments")

    def storage_prefix(self) -> str:
        return f"proposals/{self.proposal_id}"


class ProposalMessage(TimeStampedModel):
    """Questions the owner asks a bidder after close, and the bidder's answers."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_organization = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("message"))

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:50]


class Question(TimeStampedModel):
    """A public clarification question on a demand and the owner's answer (the asker's name is not shown)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="questions")
    organization = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("question"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("clarification question")
        verbose_name_plural = _("clarification questions")

    def __str__(self) -> str:
        return self.text[:50]
