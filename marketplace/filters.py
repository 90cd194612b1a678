"""FilterSets shared by the API viewsets and the website list views."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy

from marketplace.models import Organization
from marketplace.taxonomy import OrganizationType


class OrganizationFilter(django_filters.FilterSet):
    org_type = django_filters.ChoiceFilter(choices=OrganizationType.choices)
    status = django_filters.ChoiceFilter(
        choices=Organization.Status.choices,
        help_text=gettext_lazy(
            "Outsiders only ever see verified organizations; useful to staff and members."
        ),
    )
    region = django_filters.CharFilter(
        method="filter_region",
        help_text=gettext_lazy("GB/T 2260 code; a province code also matches its cities."),
    )
    field = django_filters.CharFilter(
        method="filter_field",
        help_text=gettext_lazy("Technology field code; a top-level field also matches its sub-fields."),
    )
    q = django_filters.CharFilter(
        method="filter_q", help_text=gettext_lazy("Search in the name and profile.")
    )

    class Meta:
        model = Organization
        fields = ["org_type", "status"]

    def filter_region(self, queryset, name, value):
        return queryset.filter(Q(region__code=value) | Q(region__parent__code=value))

    def filter_field(self, queryset, name, value):
        return queryset.filter(Q(fields__code=value) | Q(fields__parent__code=value)).distinct()

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(short_name__icontains=value) | Q(description__icontains=value)
        )
