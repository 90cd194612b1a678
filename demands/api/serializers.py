"""Serializers of the demands API.

Input serializers (``*CreateSerializer``, ``*UpdateSerializer``, ``*InputSerializer``) check shape and types
only; ``demands.services`` decides the rules (known codes, budgets, deadlines, NDA, one bid per organization,
sealed bids) and raises errors that ``marketplace.api.errors`` renders. Output serializers are read-only.

Confidentiality is decided by the views with ``demands.selectors`` and handed to the output serializers in
their context, never recomputed here:

- ``details`` and ``attachments`` are ``null`` unless ``selectors.demand_can_see_details`` is true for the
  caller (``can_see_details`` says which case applies). The keys are always present so that clients and the
  OpenAPI schema have one shape; the list endpoint never carries them (one query per row would be needed).
- ``proposal_count`` is the number of proposals for the owner and the staff, and ``null`` for everybody else
  and for everybody — the owner included — while a tender is sealed.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from demands.models import (
    ContactPolicy,
    Demand,
    DemandAttachment,
    DemandMode,
    DemandRevision,
    DemandStatus,
    NdaAcceptance,
    Proposal,
    ProposalAttachment,
    ProposalMessage,
    ProposalStatus,
    Question,
    RejectionReason,
)
from marketplace.api.serializers import (
    OrganizationIdNameSerializer,
    ReadOnlyModelSerializer,
    RegionBriefSerializer,
    TechnologyFieldBriefSerializer,
)
from marketplace.taxonomy import CooperationMode

# --- demands: output ---------------------------------------------------------------------------------------


class DemandListSerializer(ReadOnlyModelSerializer):
    """The public card of a demand: what the market list shows to everyone. Never the confidential details."""

    owner = OrganizationIdNameSerializer()
    field = TechnologyFieldBriefSerializer()
    sub_field = TechnologyFieldBriefSerializer(allow_null=True)
    region = RegionBriefSerializer()
    mode = serializers.ChoiceField(choices=DemandMode.choices)
    status = serializers.ChoiceField(choices=DemandStatus.choices)
    cooperation_mode = serializers.ChoiceField(choices=CooperationMode.choices)
    contact_policy = serializers.ChoiceField(choices=ContactPolicy.choices)
    url = serializers.SerializerMethodField(help_text=_("The demand's page on the website."))

    class Meta:
        model = Demand
        fields = [
            "id",
            "external_ref",
            "title",
            "summary",
            "owner",
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
            "award_amount",
            "max_winners",
            "contact_policy",
            "status",
            "published_at",
            "closed_at",
            "url",
        ]

    def get_url(self, obj) -> str:
        return reverse("demands:detail", kwargs={"pk": obj.pk})


class DemandAttachmentSerializer(ReadOnlyModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DemandAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at", "download_url"]

    def get_download_url(self, obj) -> str:
        return reverse(
            "api:demand-attachment-download", kwargs={"pk": obj.demand_id, "attachment_id": obj.pk}
        )


class DemandRevisionSerializer(ReadOnlyModelSerializer):
    """An edit of a published demand waiting for review (信息审核); the public version stays until approval."""

    status = serializers.ChoiceField(choices=DemandRevision.Status.choices)
    changes = serializers.DictField(
        help_text=_("The proposed values, by field name (codes for the field, sub-field and region).")
    )

    class Meta:
        model = DemandRevision
        fields = ["id", "demand", "status", "changes", "reason", "created_at", "decided_at"]


class DemandSerializer(DemandListSerializer):
    """One demand as the caller may see it. Context (set by the view from ``demands.selectors``):
    ``can_see_details``, ``is_owner``, ``can_manage``, ``attachments``, ``proposal_count``, ``nda_accepted``,
    ``pending_revision``."""

    details = serializers.SerializerMethodField(
        help_text=_("Confidential details; null when the caller may not see them (see can_see_details).")
    )
    attachments = serializers.SerializerMethodField(
        help_text=_("Confidential attachments; null when the caller may not see them.")
    )
    proposal_count = serializers.SerializerMethodField(
        help_text=_(
            "Proposals received (withdrawn ones excluded), for the owner and the staff only; null for others, "
            "and for everybody while a tender is sealed."
        )
    )
    can_see_details = serializers.SerializerMethodField()
    is_owner = serializers.SerializerMethodField(
        help_text=_("The caller is a member of the owner organization.")
    )
    nda_accepted = serializers.SerializerMethodField(
        help_text=_("One of the caller's verified organizations accepted this demand's NDA terms.")
    )
    pending_revision = serializers.SerializerMethodField(
        help_text=_("The edit waiting for review; shown to the owner and the staff only.")
    )
    is_sealed = serializers.BooleanField()
    accepts_proposals = serializers.BooleanField()

    class Meta(DemandListSerializer.Meta):
        fields = [
            *DemandListSerializer.Meta.fields,
            "details",
            "attachments",
            "nda_terms",
            "status_reason",
            "submitted_at",
            "awarded_at",
            "finished_at",
            "created_at",
            "updated_at",
            "is_sealed",
            "accepts_proposals",
            "proposal_count",
            "can_see_details",
            "is_owner",
            "nda_accepted",
            "pending_revision",
        ]

    def _viewer(self, key):
        return self.context[key]

    @extend_schema_field(OpenApiTypes.STR)
    def get_details(self, obj) -> str | None:
        return obj.details if self._viewer("can_see_details") else None

    @extend_schema_field(DemandAttachmentSerializer(many=True, allow_null=True))
    def get_attachments(self, obj):
        if not self._viewer("can_see_details"):
            return None
        return DemandAttachmentSerializer(self._viewer("attachments"), many=True).data

    @extend_schema_field(OpenApiTypes.INT)
    def get_proposal_count(self, obj) -> int | None:
        return self._viewer("proposal_count")

    def get_can_see_details(self, obj) -> bool:
        return self._viewer("can_see_details")

    def get_is_owner(self, obj) -> bool:
        return self._viewer("is_owner")

    def get_nda_accepted(self, obj) -> bool:
        return self._viewer("nda_accepted")

    @extend_schema_field(DemandRevisionSerializer(allow_null=True))
    def get_pending_revision(self, obj):
        revision = self._viewer("pending_revision")
        return None if revision is None else DemandRevisionSerializer(revision).data


# --- demands: input ----------------------------------------------------------------------------------------


class DemandUpdateSerializer(serializers.Serializer):
    """The editable fields (``demands.services.EDITABLE_FIELDS``); only those sent are changed."""

    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(required=False, help_text=_("Public summary."))
    details = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Confidential details (owner, staff, NDA signatories).")
    )
    field = serializers.CharField(
        max_length=64, required=False, help_text=_("Code of one of the 11 technology fields.")
    )
    sub_field = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("Code of a sub-field of the field, e.g. new_materials.polymers."),
    )
    region = serializers.CharField(max_length=6, required=False, help_text=_("GB/T 2260 region code."))
    budget_min = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text=_("Yuan.")
    )
    budget_max = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text=_("Yuan.")
    )
    budget_negotiable = serializers.BooleanField(required=False)
    deadline = serializers.DateTimeField(required=False)
    cooperation_mode = serializers.ChoiceField(choices=CooperationMode.choices, required=False)
    mode = serializers.ChoiceField(
        choices=DemandMode.choices, required=False, help_text=_("Cannot change once published.")
    )
    nda_required = serializers.BooleanField(required=False)
    nda_terms = serializers.CharField(required=False, allow_blank=True)
    award_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("Challenge award in yuan (challenges only)."),
    )
    max_winners = serializers.IntegerField(min_value=1, max_value=100, required=False)
    contact_policy = serializers.ChoiceField(choices=ContactPolicy.choices, required=False)


class DemandCreateSerializer(DemandUpdateSerializer):
    """A new demand, saved as a draft; submit it for review with the ``submit`` action."""

    owner = serializers.IntegerField(
        min_value=1, help_text=_("Id of the organization posting the demand; the caller must be its member.")
    )
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(help_text=_("Public summary."))
    field = serializers.CharField(max_length=64, help_text=_("Code of one of the 11 technology fields."))
    region = serializers.CharField(max_length=6, help_text=_("GB/T 2260 region code."))
    deadline = serializers.DateTimeField()
    cooperation_mode = serializers.ChoiceField(choices=CooperationMode.choices)


class DemandWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class AttachmentCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF, office document or image."))


# --- NDA and questions -------------------------------------------------------------------------------------

SUPPLIER_HELP = _(
    "Id of the verified organization the caller acts for; may be left out when the caller belongs to exactly "
    "one verified organization other than the owner."
)


class NdaAcceptSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1, required=False, help_text=SUPPLIER_HELP)


class NdaAcceptanceSerializer(ReadOnlyModelSerializer):
    organization = OrganizationIdNameSerializer()

    class Meta:
        model = NdaAcceptance
        fields = ["id", "demand", "organization", "terms_sha256", "created_at"]


class QuestionSerializer(ReadOnlyModelSerializer):
    """A public clarification question and its answer. Who asked is never shown."""

    class Meta:
        model = Question
        fields = ["id", "demand", "text", "answer", "answered_at", "created_at"]


class QuestionCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1, required=False, help_text=SUPPLIER_HELP)
    text = serializers.CharField(max_length=4000)


class QuestionAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=8000)


# --- proposals: output -------------------------------------------------------------------------------------


class DemandBriefSerializer(ReadOnlyModelSerializer):
    mode = serializers.ChoiceField(choices=DemandMode.choices)
    status = serializers.ChoiceField(choices=DemandStatus.choices)

    class Meta:
        model = Demand
        fields = ["id", "title", "mode", "status", "deadline"]


class ProposalAttachmentSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = ProposalAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at"]


class ProposalSerializer(ReadOnlyModelSerializer):
    """A proposal, for its bidder, and — once the bids are open — for the demand's owner and the staff."""

    demand = DemandBriefSerializer()
    supplier = OrganizationIdNameSerializer()
    status = serializers.ChoiceField(choices=ProposalStatus.choices)
    rejection_reason = serializers.ChoiceField(choices=RejectionReason.choices, allow_blank=True)
    attachments = ProposalAttachmentSerializer(many=True)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "demand",
            "supplier",
            "status",
            "approach",
            "price",
            "duration_days",
            "team",
            "attachments",
            "version",
            "commitment",
            "submitted_at",
            "decided_at",
            "rejection_reason",
            "rejection_note",
        ]


