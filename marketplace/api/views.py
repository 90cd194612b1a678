"""API views of the core: tokens, the current user, organizations and their members, notifications, taxonomies.

Views are thin: parse input with an input serializer, authorize, call one service or selector, render with an
output serializer. Rules live in ``marketplace.services``; their errors become the common error format in
``marketplace.api.errors``. Querysets come from ``marketplace.selectors`` or are scoped to the user here, so
outsiders get 404 for what they may not see.
"""

import json
from functools import cache
from itertools import groupby

import django_filters
from django.contrib.auth import authenticate
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.template import engines
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace import selectors
from marketplace.api import serializers as s
from marketplace.api.throttling import ScopedRateThrottle
from marketplace.exceptions import ApplicationError
from marketplace.filters import OrganizationFilter
from marketplace.models import (
    Classification,
    Invitation,
    JoinRequest,
    Membership,
    Notification,
    Organization,
    Region,
    TechnologyField,
    User,
)
from marketplace.permissions import (
    IsOrganizationAdminOrReadOnly,
    IsVerifiedOrganizationMember,
    can_act_as_verified,
)
from marketplace.services import (
    credential_document_add,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    join_request_create,
    join_request_decide,
    membership_remove,
    membership_set_role,
    notification_mark_read,
    organization_create,
    organization_resubmit,
    organization_update,
    user_update_profile,
)

# --- helpers and permissions --------------------------------------------------------------------------------


def _administered_organization_ids(user):
    return Membership.objects.filter(user=user, role=Membership.Role.ADMIN).values("organization_id")


def _require_organization_admin(user, organization) -> None:
    """403 early with a clear message; the services check again (they are called from elsewhere too)."""
    if user.is_staff or selectors.user_is_organization_admin(user=user, organization=organization):
        return
    raise PermissionDenied(_("Only an administrator of this organization can do this."))


class IsOrganizationMemberOrStaff(permissions.BasePermission):
    """Object permission for ``Organization``: its members (any role) and the staff."""

    message = gettext_lazy("Only members of this organization can see this.")

    def has_object_permission(self, request, view, obj):
        return (
            request.user.is_staff or selectors.membership_get(user=request.user, organization=obj) is not None
        )


class CanSeeOrganizationContact(IsVerifiedOrganizationMember):
    """Contact details: users acting for a verified organization, the staff, and the organization's own members."""

    def has_permission(self, request, view):
        # Decided per object: a member of a pending organization may still read its own contact details.
        return True

    def has_object_permission(self, request, view, obj):
        return can_act_as_verified(request.user) or (
            selectors.membership_get(user=request.user, organization=obj) is not None
        )


# --- auth and the current user -----------------------------------------------------------------------------


class TokenView(APIView):
    """Exchange a username (or e-mail address) and password for an API token; DELETE revokes it."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        request=s.TokenCreateSerializer,
        responses={200: s.TokenSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = s.TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise ApplicationError(
                _("Unable to log in with the username (or e-mail address) and password given."),
                code="invalid_credentials",
            )
        # One token per user: logging in from a second client returns the same key (DRF authtoken's model).
        token, _created = Token.objects.get_or_create(user=user)
        return Response(s.TokenSerializer({"token": token.key}).data)

    @extend_schema(operation_id="auth_token_destroy", request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The authenticated user's profile and memberships."""

    permission_classes = [permissions.IsAuthenticated]

    def _render(self, user_id):
        user = User.objects.prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("organization"))
        ).get(pk=user_id)
        return Response(s.UserSerializer(user).data)

    @extend_schema(operation_id="me_retrieve", responses=s.UserSerializer)
    def get(self, request):
        return self._render(request.user.pk)

    @extend_schema(
        operation_id="me_partial_update", request=s.UserUpdateSerializer, responses=s.UserSerializer
    )
    def patch(self, request):
        serializer = s.UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        user_update_profile(
            user=user,
            full_name=data.get("full_name", user.full_name),
            phone=data.get("phone", user.phone),
            email=data.get("email"),
        )
        return self._render(user.pk)


# --- organizations -----------------------------------------------------------------------------------------


def _organization_input(data: dict) -> dict:
    """Map the API's field names to the service's keyword arguments."""
    data = dict(data)
    if "region" in data:
        data["region_code"] = data.pop("region")
    if "fields" in data:
        data["field_codes"] = data.pop("fields")
    return data


