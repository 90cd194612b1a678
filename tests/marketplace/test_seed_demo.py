"""``manage.py seed_demo``: idempotent, valid data, decisions audited, no e-mail to the fictional people."""

from collections import Counter
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from stdnum.cn import uscc

from demands import services as demand_services
from demands.models import Demand, DemandRevision, NdaAcceptance, Proposal, ProposalReceipt
from marketplace.management.commands.seed_demo import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    APPROVE_REASON,
    DEMAND_REVIEW_REASON,
    DEMANDS,
    DEMO_PASSWORD,
    ORGANIZATIONS,
    demo_credit_code,
)
from marketplace.models import AuditLog, Membership, Notification, Organization, TechnologyField, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

S = Organization.Status


@pytest.fixture
def seed(settings, django_capture_on_commit_callbacks):
    """Run the command as ``make run`` does (DEBUG on), executing what it schedules on commit."""
    settings.DEBUG = True

    def run(*args) -> str:
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    return run


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Organization,
            Membership,
            AuditLog,
            Notification,
            Demand,
            DemandRevision,
            NdaAcceptance,
            Proposal,
            ProposalReceipt,
        )
    }


def test_second_run_changes_nothing(seed):
    seed()
    first = counts()

    output = seed()

    assert counts() == first
    assert first["Organization"] == len(ORGANIZATIONS)
    assert first["Demand"] == len(DEMANDS)
    assert first["Proposal"] == sum(len(spec.proposals) for spec in DEMANDS)
    assert f"{len(ORGANIZATIONS)} already there" in output
    assert f"Demo demands: {len(DEMANDS)} (0 created now;" in output


def test_mix_of_organizations_for_a_realistic_market(seed):
    seed()

    by_type = Counter(Organization.objects.values_list("org_type", flat=True))
    assert by_type["enterprise"] >= 12
    assert by_type["university"] >= 5
    assert by_type["research_institute"] >= 4
    assert by_type["intermediary"] >= 3
    by_status = Counter(Organization.objects.values_list("status", flat=True))
    assert by_status[S.VERIFIED] > len(ORGANIZATIONS) // 2
    assert by_status[S.PENDING] >= 2
    assert by_status[S.NEEDS_DOCUMENTS] >= 1
    assert set(Organization.objects.values_list("region__parent_id", flat=True)) == {"330000"}
    assert not Organization.objects.filter(fields=None).exists()


def test_credit_codes_are_valid_unique_and_carry_the_region(seed):
    seed()

    codes = list(Organization.objects.values_list("credit_code", "region_id"))
    assert len({code for code, _ in codes}) == len(ORGANIZATIONS)
    for code, region in codes:
        assert uscc.validate(code) == code
        assert code[2:8] == region
    assert {spec.name: demo_credit_code(spec) for spec in ORGANIZATIONS} == dict(
        Organization.objects.values_list("name", "credit_code")
    )


def test_every_decision_is_audited_with_its_reason(seed):
    seed()
    admin = User.objects.get(username=ADMIN_USERNAME)

    for organization in Organization.objects.all():
        entries = AuditLog.objects.filter(
            target_type="marketplace.organization", target_id=str(organization.pk)
        )
        assert entries.filter(action="organization.register").count() == 1
        if organization.status == S.VERIFIED:
            approval = entries.get(action="organization.approve")
            assert (approval.actor, approval.reason) == (admin, APPROVE_REASON)
            assert organization.verified_at is not None
        elif organization.status == S.NEEDS_DOCUMENTS:
            assert entries.get(action="organization.request_documents").actor == admin
        else:
            assert entries.count() == 1


