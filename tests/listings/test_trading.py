"""Public listing, intents, the end-of-period decision, auction close, deals and publicity (SPEC §5)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from listings import services
from listings.models import Auction, Deal, Listing, Objection, Publicity, PublicListing
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Notification
from tests.factories import EnterpriseFactory, UniversityFactory

pytestmark = pytest.mark.django_db
PL = PublicListing.Status


@pytest.fixture
def listing(db):
    owner = UniversityFactory()
    return Listing.objects.create(
        owner=owner,
        created_by=owner.created_by,
        title="印染废水膜生物反应器深度处理技术",
        summary="MBR+臭氧",
        listing_type="invention_patent",
        field_id="environment",
        region_id="330600",
        maturity="pilot",
        transfer_modes=["transfer", "exclusive_license"],
        status=Listing.Status.PUBLISHED,
        state_funded=True,
    )


@pytest.fixture
def public(listing):
    return services.public_listing_open(
        listing=listing, actor=listing.owner.created_by, floor_price="200000", increment="10000", days=20
    )


def file_intents(public, count):
    buyers = [EnterpriseFactory() for _ in range(count)]
    for buyer in buyers:
        services.intent_file(public_listing=public, organization=buyer, actor=buyer.created_by)
    return buyers


def end_period(public):
    return public.ends_at + timedelta(seconds=1)


def test_open_refused_for_unpublished_listing(listing):
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.DRAFT)
    listing.refresh_from_db()
    with pytest.raises(ApplicationError) as exc:
        services.public_listing_open(
            listing=listing, actor=listing.owner.created_by, floor_price=1, increment=1, days=5
        )
    assert exc.value.code == "bad_state"
    assert PublicListing.objects.count() == 0


def test_only_one_active_public_listing(public, listing):
    with pytest.raises(ApplicationError) as exc:
        services.public_listing_open(
            listing=listing, actor=listing.owner.created_by, floor_price=1, increment=1, days=5
        )
    assert exc.value.code == "already_listed"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda public: EnterpriseFactory(pending=True), "not_verified"),
        (lambda public: public.listing.owner, "own_listing"),
    ],
)
def test_intent_refusals(public, make, code):
    org = make(public)
    with pytest.raises(ApplicationError) as exc:
        services.intent_file(public_listing=public, organization=org, actor=org.created_by)
    assert exc.value.code == code
    assert public.intents.count() == 0


def test_intent_after_the_period_and_duplicates_are_refused(public):
    buyer = file_intents(public, 1)[0]
    with pytest.raises(ApplicationError) as dup:
        services.intent_file(public_listing=public, organization=buyer, actor=buyer.created_by)
    assert dup.value.code == "duplicate"
    late = EnterpriseFactory()
    with pytest.raises(ApplicationError) as exc:
        services.intent_file(
            public_listing=public, organization=late, actor=late.created_by, now=end_period(public)
        )
    assert exc.value.code == "period_over"
    assert public.intents.count() == 1


def test_no_intent_awaits_the_owner_who_relists(public):
    assert (
        services.public_listing_decide(public_listing=public, now=public.ends_at - timedelta(seconds=1))
        is None
    )
    assert services.public_listing_decide(public_listing=public, now=end_period(public)) == PL.AWAITING_OWNER
    assert services.public_listing_decide(public_listing=public, now=end_period(public)) is None  # idempotent
    public.refresh_from_db()
    relisted = services.public_listing_relist(
        public_listing=public, actor=public.listing.owner.created_by, days=10, floor_price="150000"
    )
    public.refresh_from_db()
    assert public.status == PL.RELISTED
    assert (relisted.status, relisted.floor_price) == (PL.OPEN, Decimal("150000.00"))


def test_one_intent_goes_to_negotiation_and_a_deal(public):
    buyer = file_intents(public, 1)[0]
    assert services.public_listing_decide(public_listing=public, now=end_period(public)) == PL.NEGOTIATION
    public.refresh_from_db()
    stranger = EnterpriseFactory()
    with pytest.raises(ApplicationError):
        services.negotiation_conclude(
            public_listing=public, actor=public.listing.owner.created_by, buyer=stranger, price="260000"
        )
    deal = services.negotiation_conclude(
        public_listing=public, actor=public.listing.owner.created_by, buyer=buyer, price="260000"
    )
    public.refresh_from_db()
    assert (deal.price, deal.buyer, deal.via) == (Decimal("260000.00"), buyer, "negotiation")
    assert public.status == PL.COMPLETED
    assert Listing.objects.get(pk=public.listing_id).status == Listing.Status.TRANSFERRED
    # A state-funded result goes to publicity for 15 days.
    publicity = Publicity.objects.get(deal=deal)
    assert publicity.ends_at - publicity.starts_at == timedelta(days=15)


def test_two_intents_schedule_an_auction(public, settings):
    file_intents(public, 2)
    now = end_period(public)
    assert services.public_listing_decide(public_listing=public, now=now) == PL.AUCTION
    auction = Auction.objects.get(public_listing=public)
    assert (auction.reserve, auction.increment) == (Decimal("200000.00"), Decimal("10000.00"))
    assert auction.starts_at == now + timedelta(hours=settings.AUCTION_LEAD_HOURS)
    assert auction.ends_at == auction.starts_at + timedelta(hours=settings.AUCTION_DURATION_HOURS)
    # Owner and both buyers are told (one notification per member; factories give each one admin).
    assert Notification.objects.filter(subject__contains="goes to auction").count() == 3


def _running_auction(public):
    buyers = file_intents(public, 2)
    services.public_listing_decide(public_listing=public, now=end_period(public))
    auction = Auction.objects.get(public_listing=public)
    now = timezone.now()
    Auction.objects.filter(pk=auction.pk).update(
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        scheduled_end=now + timedelta(hours=1),
    )
    auction.refresh_from_db()
    return auction, buyers


def test_auction_close_sells_to_the_highest_bidder_once(public):
    auction, (a, b) = _running_auction(public)
    for org, maximum, token in ((a, 300000, "a"), (b, 280000, "b")):
        services.auction_join(auction=auction, organization=org, actor=org.created_by)
        services.auction_bid(
            auction=auction, organization=org, actor=org.created_by, maximum=maximum, client_token=token
        )
    after = auction.ends_at + timedelta(seconds=1)
    assert services.auction_close(auction=auction, now=auction.ends_at - timedelta(seconds=1)) is None
    assert services.auction_close(auction=auction, now=after) == "sold"
    assert services.auction_close(auction=auction, now=after) is None
    deal = Deal.objects.get()
    assert (deal.buyer, deal.price, deal.via) == (a, Decimal("290000.00"), "auction")
    assert AuditLog.objects.filter(action="auction.sold").count() == 1
    public.refresh_from_db()
    assert public.status == PL.COMPLETED


def test_failed_auction_falls_back_to_negotiation(public):
    auction, _ = _running_auction(public)
    assert services.auction_close(auction=auction, now=auction.ends_at + timedelta(seconds=1)) == "failed"
    public.refresh_from_db()
    assert public.status == PL.NEGOTIATION
    assert Deal.objects.count() == 0


def _publicity(public):
    buyer = file_intents(public, 1)[0]
    services.public_listing_decide(public_listing=public, now=end_period(public))
    public.refresh_from_db()
    deal = services.negotiation_conclude(
        public_listing=public, actor=public.listing.owner.created_by, buyer=buyer, price="250000"
    )
    return deal.publicity


def test_publicity_without_objection_is_certified_once(public):
    publicity = _publicity(public)
    assert (
        services.publicity_certify(publicity=publicity, now=publicity.ends_at - timedelta(seconds=1)) is False
    )
    assert services.publicity_certify(publicity=publicity, now=publicity.ends_at) is True
    assert services.publicity_certify(publicity=publicity, now=publicity.ends_at) is False
    publicity.refresh_from_db()
    assert publicity.status == Publicity.Status.CERTIFIED
    assert len(publicity.certificate_code) == 16


def test_objection_after_the_period_is_refused(public, outsider):
    publicity = _publicity(public)
    with pytest.raises(ApplicationError) as exc:
        services.objection_file(
            publicity=publicity, actor=outsider, text="价格明显偏低", now=publicity.ends_at
        )
    assert exc.value.code == "period_over"
    assert Objection.objects.count() == 0


def test_pending_objection_holds_the_certificate_and_an_upheld_one_cancels(public, outsider, staff_user):
    publicity = _publicity(public)
    objection = services.objection_file(publicity=publicity, actor=outsider, text="转让价格低于评估价")
    assert services.publicity_certify(publicity=publicity, now=publicity.ends_at) is False
    publicity.refresh_from_db()
    assert publicity.status == Publicity.Status.UNDER_REVIEW
    with pytest.raises(ApplicationError):
        services.objection_resolve(objection=objection, actor=outsider, uphold=True, resolution="x")
    services.objection_resolve(
        objection=objection, actor=staff_user, uphold=True, resolution="评估报告显示价格偏低"
    )
    publicity.refresh_from_db()
    assert publicity.status == Publicity.Status.CANCELLED
    assert publicity.certificate_code is None


def test_dismissed_objection_lets_the_certificate_issue(public, outsider, staff_user):
    publicity = _publicity(public)
    objection = services.objection_file(publicity=publicity, actor=outsider, text="有疑问")
    now = timezone.now()
    Publicity.objects.filter(pk=publicity.pk).update(
        starts_at=now - timedelta(days=15), ends_at=now - timedelta(seconds=1)
    )
    services.objection_resolve(objection=objection, actor=staff_user, uphold=False, resolution="经核实无问题")
    publicity.refresh_from_db()
    assert publicity.status == Publicity.Status.CERTIFIED
