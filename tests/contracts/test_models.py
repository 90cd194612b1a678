"""The database refuses what no import may write: each invariant of a registration and a GDP figure."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.models import GdpFigure, Registration

pytestmark = pytest.mark.django_db


def registration(**values) -> Registration:
    defaults = {
        "registration_no": "2005330000001",
        "registered_on": date(2005, 3, 1),
        "contract_type": "development",
        "seller_type": "university",
        "seller_region_id": "330100",
        "seller_province_id": "330000",
        "buyer_type": "enterprise",
        "buyer_region_id": "310000",
        "buyer_province_id": "310000",
        "total_amount": Decimal("100.00"),
        "technology_amount": Decimal("80.00"),
        "field_id": "advanced_manufacturing",
        "objective": "industry",
        "plan_level": "none",
        "imported_at": timezone.now(),
    }
    return Registration(**{**defaults, **values})


def test_a_valid_registration_is_stored():
    registration(sub_field_id="advanced_manufacturing.textiles").save()

    assert Registration.objects.count() == 1


@pytest.mark.parametrize(
    "values",
    [
        {"technology_amount": Decimal("100.01")},
        {"total_amount": Decimal("-1.00"), "technology_amount": Decimal("-2.00")},
        {"technology_amount": Decimal("-0.01")},
        {"contract_type": "licence"},
        {"seller_type": "government"},
        {"buyer_type": "company"},
        {"objective": "military"},
        {"plan_level": "county"},
        {"source": "elsewhere"},
        {"registration_no": ""},
        {"seller_province_id": "310000"},
        {"buyer_province_id": "330000"},
        {"seller_region_id": "330106", "seller_province_id": "330000"},
        {"buyer_region_id": "999999", "buyer_province_id": "990000"},
        {"field_id": "software"},
        {"field_id": "advanced_manufacturing.textiles"},
        {"sub_field_id": "electronic_information.software"},
        {"sub_field_id": "no_such.sub_field"},
        {"imported_at": None},
        {"source": "platform"},
    ],
    ids=lambda values: ",".join(f"{key}={value}" for key, value in values.items()),
)
def test_the_database_refuses_an_invalid_registration(values):
    with pytest.raises(IntegrityError), transaction.atomic():
        registration(**values).save()

    assert Registration.objects.count() == 0


def test_an_update_to_an_unknown_region_is_refused():
    registration().save()

    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.update(buyer_region_id="319900", buyer_province_id="310000")

    assert Registration.objects.get().buyer_region_id == "310000"


def test_registration_numbers_are_unique():
    registration().save()

    with pytest.raises(IntegrityError), transaction.atomic():
        registration(title="again").save()

    assert Registration.objects.count() == 1


@pytest.mark.parametrize(
    "values",
    [
        {"year": 1948},
        {"region": "330100"},
        {"region": "abc"},
        {"gdp_yuan": Decimal("0")},
        {"gdp_yuan": Decimal("-1")},
    ],
)
def test_the_database_refuses_an_invalid_gdp_figure(values):
    with pytest.raises(IntegrityError), transaction.atomic():
        GdpFigure.objects.create(**{"year": 2005, "region": "000000", "gdp_yuan": Decimal("1"), **values})

    assert GdpFigure.objects.count() == 0


def test_one_gdp_figure_per_year_and_region():
    GdpFigure.objects.create(year=2005, region="330000", gdp_yuan=Decimal("1"))

    with pytest.raises(IntegrityError), transaction.atomic():
        GdpFigure.objects.create(year=2005, region="330000", gdp_yuan=Decimal("2"))