def test_logins_work_and_are_printed(seed):
    output = seed()

    admin = User.objects.get(username=ADMIN_USERNAME)
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password(ADMIN_PASSWORD)
    for spec in ORGANIZATIONS:
        user = User.objects.get(username=spec.admin.username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_email_verified
        assert Membership.objects.get(user=user, organization__name=spec.name).role == Membership.Role.ADMIN
        assert spec.admin.username in output
    assert ADMIN_PASSWORD in output
    assert DEMO_PASSWORD in output


def test_demo_people_get_notifications_but_no_email(seed):
    seed()

    assert Notification.objects.filter(user__username="hengtuo").exists()
    assert not Notification.objects.filter(send_email=True).exists()
    assert mail.outbox == []


def test_rerun_keeps_decisions_made_since(seed):
    seed()
    organization = Organization.objects.filter(status=S.VERIFIED).first()
    Organization.objects.filter(pk=organization.pk).update(status=S.SUSPENDED)
    User.objects.filter(username=ADMIN_USERNAME).update(password="changed-by-its-owner")

    output = seed()

    organization.refresh_from_db()
    assert organization.status == S.SUSPENDED
    assert User.objects.get(username=ADMIN_USERNAME).password == "changed-by-its-owner"
    assert "password unchanged" in output


def test_completes_a_partially_seeded_database(seed):
    seed()
    Organization.objects.filter(name=ORGANIZATIONS[-1].name).delete()

    seed()

    assert Organization.objects.count() == len(ORGANIZATIONS)


def test_refuses_to_run_on_a_production_configuration(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())

    assert not Organization.objects.exists()
    assert not User.objects.filter(username=ADMIN_USERNAME).exists()


def test_force_runs_with_debug_off(settings):
    settings.DEBUG = False

    call_command("seed_demo", "--force", stdout=StringIO())

    assert Organization.objects.count() == len(ORGANIZATIONS)


def test_will_not_promote_an_ordinary_account_named_admin(seed):
    UserFactory(username=ADMIN_USERNAME)

    with pytest.raises(CommandError, match="not an active staff member"):
        seed()

    assert not User.objects.get(username=ADMIN_USERNAME).is_staff
    assert not Organization.objects.exists()


def test_field_codes_in_the_data_exist():
    codes = {code for spec in ORGANIZATIONS for code in spec.fields}

    assert set(TechnologyField.objects.filter(code__in=codes).values_list("code", flat=True)) == codes


# --- demands -------------------------------------------------------------------------------------------------

D = Demand.Status


def test_demo_demands_cover_every_mode_and_stage(seed, settings):
    output = seed()

    demands = Demand.objects.all()
    by_status = Counter(demands.values_list("status", flat=True))
    assert by_status == {D.PUBLISHED: 10, D.PENDING_REVIEW: 1, D.DRAFT: 2, D.CLOSED: 1, D.AWARDED: 1}
    by_mode = Counter(demands.values_list("mode", flat=True))
    assert by_mode == {"open": 13, "tender": 1, "challenge": 1}
    challenge = demands.get(mode="challenge")
    assert challenge.award_amount >= settings.DEMAND_CHALLENGE_MIN_AWARD
    assert challenge.max_winners == 2
    nda = demands.get(nda_required=True)
    assert nda.nda_terms
    assert nda.details
    assert {spec.title for spec in DEMANDS} == set(demands.values_list("title", flat=True))
    assert f"Demo demands: {len(DEMANDS)} ({len(DEMANDS)} created now;" in output
    # Only verified enterprises put demands on the market; the pending one keeps a draft.
    owners = Organization.objects.filter(demands__in=demands.exclude(status=D.DRAFT))
    assert set(owners.values_list("status", flat=True)) == {S.VERIFIED}
    assert set(Organization.objects.filter(demands__in=demands).values_list("org_type", flat=True)) == {
        "enterprise"
    }
    assert demands.get(owner__status=S.PENDING).status == D.DRAFT


def test_demo_demands_went_through_review(seed):
    seed()
    admin = User.objects.get(username=ADMIN_USERNAME)

    for demand in Demand.objects.all():
        entries = AuditLog.objects.filter(target_type="demands.demand", target_id=str(demand.pk))
        assert entries.filter(action="demand.create").count() == 1
        if demand.status in (D.DRAFT, D.PENDING_REVIEW):
            assert demand.published_at is None
            continue
        publish = entries.get(action="demand.publish")
        assert (publish.actor, publish.reason) == (admin, DEMAND_REVIEW_REASON)
        assert demand.published_at is not None
        assert demand.deadline > demand.published_at


def test_demo_proposals_are_real_bids_with_verifiable_receipts(seed):
    seed()

    proposals = Proposal.objects.select_related("supplier", "demand")
    assert proposals.count() == sum(len(spec.proposals) for spec in DEMANDS) == 16
    for proposal in proposals:
        assert proposal.supplier.org_type in {"university", "research_institute"}
        receipt = proposal.receipts.get()
        assert receipt.commitment == proposal.commitment
        assert demand_services.proposal_verify(
            content=demand_services.proposal_content(proposal), commitment=receipt.commitment
        )
        if proposal.demand.nda_required:
            assert NdaAcceptance.objects.filter(
                demand=proposal.demand, organization=proposal.supplier
            ).exists()


def test_one_demo_demand_is_awarded_and_one_waits_for_evaluation(seed):
    seed()

    awarded = Demand.objects.get(status=D.AWARDED)
    assert awarded.awarded_at is not None
    outcome = dict(awarded.proposals.values_list("supplier__name", "status"))
    assert outcome == {
        "甬江工程大学": Proposal.Status.AWARDED,
        "浙东先进制造技术研究院": Proposal.Status.REJECTED,
    }
    assert awarded.proposals.get(status=Proposal.Status.REJECTED).rejection_reason == "other_awarded"
    closed = Demand.objects.get(status=D.CLOSED)
    assert sorted(closed.proposals.values_list("status", flat=True)) == [
        Proposal.Status.SHORTLISTED,
        Proposal.Status.SUBMITTED,
    ]


def test_the_sealed_demo_tender_does_not_announce_its_bids(seed):
    seed()

    tender = Demand.objects.get(mode="tender")
    assert tender.is_sealed
    assert tender.proposals.count() == 2
    owner_admin = User.objects.get(username="jincheng")
    # The owner heard of the publication, and of nothing else about the tender.
    notices = Notification.objects.filter(user=owner_admin, subject__contains=tender.title)
    assert [notice.subject for notice in notices] == [
        f"您的技术需求“{tender.title}”已发布 / Your demand “{tender.title}” is published"
    ]


def test_rerun_keeps_what_happened_to_demo_demands_since(seed):
    seed()
    owner_admin = User.objects.get(username="xintong")
    challenge = Demand.objects.get(mode="challenge")
    demand_services.demand_withdraw(demand=challenge, actor=owner_admin, reason="预算调整（演示）")
    before = counts()

    seed()

    challenge.refresh_from_db()
    assert challenge.status == D.WITHDRAWN
    assert counts() == before


def test_demands_a_decision_now_prevents_are_skipped_not_fatal(seed):
    # given a demo enterprise suspended by an administrator before its demands were seeded
    seed()
    Proposal.objects.all().delete()
    Demand.objects.all().delete()
    Organization.objects.filter(name="宁波锐驰汽车零部件有限公司").update(status=S.SUSPENDED)

    output = seed()

    assert not Demand.objects.filter(owner__name="宁波锐驰汽车零部件有限公司").exists()
    assert Demand.objects.count() == len(DEMANDS) - 1
    assert "1 demo demand(s) skipped" in output


def test_demand_codes_in_the_data_exist():
    codes = {code for spec in DEMANDS for code in (spec.field, spec.sub_field) if code}
    names = {spec.owner for spec in DEMANDS} | {p.supplier for spec in DEMANDS for p in spec.proposals}

    assert set(TechnologyField.objects.filter(code__in=codes).values_list("code", flat=True)) == codes
    assert names <= {spec.name for spec in ORGANIZATIONS}


def test_demo_listings_with_a_running_auction_and_a_publicity_notice(seed):
    from listings.models import Auction, Listing, Publicity

    seed()
    before = (Listing.objects.count(), Auction.objects.count(), Publicity.objects.count())
    seed()

    assert (Listing.objects.count(), Auction.objects.count(), Publicity.objects.count()) == before
    assert Listing.objects.filter(external_ref__startswith="demo-listing-").count() == 14
    assert Auction.objects.filter(status="running").count() == 1
    assert Publicity.objects.filter(status="open").count() == 1


def test_the_demo_market_has_its_matches_computed(seed):
    from brokers.models import ExpertMatch, ListingMatch, RebuildRun

    seed()

    demand = Demand.objects.get(title="注塑件表面银纹与气泡缺陷分析")
    assert RebuildRun.objects.filter(finished_at__isnull=False).count() == 1
    assert ListingMatch.objects.filter(demand=demand).exists()
    top_expert = ExpertMatch.objects.filter(demand=demand).order_by("rank").select_related("expert").first()
    assert top_expert.expert.name == "陈立舟"


def test_demo_has_sub_markets_and_stored_platform_figures(seed):
    from marketplace.management.commands.seed_demo import SUB_MARKETS
    from marketplace.models import PlatformKpiSnapshot, SubMarket

    seed()
    SubMarket.objects.filter(slug="jinhua-magnetic").update(is_active=False)  # an administrator closed it
    seed()

    assert sorted(SubMarket.objects.values_list("slug", flat=True)) == sorted(s[0] for s in SUB_MARKETS)
    assert SubMarket.objects.get(slug="jinhua-magnetic").is_active is False
    assert list(SubMarket.objects.get(slug="shaoxing-textiles").fields.values_list("code", flat=True)) == [
        "advanced_manufacturing.textiles"
    ]
    stored = PlatformKpiSnapshot.objects.get(scope="all").data
    assert stored["totals"]["demands"] == Demand.objects.filter(published_at__isnull=False).count()
    assert "shaoxing-textiles" in {row["code"] for row in stored["by_sub_market"]}


def test_demo_registrations_fill_the_annual_reports_once(seed):
    from contracts.demo import DEMO_YEARS, demo_csv
    from contracts.models import AnnualReport, Registration

    seed()
    stored = {r.year: r.data["totals"]["count"] for r in AnnualReport.objects.all()}
    seed()

    assert Registration.objects.count() == sum(DEMO_YEARS.values())
    assert stored == DEMO_YEARS
    assert {r.year: r.data["totals"]["count"] for r in AnnualReport.objects.all()} == DEMO_YEARS
    assert demo_csv() == demo_csv()  # the same file on every run and machine
    report = AnnualReport.objects.get(year=2025).data
    assert report["totals"]["count_growth_pct"] == round((2000 - 1800) * 100 / 1800, 2)
    assert {row["code"] for row in report["by_contract_type"]} == {
        "development",
        "transfer",
        "consulting",
        "service",
    }
    assert report["by_seller_region"][0]["code"] == "110000"  # Beijing sells most, as in the national report
    assert len(report["flows"]) > 50
