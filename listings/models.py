"""Technology achievements (科技成果) for transfer or licence, public listing (挂牌) with expressions of intent,
online auctions, publicity (成果转化公示) with objections, and completed deals for comparable prices (SPEC §5)."""

import os

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.models import TimeStampedModel
from marketplace.taxonomy import ListingType, Maturity


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_REVIEW = "pending_review", _("Pending review")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    TRANSFERRED = "transferred", _("Transferred")


class Listing(TimeStampedModel):
    """A technology a supplier offers for transfer, licence or equity (the supply side of the market)."""

    Status = ListingStatus

    owner = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, related_name="listings", verbose_name=_("owner")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"))
    details = models.TextField(_("details"), blank=True)
    listing_type = models.CharField(_("type"), max_length=32, choices=ListingType.choices)
    patent_number = models.CharField(_("patent or registration number"), max_length=64, blank=True)
    field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("technology field"),
    )
    sub_field = models.ForeignKey(
        "marketplace.TechnologyField", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    region = models.ForeignKey("marketplace.Region", on_delete=models.PROTECT, related_name="+")
    maturity = models.CharField(_("maturity"), max_length=20, choices=Maturity.choices)
    scenarios = models.TextField(_("application scenarios"), blank=True)
    transfer_modes = models.JSONField(_("transfer modes"), default=list)
    asking_price = models.DecimalField(
        _("asking price (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    price_negotiable = models.BooleanField(_("price negotiable"), default=False)
    inventors = models.CharField(_("inventors"), max_length=300, blank=True)
    state_funded = models.BooleanField(_("state-funded result"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ListingStatus.choices, default=ListingStatus.DRAFT
    )
    status_reason = models.TextField(_("reason for the last decision"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    external_ref = models.CharField(_("interchange reference"), max_length=100, null=True, blank=True)
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ListingStatus.values), name="listing_status_valid"),
            models.CheckConstraint(
                condition=Q(listing_type__in=ListingType.values), name="listing_type_valid"
            ),
            models.CheckConstraint(condition=Q(maturity__in=Maturity.values), name="listing_maturity_valid"),
            models.CheckConstraint(
                condition=Q(asking_price__isnull=True) | Q(asking_price__gte=0),
                name="listing_price_not_negative",
            ),
            models.UniqueConstraint(fields=["external_ref"], name="listing_unique_external_ref"),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="listing_status_published_idx"),
            models.Index(fields=["status", "field", "listing_type"], name="listing_status_field_type_idx"),
            models.Index(fields=["owner", "status"], name="listing_owner_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ListingRevision(TimeStampedModel):
    """An edit of a published listing, waiting for review; the public version stays until it is approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="revisions")
    changes = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing"],
                condition=Q(status="pending"),
                name="listingrevision_one_pending_per_listing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing} ({self.status})"


def listing_attachment_upload_to(instance, filename: str) -> str:
    return f"listings/{instance.listing_id}/{instance.sha256[:16]}{os.path.splitext(filename)[1].lower()}"


class ListingAttachment(TimeStampedModel):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=listing_attachment_upload_to)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class PublicListingStatus(models.TextChoices):
    OPEN = "open", _("Open for intents")
    AWAITING_OWNER = "awaiting_owner", _("No intent: owner to relist or withdraw")
    NEGOTIATION = "negotiation", _("Agreement negotiation")
    AUCTION = "auction", _("Auction")
    COMPLETED = "completed", _("Completed")
    RELISTED = "relisted", _("Relisted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ACTIVE_PUBLIC_LISTING = ("open", "awaiting_owner", "negotiation", "auction")


class PublicListing(TimeStampedModel):
    """A listing put up (挂牌) for a period with a floor price; the end of the period decides what follows."""

    Status = PublicListingStatus

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="public_listings")
    floor_price = models.DecimalField(_("floor price (yuan)"), max_digits=14, decimal_places=2)
    increment = models.DecimalField(_("auction increment (yuan)"), max_digits=14, decimal_places=2)
    starts_at = models.DateTimeField(_("listed from"))
    ends_at = models.DateTimeField(_("listed until"))
    status = models.CharField(
        max_length=16, choices=PublicListingStatus.choices, default=PublicListingStatus.OPEN
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("public listing")
        verbose_name_plural = _("public listings")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PublicListingStatus.values), name="publiclisting_status_valid"
            ),
            models.CheckConstraint(condition=Q(floor_price__gt=0), name="publiclisting_floor_positive"),
            models.CheckConstraint(condition=Q(increment__gt=0), name="publiclisting_increment_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="publiclisting_period_ordered"
            ),
            models.UniqueConstraint(
                fields=["listing"],
                condition=Q(status__in=ACTIVE_PUBLIC_LISTING),
                name="publiclisting_one_active_per_listing",
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="publiclisting_status_end_idx")]

    def __str__(self) -> str:
        return f"{self.listing} ({self.get_status_display()})"


class Intent(TimeStampedModel):
    """An expression of intent to acquire (意向受让) filed by a verified buyer during the listing period."""

    public_listing = models.ForeignKey(PublicListing, on_delete=models.PROTECT, related_name="intents")
    organization = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["public_listing", "organization"], name="intent_one_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.public_listing}"


class AuctionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    SOLD = "sold", _("Sold")
    FAILED = "failed", _("Failed")


class Auction(TimeStampedModel):
    """An English ascending auction of one lot. The current state is kept on this row, which every bid locks."""

    Status = AuctionStatus

    public_listing = models.OneToOneField(PublicListing, on_delete=models.PROTECT, related_name="auction")
    reserve = models.DecimalField(_("reserve (yuan)"), max_digits=14, decimal_places=2)
    increment = models.DecimalField(_("increment (yuan)"), max_digits=14, decimal_places=2)
    starts_at = models.DateTimeField(_("starts at"))
    scheduled_end = models.DateTimeField(_("scheduled end"))
    ends_at = models.DateTimeField(_("ends at"))
    extension_minutes = models.PositiveSmallIntegerField(_("extension (minutes)"), default=5)
    status = models.CharField(max_length=12, choices=AuctionStatus.choices, default=AuctionStatus.SCHEDULED)
    price = models.DecimalField(_("current price"), max_digits=14, decimal_places=2, null=True, blank=True)
    leader = models.ForeignKey(
        "AuctionBidder", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    leader_max = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    bid_count = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    result_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AuctionStatus.values), name="auction_status_valid"),
            models.CheckConstraint(condition=Q(increment__gt=0), name="auction_increment_positive"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=models.F("reserve")),
                name="auction_price_at_least_reserve",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("scheduled_end")), name="auction_end_never_earlier"
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="auction_status_end_idx")]

    def __str__(self) -> str:
        return f"{self.public_listing.listing} auction"


class AuctionBidder(TimeStampedModel):
    """A verified organization admitted to one auction after accepting its bidding terms; shown by paddle."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bidders")
    organization = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="+")
    paddle = models.PositiveIntegerField(_("paddle number"))
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    terms_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["paddle"]
        constraints = [
            models.UniqueConstraint(
                fields=["auction", "organization"], name="auctionbidder_one_per_organization"
            ),
            models.UniqueConstraint(fields=["auction", "paddle"], name="auctionbidder_unique_paddle"),
        ]

    def __str__(self) -> str:
        return f"#{self.paddle}"


class Bid(models.Model):
    """An accepted bid. ``sequence`` numbers the auction's bids without gaps, in the order they were applied."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey(AuctionBidder, on_delete=models.PROTECT, related_name="bids")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField()
    maximum = models.DecimalField(max_digits=14, decimal_places=2)
    price_after = models.DecimalField(max_digits=14, decimal_places=2)
    leader_after = models.ForeignKey(AuctionBidder, on_delete=models.PROTECT, related_name="+")
    ends_at_after = models.DateTimeField()
    # The client's key for this bid: a retried request (lost response, double click) is recognised, not re-applied.
    client_token = models.CharField(max_length=64)
    placed_at = models.DateTimeField()

    class Meta:
        ordering = ["auction", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["auction", "sequence"], name="bid_unique_sequence"),
            models.UniqueConstraint(
                fields=["auction", "bidder", "client_token"], name="bid_unique_client_token"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.auction_id}#{self.sequence}"


class Deal(TimeStampedModel):
    """A completed transfer at an agreed price: feeds comparable prices and publicity."""

    class Via(models.TextChoices):
        AUCTION = "auction", _("Auction")
        NEGOTIATION = "negotiation", _("Agreement")
        IMPORTED = "imported", _("Imported record")

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="deals")
    buyer = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price (yuan)"), max_digits=14, decimal_places=2)
    via = models.CharField(max_length=12, choices=Via.choices)
    concluded_at = models.DateTimeField()

    class Meta:
        ordering = ["-concluded_at"]
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="deal_price_positive")]

    def __str__(self) -> str:
        return f"{self.listing} @ {self.price}"


class PublicityStatus(models.TextChoices):
    OPEN = "open", _("In publicity")
    UNDER_REVIEW = "under_review", _("Objections under review")
    CERTIFIED = "certified", _("No objection: certified")
    CANCELLED = "cancelled", _("Cancelled after an upheld objection")


class Publicity(TimeStampedModel):
    """成果转化公示: a state-funded result transferred at an agreed price, published for objections."""

    Status = PublicityStatus

    deal = models.OneToOneField(Deal, on_delete=models.PROTECT, related_name="publicity")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=PublicityStatus.choices, default=PublicityStatus.OPEN)
    certificate_code = models.CharField(max_length=32, null=True, blank=True, unique=True)
    certified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("publicity notice")
        verbose_name_plural = _("publicity notices")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="publicity_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return str(self.deal)


class Objection(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    publicity = models.ForeignKey(Publicity, on_delete=models.PROTECT, related_name="objections")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("objection"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:50]
