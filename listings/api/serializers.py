"""Serializers of the listings API.

Input serializers (``*CreateSerializer``, ``*UpdateSerializer``, ``*InputSerializer``) check shape and types
only; ``listings.services`` decides the rules (known codes, who may act, verified organizations, periods,
auction rules) and raises errors that ``marketplace.api.errors`` renders. Output serializers are read-only.

What each caller sees is decided by the views and handed over in the serializer context, never recomputed here:

- a listing's ``attachments`` are ``null`` unless the caller may open them (members of verified organizations
  and the owner side), ``pending_revision`` is ``null`` except for the owner side and the staff;
- auctions show bidders by paddle number only: no serializer here has a field for a bidder's organization
  (except the caller's own admission) nor for anybody's maximum (except the caller's own bid).
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from listings.models import (
    Auction,
    AuctionBidder,
    AuctionStatus,
    Deal,
    Intent,
    Listing,
    ListingAttachment,
    ListingRevision,
    ListingStatus,
    Objection,
    Publicity,
    PublicityStatus,
    PublicListing,
    PublicListingStatus,
)
from marketplace.api.serializers import (
    OrganizationIdNameSerializer,
    ReadOnlyModelSerializer,
    RegionBriefSerializer,
    TechnologyFieldBriefSerializer,
)
from marketplace.taxonomy import ListingType, Maturity, TransferMode

AMOUNT = {"max_digits": 14, "decimal_places": 2}

# --- listings: output ------------------------------------------------------------------------------------------


class ListingBriefSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Listing
        fields = ["id", "external_ref", "title"]


class ListingListSerializer(ReadOnlyModelSerializer):
    """The public card of a listing."""

    owner = OrganizationIdNameSerializer()
    field = TechnologyFieldBriefSerializer()
    sub_field = TechnologyFieldBriefSerializer(allow_null=True)
    region = RegionBriefSerializer()
    listing_type = serializers.ChoiceField(choices=ListingType.choices)
    maturity = serializers.ChoiceField(choices=Maturity.choices)
    transfer_modes = serializers.ListField(child=serializers.ChoiceField(choices=TransferMode.choices))
    status = serializers.ChoiceField(choices=ListingStatus.choices)
    url = serializers.SerializerMethodField(help_text=_("The listing's page on the website."))

    class Meta:
        model = Listing
        fields = [
            "id",
            "external_ref",
            "title",
            "summary",
            "owner",
            "listing_type",
            "patent_number",
            "field",
            "sub_field",
            "region",
            "maturity",
            "transfer_modes",
            "asking_price",
            "price_negotiable",
            "inventors",
            "state_funded",
            "status",
            "published_at",
            "url",
        ]

    def get_url(self, obj) -> str:
        return reverse("listings:detail", kwargs={"pk": obj.pk})


class ListingAttachmentSerializer(ReadOnlyModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ListingAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at", "download_url"]

    def get_download_url(self, obj) -> str:
        return reverse(
            "api:listing-attachment-download", kwargs={"pk": obj.listing_id, "attachment_id": obj.pk}
        )


class ListingRevisionSerializer(ReadOnlyModelSerializer):
    """An edit of a published listing waiting for review; the public version stays until it is approved."""

    status = serializers.ChoiceField(choices=ListingRevision.Status.choices)
    changes = serializers.DictField(
        help_text=_("The proposed values, by field name (codes for the field, sub-field and region).")
    )

    class Meta:
        model = ListingRevision
        fields = ["id", "listing", "status", "changes", "reason", "created_at", "decided_at"]


class ComparableDealSerializer(serializers.Serializer):
    """A completed deal for a similar technology (same field and type), nearest by text first."""

    title = serializers.CharField(read_only=True)
    listing_type = serializers.ChoiceField(choices=ListingType.choices, read_only=True)
    price = serializers.DecimalField(read_only=True, **AMOUNT)
    via = serializers.ChoiceField(choices=Deal.Via.choices, read_only=True)
    concluded_at = serializers.DateTimeField(read_only=True)
    similarity = serializers.FloatField(read_only=True, help_text=_("Text similarity from 0 to 1."))


class PublicListingBriefSerializer(ReadOnlyModelSerializer):
    status = serializers.ChoiceField(choices=PublicListingStatus.choices)

    class Meta:
        model = PublicListing
        fields = ["id", "status", "floor_price", "increment", "starts_at", "ends_at"]


class ListingSerializer(ListingListSerializer):
    """One listing as the caller may see it. Context (set by the view): ``can_manage``, ``can_see_attachments``,
    ``attachments``, ``pending_revision``, ``public_listing``, ``auction``, ``comparables``."""

    attachments = serializers.SerializerMethodField(
        help_text=_("Attachments; null unless the caller acts for a verified organization or the owner.")
    )
    is_owner = serializers.SerializerMethodField(help_text=_("The caller manages this listing."))
    pending_revision = serializers.SerializerMethodField(
        help_text=_("The edit waiting for review; shown to the owner side and the staff only.")
    )
    public_listing = serializers.SerializerMethodField(
        help_text=_("The current public listing (挂牌), if any.")
    )
    auction = serializers.SerializerMethodField(help_text=_("Id of the listing's latest auction, if any."))
    comparable_deals = serializers.SerializerMethodField(
        help_text=_("Completed deals for similar technologies: same field and type, nearest by text first.")
    )

    class Meta(ListingListSerializer.Meta):
        fields = [
            *ListingListSerializer.Meta.fields,
            "details",
            "scenarios",
            "status_reason",
            "submitted_at",
            "created_at",
            "updated_at",
            "attachments",
            "is_owner",
            "pending_revision",
            "public_listing",
            "auction",
            "comparable_deals",
        ]

    @extend_schema_field(ListingAttachmentSerializer(many=True, allow_null=True))
    def get_attachments(self, obj):
        if not self.context["can_see_attachments"]:
            return None
        return ListingAttachmentSerializer(self.context["attachments"], many=True).data

    def get_is_owner(self, obj) -> bool:
        return self.context["can_manage"]

    @extend_schema_field(ListingRevisionSerializer(allow_null=True))
    def get_pending_revision(self, obj):
        revision = self.context["pending_revision"]
        return None if revision is None else ListingRevisionSerializer(revision).data

    @extend_schema_field(PublicListingBriefSerializer(allow_null=True))
    def get_public_listing(self, obj):
        public = self.context["public_listing"]
        return None if public is None else PublicListingBriefSerializer(public).data

    @extend_schema_field(OpenApiTypes.INT)
    def get_auction(self, obj) -> int | None:
        auction = self.context["auction"]
        return None if auction is None else auction.pk

    @extend_schema_field(ComparableDealSerializer(many=True))
    def get_comparable_deals(self, obj):
        return ComparableDealSerializer(self.context["comparables"], many=True).data


# --- listings: input -------------------------------------------------------------------------------------------


class ListingUpdateSerializer(serializers.Serializer):
    """The editable fields (``listings.services.catalog.EDITABLE_FIELDS``); only those sent are changed."""

    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(required=False)
    details = serializers.CharField(required=False, allow_blank=True)
    listing_type = serializers.ChoiceField(choices=ListingType.choices, required=False)
    patent_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
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
    maturity = serializers.ChoiceField(choices=Maturity.choices, required=False)
    scenarios = serializers.CharField(required=False, allow_blank=True)
    transfer_modes = serializers.ListField(
        child=serializers.ChoiceField(choices=TransferMode.choices), required=False, min_length=1
    )
    asking_price = serializers.DecimalField(
        required=False, allow_null=True, min_value=0, help_text=_("Yuan; null: negotiable."), **AMOUNT
    )
    price_negotiable = serializers.BooleanField(required=False)
    inventors = serializers.CharField(max_length=300, required=False, allow_blank=True)
    state_funded = serializers.BooleanField(required=False)


class ListingCreateSerializer(ListingUpdateSerializer):
    """A new listing, saved as a draft; submit it for review with the ``submit`` action."""

    owner = serializers.IntegerField(
        min_value=1,
        help_text=_("Id of the organization offering the technology; the caller must be its member."),
    )
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField()
    listing_type = serializers.ChoiceField(choices=ListingType.choices)
    field = serializers.CharField(max_length=64, help_text=_("Code of one of the 11 technology fields."))
    maturity = serializers.ChoiceField(choices=Maturity.choices)
    transfer_modes = serializers.ListField(
        child=serializers.ChoiceField(choices=TransferMode.choices), min_length=1
    )


class ListingWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ListingAttachmentCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF, office document or image."))


# --- public listing and intents --------------------------------------------------------------------------------


class PublicListingSerializer(ReadOnlyModelSerializer):
    listing = ListingBriefSerializer()
    status = serializers.ChoiceField(choices=PublicListingStatus.choices)
    intent_count = serializers.IntegerField(help_text=_("Expressions of intent filed (public)."))
    auction = serializers.SerializerMethodField(help_text=_("Id of the auction, once one is scheduled."))

    class Meta:
        model = PublicListing
        fields = [
            "id",
            "listing",
            "status",
            "floor_price",
            "increment",
            "starts_at",
            "ends_at",
            "decided_at",
            "intent_count",
            "auction",
        ]

    @extend_schema_field(OpenApiTypes.INT)
    def get_auction(self, obj) -> int | None:
        auction = getattr(obj, "auction", None)
        return None if auction is None else auction.pk


class PublicListingOpenSerializer(serializers.Serializer):
    listing = serializers.IntegerField(min_value=1, help_text=_("Id of a published listing of the caller's."))
    floor_price = serializers.DecimalField(min_value=0, help_text=_("Yuan; the auction's reserve."), **AMOUNT)
    increment = serializers.DecimalField(
        min_value=0, help_text=_("Yuan; the auction's minimum raise."), **AMOUNT
    )
    days = serializers.IntegerField(min_value=1, max_value=365, help_text=_("Length of the listing period."))


class PublicListingRelistSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365)
    floor_price = serializers.DecimalField(
        min_value=0, required=False, allow_null=True, help_text=_("Yuan; left out: unchanged."), **AMOUNT
    )


class NegotiationConcludeSerializer(serializers.Serializer):
    buyer = serializers.IntegerField(min_value=1, help_text=_("Id of an organization that expressed intent."))
    price = serializers.DecimalField(min_value=0, help_text=_("The agreed price in yuan."), **AMOUNT)


class DealSerializer(ReadOnlyModelSerializer):
    listing = ListingBriefSerializer()
    buyer = OrganizationIdNameSerializer()
    via = serializers.ChoiceField(choices=Deal.Via.choices)

    class Meta:
        model = Deal
        fields = ["id", "listing", "buyer", "price", "via", "concluded_at"]


ORGANIZATION_HELP = _(
    "Id of the verified organization the caller acts for; may be left out when the caller belongs to exactly "
    "one verified organization other than the owner."
)


class IntentSerializer(ReadOnlyModelSerializer):
    organization = OrganizationIdNameSerializer()

    class Meta:
        model = Intent
        fields = ["id", "public_listing", "organization", "message", "created_at"]


class IntentCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1, required=False, help_text=ORGANIZATION_HELP)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class IntentListSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True, help_text=_("Expressions of intent filed (public)."))
    results = IntentSerializer(
        many=True,
        read_only=True,
        help_text=_(
            "All intents for the owner side and the staff; the caller's own organizations' otherwise."
        ),
    )


# --- auctions --------------------------------------------------------------------------------------------------


class PublicBidSerializer(serializers.Serializer):
    """A bid as everybody sees it: by paddle, never the organization or the maximum."""

    sequence = serializers.IntegerField(read_only=True)
    paddle = serializers.IntegerField(read_only=True)
    price_after = serializers.DecimalField(read_only=True, **AMOUNT)
    placed_at = serializers.DateTimeField(read_only=True)


class AuctionSerializer(ReadOnlyModelSerializer):
    listing = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=AuctionStatus.choices)
    leader_paddle = serializers.SerializerMethodField()
    minimum_bid = serializers.SerializerMethodField(
        help_text=_("The lowest maximum a challenger may bid now.")
    )

    class Meta:
        model = Auction
        fields = [
            "id",
            "public_listing",
            "listing",
            "status",
            "reserve",
            "increment",
            "starts_at",
            "scheduled_end",
            "ends_at",
            "extension_minutes",
            "price",
            "leader_paddle",
            "minimum_bid",
            "bid_count",
            "closed_at",
        ]

    @extend_schema_field(ListingBriefSerializer)
    def get_listing(self, obj):
        return ListingBriefSerializer(obj.public_listing.listing).data

    @extend_schema_field(OpenApiTypes.INT)
    def get_leader_paddle(self, obj) -> int | None:
        return obj.leader.paddle if obj.leader_id else None

    @extend_schema_field(serializers.DecimalField(**AMOUNT))
    def get_minimum_bid(self, obj):
        value = obj.reserve if obj.price is None else obj.price + obj.increment
        return serializers.DecimalField(**AMOUNT).to_representation(value)


class AuctionDetailSerializer(AuctionSerializer):
    bids = PublicBidSerializer(many=True, read_only=True, help_text=_("The latest 20 bids, newest first."))
    own_paddles = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text=_("The caller's own paddle numbers.")
    )
    leading = serializers.BooleanField(read_only=True, help_text=_("One of the caller's paddles leads."))

    class Meta(AuctionSerializer.Meta):
        fields = [*AuctionSerializer.Meta.fields, "bids", "own_paddles", "leading"]


class AuctionJoinSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1, required=False, help_text=ORGANIZATION_HELP)
    accept_terms = serializers.BooleanField(
        help_text=_("Must be true: the caller accepts the bidding terms.")
    )

    def validate_accept_terms(self, value):
        if not value:
            raise serializers.ValidationError(_("Accept the bidding terms to take part."))
        return value


class AuctionBidderSerializer(ReadOnlyModelSerializer):
    """The caller's own admission to an auction."""

    organization = OrganizationIdNameSerializer()

    class Meta:
        model = AuctionBidder
        fields = ["id", "auction", "paddle", "organization", "terms_sha256", "created_at"]


