"""Website of the listings app: the market list and its filters, listing pages and their confidentiality, the
owner's forms, public listing with intents, the auction page and its JSON, "my listings", publicity with
objections, the certificate PDF and its public verification (SPEC §5, §10)."""

import os
import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from listings import services
from listings.filters import ListingFilter
from listings.models import (
    Auction,
    AuctionBidder,
    Bid,
    Intent,
    Listing,
    ListingAttachment,
    ListingRevision,
    Objection,
    Publicity,
    PublicListing,
)
from listings.selectors import listing_list_public
from tests.factories import EnterpriseFactory, MembershipFactory
from tests.listings.builders import (
    bid,
    join,
    make_auction,
    make_listing,
    make_public_listing,
    make_publicity,
)

pytestmark = pytest.mark.django_db
PL = PublicListing.Status
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def detail(listing):
    return reverse("listings:detail", kwargs={"pk": listing.pk})


# --- the market list and its filters -------------------------------------------------------------------------


def test_list_shows_published_and_transferred_listings_only(client, university):
    published = make_listing(university, title="已发布的成果")
    transferred = make_listing(university, title="已转让的成果", status=Listing.Status.TRANSFERRED)
    draft = make_listing(university, title="草稿成果", status=Listing.Status.DRAFT)
    pending = make_listing(university, title="待审核成果", status=Listing.Status.PENDING_REVIEW)

    response = client.get(reverse("listings:list"))

    assert response.status_code == 200
    shown = {listing.pk for listing in response.context["page"]}
    assert shown == {published.pk, transferred.pk}
    assert draft.title not in response.content.decode()
    assert pending.title not in response.content.decode()


def test_list_paginates(client, university):
    for n in range(23):
        make_listing(university, title=f"成果{n:02d}")

    first = client.get(reverse("listings:list"))
    second = client.get(reverse("listings:list"), {"page": 2})

    assert len(first.context["page"]) == 20
    assert len(second.context["page"]) == 3
    assert first.context["page"].paginator.count == 23


def _filtered(params) -> set[int]:
    return set(ListingFilter(params, queryset=listing_list_public()).qs.values_list("pk", flat=True))


def test_transfer_mode_filter_matches_json_list_items_exactly(university):
    # On SQLite the JSON list is matched as text: "exclusive_license" must not match "non_exclusive_license".
    exclusive = make_listing(university, transfer_modes=["exclusive_license"])
    non_exclusive = make_listing(university, transfer_modes=["non_exclusive_license", "equity"])
    both = make_listing(university, transfer_modes=["transfer", "exclusive_license", "equity"])

    assert _filtered({"transfer_mode": "exclusive_license"}) == {exclusive.pk, both.pk}
    assert _filtered({"transfer_mode": "non_exclusive_license"}) == {non_exclusive.pk}
    assert _filtered({"transfer_mode": "equity"}) == {non_exclusive.pk, both.pk}
    assert _filtered({"transfer_mode": "joint_development"}) == set()


def test_transfer_mode_filter_refuses_unknown_modes():
    filterset = ListingFilter({"transfer_mode": '"; drop'}, queryset=listing_list_public())
    assert not filterset.is_valid()
    assert "transfer_mode" in filterset.errors


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "锂电池 隔膜"}, {"battery"}),
        ({"q": "隔膜 注塑"}, set()),
        ({"q": "ENERGY Efficiency"}, {"battery"}),
        ({"field": "new_energy"}, {"battery"}),
        ({"field": "advanced_manufacturing.moulds_plastics"}, {"mould"}),
        ({"listing_type": "software"}, {"software"}),
        ({"maturity": "industrialised"}, {"software"}),
        ({"price_min": "400000"}, {"mould", "battery"}),
        ({"price_max": "400000"}, {"software"}),
        ({"price_min": "100000", "price_max": "600000"}, {"mould", "software"}),
        ({"region": "330000"}, {"mould", "software"}),
        ({"region": "330200"}, {"software"}),
        ({"region": "320000"}, {"battery"}),
        ({"status": "transferred"}, {"software"}),
        ({"state_funded": "true"}, {"battery"}),
        ({"external_ref": "ext-battery"}, {"battery"}),
    ],
)
def test_filters(university, params, expected):
    rows = {
        "mould": make_listing(
            university,
            title="注塑模具随形冷却",
            field="advanced_manufacturing",
            sub_field="advanced_manufacturing.moulds_plastics",
            asking_price=Decimal("500000"),
            region="330100",
        ),
        "software": make_listing(
            university,
            title="工业相机图像增强软件",
            listing_type="software",
            field="electronic_information",
            maturity="industrialised",
            asking_price=Decimal("300000"),
            region="330200",
            status=Listing.Status.TRANSFERRED,
        ),
        "battery": make_listing(
            university,
            title="锂电池陶瓷涂覆隔膜",
            field="new_energy",
            asking_price=Decimal("1500000"),
            region="320100",
            state_funded=True,
        ),
    }
    Listing.objects.filter(pk=rows["battery"].pk).update(external_ref="ext-battery")
    names = {row.pk: name for name, row in rows.items()}
    assert {names[pk] for pk in _filtered(params)} == expected


