"""API views of the listings app (SPEC §5, §9.4): listings and their attachments, public listing (挂牌) with
intents, auctions with bids, publicity with objections and certificates.

Views are thin: parse input with an input serializer, authorize, call one service or selector, render with an
output serializer. Who may see a listing is decided by ``listings.selectors`` (``listing_list_visible_to``);
every rule of a write is in ``listings.services``, whose errors become the common error format of
``marketplace.api.errors`` (400 with the service's ``code``, e.g. ``below_increment`` with
``details.minimum``).

Status codes: 404 for listings (and what hangs off them) the caller may not see; 403 when the caller sees the
object but acts in the wrong role (not the owner side, attachments without a verified organization); 400 when
a rule refuses the request.
"""

from django.db.models import Count
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from listings import selectors, services
from listings.api import serializers as s
from listings.certificates import certificate_pdf
from listings.filters import ListingFilter
from listings.models import (
    Auction,
    AuctionBidder,
    Listing,
    ListingAttachment,
    ListingRevision,
    Publicity,
    PublicityStatus,
    PublicListing,
)
from listings.services.auctions import BIDDING_TERMS
from marketplace import selectors as core_selectors
from marketplace.exceptions import ApplicationError
from marketplace.models import Organization
from marketplace.permissions import NOT_VERIFIED_MESSAGE, can_act_as_verified

# --- helpers -----------------------------------------------------------------------------------------------


class AttachmentsRestricted(exceptions.PermissionDenied):
    default_detail = _("The attachments are shown to members of verified organizations.")
    default_code = "attachments_restricted"


def _can_manage(user, listing: Listing) -> bool:
    """The owner organization's members and the staff (what ``listings.services`` accept as the owner side)."""
    return user.is_authenticated and (user.is_staff or selectors.listing_is_owner(user=user, listing=listing))


def _require_manager(user, listing: Listing) -> None:
    """403 early with a clear message; the services check again (they are called from elsewhere too)."""
    if not _can_manage(user, listing):
        raise exceptions.PermissionDenied(_("Only members of the owner organization can do this."))


def _can_see_attachments(user, listing: Listing, *, manages: bool) -> bool:
    return manages or can_act_as_verified(user)


def _buyer_organization(user, *, owner_id: int, organization_id: int | None) -> Organization:
    """The organization a buyer or bidder acts for: the one named, or the caller's only verified organization.

    Whether the caller may act for it (member, verified, not the owner) is the service's decision.
    """
    if organization_id is not None:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise exceptions.ValidationError({"organization": [_("Unknown organization.")]})
        return organization
    candidates = list(
        core_selectors.user_verified_organizations(user=user).exclude(pk=owner_id).order_by("pk")[:2]
    )
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        message = _("You belong to several verified organizations: say which one acts here.")
    else:
        message = _("You do not act for a verified organization other than the owner.")
    raise exceptions.ValidationError({"organization": [message]})


def _visible_listing_ids(user):
    return selectors.listing_list_visible_to(user=user).values("pk")


