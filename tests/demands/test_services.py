"""The demand lifecycle of SPEC §4 (demands.services.lifecycle): every transition, every refusal, its audit
entry and the notices (website and e-mail after commit) it sends. Proposals: test_proposal_services.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from demands import services
from demands.models import Demand, DemandRevision, Proposal
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Notification
from tests.factories import DemandFactory, MembershipFactory, ProposalFactory, get_field

pytestmark = pytest.mark.django_db

S = Demand.Status
R = DemandRevision.Status


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def demand_data(**overrides) -> dict:
    data = {
        "title": "印染废水深度处理与回用",
        "summary": "日排印染废水3000吨，COD约800mg/L、色度高，希望经深度处理后回用率达到60%以上。",
        "details": "现有工艺：调节池→水解酸化→好氧→混凝沉淀；附近三个月水质检测报告。",
        "field": "environment",
        "sub_field": "environment.water_treatment",
        "region": "330600",
        "budget_min": "500000",
        "budget_max": "1500000",
        "deadline": in_days(30),
        "cooperation_mode": "development",
    }
    data.update(overrides)
    return data


def actions(demand) -> list[str]:
    return list(
        AuditLog.objects.filter(target_type="demands.demand", target_id=str(demand.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def refused(exc_info, code: str) -> None:
    assert isinstance(exc_info.value, ApplicationError)
    assert exc_info.value.code == code


def unchanged(demand, **expected) -> None:
    """The demand row still has the values it had (negative tests assert that nothing changed)."""
    row = Demand.objects.filter(pk=demand.pk).values(*expected).get()
    assert row == expected


# --- create ------------------------------------------------------------------------------------------------


def test_create_makes_a_draft_with_codes_resolved_and_audited(enterprise, verified_member):
    demand = services.demand_create(owner=enterprise, actor=verified_member, **demand_data())

    demand.refresh_from_db()
    assert demand.status == S.DRAFT
    assert (demand.owner, demand.created_by) == (enterprise, verified_member)
    assert demand.field == get_field("environment")
    assert demand.sub_field == get_field("environment.water_treatment")
    assert demand.region_id == "330600"
    assert (demand.budget_min, demand.budget_max) == (Decimal("500000.00"), Decimal("1500000.00"))
    assert demand.published_at is None
    # The keyword search scans lower-cased title, summary and both names of field and sub-field.
    assert demand.search_text == (
        "印染废水深度处理与回用 日排印染废水3000吨，cod约800mg/l、色度高，希望经深度处理后回用率达到60%以上。 "
        "环境保护与资源综合利用 environmental protection and resource utilisation "
        "水污染治理 water treatment"
    )
    assert actions(demand) == ["demand.create"]
    assert AuditLog.objects.get(action="demand.create").actor == verified_member


def test_a_member_of_a_pending_organization_may_draft(pending_org, unverified_member):
    demand = services.demand_create(owner=pending_org, actor=unverified_member, **demand_data())

    assert demand.status == S.DRAFT


def test_create_refuses_someone_outside_the_organization(enterprise, outsider):
    with pytest.raises(ApplicationError) as exc:
        services.demand_create(owner=enterprise, actor=outsider, **demand_data())

    refused(exc, "not_owner")
    assert not Demand.objects.exists()
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error_fields"),
    [
        ({"title": "  "}, {"title"}),
        ({"summary": ""}, {"summary"}),
        ({"region": "339999"}, {"region"}),
        ({"field": "environment.water_treatment", "sub_field": ""}, {"field"}),
        ({"sub_field": "new_materials.polymers"}, {"sub_field"}),
        ({"budget_min": "2000000"}, {"budget_max"}),
        ({"budget_min": "-1"}, {"budget_min"}),
        ({"cooperation_mode": "barter"}, {"cooperation_mode"}),
        ({"deadline": timezone.now() - timedelta(minutes=1)}, {"deadline"}),
        ({"mode": "challenge"}, {"award_amount"}),
        ({"mode": "challenge", "award_amount": "9999.99"}, {"award_amount"}),
        ({"mode": "tender", "max_winners": 2}, {"max_winners"}),
        ({"nda_required": True, "nda_terms": " "}, {"nda_terms"}),
    ],
)
def test_create_refuses_invalid_data_and_writes_nothing(
    enterprise, enterprise_admin, overrides, error_fields
):
    with pytest.raises(ValidationError) as exc:
        services.demand_create(owner=enterprise, actor=enterprise_admin, **demand_data(**overrides))

    assert set(exc.value.message_dict) == error_fields
    assert not Demand.objects.exists()


def test_create_lists_every_missing_required_field(enterprise, enterprise_admin):
    with pytest.raises(ValidationError) as exc:
        services.demand_create(owner=enterprise, actor=enterprise_admin, title="只有标题")

    assert set(exc.value.message_dict) == {"summary", "field", "region", "deadline", "cooperation_mode"}
    assert not Demand.objects.exists()


def test_create_ignores_fields_only_services_may_set(enterprise, enterprise_admin):
    demand = services.demand_create(
        owner=enterprise,
        actor=enterprise_admin,
        **demand_data(status=S.PUBLISHED, published_at=timezone.now(), external_ref="x-1"),
    )

    demand.refresh_from_db()
    assert (demand.status, demand.published_at, demand.external_ref) == (S.DRAFT, None, None)


# --- update: drafts directly, published demands through a reviewed revision ---------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.REJECTED, S.PENDING_REVIEW])
def test_update_before_publication_changes_the_demand_directly(enterprise, enterprise_admin, status):
    demand = DemandFactory(draft=True, status=status, owner=enterprise)

    result = services.demand_update(
        demand=demand, actor=enterprise_admin, title="注塑件银纹缺陷在线检测", budget_max="400000"
    )

    assert isinstance(result, Demand)
    demand.refresh_from_db()
    assert demand.title == "注塑件银纹缺陷在线检测"
    assert demand.budget_max == Decimal("400000.00")
    assert demand.search_text.startswith("注塑件银纹缺陷在线检测 ")
    # An edit under review goes back to draft: reviewers approve only what they read.
    assert demand.status == (S.DRAFT if status == S.PENDING_REVIEW else status)
    assert not DemandRevision.objects.exists()
    entry = AuditLog.objects.get(action="demand.update")
    assert entry.data == {"fields": ["budget_max", "title"]}


def test_update_of_a_published_demand_waits_for_review_and_keeps_the_public_version(
    enterprise, enterprise_admin
):
    demand = DemandFactory(owner=enterprise)
    before = Demand.objects.filter(pk=demand.pk).values().get()

    revision = services.demand_update(
        demand=demand, actor=enterprise_admin, title="注塑件银纹与气泡在线检测", budget_max="400000"
    )

    assert isinstance(revision, DemandRevision)
    assert revision.status == R.PENDING
    assert revision.submitted_by == enterprise_admin
    assert revision.changes == {"title": "注塑件银纹与气泡在线检测", "budget_max": "400000.00"}
    # The public version (title, budget, search text) is untouched until a reviewer approves.
    assert Demand.objects.filter(pk=demand.pk).values().get() == before
    assert actions(demand) == ["demand.revision_submit"]
    assert AuditLog.objects.get().data == {"fields": ["budget_max", "title"]}


def test_approved_revision_becomes_the_public_version(
    enterprise, enterprise_admin, verified_member, staff_user
):
    demand = DemandFactory(owner=enterprise)
    new_deadline = in_days(40)
    revision = services.demand_update(
        demand=demand,
        actor=verified_member,
        title="注塑件银纹与气泡在线检测",
        budget_max="400000",
        deadline=new_deadline,
        sub_field="advanced_manufacturing.moulds_plastics",
    )

    result = services.demand_revision_review(revision=revision, actor=staff_user, approve=True)

    assert result.status == R.APPROVED
    assert (result.decided_by, result.reason) == (staff_user, "")
    assert result.decided_at is not None
    demand.refresh_from_db()
    assert demand.title == "注塑件银纹与气泡在线检测"
    assert demand.budget_max == Decimal("400000.00")
    assert demand.deadline == new_deadline
    assert demand.sub_field_id == "advanced_manufacturing.moulds_plastics"
    assert demand.search_text.endswith("模具与塑料加工 moulds and plastics processing")
    assert demand.status == S.PUBLISHED
    assert actions(demand) == ["demand.revision_submit", "demand.revision_approve"]
    notices = Notification.objects.filter(user__in=[enterprise_admin, verified_member])
    assert notices.count() == 2
    assert all(n.url == f"/demands/{demand.pk}/" for n in notices)


def test_rejected_revision_needs_a_reason_and_leaves_the_demand_as_it_was(
    enterprise, enterprise_admin, staff_user
):
    demand = DemandFactory(owner=enterprise)
    title = demand.title
    revision = services.demand_update(demand=demand, actor=enterprise_admin, title="夸大宣传的标题")

    with pytest.raises(ApplicationError) as exc:
        services.demand_revision_review(revision=revision, actor=staff_user, approve=False, reason="  ")
    refused(exc, "reason_required")
    revision.refresh_from_db()
    assert revision.status == R.PENDING

    services.demand_revision_review(
        revision=revision, actor=staff_user, approve=False, reason="标题与内容不符。"
    )

    revision.refresh_from_db()
    assert (revision.status, revision.reason) == (R.REJECTED, "标题与内容不符。")
    unchanged(demand, title=title, status=S.PUBLISHED)
    assert AuditLog.objects.get(action="demand.revision_reject").reason == "标题与内容不符。"
    assert "标题与内容不符。" in Notification.objects.get(user=enterprise_admin).subject


def test_a_newer_edit_supersedes_the_one_waiting(enterprise, enterprise_admin, staff_user):
    demand = DemandFactory(owner=enterprise)
    first = services.demand_update(demand=demand, actor=enterprise_admin, title="第一次修改")

    second = services.demand_update(demand=demand, actor=enterprise_admin, title="第二次修改")

    first.refresh_from_db()
    assert first.status == R.SUPERSEDED
    assert second.status == R.PENDING
    assert DemandRevision.objects.filter(demand=demand, status=R.PENDING).get() == second
    # The reviewer can no longer apply the superseded edit.
    with pytest.raises(ApplicationError) as exc:
        services.demand_revision_review(revision=first, actor=staff_user, approve=True)
    refused(exc, "bad_state")
    services.demand_revision_review(revision=second, actor=staff_user, approve=True)
    demand.refresh_from_db()
    assert demand.title == "第二次修改"


def test_a_decided_revision_cannot_be_decided_again(enterprise, enterprise_admin, staff_user):
    demand = DemandFactory(owner=enterprise)
    revision = services.demand_update(demand=demand, actor=enterprise_admin, title="修改后的标题")
    services.demand_revision_review(revision=revision, actor=staff_user, approve=True)

    with pytest.raises(ApplicationError) as exc:
        services.demand_revision_review(revision=revision, actor=staff_user, approve=False, reason="晚了")

    refused(exc, "bad_state")
    revision.refresh_from_db()
    assert revision.status == R.APPROVED


def test_only_staff_review_revisions(enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise)
    revision = services.demand_update(demand=demand, actor=enterprise_admin, title="自己批准自己")

    with pytest.raises(ApplicationError) as exc:
        services.demand_revision_review(revision=revision, actor=enterprise_admin, approve=True)

    refused(exc, "not_staff")
    revision.refresh_from_db()
    assert revision.status == R.PENDING


def test_revision_of_a_demand_closed_meanwhile_cannot_apply(enterprise, enterprise_admin, staff_user):
    demand = DemandFactory(owner=enterprise)
    revision = services.demand_update(demand=demand, actor=enterprise_admin, title="迟到的修改")
    services.demand_close(demand=demand, actor=enterprise_admin)

    with pytest.raises(ApplicationError) as exc:
        services.demand_revision_review(revision=revision, actor=staff_user, approve=True)

    refused(exc, "bad_state")
    revision.refresh_from_db()
    assert revision.status == R.PENDING  # the whole decision rolled back
    unchanged(demand, title=demand.title, status=S.CLOSED)


def test_update_of_a_published_demand_refuses_a_mode_change_and_an_empty_edit(enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise)

    with pytest.raises(ApplicationError) as mode_change:
        services.demand_update(demand=demand, actor=enterprise_admin, mode="tender")
    with pytest.raises(ApplicationError) as no_change:
        services.demand_update(demand=demand, actor=enterprise_admin, title=demand.title)

    refused(mode_change, "mode_locked")
    refused(no_change, "no_changes")
    assert not DemandRevision.objects.exists()


@pytest.mark.parametrize("status", [S.CLOSED, S.AWARDED, S.WITHDRAWN, S.EXPIRED])
def test_update_after_publication_ends_is_refused(enterprise, enterprise_admin, status):
    demand = DemandFactory(closed=True, status=status, owner=enterprise)

    with pytest.raises(ApplicationError) as exc:
        services.demand_update(demand=demand, actor=enterprise_admin, title="改不了")

    refused(exc, "bad_state")
    assert not DemandRevision.objects.exists()
    unchanged(demand, title=demand.title)


def test_update_refuses_someone_outside_the_organization(outsider):
    demand = DemandFactory(draft=True)

    with pytest.raises(ApplicationError) as exc:
        services.demand_update(demand=demand, actor=outsider, title="他人修改")

    refused(exc, "not_owner")
    unchanged(demand, title=demand.title)


# --- submit ------------------------------------------------------------------------------------------------


def test_submit_sends_a_draft_to_review(enterprise, verified_member):
    demand = services.demand_create(owner=enterprise, actor=verified_member, **demand_data())

    result = services.demand_submit(demand=demand, actor=verified_member)

    assert result.status == S.PENDING_REVIEW
    assert result.submitted_at is not None
    assert result.published_at is None
    assert actions(demand) == ["demand.create", "demand.submit"]


def test_submit_by_a_pending_organization_is_refused(pending_org, unverified_member):
    demand = services.demand_create(owner=pending_org, actor=unverified_member, **demand_data())

    with pytest.raises(ApplicationError) as exc:
        services.demand_submit(demand=demand, actor=unverified_member)

    refused(exc, "not_verified")
    unchanged(demand, status=S.DRAFT, submitted_at=None)
    assert actions(demand) == ["demand.create"]


def test_submit_by_someone_outside_the_organization_is_refused(outsider):
    demand = DemandFactory(draft=True)

    with pytest.raises(ApplicationError) as exc:
        services.demand_submit(demand=demand, actor=outsider)

    refused(exc, "not_owner")
    unchanged(demand, status=S.DRAFT)


def test_submit_refuses_a_challenge_award_below_the_minimum(enterprise, enterprise_admin, settings):
    # given a challenge drafted when the minimum was 10,000 yuan, and a minimum raised since
    settings.DEMAND_CHALLENGE_MIN_AWARD = 10_000
    demand = services.demand_create(
        owner=enterprise, actor=enterprise_admin, **demand_data(mode="challenge", award_amount="50000")
    )
    settings.DEMAND_CHALLENGE_MIN_AWARD = 80_000

    # when the owner submits it
    with pytest.raises(ValidationError) as exc:
        services.demand_submit(demand=demand, actor=enterprise_admin)

    # then it is refused with the new minimum, and nothing changed
    assert list(exc.value.message_dict) == ["award_amount"]
    assert "80,000" in exc.value.message_dict["award_amount"][0]
    unchanged(demand, status=S.DRAFT, submitted_at=None, award_amount=Decimal("50000.00"))
    assert actions(demand) == ["demand.create"]


def test_submit_refuses_a_deadline_that_has_passed(enterprise, enterprise_admin):
    demand = DemandFactory(draft=True, owner=enterprise, deadline=in_days(-1))

    with pytest.raises(ValidationError) as exc:
        services.demand_submit(demand=demand, actor=enterprise_admin)

    assert list(exc.value.message_dict) == ["deadline"]
    unchanged(demand, status=S.DRAFT, submitted_at=None)
    assert actions(demand) == []


@pytest.mark.parametrize("status", [S.PENDING_REVIEW, S.PUBLISHED, S.CLOSED, S.WITHDRAWN])
def test_submit_in_the_wrong_state_is_refused(enterprise, enterprise_admin, status):
    demand = DemandFactory(status=status, owner=enterprise)

    with pytest.raises(ApplicationError) as exc:
        services.demand_submit(demand=demand, actor=enterprise_admin)

    refused(exc, "bad_state")
    unchanged(demand, status=status)


def test_a_rejected_demand_can_be_corrected_and_submitted_again(enterprise, enterprise_admin, staff_user):
    demand = DemandFactory(pending_review=True, owner=enterprise)
    services.demand_review(demand=demand, actor=staff_user, approve=False, reason="预算与需求不匹配。")

    services.demand_update(demand=demand, actor=enterprise_admin, budget_max="800000")
    result = services.demand_submit(demand=demand, actor=enterprise_admin)

    assert result.status == S.PENDING_REVIEW
    assert result.budget_max == Decimal("800000.00")


# --- review (信息审核) --------------------------------------------------------------------------------------


def test_approval_publishes_and_tells_every_owner_member_by_email(
    enterprise, enterprise_admin, verified_member, staff_user, django_capture_on_commit_callbacks
):
    demand = DemandFactory(pending_review=True, owner=enterprise)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.demand_review(demand=demand, actor=staff_user, approve=True)

    assert result.status == S.PUBLISHED
    assert result.published_at is not None
    entry = AuditLog.objects.get(action="demand.publish")
    assert (entry.actor, entry.target_id) == (staff_user, str(demand.pk))
    assert recipients() == sorted([enterprise_admin.email, verified_member.email])
    assert all(demand.title in message.subject for message in mail.outbox)
    assert Notification.objects.filter(url=f"/demands/{demand.pk}/").count() == 2


def test_rejection_keeps_the_reason_and_tells_the_owner(
    enterprise, enterprise_admin, staff_user, django_capture_on_commit_callbacks
):
    demand = DemandFactory(pending_review=True, owner=enterprise)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.demand_review(
            demand=demand, actor=staff_user, approve=False, reason="需求描述涉及虚假宣传内容。"
        )

    assert (result.status, result.status_reason, result.published_at) == (
        S.REJECTED,
        "需求描述涉及虚假宣传内容。",
        None,
    )
    assert AuditLog.objects.get(action="demand.reject").reason == "需求描述涉及虚假宣传内容。"
    assert recipients() == [enterprise_admin.email]
    assert "需求描述涉及虚假宣传内容。" in mail.outbox[0].body


def test_the_review_email_goes_out_only_after_commit(
    enterprise, enterprise_admin, staff_user, django_capture_on_commit_callbacks
):
    demand = DemandFactory(pending_review=True, owner=enterprise)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.demand_review(demand=demand, actor=staff_user, approve=True)

    # The matching job and the e-mail, both after the commit.
    assert sorted(callback.func.__self__.name for callback in callbacks) == [
        "brokers.tasks.match_records",
        "marketplace.tasks.notification_email_task",
    ]
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert recipients() == [enterprise_admin.email]


def test_only_staff_review_demands(enterprise, enterprise_admin):
    demand = DemandFactory(pending_review=True, owner=enterprise)

    with pytest.raises(ApplicationError) as exc:
        services.demand_review(demand=demand, actor=enterprise_admin, approve=True)

    refused(exc, "not_staff")
    unchanged(demand, status=S.PENDING_REVIEW, published_at=None)
    assert not Notification.objects.exists()


def test_rejection_without_a_reason_is_refused(staff_user):
    demand = DemandFactory(pending_review=True)

    with pytest.raises(ApplicationError) as exc:
        services.demand_review(demand=demand, actor=staff_user, approve=False, reason=" \n")

    refused(exc, "reason_required")
    unchanged(demand, status=S.PENDING_REVIEW, status_reason="")


@pytest.mark.parametrize(("status", "approve"), [(S.DRAFT, True), (S.PUBLISHED, True), (S.REJECTED, False)])
def test_review_of_a_demand_not_waiting_for_it_is_refused(staff_user, status, approve):
    demand = DemandFactory(status=status)

    with pytest.raises(ApplicationError) as exc:
        services.demand_review(demand=demand, actor=staff_user, approve=approve, reason="理由")

    refused(exc, "bad_state")
    unchanged(demand, status=status)
    assert not AuditLog.objects.exists()


def test_approval_after_the_deadline_is_refused(staff_user):
    demand = DemandFactory(pending_review=True, deadline=in_days(-0.01))

    with pytest.raises(ApplicationError) as exc:
        services.demand_review(demand=demand, actor=staff_user, approve=True)

    refused(exc, "deadline_passed")
    unchanged(demand, status=S.PENDING_REVIEW, published_at=None)


# --- withdraw ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.PENDING_REVIEW, S.PUBLISHED, S.REJECTED])
def test_owner_withdraws_a_demand_that_is_not_closed(enterprise, enterprise_admin, status):
    demand = DemandFactory(status=status, owner=enterprise)

    result = services.demand_withdraw(demand=demand, actor=enterprise_admin, reason="项目取消")

    assert (result.status, result.status_reason) == (S.WITHDRAWN, "项目取消")
    assert result.finished_at is not None
    assert AuditLog.objects.get(action="demand.withdraw").reason == "项目取消"


def test_withdrawal_tells_the_active_bidders(
    enterprise, enterprise_admin, django_capture_on_commit_callbacks
):
    demand = DemandFactory(owner=enterprise)
    active = ProposalFactory(demand=demand)
    bidder_member = MembershipFactory(organization=active.supplier).user
    withdrawn = ProposalFactory(demand=demand, status=Proposal.Status.WITHDRAWN)

    with django_capture_on_commit_callbacks(execute=True):
        services.demand_withdraw(demand=demand, actor=enterprise_admin)

    assert recipients() == sorted([active.supplier.created_by.email, bidder_member.email])
    assert not Notification.objects.filter(user=withdrawn.supplier.created_by).exists()
    assert not Notification.objects.filter(user=enterprise_admin).exists()


@pytest.mark.parametrize("status", [S.CLOSED, S.AWARDED, S.WITHDRAWN, S.EXPIRED])
def test_withdrawal_after_the_close_is_refused(enterprise, enterprise_admin, status):
    demand = DemandFactory(closed=True, status=status, owner=enterprise)

    with pytest.raises(ApplicationError) as exc:
        services.demand_withdraw(demand=demand, actor=enterprise_admin)

    refused(exc, "bad_state")
    unchanged(demand, status=status, finished_at=None)


def test_withdrawal_by_someone_outside_the_organization_is_refused(outsider):
    demand = DemandFactory()

    with pytest.raises(ApplicationError) as exc:
        services.demand_withdraw(demand=demand, actor=outsider)

    refused(exc, "not_owner")
    unchanged(demand, status=S.PUBLISHED)


# --- close -------------------------------------------------------------------------------------------------


def test_owner_closes_early_and_everyone_is_told_once(
    enterprise, enterprise_admin, verified_member, django_capture_on_commit_callbacks
):
    # given a published demand with two proposals, one of them withdrawn
    demand = DemandFactory(owner=enterprise)
    bid = ProposalFactory(demand=demand)
    ProposalFactory(demand=demand, status=Proposal.Status.WITHDRAWN)

    # when the owner closes it before the deadline
    with django_capture_on_commit_callbacks(execute=True):
        closed = services.demand_close(demand=demand, actor=enterprise_admin)

    # then it is closed, audited as the owner's act, and the owner's members and the active bidder are told
    assert closed is True
    demand.refresh_from_db()
    assert demand.status == S.CLOSED
    assert demand.closed_at is not None
    assert demand.close_notified_at == demand.closed_at
    entry = AuditLog.objects.get(action="demand.close")
    assert (entry.actor, entry.data) == (enterprise_admin, {"by": "owner"})
    assert recipients() == sorted(
        [enterprise_admin.email, verified_member.email, bid.supplier.created_by.email]
    )
    owner_notice = Notification.objects.get(user=verified_member)
    assert "1 proposal(s)" in owner_notice.subject

    # when it is closed again, nothing more happens
    with django_capture_on_commit_callbacks(execute=True):
        again = services.demand_close(demand=demand, actor=enterprise_admin)

    assert again is False
    assert AuditLog.objects.filter(action="demand.close").count() == 1
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 3


@pytest.mark.parametrize("status", [S.DRAFT, S.PENDING_REVIEW, S.WITHDRAWN])
def test_close_of_a_demand_that_is_not_published_does_nothing(enterprise, enterprise_admin, status):
    demand = DemandFactory(status=status, owner=enterprise)

    assert services.demand_close(demand=demand, actor=enterprise_admin) is False

    unchanged(demand, status=status, closed_at=None)
    assert not AuditLog.objects.exists()


def test_close_by_someone_outside_the_organization_is_refused(outsider):
    demand = DemandFactory()

    with pytest.raises(ApplicationError) as exc:
        services.demand_close(demand=demand, actor=outsider)

    refused(exc, "not_owner")
    unchanged(demand, status=S.PUBLISHED, closed_at=None)


def test_the_owner_cannot_open_a_sealed_tender_before_its_deadline(enterprise, enterprise_admin):
    tender = DemandFactory(owner=enterprise, tender=True)
    ProposalFactory(demand=tender)

    with pytest.raises(ApplicationError) as exc:
        services.demand_close(demand=tender, actor=enterprise_admin)

    refused(exc, "sealed_until_deadline")
    unchanged(tender, status=S.PUBLISHED, closed_at=None, close_notified_at=None)
    assert not AuditLog.objects.exists()
    assert not Notification.objects.exists()


def test_a_tender_past_its_deadline_may_be_closed_by_its_owner(enterprise, enterprise_admin):
    tender = DemandFactory(owner=enterprise, tender=True, deadline=in_days(-0.01))

    assert services.demand_close(demand=tender, actor=enterprise_admin) is True

    tender.refresh_from_db()
    assert tender.status == S.CLOSED
    assert tender.is_sealed is False


def test_a_tender_withdrawn_before_its_close_stays_sealed(enterprise, enterprise_admin, verified_member):
    from demands import selectors

    tender = DemandFactory(owner=enterprise, tender=True)
    bid = ProposalFactory(demand=tender)

    withdrawn = services.demand_withdraw(demand=tender, actor=enterprise_admin, reason="项目取消")

    assert withdrawn.is_sealed is True
    assert selectors.proposal_list_for_demand(user=verified_member, demand=withdrawn).count() == 0
    assert selectors.proposal_count_visible(user=verified_member, demand=withdrawn) is None
    assert selectors.commitments_published(demand=withdrawn) == []
    # The bidder still sees its own bid.
    assert list(selectors.proposal_list_for_demand(user=bid.supplier.created_by, demand=withdrawn)) == [bid]


def test_close_due_closes_published_demands_at_their_deadline(enterprise, enterprise_admin):
    due = DemandFactory(deadline=in_days(-0.001), owner=enterprise)
    later = DemandFactory(deadline=in_days(1))
    draft_past = DemandFactory(draft=True, deadline=in_days(-1))

    assert services.demand_close_due() == 1

    unchanged(due, status=S.CLOSED)
    unchanged(later, status=S.PUBLISHED, closed_at=None)
    unchanged(draft_past, status=S.DRAFT)
    entry = AuditLog.objects.get(action="demand.close")
    assert (entry.actor, entry.data, entry.target_id) == (None, {"by": "deadline"}, str(due.pk))
    assert services.demand_close_due() == 0


def test_close_due_uses_the_given_time_and_batch_size():
    first, second, third = (DemandFactory(deadline=in_days(days)) for days in (1, 2, 3))

    assert services.demand_close_due(now=in_days(2.5), batch_size=1) == 1
    assert services.demand_close_due(now=in_days(2.5), batch_size=1) == 1
    assert services.demand_close_due(now=in_days(2.5), batch_size=1) == 0

    assert [Demand.objects.get(pk=d.pk).status for d in (first, second, third)] == [
        S.CLOSED,
        S.CLOSED,
        S.PUBLISHED,
    ]


# --- expiry ------------------------------------------------------------------------------------------------


def test_a_demand_closed_longer_than_the_grace_period_expires(
    enterprise, enterprise_admin, verified_member, settings, django_capture_on_commit_callbacks
):
    settings.DEMAND_AWARD_GRACE_DAYS = 60
    stale = DemandFactory(closed=True, closed_at=in_days(-61), owner=enterprise)
    bid = ProposalFactory(demand=stale)
    recent = DemandFactory(closed=True, closed_at=in_days(-59))
    awarded = DemandFactory(closed=True, status=S.AWARDED, closed_at=in_days(-90))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.demand_expire_stale() == 1

    stale.refresh_from_db()
    assert stale.status == S.EXPIRED
    assert stale.finished_at is not None
    unchanged(recent, status=S.CLOSED)
    unchanged(awarded, status=S.AWARDED)
    assert AuditLog.objects.get(action="demand.expire").target_id == str(stale.pk)
    # The owner's administrators (not every member) and the bidders are told.
    assert recipients() == sorted([enterprise_admin.email, bid.supplier.created_by.email])
    assert not Notification.objects.filter(user=verified_member).exists()


def test_expiry_uses_the_given_time(settings):
    settings.DEMAND_AWARD_GRACE_DAYS = 60
    demand = DemandFactory(closed=True, closed_at=in_days(-10))

    assert services.demand_expire_stale() == 0
    assert services.demand_expire_stale(now=in_days(51)) == 1

    unchanged(demand, status=S.EXPIRED)


# --- the later stages --------------------------------------------------------------------------------------


def test_awarded_demand_is_contracted_then_solved(enterprise, enterprise_admin):
    demand = DemandFactory(closed=True, status=S.AWARDED, owner=enterprise)

    before = timezone.now()
    contracted = services.demand_mark_contracted(demand=demand)
    assert (contracted.status, contracted.finished_at) == (S.CONTRACTED, None)
    assert before <= contracted.contracted_at <= timezone.now()
    solved = services.demand_mark_solved(demand=demand, actor=enterprise_admin)

    assert solved.status == S.SOLVED
    assert solved.finished_at is not None
    assert actions(demand) == ["demand.contracted", "demand.solved"]
    assert AuditLog.objects.get(action="demand.contracted").actor is None
    assert AuditLog.objects.get(action="demand.solved").actor == enterprise_admin


@pytest.mark.parametrize("status", [S.PUBLISHED, S.CLOSED, S.CONTRACTED])
def test_mark_contracted_needs_an_awarded_demand(status):
    demand = DemandFactory(closed=True, status=status)

    with pytest.raises(ApplicationError) as exc:
        services.demand_mark_contracted(demand=demand)

    refused(exc, "bad_state")
    unchanged(demand, status=status)


@pytest.mark.parametrize("status", [S.CLOSED, S.AWARDED, S.SOLVED])
def test_mark_solved_needs_a_contracted_demand(enterprise, enterprise_admin, status):
    demand = DemandFactory(closed=True, status=status, owner=enterprise)

    with pytest.raises(ApplicationError) as exc:
        services.demand_mark_solved(demand=demand, actor=enterprise_admin)

    refused(exc, "bad_state")
    unchanged(demand, status=status, finished_at=None)


def test_only_the_owner_marks_a_demand_solved(university_admin):
    demand = DemandFactory(closed=True, status=S.CONTRACTED)

    with pytest.raises(ApplicationError) as exc:
        services.demand_mark_solved(demand=demand, actor=university_admin)

    refused(exc, "not_owner")
    unchanged(demand, status=S.CONTRACTED)