def test_list_filters_through_the_page(client, university):
    make_listing(university, title="锂电池陶瓷涂覆隔膜", transfer_modes=["equity"])
    make_listing(university, title="注塑模具随形冷却")

    response = client.get(reverse("listings:list"), {"q": "隔膜", "transfer_mode": "equity"})

    assert [listing.title for listing in response.context["page"]] == ["锂电池陶瓷涂覆隔膜"]


def test_list_query_count_does_not_grow_with_rows(client, university):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("listings:list")).status_code == 200
        return len(queries)

    make_listing(university)
    few = count()
    for n in range(6):
        make_listing(university, title=f"成果{n}", sub_field="advanced_manufacturing.moulds_plastics")
    assert count() == few


# --- the listing page ------------------------------------------------------------------------------------------


@pytest.fixture
def listing(university):
    return make_listing(university)


def test_detail_is_public_for_a_published_listing(client, listing):
    response = client.get(detail(listing))

    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        listing.title,
        listing.summary,
        listing.details,
        listing.patent_number,
        "¥500,000",
        "王建国",
    ):
        assert text in body
    assert response.context["can_see_attachments"] is False
    assert "attachments" not in response.context


@pytest.mark.parametrize("status", ["draft", "pending_review", "rejected", "withdrawn"])
def test_unpublished_listing_is_404_for_outsiders_and_shown_to_owner(
    client_for, outsider, university, status
):
    listing = make_listing(university, status=status)
    assert client_for(outsider).get(detail(listing)).status_code == 404
    assert client_for(EnterpriseFactory().created_by).get(detail(listing)).status_code == 404
    owner_response = client_for(university.created_by).get(detail(listing))
    assert owner_response.status_code == 200
    assert owner_response.context["can_manage"] is True


def test_negotiable_price_shows_as_negotiable(client, university):
    listing = make_listing(university, asking_price=None, price_negotiable=True)
    response = client.get(detail(listing))
    facts = response.content.decode().split('<dl class="facts">')[1].split("</dl>")[0]
    assert f"<strong>{gettext('Negotiable')}</strong>" in facts
    assert "¥" not in facts


def _attach(listing):
    return services.listing_attachment_add(
        listing=listing,
        actor=listing.owner.created_by,
        uploaded=SimpleUploadedFile("中试报告.pdf", PDF, content_type="application/pdf"),
    )


