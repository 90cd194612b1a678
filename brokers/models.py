"""The matching engine's records (SPEC §6): the segmented text of demands and listings, the experts it ranks,
the matches it keeps, and the subscriptions whose digests it feeds.

Segmented text lives here rather than on the demand and listing rows: it belongs to the engine (its dictionary,
its synonym table), and a rebuild compares ``text_hash`` to re-segment only what changed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.models import TimeStampedModel


class SegmentedText(models.Model):
    """Terms of a record's text, space-separated, in text order (the engine counts them itself).

    ``text_hash`` is the SHA-256 of the source texts and the engine's vocabulary version: when neither changed,
    the stored terms are reused as they are."""

    text_hash = models.CharField(max_length=64)
    title_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class DemandText(SegmentedText):
    demand = models.OneToOneField(
        "demands.Demand", on_delete=models.CASCADE, primary_key=True, related_name="segmented"
    )
    # The confidential details: used to rank listings for the demand's owner, never shown to suppliers.
    detail_terms = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"terms of demand {self.demand_id}"


class ListingText(SegmentedText):
    listing = models.OneToOneField(
        "listings.Listing", on_delete=models.CASCADE, primary_key=True, related_name="segmented"
    )

    def __str__(self) -> str:
        return f"terms of listing {self.listing_id}"


class Expert(TimeStampedModel):
    """A person whose knowledge a demand may need (专家库): ranked for demands by their expertise."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending vetting")
        VETTED = "vetted", _("Vetted")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=60)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="expert_profile",
    )
    organization = models.ForeignKey(
        "marketplace.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="experts",
        verbose_name=_("affiliation"),
    )
    title = models.CharField(_("professional title"), max_length=60, blank=True)
    field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": True},
        verbose_name=_("technology field"),
    )
    sub_field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sub-field"),
    )
    region = models.ForeignKey(
        "marketplace.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    expertise = models.TextField(_("expertise"), help_text=_("Research directions and technical skills."))
    achievements = models.TextField(_("achievements"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    text_hash = models.CharField(max_length=64, blank=True, editable=False)
    terms = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "vetted", "suspended"]), name="expert_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class MatchBase(models.Model):
    """A ranked pair. Each table has the unique pair's index, which leads with the side whose list it is (so
    it also serves that side's foreign key and its list, at most ``MATCHING_TOP_N`` rows sorted by rank in
    memory), and the other side's foreign-key index; a full rebuild writes millions of these rows, and every
    further index would slow each write."""

    score = models.FloatField(_("score"))
    rank = models.PositiveIntegerField(_("rank"))
    # Structured, so that the website renders it in the reader's language: shared terms, field, region, mode…
    explanation = models.JSONField(_("explanation"), default=dict)
    # A 64-bit hash of score, rank and explanation as the engine computed them (``brokers.matching``): a rerun
    # compares it instead of reading back and decoding millions of explanations.
    fingerprint = models.BigIntegerField(default=0, editable=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} #{self.rank} ({self.score:.3f})"


class ListingMatch(MatchBase):
    """A listing recommended for a demand (shown to the demand's owner, its broker and staff)."""

    demand = models.ForeignKey(
        "demands.Demand", on_delete=models.CASCADE, related_name="listing_matches", db_index=False
    )
    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="demand_matches")

    class Meta:
        ordering = ["demand", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "listing"], name="listing_match_unique_pair")
        ]


class SupplierMatch(MatchBase):
    """A supplier organization recommended for a demand, for its listings and its past awards."""

    demand = models.ForeignKey(
        "demands.Demand", on_delete=models.CASCADE, related_name="supplier_matches", db_index=False
    )
    organization = models.ForeignKey("marketplace.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["demand", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "organization"], name="supplier_match_unique_pair")
        ]


