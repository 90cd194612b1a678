"""API views of the demands app (SPEC §4, §9.4): demands, their attachments, NDA, questions, proposals/bids,
commitments, the CSV export and the commitment check.

Views are thin: parse input with an input serializer, authorize, call one service or selector, render with an
output serializer. Who may see what is decided by ``demands.selectors`` only (``demand_can_see_details``,
``proposal_list_for_demand``, ``proposal_count_visible``); the rules of every write are in
``demands.services``, whose errors become the common error format of ``marketplace.api.errors``.

Status codes: 404 for demands and proposals the caller may not see (their existence is not revealed); 403 when
the caller sees the object but acts in the wrong role (not the owner, not the bidder, not a verified
organization, or confidential attachments); 400 with the service's ``code`` when a rule refuses the request
(``bad_state``, ``deadline_passed``, ``duplicate``, ``nda_required``, ``own_demand``, ``not_verified``…).
"""

import csv

import django_filters
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from brokers import selectors as broker_selectors
from brokers.explain import explanation_text
from demands import selectors, services
from demands.api import serializers as s
from demands.filters import DemandFilter
from demands.models import (
    Demand,
    DemandAttachment,
    DemandRevision,
    DemandStatus,
    Proposal,
    ProposalStatus,
    Question,
)
from demands.selectors import LIST_DEFERRED
from marketplace import selectors as core_selectors
from marketplace.api.pagination import LongListPagination
from marketplace.exceptions import ApplicationError
from marketplace.models import Organization
from marketplace.permissions import NOT_VERIFIED_MESSAGE, can_act_as_verified

S = DemandStatus

# Statuses after the close: the proposals' commitments are published to the bidders and the owner.
AFTER_CLOSE = (S.CLOSED, S.AWARDED, S.CONTRACTED, S.SOLVED, S.EXPIRED)


# --- helpers -----------------------------------------------------------------------------------------------


class DetailsConfidential(exceptions.PermissionDenied):
    default_detail = gettext_lazy("The confidential details of this demand are not available to you.")
    default_code = "confidential"


def _can_manage(user, demand: Demand) -> bool:
    """The owner organization's members and the staff (what ``demands.services`` accept as the owner side)."""
    return user.is_authenticated and (user.is_staff or selectors.demand_is_owner(user=user, demand=demand))


def _require_manager(user, demand: Demand) -> None:
    """403 early with a clear message; the services check again (they are called from elsewhere too)."""
    if not _can_manage(user, demand):
        raise exceptions.PermissionDenied(_("Only members of the owner organization can do this."))


def _require_verified(user) -> None:
    if not can_act_as_verified(user):
        raise exceptions.PermissionDenied(NOT_VERIFIED_MESSAGE)


def _is_bidder(user, proposal: Proposal) -> bool:
    return core_selectors.membership_get(user=user, organization=proposal.supplier) is not None


def _require_bidder(user, proposal: Proposal) -> None:
    if not _is_bidder(user, proposal):
        raise exceptions.PermissionDenied(_("Only members of the bidding organization can do this."))


def _supplier_organization(user, demand: Demand, organization_id: int | None) -> Organization:
    """The organization a supplier acts for: the one named, or the caller's only verified organization.

    Whether the caller may act for it (member, verified, not the owner) is the service's decision.
    """
    if organization_id is not None:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise exceptions.ValidationError({"organization": [_("Unknown organization.")]})
        return organization
    candidates = list(
        core_selectors.user_verified_organizations(user=user).exclude(pk=demand.owner_id).order_by("pk")[:2]
    )
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        message = _("You belong to several verified organizations: say which one acts here.")
    else:
        message = _("You do not act for a verified organization other than the owner.")
    raise exceptions.ValidationError({"organization": [message]})


def _proposal_queryset():
    return Proposal.objects.select_related("demand", "supplier").prefetch_related("attachments")


def _receipt_data(proposal: Proposal, receipt) -> dict:
    current = receipt.version == proposal.version
    return {
        "version": receipt.version,
        "commitment": receipt.commitment,
        "created_at": receipt.created_at,
        "content": services.proposal_content(proposal) if current else None,
    }


