"""Django admin of the listings app: the review queue of listings and edits, objection resolution with a reason,
and read-only trading records that never show a running auction's maximums."""

import pytest
from django.urls import reverse

from listings import services
from listings.models import (
    Auction,
    Bid,
    Deal,
    Intent,
    Listing,
    ListingRevision,
    Objection,
    Publicity,
    PublicListing,
)
from marketplace.models import AuditLog, Notification
from tests.factories import EnterpriseFactory
from tests.listings.builders import bid, join, make_auction, make_listing, make_public_listing, make_publicity

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client_for, staff_user):
    return client_for(staff_user)


def act(client, model, action, ids, reason=None):
    data = {"action": action, "_selected_action": [str(pk) for pk in ids]}
    if reason is not None:
        data.update(apply="1", reason=reason)
    return client.post(reverse(f"admin:listings_{model}_changelist"), data)


# --- access --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["enterprise_admin", "university_admin", "outsider"])
def test_non_staff_cannot_reach_the_listings_admin(request, client_for, persona):
    response = client_for(request.getfixturevalue(persona)).get(reverse("admin:listings_listing_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "model",
    [
        "listing",
        "listingrevision",
        "publiclisting",
        "intent",
        "auction",
        "auctionbidder",
        "bid",
        "deal",
        "publicity",
        "objection",
    ],
)
def test_every_listings_model_has_a_changelist(staff_client, university, enterprise, model):
    listing = make_listing(university)
    auction = make_auction(listing)
    join(auction, enterprise)
    bid(auction, enterprise, "100000", "t")
    response = staff_client.get(reverse(f"admin:listings_{model}_changelist"), {"q": "模具"})
    assert response.status_code == 200


# --- the review queue ----------------------------------------------------------------------------------------


@pytest.fixture
def pending(university):
    return make_listing(university, status=Listing.Status.PENDING_REVIEW)


def test_an_action_first_asks_for_the_reason(staff_client, pending):
    response = act(staff_client, "listing", "reject", [pending.pk])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/listings/decide.html"
    assert [obj.pk for obj, applicable in response.context["rows"]] == [pending.pk]
    pending.refresh_from_db()
    assert pending.status == Listing.Status.PENDING_REVIEW


def test_approve_publishes_audits_and_notifies(staff_client, staff_user, pending, university_admin):
    response = act(staff_client, "listing", "approve", [pending.pk], reason="")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Listing.Status.PUBLISHED
    assert pending.published_at is not None
    assert AuditLog.objects.filter(action="listing.publish", actor=staff_user).count() == 1
    assert Notification.objects.filter(user=university_admin).count() == 1


def test_reject_needs_a_reason(staff_client, pending):
    response = act(staff_client, "listing", "reject", [pending.pk], reason="")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    pending.refresh_from_db()
    assert pending.status == Listing.Status.PENDING_REVIEW


def test_reject_with_a_reason(staff_client, pending):
    act(staff_client, "listing", "reject", [pending.pk], reason="专利号与权利人不符。")
    pending.refresh_from_db()
    assert (pending.status, pending.status_reason) == ("rejected", "专利号与权利人不符。")


def test_a_decision_invalid_for_the_state_is_reported_and_changes_nothing(staff_client, university, pending):
    draft = make_listing(university, status=Listing.Status.DRAFT)
    page = act(staff_client, "listing", "approve", [pending.pk, draft.pk])
    assert page.context["refused_count"] == 1

    response = act(staff_client, "listing", "approve", [pending.pk, draft.pk], reason="")

    assert response.status_code == 302
    pending.refresh_from_db()
    draft.refresh_from_db()
    assert (pending.status, draft.status) == ("published", "draft")


def test_listings_cannot_be_added_or_deleted(staff_client, pending):
    assert staff_client.get(reverse("admin:listings_listing_add")).status_code == 403
    assert staff_client.get(reverse("admin:listings_listing_delete", args=[pending.pk])).status_code == 403


# --- revisions -------------------------------------------------------------------------------------------------


@pytest.fixture
def revision(university):
    listing = make_listing(university)
    return services.listing_update(
        listing=listing, actor=university.created_by, title="新标题", asking_price="650000"
    )


def test_revision_page_shows_now_and_proposed(staff_client, revision):
    response = staff_client.get(reverse("admin:listings_listingrevision_change", args=[revision.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("一种注塑模具随形冷却水路的设计方法", "新标题", "500000.00", "650000.00"):
        assert text in body


def test_approve_revision_applies_it(staff_client, revision):
    act(staff_client, "listingrevision", "approve", [revision.pk], reason="")
    revision.refresh_from_db()
    revision.listing.refresh_from_db()
    assert revision.status == ListingRevision.Status.APPROVED
    assert revision.listing.title == "新标题"


def test_reject_revision_needs_a_reason_and_keeps_the_listing(staff_client, revision):
    act(staff_client, "listingrevision", "reject", [revision.pk], reason="")
    revision.refresh_from_db()
    assert revision.status == ListingRevision.Status.PENDING

    act(staff_client, "listingrevision", "reject", [revision.pk], reason="价格依据不足。")
    revision.refresh_from_db()
    revision.listing.refresh_from_db()
    assert (revision.status, revision.reason) == ("rejected", "价格依据不足。")
    assert revision.listing.title == "一种注塑模具随形冷却水路的设计方法"


# --- objections ----------------------------------------------------------------------------------------------


@pytest.fixture
def objection(university, enterprise, outsider):
    listing = make_listing(university, state_funded=True)
    publicity = make_publicity(listing, enterprise)
    return services.objection_file(publicity=publicity, actor=outsider, text="发明人署名有误。")


@pytest.mark.parametrize("action", ["uphold", "dismiss"])
def test_objection_resolution_needs_a_reason(staff_client, objection, action):
    response = act(staff_client, "objection", action, [objection.pk], reason="")
    assert response.status_code == 200
    objection.refresh_from_db()
    assert objection.status == Objection.Status.PENDING


def test_upholding_cancels_the_publicity(staff_client, staff_user, objection):
    act(staff_client, "objection", "uphold", [objection.pk], reason="经核实，发明人署名确有错误。")
    objection.refresh_from_db()
    assert (objection.status, objection.resolved_by, objection.resolution) == (
        "upheld",
        staff_user,
        "经核实，发明人署名确有错误。",
    )
    assert objection.publicity.status == Publicity.Status.CANCELLED


def test_dismissing_keeps_the_publicity(staff_client, objection):
    act(staff_client, "objection", "dismiss", [objection.pk], reason="署名与专利登记一致。")
    objection.refresh_from_db()
    assert objection.status == "dismissed"
    assert objection.publicity.status == Publicity.Status.OPEN


# --- read-only trading records --------------------------------------------------------------------------------


@pytest.fixture
def running(university, enterprise):
    auction = make_auction(make_listing(university))
    join(auction, enterprise)
    bid(auction, enterprise, "187654", "secret")
    return auction


def test_bid_list_hides_the_maximum_of_a_running_auction(staff_client, running):
    changelist = staff_client.get(reverse("admin:listings_bid_changelist")).content.decode()
    bid_row = Bid.objects.get()
    change = staff_client.get(reverse("admin:listings_bid_change", args=[bid_row.pk])).content.decode()
    auction_page = staff_client.get(
        reverse("admin:listings_auction_change", args=[running.pk])
    ).content.decode()
    for body in (changelist, change, auction_page):
        assert "187654" not in body
        assert "187,654" not in body

    Auction.objects.filter(pk=running.pk).update(status=Auction.Status.SOLD)
    after = staff_client.get(reverse("admin:listings_bid_changelist")).content.decode()
    assert "187654" in after or "187,654" in after


def test_trading_records_are_read_only(staff_client, running, enterprise, university):
    public = running.public_listing
    Intent.objects.create(public_listing=public, organization=enterprise, submitted_by=enterprise.created_by)
    deal = Deal.objects.create(
        listing=make_listing(university, title="已成交"),
        buyer=EnterpriseFactory(),
        price="1000",
        via="negotiation",
        concluded_at=public.ends_at,
    )
    for model, pk in (
        ("publiclisting", public.pk),
        ("auction", running.pk),
        ("bid", Bid.objects.get().pk),
        ("deal", deal.pk),
        ("intent", Intent.objects.get().pk),
    ):
        assert staff_client.get(reverse(f"admin:listings_{model}_add")).status_code == 403
        assert staff_client.get(reverse(f"admin:listings_{model}_change", args=[pk])).status_code == 200
        assert (
            staff_client.post(
                reverse(f"admin:listings_{model}_delete", args=[pk]), {"post": "yes"}
            ).status_code
            == 403
        )
    assert PublicListing.objects.filter(pk=public.pk).exists()


def test_publicity_list_shows_status_and_certificate_code(staff_client, university, enterprise):
    publicity = make_publicity(make_listing(university, state_funded=True), enterprise, certified=True)
    body = staff_client.get(reverse("admin:listings_publicity_changelist")).content.decode()
    assert publicity.certificate_code in body
    change = staff_client.get(
        reverse("admin:listings_publicity_change", args=[publicity.pk])
    ).content.decode()
    assert reverse("listings:certificate", kwargs={"pk": publicity.pk}) in change


def test_public_listing_page_lists_its_intents(staff_client, university, enterprise):
    public = make_public_listing(make_listing(university))
    services.intent_file(public_listing=public, organization=enterprise, actor=enterprise.created_by)
    body = staff_client.get(reverse("admin:listings_publiclisting_change", args=[public.pk])).content.decode()
    assert enterprise.name in body
