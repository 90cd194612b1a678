"""Where users see the matches on the website: the owner's demand page and the supplier's dashboard."""

import pytest
from django.urls import reverse

from brokers import matching
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched(market):
    matching.match_demand(market["demand"])
    matching.match_listing(market["drying"])
    return market


def test_the_owner_sees_recommended_technologies_and_suppliers_with_reasons(
    matched, client_for, enterprise_admin
):
    page = client_for(enterprise_admin).get(reverse("demands:detail", args=[matched["demand"].pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="recommendations"' in html
    assert matched["drying"].title in html
    assert matched["institute"].name in html
    assert "共同术语：" in html


def test_other_visitors_see_no_recommendations(matched, client_for, outsider):
    for client in (client_for(outsider), client_for(matched["university"].created_by)):
        html = client.get(reverse("demands:detail", args=[matched["demand"].pk])).content.decode()
        assert 'id="recommendations"' not in html
        assert "共同术语：" not in html


def test_the_supplier_dashboard_lists_demands_its_listings_could_serve(matched, client_for):
    supplier = matched["institute"].created_by

    html = client_for(supplier).get(reverse("dashboard")).content.decode()

    assert 'id="recommended-demands"' in html
    assert matched["demand"].title in html
    assert matched["drying"].title in html
    assert (
        'id="recommended-demands"' not in client_for(UserFactory()).get(reverse("dashboard")).content.decode()
    )
