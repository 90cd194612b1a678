"""The listing list's filters, shared by the website and the API (SPEC §5, §10)."""

import django_filters
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from listings.models import Listing, ListingStatus
from marketplace.search import filter_keywords
from marketplace.taxonomy import ListingType, Maturity, TransferMode


def transfer_mode_q(mode: str) -> Q:
    """Listings whose ``transfer_modes`` JSON list holds ``mode``, on every database backend.

    PostgreSQL answers the JSON containment ``@>`` (``transfer_modes__contains=[mode]``). SQLite has no
    containment operator, so there the stored JSON text is matched with the mode in quotes: ``"transfer"`` is
    found in ``["transfer", "equity"]`` but not in ``["non_exclusive_license"]`` for ``"exclusive_license"``
    (the quote before the code cannot match an underscore). ``mode`` is one of ``TransferMode`` (validated by
    the filter's choices), so it never contains a quote or a LIKE wildcard.
    """
    if connection.features.supports_json_field_contains:
        return Q(transfer_modes__contains=[mode])
    return Q(transfer_modes__icontains=f'"{mode}"')


class ListingFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Keywords"))
    field = django_filters.CharFilter(method="filter_field", label=_("Technology field"))
    listing_type = django_filters.ChoiceFilter(choices=ListingType.choices, label=_("Type"))
    maturity = django_filters.ChoiceFilter(choices=Maturity.choices, label=_("Maturity"))
    transfer_mode = django_filters.ChoiceFilter(
        choices=TransferMode.choices, method="filter_transfer_mode", label=_("Transfer mode")
    )
    price_min = django_filters.NumberFilter(
        field_name="asking_price", lookup_expr="gte", label=_("Asking price at least (yuan)")
    )
    price_max = django_filters.NumberFilter(
        field_name="asking_price", lookup_expr="lte", label=_("Asking price at most (yuan)")
    )
    region = django_filters.CharFilter(method="filter_region", label=_("Region"))
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices, label=_("Status"))
    state_funded = django_filters.BooleanFilter(field_name="state_funded", label=_("State-funded result"))
    external_ref = django_filters.CharFilter(field_name="external_ref", label=_("Interchange reference"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner organization"))

    class Meta:
        model = Listing
        fields = ["listing_type", "maturity", "status", "state_funded", "external_ref", "owner"]

    def filter_q(self, queryset, name, value):
        return filter_keywords(queryset, value)

    def filter_field(self, queryset, name, value):
        # A top-level field matches its listings whatever their sub-field; a sub-field code matches exactly.
        if "." in value:
            return queryset.filter(sub_field_id=value)
        return queryset.filter(field_id=value)

    def filter_transfer_mode(self, queryset, name, value):
        return queryset.filter(transfer_mode_q(value))

    def filter_region(self, queryset, name, value):
        # A province (GB/T 2260 code ending in 0000) includes the listings of its cities.
        if value.endswith("0000"):
            return queryset.filter(Q(region_id=value) | Q(region__parent_id=value))
        return queryset.filter(region_id=value)
