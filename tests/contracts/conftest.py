"""Helpers of the registration tests: CSV files built from rows of valid values, and registration officers."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from contracts.registry import GDP_COLUMNS, REGISTRATION_COLUMNS, gdp_import, registrations_import
from tests.factories import UserFactory

VALID = {
    "registration_no": "2005330000001",
    "registered_on": "2005-03-01",
    "contract_type": "development",
    "title": "注塑件表面缺陷分析",
    "seller_name": "浙江大学",
    "seller_type": "university",
    "seller_region": "330100",
    "buyer_name": "宁波某模具有限公司",
    "buyer_type": "enterprise",
    "buyer_region": "330200",
    "total_amount": "150000.00",
    "technology_amount": "120000.50",
    "field": "advanced_manufacturing",
    "objective": "industry",
    "plan_level": "none",
}


def row(number: int | str = 1, **values) -> dict:
    """A valid row; ``number`` 7 gives registration_no 2005330000007."""
    registration_no = number if isinstance(number, str) else f"20053300{number:05d}"
    return {**VALID, "registration_no": registration_no, **values}


def csv_bytes(*rows: dict | list, columns=REGISTRATION_COLUMNS, bom: bool = False, header=None) -> bytes:
    """A CSV file: the header (``columns`` or the literal ``header`` line), then each row (dicts by column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is None:
        writer.writerow(columns)
    else:
        out.write(header + "\r\n")
    for item in rows:
        writer.writerow([item[column] for column in columns] if isinstance(item, dict) else item)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def import_csv(content: bytes, **options):
    return registrations_import(io.BytesIO(content), **options)


def import_gdp_csv(content: bytes, **options):
    return gdp_import(io.BytesIO(content), **options)


def gdp_csv(*rows: list) -> bytes:
    return csv_bytes(*rows, columns=GDP_COLUMNS)


def _user_with(username: str, *codenames: str, staff: bool = True):
    user = UserFactory(username=username, is_staff=staff)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="contracts", codename__in=codenames)
    )
    return user


@pytest.fixture
def officer(db):
    """A registration officer: staff with the add and change permissions of registrations and GDP figures."""
    return _user_with(
        "registration-officer",
        "add_registration",
        "change_registration",
        "add_gdpfigure",
        "change_gdpfigure",
    )


@pytest.fixture
def staff_viewer(db):
    """Staff who may look at registrations but not import them."""
    return _user_with("staff-viewer", "view_registration", "view_gdpfigure")


@pytest.fixture
def staff_add_only(db):
    """Staff holding the add permission of registrations but not the change one."""
    return _user_with("staff-add-only", "add_registration", "view_registration")


@pytest.fixture
def non_staff_with_permissions(db):
    return _user_with("not-staff", "add_registration", "change_registration", staff=False)