class AuctionTermsSerializer(serializers.Serializer):
    terms = serializers.CharField(read_only=True)
    terms_sha256 = serializers.CharField(
        read_only=True, help_text=_("SHA-256 of the binding Chinese wording.")
    )


class BidCreateSerializer(serializers.Serializer):
    maximum = serializers.DecimalField(
        min_value=0, help_text=_("The most the caller will pay; the platform bids up to it."), **AMOUNT
    )
    client_token = serializers.CharField(
        max_length=64,
        help_text=_(
            "A key chosen by the client for this bid (e.g. a UUID). Sending the same token again returns the bid "
            "already placed instead of placing a second one."
        ),
    )
    organization = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=_("Id of the bidding organization; may be left out when the caller has one paddle here."),
    )


class BidResultSerializer(serializers.Serializer):
    """The accepted bid, for its bidder (who alone sees its maximum)."""

    id = serializers.IntegerField(read_only=True)
    sequence = serializers.IntegerField(read_only=True)
    paddle = serializers.IntegerField(read_only=True)
    maximum = serializers.DecimalField(read_only=True, **AMOUNT)
    price_after = serializers.DecimalField(read_only=True, **AMOUNT)
    leader_paddle = serializers.IntegerField(read_only=True)
    leading = serializers.BooleanField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True, help_text=_("The auction's end after this bid."))
    placed_at = serializers.DateTimeField(read_only=True)