@extend_schema_view(
    list=extend_schema(summary="Organizations visible to the caller (verified ones, own ones; staff: all)"),
    retrieve=extend_schema(summary="One organization; 404 when the caller may not see it"),
)
class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Organization.objects.none()  # for the schema; the real one is scoped per user
    serializer_class = s.OrganizationSerializer
    filterset_class = OrganizationFilter
    ordering_fields = ["name", "created_at", "verified_at"]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOrganizationAdminOrReadOnly]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.organization_list_visible_to(user=self.request.user)

    def _private(self, organization) -> bool:
        user = self.request.user
        return user.is_staff or selectors.membership_get(user=user, organization=organization) is not None

    def _render(self, organization, *, code=status.HTTP_200_OK):
        serializer_class = (
            s.OrganizationPrivateSerializer if self._private(organization) else s.OrganizationSerializer
        )
        return Response(serializer_class(organization).data, status=code)

    def _reload(self, organization):
        return self.get_queryset().get(pk=organization.pk)

    @extend_schema(responses=s.OrganizationPrivateSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._render(self.get_object())

    @extend_schema(request=s.OrganizationCreateSerializer, responses={201: s.OrganizationPrivateSerializer})
    def create(self, request):
        serializer = s.OrganizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = organization_create(
            user=request.user, **_organization_input(serializer.validated_data)
        )
        return self._render(self._reload(organization), code=status.HTTP_201_CREATED)

    @extend_schema(request=s.OrganizationUpdateSerializer, responses=s.OrganizationPrivateSerializer)
    def partial_update(self, request, pk=None):
        organization = self.get_object()  # object permission: its admins and the staff
        serializer = s.OrganizationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization_update(
            organization=organization, actor=request.user, **_organization_input(serializer.validated_data)
        )
        return self._render(self._reload(organization))

    @extend_schema(
        methods=["GET"],
        summary="Credential documents (members and staff)",
        responses=s.CredentialDocumentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload a credential document (organization admins)",
        request={"multipart/form-data": s.CredentialDocumentCreateSerializer},
        responses={201: s.CredentialDocumentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[permissions.IsAuthenticated],
        filter_backends=[],
    )
    def documents(self, request, pk=None):
        organization = self.get_object()
        if request.method == "POST":
            _require_organization_admin(request.user, organization)
            serializer = s.CredentialDocumentCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            document = credential_document_add(
                organization=organization,
                actor=request.user,
                kind=serializer.validated_data["kind"],
                uploaded=serializer.validated_data["file"],
            )
            return Response(s.CredentialDocumentSerializer(document).data, status=status.HTTP_201_CREATED)
        self.check_object_permissions_with(IsOrganizationMemberOrStaff(), organization)
        page = self.paginate_queryset(selectors.organization_documents(organization=organization))
        return self.get_paginated_response(s.CredentialDocumentSerializer(page, many=True).data)

    @extend_schema(
        summary="Send the organization back to review after a request for documents or a rejection",
        request=s.OrganizationResubmitSerializer,
        responses=s.OrganizationPrivateSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permissions.IsAuthenticated, IsOrganizationAdminOrReadOnly],
        filter_backends=[],
    )
    def resubmit(self, request, pk=None):
        organization = self.get_object()
        serializer = s.OrganizationResubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization_resubmit(
            organization=organization, actor=request.user, note=serializer.validated_data.get("note", "")
        )
        return self._render(self._reload(organization))

    @extend_schema(
        summary="Ask to join the organization",
        request=s.JoinRequestCreateSerializer,
        responses={201: s.JoinRequestSerializer},
    )
    @action(
        detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated], filter_backends=[]
    )
    def join(self, request, pk=None):
        organization = self.get_object()
        serializer = s.JoinRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        join_request = join_request_create(
            organization=organization, user=request.user, message=serializer.validated_data.get("message", "")
        )
        return Response(s.JoinRequestSerializer(join_request).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Members (members and staff)", responses=s.MemberSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[permissions.IsAuthenticated, IsOrganizationMemberOrStaff],
        filter_backends=[],
    )
    def members(self, request, pk=None):
        organization = self.get_object()
        page = self.paginate_queryset(selectors.organization_members(organization=organization))
        return self.get_paginated_response(s.MemberSerializer(page, many=True).data)

    @extend_schema(
        summary="Contact details (users of verified organizations, the organization's members, staff)",
        responses=s.OrganizationContactSerializer,
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[permissions.IsAuthenticated, CanSeeOrganizationContact],
        filter_backends=[],
    )
    def contact(self, request, pk=None):
        return Response(s.OrganizationContactSerializer(self.get_object()).data)

    def check_object_permissions_with(self, permission, obj):
        if not permission.has_object_permission(self.request, self, obj):
            self.permission_denied(self.request, message=getattr(permission, "message", None))


