"""The one permission for what only verified organizations may do, on the website and in the API."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory

from marketplace.models import Organization
from marketplace.permissions import (
    IsVerifiedOrganizationMember,
    can_act_as_verified,
    verified_organization_required,
)

pytestmark = pytest.mark.django_db

PERSONAS = [
    ("anonymous", False),
    ("outsider", False),
    ("unverified_member", False),
    ("pending_admin", False),
    ("verified_member", True),
    ("enterprise_admin", True),
    ("staff_user", True),
]


def persona(request, name):
    return AnonymousUser() if name == "anonymous" else request.getfixturevalue(name)


@verified_organization_required
def publish_view(request):
    return HttpResponse("published")


@pytest.mark.parametrize(("name", "allowed"), PERSONAS)
def test_website_guard(request, name, allowed):
    http_request = RequestFactory().post("/demands/new/")
    http_request.user = persona(request, name)
    if name == "anonymous":
        response = publish_view(http_request)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif allowed:
        assert publish_view(http_request).content == b"published"
    else:
        with pytest.raises(PermissionDenied):
            publish_view(http_request)


@pytest.mark.parametrize(("name", "allowed"), PERSONAS)
def test_api_guard(request, name, allowed):
    api_request = APIRequestFactory().post("/api/v1/demands/")
    api_request.user = persona(request, name)
    assert IsVerifiedOrganizationMember().has_permission(api_request, view=None) is allowed


def test_suspension_takes_the_right_away(enterprise, enterprise_admin):
    assert can_act_as_verified(enterprise_admin)
    Organization.objects.filter(pk=enterprise.pk).update(status=Organization.Status.SUSPENDED)
    assert not can_act_as_verified(enterprise_admin)


def test_inactive_user_cannot_act(enterprise_admin):
    enterprise_admin.is_active = False
    enterprise_admin.save()
    assert not can_act_as_verified(enterprise_admin)


def test_right_is_scoped_to_the_organization(enterprise, enterprise_admin, pending_org):
    assert can_act_as_verified(enterprise_admin, organization=enterprise)
    assert not can_act_as_verified(enterprise_admin, organization=pending_org)
