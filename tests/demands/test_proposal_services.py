"""Proposals and bids (demands.services.proposals, SPEC §4): submission with receipts and SHA-256 commitments,
edits, withdrawal, the sealed tender, evaluation with structured reasons, messages, awards and reminders.
Every refusal is checked for its code and for leaving nothing behind; every notice for its exact recipients."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from demands import services
from demands.models import Demand, NdaAcceptance, Proposal, ProposalMessage, ProposalReceipt, Question
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Notification
from tests.factories import DemandFactory, InstituteFactory, MembershipFactory, ProposalFactory

pytestmark = pytest.mark.django_db

S = Demand.Status
P = Proposal.Status
Reason = Proposal.RejectionReason


def submit(demand, supplier, actor, **overrides):
    bid = {
        "approach": "采用近红外在线测厚结合闭环控制，调整涂布头间隙，实现极片面密度一致性±1.5%。",
        "price": "150000",
        "duration_days": 60,
        "team": "储能材料课题组：教授1名、博士后2名",
    }
    bid.update(overrides)
    return services.proposal_submit(demand=demand, supplier=supplier, actor=actor, **bid)


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def refused(exc_info, code: str) -> None:
    assert isinstance(exc_info.value, ApplicationError)
    assert exc_info.value.code == code


def row(proposal, *fields) -> dict:
    return Proposal.objects.filter(pk=proposal.pk).values(*fields).get()


def closed(demand) -> Demand:
    assert services.demand_close(demand=demand) is True
    demand.refresh_from_db()
    return demand


@pytest.fixture
def demand(enterprise):
    """A published open call of ``enterprise`` (members: enterprise_admin, and verified_member when used)."""
    return DemandFactory(owner=enterprise, title="锂电池极片涂布厚度在线检测")


# --- submit ------------------------------------------------------------------------------------------------


def test_submit_issues_a_receipt_with_the_commitment_of_the_content(
    demand,
    enterprise_admin,
    verified_member,
    university,
    university_admin,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal, receipt = submit(demand, university, university_admin)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.version, proposal.submitted_by) == (P.SUBMITTED, 1, university_admin)
    assert proposal.price == Decimal("150000.00")
    assert len(proposal.nonce) == 32
    assert (receipt.proposal, receipt.version) == (proposal, 1)
    assert (
        receipt.commitment
        == proposal.commitment
        == services.commitment_of(services.proposal_content(proposal))
    )
    assert services.proposal_verify(
        content=services.proposal_content(proposal), commitment=receipt.commitment
    )
    entry = AuditLog.objects.get(action="proposal.submit")
    assert entry.data == {"proposal": proposal.pk, "version": 1, "commitment": receipt.commitment}
    # Every member of the owner organization is asked to answer, by e-mail after commit.
    assert recipients() == sorted([enterprise_admin.email, verified_member.email])
    assert Notification.objects.filter(url=f"/demands/{demand.pk}/").count() == 2
    assert not Notification.objects.filter(user=university_admin).exists()


def test_the_commitment_covers_the_canonical_content(demand, university, university_admin):
    proposal, receipt = submit(demand, university, university_admin)

    content = services.proposal_content(proposal)
    assert content == (
        '{"approach":"采用近红外在线测厚结合闭环控制，调整涂布头间隙，实现极片面密度一致性±1.5%。",'
        f'"attachments":[],"demand":{demand.pk},"duration_days":60,"nonce":"{proposal.nonce}",'
        f'"price":"150000.00","supplier":{university.pk},"team":"储能材料课题组：教授1名、博士后2名","version":1}}'
    )
    assert receipt.commitment == hashlib.sha256(content.encode()).hexdigest()
    # A bidder may paste the commitment in capitals.
    assert services.proposal_verify(content=content, commitment=receipt.commitment.upper())


@pytest.mark.parametrize(
    ("organization", "actor", "code"),
    [
        ("enterprise", "enterprise_admin", "own_demand"),
        ("pending_org", "unverified_member", "not_verified"),
        ("university", "outsider", "not_member"),
        ("university", "enterprise_admin", "not_member"),
    ],
)
def test_submit_by_the_wrong_party_is_refused(request, demand, organization, actor, code):
    supplier, user = request.getfixturevalue(organization), request.getfixturevalue(actor)

    with pytest.raises(ApplicationError) as exc:
        submit(demand, supplier, user)

    refused(exc, code)
    assert not Proposal.objects.exists()
    assert not ProposalReceipt.objects.exists()
    assert not AuditLog.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("traits", "code"),
    [
        ({"draft": True}, "bad_state"),
        ({"pending_review": True}, "bad_state"),
        ({"closed": True}, "bad_state"),
        ({"closed": True, "status": S.AWARDED}, "bad_state"),
        ({"status": S.WITHDRAWN}, "bad_state"),
        ({"deadline": timezone.now() - timedelta(minutes=1)}, "deadline_passed"),
    ],
)
def test_submit_to_a_demand_that_does_not_accept_proposals_is_refused(
    enterprise, university, university_admin, traits, code
):
    demand = DemandFactory(owner=enterprise, **traits)

    with pytest.raises(ApplicationError) as exc:
        submit(demand, university, university_admin)

    refused(exc, code)
    assert not Proposal.objects.exists()
    assert not Notification.objects.exists()


def test_submit_needs_the_nda_accepted_first(enterprise, university, university_admin):
    demand = DemandFactory(owner=enterprise, nda=True)

    with pytest.raises(ApplicationError) as exc:
        submit(demand, university, university_admin)
    refused(exc, "nda_required")
    assert not Proposal.objects.exists()

    acceptance = services.nda_accept(demand=demand, organization=university, actor=university_admin)
    proposal, _ = submit(demand, university, university_admin)

    assert acceptance.terms_sha256 == hashlib.sha256(demand.nda_terms.encode()).hexdigest()
    assert acceptance.accepted_by == university_admin
    assert proposal.status == P.SUBMITTED
    # Accepting twice keeps the first acceptance and audits once.
    assert services.nda_accept(demand=demand, organization=university, actor=university_admin) == acceptance
    assert AuditLog.objects.filter(action="demand.nda_accept").count() == 1


@pytest.mark.parametrize(
    ("traits", "organization", "actor", "code"),
    [
        ({}, "university", "university_admin", "no_nda"),
        ({"nda": True}, "enterprise", "enterprise_admin", "own_demand"),
        ({"nda": True}, "pending_org", "unverified_member", "not_verified"),
        ({"nda": True, "draft": True}, "university", "university_admin", "bad_state"),
    ],
)
def test_nda_acceptance_refusals(request, enterprise, traits, organization, actor, code):
    demand = DemandFactory(owner=enterprise, **traits)

    with pytest.raises(ApplicationError) as exc:
        services.nda_accept(
            demand=demand,
            organization=request.getfixturevalue(organization),
            actor=request.getfixturevalue(actor),
        )

    refused(exc, code)
    assert not NdaAcceptance.objects.exists()


def test_a_second_proposal_of_the_same_organization_is_a_duplicate(demand, university, university_admin):
    colleague = MembershipFactory(organization=university).user
    first, _ = submit(demand, university, university_admin)

    with pytest.raises(ApplicationError) as exc:
        submit(demand, university, colleague, approach="另一套方案")

    refused(exc, "duplicate")
    assert list(Proposal.objects.values_list("pk", "approach")) == [(first.pk, first.approach)]
    assert ProposalReceipt.objects.count() == 1
    assert AuditLog.objects.filter(action="proposal.submit").count() == 1


@pytest.mark.parametrize(
    ("overrides", "error_fields"),
    [
        ({"approach": "  "}, {"approach"}),
        ({"duration_days": 0}, {"duration_days"}),
        ({"duration_days": "三个月"}, {"duration_days"}),
        ({"price": "-1"}, {"price"}),
    ],
)
def test_submit_validates_the_bid(demand, university, university_admin, overrides, error_fields):
    with pytest.raises(ValidationError) as exc:
        submit(demand, university, university_admin, **overrides)

    assert set(exc.value.message_dict) == error_fields
    assert not Proposal.objects.exists()


# --- update, withdraw, resubmit ----------------------------------------------------------------------------


def test_update_issues_a_new_receipt_and_only_the_new_commitment_verifies(
    demand, university, university_admin
):
    proposal, first = submit(demand, university, university_admin)

    updated, second = services.proposal_update(
        proposal=proposal,
        actor=university_admin,
        approach="改用激光三角测厚",
        price="160000",
        duration_days=45,
    )

    updated.refresh_from_db()
    assert (updated.pk, updated.version, updated.approach) == (proposal.pk, 2, "改用激光三角测厚")
    assert (second.version, second.commitment) == (2, updated.commitment)
    assert second.commitment != first.commitment
    assert list(updated.receipts.values_list("version", "commitment")) == [
        (1, first.commitment),
        (2, second.commitment),
    ]
    content = services.proposal_content(updated)
    assert services.proposal_verify(content=content, commitment=second.commitment) is True
    assert services.proposal_verify(content=content, commitment=first.commitment) is False
    updated.price = Decimal("1.00")  # a bid changed after the receipt was issued
    assert (
        services.proposal_verify(content=services.proposal_content(updated), commitment=second.commitment)
        is False
    )
    assert AuditLog.objects.get(action="proposal.update").data == {
        "proposal": proposal.pk,
        "version": 2,
        "commitment": second.commitment,
    }


@pytest.mark.parametrize(
    ("status", "deadline_passed", "code"),
    [
        (P.SHORTLISTED, False, "bad_state"),
        (P.WITHDRAWN, False, "bad_state"),
        (P.SUBMITTED, True, "deadline_passed"),
    ],
)
def test_update_is_refused_unless_submitted_and_open(
    demand, university, university_admin, status, deadline_passed, code
):
    proposal, receipt = submit(demand, university, university_admin)
    Proposal.objects.filter(pk=proposal.pk).update(status=status)
    if deadline_passed:
        Demand.objects.filter(pk=demand.pk).update(deadline=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ApplicationError) as exc:
        services.proposal_update(
            proposal=proposal, actor=university_admin, approach="迟到的修改", duration_days=30
        )

    refused(exc, code)
    assert row(proposal, "version", "commitment", "approach") == {
        "version": 1,
        "commitment": receipt.commitment,
        "approach": proposal.approach,
    }
    assert ProposalReceipt.objects.count() == 1


def test_update_by_someone_outside_the_bidder_is_refused(
    demand, university, university_admin, enterprise_admin
):
    proposal, _ = submit(demand, university, university_admin)

    with pytest.raises(ApplicationError) as exc:
        services.proposal_update(proposal=proposal, actor=enterprise_admin, approach="篡改", duration_days=1)

    refused(exc, "not_member")
    assert row(proposal, "version")["version"] == 1


def test_withdraw_then_resubmit_reuses_the_row_with_a_new_version(demand, university, university_admin):
    proposal, first = submit(demand, university, university_admin)

    withdrawn = services.proposal_withdraw(proposal=proposal, actor=university_admin)
    assert withdrawn.status == P.WITHDRAWN
    again, second = submit(demand, university, university_admin, price="140000")

    assert again.pk == proposal.pk
    assert (again.status, again.version, again.price) == (P.SUBMITTED, 2, Decimal("140000.00"))
    assert Proposal.objects.count() == 1
    assert list(ProposalReceipt.objects.values_list("version", flat=True)) == [1, 2]
    assert second.commitment != first.commitment
    assert [
        e.data.get("version") for e in AuditLog.objects.filter(target_id=str(demand.pk)).order_by("id")
    ] == [
        1,
        None,
        2,
    ]


@pytest.mark.parametrize(
    ("status", "deadline_passed", "code"),
    [
        (P.WITHDRAWN, False, "bad_state"),
        (P.SHORTLISTED, False, "bad_state"),
        (P.SUBMITTED, True, "deadline_passed"),
    ],
)
def test_withdraw_is_refused_unless_submitted_and_open(
    demand, university, university_admin, status, deadline_passed, code
):
    proposal, _ = submit(demand, university, university_admin)
    Proposal.objects.filter(pk=proposal.pk).update(status=status)
    if deadline_passed:
        Demand.objects.filter(pk=demand.pk).update(deadline=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ApplicationError) as exc:
        services.proposal_withdraw(proposal=proposal, actor=university_admin)

    refused(exc, code)
    assert row(proposal, "status")["status"] == status


# --- evaluation: shortlist, reject with reasons, messages --------------------------------------------------


def test_owner_shortlists_a_proposal_and_the_bidder_is_told(
    demand, enterprise_admin, university, university_admin, django_capture_on_commit_callbacks
):
    proposal = ProposalFactory(demand=demand, supplier=university)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.proposal_shortlist(proposal=proposal, actor=enterprise_admin)

    assert result.status == P.SHORTLISTED
    assert result.decided_at is not None
    assert result.owner_responded_at == result.decided_at
    assert AuditLog.objects.get(action="proposal.shortlist").data == {"proposal": proposal.pk}
    assert recipients() == [university_admin.email]


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        (Reason.PRICE, "The price is above what we can pay"),
        (Reason.APPROACH, "The technical approach does not fit our problem"),
        (Reason.CAPABILITY, "The team's capability or track record is not sufficient"),
        (Reason.DURATION, "The proposed duration is too long"),
    ],
)
def test_rejection_tells_the_bidder_the_reason(
    demand, enterprise_admin, university, university_admin, reason, label, django_capture_on_commit_callbacks
):
    proposal = ProposalFactory(demand=demand, supplier=university)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.proposal_reject(
            proposal=proposal, actor=enterprise_admin, reason=reason, note="欢迎参与我们后续的需求。"
        )

    assert (result.status, result.rejection_reason, result.rejection_note) == (
        P.REJECTED,
        reason,
        "欢迎参与我们后续的需求。",
    )
    assert result.owner_responded_at is not None
    entry = AuditLog.objects.get(action="proposal.reject")
    assert (entry.reason, entry.data) == (
        "欢迎参与我们后续的需求。",
        {"proposal": proposal.pk, "reason": reason},
    )
    assert recipients() == [university_admin.email]
    notice = Notification.objects.get(user=university_admin)
    assert label in notice.body
    assert "欢迎参与我们后续的需求。" in notice.body
    assert label in mail.outbox[0].body


@pytest.mark.parametrize(
    ("reason", "note", "error_field"),
    [("", "", "reason"), ("too_expensive", "", "reason"), (Reason.OTHER, "  ", "note")],
)
def test_rejection_needs_a_listed_reason_and_other_needs_a_note(
    demand, enterprise_admin, reason, note, error_field
):
    proposal = ProposalFactory(demand=demand)

    with pytest.raises(ValidationError) as exc:
        services.proposal_reject(proposal=proposal, actor=enterprise_admin, reason=reason, note=note)

    assert list(exc.value.message_dict) == [error_field]
    assert row(proposal, "status", "rejection_reason", "owner_responded_at") == {
        "status": P.SUBMITTED,
        "rejection_reason": "",
        "owner_responded_at": None,
    }
    assert not Notification.objects.exists()


def test_other_reason_with_its_note_reaches_the_bidder(
    demand, enterprise_admin, university, university_admin
):
    proposal = ProposalFactory(demand=demand, supplier=university)

    services.proposal_reject(
        proposal=proposal, actor=enterprise_admin, reason=Reason.OTHER, note="项目预算已冻结。"
    )

    body = Notification.objects.get(user=university_admin).body
    assert "Other reason" in body
    assert "项目预算已冻结。" in body


def test_a_shortlisted_proposal_can_be_rejected_but_a_rejected_one_cannot_be_again(demand, enterprise_admin):
    proposal = ProposalFactory(demand=demand)
    services.proposal_shortlist(proposal=proposal, actor=enterprise_admin)
    services.proposal_reject(proposal=proposal, actor=enterprise_admin, reason=Reason.PRICE)

    with pytest.raises(ApplicationError) as again:
        services.proposal_reject(proposal=proposal, actor=enterprise_admin, reason=Reason.DURATION)
    with pytest.raises(ApplicationError) as shortlist:
        services.proposal_shortlist(proposal=proposal, actor=enterprise_admin)

    refused(again, "bad_state")
    refused(shortlist, "bad_state")
    assert row(proposal, "status", "rejection_reason") == {
        "status": P.REJECTED,
        "rejection_reason": Reason.PRICE,
    }


def test_only_the_owner_evaluates(demand, university, university_admin):
    proposal = ProposalFactory(demand=demand, supplier=university)

    with pytest.raises(ApplicationError) as shortlist:
        services.proposal_shortlist(proposal=proposal, actor=university_admin)
    with pytest.raises(ApplicationError) as reject:
        services.proposal_reject(proposal=proposal, actor=university_admin, reason=Reason.PRICE)

    refused(shortlist, "not_owner")
    refused(reject, "not_owner")
    assert row(proposal, "status")["status"] == P.SUBMITTED


@pytest.mark.parametrize("status", [S.WITHDRAWN, S.EXPIRED, S.CONTRACTED])
def test_proposals_of_a_finished_demand_cannot_be_evaluated(enterprise, enterprise_admin, status):
    proposal = ProposalFactory(demand=DemandFactory(owner=enterprise, closed=True, status=status))

    with pytest.raises(ApplicationError) as exc:
        services.proposal_shortlist(proposal=proposal, actor=enterprise_admin)

    refused(exc, "bad_state")


def test_owner_asks_a_bidder_and_the_bidder_answers(
    demand,
    enterprise_admin,
    verified_member,
    university,
    university_admin,
    django_capture_on_commit_callbacks,
):
    proposal = ProposalFactory(demand=demand, supplier=university)
    closed(demand)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        question = services.proposal_message(
            proposal=proposal, actor=verified_member, body="能否提供在线测厚的试验数据？"
        )
    assert (question.author_organization, question.author) == (demand.owner, verified_member)
    assert recipients() == [university_admin.email]
    assert row(proposal, "owner_responded_at")["owner_responded_at"] == question.created_at
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answer = services.proposal_message(
            proposal=proposal, actor=university_admin, body="可以，见附件报告。"
        )

    assert answer.author_organization == university
    assert recipients() == sorted([enterprise_admin.email, verified_member.email])
    assert "可以，见附件报告。" in mail.outbox[0].body
    # The bidder's answer is not the owner's response.
    assert row(proposal, "owner_responded_at")["owner_responded_at"] == question.created_at


def test_messages_are_refused_to_outsiders_empty_bodies_and_withdrawn_proposals(
    demand, enterprise_admin, outsider, university
):
    proposal = ProposalFactory(demand=demand, supplier=university)

    with pytest.raises(ApplicationError) as outsider_exc:
        services.proposal_message(proposal=proposal, actor=outsider, body="你好")
    with pytest.raises(ValidationError):
        services.proposal_message(proposal=proposal, actor=enterprise_admin, body=" ")
    Proposal.objects.filter(pk=proposal.pk).update(status=P.WITHDRAWN)
    proposal.refresh_from_db()
    with pytest.raises(ApplicationError) as withdrawn_exc:
        services.proposal_message(proposal=proposal, actor=enterprise_admin, body="还在吗？")

    refused(outsider_exc, "not_party")
    refused(withdrawn_exc, "bad_state")
    assert not ProposalMessage.objects.exists()


@pytest.mark.parametrize("status", [Demand.Status.WITHDRAWN, Demand.Status.EXPIRED, Demand.Status.CONTRACTED])
def test_a_bidder_cannot_write_once_the_demand_is_withdrawn_expired_or_contracted(
    demand, university, university_admin, status
):
    proposal = ProposalFactory(demand=demand, supplier=university)
    Demand.objects.filter(pk=demand.pk).update(status=status)
    proposal.refresh_from_db()
    mail.outbox.clear()

    with pytest.raises(ApplicationError) as exc:
        services.proposal_message(proposal=proposal, actor=university_admin, body="请问还需要方案吗？")

    refused(exc, "bad_state")
    assert not ProposalMessage.objects.exists()
    assert mail.outbox == []


# --- clarification questions -----------------------------------------------------------------------------


def test_a_public_question_reaches_the_owner_and_the_answer_the_asker(
    demand,
    enterprise_admin,
    verified_member,
    university,
    university_admin,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        question = services.question_ask(
            demand=demand, organization=university, actor=university_admin, text="极片宽度和走带速度是多少？"
        )
    assert recipients() == sorted([enterprise_admin.email, verified_member.email])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.question_answer(question=question, actor=verified_member, answer="宽度600mm，速度30m/min。")

    question.refresh_from_db()
    assert (question.answer, question.answered_by) == ("宽度600mm，速度30m/min。", verified_member)
    assert recipients() == [university_admin.email]


def test_a_corrected_answer_replaces_the_public_one_without_a_second_notice(
    demand, enterprise_admin, university, university_admin, django_capture_on_commit_callbacks
):
    question = services.question_ask(
        demand=demand, organization=university, actor=university_admin, text="模具材料是什么？"
    )
    services.question_answer(question=question, actor=enterprise_admin, answer="718H。")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.question_answer(question=question, actor=enterprise_admin, answer="718H，预硬至HRC33。")

    question.refresh_from_db()
    assert question.answer == "718H，预硬至HRC33。"
    assert Notification.objects.filter(user=university_admin).count() == 1
    assert mail.outbox == []
    assert AuditLog.objects.filter(action="demand.question_answer").count() == 2


def test_questions_are_refused_on_own_and_closed_demands(
    enterprise, enterprise_admin, university, university_admin
):
    with pytest.raises(ApplicationError) as own:
        services.question_ask(
            demand=DemandFactory(owner=enterprise), organization=enterprise, actor=enterprise_admin, text="?"
        )
    with pytest.raises(ApplicationError) as late:
        services.question_ask(
            demand=DemandFactory(closed=True), organization=university, actor=university_admin, text="?"
        )

    refused(own, "own_demand")
    refused(late, "bad_state")
    assert not Question.objects.exists()


# --- award -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("traits", [{}, {"tender": True}])
def test_one_award_declines_the_other_active_proposals(
    enterprise, enterprise_admin, traits, django_capture_on_commit_callbacks
):
    # given a closed demand with a shortlisted, a submitted and a withdrawn proposal
    demand = DemandFactory(owner=enterprise, **traits)
    winner = ProposalFactory(demand=demand)
    loser = ProposalFactory(demand=demand)
    gone = ProposalFactory(demand=demand, status=P.WITHDRAWN)
    closed(demand)
    services.proposal_shortlist(proposal=winner, actor=enterprise_admin)
    mail.outbox.clear()

    # when the owner awards the shortlisted one
    with django_capture_on_commit_callbacks(execute=True):
        awarded, draft_contract = services.proposal_award(proposal=winner, actor=enterprise_admin)

    # then the demand is awarded, the other active proposal declined with "another proposal was selected"
    assert awarded.status == P.AWARDED
    assert draft_contract is None  # the contracts capability hooks in here later
    demand.refresh_from_db()
    assert demand.status == S.AWARDED
    assert demand.awarded_at == awarded.decided_at
    assert row(loser, "status", "rejection_reason") == {
        "status": P.REJECTED,
        "rejection_reason": Reason.OTHER_AWARDED,
    }
    assert row(loser, "owner_responded_at")["owner_responded_at"] is not None
    assert row(gone, "status", "rejection_reason") == {"status": P.WITHDRAWN, "rejection_reason": ""}
    assert AuditLog.objects.get(action="proposal.award").data == {"proposal": winner.pk}
    assert recipients() == sorted([winner.supplier.created_by.email, loser.supplier.created_by.email])
    assert (
        "Another proposal was selected"
        in Notification.objects.filter(user=loser.supplier.created_by).first().body
    )
    assert "won" in Notification.objects.filter(user=winner.supplier.created_by).first().subject

    # and a second award is refused
    with pytest.raises(ApplicationError) as exc:
        services.proposal_award(proposal=loser, actor=enterprise_admin)
    refused(exc, "awards_exhausted")


def test_a_challenge_awards_up_to_its_number_of_winners(enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise, challenge=True, max_winners=2)
    first, second, third = (ProposalFactory(demand=demand) for _ in range(3))
    closed(demand)

    services.proposal_award(proposal=first, actor=enterprise_admin)
    # One of two awards made: the others stay in the running.
    assert row(second, "status")["status"] == P.SUBMITTED
    assert row(third, "status")["status"] == P.SUBMITTED
    services.proposal_award(proposal=second, actor=enterprise_admin)
    with pytest.raises(ApplicationError) as exc:
        services.proposal_award(proposal=third, actor=enterprise_admin)

    refused(exc, "awards_exhausted")
    assert sorted(Proposal.objects.values_list("status", flat=True)) == [P.AWARDED, P.AWARDED, P.REJECTED]
    assert row(third, "rejection_reason")["rejection_reason"] == Reason.OTHER_AWARDED
    assert AuditLog.objects.filter(action="proposal.award").count() == 2
    demand.refresh_from_db()
    assert demand.status == S.AWARDED


def test_a_declined_proposal_cannot_be_awarded(enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise, challenge=True, max_winners=2)
    proposal = ProposalFactory(demand=demand)
    closed(demand)
    services.proposal_reject(proposal=proposal, actor=enterprise_admin, reason=Reason.APPROACH)

    with pytest.raises(ApplicationError) as exc:
        services.proposal_award(proposal=proposal, actor=enterprise_admin)

    refused(exc, "bad_state")
    assert Demand.objects.get(pk=demand.pk).status == S.CLOSED


def test_award_before_the_close_is_refused(demand, enterprise_admin):
    proposal = ProposalFactory(demand=demand)

    with pytest.raises(ApplicationError) as exc:
        services.proposal_award(proposal=proposal, actor=enterprise_admin)

    refused(exc, "bad_state")
    assert row(proposal, "status")["status"] == P.SUBMITTED
    assert Demand.objects.get(pk=demand.pk).status == S.PUBLISHED
    assert not AuditLog.objects.filter(action="proposal.award").exists()


def test_award_by_someone_outside_the_owner_is_refused(demand, university, university_admin):
    proposal = ProposalFactory(demand=demand, supplier=university)
    closed(demand)

    with pytest.raises(ApplicationError) as exc:
        services.proposal_award(proposal=proposal, actor=university_admin)

    refused(exc, "not_owner")
    assert row(proposal, "status")["status"] == P.SUBMITTED


# --- the sealed tender -------------------------------------------------------------------------------------


def test_a_sealed_bid_does_not_even_announce_itself(
    enterprise, university, university_admin, django_capture_on_commit_callbacks
):
    tender = DemandFactory(owner=enterprise, tender=True)

    with django_capture_on_commit_callbacks(execute=True):
        proposal, receipt = submit(tender, university, university_admin)

    assert receipt.commitment == proposal.commitment
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_the_owner_cannot_open_sealed_bids_before_the_close(
    enterprise, enterprise_admin, university, university_admin
):
    tender = DemandFactory(owner=enterprise, tender=True)
    proposal = ProposalFactory(demand=tender, supplier=university)

    refusals = []
    for attempt in (
        lambda: services.proposal_shortlist(proposal=proposal, actor=enterprise_admin),
        lambda: services.proposal_reject(proposal=proposal, actor=enterprise_admin, reason=Reason.PRICE),
        lambda: services.proposal_message(proposal=proposal, actor=enterprise_admin, body="价格能否再谈？"),
        lambda: services.proposal_message(proposal=proposal, actor=university_admin, body="我方报价可议。"),
    ):
        with pytest.raises(ApplicationError) as exc:
            attempt()
        refusals.append(exc.value.code)

    assert refusals == ["sealed"] * 4
    assert row(proposal, "status", "owner_responded_at") == {
        "status": P.SUBMITTED,
        "owner_responded_at": None,
    }
    assert not ProposalMessage.objects.exists()
    # At the close the bids open.
    closed(tender)
    assert services.proposal_shortlist(proposal=proposal, actor=enterprise_admin).status == P.SHORTLISTED


# --- reminders of unanswered proposals ---------------------------------------------------------------------


def test_an_unanswered_proposal_reminds_the_owner_admins_once(
    demand, enterprise_admin, verified_member, settings, django_capture_on_commit_callbacks
):
    settings.DEMAND_RESPONSE_DAYS = 7
    proposal = ProposalFactory(demand=demand, submitted_at=timezone.now() - timedelta(days=7, minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.proposal_remind_unanswered() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.proposal_remind_unanswered() == 0

    assert row(proposal, "reminder_sent_at")["reminder_sent_at"] is not None
    assert recipients() == [enterprise_admin.email]
    assert Notification.objects.get().user == enterprise_admin
    assert not Notification.objects.filter(user=verified_member).exists()


@pytest.mark.parametrize(
    ("demand_traits", "proposal_changes"),
    [
        ({}, {"submitted_at_days": 6}),  # still inside the window
        ({}, {"owner_responded_at": timezone.now()}),  # answered
        ({}, {"status": P.SHORTLISTED}),
        ({}, {"status": P.WITHDRAWN}),
        ({"tender": True}, {}),  # sealed: the owner may not answer yet
    ],
)
def test_no_reminder_where_the_owner_has_nothing_to_answer(
    enterprise, settings, demand_traits, proposal_changes
):
    settings.DEMAND_RESPONSE_DAYS = 7
    days = proposal_changes.pop("submitted_at_days", 10)
    ProposalFactory(
        demand=DemandFactory(owner=enterprise, **demand_traits),
        submitted_at=timezone.now() - timedelta(days=days),
        **proposal_changes,
    )

    assert services.proposal_remind_unanswered() == 0
    assert not Notification.objects.exists()


def test_bids_of_a_closed_tender_are_due_for_an_answer(enterprise, enterprise_admin, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    tender = DemandFactory(owner=enterprise, tender=True)
    ProposalFactory(demand=tender, submitted_at=timezone.now() - timedelta(days=10))
    closed(tender)

    assert services.proposal_remind_unanswered() == 1


def test_no_reminder_for_proposals_of_a_withdrawn_demand(demand, enterprise_admin, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    ProposalFactory(demand=demand, submitted_at=timezone.now() - timedelta(days=10))
    services.demand_withdraw(demand=demand, actor=enterprise_admin, reason="项目取消")

    assert services.proposal_remind_unanswered() == 0


def test_no_reminder_for_proposals_of_an_expired_demand(enterprise, settings):
    settings.DEMAND_RESPONSE_DAYS = 7
    settings.DEMAND_AWARD_GRACE_DAYS = 60
    expired = DemandFactory(owner=enterprise, closed=True, closed_at=timezone.now() - timedelta(days=61))
    ProposalFactory(demand=expired, submitted_at=timezone.now() - timedelta(days=70))
    assert services.demand_expire_stale() == 1
    before = Notification.objects.count()

    assert services.proposal_remind_unanswered() == 0
    assert Notification.objects.count() == before


def test_an_institute_bids_too(demand):
    institute = InstituteFactory()

    proposal, _ = submit(demand, institute, institute.created_by)

    assert proposal.supplier == institute
