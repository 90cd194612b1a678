"""GET /api/v1/demands/{id}/matches/?limit=N (SPEC §9.4): rank order, exact shape, who may see it."""

import pytest
from rest_framework.test import APIClient

from brokers import matching
from tests.factories import EnterpriseFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(demand, limit=None):
    return f"/api/v1/demands/{demand.pk}/matches/" + (f"?limit={limit}" if limit is not None else "")


@pytest.fixture
def matched(market):
    matching.match_demand(market["demand"])
    return market


def test_the_owner_gets_the_listings_in_rank_order_with_readable_explanations(matched, enterprise_admin):
    demand = matched["demand"]
    drying = matched["drying"]
    drying.external_ref = "eval-x-17"
    drying.save(update_fields=["external_ref"])

    response = api_as(enterprise_admin).get(url(demand, 2), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["results"]
    assert len(body["results"]) == 2
    first = body["results"][0]
    assert first["listing"] == {"id": drying.pk, "external_ref": "eval-x-17", "title": drying.title}
    assert first["score"] >= body["results"][1]["score"]
    assert "共同术语：" in first["explanation"]
    assert "银纹" in first["explanation"]
    assert set(first["factors"]) >= {"shared_terms", "bridges", "same_field", "region"}

    english = api_as(enterprise_admin).get(url(demand, 1), HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["results"][0]["explanation"].startswith("Shared terms: ")


def test_staff_see_the_matches_and_limit_defaults_to_ten(matched, staff_user):
    response = api_as(staff_user).get(url(matched["demand"]))

    assert response.status_code == 200
    assert 1 <= len(response.json()["results"]) <= 10


@pytest.mark.parametrize("who", ["anonymous", "outsider", "other_enterprise_member", "supplier_in_results"])
def test_everyone_else_gets_404(matched, api_client, outsider, who):
    if who == "anonymous":
        client = api_client
    elif who == "outsider":
        client = api_as(outsider)
    elif who == "other_enterprise_member":
        member = UserFactory()
        MembershipFactory(user=member, organization=EnterpriseFactory())
        client = api_as(member)
    else:  # a member of a supplier whose listing is recommended
        client = api_as(matched["institute"].created_by)

    response = client.get(url(matched["demand"]))

    assert response.status_code == 404
    assert "results" not in response.json()


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_a_bad_limit_is_a_field_error(matched, enterprise_admin, limit):
    response = api_as(enterprise_admin).get(url(matched["demand"], limit))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"limit": ["请填写 1 到 100 之间的整数。"]}
