"""The demands API under /api/v1/: demands (list, filters, export, create, edit, lifecycle), attachments, NDA,
questions, proposals with receipts and commitments, evaluation, the commitment check, fixed query counts."""

import csv
import hashlib
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from demands import services
from demands.models import (
    Demand,
    DemandAttachment,
    DemandRevision,
    NdaAcceptance,
    Proposal,
    ProposalMessage,
    ProposalReceipt,
    Question,
)
from marketplace.models import AuditLog
from tests.factories import (
    DemandFactory,
    ProposalFactory,
    UniversityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DEMANDS = "/api/v1/demands/"
PROPOSALS = "/api/v1/proposals/"
QUESTIONS = "/api/v1/questions/"
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def error(response) -> dict:
    assert set(response.json()) == {"error"}, response.json()
    return response.json()["error"]


def demand_url(demand, suffix=""):
    return f"{DEMANDS}{demand.pk}/{suffix}"


def proposal_url(proposal, suffix=""):
    return f"{PROPOSALS}{proposal.pk}/{suffix}"


def pdf(name="工艺记录.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def bid(**overrides):
    return {
        "approach": "正交试验结合模流分析，优化干燥与排气。",
        "duration_days": 90,
        "price": "180000.00",
        **overrides,
    }


@pytest.fixture
def demand(enterprise):
    """A published open call of ``enterprise`` (deadline in 14 days), no NDA."""
    return DemandFactory(owner=enterprise)


@pytest.fixture
def owner(api_client_for, enterprise_admin):
    return api_client_for(enterprise_admin)


@pytest.fixture
def supplier(api_client_for, university_admin):
    return api_client_for(university_admin)


def close(demand):
    """Move a published demand past its deadline and close it, as the beat task does."""
    Demand.objects.filter(pk=demand.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert services.demand_close(demand=demand)
    demand.refresh_from_db()
    return demand


# --- list, filters, retrieve ---------------------------------------------------------------------------------


def test_list_shows_the_public_market_plus_the_callers_own(api_client, owner, staff_user, enterprise):
    public = DemandFactory(owner=enterprise)
    draft = DemandFactory(owner=enterprise, draft=True)
    foreign_pending = DemandFactory(pending_review=True)
    ids = lambda response: {row["id"] for row in response.json()["results"]}  # noqa: E731

    assert ids(api_client.get(DEMANDS)) == {public.pk}
    assert ids(owner.get(DEMANDS)) == {public.pk, draft.pk}
    api_client.force_authenticate(staff_user)
    assert ids(api_client.get(DEMANDS)) == {public.pk, draft.pk, foreign_pending.pk}


def test_list_rows_are_public_cards_without_confidential_keys(api_client, demand):
    (row,) = api_client.get(DEMANDS).json()["results"]

    assert row["id"] == demand.pk
    assert row["title"] == demand.title
    assert row["owner"] == {"id": demand.owner.pk, "name": demand.owner.name}
    assert row["field"]["code"] == "advanced_manufacturing"
    assert row["region"]["code"] == "330100"
    assert row["budget_min"] == "100000.00"
    assert row["url"] == f"/demands/{demand.pk}/"
    assert not {"details", "attachments", "proposal_count", "nda_terms"} & set(row)


def test_external_ref_finds_one_demand(api_client):
    wanted = DemandFactory(external_ref="ZJ-2024-000123")
    DemandFactory(external_ref="ZJ-2024-000124")
    DemandFactory()

    response = api_client.get(DEMANDS, {"external_ref": "ZJ-2024-000123"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]
    assert response.json()["results"][0]["external_ref"] == "ZJ-2024-000123"
    assert api_client.get(DEMANDS, {"external_ref": "nope"}).json()["count"] == 0


def test_filters_by_field_province_mode_and_keyword(api_client):
    ningbo_materials = DemandFactory(
        field_code="new_materials", region_code="330200", title="高分子复合材料老化问题"
    )
    tender = DemandFactory(tender=True)

    def ids(**params):
        return [row["id"] for row in api_client.get(DEMANDS, params).json()["results"]]

    assert ids(field="new_materials") == [ningbo_materials.pk]
    assert ids(region="330000", mode="open") == [ningbo_materials.pk]
    assert ids(mode="tender") == [tender.pk]
    assert ids(q="复合材料") == [ningbo_materials.pk]


def test_invalid_filter_value_is_a_validation_error(api_client):
    response = api_client.get(DEMANDS, {"mode": "auction"})

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert "mode" in error(response)["fields"]


def test_ordering_by_deadline(api_client):
    later = DemandFactory(deadline=timezone.now() + timedelta(days=30))
    sooner = DemandFactory(deadline=timezone.now() + timedelta(days=3))

    response = api_client.get(DEMANDS, {"ordering": "deadline"})

    assert [row["id"] for row in response.json()["results"]] == [sooner.pk, later.pk]


def test_detail_hides_details_from_the_public(api_client, demand):
    services.demand_attachment_add(demand=demand, actor=demand.created_by, uploaded=pdf())

    body = api_client.get(demand_url(demand)).json()

    assert body["details"] is None
    assert body["attachments"] is None
    assert body["can_see_details"] is False
    assert body["proposal_count"] is None
    assert body["is_owner"] is False
    assert body["pending_revision"] is None


def test_detail_for_the_owner_has_details_attachments_and_count(owner, demand):
    ProposalFactory.create_batch(2, demand=demand)
    ProposalFactory(demand=demand, status=Proposal.Status.WITHDRAWN)

    body = owner.get(demand_url(demand)).json()

    assert body["details"] == demand.details
    assert body["attachments"] == []
    assert body["can_see_details"] is True
    assert body["is_owner"] is True
    assert body["proposal_count"] == 2


def test_sealed_tender_has_no_count_even_for_the_owner(owner, enterprise):
    tender = DemandFactory(owner=enterprise, tender=True)
    ProposalFactory.create_batch(3, demand=tender)

    body = owner.get(demand_url(tender)).json()

    assert body["is_sealed"] is True
    assert body["proposal_count"] is None


def test_a_draft_is_404_for_others(api_client, supplier, enterprise):
    draft = DemandFactory(owner=enterprise, draft=True)

    assert api_client.get(demand_url(draft)).status_code == 404
    assert supplier.get(demand_url(draft)).status_code == 404
    assert error(supplier.post(demand_url(draft, "submit/")))["code"] == "not_found"


# --- create and edit -----------------------------------------------------------------------------------------

NEW_DEMAND = {
    "title": "锂电池极片涂布厚度不均匀问题",
    "summary": "涂布机速度提升后极片横向厚度偏差超过3%，希望改进涂布模头与工艺。",
    "details": "现用设备：挤压式涂布机，幅宽650mm。",
    "field": "new_energy",
    "region": "330100",
    "cooperation_mode": "development",
    "budget_min": "200000",
    "budget_max": "500000",
}


def new_demand(**overrides):
    return {**NEW_DEMAND, "deadline": (timezone.now() + timedelta(days=30)).isoformat(), **overrides}


def test_a_member_drafts_a_demand_for_the_organization(api_client_for, verified_member, enterprise):
    response = api_client_for(verified_member).post(DEMANDS, new_demand(owner=enterprise.pk), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    demand = Demand.objects.get(pk=body["id"])
    assert (demand.owner, demand.created_by, demand.status) == (enterprise, verified_member, "draft")
    assert demand.budget_max == Decimal("500000.00")
    assert body["status"] == "draft"
    assert body["details"] == "现用设备：挤压式涂布机，幅宽650mm。"
    assert AuditLog.objects.filter(action="demand.create", target_id=str(demand.pk)).count() == 1


def test_drafting_for_another_organization_is_refused(supplier, enterprise):
    response = supplier.post(DEMANDS, new_demand(owner=enterprise.pk), format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "not_owner"
    assert not Demand.objects.exists()


def test_drafting_checks_the_codes_through_the_service(owner, enterprise):
    response = owner.post(DEMANDS, new_demand(owner=enterprise.pk, field="rocketry"), format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert set(error(response)["fields"]) == {"field"}
    assert not Demand.objects.exists()


def test_drafting_needs_the_required_fields(owner, enterprise):
    response = owner.post(DEMANDS, {"owner": enterprise.pk, "title": "x"}, format="json")

    assert response.status_code == 400
    assert {"summary", "field", "region", "deadline", "cooperation_mode"} <= set(error(response)["fields"])


def test_anonymous_cannot_draft(api_client, enterprise):
    assert api_client.post(DEMANDS, new_demand(owner=enterprise.pk), format="json").status_code == 401


def test_editing_a_draft_changes_it_directly(owner, enterprise):
    draft = DemandFactory(owner=enterprise, draft=True)

    response = owner.patch(demand_url(draft), {"title": "新标题", "budget_max": None}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == "新标题"
    draft.refresh_from_db()
    assert (draft.title, draft.budget_max) == ("新标题", None)


def test_editing_a_published_demand_goes_to_review(api_client, owner, demand):
    old_title = demand.title

    response = owner.patch(demand_url(demand), {"title": "更新后的标题", "region": "330200"}, format="json")

    assert response.status_code == 202
    revision = DemandRevision.objects.get(demand=demand)
    assert response.json() == {
        "id": revision.pk,
        "demand": demand.pk,
        "status": "pending",
        "changes": {"title": "更新后的标题", "region": "330200"},
        "reason": "",
        "created_at": response.json()["created_at"],
        "decided_at": None,
    }
    # The public version stays until a reviewer approves the edit.
    assert api_client.get(demand_url(demand)).json()["title"] == old_title
    assert owner.get(demand_url(demand)).json()["pending_revision"]["id"] == revision.pk


def test_the_mode_of_a_published_demand_is_locked(owner, demand):
    response = owner.patch(demand_url(demand), {"mode": "tender"}, format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "mode_locked"
    assert not DemandRevision.objects.exists()


def test_only_the_owner_edits(supplier, demand):
    response = supplier.patch(demand_url(demand), {"title": "x"}, format="json")

    assert response.status_code == 403
    assert not DemandRevision.objects.exists()


def test_put_and_delete_are_not_offered(owner, demand):
    assert owner.put(demand_url(demand), new_demand(), format="json").status_code == 405
    assert owner.delete(demand_url(demand)).status_code == 405


# --- lifecycle -----------------------------------------------------------------------------------------------


def test_submit_sends_a_draft_to_review_once(owner, enterprise):
    draft = DemandFactory(owner=enterprise, draft=True)

    response = owner.post(demand_url(draft, "submit/"))

    assert response.status_code == 200
    assert response.json()["status"] == "pending_review"
    again = owner.post(demand_url(draft, "submit/"))
    assert again.status_code == 400
    assert error(again)["code"] == "bad_state"


def test_a_pending_organization_cannot_submit(api_client_for, pending_org, pending_admin):
    draft = DemandFactory(owner=pending_org, draft=True)

    response = api_client_for(pending_admin).post(demand_url(draft, "submit/"))

    assert response.status_code == 400
    assert error(response)["code"] == "not_verified"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_withdraw_with_a_reason(owner, demand):
    response = owner.post(demand_url(demand, "withdraw/"), {"reason": "问题已内部解决"}, format="json")

    assert response.status_code == 200
    demand.refresh_from_db()
    assert (demand.status, demand.status_reason) == ("withdrawn", "问题已内部解决")


def test_only_the_owner_withdraws_or_closes(supplier, demand):
    assert supplier.post(demand_url(demand, "withdraw/")).status_code == 403
    assert supplier.post(demand_url(demand, "close/")).status_code == 403
    demand.refresh_from_db()
    assert demand.status == "published"


def test_close_once(owner, demand):
    response = owner.post(demand_url(demand, "close/"))

    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    again = owner.post(demand_url(demand, "close/"))
    assert again.status_code == 400
    assert error(again)["code"] == "bad_state"


# --- attachments ---------------------------------------------------------------------------------------------


def test_the_owner_uploads_and_allowed_users_list_and_download(owner, supplier, api_client, demand):
    response = owner.post(demand_url(demand, "attachments/"), {"file": pdf()}, format="multipart")

    assert response.status_code == 201, response.json()
    attachment = DemandAttachment.objects.get(demand=demand)
    assert response.json()["original_name"] == "工艺记录.pdf"
    assert response.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    download = response.json()["download_url"]
    assert download == f"{DEMANDS}{demand.pk}/attachments/{attachment.pk}/"

    # Without an NDA, any member of a verified organization may read the details.
    assert [a["id"] for a in supplier.get(demand_url(demand, "attachments/")).json()] == [attachment.pk]
    got = supplier.get(download)
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF

    refused = api_client.get(demand_url(demand, "attachments/"))
    assert refused.status_code == 403
    assert error(refused)["code"] == "confidential"
    assert api_client.get(download).status_code == 403


def test_only_the_owner_uploads(supplier, demand):
    response = supplier.post(demand_url(demand, "attachments/"), {"file": pdf()}, format="multipart")

    assert response.status_code == 403
    assert not DemandAttachment.objects.exists()


def test_a_disguised_file_is_refused(owner, demand):
    fake = SimpleUploadedFile("图纸.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")

    response = owner.post(demand_url(demand, "attachments/"), {"file": fake}, format="multipart")

    assert response.status_code == 400
    assert "file" in error(response)["fields"]
    assert not DemandAttachment.objects.exists()


# --- NDA -----------------------------------------------------------------------------------------------------


def test_accepting_the_nda_opens_the_details(supplier, university, enterprise):
    demand = DemandFactory(owner=enterprise, nda=True)
    assert supplier.get(demand_url(demand)).json()["details"] is None

    response = supplier.post(demand_url(demand, "nda/"), {}, format="json")

    assert response.status_code == 201
    acceptance = NdaAcceptance.objects.get(demand=demand)
    assert acceptance.organization == university
    assert response.json()["terms_sha256"] == hashlib.sha256(demand.nda_terms.encode()).hexdigest()
    body = supplier.get(demand_url(demand)).json()
    assert (body["details"], body["nda_accepted"], body["can_see_details"]) == (demand.details, True, True)


def test_nda_refusals(api_client_for, outsider, owner, supplier, enterprise, demand):
    nda_demand = DemandFactory(owner=enterprise, nda=True)

    assert api_client_for(outsider).post(demand_url(nda_demand, "nda/"), {}).status_code == 403
    own = owner.post(demand_url(nda_demand, "nda/"), {"organization": enterprise.pk}, format="json")
    assert error(own)["code"] == "own_demand"
    no_nda = supplier.post(demand_url(demand, "nda/"), {}, format="json")
    assert error(no_nda)["code"] == "no_nda"
    assert not NdaAcceptance.objects.exists()


def test_a_member_of_several_organizations_says_which_acts(api_client_for, university_admin, enterprise):
    demand = DemandFactory(owner=enterprise, nda=True)
    second = UniversityFactory(admins=[university_admin])
    client = api_client_for(university_admin)

    ambiguous = client.post(demand_url(demand, "nda/"), {}, format="json")
    assert ambiguous.status_code == 400
    assert "organization" in error(ambiguous)["fields"]

    named = client.post(demand_url(demand, "nda/"), {"organization": second.pk}, format="json")
    assert named.status_code == 201
    assert NdaAcceptance.objects.get().organization == second


# --- questions -----------------------------------------------------------------------------------------------


def test_questions_are_public_without_the_askers_identity(api_client, supplier, owner, demand):
    asked = supplier.post(demand_url(demand, "questions/"), {"text": "样件能否寄送？"}, format="json")
    assert asked.status_code == 201
    question = Question.objects.get()

    listed = api_client.get(demand_url(demand, "questions/")).json()
    assert listed["count"] == 1
    assert listed["results"][0] == {
        "id": question.pk,
        "demand": demand.pk,
        "text": "样件能否寄送？",
        "answer": "",
        "answered_at": None,
        "created_at": listed["results"][0]["created_at"],
    }

    answered = owner.post(
        f"{QUESTIONS}{question.pk}/answer/", {"answer": "可以，请联系平台。"}, format="json"
    )
    assert answered.status_code == 200
    assert answered.json()["answer"] == "可以，请联系平台。"
    assert api_client.get(f"{QUESTIONS}{question.pk}/").json()["answer"] == "可以，请联系平台。"


def test_only_the_owner_answers(supplier, demand, university, university_admin):
    question = services.question_ask(demand=demand, organization=university, actor=university_admin, text="?")

    response = supplier.post(f"{QUESTIONS}{question.pk}/answer/", {"answer": "我来回答"}, format="json")

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.answer == ""


def test_no_question_after_the_deadline(supplier, enterprise):
    demand = DemandFactory(owner=enterprise, deadline=timezone.now() - timedelta(hours=1))

    response = supplier.post(demand_url(demand, "questions/"), {"text": "还来得及吗？"}, format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "deadline_passed"
    assert not Question.objects.exists()


def test_question_list_covers_visible_demands_only(api_client, enterprise, university, university_admin):
    public = DemandFactory(owner=enterprise)
    services.question_ask(demand=public, organization=university, actor=university_admin, text="公开问题")
    hidden = DemandFactory(owner=enterprise)
    services.question_ask(demand=hidden, organization=university, actor=university_admin, text="已撤回")
    Demand.objects.filter(pk=hidden.pk).update(status="withdrawn")

    assert [q["text"] for q in api_client.get(QUESTIONS).json()["results"]] == ["公开问题"]
    assert api_client.get(QUESTIONS, {"answered": "true"}).json()["count"] == 0


# --- proposals: submit ---------------------------------------------------------------------------------------


def test_submit_returns_the_receipt_with_a_checkable_commitment(supplier, university, demand):
    response = supplier.post(demand_url(demand, "proposals/"), bid(team="教授1名"), format="json")

    assert response.status_code == 201, response.json()
    proposal = Proposal.objects.get()
    body = response.json()
    assert body["proposal"]["id"] == proposal.pk
    assert body["proposal"]["supplier"] == {"id": university.pk, "name": university.name}
    assert body["proposal"]["status"] == "submitted"
    receipt = body["receipt"]
    assert receipt["version"] == 1
    assert receipt["commitment"] == proposal.commitment == ProposalReceipt.objects.get().commitment
    assert hashlib.sha256(receipt["content"].encode()).hexdigest() == receipt["commitment"]
    assert receipt["content"] == services.proposal_content(proposal)
    assert "nonce" not in body["proposal"]


def test_a_second_proposal_of_the_same_organization_is_a_duplicate(supplier, demand):
    assert supplier.post(demand_url(demand, "proposals/"), bid(), format="json").status_code == 201

    response = supplier.post(demand_url(demand, "proposals/"), bid(approach="另一方案"), format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "duplicate"
    assert Proposal.objects.get().version == 1


def test_no_proposal_after_the_deadline(supplier, enterprise):
    demand = DemandFactory(owner=enterprise, deadline=timezone.now() - timedelta(minutes=5))

    response = supplier.post(demand_url(demand, "proposals/"), bid(), format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "deadline_passed"
    assert not Proposal.objects.exists()


def test_no_proposal_on_a_closed_demand(supplier, enterprise):
    demand = DemandFactory(owner=enterprise, closed=True)

    response = supplier.post(demand_url(demand, "proposals/"), bid(), format="json")

    assert error(response)["code"] == "bad_state"


def test_nda_first(supplier, enterprise):
    demand = DemandFactory(owner=enterprise, nda=True)

    response = supplier.post(demand_url(demand, "proposals/"), bid(), format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "nda_required"
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "unverified_member"])
def test_only_verified_organizations_bid(request, api_client_for, demand, persona):
    client = api_client_for(request.getfixturevalue(persona))

    response = client.post(demand_url(demand, "proposals/"), bid(), format="json")

    assert response.status_code == 403
    assert not Proposal.objects.exists()


def test_an_organization_cannot_bid_on_its_own_demand(owner, enterprise, demand):
    response = owner.post(demand_url(demand, "proposals/"), bid(organization=enterprise.pk), format="json")

    assert error(response)["code"] == "own_demand"


def test_submit_with_attachments_in_multipart(supplier, demand):
    response = supplier.post(
        demand_url(demand, "proposals/"),
        {**bid(), "attachments": [pdf("方案.pdf"), pdf("团队.pdf")]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    names = sorted(a["original_name"] for a in response.json()["proposal"]["attachments"])
    assert names == ["团队.pdf", "方案.pdf"]
    assert hashlib.sha256(PDF).hexdigest() in response.json()["receipt"]["content"]


# --- proposals: who reads them ---------------------------------------------------------------------------------


def test_the_owner_reads_every_open_bid_and_a_bidder_only_its_own(owner, supplier, university, demand):
    mine = ProposalFactory(demand=demand, supplier=university)
    other = ProposalFactory(demand=demand)
    ProposalFactory(demand=demand, status=Proposal.Status.WITHDRAWN)

    owner_view = owner.get(demand_url(demand, "proposals/")).json()
    assert (owner_view["sealed"], owner_view["count"]) == (False, 2)
    assert {p["id"] for p in owner_view["results"]} == {mine.pk, other.pk}

    bidder_view = supplier.get(demand_url(demand, "proposals/")).json()
    assert [p["id"] for p in bidder_view["results"]] == [mine.pk]


def test_a_sealed_tender_shows_the_owner_nothing(owner, supplier, university, enterprise):
    tender = DemandFactory(owner=enterprise, tender=True)
    mine = ProposalFactory(demand=tender, supplier=university)
    other = ProposalFactory(demand=tender)

    assert owner.get(demand_url(tender, "proposals/")).json() == {
        "sealed": True,
        "count": None,
        "results": [],
    }
    assert owner.get(proposal_url(other)).status_code == 404
    assert owner.get(PROPOSALS).json()["count"] == 0

    bidder_view = supplier.get(demand_url(tender, "proposals/")).json()
    assert (bidder_view["sealed"], bidder_view["count"]) == (True, None)
    assert [p["id"] for p in bidder_view["results"]] == [mine.pk]
    assert supplier.get(proposal_url(other)).status_code == 404


def test_the_proposal_list_has_own_bids_and_received_open_ones(
    owner, supplier, university, demand, enterprise
):
    mine = ProposalFactory(demand=demand, supplier=university)
    tender = DemandFactory(owner=enterprise, tender=True)
    sealed_bid = ProposalFactory(demand=tender, supplier=university)

    assert {p["id"] for p in supplier.get(PROPOSALS).json()["results"]} == {mine.pk, sealed_bid.pk}
    assert {p["id"] for p in owner.get(PROPOSALS).json()["results"]} == {mine.pk}
    assert [p["id"] for p in supplier.get(PROPOSALS, {"demand": tender.pk}).json()["results"]] == [
        sealed_bid.pk
    ]


def test_outsiders_read_no_proposal(api_client, api_client_for, outsider, demand):
    proposal = ProposalFactory(demand=demand)

    assert api_client.get(PROPOSALS).status_code == 401
    assert api_client_for(outsider).get(PROPOSALS).json()["count"] == 0
    assert api_client_for(outsider).get(proposal_url(proposal)).status_code == 404
    assert api_client.get(demand_url(demand, "proposals/")).json()["results"] == []


# --- proposals: edit, withdraw --------------------------------------------------------------------------------


def test_the_bidder_edits_a_new_version_with_a_new_receipt(supplier, university, demand):
    proposal = ProposalFactory(demand=demand, supplier=university)

    response = supplier.patch(proposal_url(proposal), {"price": "150000.00"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["proposal"]["version"], body["proposal"]["price"]) == (2, "150000.00")
    assert body["proposal"]["approach"] == proposal.approach  # kept
    assert body["receipt"]["version"] == 2
    assert hashlib.sha256(body["receipt"]["content"].encode()).hexdigest() == body["receipt"]["commitment"]
    receipts = supplier.get(proposal_url(proposal, "receipts/")).json()
    assert [(r["version"], r["content"] is not None) for r in receipts] == [(1, False), (2, True)]


def test_only_the_bidder_edits(owner, demand):
    proposal = ProposalFactory(demand=demand)

    response = owner.patch(proposal_url(proposal), {"price": "1.00"}, format="json")

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.version == 1


def test_no_edit_after_the_deadline(supplier, university, demand):
    proposal = ProposalFactory(demand=demand, supplier=university)
    Demand.objects.filter(pk=demand.pk).update(deadline=timezone.now() - timedelta(minutes=1))

    response = supplier.patch(proposal_url(proposal), {"price": "1.00"}, format="json")

    assert error(response)["code"] == "deadline_passed"
    proposal.refresh_from_db()
    assert proposal.version == 1


def test_withdraw_then_the_owner_no_longer_sees_it(owner, supplier, university, demand):
    proposal = ProposalFactory(demand=demand, supplier=university)

    response = supplier.post(proposal_url(proposal, "withdraw/"))

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert owner.get(proposal_url(proposal)).status_code == 404
    assert error(supplier.post(proposal_url(proposal, "withdraw/")))["code"] == "bad_state"


def test_receipts_are_for_the_bidder_only(owner, demand):
    proposal = ProposalFactory(demand=demand)

    assert owner.get(proposal_url(proposal, "receipts/")).status_code == 403


# --- proposals: evaluation and award --------------------------------------------------------------------------


def test_shortlist_by_the_owner(owner, supplier, university, demand):
    proposal = ProposalFactory(demand=demand, supplier=university)

    assert supplier.post(proposal_url(proposal, "shortlist/")).status_code == 403
    response = owner.post(proposal_url(proposal, "shortlist/"))

    assert response.status_code == 200
    assert response.json()["status"] == "shortlisted"


def test_reject_with_a_reason(owner, demand):
    proposal = ProposalFactory(demand=demand)

    response = owner.post(
        proposal_url(proposal, "reject/"), {"reason": "price", "note": "超出预算"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rejection_reason"]) == ("rejected", "price")
    assert response.json()["rejection_note"] == "超出预算"


@pytest.mark.parametrize(
    ("payload", "field"), [({"reason": "other"}, "note"), ({"reason": "cheaper"}, "reason"), ({}, "reason")]
)
def test_reject_needs_a_known_reason_and_a_note_for_other(owner, demand, payload, field):
    proposal = ProposalFactory(demand=demand)

    response = owner.post(proposal_url(proposal, "reject/"), payload, format="json")

    assert response.status_code == 400
    assert field in error(response)["fields"]
    proposal.refresh_from_db()
    assert proposal.status == "submitted"


def test_award_after_the_close_declines_the_others(owner, demand):
    winner = ProposalFactory(demand=demand)
    loser = ProposalFactory(demand=demand)

    early = owner.post(proposal_url(winner, "award/"))
    assert error(early)["code"] == "bad_state"

    close(demand)
    response = owner.post(proposal_url(winner, "award/"))

    assert response.status_code == 200
    assert response.json()["proposal"]["status"] == "awarded"
    assert response.json()["contract"] is None  # contracts are not built yet: the hand-over returns None
    loser.refresh_from_db()
    assert (loser.status, loser.rejection_reason) == ("rejected", "other_awarded")
    demand.refresh_from_db()
    assert demand.status == "awarded"
    assert error(owner.post(proposal_url(loser, "award/")))["code"] == "awards_exhausted"


def test_messages_between_owner_and_bidder_after_the_close(
    owner, supplier, university, enterprise, api_client_for
):
    tender = DemandFactory(owner=enterprise, tender=True)
    proposal = ProposalFactory(demand=tender, supplier=university)

    sealed = supplier.post(proposal_url(proposal, "messages/"), {"body": "补充说明"}, format="json")
    assert error(sealed)["code"] == "sealed"

    close(tender)
    asked = owner.post(proposal_url(proposal, "messages/"), {"body": "能否缩短工期？"}, format="json")
    assert asked.status_code == 201
    answered = supplier.post(proposal_url(proposal, "messages/"), {"body": "可缩短至60天。"}, format="json")
    assert answered.status_code == 201

    thread = supplier.get(proposal_url(proposal, "messages/")).json()
    assert [(m["author_organization"]["id"], m["body"]) for m in thread] == [
        (enterprise.pk, "能否缩短工期？"),
        (university.pk, "可缩短至60天。"),
    ]
    assert ProposalMessage.objects.count() == 2
    stranger = api_client_for(UserFactory())
    assert stranger.get(proposal_url(proposal, "messages/")).status_code == 404


# --- commitments and verification ----------------------------------------------------------------------------


def test_commitments_are_published_after_the_close(owner, supplier, university, api_client_for, enterprise):
    tender = DemandFactory(owner=enterprise, tender=True)
    mine = ProposalFactory(demand=tender, supplier=university)
    other = ProposalFactory(demand=tender)

    assert supplier.get(demand_url(tender, "commitments/")).json() == {"published": False, "results": []}
    close(tender)

    body = supplier.get(demand_url(tender, "commitments/")).json()
    assert body["published"] is True
    assert [(row["receipt"], row["commitment"]) for row in body["results"]] == [
        (f"{mine.pk}-1", mine.commitment),
        (f"{other.pk}-1", other.commitment),
    ]
    assert owner.get(demand_url(tender, "commitments/")).json() == body
    assert api_client_for(UserFactory()).get(demand_url(tender, "commitments/")).status_code == 403


def test_verify_matches_only_the_committed_content(api_client, supplier, demand):
    receipt = supplier.post(demand_url(demand, "proposals/"), bid(), format="json").json()["receipt"]

    good = api_client.post(
        f"{PROPOSALS}verify/",
        {"content": receipt["content"], "commitment": receipt["commitment"]},
        format="json",
    )
    tampered = api_client.post(
        f"{PROPOSALS}verify/",
        {
            "content": receipt["content"].replace("180000.00", "170000.00"),
            "commitment": receipt["commitment"],
        },
        format="json",
    )
    malformed = api_client.post(f"{PROPOSALS}verify/", {"content": "x", "commitment": "abc"}, format="json")

    assert good.json() == {"matches": True}
    assert tampered.json() == {"matches": False}
    assert malformed.status_code == 400
    assert "commitment" in error(malformed)["fields"]


# --- CSV export ----------------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "id",
    "external_ref",
    "title",
    "summary",
    "owner",
    "field",
    "field_name",
    "sub_field",
    "region",
    "region_name",
    "budget_min",
    "budget_max",
    "budget_negotiable",
    "deadline",
    "cooperation_mode",
    "mode",
    "nda_required",
    "award_amount",
    "status",
    "published_at",
    "url",
]


def csv_text(response) -> str:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # the BOM, for spreadsheet programs
    return text[1:]


def read_csv(response) -> list[dict]:
    reader = csv.DictReader(io.StringIO(csv_text(response)))
    assert reader.fieldnames == EXPORT_HEADER
    return list(reader)


@pytest.mark.parametrize("url", [f"{DEMANDS}export/", f"{DEMANDS}export/?format=csv", f"{DEMANDS}export.csv"])
def test_export_has_the_public_columns_only(api_client, url):
    demand = DemandFactory(external_ref="ZJ-1", title="=HYPERLINK(1)")

    response = api_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="demands.csv"' in response["Content-Disposition"]
    text = csv_text(response)
    (row,) = csv.DictReader(io.StringIO(text))
    assert list(row) == EXPORT_HEADER
    assert demand.details not in text
    assert row["id"] == str(demand.pk)
    assert row["external_ref"] == "ZJ-1"
    assert row["title"] == "'=HYPERLINK(1)"  # a formula never runs in a spreadsheet
    assert (row["field"], row["region"], row["mode"], row["status"]) == (
        "advanced_manufacturing",
        "330100",
        "open",
        "published",
    )
    assert row["budget_min"] == "100000.00"
    assert row["url"] == f"http://testserver/demands/{demand.pk}/"


def test_export_applies_the_filters(api_client):
    DemandFactory(external_ref="ZJ-1")
    wanted = DemandFactory(external_ref="ZJ-2", tender=True)

    rows = read_csv(api_client.get(f"{DEMANDS}export/", {"mode": "tender"}))

    assert [row["id"] for row in rows] == [str(wanted.pk)]


def test_export_filter_errors_are_json(api_client):
    response = api_client.get(f"{DEMANDS}export/", {"mode": "auction"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert error(response)["code"] == "validation_error"


# --- query counts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 6])
def test_list_and_export_query_counts_are_fixed(api_client, django_assert_num_queries, rows):
    DemandFactory.create_batch(rows, sub_field_code="new_materials.polymers", field_code="new_materials")

    with django_assert_num_queries(3):  # count, the page's ids, its rows (owner, fields and region joined)
        assert api_client.get(DEMANDS).json()["count"] == rows
    with django_assert_num_queries(1):
        assert len(read_csv(api_client.get(f"{DEMANDS}export/"))) == rows


@pytest.mark.parametrize("rows", [1, 6])
def test_authenticated_list_query_counts_are_fixed(
    api_client, university_admin, university, django_assert_num_queries, rows
):
    for demand in DemandFactory.create_batch(rows):
        ProposalFactory(demand=demand, supplier=university)
        services.question_ask(demand=demand, organization=university, actor=university_admin, text="？")
    api_client.force_authenticate(university_admin)

    with django_assert_num_queries(4):  # memberships, count, the page's ids, its rows
        assert api_client.get(DEMANDS).json()["count"] == rows
    with django_assert_num_queries(3):  # count, page, attachments
        assert api_client.get(PROPOSALS).json()["count"] == rows
    with django_assert_num_queries(3):  # memberships, count, page
        assert api_client.get(QUESTIONS).json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 6])
def test_demand_proposals_query_count_is_fixed(
    api_client, enterprise_admin, demand, django_assert_num_queries, rows
):
    ProposalFactory.create_batch(rows, demand=demand)
    api_client.force_authenticate(enterprise_admin)
    url = demand_url(demand, "proposals/")
    api_client.get(url)

    # memberships (visible demands), demand, memberships twice (the selector: own bids, owner?), proposals,
    # their attachments
    with django_assert_num_queries(6):
        assert len(api_client.get(url).json()["results"]) == rows


def test_schema_documents_the_demand_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    for path in [
        "/api/v1/demands/",
        "/api/v1/demands/{id}/",
        "/api/v1/demands/{id}/proposals/",
        "/api/v1/demands/export/",
        "/api/v1/proposals/{id}/award/",
        "/api/v1/proposals/verify/",
        "/api/v1/questions/{id}/answer/",
    ]:
        assert path in paths
    schemas = response.json()["components"]["schemas"]
    assert {"DemandStatusEnum", "ProposalStatusEnum", "DemandRevisionStatusEnum"} <= set(schemas)