class CSVRenderer(renderers.BaseRenderer):
    """Lets ``?format=csv`` select the export; the export streams its own rows (errors are JSON)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def _csv_cell(value) -> str:
    # A cell starting with = + - @ is a formula in spreadsheets; quote it so that an export never runs code.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


EXPORT_COLUMNS = [
    "id",
    "external_ref",
    "title",
    "summary",
    "owner",
    "field",
    "field_name",
    "sub_field",
    "region",
    "region_name",
    "budget_min",
    "budget_max",
    "budget_negotiable",
    "deadline",
    "cooperation_mode",
    "mode",
    "nda_required",
    "award_amount",
    "status",
    "published_at",
    "url",
]


def _export_row(request, demand: Demand) -> list:
    def iso(value):
        return timezone.localtime(value).isoformat() if value else ""

    return [
        demand.pk,
        _csv_cell(demand.external_ref),
        _csv_cell(demand.title),
        _csv_cell(demand.summary),
        _csv_cell(demand.owner.name),
        demand.field_id,
        demand.field.name,
        demand.sub_field_id or "",
        demand.region_id,
        demand.region.full_name,
        demand.budget_min if demand.budget_min is not None else "",
        demand.budget_max if demand.budget_max is not None else "",
        "true" if demand.budget_negotiable else "false",
        iso(demand.deadline),
        demand.cooperation_mode,
        demand.mode,
        "true" if demand.nda_required else "false",
        demand.award_amount if demand.award_amount is not None else "",
        demand.status,
        iso(demand.published_at),
        request.build_absolute_uri(reverse("demands:detail", kwargs={"pk": demand.pk})),
    ]


# --- demands -----------------------------------------------------------------------------------------------

PROPOSAL_CREATE_REQUEST = {
    "application/json": s.ProposalCreateSerializer,
    "multipart/form-data": s.ProposalCreateSerializer,
}
PROPOSAL_UPDATE_REQUEST = {
    "application/json": s.ProposalUpdateSerializer,
    "multipart/form-data": s.ProposalUpdateSerializer,
}


@extend_schema_view(
    list=extend_schema(
        summary="Demands visible to the caller: the public market, plus the caller's organizations' own "
        "(staff: all). Public cards only; the confidential details are on the detail endpoint.",
        description="`GET /api/v1/demands/?external_ref=…` finds a demand by its interchange reference.",
    ),
    retrieve=extend_schema(
        summary="One demand; details and attachments only for those allowed to see them (null otherwise)",
        responses=s.DemandSerializer,
    ),
)
class DemandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Technical problems (技术难题), sealed tenders (招标) and challenges (SPEC §4)."""

    queryset = Demand.objects.none()  # for the schema; the real one is scoped per user
    serializer_class = s.DemandListSerializer
    filterset_class = DemandFilter
    ordering_fields = ["published_at", "deadline", "created_at", "budget_max", "title"]
    ordering = ["-published_at", "-id"]
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    pagination_class = LongListPagination

    def get_queryset(self):
        queryset = selectors.demand_list_visible_to(user=self.request.user)
        if self.action == "list":
            # Lists never show these; a large sort carries less without them.
            queryset = queryset.defer(*LIST_DEFERRED)
        return queryset

    def filter_queryset(self, queryset):
        # The query string filters the lists only; a detail URL is never narrowed by ?status=… into a 404.
        if self.action in ("list", "export"):
            return super().filter_queryset(queryset)
        return queryset

    def get_renderers(self):
        if getattr(self, "action", None) == "export":
            return [CSVRenderer(), renderers.JSONRenderer()]
        return super().get_renderers()

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if getattr(self, "action", None) == "export":
            # Errors of the export (a bad filter value) are the usual JSON error, whatever was negotiated.
            self.request.accepted_renderer = renderers.JSONRenderer()
            self.request.accepted_media_type = "application/json"
        return response

    def _viewer_context(self, demand: Demand) -> dict:
        user = self.request.user
        can_see_details = selectors.demand_can_see_details(user=user, demand=demand)
        can_manage = _can_manage(user, demand)
        return {
            "request": self.request,
            "can_see_details": can_see_details,
            "is_owner": selectors.demand_is_owner(user=user, demand=demand),
            "attachments": list(demand.attachments.all()) if can_see_details else None,
            "proposal_count": (
                selectors.proposal_count_visible(user=user, demand=demand) if can_manage else None
            ),
            "nda_accepted": bool(
                demand.nda_required
                and user.is_authenticated
                and selectors.demand_nda_accepted(user=user, demand=demand)
            ),
            "pending_revision": (
                demand.revisions.filter(status=DemandRevision.Status.PENDING).first() if can_manage else None
            ),
        }

    def _render(self, demand: Demand, *, code=status.HTTP_200_OK) -> Response:
        demand = self.get_queryset().get(pk=demand.pk)  # fresh, with the related rows the output needs
        return Response(s.DemandSerializer(demand, context=self._viewer_context(demand)).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        demand = self.get_object()
        return Response(s.DemandSerializer(demand, context=self._viewer_context(demand)).data)

    @extend_schema(
        summary="Draft a demand for one of the caller's organizations",
        request=s.DemandCreateSerializer,
        responses={201: s.DemandSerializer},
    )
    def create(self, request):
        serializer = s.DemandCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        owner = (
            core_selectors.organization_list_visible_to(user=request.user)
            .filter(pk=data.pop("owner"))
            .first()
        )
        if owner is None:
            raise exceptions.ValidationError({"owner": [_("Unknown organization.")]})
        demand = services.demand_create(owner=owner, actor=request.user, **data)
        return self._render(demand, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a demand (owner). A published demand's edit goes to review: 202 with the revision, "
        "and the public version stays until a reviewer approves it.",
        request=s.DemandUpdateSerializer,
        responses={200: s.DemandSerializer, 202: s.DemandRevisionSerializer},
    )
    def partial_update(self, request, pk=None):
        demand = self.get_object()
        _require_manager(request.user, demand)
        serializer = s.DemandUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        result = services.demand_update(demand=demand, actor=request.user, **serializer.validated_data)
        if isinstance(result, DemandRevision):
            return Response(s.DemandRevisionSerializer(result).data, status=status.HTTP_202_ACCEPTED)
        return self._render(result)

    # --- lifecycle ---

    @extend_schema(
        summary="Send a draft (or a corrected rejected demand) to review (owner)",
        request=None,
        responses=s.DemandSerializer,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        demand = self.get_object()
        _require_manager(request.user, demand)
        return self._render(services.demand_submit(demand=demand, actor=request.user))

    @extend_schema(
        summary="Withdraw the demand (owner); bidders are told",
        request=s.DemandWithdrawSerializer,
        responses=s.DemandSerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        demand = self.get_object()
        _require_manager(request.user, demand)
        serializer = s.DemandWithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        demand = services.demand_withdraw(
            demand=demand, actor=request.user, reason=serializer.validated_data.get("reason", "")
        )
        return self._render(demand)

    @extend_schema(
        summary="Close the published demand now (owner); the deadline job closes the others",
        request=None,
        responses=s.DemandSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        demand = self.get_object()
        _require_manager(request.user, demand)
        if not services.demand_close(demand=demand, actor=request.user):
            raise ApplicationError(_("Only a published demand can be closed."), code="bad_state")
        return self._render(demand)

    # --- matches (SPEC §9.4) ---

    @extend_schema(
        summary="Listings recommended for the demand, in rank order (owner, assigned broker and staff; 404 "
        "for everyone else)",
        parameters=[
            OpenApiParameter("limit", int, description="How many, 1–100 (default 10)."),
        ],
        responses=s.DemandMatchListSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def matches(self, request, pk=None):
        demand = self.get_object()
        if not broker_selectors.demand_matches_visible_to(user=request.user, demand=demand):
            raise exceptions.NotFound
        try:
            limit = int(request.query_params.get("limit", 10))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise exceptions.ValidationError({"limit": [_("Give a whole number from 1 to 100.")]})
        rows = broker_selectors.listing_matches_for_demand(demand=demand, limit=limit)
        return Response(
            {
                "results": [
                    {
                        "listing": {
                            "id": row.listing_id,
                            "external_ref": row.listing.external_ref,
                            "title": row.listing.title,
                        },
                        "score": round(row.score, 4),
                        "explanation": explanation_text(row.explanation),
                        "factors": row.explanation,
                    }
                    for row in rows
                ]
            }
        )

    # --- confidential attachments ---

    @extend_schema(
        methods=["GET"],
        summary="Confidential attachments (those who may see the details; 403 otherwise)",
        responses=s.DemandAttachmentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload an attachment (owner)",
        request={"multipart/form-data": s.AttachmentCreateSerializer},
        responses={201: s.DemandAttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
    )
    def attachments(self, request, pk=None):
        demand = self.get_object()
        if request.method == "POST":
            _require_manager(request.user, demand)
            serializer = s.AttachmentCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            attachment = services.demand_attachment_add(
                demand=demand, actor=request.user, uploaded=serializer.validated_data["file"]
            )
            return Response(s.DemandAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)
        if not selectors.demand_can_see_details(user=request.user, demand=demand):
            raise DetailsConfidential
        return Response(s.DemandAttachmentSerializer(demand.attachments.all(), many=True).data)

    @extend_schema(
        summary="Download a confidential attachment (those who may see the details)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)")
    def attachment_download(self, request, pk=None, attachment_id=None):
        demand = self.get_object()
        attachment = get_object_or_404(DemandAttachment, pk=attachment_id, demand=demand)
        if not selectors.demand_can_see_details(user=request.user, demand=demand):
            raise DetailsConfidential
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )

    # --- suppliers: NDA, questions, proposals ---

    @extend_schema(
        summary="Accept the demand's NDA terms for a verified supplier organization",
        request=s.NdaAcceptSerializer,
        responses={201: s.NdaAcceptanceSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def nda(self, request, pk=None):
        demand = self.get_object()
        _require_verified(request.user)
        serializer = s.NdaAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = _supplier_organization(
            request.user, demand, serializer.validated_data.get("organization")
        )
        acceptance = services.nda_accept(demand=demand, organization=organization, actor=request.user)
        return Response(s.NdaAcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="Public clarification questions and answers (who asked is never shown)",
        responses=s.QuestionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Ask a public clarification question (verified suppliers, before the deadline)",
        request=s.QuestionCreateSerializer,
        responses={201: s.QuestionSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def questions(self, request, pk=None):
        demand = self.get_object()
        if request.method == "POST":
            _require_verified(request.user)
            serializer = s.QuestionCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            organization = _supplier_organization(
                request.user, demand, serializer.validated_data.get("organization")
            )
            question = services.question_ask(
                demand=demand,
                organization=organization,
                actor=request.user,
                text=serializer.validated_data["text"],
            )
            return Response(s.QuestionSerializer(question).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.question_list(demand=demand))
        return self.get_paginated_response(s.QuestionSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The proposals the caller may read: the owner and the staff see all (not withdrawn) once "
        "the bids are open; a bidder sees its own; on a sealed tender nobody but each bidder sees anything, "
        "not even the count",
        responses=s.DemandProposalsSerializer,
    )
    @extend_schema(
        methods=["POST"],
        summary="Submit a proposal (verified suppliers; NDA first when required). Returns the receipt with "
        "the SHA-256 commitment and the content it was computed over.",
        request=PROPOSAL_CREATE_REQUEST,
        responses={201: s.ProposalWithReceiptSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[JSONParser, MultiPartParser, FormParser],
        pagination_class=None,
    )
    def proposals(self, request, pk=None):
        demand = self.get_object()
        if request.method == "POST":
            _require_verified(request.user)
            serializer = s.ProposalCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            supplier = _supplier_organization(request.user, demand, data.pop("organization", None))
            proposal, receipt = services.proposal_submit(
                demand=demand, supplier=supplier, actor=request.user, **data
            )
            proposal = _proposal_queryset().get(pk=proposal.pk)
            body = {"proposal": proposal, "receipt": _receipt_data(proposal, receipt)}
            return Response(s.ProposalWithReceiptSerializer(body).data, status=status.HTTP_201_CREATED)
        proposals = list(
            selectors.proposal_list_for_demand(user=request.user, demand=demand)
            .select_related("demand")
            .prefetch_related("attachments")
        )
        body = {
            "sealed": demand.is_sealed,
            "count": None if demand.is_sealed else len(proposals),
            "results": proposals,
        }
        return Response(s.DemandProposalsSerializer(body).data)

    @extend_schema(
        summary="The published commitments of every bid, after the close (the owner, the staff and bidders), "
        "so that each bidder can check that nothing changed after the deadline",
        responses=s.CommitmentListSerializer,
    )
    @action(detail=True, methods=["get"], permission_classes=[permissions.IsAuthenticated])
    def commitments(self, request, pk=None):
        demand = self.get_object()
        user = request.user
        if not (
            _can_manage(user, demand) or selectors.proposal_list_for_demand(user=user, demand=demand).exists()
        ):
            raise exceptions.PermissionDenied(
                _("The commitments are published to the bidders and the owner.")
            )
        published = demand.status in AFTER_CLOSE and not demand.is_sealed
        rows = selectors.commitments_published(demand=demand) if published else []
        return Response(s.CommitmentListSerializer({"published": published, "results": rows}).data)

    # --- export ---

    @extend_schema(
        summary="The filtered list as CSV (UTF-8 with BOM), public columns only",
        description="Columns: " + ", ".join(EXPORT_COLUMNS) + ". Same filters and ordering as the list.",
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file")},
        filters=True,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request, format=None):  # noqa: A002 (DRF passes the .csv suffix as "format")
        queryset = self.filter_queryset(self.get_queryset())
        writer = csv.writer(_Echo())

        def rows():
            yield "\ufeff"  # so that spreadsheet programs read the Chinese text as UTF-8
            yield writer.writerow(EXPORT_COLUMNS)
            for demand in queryset.iterator(chunk_size=500):
                yield writer.writerow(_export_row(request, demand))

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="demands.csv"'
        return response


# --- proposals ---------------------------------------------------------------------------------------------


class ProposalFilter(django_filters.FilterSet):
    demand = django_filters.NumberFilter(field_name="demand_id")
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)

    class Meta:
        model = Proposal
        fields = ["demand", "status"]


@extend_schema_view(
    list=extend_schema(
        summary="The caller's proposals: its organizations' own bids, and the bids its organizations "
        "received once they are open (never a sealed tender's)"
    ),
    retrieve=extend_schema(summary="One proposal; 404 when the caller may not read it"),
)
class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Proposal.objects.none()
    serializer_class = s.ProposalSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = ProposalFilter
    ordering_fields = ["submitted_at", "decided_at"]
    ordering = ["-submitted_at", "-id"]
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]  # PATCH may carry new attachments

    def get_queryset(self):
        return (
            selectors.proposal_list_visible_to(user=self.request.user)
            .select_related("demand", "supplier")
            .prefetch_related("attachments")
        )

    def get_object(self):
        # The per-demand rule itself decides (sealed bids, withdrawn ones, own organization's).
        proposal = selectors.proposal_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        return _proposal_queryset().get(pk=proposal.pk)

    def _render(self, proposal: Proposal, *, code=status.HTTP_200_OK) -> Response:
        return Response(s.ProposalSerializer(_proposal_queryset().get(pk=proposal.pk)).data, status=code)

    @extend_schema(
        summary="Edit the proposal before the deadline (bidder): a new version with a new receipt",
        request=PROPOSAL_UPDATE_REQUEST,
        responses=s.ProposalWithReceiptSerializer,
    )
    def partial_update(self, request, pk=None):
        proposal = self.get_object()
        _require_bidder(request.user, proposal)
        serializer = s.ProposalUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {
            "approach": proposal.approach,
            "price": proposal.price,
            "duration_days": proposal.duration_days,
            "team": proposal.team,
            "attachments": None,  # keep the current files unless new ones are sent
            **serializer.validated_data,
        }
        proposal, receipt = services.proposal_update(proposal=proposal, actor=request.user, **data)
        proposal = _proposal_queryset().get(pk=proposal.pk)
        body = {"proposal": proposal, "receipt": _receipt_data(proposal, receipt)}
        return Response(s.ProposalWithReceiptSerializer(body).data)

    @extend_schema(summary="Withdraw the proposal before the deadline (bidder)", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def withdraw(self, request, pk=None):
        proposal = self.get_object()
        _require_bidder(request.user, proposal)
        return self._render(services.proposal_withdraw(proposal=proposal, actor=request.user))

    @extend_schema(summary="Shortlist the proposal (owner, once the bids are open)", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def shortlist(self, request, pk=None):
        proposal = self.get_object()
        _require_manager(request.user, proposal.demand)
        return self._render(services.proposal_shortlist(proposal=proposal, actor=request.user))

    @extend_schema(
        summary="Decline the proposal with a reason the bidder sees (owner)",
        request=s.ProposalRejectSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request, pk=None):
        proposal = self.get_object()
        _require_manager(request.user, proposal.demand)
        serializer = s.ProposalRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal = services.proposal_reject(
            proposal=proposal,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            note=serializer.validated_data.get("note", ""),
        )
        return self._render(proposal)

    @extend_schema(
        summary="Award the proposal after the close (owner); starts a draft contract",
        request=None,
        responses=s.ProposalAwardResultSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def award(self, request, pk=None):
        proposal = self.get_object()
        _require_manager(request.user, proposal.demand)
        proposal, draft = services.proposal_award(proposal=proposal, actor=request.user)
        body = {"proposal": _proposal_queryset().get(pk=proposal.pk), "contract": getattr(draft, "pk", None)}
        return Response(s.ProposalAwardResultSerializer(body).data)

    @extend_schema(
        methods=["GET"],
        summary="Messages between the owner and the bidder about this proposal",
        responses=s.ProposalMessageSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Write to the other side (the owner after the close, or the bidder)",
        request=s.ProposalMessageCreateSerializer,
        responses={201: s.ProposalMessageSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def messages(self, request, pk=None):
        proposal = self.get_object()
        if request.method == "POST":
            serializer = s.ProposalMessageCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            message = services.proposal_message(
                proposal=proposal, actor=request.user, body=serializer.validated_data["body"]
            )
            return Response(s.ProposalMessageSerializer(message).data, status=status.HTTP_201_CREATED)
        messages = proposal.messages.select_related("author_organization")
        return Response(s.ProposalMessageSerializer(messages, many=True).data)

    @extend_schema(
        summary="The receipts of every version (bidder); the current one with the content to keep",
        responses=s.ReceiptSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def receipts(self, request, pk=None):
        proposal = self.get_object()
        _require_bidder(request.user, proposal)
        return Response(
            s.ReceiptSerializer(
                [_receipt_data(proposal, receipt) for receipt in proposal.receipts.order_by("version")],
                many=True,
            ).data
        )

    @extend_schema(
        summary="Check revealed bid content against a published commitment (anyone)",
        request=s.VerifyInputSerializer,
        responses=s.VerifyResultSerializer,
        auth=[],
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[permissions.AllowAny],
        filter_backends=[],
        pagination_class=None,
    )
    def verify(self, request):
        serializer = s.VerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        matches = services.proposal_verify(**serializer.validated_data)
        return Response(s.VerifyResultSerializer({"matches": matches}).data)


# --- questions ---------------------------------------------------------------------------------------------


class QuestionFilter(django_filters.FilterSet):
    demand = django_filters.NumberFilter(field_name="demand_id")
    answered = django_filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Question
        fields = ["demand", "answered"]


@extend_schema_view(
    list=extend_schema(summary="Clarification questions of the demands the caller can see"),
    retrieve=extend_schema(summary="One clarification question"),
)
class QuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Question.objects.none()
    serializer_class = s.QuestionSerializer
    filterset_class = QuestionFilter
    ordering_fields = ["created_at", "answered_at"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        visible = selectors.demand_list_visible_to(user=self.request.user).values("pk")
        return Question.objects.filter(demand_id__in=visible)

    @extend_schema(
        summary="Publish the answer (owner); everyone sees it",
        request=s.QuestionAnswerSerializer,
        responses=s.QuestionSerializer,
    )
    @action(
        detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated], filter_backends=[]
    )
    def answer(self, request, pk=None):
        question = self.get_object()
        demand = selectors.demand_get_for_user(user=request.user, pk=question.demand_id)
        _require_manager(request.user, demand)
        serializer = s.QuestionAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question.demand = demand
        question = services.question_answer(
            question=question, actor=request.user, answer=serializer.validated_data["answer"]
        )
        return Response(s.QuestionSerializer(question).data)


__all__ = ["DemandViewSet", "ProposalViewSet", "QuestionViewSet"]