class ReceiptSerializer(serializers.Serializer):
    """A receipt of one version of a proposal. ``content`` is the canonical text the commitment is computed
    over (``sha256(content) == commitment``), including the secret nonce: keep it to prove the bid later. It is
    only available for the current version and only to the bidder."""

    version = serializers.IntegerField(read_only=True)
    commitment = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    content = serializers.CharField(read_only=True, allow_null=True)


class ProposalWithReceiptSerializer(serializers.Serializer):
    proposal = ProposalSerializer(read_only=True)
    receipt = ReceiptSerializer(read_only=True)


class DemandProposalsSerializer(serializers.Serializer):
    sealed = serializers.BooleanField(
        read_only=True, help_text=_("A tender before its close: only each bidder sees its own bid.")
    )
    count = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Number of results; null while the tender is sealed.")
    )
    results = ProposalSerializer(many=True, read_only=True)


class CommitmentSerializer(serializers.Serializer):
    receipt = serializers.CharField(read_only=True, help_text=_("<proposal id>-<version>"))
    commitment = serializers.CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    withdrawn = serializers.BooleanField(read_only=True)


class CommitmentListSerializer(serializers.Serializer):
    published = serializers.BooleanField(
        read_only=True, help_text=_("False until the demand is closed; the list is empty until then.")
    )
    results = CommitmentSerializer(many=True, read_only=True)


