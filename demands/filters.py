"""The demand list's filters, shared by the website and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from demands.models import Demand
from marketplace.search import filter_keywords
from marketplace.taxonomy import CooperationMode


class DemandFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Keywords"))
    field = django_filters.CharFilter(method="filter_field", label=_("Technology field"))
    region = django_filters.CharFilter(method="filter_region", label=_("Region"))
    mode = django_filters.ChoiceFilter(choices=Demand.Mode.choices, label=_("Mode"))
    status = django_filters.ChoiceFilter(choices=Demand.Status.choices, label=_("Status"))
    cooperation_mode = django_filters.ChoiceFilter(
        choices=CooperationMode.choices, label=_("Cooperation mode")
    )
    budget_min = django_filters.NumberFilter(method="filter_budget_min", label=_("Budget at least (yuan)"))
    budget_max = django_filters.NumberFilter(method="filter_budget_max", label=_("Budget at most (yuan)"))
    deadline_after = django_filters.IsoDateTimeFilter(
        field_name="deadline", lookup_expr="gte", label=_("Deadline from")
    )
    deadline_before = django_filters.IsoDateTimeFilter(
        field_name="deadline", lookup_expr="lte", label=_("Deadline until")
    )
    external_ref = django_filters.CharFilter(field_name="external_ref", label=_("Interchange reference"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner organization"))

    class Meta:
        model = Demand
        fields = ["mode", "status", "cooperation_mode", "external_ref", "owner"]

    def filter_q(self, queryset, name, value):
        return filter_keywords(queryset, value)

    def filter_field(self, queryset, name, value):
        # A top-level field matches its demands whatever their sub-field; a sub-field code matches exactly.
        if "." in value:
            return queryset.filter(sub_field_id=value)
        return queryset.filter(field_id=value)

    def filter_region(self, queryset, name, value):
        if value.endswith("0000"):
            return queryset.filter(Q(region_id=value) | Q(region__parent_id=value))
        return queryset.filter(region_id=value)

    def filter_budget_min(self, queryset, name, value):
        # Demands whose budget can reach the amount; negotiable budgets always qualify.
        return queryset.filter(
            Q(budget_max__gte=value)
            | Q(budget_max__isnull=True, budget_min__gte=value)
            | Q(budget_negotiable=True)
        )

    def filter_budget_max(self, queryset, name, value):
        return queryset.filter(Q(budget_min__lte=value) | Q(budget_min__isnull=True))
