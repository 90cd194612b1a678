"""Reads of demands (demands.selectors, demands.filters): who sees which demand, the confidential details and
the proposals, the sealed tender, the published commitments, the response rate, and the list filters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from demands import selectors, services
from demands.filters import DemandFilter
from demands.models import PUBLIC_STATUSES, Demand, Proposal
from tests.factories import (
    DemandFactory,
    EnterpriseFactory,
    MembershipFactory,
    ProposalFactory,
    UniversityFactory,
)

pytestmark = pytest.mark.django_db

S = Demand.Status
P = Proposal.Status


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# --- which demands -----------------------------------------------------------------------------------------


@pytest.fixture
def one_demand_per_status(enterprise) -> dict[str, Demand]:
    return {status: DemandFactory(owner=enterprise, status=status) for status in S.values}


def test_the_public_market_shows_published_and_later_stages_only(one_demand_per_status):
    public = pks(selectors.demand_list_public())

    assert public == {one_demand_per_status[status].pk for status in PUBLIC_STATUSES}
    assert set(PUBLIC_STATUSES) == {S.PUBLISHED, S.CLOSED, S.AWARDED, S.CONTRACTED, S.SOLVED}


def test_members_also_see_their_own_organizations_demands(one_demand_per_status, verified_member, outsider):
    everything = {demand.pk for demand in one_demand_per_status.values()}
    public = pks(selectors.demand_list_public())

    assert pks(selectors.demand_list_visible_to(user=verified_member)) == everything
    assert pks(selectors.demand_list_visible_to(user=outsider)) == public
    assert pks(selectors.demand_list_visible_to(user=AnonymousUser())) == public


def test_staff_see_every_demand(one_demand_per_status, staff_user):
    assert pks(selectors.demand_list_visible_to(user=staff_user)) == {
        d.pk for d in one_demand_per_status.values()
    }


@pytest.mark.parametrize("pk", ["draft", "no-such", 10**9])
def test_a_demand_the_user_may_not_see_is_a_404(one_demand_per_status, university_admin, pk):
    if pk == "draft":
        pk = one_demand_per_status[S.DRAFT].pk

    with pytest.raises(Http404):
        selectors.demand_get_for_user(user=university_admin, pk=pk)


def test_the_owner_view_is_a_404_for_everyone_but_owner_and_staff(
    enterprise_admin, university_admin, staff_user
):
    demand = DemandFactory(owner__created_by=enterprise_admin)

    assert selectors.demand_get_for_owner(user=enterprise_admin, pk=demand.pk) == demand
    assert selectors.demand_get_for_owner(user=staff_user, pk=demand.pk) == demand
    with pytest.raises(Http404):
        selectors.demand_get_for_owner(user=university_admin, pk=demand.pk)


# --- confidential details ----------------------------------------------------------------------------------


def test_details_without_an_nda_are_for_owner_staff_and_verified_organizations(
    enterprise, verified_member, staff_user, university_admin, unverified_member, outsider
):
    demand = DemandFactory(owner=enterprise)

    can_see = {
        name: selectors.demand_can_see_details(user=user, demand=demand)
        for name, user in {
            "owner member": verified_member,
            "staff": staff_user,
            "verified supplier": university_admin,
            "pending organization": unverified_member,
            "no organization": outsider,
            "anonymous": AnonymousUser(),
        }.items()
    }

    assert can_see == {
        "owner member": True,
        "staff": True,
        "verified supplier": True,
        "pending organization": False,
        "no organization": False,
        "anonymous": False,
    }


def test_details_under_an_nda_need_the_suppliers_acceptance(enterprise, university, university_admin):
    demand = DemandFactory(owner=enterprise, nda=True)
    colleague = MembershipFactory(organization=university).user
    other_supplier = UniversityFactory().created_by

    assert selectors.demand_can_see_details(user=university_admin, demand=demand) is False
    services.nda_accept(demand=demand, organization=university, actor=university_admin)

    # The acceptance binds the organization: every member of it may read, others still may not.
    assert selectors.demand_can_see_details(user=university_admin, demand=demand) is True
    assert selectors.demand_can_see_details(user=colleague, demand=demand) is True
    assert selectors.demand_nda_accepted(user=colleague, demand=demand) is True
    assert selectors.demand_can_see_details(user=other_supplier, demand=demand) is False


def test_details_of_a_demand_off_the_market_are_for_owner_and_staff_only(
    enterprise, verified_member, staff_user, university_admin
):
    demand = DemandFactory(owner=enterprise, pending_review=True)

    assert selectors.demand_can_see_details(user=verified_member, demand=demand) is True
    assert selectors.demand_can_see_details(user=staff_user, demand=demand) is True
    assert selectors.demand_can_see_details(user=university_admin, demand=demand) is False


def test_an_inactive_owner_member_sees_no_details(enterprise, verified_member):
    demand = DemandFactory(owner=enterprise)
    verified_member.is_active = False
    verified_member.save()

    assert selectors.demand_can_see_details(user=verified_member, demand=demand) is False


# --- proposals and the sealed tender -------------------------------------------------------------------------


def test_the_owner_sees_active_proposals_and_each_bidder_only_its_own(
    enterprise, verified_member, staff_user
):
    demand = DemandFactory(owner=enterprise)
    mine, other = ProposalFactory(demand=demand), ProposalFactory(demand=demand)
    withdrawn = ProposalFactory(demand=demand, status=P.WITHDRAWN)
    bidder = mine.supplier.created_by

    assert pks(selectors.proposal_list_for_demand(user=verified_member, demand=demand)) == {mine.pk, other.pk}
    assert pks(selectors.proposal_list_for_demand(user=staff_user, demand=demand)) == {mine.pk, other.pk}
    assert pks(selectors.proposal_list_for_demand(user=bidder, demand=demand)) == {mine.pk}
    assert pks(selectors.proposal_list_for_demand(user=AnonymousUser(), demand=demand)) == set()
    assert selectors.proposal_count_visible(user=verified_member, demand=demand) == 2
    # The withdrawing bidder still sees its own (withdrawn) proposal.
    assert pks(selectors.proposal_list_for_demand(user=withdrawn.supplier.created_by, demand=demand)) == {
        withdrawn.pk
    }
    assert selectors.proposal_get_for_user(user=bidder, pk=mine.pk) == mine
    with pytest.raises(Http404):
        selectors.proposal_get_for_user(user=bidder, pk=other.pk)


def test_a_sealed_tender_hides_bids_and_their_number_from_the_owner(enterprise, verified_member, staff_user):
    tender = DemandFactory(owner=enterprise, tender=True)
    bid, other = ProposalFactory(demand=tender), ProposalFactory(demand=tender)

    assert pks(selectors.proposal_list_for_demand(user=verified_member, demand=tender)) == set()
    assert pks(selectors.proposal_list_for_demand(user=staff_user, demand=tender)) == set()
    assert pks(selectors.proposal_list_for_demand(user=bid.supplier.created_by, demand=tender)) == {bid.pk}
    assert selectors.proposal_count_visible(user=verified_member, demand=tender) is None
    assert selectors.commitments_published(demand=tender) == []
    with pytest.raises(Http404):
        selectors.proposal_get_for_user(user=verified_member, pk=other.pk)

    services.demand_close(demand=tender)

    assert pks(selectors.proposal_list_for_demand(user=verified_member, demand=tender)) == {bid.pk, other.pk}
    assert selectors.proposal_count_visible(user=verified_member, demand=tender) == 2


def test_commitments_are_published_at_the_close_in_submission_order(enterprise, university, university_admin):
    tender = DemandFactory(owner=enterprise, tender=True)
    early = ProposalFactory(demand=tender, submitted_at=timezone.now() - timedelta(days=3))
    gone = ProposalFactory(demand=tender, submitted_at=timezone.now() - timedelta(days=2), status=P.WITHDRAWN)
    late, _ = services.proposal_submit(
        demand=tender, supplier=university, actor=university_admin, approach="方案一", duration_days=30
    )
    late, receipt = services.proposal_update(
        proposal=late, actor=university_admin, approach="方案二", duration_days=20
    )
    services.demand_close(demand=tender)

    rows = selectors.commitments_published(demand=tender)

    assert [(r["receipt"], r["commitment"], r["withdrawn"]) for r in rows] == [
        (f"{early.pk}-1", early.commitment, False),
        (f"{gone.pk}-1", gone.commitment, True),
        (f"{late.pk}-2", receipt.commitment, False),
    ]
    # Any bidder can check its revealed bid against the published list.
    late.refresh_from_db()
    assert services.proposal_verify(content=services.proposal_content(late), commitment=rows[2]["commitment"])


def test_nothing_is_published_for_a_demand_not_yet_on_the_market(enterprise):
    assert selectors.commitments_published(demand=DemandFactory(owner=enterprise, draft=True)) == []


def test_the_owner_dashboard_counts_active_proposals(enterprise, verified_member):
    demand = DemandFactory(owner=enterprise)
    draft = DemandFactory(owner=enterprise, draft=True)
    ProposalFactory(demand=demand), ProposalFactory(demand=demand)
    ProposalFactory(demand=demand, status=P.WITHDRAWN)
    DemandFactory()  # another organization's

    totals = dict(
        selectors.demand_list_for_organizations(user=verified_member).values_list("pk", "proposal_total")
    )

    assert totals == {demand.pk: 2, draft.pk: 0}


# --- response rate -------------------------------------------------------------------------------------------


def received(demand, *, submitted_days_ago: float, answered_after_days: float | None = None, **extra):
    submitted_at = timezone.now() - timedelta(days=submitted_days_ago)
    answered = None if answered_after_days is None else submitted_at + timedelta(days=answered_after_days)
    return ProposalFactory(demand=demand, submitted_at=submitted_at, owner_responded_at=answered, **extra)


def test_response_rate_counts_answers_within_the_window_among_judged_proposals(enterprise, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    demand, other_demand = DemandFactory(owner=enterprise), DemandFactory(owner=enterprise, closed=True)
    # answered within 7 days: 3
    received(demand, submitted_days_ago=10, answered_after_days=2)
    received(demand, submitted_days_ago=2, answered_after_days=1)  # judged early because answered
    received(other_demand, submitted_days_ago=30, answered_after_days=6.9)
    # judged and not answered in time: 4
    received(demand, submitted_days_ago=20, answered_after_days=9)
    received(demand, submitted_days_ago=8)
    received(other_demand, submitted_days_ago=15)
    received(other_demand, submitted_days_ago=30)
    # not counted: still inside the window, withdrawn, another organization's demand
    received(demand, submitted_days_ago=1)
    received(demand, submitted_days_ago=30, status=P.WITHDRAWN)
    received(DemandFactory(), submitted_days_ago=30)

    assert selectors.organization_response_rate(organization=enterprise) == 42.9  # 3 / 7


def test_response_rate_is_none_until_a_proposal_can_be_judged(enterprise, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    assert selectors.organization_response_rate(organization=enterprise) is None
    received(DemandFactory(owner=enterprise), submitted_days_ago=3)

    assert selectors.organization_response_rate(organization=enterprise) is None


def test_response_rate_of_an_owner_answering_everything_in_time(enterprise, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    demand = DemandFactory(owner=enterprise)
    received(demand, submitted_days_ago=9, answered_after_days=0.5)
    received(demand, submitted_days_ago=12, answered_after_days=6)

    assert selectors.organization_response_rate(organization=enterprise) == 100.0


def test_sealed_bids_do_not_count_against_the_owner_before_the_close(enterprise, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    tender = DemandFactory(owner=enterprise, tender=True, deadline=timezone.now() + timedelta(days=5))
    received(tender, submitted_days_ago=20)

    assert selectors.organization_response_rate(organization=enterprise) is None


@pytest.mark.parametrize(
    ("closed_days_ago", "answered_after_close_days", "rate"),
    [
        (3, None, None),  # closed 3 days ago: still inside the window that opened at the close
        (8, None, 0.0),  # closed 8 days ago, never answered
        (8, 2, 100.0),  # answered 2 days after the close, though submitted 20 days before it
    ],
)
def test_the_window_of_a_tender_bid_opens_at_the_close(
    enterprise, settings, closed_days_ago, answered_after_close_days, rate
):
    settings.DEMAND_RESPONSE_DAYS = 7
    closed_at = timezone.now() - timedelta(days=closed_days_ago)
    tender = DemandFactory(owner=enterprise, tender=True, closed=True, closed_at=closed_at)
    answered = (
        None if answered_after_close_days is None else closed_at + timedelta(days=answered_after_close_days)
    )
    ProposalFactory(demand=tender, submitted_at=closed_at - timedelta(days=20), owner_responded_at=answered)

    assert selectors.organization_response_rate(organization=enterprise) == rate


def test_bidders_keep_seeing_a_demand_they_answered_after_it_left_the_market(enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise)
    bid = ProposalFactory(demand=demand)
    other_supplier = UniversityFactory().created_by
    services.demand_withdraw(demand=demand, actor=enterprise_admin, reason="项目取消")

    assert selectors.demand_get_for_user(user=bid.supplier.created_by, pk=demand.pk) == demand
    with pytest.raises(Http404):
        selectors.demand_get_for_user(user=other_supplier, pk=demand.pk)


def test_the_dashboard_hides_the_count_of_a_sealed_tender(enterprise, verified_member):
    tender = DemandFactory(owner=enterprise, tender=True)
    ProposalFactory(demand=tender)

    totals = dict(
        selectors.demand_list_for_organizations(user=verified_member).values_list("pk", "proposal_total")
    )
    assert totals == {tender.pk: None}

    services.demand_close(demand=tender)
    totals = dict(
        selectors.demand_list_for_organizations(user=verified_member).values_list("pk", "proposal_total")
    )
    assert totals == {tender.pk: 1}


def test_commitments_of_an_open_call_are_published_only_at_its_close(enterprise):
    demand = DemandFactory(owner=enterprise)
    bid = ProposalFactory(demand=demand)

    assert selectors.commitments_published(demand=demand) == []
    services.demand_close(demand=demand)

    assert [row["commitment"] for row in selectors.commitments_published(demand=demand)] == [bid.commitment]


# --- list filters (shared by the website and the API) --------------------------------------------------------


def filtered(**params) -> set[int]:
    return pks(DemandFilter(params, queryset=selectors.demand_list_public()).qs)


def test_keywords_must_all_match_case_insensitively():
    moulding = DemandFactory(title="注塑件表面银纹与气泡缺陷分析", summary="PC/ABS外壳，PLC控制的注塑机")
    dyeing = DemandFactory(title="印染废水深度处理与回用", summary="COD与色度超标")

    assert filtered(q="银纹") == {moulding.pk}
    assert filtered(q="银纹  plc") == {moulding.pk}
    assert filtered(q="银纹 废水") == set()
    assert filtered(q="cod") == {dyeing.pk}
    # The field names are searchable too, in both languages.
    assert filtered(q="先进制造") == {moulding.pk, dyeing.pk}
    assert filtered(q="Advanced") == {moulding.pk, dyeing.pk}


def test_a_province_matches_its_cities_and_a_city_only_itself():
    hangzhou = DemandFactory(region_code="330100")
    ningbo = DemandFactory(region_code="330200")
    zhejiang = DemandFactory(region_code="330000")
    DemandFactory(region_code="320500")  # 苏州

    assert filtered(region="330000") == {hangzhou.pk, ningbo.pk, zhejiang.pk}
    assert filtered(region="330100") == {hangzhou.pk}


def test_a_field_matches_its_sub_fields_and_a_sub_field_only_itself():
    textiles = DemandFactory(sub_field_code="advanced_manufacturing.textiles")
    moulds = DemandFactory(sub_field_code="advanced_manufacturing.moulds_plastics")
    plain = DemandFactory()
    DemandFactory(field_code="new_energy", sub_field_code="new_energy.energy_storage")

    assert filtered(field="advanced_manufacturing") == {textiles.pk, moulds.pk, plain.pk}
    assert filtered(field="advanced_manufacturing.textiles") == {textiles.pk}


def test_budget_filters_keep_demands_whose_budget_can_reach_the_amount():
    small = DemandFactory(budget_min=Decimal("50000"), budget_max=Decimal("100000"))
    large = DemandFactory(budget_min=Decimal("500000"), budget_max=Decimal("2000000"))
    negotiable = DemandFactory(budget_min=None, budget_max=None, budget_negotiable=True)

    assert filtered(budget_min="300000") == {large.pk, negotiable.pk}
    assert filtered(budget_max="200000") == {small.pk, negotiable.pk}


def test_filters_by_mode_and_owner():
    tender = DemandFactory(tender=True)
    owner = EnterpriseFactory()
    own = DemandFactory(owner=owner)

    assert filtered(mode="tender") == {tender.pk}
    assert filtered(owner=str(owner.pk)) == {own.pk}


def test_commitments_skip_a_proposal_without_receipts(enterprise):
    from demands.models import ProposalReceipt

    demand = DemandFactory(owner=enterprise, closed=True)
    with_receipt, without = ProposalFactory(demand=demand), ProposalFactory(demand=demand)
    ProposalReceipt.objects.filter(proposal=without).delete()

    rows = selectors.commitments_published(demand=demand)

    assert [row["receipt"] for row in rows] == [f"{with_receipt.pk}-1"]
