"""API of the listings app (SPEC §5, §9.4): listings, public listings with intents, auctions with bids,
publicity with objections and certificates — successes, refusals with their codes, confidentiality, query
counts."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from listings import services
from listings.models import (
    Auction,
    AuctionBidder,
    Bid,
    Intent,
    Listing,
    ListingRevision,
    Objection,
    PublicListing,
)
from tests.factories import EnterpriseFactory, MembershipFactory
from tests.listings.builders import bid, join, make_auction, make_listing, make_public_listing, make_publicity

pytestmark = pytest.mark.django_db
PL = PublicListing.Status
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

LISTINGS = "/api/v1/listings/"
PUBLIC = "/api/v1/public-listings/"
AUCTIONS = "/api/v1/auctions/"
PUBLICITY = "/api/v1/publicity/"


def error_code(response):
    return response.json()["error"]["code"]


@pytest.fixture
def listing(university):
    return make_listing(university)


# --- listings ----------------------------------------------------------------------------------------------


def test_list_is_public_and_hides_unpublished(api_client, university, listing):
    make_listing(university, title="草稿", status=Listing.Status.DRAFT)

    response = api_client.get(LISTINGS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == listing.pk
    assert row["transfer_modes"] == ["transfer", "exclusive_license"]
    assert row["asking_price"] == "500000.00"
    assert row["owner"] == {"id": university.pk, "name": university.name}
    assert row["url"] == f"/listings/{listing.pk}/"
    assert "details" not in row


def test_owner_lists_its_drafts(api_client_for, university, university_admin):
    draft = make_listing(university, status=Listing.Status.DRAFT)
    ids = [row["id"] for row in api_client_for(university_admin).get(LISTINGS).json()["results"]]
    assert ids == [draft.pk]


def test_list_filters_by_transfer_mode_and_external_ref(api_client, university):
    exclusive = make_listing(university, transfer_modes=["exclusive_license"])
    make_listing(university, transfer_modes=["non_exclusive_license"])
    Listing.objects.filter(pk=exclusive.pk).update(external_ref="zj-2024-001")

    by_mode = api_client.get(LISTINGS, {"transfer_mode": "exclusive_license"}).json()
    by_ref = api_client.get(LISTINGS, {"external_ref": "zj-2024-001"}).json()
    bad = api_client.get(LISTINGS, {"transfer_mode": "sale"})

    assert [row["id"] for row in by_mode["results"]] == [exclusive.pk]
    assert [row["id"] for row in by_ref["results"]] == [exclusive.pk]
    assert bad.status_code == 400


def test_retrieve_has_public_listing_auction_and_comparable_prices(
    api_client, university, enterprise, listing
):
    sold = make_listing(
        university, title="注塑模具镶件真空热处理变形控制方法", status=Listing.Status.TRANSFERRED
    )
    services.deal_record(listing=sold, buyer=enterprise, price=Decimal("420000"), via="negotiation")
    public = make_public_listing(listing)

    body = api_client.get(f"{LISTINGS}{listing.pk}/").json()

    assert body["details"] == listing.details
    assert body["attachments"] is None
    assert body["is_owner"] is False
    assert body["pending_revision"] is None
    assert body["public_listing"]["id"] == public.pk
    assert body["auction"] is None
    [comparable] = body["comparable_deals"]
    assert (comparable["title"], comparable["price"], comparable["via"]) == (
        sold.title,
        "420000.00",
        "negotiation",
    )


def test_outsider_gets_404_on_unpublished_listing(api_client_for, outsider, university):
    draft = make_listing(university, status=Listing.Status.DRAFT)
    assert api_client_for(outsider).get(f"{LISTINGS}{draft.pk}/").status_code == 404
    assert APIClient().get(f"{LISTINGS}{draft.pk}/").status_code == 404


def test_create_draft_and_submit(api_client_for, university, university_admin):
    client = api_client_for(university_admin)
    payload = {
        "owner": university.pk,
        "title": "锂电池陶瓷涂覆隔膜及其制备方法",
        "summary": "勃姆石/PVDF复合涂层隔膜。",
        "listing_type": "invention_patent",
        "field": "new_energy",
        "sub_field": "new_energy.energy_storage",
        "maturity": "pilot",
        "transfer_modes": ["transfer", "equity"],
        "asking_price": "1500000.00",
        "state_funded": True,
    }

    created = client.post(LISTINGS, payload, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["region"]["code"], body["state_funded"]) == ("draft", "330100", True)
    submitted = client.post(f"{LISTINGS}{body['id']}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending_review"


def test_create_refuses_unknown_field_and_other_organizations(
    api_client_for, university, university_admin, enterprise
):
    client = api_client_for(university_admin)
    base = {
        "title": "t",
        "summary": "s",
        "listing_type": "software",
        "maturity": "lab",
        "transfer_modes": ["transfer"],
    }
    wrong_field = client.post(LISTINGS, {**base, "owner": university.pk, "field": "quantum"}, format="json")
    other_owner = client.post(
        LISTINGS, {**base, "owner": enterprise.pk, "field": "new_energy"}, format="json"
    )

    assert wrong_field.status_code == 400
    assert wrong_field.json()["error"]["fields"]["field"]
    assert other_owner.status_code == 400
    assert error_code(other_owner) == "not_owner"
    assert not Listing.objects.exists()


def test_unverified_organization_cannot_submit(api_client_for, pending_org, pending_admin):
    draft = make_listing(pending_org, status=Listing.Status.DRAFT)
    response = api_client_for(pending_admin).post(f"{LISTINGS}{draft.pk}/submit/")
    assert response.status_code == 400
    assert error_code(response) == "not_verified"
    draft.refresh_from_db()
    assert draft.status == Listing.Status.DRAFT


def test_edit_of_published_listing_is_a_revision(api_client_for, university_admin, listing):
    response = api_client_for(university_admin).patch(
        f"{LISTINGS}{listing.pk}/", {"asking_price": "650000.00"}, format="json"
    )

    assert response.status_code == 202
    assert response.json()["changes"] == {"asking_price": "650000.00"}
    listing.refresh_from_db()
    assert listing.asking_price == Decimal("500000.00")
    assert ListingRevision.objects.get().status == "pending"
    detail = api_client_for(university_admin).get(f"{LISTINGS}{listing.pk}/").json()
    assert detail["pending_revision"]["changes"] == {"asking_price": "650000.00"}


def test_edit_of_draft_applies_directly(api_client_for, university, university_admin):
    draft = make_listing(university, status=Listing.Status.DRAFT)
    response = api_client_for(university_admin).patch(
        f"{LISTINGS}{draft.pk}/", {"title": "新标题"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "新标题"


def test_non_owner_gets_403_on_writes(api_client_for, enterprise_admin, listing):
    client = api_client_for(enterprise_admin)
    assert client.patch(f"{LISTINGS}{listing.pk}/", {"title": "x"}, format="json").status_code == 403
    assert client.post(f"{LISTINGS}{listing.pk}/withdraw/").status_code == 403
    assert client.post(f"{LISTINGS}{listing.pk}/submit/").status_code == 403
    listing.refresh_from_db()
    assert (listing.title, listing.status) == ("一种注塑模具随形冷却水路的设计方法", "published")


def test_withdraw(api_client_for, university_admin, listing):
    response = api_client_for(university_admin).post(
        f"{LISTINGS}{listing.pk}/withdraw/", {"reason": "已另行转让"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("withdrawn", "已另行转让")


def test_withdraw_refused_while_in_auction(api_client_for, university_admin, listing):
    make_auction(listing)
    response = api_client_for(university_admin).post(f"{LISTINGS}{listing.pk}/withdraw/")
    assert response.status_code == 400
    assert error_code(response) == "in_trade"


def test_attachments_upload_and_visibility(
    api_client_for, university_admin, enterprise_admin, pending_admin, listing
):
    owner = api_client_for(university_admin)
    uploaded = owner.post(
        f"{LISTINGS}{listing.pk}/attachments/",
        {"file": SimpleUploadedFile("报告.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    )
    assert uploaded.status_code == 201
    download_url = uploaded.json()["download_url"]

    buyer = api_client_for(enterprise_admin)
    assert [a["original_name"] for a in buyer.get(f"{LISTINGS}{listing.pk}/attachments/").json()] == [
        "报告.pdf"
    ]
    assert buyer.get(download_url).status_code == 200
    assert buyer.get(f"{LISTINGS}{listing.pk}/").json()["attachments"][0]["download_url"] == download_url

    unverified = api_client_for(pending_admin)
    refused = unverified.get(f"{LISTINGS}{listing.pk}/attachments/")
    assert refused.status_code == 403
    assert error_code(refused) == "attachments_restricted"
    assert unverified.get(download_url).status_code == 403
    assert APIClient().get(download_url).status_code == 403


# --- public listings and intents -----------------------------------------------------------------------------


def test_owner_opens_a_public_listing(api_client_for, university_admin, listing):
    response = api_client_for(university_admin).post(
        PUBLIC,
        {"listing": listing.pk, "floor_price": "450000", "increment": "10000", "days": 20},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["floor_price"], body["intent_count"], body["auction"]) == (
        "open",
        "450000.00",
        0,
        None,
    )


def test_non_owner_cannot_open(api_client_for, enterprise_admin, listing):
    response = api_client_for(enterprise_admin).post(
        PUBLIC, {"listing": listing.pk, "floor_price": "1", "increment": "1", "days": 5}, format="json"
    )
    assert response.status_code == 403
    assert not PublicListing.objects.exists()


def test_second_public_listing_is_refused(api_client_for, university_admin, listing):
    make_public_listing(listing)
    response = api_client_for(university_admin).post(
        PUBLIC, {"listing": listing.pk, "floor_price": "1", "increment": "1", "days": 5}, format="json"
    )
    assert response.status_code == 400
    assert error_code(response) == "already_listed"


def test_verified_buyer_files_intent_and_count_is_public(
    api_client, api_client_for, enterprise, enterprise_admin, university_admin, listing
):
    public = make_public_listing(listing)

    filed = api_client_for(enterprise_admin).post(
        f"{PUBLIC}{public.pk}/intents/", {"message": "希望洽谈"}, format="json"
    )

    assert filed.status_code == 201
    assert filed.json()["organization"] == {"id": enterprise.pk, "name": enterprise.name}
    anonymous = api_client.get(f"{PUBLIC}{public.pk}/intents/").json()
    assert anonymous == {"count": 1, "results": []}
    owner = api_client_for(university_admin).get(f"{PUBLIC}{public.pk}/intents/").json()
    assert [row["organization"]["id"] for row in owner["results"]] == [enterprise.pk]
    own = api_client_for(enterprise_admin).get(f"{PUBLIC}{public.pk}/intents/").json()
    assert len(own["results"]) == 1
    stranger = api_client_for(EnterpriseFactory().created_by).get(f"{PUBLIC}{public.pk}/intents/").json()
    assert stranger == {"count": 1, "results": []}
    assert api_client.get(f"{PUBLIC}{public.pk}/").json()["intent_count"] == 1


@pytest.mark.parametrize(
    ("who", "status_code", "code"),
    [("pending_admin", 403, "permission_denied"), ("university_admin", 400, "validation_error")],
)
def test_intent_refused_for_unverified_buyers_and_the_owner(
    request, api_client_for, listing, who, status_code, code
):
    public = make_public_listing(listing)
    response = api_client_for(request.getfixturevalue(who)).post(
        f"{PUBLIC}{public.pk}/intents/", {}, format="json"
    )
    assert response.status_code == status_code
    assert error_code(response) == code
    assert not Intent.objects.exists()


def test_intent_twice_and_after_the_period(api_client_for, enterprise_admin, listing):
    public = make_public_listing(listing)
    client = api_client_for(enterprise_admin)
    client.post(f"{PUBLIC}{public.pk}/intents/", {}, format="json")

    twice = client.post(f"{PUBLIC}{public.pk}/intents/", {}, format="json")
    assert (twice.status_code, error_code(twice)) == (400, "duplicate")

    now = timezone.now()
    PublicListing.objects.filter(pk=public.pk).update(starts_at=now - timedelta(days=9), ends_at=now)
    other = EnterpriseFactory()
    late = api_client_for(other.created_by).post(f"{PUBLIC}{public.pk}/intents/", {}, format="json")
    assert (late.status_code, error_code(late)) == (400, "period_over")
    assert Intent.objects.count() == 1


def test_intent_anonymous_is_401(api_client, listing):
    public = make_public_listing(listing)
    assert api_client.post(f"{PUBLIC}{public.pk}/intents/", {}, format="json").status_code == 401


def test_relist_withdraw_and_conclude(api_client_for, university_admin, enterprise, listing):
    client = api_client_for(university_admin)
    waiting = make_public_listing(listing, status=PL.AWAITING_OWNER)

    relisted = client.post(
        f"{PUBLIC}{waiting.pk}/relist/", {"days": 10, "floor_price": "180000"}, format="json"
    )
    assert relisted.status_code == 201
    new_id = relisted.json()["id"]
    assert (relisted.json()["status"], relisted.json()["floor_price"]) == ("open", "180000.00")

    again = client.post(f"{PUBLIC}{waiting.pk}/relist/", {"days": 10}, format="json")
    assert (again.status_code, error_code(again)) == (400, "bad_state")

    services.intent_file(
        public_listing=PublicListing.objects.get(pk=new_id),
        organization=enterprise,
        actor=enterprise.created_by,
    )
    PublicListing.objects.filter(pk=new_id).update(status=PL.NEGOTIATION)
    withdraw = client.post(f"{PUBLIC}{new_id}/withdraw/")
    assert (withdraw.status_code, error_code(withdraw)) == (400, "bad_state")

    concluded = client.post(
        f"{PUBLIC}{new_id}/conclude/", {"buyer": enterprise.pk, "price": "200000"}, format="json"
    )
    assert concluded.status_code == 201
    assert (concluded.json()["buyer"]["id"], concluded.json()["price"], concluded.json()["via"]) == (
        enterprise.pk,
        "200000.00",
        "negotiation",
    )
    listing.refresh_from_db()
    assert listing.status == Listing.Status.TRANSFERRED


def test_conclude_by_non_owner_is_403(api_client_for, enterprise_admin, enterprise, listing):
    public = make_public_listing(listing, status=PL.NEGOTIATION)
    response = api_client_for(enterprise_admin).post(
        f"{PUBLIC}{public.pk}/conclude/", {"buyer": enterprise.pk, "price": "1"}, format="json"
    )
    assert response.status_code == 403


def test_public_listing_of_unpublished_listing_is_404(api_client, university):
    draft = make_listing(university, status=Listing.Status.WITHDRAWN)
    public = make_public_listing(draft, status=PL.WITHDRAWN)
    assert api_client.get(f"{PUBLIC}{public.pk}/").status_code == 404
    assert api_client.get(PUBLIC).json()["count"] == 0


# --- auctions ----------------------------------------------------------------------------------------------


@pytest.fixture
def auction(listing):
    return make_auction(listing, reserve="100000", increment="5000")


@pytest.fixture
def bidders(auction):
    first = EnterpriseFactory(name="甲方竞买精密制造有限公司")
    second = EnterpriseFactory(name="乙方竞买模具科技有限公司")
    join(auction, first)
    join(auction, second)
    return first, second


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def post_bid(client, auction, maximum, token=None, **extra):
    return client.post(
        f"{AUCTIONS}{auction.pk}/bids/",
        {"maximum": str(maximum), "client_token": token or uuid.uuid4().hex, **extra},
        format="json",
    )


def test_auction_state_shows_paddles_never_names_or_maximums(api_client, auction, bidders):
    first, second = bidders
    bid(auction, first, "137777", "t1")
    bid(auction, second, "163333", "t2")

    for path in (f"{AUCTIONS}{auction.pk}/", AUCTIONS):
        response = api_client.get(path)
        text = response.content.decode()
        assert response.status_code == 200
        for secret in (first.name, second.name, "137777", "163333"):
            assert secret not in text
    body = api_client.get(f"{AUCTIONS}{auction.pk}/").json()
    assert (body["price"], body["leader_paddle"], body["minimum_bid"], body["bid_count"]) == (
        "142777.00",
        102,
        "147777.00",
        2,
    )
    assert [b["paddle"] for b in body["bids"]] == [102, 101]
    assert (body["own_paddles"], body["leading"]) == ([], False)
    assert body["listing"]["id"] == auction.public_listing.listing_id


def test_join_requires_terms_and_a_verified_organization(
    api_client_for, auction, enterprise_admin, pending_admin
):
    client = api_client_for(enterprise_admin)
    refused = client.post(f"{AUCTIONS}{auction.pk}/join/", {"accept_terms": False}, format="json")
    assert refused.status_code == 400
    assert "accept_terms" in refused.json()["error"]["fields"]

    unverified = api_client_for(pending_admin).post(
        f"{AUCTIONS}{auction.pk}/join/", {"accept_terms": True}, format="json"
    )
    assert unverified.status_code == 403
    assert not AuctionBidder.objects.exists()

    joined = client.post(f"{AUCTIONS}{auction.pk}/join/", {"accept_terms": True}, format="json")
    assert joined.status_code == 201
    assert joined.json()["paddle"] == 101
    assert joined.json()["terms_sha256"] == services.terms_digest()
    terms = client.get(f"{AUCTIONS}{auction.pk}/terms/").json()
    assert terms["terms_sha256"] == services.terms_digest()


def test_owner_cannot_join(api_client_for, auction, university, university_admin):
    response = api_client_for(university_admin).post(
        f"{AUCTIONS}{auction.pk}/join/", {"accept_terms": True, "organization": university.pk}, format="json"
    )
    assert (response.status_code, error_code(response)) == (400, "own_lot")


def test_bid_is_accepted_with_a_small_response(auction, enterprise, enterprise_admin):
    join(auction, enterprise)
    response = post_bid(token_client(enterprise_admin), auction, "120000.00", token="first")

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "sequence": 1,
        "paddle": 101,
        "maximum": "120000.00",
        "price_after": "100000.00",
        "leader_paddle": 101,
        "leading": True,
        "ends_at": body["ends_at"],
        "placed_at": body["placed_at"],
    }
    auction.refresh_from_db()
    assert body["ends_at"] == auction.ends_at.isoformat()


def test_outbid_bid_reports_the_leader_paddle(auction, bidders):
    first, second = bidders
    bid(auction, first, "150000", "a")
    body = post_bid(token_client(second.created_by), auction, "130000").json()
    assert (body["leading"], body["leader_paddle"], body["paddle"], body["price_after"]) == (
        False,
        101,
        102,
        "135000.00",
    )


def test_same_client_token_is_idempotent(auction, enterprise, enterprise_admin):
    join(auction, enterprise)
    client = token_client(enterprise_admin)
    first = post_bid(client, auction, "120000", token="retry-me")
    second = post_bid(client, auction, "120000", token="retry-me")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Bid.objects.count() == 1
    auction.refresh_from_db()
    assert auction.bid_count == 1


@pytest.mark.parametrize(
    ("setup", "maximum", "code", "minimum"),
    [
        (False, "99999.99", "below_reserve", "100000.00"),
        (True, "104999", "below_increment", "105000.00"),
    ],
)
def test_bid_below_reserve_or_increment(auction, bidders, setup, maximum, code, minimum):
    first, second = bidders
    if setup:
        bid(auction, first, "100000", "a")
    response = post_bid(token_client(second.created_by), auction, maximum)

    assert response.status_code == 400
    assert error_code(response) == code
    assert response.json()["error"]["details"]["minimum"] == minimum
    assert Bid.objects.filter(bidder__organization=second).count() == 0


def test_leader_must_raise_above_own_maximum(auction, enterprise, enterprise_admin):
    join(auction, enterprise)
    client = token_client(enterprise_admin)
    post_bid(client, auction, "120000")
    response = post_bid(client, auction, "120000")
    assert (response.status_code, error_code(response)) == (400, "not_above_own_max")


def test_bid_refusals_for_unverified_and_terms_not_accepted(
    auction, enterprise_admin, pending_org, pending_admin
):
    not_joined = post_bid(token_client(enterprise_admin), auction, "120000")
    assert (not_joined.status_code, error_code(not_joined)) == (400, "terms_not_accepted")

    # A member of an organization waiting for verification is refused before anything else is looked at.
    unverified = post_bid(token_client(pending_admin), auction, "120000", organization=pending_org.pk)
    assert (unverified.status_code, error_code(unverified)) == (400, "not_verified")
    assert not Bid.objects.exists()


def test_bid_for_an_organization_of_someone_else_is_refused(auction, bidders, enterprise_admin):
    first, _second = bidders
    response = post_bid(token_client(enterprise_admin), auction, "120000", organization=first.pk)
    assert (response.status_code, error_code(response)) == (400, "not_member")


def test_bid_after_the_end_and_after_the_close(auction, enterprise, enterprise_admin):
    join(auction, enterprise)
    client = token_client(enterprise_admin)
    past = timezone.now() - timedelta(seconds=1)
    Auction.objects.filter(pk=auction.pk).update(scheduled_end=past, ends_at=past)

    ended = post_bid(client, auction, "120000")
    assert (ended.status_code, error_code(ended)) == (400, "closed")

    Auction.objects.filter(pk=auction.pk).update(status=Auction.Status.FAILED)
    closed = post_bid(client, auction, "120000")
    assert (closed.status_code, error_code(closed)) == (400, "not_running")
    assert not Bid.objects.exists()


def test_bid_before_the_start_is_refused(listing, enterprise, enterprise_admin):
    auction = make_auction(
        listing, started_minutes_ago=-30, minutes_left=120, status=Auction.Status.SCHEDULED
    )
    join(auction, enterprise)
    response = post_bid(token_client(enterprise_admin), auction, "120000")
    assert (response.status_code, error_code(response)) == (400, "not_running")


def test_bid_on_unknown_auction_is_404_and_anonymous_401(api_client, enterprise, enterprise_admin, auction):
    missing = Auction(pk=auction.pk + 100)
    assert post_bid(token_client(enterprise_admin), missing, "1").status_code == 404
    assert (
        post_bid(token_client(enterprise_admin), missing, "1", organization=enterprise.pk).status_code == 404
    )
    assert post_bid(api_client, auction, "120000").status_code == 401


def test_bid_with_two_paddles_must_name_the_organization(auction, enterprise, enterprise_admin):
    other = EnterpriseFactory()
    MembershipFactory(organization=other, user=enterprise_admin)
    join(auction, enterprise)
    join(auction, other, user=enterprise_admin)
    client = token_client(enterprise_admin)

    ambiguous = post_bid(client, auction, "120000")
    named = post_bid(client, auction, "120000", organization=other.pk)

    assert ambiguous.status_code == 400
    assert "organization" in ambiguous.json()["error"]["fields"]
    assert (named.status_code, named.json()["paddle"]) == (201, 102)


def test_bid_endpoint_query_count(auction, bidders, django_assert_num_queries):
    """The hot path: token, paddle (admission), then under the lock only lock + insert + update — plus the
    SAVEPOINT/RELEASE of the service's atomic block, which the test's own transaction turns into a savepoint."""
    first, second = bidders
    bid(auction, first, "150000", "a")
    client = token_client(second.created_by)
    with django_assert_num_queries(7):
        leading = post_bid(client, auction, "200000")
    assert (leading.json()["leading"], leading.json()["leader_paddle"]) == (True, 102)
    client_first = token_client(first.created_by)
    with django_assert_num_queries(8):  # organization named; outbid: the leader's paddle, after the commit
        outbid = post_bid(client_first, auction, "160000", organization=first.pk)
    assert (outbid.json()["leading"], outbid.json()["leader_paddle"]) == (False, 102)


# --- publicity ---------------------------------------------------------------------------------------------


@pytest.fixture
def state_funded(university):
    return make_listing(university, title="速冻米制品抗回生复合酶制剂", state_funded=True)


def test_publicity_list_and_retrieve(api_client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise, price="320000")

    body = api_client.get(PUBLICITY).json()

    [row] = body["results"]
    assert row["id"] == publicity.pk
    assert row["transferor"] == {"id": state_funded.owner_id, "name": state_funded.owner.name}
    assert row["transferee"] == {"id": enterprise.pk, "name": enterprise.name}
    assert (row["price"], row["status"], row["certificate_code"], row["certificate_url"]) == (
        "320000.00",
        "open",
        None,
        None,
    )
    assert api_client.get(f"{PUBLICITY}{publicity.pk}/").json() == row


def test_objection_during_and_after_the_period(
    api_client, api_client_for, outsider, state_funded, enterprise
):
    current = make_publicity(state_funded, enterprise)
    other_listing = make_listing(state_funded.owner, title="另一项成果", state_funded=True)
    old = make_publicity(other_listing, enterprise, days_ago=16)
    client = api_client_for(outsider)

    filed = client.post(f"{PUBLICITY}{current.pk}/objections/", {"text": "发明人署名有误。"}, format="json")
    late = client.post(f"{PUBLICITY}{old.pk}/objections/", {"text": "迟到的异议"}, format="json")
    anonymous = api_client.post(f"{PUBLICITY}{current.pk}/objections/", {"text": "x"}, format="json")

    assert filed.status_code == 201
    assert (filed.json()["status"], filed.json()["text"]) == ("pending", "发明人署名有误。")
    assert (late.status_code, error_code(late)) == (400, "period_over")
    assert anonymous.status_code == 401
    assert Objection.objects.count() == 1
    mine = client.get(f"{PUBLICITY}{current.pk}/objections/").json()
    assert [row["text"] for row in mine] == ["发明人署名有误。"]
    assert api_client_for(enterprise.created_by).get(f"{PUBLICITY}{current.pk}/objections/").json() == []


def test_certificate_and_verification(api_client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise, certified=True)
    code = publicity.certificate_code

    verified = api_client.get(f"{PUBLICITY}verify/{code}/")
    assert verified.status_code == 200
    assert verified.json()["transferee"]["name"] == enterprise.name
    assert api_client.get(f"{PUBLICITY}verify/{code.lower()}/").status_code == 200
    assert api_client.get(f"{PUBLICITY}verify/DEADBEEF00000000/").status_code == 404

    pdf = api_client.get(verified.json()["certificate_url"])
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_no_certificate_while_in_publicity(api_client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise)
    assert api_client.get(f"{PUBLICITY}{publicity.pk}/certificate/").status_code == 404


# --- query counts of the lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 5])
def test_list_query_counts_are_fixed(api_client, university, enterprise, django_assert_num_queries, rows):
    for n in range(rows):
        listing = make_listing(
            university, title=f"成果{n}", sub_field="advanced_manufacturing.moulds_plastics"
        )
        auction = make_auction(listing)
        join(auction, enterprise)
        bid(auction, enterprise, "100000", f"t{n}")
        funded = make_listing(university, title=f"公示成果{n}", state_funded=True)
        make_publicity(funded, enterprise)

    with django_assert_num_queries(2):  # count, page (owner, field, sub-field, region joined)
        assert api_client.get(LISTINGS).json()["count"] == 2 * rows
    with django_assert_num_queries(2):  # count, page (listing and auction joined, intents counted)
        assert api_client.get(PUBLIC).json()["count"] == rows
    with django_assert_num_queries(2):  # count, page (listing and leader joined)
        assert api_client.get(AUCTIONS).json()["count"] == rows
    with django_assert_num_queries(2):  # count, page (deal, listing, owner and buyer joined)
        assert api_client.get(PUBLICITY).json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 5])
def test_authenticated_list_query_count_is_fixed(
    api_client_for, university_admin, university, django_assert_num_queries, rows
):
    for n in range(rows):
        make_listing(university, title=f"成果{n}", status=Listing.Status.DRAFT)
    client = api_client_for(university_admin)
    client.get(LISTINGS)  # warm the session
    with django_assert_num_queries(5):  # session, user, memberships, count, page
        assert client.get(LISTINGS).json()["count"] == rows


def test_schema_lists_the_listings_endpoints(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/listings/",
        "/api/v1/listings/{id}/submit/",
        "/api/v1/public-listings/{id}/intents/",
        "/api/v1/auctions/{id}/bids/",
        "/api/v1/publicity/verify/{code}/",
    ):
        assert path in schema["paths"]