# --- publicity -------------------------------------------------------------------------------------------------


class PublicitySerializer(ReadOnlyModelSerializer):
    listing = serializers.SerializerMethodField()
    listing_type = serializers.SerializerMethodField()
    patent_number = serializers.SerializerMethodField()
    transferor = serializers.SerializerMethodField()
    transferee = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=PublicityStatus.choices)
    certificate_url = serializers.SerializerMethodField(help_text=_("The certificate PDF, once certified."))

    class Meta:
        model = Publicity
        fields = [
            "id",
            "listing",
            "listing_type",
            "patent_number",
            "transferor",
            "transferee",
            "price",
            "starts_at",
            "ends_at",
            "status",
            "certificate_code",
            "certified_at",
            "certificate_url",
        ]

    @extend_schema_field(ListingBriefSerializer)
    def get_listing(self, obj):
        return ListingBriefSerializer(obj.deal.listing).data

    @extend_schema_field(serializers.ChoiceField(choices=ListingType.choices))
    def get_listing_type(self, obj) -> str:
        return obj.deal.listing.listing_type

    def get_patent_number(self, obj) -> str:
        return obj.deal.listing.patent_number

    @extend_schema_field(OrganizationIdNameSerializer)
    def get_transferor(self, obj):
        return OrganizationIdNameSerializer(obj.deal.listing.owner).data

    @extend_schema_field(OrganizationIdNameSerializer)
    def get_transferee(self, obj):
        return OrganizationIdNameSerializer(obj.deal.buyer).data

    @extend_schema_field(serializers.DecimalField(**AMOUNT))
    def get_price(self, obj):
        return serializers.DecimalField(**AMOUNT).to_representation(obj.deal.price)

    @extend_schema_field(OpenApiTypes.STR)
    def get_certificate_url(self, obj) -> str | None:
        if obj.status != PublicityStatus.CERTIFIED:
            return None
        return reverse("api:publicity-certificate", kwargs={"pk": obj.pk})


class ObjectionSerializer(ReadOnlyModelSerializer):
    """An objection, for the user who filed it."""

    status = serializers.ChoiceField(choices=Objection.Status.choices)

    class Meta:
        model = Objection
        fields = ["id", "publicity", "text", "status", "resolution", "resolved_at", "created_at"]


class ObjectionCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