# --- listings ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Listings visible to the caller: the public market (published and transferred), plus the "
        "caller's organizations' own in any state (staff: all)",
        description="`GET /api/v1/listings/?external_ref=…` finds a listing by its interchange reference.",
    ),
    retrieve=extend_schema(
        summary="One listing, with its current public listing and comparable prices; attachments only for "
        "members of verified organizations and the owner side (null otherwise)",
        responses=s.ListingSerializer,
    ),
)
class ListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Technology achievements (科技成果) offered for transfer, licence or equity (SPEC §5)."""

    queryset = Listing.objects.none()  # for the schema; the real one is scoped per user
    serializer_class = s.ListingListSerializer
    filterset_class = ListingFilter
    ordering_fields = ["published_at", "created_at", "asking_price", "title"]
    ordering = ["-published_at", "-id"]
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        # The region's parent is read by RegionBriefSerializer (the province of a city).
        return selectors.listing_list_visible_to(user=self.request.user).select_related("region__parent")

    def filter_queryset(self, queryset):
        # The query string filters the list only; a detail URL is never narrowed by ?status=… into a 404.
        if self.action == "list":
            return super().filter_queryset(queryset)
        return queryset

    def _viewer_context(self, listing: Listing) -> dict:
        user = self.request.user
        manages = _can_manage(user, listing)
        can_see = _can_see_attachments(user, listing, manages=manages)
        return {
            "request": self.request,
            "can_manage": manages,
            "can_see_attachments": can_see,
            "attachments": list(listing.attachments.all()) if can_see else None,
            "pending_revision": (
                listing.revisions.filter(status=ListingRevision.Status.PENDING).first() if manages else None
            ),
            "public_listing": selectors.public_listing_current(listing=listing),
            "auction": selectors.auction_for_listing(listing=listing),
            "comparables": selectors.comparable_deals(listing=listing),
        }

    def _render(self, listing: Listing, *, code=status.HTTP_200_OK) -> Response:
        listing = self.get_queryset().get(pk=listing.pk)  # fresh, with the related rows the output needs
        return Response(s.ListingSerializer(listing, context=self._viewer_context(listing)).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        listing = self.get_object()
        return Response(s.ListingSerializer(listing, context=self._viewer_context(listing)).data)

    @extend_schema(
        summary="Draft a listing for one of the caller's organizations",
        request=s.ListingCreateSerializer,
        responses={201: s.ListingSerializer},
    )
    def create(self, request):
        serializer = s.ListingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        owner = (
            core_selectors.organization_list_visible_to(user=request.user)
            .filter(pk=data.pop("owner"))
            .first()
        )
        if owner is None:
            raise exceptions.ValidationError({"owner": [_("Unknown organization.")]})
        listing = services.listing_create(owner=owner, actor=request.user, **data)
        return self._render(listing, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a listing (owner). A published listing's edit goes to review: 202 with the revision, "
        "and the public version stays until a reviewer approves it.",
        request=s.ListingUpdateSerializer,
        responses={200: s.ListingSerializer, 202: s.ListingRevisionSerializer},
    )
    def partial_update(self, request, pk=None):
        listing = self.get_object()
        _require_manager(request.user, listing)
        serializer = s.ListingUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        result = services.listing_update(listing=listing, actor=request.user, **serializer.validated_data)
        if isinstance(result, ListingRevision):
            return Response(s.ListingRevisionSerializer(result).data, status=status.HTTP_202_ACCEPTED)
        return self._render(result)

    @extend_schema(
        summary="Send a draft (or a corrected rejected listing) to review (owner; verified organizations only)",
        request=None,
        responses=s.ListingSerializer,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        listing = self.get_object()
        _require_manager(request.user, listing)
        return self._render(services.listing_submit(listing=listing, actor=request.user))

    @extend_schema(
        summary="Withdraw the listing (owner); not while it is in negotiation or auction",
        request=s.ListingWithdrawSerializer,
        responses=s.ListingSerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        listing = self.get_object()
        _require_manager(request.user, listing)
        serializer = s.ListingWithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.listing_withdraw(
            listing=listing, actor=request.user, reason=serializer.validated_data.get("reason", "")
        )
        return self._render(listing)

    @extend_schema(
        methods=["GET"],
        summary="Attachments (members of verified organizations and the owner side; 403 otherwise)",
        responses=s.ListingAttachmentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload an attachment (owner)",
        request={"multipart/form-data": s.ListingAttachmentCreateSerializer},
        responses={201: s.ListingAttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
    )
    def attachments(self, request, pk=None):
        listing = self.get_object()
        manages = _can_manage(request.user, listing)
        if request.method == "POST":
            _require_manager(request.user, listing)
            serializer = s.ListingAttachmentCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            attachment = services.listing_attachment_add(
                listing=listing, actor=request.user, uploaded=serializer.validated_data["file"]
            )
            return Response(s.ListingAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)
        if not _can_see_attachments(request.user, listing, manages=manages):
            raise AttachmentsRestricted
        return Response(s.ListingAttachmentSerializer(listing.attachments.all(), many=True).data)

    @extend_schema(
        summary="Download an attachment (members of verified organizations and the owner side)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)")
    def attachment_download(self, request, pk=None, attachment_id=None):
        listing = self.get_object()
        attachment = get_object_or_404(ListingAttachment, pk=attachment_id, listing=listing)
        if not _can_see_attachments(request.user, listing, manages=_can_manage(request.user, listing)):
            raise AttachmentsRestricted
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


# --- public listings and intents ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Public listings (挂牌) of the listings the caller can see, newest first"),
    retrieve=extend_schema(summary="One public listing, with the number of intents and its auction"),
)
class PublicListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A listing put up for a period with a floor price; verified buyers express intent (SPEC §5)."""

    queryset = PublicListing.objects.none()
    serializer_class = s.PublicListingSerializer
    ordering_fields = ["starts_at", "ends_at", "floor_price"]
    ordering = ["-starts_at", "-id"]
    filterset_fields = ["status", "listing"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return (
            PublicListing.objects.filter(listing_id__in=_visible_listing_ids(self.request.user))
            .select_related("listing", "auction")
            .annotate(intent_count=Count("intents"))
        )

    def _render(self, public: PublicListing, *, code=status.HTTP_200_OK) -> Response:
        public = self.get_queryset().get(pk=public.pk)
        return Response(s.PublicListingSerializer(public).data, status=code)

    @extend_schema(
        summary="Put a published listing up for public listing (owner of a verified organization)",
        request=s.PublicListingOpenSerializer,
        responses={201: s.PublicListingSerializer},
    )
    def create(self, request):
        serializer = s.PublicListingOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        listing = selectors.listing_get_for_user(user=request.user, pk=data.pop("listing"))
        _require_manager(request.user, listing)
        public = services.public_listing_open(listing=listing, actor=request.user, **data)
        return self._render(public, code=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="The number of intents (everyone); the intents themselves for the owner side and the staff, "
        "the caller's own organizations' for anybody else",
        responses=s.IntentListSerializer,
    )
    @extend_schema(
        methods=["POST"],
        summary="Express an intent to acquire (意向受让): verified buyers, during the listing period",
        request=s.IntentCreateSerializer,
        responses={201: s.IntentSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def intents(self, request, pk=None):
        public = self.get_object()
        if request.method == "POST":
            if not request.user.is_authenticated:
                raise exceptions.NotAuthenticated
            if not can_act_as_verified(request.user):
                raise exceptions.PermissionDenied(NOT_VERIFIED_MESSAGE)
            serializer = s.IntentCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            organization = _buyer_organization(
                request.user,
                owner_id=public.listing.owner_id,
                organization_id=serializer.validated_data.get("organization"),
            )
            intent = services.intent_file(
                public_listing=public,
                organization=organization,
                actor=request.user,
                message=serializer.validated_data.get("message", ""),
            )
            return Response(s.IntentSerializer(intent).data, status=status.HTTP_201_CREATED)
        intents = public.intents.select_related("organization")
        if not request.user.is_authenticated:
            intents = []
        elif not _can_manage(request.user, public.listing):
            member_orgs = core_selectors.user_memberships(user=request.user).values("organization_id")
            intents = intents.filter(organization_id__in=member_orgs)
        return Response(s.IntentListSerializer({"count": public.intent_count, "results": intents}).data)

    @extend_schema(
        summary="List again after a period without intent (owner), possibly at a new floor price",
        request=s.PublicListingRelistSerializer,
        responses={201: s.PublicListingSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def relist(self, request, pk=None):
        public = self.get_object()
        _require_manager(request.user, public.listing)
        serializer = s.PublicListingRelistSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = services.public_listing_relist(
            public_listing=public,
            actor=request.user,
            days=serializer.validated_data["days"],
            floor_price=serializer.validated_data.get("floor_price"),
        )
        return self._render(new, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw the public listing while open or after a period without intent (owner)",
        request=None,
        responses=s.PublicListingSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def withdraw(self, request, pk=None):
        public = self.get_object()
        _require_manager(request.user, public.listing)
        return self._render(services.public_listing_withdraw(public_listing=public, actor=request.user))

    @extend_schema(
        summary="Record the agreement reached in negotiation with a buyer that expressed intent (owner); "
        "the deal starts a draft contract and, for a state-funded result, a publicity notice",
        request=s.NegotiationConcludeSerializer,
        responses={201: s.DealSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def conclude(self, request, pk=None):
        public = self.get_object()
        _require_manager(request.user, public.listing)
        serializer = s.NegotiationConcludeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        buyer = Organization.objects.filter(pk=serializer.validated_data["buyer"]).first()
        if buyer is None:
            raise exceptions.ValidationError({"buyer": [_("Unknown organization.")]})
        deal = services.negotiation_conclude(
            public_listing=public, actor=request.user, buyer=buyer, price=serializer.validated_data["price"]
        )
        return Response(s.DealSerializer(deal).data, status=status.HTTP_201_CREATED)


# --- auctions ----------------------------------------------------------------------------------------------


def _own_paddles(user, auction_id: int) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(
        AuctionBidder.objects.filter(auction_id=auction_id, organization__memberships__user=user)
        .order_by("paddle")
        .values_list("paddle", flat=True)
    )


@extend_schema_view(
    list=extend_schema(summary="Auctions of the listings the caller can see, the latest end first"),
)
class AuctionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """English ascending auctions with proxy bids and a soft close (SPEC §5). Bidders appear by paddle only."""

    queryset = Auction.objects.none()
    serializer_class = s.AuctionSerializer
    ordering_fields = ["ends_at", "starts_at"]
    ordering = ["-ends_at", "-id"]
    filterset_fields = ["status"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return Auction.objects.filter(
            public_listing__listing_id__in=_visible_listing_ids(self.request.user)
        ).select_related("public_listing__listing", "leader")

    @extend_schema(
        summary="The live state of one auction: price, minimum next bid, leading paddle, end (moved by the "
        "soft close) and the latest bids by paddle — never organizations or maximums",
        responses=s.AuctionDetailSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        auction = self.get_object()
        data = s.AuctionSerializer(auction).data
        state = services.auction_public_state(auction=auction)
        own = _own_paddles(request.user, auction.pk)
        data.update(
            status=state["status"],
            price=state["price"],
            leader_paddle=state["leader_paddle"],
            minimum_bid=state["minimum_bid"],
            bid_count=state["bid_count"],
            ends_at=state["ends_at"],
            bids=state["bids"],
            own_paddles=own,
            leading=state["leader_paddle"] in own if own else False,
        )
        return Response(data)

    @extend_schema(
        summary="The bidding terms a bidder accepts when joining",
        request=None,
        responses=s.AuctionTermsSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def terms(self, request, pk=None):
        self.get_object()
        return Response({"terms": str(BIDDING_TERMS), "terms_sha256": services.terms_digest()})

    @extend_schema(
        summary="Accept the bidding terms for a verified organization and get its paddle number "
        "(idempotent: joining again returns the same paddle)",
        request=s.AuctionJoinSerializer,
        responses={201: s.AuctionBidderSerializer},
    )
    @action(
        detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated], filter_backends=[]
    )
    def join(self, request, pk=None):
        auction = self.get_object()
        if not can_act_as_verified(request.user):
            raise exceptions.PermissionDenied(NOT_VERIFIED_MESSAGE)
        serializer = s.AuctionJoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = _buyer_organization(
            request.user,
            owner_id=auction.public_listing.listing.owner_id,
            organization_id=serializer.validated_data.get("organization"),
        )
        bidder = services.auction_join(auction=auction, organization=organization, actor=request.user)
        bidder.organization = organization
        return Response(s.AuctionBidderSerializer(bidder).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Place a bid: a maximum the platform bids up to (proxy). Idempotent on client_token.",
        description=(
            "Refusals are 400 with the rule's code: `below_reserve`, `below_increment`, `not_above_own_max`, "
            "`closed` (the end has passed), `not_running` (not started or already closed), `terms_not_accepted`, "
            "`not_verified`, `not_member`; price refusals carry `details.minimum`, the lowest maximum accepted "
            "now."
        ),
        request=s.BidCreateSerializer,
        responses={201: s.BidResultSerializer, 400: OpenApiResponse(description="The bid was refused.")},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permissions.IsAuthenticated],
        filter_backends=[],
        pagination_class=None,
    )
    def bids(self, request, pk=None):
        """The hot path (benchmarked at ≥200 bids/s, 50 concurrent bidders): no ``get_object()``, no
        serializer on the way out. The service finds the caller's paddle (or the named organization's) and
        locks the auction row itself; the auction and organization go to it as primary-key-only instances."""
        serializer = s.BidCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization_id = data.get("organization")
        try:
            bid = services.auction_bid(
                auction=Auction(pk=int(pk)),
                organization=None if organization_id is None else Organization(pk=organization_id),
                actor=request.user,
                maximum=data["maximum"],
                client_token=data["client_token"],
            )
        except Auction.DoesNotExist:
            raise exceptions.NotFound from None
        except ApplicationError as exc:
            if exc.code == "several_paddles":
                raise exceptions.ValidationError({"organization": [exc.message]}) from None
            raise
        body = {
            "id": bid.pk,
            "sequence": bid.sequence,
            "paddle": bid.bidder.paddle,
            "maximum": f"{bid.maximum:.2f}",
            "price_after": f"{bid.price_after:.2f}",
            "leader_paddle": bid.leader_after.paddle,
            "leading": bid.leader_after_id == bid.bidder_id,
            "ends_at": bid.ends_at_after.isoformat(),
            "placed_at": bid.placed_at.isoformat(),
        }
        return Response(body, status=status.HTTP_201_CREATED)


# --- publicity ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Publicity notices (成果转化公示) of transferred state-funded results: parties, technology, price",
    ),
    retrieve=extend_schema(summary="One publicity notice"),
)
class PublicityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Publicity.objects.none()
    serializer_class = s.PublicitySerializer
    ordering_fields = ["starts_at", "ends_at", "certified_at"]
    ordering = ["-starts_at", "-id"]
    filterset_fields = ["status"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return Publicity.objects.select_related(
            "deal", "deal__listing", "deal__listing__owner", "deal__buyer"
        )

    @extend_schema(
        methods=["GET"],
        summary="The objections the caller filed to this notice (staff: all of them)",
        responses=s.ObjectionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="File an objection during the publicity period (any logged-in user)",
        request=s.ObjectionCreateSerializer,
        responses={201: s.ObjectionSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[permissions.IsAuthenticated],
        filter_backends=[],
        pagination_class=None,
    )
    def objections(self, request, pk=None):
        publicity = self.get_object()
        if request.method == "GET":
            objections = publicity.objections.order_by("created_at", "pk")
            if not request.user.is_staff:
                objections = objections.filter(filed_by=request.user)
            return Response(s.ObjectionSerializer(objections, many=True).data)
        serializer = s.ObjectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        objection = services.objection_file(
            publicity=publicity, actor=request.user, text=serializer.validated_data["text"]
        )
        return Response(s.ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The no-objection certificate (公示无异议证明) as PDF, once certified (anyone)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        auth=[],
    )
    @action(detail=True, methods=["get"], permission_classes=[permissions.AllowAny], filter_backends=[])
    def certificate(self, request, pk=None):
        publicity = self.get_object()
        if publicity.status != PublicityStatus.CERTIFIED:
            raise exceptions.NotFound(_("This notice has no certificate (yet)."))
        response = HttpResponse(certificate_pdf(publicity), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="publicity-certificate-{publicity.certificate_code}.pdf"'
        )
        return response

    @extend_schema(
        summary="Verify a certificate code (anyone): the certified notice, or 404",
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: s.PublicitySerializer},
        auth=[],
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"verify/(?P<code>[0-9A-Za-z]+)",
        permission_classes=[permissions.AllowAny],
        filter_backends=[],
        pagination_class=None,
    )
    def verify(self, request, code=None):
        publicity = selectors.publicity_by_code(code=code)
        if publicity is None:
            raise exceptions.NotFound(_("No certificate has this code."))
        return Response(s.PublicitySerializer(publicity).data)


__all__ = ["AuctionViewSet", "ListingViewSet", "PublicListingViewSet", "PublicityViewSet"]
