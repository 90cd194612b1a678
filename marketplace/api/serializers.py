"""Serializers of the core API.

Input serializers (``*CreateSerializer``, ``*UpdateSerializer``, ``*InputSerializer``) check shape and types
only; the services decide the rules (credit code checksum, duplicate names, known regions, who may act) and
raise errors that ``marketplace.api.errors`` renders. Output serializers are read-only.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.models import (
    Classification,
    CredentialDocument,
    Invitation,
    JoinRequest,
    Membership,
    Notification,
    Organization,
    Region,
    TechnologyField,
    User,
)
from marketplace.taxonomy import OrganizationType


class ReadOnlyModelSerializer(serializers.ModelSerializer):
    """Output only: every field is read-only, so a misuse as input cannot write anything."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


# --- auth and accounts -------------------------------------------------------------------------------------


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField(help_text=_("Username or e-mail address."), max_length=254)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, max_length=128)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class OrganizationBriefSerializer(ReadOnlyModelSerializer):
    status = serializers.ChoiceField(choices=Organization.Status.choices, read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "status"]


class UserBriefSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "full_name"]


class MembershipSerializer(ReadOnlyModelSerializer):
    organization = OrganizationBriefSerializer()
    user = UserBriefSerializer()

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "role", "title", "created_at"]


class MyMembershipSerializer(ReadOnlyModelSerializer):
    organization = OrganizationBriefSerializer()

    class Meta:
        model = Membership
        fields = ["id", "organization", "role"]


class UserSerializer(ReadOnlyModelSerializer):
    email_verified = serializers.BooleanField(source="is_email_verified")
    memberships = MyMembershipSerializer(many=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "full_name", "phone", "email_verified", "memberships"]


class UserUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, help_text=_("A new address must be verified again."))


# --- reference taxonomies ----------------------------------------------------------------------------------


class RegionBriefSerializer(ReadOnlyModelSerializer):
    name = serializers.CharField()
    full_name = serializers.CharField()

    class Meta:
        model = Region
        fields = ["code", "name", "full_name"]


class RegionSerializer(ReadOnlyModelSerializer):
    name = serializers.CharField()

    class Meta:
        model = Region
        fields = ["code", "name", "name_zh", "name_en", "level", "parent"]


class TechnologyFieldBriefSerializer(ReadOnlyModelSerializer):
    name = serializers.CharField()

    class Meta:
        model = TechnologyField
        fields = ["code", "name"]


class TechnologyFieldChildSerializer(ReadOnlyModelSerializer):
    name = serializers.CharField()

    class Meta:
        model = TechnologyField
        fields = ["code", "name", "name_zh", "name_en", "parent"]


class TechnologyFieldSerializer(TechnologyFieldChildSerializer):
    """A field with its sub-fields (the taxonomy is two levels deep)."""

    children = TechnologyFieldChildSerializer(many=True)

    class Meta(TechnologyFieldChildSerializer.Meta):
        fields = [*TechnologyFieldChildSerializer.Meta.fields, "children"]


class ClassificationSerializer(ReadOnlyModelSerializer):
    name = serializers.CharField()

    class Meta:
        model = Classification
        fields = ["code", "name", "name_zh", "name_en"]


class CodeListSerializer(serializers.Serializer):
    scheme = serializers.CharField(read_only=True)
    codes = ClassificationSerializer(many=True, read_only=True)


# --- organizations -----------------------------------------------------------------------------------------


class OrganizationSerializer(ReadOnlyModelSerializer):
    """Public profile. Contact details are never part of it (see the ``contact`` action)."""

    org_type_display = serializers.CharField(source="get_org_type_display")
    status = serializers.ChoiceField(choices=Organization.Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display")
    region = RegionBriefSerializer()
    fields = TechnologyFieldBriefSerializer(many=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "short_name",
            "org_type",
            "org_type_display",
            "credit_code",
            "region",
            "address",
            "website",
            "description",
            "fields",
            "status",
            "status_display",
            "verified_at",
            "created_at",
        ]


class OrganizationPrivateSerializer(OrganizationSerializer):
    """What the organization's own members and the staff see: also the reason of the last decision."""

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "status_reason", "status_changed_at"]


class OrganizationContactSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "contact_name", "contact_email", "contact_phone"]


class _OrganizationProfileInputSerializer(serializers.Serializer):
    short_name = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    region = serializers.CharField(max_length=6, help_text=_("GB/T 2260 code of the province or city."))
    fields = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text=_("Technology field codes."),
    )


class OrganizationCreateSerializer(_OrganizationProfileInputSerializer):
    name = serializers.CharField(max_length=120)
    org_type = serializers.ChoiceField(choices=OrganizationType.choices)
    credit_code = serializers.CharField(
        max_length=32,  # longer than 18 so that a wrong length reaches the service's explicit message
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("Unified social credit code (18 characters, GB 32100)."),
    )


class OrganizationUpdateSerializer(_OrganizationProfileInputSerializer):
    """Profile only: the verified identity (name, type, credit code) is changed by the staff in the admin."""

    region = serializers.CharField(max_length=6, required=False)


class OrganizationResubmitSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CredentialDocumentSerializer(ReadOnlyModelSerializer):
    uploaded_by = UserBriefSerializer()
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = CredentialDocument
        fields = [
            "id",
            "kind",
            "kind_display",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
        ]


class CredentialDocumentCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CredentialDocument.Kind.choices)
    file = serializers.FileField(help_text=_("PDF, JPEG or PNG."))


class MemberSerializer(ReadOnlyModelSerializer):
    user = UserBriefSerializer()

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "title", "created_at"]


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


# --- invitations and join requests -------------------------------------------------------------------------


class OrganizationIdNameSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


class InvitationSerializer(ReadOnlyModelSerializer):
    """The token is left out: it is the secret of the e-mailed link. Invitees accept by id."""

    organization = OrganizationIdNameSerializer()
    invited_by = UserBriefSerializer()

    class Meta:
        model = Invitation
        fields = ["id", "organization", "email", "role", "status", "invited_by", "expires_at", "created_at"]


class InvitationCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)


class JoinRequestSerializer(ReadOnlyModelSerializer):
    organization = OrganizationIdNameSerializer()
    user = UserBriefSerializer()

    class Meta:
        model = JoinRequest
        fields = ["id", "organization", "user", "message", "status", "decided_at", "created_at"]


class JoinRequestCreateSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)


# --- notifications -----------------------------------------------------------------------------------------


class NotificationSerializer(ReadOnlyModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "url", "is_read", "read_at", "created_at"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationMarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=True,
        help_text=_("Notifications to mark as read; all unread ones when omitted."),
    )


class NotificationMarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True)
