"""The brokers admin: expert vetting, and the read-only pages of what the engine computed."""

import pytest
from django.urls import reverse

from brokers import matching
from brokers.models import Expert, ListingMatch
from marketplace.models import Region, TechnologyField

pytestmark = pytest.mark.django_db


def make_expert(name, status=Expert.Status.PENDING):
    return Expert.objects.create(
        name=name,
        field=TechnologyField.objects.get(code="advanced_manufacturing"),
        region=Region.objects.get(code="330100"),
        expertise="注塑工艺与模具设计",
        status=status,
    )


def test_staff_vet_and_suspend_experts(client_for, staff_user):
    pending, vetted = make_expert("甲"), make_expert("乙", Expert.Status.VETTED)
    client = client_for(staff_user)
    url = reverse("admin:brokers_expert_changelist")

    client.post(url, {"action": "vet", "_selected_action": [pending.pk]})
    client.post(url, {"action": "suspend", "_selected_action": [vetted.pk]})

    assert Expert.objects.get(pk=pending.pk).status == Expert.Status.VETTED
    assert Expert.objects.get(pk=vetted.pk).status == Expert.Status.SUSPENDED


def test_match_pages_are_read_only_and_closed_to_non_staff(market, client_for, staff_user, enterprise_admin):
    matching.match_demand(market["demand"])
    row = ListingMatch.objects.first()
    staff = client_for(staff_user)

    for name in ("expert", "subscription", "listingmatch", "demandmatch", "rebuildrun"):
        assert staff.get(reverse(f"admin:brokers_{name}_changelist")).status_code == 200
    assert staff.get(reverse("admin:brokers_listingmatch_add")).status_code == 403
    assert (
        staff.post(reverse("admin:brokers_listingmatch_delete", args=[row.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ListingMatch.objects.filter(pk=row.pk).exists()
    outsider = client_for(enterprise_admin).get(reverse("admin:brokers_listingmatch_changelist"))
    assert outsider.status_code == 302