def test_attachments_are_for_verified_organizations_and_the_owner(
    client, client_for, listing, enterprise_admin, pending_admin, outsider, university_admin
):
    attachment = _attach(listing)
    url = reverse("listings:attachment_download", kwargs={"attachment_id": attachment.pk})

    for user in (None, outsider, pending_admin):
        web = client if user is None else client_for(user)
        assert web.get(detail(listing)).context["can_see_attachments"] is False
        assert web.get(url).status_code == 404
    for user in (enterprise_admin, university_admin):
        web = client_for(user)
        response = web.get(detail(listing))
        assert [a.pk for a in response.context["attachments"]] == [attachment.pk]
        download = web.get(url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_comparable_prices_table(client, university, enterprise):
    listing = make_listing(university, title="锂电池极片涂布厚度在线检测方法", field="new_energy")
    sold = make_listing(
        university,
        title="锂电池极片涂布面密度在线检测装置",
        field="new_energy",
        status=Listing.Status.TRANSFERRED,
    )
    services.deal_record(listing=sold, buyer=enterprise, price=Decimal("380000"), via="negotiation")

    response = client.get(detail(listing))

    assert [row["title"] for row in response.context["comparables"]] == [sold.title]
    assert "¥380,000" in response.content.decode()


# --- the owner's forms -----------------------------------------------------------------------------------------


def _form_data(**overrides):
    return {
        "organization": "",
        "title": "高回弹轻量化EVA发泡鞋底材料",
        "summary": "EVA/POE复合超临界发泡，回弹率65%。",
        "details": "",
        "listing_type": "invention_patent",
        "patent_number": "ZL202210987654.1",
        "field": "new_materials",
        "sub_field": "new_materials.polymers",
        "region": "330100",
        "maturity": "pilot",
        "scenarios": "运动鞋中底",
        "transfer_modes": ["transfer", "exclusive_license"],
        "asking_price": "400000",
        "inventors": "赵明远",
        "action": "draft",
        **overrides,
    }


def test_create_saves_a_draft(client_for, university, university_admin):
    web = client_for(university_admin)
    assert web.get(reverse("listings:create")).status_code == 200

    response = web.post(reverse("listings:create"), _form_data(organization=str(university.pk)))

    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(listing)
    assert (listing.status, listing.owner, listing.sub_field_id) == (
        "draft",
        university,
        "new_materials.polymers",
    )
    assert listing.transfer_modes == ["transfer", "exclusive_license"]
    assert listing.asking_price == Decimal("400000.00")


def test_create_and_submit_sends_to_review(client_for, university, university_admin):
    client_for(university_admin).post(
        reverse("listings:create"), _form_data(organization=str(university.pk), action="submit")
    )
    assert Listing.objects.get().status == Listing.Status.PENDING_REVIEW


def test_unverified_organization_keeps_a_draft(client_for, pending_org, pending_admin):
    client_for(pending_admin).post(
        reverse("listings:create"), _form_data(organization=str(pending_org.pk), action="submit")
    )
    assert Listing.objects.get().status == Listing.Status.DRAFT


def test_create_refuses_a_sub_field_of_another_field(client_for, university, university_admin):
    response = client_for(university_admin).post(
        reverse("listings:create"),
        _form_data(organization=str(university.pk), sub_field="environment.water_treatment"),
    )
    assert response.status_code == 200
    assert "sub_field" in response.context["form"].errors
    assert not Listing.objects.exists()


def test_user_without_organization_is_sent_to_register_one(client_for, outsider):
    response = client_for(outsider).get(reverse("listings:create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("organizations:create")


def test_edit_of_a_published_listing_goes_to_review(client_for, listing, university_admin):
    web = client_for(university_admin)
    response = web.post(
        reverse("listings:edit", kwargs={"pk": listing.pk}),
        _form_data(
            title="新标题：注塑模具随形冷却", field="advanced_manufacturing", sub_field="", action="save"
        ),
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.title == "一种注塑模具随形冷却水路的设计方法"  # the public version stays
    revision = ListingRevision.objects.get(listing=listing)
    assert revision.changes["title"] == "新标题：注塑模具随形冷却"
    assert web.get(detail(listing)).context["pending_revision"] == revision


def test_outsiders_cannot_edit_submit_or_withdraw(client_for, listing, enterprise_admin):
    web = client_for(enterprise_admin)
    for name in ("edit", "submit", "withdraw", "attachments", "public_listing_open"):
        assert web.post(reverse(f"listings:{name}", kwargs={"pk": listing.pk}), {}).status_code == 404
    listing.refresh_from_db()
    assert listing.status == Listing.Status.PUBLISHED


def test_submit_and_withdraw(client_for, university, university_admin):
    draft = make_listing(university, status=Listing.Status.DRAFT)
    web = client_for(university_admin)

    web.post(reverse("listings:submit", kwargs={"pk": draft.pk}))
    draft.refresh_from_db()
    assert draft.status == Listing.Status.PENDING_REVIEW

    web.post(reverse("listings:withdraw", kwargs={"pk": draft.pk}), {"reason": "另行许可"})
    draft.refresh_from_db()
    assert (draft.status, draft.status_reason) == ("withdrawn", "另行许可")


def test_attachment_upload(client_for, listing, university_admin):
    response = client_for(university_admin).post(
        reverse("listings:attachments", kwargs={"pk": listing.pk}),
        {"files": [SimpleUploadedFile("claims.pdf", PDF, content_type="application/pdf")]},
    )
    assert response.status_code == 302
    assert list(ListingAttachment.objects.values_list("original_name", flat=True)) == ["claims.pdf"]


# --- public listing and intents --------------------------------------------------------------------------------


def test_owner_opens_a_public_listing(client_for, listing, university_admin):
    response = client_for(university_admin).post(
        reverse("listings:public_listing_open", kwargs={"pk": listing.pk}),
        {"floor_price": "450000", "increment": "10000", "days": "20"},
    )

    assert response.status_code == 302
    public = PublicListing.objects.get(listing=listing)
    assert (public.status, public.floor_price) == ("open", Decimal("450000.00"))
    assert (public.ends_at - public.starts_at) == timedelta(days=20)


def test_open_refuses_a_bad_period(client_for, listing, university_admin):
    response = client_for(university_admin).post(
        reverse("listings:public_listing_open", kwargs={"pk": listing.pk}),
        {"floor_price": "450000", "increment": "10000", "days": "400"},
    )
    assert response.status_code == 400
    assert not PublicListing.objects.exists()


def test_verified_buyer_files_an_intent(client_for, listing, enterprise, enterprise_admin):
    public = make_public_listing(listing)
    web = client_for(enterprise_admin)
    page = web.get(detail(listing))
    assert page.context["intent_form"] is not None

    response = web.post(
        reverse("listings:intent", kwargs={"public_listing_id": public.pk}),
        {"organization": str(enterprise.pk), "message": "希望洽谈"},
    )

    assert response.status_code == 302
    intent = Intent.objects.get()
    assert (intent.organization, intent.message) == (enterprise, "希望洽谈")
    after = web.get(detail(listing))
    assert after.context["intent_count"] == 1
    assert "intent_form" not in after.context


def test_intent_refused_for_unverified_and_anonymous(client, client_for, listing, pending_org, pending_admin):
    public = make_public_listing(listing)
    url = reverse("listings:intent", kwargs={"public_listing_id": public.pk})

    anonymous = client.post(url, {"message": "x"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))

    page = client_for(pending_admin).get(detail(listing))
    assert page.context["intent_needs_verified"] is True
    refused = client_for(pending_admin).post(url, {"organization": str(pending_org.pk)})
    assert refused.status_code == 400
    assert not Intent.objects.exists()


def test_intent_after_the_period_is_refused(client_for, listing, enterprise, enterprise_admin):
    public = make_public_listing(listing)
    now = timezone.now()
    PublicListing.objects.filter(pk=public.pk).update(
        starts_at=now - timedelta(days=20), ends_at=now - timedelta(seconds=1)
    )

    response = client_for(enterprise_admin).post(
        reverse("listings:intent", kwargs={"public_listing_id": public.pk}),
        {"organization": str(enterprise.pk)},
    )

    assert response.status_code == 400
    assert not Intent.objects.exists()


def test_owner_sees_the_buyers_others_see_the_count(client_for, listing, enterprise, university_admin):
    public = make_public_listing(listing)
    services.intent_file(public_listing=public, organization=enterprise, actor=enterprise.created_by)

    owner_page = client_for(university_admin).get(detail(listing))
    assert [i.organization for i in owner_page.context["intents"]] == [enterprise]

    other = EnterpriseFactory()
    other_page = client_for(other.created_by).get(detail(listing))
    assert other_page.context["intent_count"] == 1
    assert "intents" not in other_page.context
    assert enterprise.name not in other_page.content.decode()


def test_relist_and_withdraw_after_no_intent(client_for, listing, university_admin):
    public = make_public_listing(listing, status=PL.AWAITING_OWNER)
    web = client_for(university_admin)
    assert web.get(detail(listing)).context["relist_form"] is not None

    response = web.post(
        reverse("listings:relist", kwargs={"public_listing_id": public.pk}),
        {"days": "10", "floor_price": "150000"},
    )

    assert response.status_code == 302
    public.refresh_from_db()
    assert public.status == PL.RELISTED
    new = PublicListing.objects.get(listing=listing, status=PL.OPEN)
    assert new.floor_price == Decimal("150000.00")

    web.post(reverse("listings:public_listing_withdraw", kwargs={"public_listing_id": new.pk}))
    new.refresh_from_db()
    assert new.status == PL.WITHDRAWN


def test_relist_by_outsider_is_404(client_for, listing, enterprise_admin):
    public = make_public_listing(listing, status=PL.AWAITING_OWNER)
    response = client_for(enterprise_admin).post(
        reverse("listings:relist", kwargs={"public_listing_id": public.pk}), {"days": "10"}
    )
    assert response.status_code == 404
    public.refresh_from_db()
    assert public.status == PL.AWAITING_OWNER


def test_owner_concludes_the_negotiation(client_for, listing, enterprise, university_admin):
    public = make_public_listing(listing)
    services.intent_file(public_listing=public, organization=enterprise, actor=enterprise.created_by)
    PublicListing.objects.filter(pk=public.pk).update(status=PL.NEGOTIATION)

    response = client_for(university_admin).post(
        reverse("listings:conclude", kwargs={"public_listing_id": public.pk}),
        {"buyer": str(enterprise.pk), "price": "420000"},
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.status == Listing.Status.TRANSFERRED
    deal = listing.deals.get()
    assert (deal.buyer, deal.price, deal.via) == (enterprise, Decimal("420000.00"), "negotiation")


def test_conclude_refuses_a_buyer_without_intent(client_for, listing, enterprise, university_admin):
    public = make_public_listing(listing, status=PL.NEGOTIATION)
    Intent.objects.create(public_listing=public, organization=enterprise, submitted_by=enterprise.created_by)
    stranger = EnterpriseFactory()

    response = client_for(university_admin).post(
        reverse("listings:conclude", kwargs={"public_listing_id": public.pk}),
        {"buyer": str(stranger.pk), "price": "420000"},
    )

    assert response.status_code == 400
    assert not listing.deals.exists()


# --- the auction page ------------------------------------------------------------------------------------------


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


def test_auction_page_and_state_show_paddles_never_names_or_maximums(client, client_for, auction, bidders):
    first, second = bidders
    bid(auction, first, "137777", "t1")
    bid(auction, second, "163333", "t2")  # leads at 142,777 with a secret maximum of 163,333

    for web in (client, client_for(first.created_by), client_for(EnterpriseFactory().created_by)):
        page = web.get(reverse("listings:auction", kwargs={"pk": auction.pk}))
        state = web.get(reverse("listings:auction_state", kwargs={"pk": auction.pk}))
        assert page.status_code == state.status_code == 200
        for body in (page.content.decode(), state.content.decode()):
            assert second.name not in body
            assert "163333" not in body
            assert "163,333" not in body
            if web is not client:
                continue
            assert first.name not in body
            assert "137777" not in body
            assert "137,777" not in body
    data = client.get(reverse("listings:auction_state", kwargs={"pk": auction.pk})).json()
    assert data["price"] == "142777.00"
    assert data["leader_paddle"] == 102
    assert data["minimum_bid"] == "147777.00"
    assert [b["paddle"] for b in data["bids"]] == [102, 101]
    assert set(data) >= {"ends_at", "server_time", "bid_count", "own_paddles", "leading"}
    assert data["own_paddles"] == []


def test_state_tells_the_viewer_its_own_paddle(client_for, auction, bidders):
    first, second = bidders
    bid(auction, first, "120000", "t1")
    bid(auction, second, "130000", "t2")

    mine = (
        client_for(first.created_by).get(reverse("listings:auction_state", kwargs={"pk": auction.pk})).json()
    )
    theirs = (
        client_for(second.created_by).get(reverse("listings:auction_state", kwargs={"pk": auction.pk})).json()
    )

    assert (mine["own_paddles"], mine["leading"]) == ([101], False)
    assert (theirs["own_paddles"], theirs["leading"]) == ([102], True)


def test_auction_of_an_unpublished_listing_is_404(client, university):
    listing = make_listing(university, status=Listing.Status.WITHDRAWN)
    auction = make_auction(listing)
    assert client.get(reverse("listings:auction", kwargs={"pk": auction.pk})).status_code == 404
    assert client.get(reverse("listings:auction_state", kwargs={"pk": auction.pk})).status_code == 404


def test_join_needs_the_terms_accepted(client_for, auction, enterprise, enterprise_admin):
    web = client_for(enterprise_admin)
    url = reverse("listings:auction_join", kwargs={"pk": auction.pk})

    refused = web.post(url, {"organization": str(enterprise.pk)})
    assert refused.status_code == 400
    assert not AuctionBidder.objects.exists()

    accepted = web.post(url, {"organization": str(enterprise.pk), "accept": "on"})
    assert accepted.status_code == 302
    assert AuctionBidder.objects.get().paddle == 101


def test_unverified_organization_cannot_join(client_for, auction, pending_org, pending_admin):
    web = client_for(pending_admin)
    assert (
        web.get(reverse("listings:auction", kwargs={"pk": auction.pk})).context["join_needs_verified"] is True
    )
    response = web.post(
        reverse("listings:auction_join", kwargs={"pk": auction.pk}),
        {"organization": str(pending_org.pk), "accept": "on"},
    )
    assert response.status_code == 400
    assert not AuctionBidder.objects.exists()


def test_bid_form_places_a_bid_once_per_rendered_form(client_for, auction, enterprise, enterprise_admin):
    join(auction, enterprise)
    web = client_for(enterprise_admin)
    page = web.get(reverse("listings:auction", kwargs={"pk": auction.pk}))
    [(bidder, form)] = page.context["bid_forms"]
    token = form.initial["client_token"]
    assert len(token) == 32
    data = {"organization": str(enterprise.pk), "maximum": "120000", "client_token": token}

    first = web.post(reverse("listings:auction_bid", kwargs={"pk": auction.pk}), data)
    second = web.post(reverse("listings:auction_bid", kwargs={"pk": auction.pk}), data)  # a double submit

    assert first.status_code == second.status_code == 302
    assert Bid.objects.count() == 1
    auction.refresh_from_db()
    assert (auction.price, auction.leader, auction.bid_count) == (Decimal("100000.00"), bidder, 1)
    again = web.get(reverse("listings:auction", kwargs={"pk": auction.pk}))
    assert again.context["bid_forms"][0][1].initial["client_token"] != token


@pytest.mark.parametrize(
    ("maximum", "minimum"),
    [("99999", "¥100,000"), ("104000", "¥105,000")],
    ids=["below_reserve", "below_increment"],
)
def test_bid_below_reserve_or_increment_is_refused_with_the_minimum(
    client_for, auction, enterprise, enterprise_admin, maximum, minimum
):
    join(auction, enterprise)
    if maximum == "104000":
        other = EnterpriseFactory()
        join(auction, other)
        bid(auction, other, "100000", "o1")

    response = client_for(enterprise_admin).post(
        reverse("listings:auction_bid", kwargs={"pk": auction.pk}),
        {"organization": str(enterprise.pk), "maximum": maximum, "client_token": "x1"},
    )

    assert response.status_code == 400
    errors = response.context["bid_forms"][0][1].errors["maximum"]
    assert any(minimum in error for error in errors)
    assert Bid.objects.filter(bidder__organization=enterprise).count() == 0


def test_bid_without_joining_is_404(client_for, auction, enterprise, enterprise_admin):
    response = client_for(enterprise_admin).post(
        reverse("listings:auction_bid", kwargs={"pk": auction.pk}),
        {"organization": str(enterprise.pk), "maximum": "120000", "client_token": "x"},
    )
    assert response.status_code == 404
    assert not Bid.objects.exists()


def test_bid_after_the_end_is_refused(client_for, auction, enterprise, enterprise_admin):
    join(auction, enterprise)
    Auction.objects.filter(pk=auction.pk).update(
        scheduled_end=timezone.now() - timedelta(seconds=1), ends_at=timezone.now() - timedelta(seconds=1)
    )
    response = client_for(enterprise_admin).post(
        reverse("listings:auction_bid", kwargs={"pk": auction.pk}),
        {"organization": str(enterprise.pk), "maximum": "120000", "client_token": "late"},
    )
    assert response.status_code == 400
    assert not Bid.objects.exists()


# --- my listings, intents and auctions ---------------------------------------------------------------------------


def test_mine_lists_own_listings_intents_and_auctions(client_for, university, enterprise, enterprise_admin):
    own = make_listing(EnterpriseFactory(created_by=enterprise_admin), title="我方成果")
    target = make_listing(university, title="目标成果")
    public = make_public_listing(target)
    services.intent_file(public_listing=public, organization=enterprise, actor=enterprise_admin)
    lot = make_listing(university, title="拍卖标的")
    auction = make_auction(lot)
    rival = EnterpriseFactory()
    join(auction, enterprise)
    join(auction, rival)
    bid(auction, enterprise, "100000", "a")
    bid(auction, rival, "120000", "b")

    response = client_for(enterprise_admin).get(reverse("listings:mine"))

    assert response.status_code == 200
    assert [listing.pk for listing in response.context["page"]] == [own.pk]
    assert [i.public_listing_id for i in response.context["intents"]] == [public.pk]
    [bidder] = response.context["bidders"]
    assert (bidder.paddle, bidder.leading, bidder.outbid) == (101, False, True)
    assert rival.name not in response.content.decode()


def test_mine_needs_login(client):
    response = client.get(reverse("listings:mine"))
    assert response.status_code == 302


# --- publicity, objections, certificates ---------------------------------------------------------------------


@pytest.fixture
def state_funded(university):
    return make_listing(university, title="速冻米制品抗回生复合酶制剂", state_funded=True)


def test_publicity_list_shows_parties_technology_and_price(client, state_funded, enterprise):
    make_publicity(state_funded, enterprise, price="320000")

    response = client.get(reverse("listings:publicity"))

    body = response.content.decode()
    for text in (state_funded.title, state_funded.owner.name, enterprise.name, "¥320,000"):
        assert text in body


def test_logged_in_user_files_an_objection_during_the_period(client_for, outsider, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise)
    web = client_for(outsider)
    [notice] = web.get(reverse("listings:publicity")).context["notices"]
    assert notice.objection_form is not None

    response = web.post(
        reverse("listings:objection", kwargs={"pk": publicity.pk}), {"text": "发明人署名有误。"}
    )

    assert response.status_code == 302
    objection = Objection.objects.get()
    assert (objection.publicity, objection.filed_by, objection.text) == (
        publicity,
        outsider,
        "发明人署名有误。",
    )


def test_objection_needs_login(client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise)
    response = client.post(reverse("listings:objection", kwargs={"pk": publicity.pk}), {"text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Objection.objects.exists()


def test_objection_after_the_period_is_refused(client_for, outsider, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise, days_ago=16)

    response = client_for(outsider).post(
        reverse("listings:objection", kwargs={"pk": publicity.pk}), {"text": "迟到"}
    )

    assert response.status_code == 400
    assert not Objection.objects.exists()


def test_certificate_pdf_and_verification(client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise, certified=True)
    code = publicity.certificate_code
    assert code

    pdf = client.get(reverse("listings:certificate", kwargs={"pk": publicity.pk}))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    page = client.get(reverse("publicity_verify_code", kwargs={"code": code}))
    assert page.status_code == 200
    body = page.content.decode()
    for text in (state_funded.title, state_funded.owner.name, enterprise.name, "¥360,000", code):
        assert text in body

    lower = client.get(reverse("publicity_verify_code", kwargs={"code": code.lower()}))
    assert lower.status_code == 200
    assert (
        client.get(reverse("publicity_verify_code", kwargs={"code": "0000000000000000"})).status_code == 404
    )

    form = client.get(reverse("publicity_verify"), {"code": f" {code.lower()} "})
    assert form.status_code == 302
    assert form["Location"] == reverse("publicity_verify_code", kwargs={"code": code})


def test_transferred_listing_links_its_publicity(client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise, certified=True)
    response = client.get(detail(state_funded))
    assert response.context["publicity"] == publicity
    assert reverse("listings:certificate", kwargs={"pk": publicity.pk}) in response.content.decode()


def test_no_certificate_before_certification(client, state_funded, enterprise):
    publicity = make_publicity(state_funded, enterprise)
    assert client.get(reverse("listings:certificate", kwargs={"pk": publicity.pk})).status_code == 404


def test_verification_form_page(client):
    response = client.get(reverse("publicity_verify"))
    assert response.status_code == 200
    assert "publicity" not in response.context


# --- demo data ----------------------------------------------------------------------------------------------


def test_demo_listings_are_idempotent_and_render(client):
    from listings.demo import LISTINGS, seed_listings
    from marketplace.management.commands.seed_demo import ensure_demo_admin, seed_organizations

    admin, _ = ensure_demo_admin()
    seed_organizations(reviewer=admin)

    first = seed_listings()
    second = seed_listings()

    assert sum(created for *_, created in first) == len(LISTINGS)
    assert sum(created for *_, created in second) == 0
    assert Listing.objects.filter(external_ref__startswith="demo-listing-").count() == len(LISTINGS)
    running = Auction.objects.get(status=Auction.Status.RUNNING)
    assert running.bidders.count() == 2
    assert running.bid_count >= 3
    assert running.ends_at > timezone.now()
    assert Publicity.objects.filter(status="open").count() == 1
    assert Publicity.objects.filter(status="certified").count() == 1
    for url in (
        reverse("listings:list"),
        reverse("listings:auction", kwargs={"pk": running.pk}),
        reverse("listings:publicity"),
        detail(running.public_listing.listing),
    ):
        assert client.get(url).status_code == 200


def test_membership_of_a_second_organization_picks_the_buyer(
    client_for, listing, enterprise, enterprise_admin
):
    other = EnterpriseFactory()
    MembershipFactory(organization=other, user=enterprise_admin)
    public = make_public_listing(listing)

    response = client_for(enterprise_admin).post(
        reverse("listings:intent", kwargs={"public_listing_id": public.pk}), {"organization": str(other.pk)}
    )

    assert response.status_code == 302
    assert Intent.objects.get().organization == other


# --- the live auction page in a real browser -----------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}")
def test_auction_page_follows_bids_live_in_chromium(live_server, monkeypatch, university):
    from playwright.sync_api import sync_playwright

    auction = make_auction(make_listing(university), reserve="100000", increment="5000", minutes_left=3)
    first, second = EnterpriseFactory(), EnterpriseFactory()
    join(auction, first)
    join(auction, second)
    bid(auction, first, "120000", "a")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls next to Playwright's event loop
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(live_server.url + reverse("listings:auction", kwargs={"pk": auction.pk}))
        assert page.text_content('[data-field="leader_paddle"]') == "#101"

        # Another bidder outbids within the soft-close window: the page follows within a poll or two.
        bid(auction, second, "150000", "b")
        page.wait_for_function(
            "document.querySelector('[data-field=\"leader_paddle\"]').textContent === '#102'", timeout=8000
        )
        assert page.text_content('[data-field="price"]') == "¥125,000"
        assert page.text_content('[data-field="minimum_bid"]') == "¥130,000"
        assert page.locator('[data-field="bids"] tr').count() == 2
        countdown = page.text_content('[data-field="countdown"]')
        assert countdown.startswith("00:0")  # a few minutes left, ticking
        auction.refresh_from_db()
        assert page.get_attribute('[data-field="ends_at"]', "datetime") == auction.ends_at.isoformat()
        content = page.content()
        browser.close()
    for secret in (first.name, second.name, "150000", "150,000"):
        assert secret not in content


def test_scheduled_auction_admits_bidders_but_takes_no_bids_yet(
    client_for, listing, enterprise, enterprise_admin
):
    auction = make_auction(
        listing, started_minutes_ago=-60, minutes_left=180, status=Auction.Status.SCHEDULED
    )
    web = client_for(enterprise_admin)
    assert web.get(reverse("listings:auction", kwargs={"pk": auction.pk})).context["join_form"] is not None

    join(auction, enterprise)
    page = web.get(reverse("listings:auction", kwargs={"pk": auction.pk}))

    assert page.context["own_paddles"] == [101]
    assert "bid_forms" not in page.context