# --- memberships, invitations, join requests --------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The caller's own memberships"),
    retrieve=extend_schema(summary="A membership of the caller or of an organization the caller administers"),
    partial_update=extend_schema(
        summary="Change the role (organization admins)",
        request=s.MembershipUpdateSerializer,
        responses=s.MembershipSerializer,
    ),
    destroy=extend_schema(summary="Remove a member (organization admins) or leave (the member)"),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Membership.objects.none()
    serializer_class = s.MembershipSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        qs = Membership.objects.select_related("organization", "user")
        if self.action == "list":
            return qs.filter(user=user)
        if user.is_staff:
            return qs
        return qs.filter(Q(user=user) | Q(organization_id__in=_administered_organization_ids(user)))

    def partial_update(self, request, pk=None):
        membership = self.get_object()
        _require_organization_admin(request.user, membership.organization)
        serializer = s.MembershipUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_set_role(
            membership=membership, actor=request.user, role=serializer.validated_data["role"]
        )
        return Response(s.MembershipSerializer(membership).data)

    def destroy(self, request, pk=None):
        membership_remove(membership=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invitation.Status.choices)
    organization = django_filters.NumberFilter(field_name="organization_id")

    class Meta:
        model = Invitation
        fields = ["status", "organization"]


@extend_schema_view(
    list=extend_schema(
        summary="Invitations of the organizations the caller administers, and those addressed to the caller"
    ),
)
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invitees accept by id (``POST /api/v1/invitations/{id}/accept/``); the e-mailed link carries a token
    for the website. An invitation is visible to its addressee only once their e-mail address is verified."""

    queryset = Invitation.objects.none()
    serializer_class = s.InvitationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "expires_at"]

    def get_queryset(self):
        user = self.request.user
        qs = Invitation.objects.select_related("organization", "invited_by")
        if user.is_staff:
            return qs
        condition = Q(organization_id__in=_administered_organization_ids(user))
        if user.is_email_verified:
            condition |= Q(email__iexact=user.email)
        return qs.filter(condition)

    @extend_schema(
        summary="Invite someone by e-mail (organization admins)",
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationSerializer},
    )
    def create(self, request):
        serializer = s.InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = (
            selectors.organization_list_visible_to(user=request.user).filter(pk=data["organization"]).first()
        )
        if organization is None:
            raise serializers.ValidationError({"organization": [_("Unknown organization.")]})
        _require_organization_admin(request.user, organization)
        invitation = invitation_create(
            organization=organization, actor=request.user, email=data["email"], role=data["role"]
        )
        return Response(
            s.InvitationSerializer(self.get_queryset().get(pk=invitation.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Accept an invitation addressed to you", request=None, responses=s.MembershipSerializer
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def accept(self, request, pk=None):
        membership = invitation_accept(invitation=self.get_object(), user=request.user)
        membership = Membership.objects.select_related("organization", "user").get(pk=membership.pk)
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(
        summary="Revoke a pending invitation (organization admins)",
        request=None,
        responses=s.InvitationSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def revoke(self, request, pk=None):
        invitation = self.get_object()
        _require_organization_admin(request.user, invitation.organization)
        invitation_revoke(invitation=invitation, actor=request.user)
        return Response(s.InvitationSerializer(self.get_queryset().get(pk=invitation.pk)).data)


class JoinRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JoinRequest.Status.choices)
    organization = django_filters.NumberFilter(field_name="organization_id")

    class Meta:
        model = JoinRequest
        fields = ["status", "organization"]


@extend_schema_view(
    list=extend_schema(summary="Requests to the organizations the caller administers, and the caller's own"),
)
class JoinRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = JoinRequest.objects.none()
    serializer_class = s.JoinRequestSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = JoinRequestFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        user = self.request.user
        qs = JoinRequest.objects.select_related("organization", "user")
        if user.is_staff:
            return qs
        return qs.filter(Q(user=user) | Q(organization_id__in=_administered_organization_ids(user)))

    def _decide(self, request, *, approve: bool):
        join_request = self.get_object()
        _require_organization_admin(request.user, join_request.organization)
        join_request_decide(join_request=join_request, actor=request.user, approve=approve)
        return Response(s.JoinRequestSerializer(self.get_queryset().get(pk=join_request.pk)).data)

    @extend_schema(summary="Approve (organization admins)", request=None, responses=s.JoinRequestSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(summary="Decline (organization admins)", request=None, responses=s.JoinRequestSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def decline(self, request, pk=None):
        return self._decide(request, approve=False)


# --- notifications -----------------------------------------------------------------------------------------


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Notification.objects.none()
    serializer_class = s.NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user)

    @extend_schema(
        summary="Mark notifications as read (all unread ones when no ids are given)",
        request=s.NotificationMarkReadSerializer,
        responses=s.NotificationMarkReadResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="mark-read", filter_backends=[], pagination_class=None)
    def mark_read(self, request):
        serializer = s.NotificationMarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = notification_mark_read(
            user=request.user, notification_ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked})


# --- reference taxonomies ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The technology fields as a tree: the 11 fields with their sub-fields")
)
class TechnologyFieldViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TechnologyFieldSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None
    filter_backends = []
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"  # sub-field codes contain a dot

    def get_queryset(self):
        qs = TechnologyField.objects.prefetch_related("children")
        if self.action == "list":
            qs = qs.filter(parent__isnull=True)
        return qs


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Region.Level.choices)
    parent = django_filters.CharFilter(
        field_name="parent_id", help_text=gettext_lazy("Code of the province.")
    )

    class Meta:
        model = Region
        fields = ["level", "parent"]


@extend_schema_view(list=extend_schema(summary="GB/T 2260 provinces and prefecture-level cities"))
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.all()
    serializer_class = s.RegionSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None  # under 400 rows; clients cache the whole list
    filterset_class = RegionFilter
    ordering_fields = ["code"]


class CodeListViewSet(viewsets.ViewSet):
    """The statistical and platform code lists of ``marketplace.taxonomy.CODE_LISTS``, grouped by scheme."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Code lists grouped by scheme",
        parameters=[OpenApiParameter("scheme", OpenApiTypes.STR, description="Only this code list.")],
        responses=s.CodeListSerializer(many=True),
    )
    def list(self, request):
        rows = Classification.objects.order_by("scheme", "sort_order", "code")
        if scheme := request.query_params.get("scheme"):
            rows = rows.filter(scheme=scheme)
        groups = [
            {"scheme": scheme, "codes": list(codes)}
            for scheme, codes in groupby(rows, key=lambda c: c.scheme)
        ]
        return Response(s.CodeListSerializer(groups, many=True).data)