class ExpertMatch(MatchBase):
    demand = models.ForeignKey(
        "demands.Demand", on_delete=models.CASCADE, related_name="expert_matches", db_index=False
    )
    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="matches")

    class Meta:
        ordering = ["demand", "rank"]
        constraints = [models.UniqueConstraint(fields=["demand", "expert"], name="expert_match_unique_pair")]


class DemandMatch(MatchBase):
    """A published demand recommended for a listing (shown to the listing's owner), from public text only."""

    listing = models.ForeignKey(
        "listings.Listing", on_delete=models.CASCADE, related_name="listing_demand_matches", db_index=False
    )
    demand = models.ForeignKey("demands.Demand", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["listing", "rank"]
        constraints = [models.UniqueConstraint(fields=["listing", "demand"], name="demand_match_unique_pair")]


class Subscription(TimeStampedModel):
    """What a user wants to hear about: new demands and/or listings in some fields, regions, with keywords.

    ``brokers.services`` keeps the rules (known codes, normalised keywords, a cap per user); the constraints
    below hold the ones a stray write could break: at least one criterion, and distinct names per user."""

    class Kind(models.TextChoices):
        DEMANDS = "demands", _("Demands")
        LISTINGS = "listings", _("Listings")
        BOTH = "both", _("Demands and listings")

    MAX_KEYWORDS = 10
    KEYWORD_MAX_LENGTH = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(_("name"), max_length=60, blank=True)
    kind = models.CharField(_("what"), max_length=10, choices=Kind.choices, default=Kind.BOTH)
    field_codes = models.JSONField(_("technology fields"), default=list, blank=True)
    region_codes = models.JSONField(_("regions"), default=list, blank=True)
    # Normalised: distinct keywords separated by one space (the digest splits on whitespace).
    keywords = models.CharField(_("keywords"), max_length=MAX_KEYWORDS * (KEYWORD_MAX_LENGTH + 1), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["user", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["demands", "listings", "both"]), name="subscription_kind_valid"
            ),
            # A subscription without a field, a region or a keyword would send its user every new record.
            models.CheckConstraint(
                condition=~Q(field_codes=[], region_codes=[], keywords=""),
                name="subscription_has_criterion",
                violation_error_message=_("Choose at least one technology field, region or keyword."),
            ),
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=~Q(name=""),
                name="subscription_unique_name_per_user",
                violation_error_message=_("You already have a subscription with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"subscription {self.pk}"


class DigestDelivery(models.Model):
    """One digest per user and day: the daily job claims the row before sending, so a rerun sends nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest_date = models.DateField()
    demand_ids = models.JSONField(default=list)
    listing_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "digest_date"], name="digest_once_per_user_day")
        ]

    def __str__(self) -> str:
        return f"digest of {self.digest_date} for user {self.user_id}"


class RebuildRun(models.Model):
    """A full rebuild of the matches (SPEC §6), split into chunks that any number of workers process.

    Phase "texts" segments what changed; when its last chunk is done the run moves to phase "matches" (so
    every worker builds its corpora once, from final texts); when the last match chunk is done the run prunes
    matches of records no longer published and finishes. A worker that dies leaves its chunk undone: running
    ``rebuild_matches`` again resumes the run and completes it."""

    class Phase(models.TextChoices):
        TEXTS = "texts", _("Segmenting texts")
        MATCHES = "matches", _("Computing matches")
        DONE = "done", _("Done")

    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.TEXTS)
    chunk_size = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(phase__in=["texts", "matches", "done"]), name="rebuild_phase_valid"
            )
        ]

    def __str__(self) -> str:
        return f"rebuild {self.pk} ({self.phase})"


class RebuildChunk(models.Model):
    run = models.ForeignKey(RebuildRun, on_delete=models.CASCADE, related_name="chunks")
    phase = models.CharField(max_length=10)
    kind = models.CharField(max_length=10)  # "demand" or "listing"
    number = models.PositiveIntegerField()
    ids = models.JSONField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "phase", "kind", "number"], name="rebuild_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.phase} {self.kind} chunk {self.number} of run {self.run_id}"
