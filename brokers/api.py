"""API of a user's subscriptions (SPEC §6): ``/api/v1/subscriptions/``, registered on the one router of
``marketplace.api.urls``.

Every caller sees and changes only their own subscriptions; anyone else's is a 404. The input serializer checks
shape and types; ``brokers.services`` decides the rules (known codes, keywords, at least one criterion, the cap
per user) and its errors become the common error format of ``marketplace.api.errors``.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from brokers import selectors, services
from brokers.models import Subscription
from marketplace.api.serializers import ReadOnlyModelSerializer

# --- serializers -------------------------------------------------------------------------------------------


class SubscriptionSerializer(ReadOnlyModelSerializer):
    kind = serializers.ChoiceField(choices=Subscription.Kind.choices)
    field_codes = serializers.ListField(
        child=serializers.CharField(), help_text=_("Technology field or sub-field codes.")
    )
    region_codes = serializers.ListField(
        child=serializers.CharField(), help_text=_("GB/T 2260 region codes; a province covers its cities.")
    )
    keywords = serializers.CharField(help_text=_("Distinct keywords separated by one space."))

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "kind",
            "field_codes",
            "region_codes",
            "keywords",
            "is_active",
            "created_at",
            "updated_at",
        ]


class SubscriptionInputSerializer(serializers.Serializer):
    """Shape only. Omitted fields keep their value on PATCH and take the default on POST and PUT."""

    name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Subscription.Kind.choices, required=False)
    # Bounded so that a request cannot make the code check scan a huge list; the reference lists are shorter.
    field_codes = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=100,
        help_text=_("Technology field or sub-field codes (see /api/v1/taxonomies/fields/)."),
    )
    region_codes = serializers.ListField(
        child=serializers.CharField(max_length=6),
        required=False,
        max_length=400,
        help_text=_("Region codes (see /api/v1/taxonomies/regions/); a province covers its cities."),
    )
    keywords = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text=_(
            "Up to 10 keywords separated by spaces or commas, each at most 20 characters; a record fits "
            "when it contains any of them."
        ),
    )
    is_active = serializers.BooleanField(required=False, help_text=_("False pauses the digest."))


class SubscriptionPreviewSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    demands = serializers.IntegerField(
        allow_null=True, help_text=_("Null when the subscription does not follow demands.")
    )
    listings = serializers.IntegerField(
        allow_null=True, help_text=_("Null when the subscription does not follow listings.")
    )


# --- views -------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The caller's subscriptions, oldest first"),
    retrieve=extend_schema(summary="One of the caller's subscriptions (404 for anyone else's)"),
    create=extend_schema(
        summary="Subscribe to new demands and/or listings by field, region and keywords (at least one); "
        "at most 20 subscriptions per user",
        request=SubscriptionInputSerializer,
        responses={201: SubscriptionSerializer},
    ),
    update=extend_schema(
        summary="Replace a subscription: omitted fields take their defaults",
        request=SubscriptionInputSerializer,
        responses=SubscriptionSerializer,
    ),
    partial_update=extend_schema(
        summary='Change some fields of a subscription; {"is_active": false} pauses it',
        request=SubscriptionInputSerializer,
        responses=SubscriptionSerializer,
    ),
    destroy=extend_schema(summary="Delete a subscription"),
)
class SubscriptionViewSet(viewsets.ModelViewSet):
    """What the caller wants in their daily digest of new demands and listings (SPEC §6)."""

    queryset = Subscription.objects.none()  # for the schema; the real one is the caller's
    serializer_class = SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return selectors.subscriptions_of(user=self.request.user)

    def _input(self, *, partial: bool) -> dict:
        serializer = SubscriptionInputSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        subscription = services.subscription_create(user=request.user, **self._input(partial=False))
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        subscription = self.get_object()
        data = self._input(partial=partial)
        if not partial:
            data = {**services.subscription_defaults(), **data}
        subscription = services.subscription_update(subscription=subscription, **data)
        return Response(SubscriptionSerializer(subscription).data)

    def destroy(self, request, *args, **kwargs):
        services.subscription_delete(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="How many demands and listings published in the last 7 days fit the subscription, by the "
        "digest's rules",
        responses=SubscriptionPreviewSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def preview(self, request, pk=None):
        subscription = self.get_object()
        counts = selectors.subscription_previews(user=request.user, subscriptions=[subscription])[0]
        return Response({"days": selectors.PREVIEW_DAYS, **counts})
