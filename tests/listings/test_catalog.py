"""Listing lifecycle: drafting, review (信息审核), edits of published listings, withdrawal."""

import pytest
from django.core.exceptions import ValidationError

from listings import services
from listings.models import Listing, ListingRevision
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog
from tests.factories import UniversityFactory

pytestmark = pytest.mark.django_db

DATA = {
    "title": "低温等离子体废气处理装置",
    "summary": "适用于印染、化工行业VOCs治理",
    "listing_type": "utility_model",
    "patent_number": "ZL202320000001.X",
    "field": "environment",
    "sub_field": "environment.air_pollution",
    "maturity": "small_batch",
    "transfer_modes": ["transfer", "non_exclusive_license"],
    "asking_price": "380000",
}


@pytest.fixture
def owner(db):
    return UniversityFactory()


def test_create_draft_with_owner_region(owner):
    listing = services.listing_create(owner=owner, actor=owner.created_by, **DATA)
    assert (listing.status, listing.region_id, str(listing.asking_price)) == (
        "draft",
        owner.region_id,
        "380000.00",
    )
    assert "低温等离子体" in listing.search_text
    assert "environmental protection" in listing.search_text


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"listing_type": "patent"}, "listing_type"),
        ({"maturity": "ready"}, "maturity"),
        ({"transfer_modes": []}, "transfer_modes"),
        ({"transfer_modes": ["sale"]}, "transfer_modes"),
        ({"field": "environment.air_pollution"}, "field"),
        ({"sub_field": "agriculture.crop_breeding"}, "sub_field"),
        ({"region": "339999"}, "region"),
        ({"asking_price": "-1"}, "asking_price"),
    ],
)
def test_bad_input_saves_nothing(owner, override, field):
    with pytest.raises(ValidationError) as exc:
        services.listing_create(owner=owner, actor=owner.created_by, **{**DATA, **override})
    assert field in exc.value.error_dict
    assert Listing.objects.count() == 0


def test_outsider_cannot_create(owner, outsider):
    with pytest.raises(ApplicationError):
        services.listing_create(owner=owner, actor=outsider, **DATA)
    assert Listing.objects.count() == 0


def test_review_publishes_and_edit_of_published_waits_for_review(owner, staff_user):
    listing = services.listing_create(owner=owner, actor=owner.created_by, **DATA)
    services.listing_submit(listing=listing, actor=owner.created_by)
    with pytest.raises(ApplicationError):
        services.listing_review(listing=listing, actor=staff_user, approve=False, reason="")
    services.listing_review(listing=listing, actor=staff_user, approve=True)
    listing.refresh_from_db()
    assert listing.status == "published"

    revision = services.listing_update(
        listing=listing, actor=owner.created_by, title="新一代低温等离子体废气处理装置"
    )
    listing.refresh_from_db()
    assert isinstance(revision, ListingRevision)
    assert listing.title == DATA["title"]  # the public version stays until review
    services.listing_revision_review(revision=revision, actor=staff_user, approve=True)
    listing.refresh_from_db()
    assert listing.title == "新一代低温等离子体废气处理装置"
    assert list(
        AuditLog.objects.filter(target_id=str(listing.pk)).values_list("action", flat=True).order_by("id")
    ) == [
        "listing.create",
        "listing.submit",
        "listing.publish",
        "listing.revision_submit",
        "listing.revision_approve",
    ]


def test_unverified_owner_cannot_submit(outsider):
    owner = UniversityFactory(pending=True)
    listing = services.listing_create(owner=owner, actor=owner.created_by, **DATA)
    with pytest.raises(ApplicationError) as exc:
        services.listing_submit(listing=listing, actor=owner.created_by)
    assert exc.value.code == "not_verified"
    listing.refresh_from_db()
    assert listing.status == "draft"


def test_withdraw_closes_an_open_public_listing(owner, staff_user):
    listing = services.listing_create(owner=owner, actor=owner.created_by, **DATA)
    services.listing_submit(listing=listing, actor=owner.created_by)
    services.listing_review(listing=listing, actor=staff_user, approve=True)
    listing.refresh_from_db()
    public = services.public_listing_open(
        listing=listing, actor=owner.created_by, floor_price=1000, increment=100, days=10
    )
    services.listing_withdraw(listing=listing, actor=owner.created_by)
    public.refresh_from_db()
    assert (listing.status, public.status) == ("withdrawn", "withdrawn")