class ProposalAwardResultSerializer(serializers.Serializer):
    proposal = ProposalSerializer(read_only=True)
    contract = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Id of the draft contract started by the award.")
    )


class ProposalMessageSerializer(ReadOnlyModelSerializer):
    author_organization = OrganizationIdNameSerializer()

    class Meta:
        model = ProposalMessage
        fields = ["id", "author_organization", "body", "created_at"]


# --- proposals: input --------------------------------------------------------------------------------------


class ProposalUpdateSerializer(serializers.Serializer):
    """An edit: fields left out keep their current value; ``attachments``, when sent, replace the files."""

    approach = serializers.CharField(max_length=20000, required=False)
    price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("Yuan; null: negotiable."),
    )
    duration_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    team = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=_("Files (multipart/form-data).")
    )


class ProposalCreateSerializer(ProposalUpdateSerializer):
    """A bid: JSON, or multipart/form-data when it carries ``attachments``."""

    organization = serializers.IntegerField(min_value=1, required=False, help_text=SUPPLIER_HELP)
    approach = serializers.CharField(max_length=20000)
    duration_days = serializers.IntegerField(min_value=1, max_value=3650)


class ProposalRejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectionReason.choices)
    note = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, help_text=_("Required when the reason is 'other'.")
    )


class ProposalMessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=8000)


class VerifyInputSerializer(serializers.Serializer):
    content = serializers.CharField(
        trim_whitespace=False, help_text=_("The canonical content of the bid, as on the bidder's receipt.")
    )
    commitment = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", help_text=_("The SHA-256 commitment (64 hexadecimal characters).")
    )


class VerifyResultSerializer(serializers.Serializer):
    matches = serializers.BooleanField(read_only=True)


class MatchedListingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_ref = serializers.CharField(allow_null=True)
    title = serializers.CharField()


class DemandMatchSerializer(serializers.Serializer):
    """One recommended listing (SPEC §9.4); ``factors`` is the explanation as data, for other systems."""

    listing = MatchedListingSerializer()
    score = serializers.FloatField(help_text="0–1, relative to the best listing for this demand")
    explanation = serializers.CharField(help_text="Why it ranked here, in the request's language")
    factors = serializers.DictField(help_text="Shared terms, bridged concepts, field, region, mode, maturity")


class DemandMatchListSerializer(serializers.Serializer):
    results = DemandMatchSerializer(many=True)