# --- docs --------------------------------------------------------------------------------------------------


# drf-spectacular's redoc.html preloads Google Fonts; the platform serves everything itself (SPEC §10: no CDN
# at run time), so the same page is rendered with the system fonts instead.
@cache
def _redoc_offline_template():
    return engines["django"].from_string(
        """{% extends "drf_spectacular/redoc.html" %}{% block head %}
    <title>{{ title|default:"Redoc" }}</title>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body { margin: 0; padding: 0; }</style>
    {% endblock head %}"""
    )


class OfflineRedocView(SpectacularRedocView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        context = super().get(request, *args, **kwargs).data
        return HttpResponse(_redoc_offline_template().render(context, request._request))


class OfflineSwaggerView(SpectacularSwaggerView):
    """Swagger UI from drf-spectacular-sidecar, with its online validator badge (validator.swagger.io) off."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        ui_settings = spectacular_settings.SWAGGER_UI_SETTINGS
        if isinstance(ui_settings, dict):
            response.data["settings"] = json.dumps({**ui_settings, "validatorUrl": None}, indent=2)
        return response


class PlatformKpiView(APIView):
    """The platform's figures (SPEC §8): public, like the statistics page that shows them."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Platform KPIs",
        description="Demands and listings posted, proposals, contracts and amounts, solution rate, response rate "
        "and supply/demand ratio: totals and by month, field, province, city and specialised sub-market; of all "
        "time, or of one year with `year`. Labels in the request's language; served from the stored figures.",
        parameters=[OpenApiParameter("year", int, required=False, description="A year, e.g. 2026")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        from marketplace import kpis

        year = request.query_params.get("year", "")
        if year and not (len(year) == 4 and year.isdigit()):
            raise serializers.ValidationError({"year": [_("Give the year as four digits, e.g. 2026.")]})
        report = kpis.snapshot_get(year or kpis.ALL)
        if report is None:
            raise NotFound(_("No figures for this year."))
        return Response(kpis.with_labels(report))
