"""The demands website (SPEC §4, §10): list and filters, the confidentiality of details, NDA acceptance, sealed
tenders, posting and editing, proposals with their receipts, verification, CSV export and downloads.

Pages are requested in English (``/en/…``) so the assertions read the message ids, whatever the Chinese
catalogue says."""

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from demands import services
from demands.models import Demand, DemandAttachment, DemandRevision, NdaAcceptance, Proposal, Question
from tests.factories import (
    DemandFactory,
    InstituteFactory,
    MembershipFactory,
    ProposalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

S = Demand.Status
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
SECRET = "机密：模具图纸编号 MJ-2024-0815，模温 62℃。"


def url(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def pdf(name: str = "drawing.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def titles(response) -> list[str]:
    return re.findall(r'class="demand-title" href="[^"]+">([^<]+)</a>', page(response))


def form_data(**overrides) -> dict:
    data = {
        "title": "高速冲压模具寿命提升",
        "summary": "冲压模具在连续生产中磨损快，希望把寿命从20万次提升到50万次。",
        "details": SECRET,
        "field": "advanced_manufacturing",
        "sub_field": "advanced_manufacturing.machinery_hardware",
        "region": "330200",
        "budget_min": "200000",
        "budget_max": "500000",
        "deadline": timezone.localtime(in_days(30)).strftime("%Y-%m-%dT%H:%M"),
        "cooperation_mode": "development",
        "mode": "open",
        "max_winners": "1",
        "contact_policy": "platform",
        "nda_terms": "",
    }
    data.update(overrides)
    return data


# --- list ----------------------------------------------------------------------------------------------------


def test_list_shows_only_public_demands_newest_first_without_details(client, enterprise):
    older = DemandFactory(owner=enterprise, title="旧需求", published_at=in_days(-3), details=SECRET)
    newer = DemandFactory(owner=enterprise, title="新需求", published_at=in_days(-1))
    DemandFactory(owner=enterprise, title="草稿需求", draft=True)
    DemandFactory(owner=enterprise, title="待审核需求", pending_review=True)

    response = client.get(url("demands:list"))

    assert titles(response) == [newer.title, older.title]
    body = page(response)
    assert SECRET not in body
    assert "2 demands" in body
    assert enterprise.name in body


def test_list_filters_by_field_and_sub_field(client, enterprise):
    polymer = DemandFactory(
        owner=enterprise, field_code="new_materials", sub_field_code="new_materials.polymers"
    )
    metal = DemandFactory(owner=enterprise, field_code="new_materials", sub_field_code="new_materials.metals")
    DemandFactory(owner=enterprise, field_code="advanced_manufacturing")

    by_field = client.get(url("demands:list"), {"field": "new_materials"})
    by_sub_field = client.get(url("demands:list"), {"field": "new_materials.polymers"})

    assert sorted(titles(by_field)) == sorted([polymer.title, metal.title])
    assert titles(by_sub_field) == [polymer.title]


def test_list_filters_by_province_including_its_cities(client, enterprise):
    hangzhou = DemandFactory(owner=enterprise, region_code="330100")
    ningbo = DemandFactory(owner=enterprise, region_code="330200")
    DemandFactory(owner=enterprise, region_code="320100")

    province = client.get(url("demands:list"), {"region": "330000"})
    city = client.get(url("demands:list"), {"region": "330200"})

    assert sorted(titles(province)) == sorted([hangzhou.title, ningbo.title])
    assert titles(city) == [ningbo.title]


def test_list_keyword_search_in_chinese(client, enterprise):
    dyeing = DemandFactory(owner=enterprise, title="印染废水深度处理与回用", summary="COD高，色度高。")
    DemandFactory(owner=enterprise, title="锂电池极片涂布均匀性", summary="面密度波动大。")

    assert titles(client.get(url("demands:list"), {"q": "废水"})) == [dyeing.title]
    assert titles(client.get(url("demands:list"), {"q": "印染 回用"})) == [dyeing.title]
    assert titles(client.get(url("demands:list"), {"q": "印染 涂布"})) == []


def test_list_budget_filter_and_negotiable_label(client, enterprise):
    small = DemandFactory(owner=enterprise, budget_min=Decimal("10000"), budget_max=Decimal("50000"))
    large = DemandFactory(owner=enterprise, budget_min=Decimal("500000"), budget_max=Decimal("900000"))
    open_budget = DemandFactory(owner=enterprise, budget_min=None, budget_max=None, budget_negotiable=True)

    response = client.get(url("demands:list"), {"budget_min": "100000"})

    assert sorted(titles(response)) == sorted([large.title, open_budget.title])
    body = page(client.get(url("demands:list")))
    assert "¥10,000 – ¥50,000" in body
    assert "Negotiable" in body
    assert small.title in body


def test_list_deadline_filter_takes_whole_days(client, enterprise):
    soon = DemandFactory(owner=enterprise, deadline=in_days(3))
    later = DemandFactory(owner=enterprise, deadline=in_days(40))
    cutoff = timezone.localdate(in_days(10)).isoformat()

    before = client.get(url("demands:list"), {"deadline_before": cutoff})
    after = client.get(url("demands:list"), {"deadline_after": cutoff})
    same_day = client.get(
        url("demands:list"), {"deadline_before": timezone.localdate(soon.deadline).isoformat()}
    )

    assert titles(before) == [soon.title]
    assert titles(after) == [later.title]
    assert titles(same_day) == [soon.title]


def test_list_query_count_does_not_grow_with_rows(client, enterprise):
    DemandFactory.create_batch(2, owner=enterprise, sub_field_code="advanced_manufacturing.equipment")
    with CaptureQueriesContext(connection) as few:
        page(client.get(url("demands:list")))
    DemandFactory.create_batch(10, owner=enterprise, sub_field_code="advanced_manufacturing.equipment")
    with CaptureQueriesContext(connection) as many:
        page(client.get(url("demands:list")))

    assert len(many) == len(few)


def test_list_paginates_twenty_per_page(client, enterprise):
    for day in range(23):
        DemandFactory(owner=enterprise, published_at=in_days(-day))

    first = client.get(url("demands:list"))
    second = client.get(url("demands:list"), {"page": 2})

    assert len(titles(first)) == 20
    assert len(titles(second)) == 3
    assert "Page 2 of 2" in page(second)


def test_list_status_filter_offers_only_public_statuses(client, enterprise):
    DemandFactory(owner=enterprise, draft=True, title="草稿需求")

    response = client.get(url("demands:list"), {"status": "draft"})

    body = page(response)
    assert titles(response) == []
    assert 'value="draft"' not in body
    assert 'value="published"' in body


# --- detail: who sees the details ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        (None, False),
        ("outsider", False),
        ("unverified_member", False),
        ("pending_admin", False),
        ("university_admin", True),
        ("verified_member", True),
        ("enterprise_admin", True),
        ("staff_user", True),
    ],
)
def test_details_shown_only_to_allowed_personas(request, client, client_for, enterprise, persona, sees):
    demand = DemandFactory(owner=enterprise, details=SECRET)
    DemandAttachment.objects.create(
        demand=demand,
        file=pdf(),
        original_name="图纸.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_by=enterprise.created_by,
    )
    browser = client_for(request.getfixturevalue(persona)) if persona else client

    body = page(browser.get(url("demands:detail", pk=demand.pk)))

    assert demand.summary in body
    assert (SECRET in body) is sees
    assert ("图纸.pdf" in body) is sees
    if not sees:
        assert (
            "The confidential details and attachments are shown to members of verified organizations." in body
        )


def test_drafts_are_404_for_everyone_but_the_owner(
    client, client_for, enterprise, verified_member, university_admin
):
    demand = DemandFactory(owner=enterprise, draft=True)

    assert client.get(url("demands:detail", pk=demand.pk)).status_code == 404
    assert client_for(university_admin).get(url("demands:detail", pk=demand.pk)).status_code == 404
    body = page(client_for(verified_member).get(url("demands:detail", pk=demand.pk)))
    assert "This is a draft: only your organization sees it." in body


def test_nda_flow_in_the_browser(client_for, enterprise, university, university_admin):
    demand = DemandFactory(owner=enterprise, nda=True, details=SECRET)
    browser = client_for(university_admin)

    before = page(browser.get(url("demands:detail", pk=demand.pk)))
    assert SECRET not in before
    assert demand.nda_terms in before
    assert "Accept the NDA" in before
    assert "Accept the NDA terms above to send a proposal." in before
    assert 'name="approach"' not in before

    response = browser.post(
        url("demands:nda_accept", pk=demand.pk), {"organization": university.pk, "accept": "on"}
    )

    assert response.status_code == 302
    assert response["Location"] == url("demands:detail", pk=demand.pk) + "#details"
    acceptance = NdaAcceptance.objects.get(demand=demand)
    assert (acceptance.organization, acceptance.accepted_by) == (university, university_admin)
    after = page(browser.get(url("demands:detail", pk=demand.pk)))
    assert SECRET in after
    assert "Accept the NDA" not in after
    assert 'name="approach"' in after


def test_nda_not_accepted_without_the_checkbox_or_for_outsiders(client_for, enterprise, university, outsider):
    demand = DemandFactory(owner=enterprise, nda=True, details=SECRET)

    unticked = client_for(university.created_by).post(
        url("demands:nda_accept", pk=demand.pk), {"organization": university.pk}
    )
    stranger = client_for(outsider).post(
        url("demands:nda_accept", pk=demand.pk), {"organization": university.pk, "accept": "on"}
    )

    assert unticked.status_code == 400
    assert stranger.status_code == 400
    assert SECRET not in stranger.content.decode()
    assert not NdaAcceptance.objects.exists()


# --- contact policy, questions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "anonymous", "verified_supplier"),
    [("public", True, True), ("after_proposal", False, True), ("platform", False, False)],
)
def test_owner_contact_follows_the_contact_policy(
    client, client_for, enterprise, university_admin, policy, anonymous, verified_supplier
):
    enterprise.contact_email = "rd@hz-precision.example.com"
    enterprise.save()
    demand = DemandFactory(owner=enterprise, contact_policy=policy)

    assert (
        "rd@hz-precision.example.com" in page(client.get(url("demands:detail", pk=demand.pk)))
    ) is anonymous
    supplier_page = page(client_for(university_admin).get(url("demands:detail", pk=demand.pk)))
    assert ("rd@hz-precision.example.com" in supplier_page) is verified_supplier
    owner_page = page(client_for(enterprise.created_by).get(url("demands:detail", pk=demand.pk)))
    assert "rd@hz-precision.example.com" in owner_page


def test_public_questions_hide_the_asking_organization(
    client, client_for, enterprise, university, university_admin
):
    demand = DemandFactory(owner=enterprise)

    response = client_for(university_admin).post(
        url("demands:question_ask", pk=demand.pk),
        {"organization": university.pk, "text": "现有模具钢材牌号是什么？"},
    )

    assert response.status_code == 302
    question = Question.objects.get(demand=demand)
    assert question.organization == university
    owner_page = page(client_for(enterprise.created_by).get(url("demands:detail", pk=demand.pk)))
    assert "现有模具钢材牌号是什么？" in owner_page
    assert university.name not in owner_page
    client_for(enterprise.created_by).post(
        url("demands:question_answer", question_id=question.pk), {"answer": "SKD11，硬度HRC58。"}
    )
    public = page(client.get(url("demands:detail", pk=demand.pk)))
    assert "现有模具钢材牌号是什么？" in public
    assert "SKD11，硬度HRC58。" in public
    assert university.name not in public


def test_question_refused_for_unverified_members(client_for, enterprise, unverified_member):
    demand = DemandFactory(owner=enterprise)

    body = page(client_for(unverified_member).get(url("demands:detail", pk=demand.pk)))
    response = client_for(unverified_member).post(
        url("demands:question_ask", pk=demand.pk), {"text": "可以现场考察吗？"}
    )

    assert 'name="text"' not in body
    assert response.status_code == 400
    assert not Question.objects.exists()


# --- sealed tenders ------------------------------------------------------------------------------------------------


def close_at_deadline(demand):
    """A tender only opens at its deadline (the owner cannot close it early)."""
    Demand.objects.filter(pk=demand.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    demand.refresh_from_db()
    assert services.demand_close(demand=demand)


def test_sealed_tender_hides_count_and_content_before_close(client_for, enterprise, university):
    demand = DemandFactory(owner=enterprise, tender=True)
    bid = ProposalFactory(demand=demand, supplier=university, approach="方案甲：真空辅助成型，降低气泡。")
    rival_org = InstituteFactory()
    rival = ProposalFactory(demand=demand, supplier=rival_org, approach="方案乙：模流分析优化浇口。")

    owner_page = page(client_for(enterprise.created_by).get(url("demands:detail", pk=demand.pk)))
    bidder_page = page(client_for(university.created_by).get(url("demands:detail", pk=demand.pk)))

    assert "Sealed until the deadline" in owner_page
    assert "the bids are sealed until the deadline" in owner_page
    for secret in (bid.approach, rival.approach, university.name, rival_org.name, bid.commitment):
        assert secret not in owner_page
    assert re.search(r"<dt>Proposals</dt><dd>\d", owner_page) is None
    assert bid.approach in bidder_page
    assert rival.approach not in bidder_page
    assert rival_org.name not in bidder_page
    assert "Published commitments" not in bidder_page

    close_at_deadline(demand)

    owner_after = page(client_for(enterprise.created_by).get(url("demands:detail", pk=demand.pk)))
    bidder_after = page(client_for(university.created_by).get(url("demands:detail", pk=demand.pk)))
    assert bid.approach in owner_after
    assert rival.approach in owner_after
    assert "<dt>Proposals</dt><dd>2</dd>" in owner_after
    assert "Published commitments" in bidder_after
    assert bid.commitment in bidder_after
    assert rival.commitment in bidder_after
    assert rival.approach not in bidder_after


def test_sealed_bid_attachment_is_404_for_the_owner_until_close(client, client_for, enterprise, university):
    demand = DemandFactory(owner=enterprise, tender=True)
    proposal, _receipt = services.proposal_submit(
        demand=demand,
        supplier=university,
        actor=university.created_by,
        approach="方案",
        duration_days=60,
        attachments=[pdf("方案.pdf")],
    )
    attachment = proposal.attachments.get()
    download = url("demands:proposal_attachment_download", attachment_id=attachment.pk)

    assert client_for(enterprise.created_by).get(download).status_code == 404
    assert client.get(download).status_code == 404
    assert client_for(UserFactory()).get(download).status_code == 404
    bidder = client_for(university.created_by).get(download)
    assert bidder.status_code == 200
    assert b"".join(bidder.streaming_content) == PDF

    close_at_deadline(demand)
    assert client_for(enterprise.created_by).get(download).status_code == 200


# --- posting and editing ----------------------------------------------------------------------------------------


def test_post_form_creates_a_draft(client_for, enterprise, enterprise_admin):
    browser = client_for(enterprise_admin)
    response = browser.post(
        url("demands:create"),
        {
            **form_data(),
            "organization": enterprise.pk,
            "action": "draft",
            "attachments": [pdf("工艺记录.pdf")],
        },
    )

    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("demands:detail", pk=demand.pk)
    assert demand.status == S.DRAFT
    assert (demand.owner, demand.created_by) == (enterprise, enterprise_admin)
    assert demand.details == SECRET
    assert (demand.field_id, demand.sub_field_id, demand.region_id) == (
        "advanced_manufacturing",
        "advanced_manufacturing.machinery_hardware",
        "330200",
    )
    assert (demand.budget_min, demand.budget_max) == (Decimal("200000.00"), Decimal("500000.00"))
    assert demand.attachments.get().original_name == "工艺记录.pdf"
    body = page(browser.get(response["Location"]))
    assert "The draft is saved. Submit it for review when it is ready." in body
    assert "Submit for review" in body


def test_post_and_submit_sends_to_review(client_for, enterprise, enterprise_admin):
    client_for(enterprise_admin).post(
        url("demands:create"), {**form_data(), "organization": enterprise.pk, "action": "submit"}
    )

    assert Demand.objects.get().status == S.PENDING_REVIEW


def test_post_form_refuses_a_bad_budget_and_creates_nothing(client_for, enterprise, enterprise_admin):
    response = client_for(enterprise_admin).post(
        url("demands:create"),
        {
            **form_data(budget_min="500000", budget_max="1000"),
            "organization": enterprise.pk,
            "action": "draft",
        },
    )

    body = page(response)
    assert "The upper end of the budget is below its lower end." in body
    assert not Demand.objects.exists()


def test_unverified_organization_saves_a_draft_but_cannot_submit(client_for, pending_org, pending_admin):
    form_page = page(client_for(pending_admin).get(url("demands:create")))
    assert "Only a verified organization can publish demands." in form_page

    response = client_for(pending_admin).post(
        url("demands:create"),
        {**form_data(), "organization": pending_org.pk, "action": "submit"},
        follow=True,
    )

    demand = Demand.objects.get()
    assert demand.status == S.DRAFT
    body = page(response)
    assert (
        "Only a verified organization can publish demands. Wait for your organization&#x27;s verification."
        in body
    )
    assert "Submit for review</button>" not in body


def test_post_form_needs_login_and_an_organization(client, client_for, outsider):
    anonymous = client.get(url("demands:create"))
    stranger = client_for(outsider).get(url("demands:create"))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(url("accounts:login"))
    assert stranger.status_code == 302
    assert stranger["Location"] == url("organizations:create")


def test_submit_and_withdraw_buttons(client_for, enterprise, enterprise_admin, outsider):
    demand = DemandFactory(owner=enterprise, draft=True)
    owner = client_for(enterprise_admin)

    assert client_for(outsider).post(url("demands:submit", pk=demand.pk)).status_code == 404
    demand.refresh_from_db()
    assert demand.status == S.DRAFT

    assert owner.post(url("demands:submit", pk=demand.pk)).status_code == 302
    demand.refresh_from_db()
    assert demand.status == S.PENDING_REVIEW
    body = page(owner.get(url("demands:detail", pk=demand.pk)))
    assert "Submit for review</button>" not in body
    assert "Withdraw</button>" in body

    owner.post(url("demands:withdraw", pk=demand.pk), {"reason": "需求已由内部解决"})
    demand.refresh_from_db()
    assert (demand.status, demand.status_reason) == (S.WITHDRAWN, "需求已由内部解决")
    body = page(owner.get(url("demands:detail", pk=demand.pk)))
    assert "Withdraw</button>" not in body
    assert "Edit</a>" not in body


def test_rejected_demand_shows_the_reason_to_the_owner(client_for, enterprise, verified_member):
    demand = DemandFactory(owner=enterprise, status=S.REJECTED, status_reason="预算信息不完整。")

    body = page(client_for(verified_member).get(url("demands:detail", pk=demand.pk)))

    assert "Not published. Reviewer's reason" in body
    assert "预算信息不完整。" in body


def test_edit_of_a_published_demand_waits_for_review(client, client_for, enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise, title="原标题")
    owner = client_for(enterprise_admin)
    form = page(owner.get(url("demands:edit", pk=demand.pk)))
    assert 'value="原标题"' in form

    data = form_data(
        title="新标题",
        summary=demand.summary,
        details=demand.details,
        field=demand.field_id,
        sub_field="",
        region=demand.region_id,
        budget_min="100000",
        budget_max="300000",
        deadline=timezone.localtime(demand.deadline).strftime("%Y-%m-%dT%H:%M"),
    )
    response = owner.post(url("demands:edit", pk=demand.pk), data, follow=True)

    body = page(response)
    assert "Your edit is waiting for review; the public version stays visible until it is approved." in body
    revision = DemandRevision.objects.get(demand=demand)
    assert revision.changes == {"title": "新标题"}
    demand.refresh_from_db()
    assert demand.title == "原标题"
    assert "原标题" in page(client.get(url("demands:detail", pk=demand.pk)))


def test_edit_of_a_draft_saves_directly_and_submits(client_for, enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise, draft=True, title="原标题")
    data = form_data(
        title="改后的标题", deadline=timezone.localtime(demand.deadline).strftime("%Y-%m-%dT%H:%M")
    )

    response = client_for(enterprise_admin).post(
        url("demands:edit", pk=demand.pk), {**data, "action": "submit"}
    )

    assert response.status_code == 302
    demand.refresh_from_db()
    assert (demand.title, demand.status, demand.details) == ("改后的标题", S.PENDING_REVIEW, SECRET)
    assert not DemandRevision.objects.exists()


def test_edit_is_404_for_other_organizations(client_for, enterprise, university_admin):
    demand = DemandFactory(owner=enterprise, title="原标题")

    response = client_for(university_admin).post(url("demands:edit", pk=demand.pk), form_data(title="篡改"))

    assert response.status_code == 404
    demand.refresh_from_db()
    assert demand.title == "原标题"
    assert not DemandRevision.objects.exists()


def test_owner_closes_early(client_for, enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise)

    client_for(enterprise_admin).post(url("demands:close", pk=demand.pk))

    demand.refresh_from_db()
    assert demand.status == S.CLOSED


# --- proposals, receipts and verification -------------------------------------------------------------------------


def test_proposal_submit_gives_a_receipt_that_verifies(
    client, client_for, enterprise, university, university_admin
):
    demand = DemandFactory(owner=enterprise, tender=True)
    browser = client_for(university_admin)

    response = browser.post(
        url("demands:proposal_submit", pk=demand.pk),
        {
            "organization": university.pk,
            "approach": "真空辅助注塑，配合模温分区控制。",
            "price": "150000",
            "duration_days": "90",
            "team": "教授1名，博士3名",
            "attachments": [pdf("方案.pdf")],
        },
    )

    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("demands:receipt", proposal_id=proposal.pk)
    receipt_page = page(browser.get(response["Location"]))
    receipt = proposal.receipts.get()
    assert receipt.commitment in receipt_page
    content = html.unescape(
        re.search(r'<pre class="content" id="content">(.*?)</pre>', receipt_page, re.S).group(1)
    )
    assert content == services.proposal_content(proposal)
    assert services.proposal_verify(content=content, commitment=receipt.commitment)
    assert '"nonce":"' + proposal.nonce + '"' in content

    verified = page(
        client.post(url("demands:verify"), {"content": content, "commitment": receipt.commitment})
    )
    assert "The content matches the commitment." in verified
    tampered = content.replace("150000.00", "140000.00")
    refused = page(
        client.post(url("demands:verify"), {"content": tampered, "commitment": receipt.commitment})
    )
    assert "The content does not match the commitment." in refused


def test_receipt_page_is_404_for_the_owner_and_others(client, client_for, enterprise, university):
    proposal = ProposalFactory(demand=DemandFactory(owner=enterprise), supplier=university)
    receipt_url = url("demands:receipt", proposal_id=proposal.pk)

    assert client_for(enterprise.created_by).get(receipt_url).status_code == 404
    assert client_for(UserFactory()).get(receipt_url).status_code == 404
    assert client.get(receipt_url).status_code == 302


def test_verify_page_checks_the_commitment_format(client):
    response = client.post(url("demands:verify"), {"content": "{}", "commitment": "xyz"})

    body = page(response)
    assert "A commitment has 64 hexadecimal characters (0-9, a-f)." in body
    assert "The content matches" not in body


def test_bidder_edits_and_withdraws_while_open(client_for, enterprise, university, university_admin):
    demand = DemandFactory(owner=enterprise)
    proposal = ProposalFactory(demand=demand, supplier=university, duration_days=90)
    browser = client_for(university_admin)
    detail = page(browser.get(url("demands:detail", pk=demand.pk)))
    assert "Edit the proposal" in detail
    assert "Withdraw the proposal" in detail
    assert proposal.receipts.get().commitment in detail
    assert 'name="approach"' not in detail  # no second proposal form

    response = browser.post(
        url("demands:proposal_edit", proposal_id=proposal.pk),
        {"approach": proposal.approach, "price": "120000", "duration_days": "60", "team": ""},
    )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.version, proposal.duration_days, proposal.price) == (2, 60, Decimal("120000.00"))
    assert proposal.receipts.count() == 2

    browser.post(url("demands:proposal_withdraw", proposal_id=proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.WITHDRAWN
    after = page(browser.get(url("demands:detail", pk=demand.pk)))
    assert "You withdrew this proposal." in after
    assert 'name="approach"' in after  # may submit again before the deadline


def test_other_organizations_cannot_edit_or_withdraw_a_proposal(client_for, enterprise, university):
    proposal = ProposalFactory(demand=DemandFactory(owner=enterprise), supplier=university)
    owner = client_for(enterprise.created_by)

    edit = owner.post(
        url("demands:proposal_edit", proposal_id=proposal.pk), {"approach": "篡改", "duration_days": "1"}
    )
    withdraw = owner.post(url("demands:proposal_withdraw", proposal_id=proposal.pk))

    assert (edit.status_code, withdraw.status_code) == (404, 404)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.version, proposal.approach) == (
        Proposal.Status.SUBMITTED,
        1,
        proposal.approach,
    )
    assert proposal.approach != "篡改"


def test_owner_declines_with_a_reason_the_bidder_sees(client_for, enterprise, university):
    demand = DemandFactory(owner=enterprise, closed=True)
    proposal = ProposalFactory(demand=demand, supplier=university)

    response = client_for(enterprise.created_by).post(
        url("demands:proposal_reject", proposal_id=proposal.pk),
        {"reason": "price", "note": "报价超出预算上限。"},
    )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.rejection_reason) == (Proposal.Status.REJECTED, "price")
    body = page(client_for(university.created_by).get(url("demands:detail", pk=demand.pk)))
    assert "The price is above what we can pay" in body
    assert "报价超出预算上限。" in body


def test_owner_shortlists_and_awards_after_close(client_for, enterprise, university):
    demand = DemandFactory(owner=enterprise, closed=True)
    proposal = ProposalFactory(demand=demand, supplier=university)
    loser = ProposalFactory(demand=demand, supplier=InstituteFactory())
    owner = client_for(enterprise.created_by)

    owner.post(url("demands:proposal_shortlist", proposal_id=proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SHORTLISTED
    owner.post(url("demands:proposal_message", proposal_id=proposal.pk), {"body": "能否缩短到60天？"})
    assert "能否缩短到60天？" in page(
        client_for(university.created_by).get(url("demands:detail", pk=demand.pk))
    )

    owner.post(url("demands:proposal_award", proposal_id=proposal.pk))

    proposal.refresh_from_db()
    loser.refresh_from_db()
    demand.refresh_from_db()
    assert (proposal.status, loser.status, demand.status) == (
        Proposal.Status.AWARDED,
        Proposal.Status.REJECTED,
        S.AWARDED,
    )


def test_bidders_cannot_evaluate(client_for, enterprise, university):
    demand = DemandFactory(owner=enterprise, closed=True)
    proposal = ProposalFactory(demand=demand, supplier=university)

    client_for(university.created_by).post(url("demands:proposal_award", proposal_id=proposal.pk))
    client_for(university.created_by).post(url("demands:proposal_shortlist", proposal_id=proposal.pk))

    proposal.refresh_from_db()
    demand.refresh_from_db()
    assert (proposal.status, demand.status) == (Proposal.Status.SUBMITTED, S.CLOSED)


# --- export and downloads ------------------------------------------------------------------------------------------


def test_export_csv_has_public_columns_only_and_honours_filters(client, enterprise):
    DemandFactory(owner=enterprise, title="宁波需求", region_code="330200", details=SECRET)
    DemandFactory(owner=enterprise, title="南京需求", region_code="320100", details=SECRET)
    DemandFactory(owner=enterprise, title="草稿需求", draft=True, details=SECRET)

    response = client.get(url("demands:export"), {"region": "330000"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert SECRET not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["title", "owner", "field", "region", "budget", "deadline", "mode", "status", "url"]
    assert [row[0] for row in rows[1:]] == ["宁波需求"]
    assert rows[1][1] == enterprise.name
    assert rows[1][8].endswith(url("demands:detail", pk=Demand.objects.get(title="宁波需求").pk))


def test_export_csv_neutralises_formulas(client, enterprise):
    DemandFactory(owner=enterprise, title='=HYPERLINK("http://evil")')

    text = b"".join(client.get(url("demands:export")).streaming_content).decode("utf-8-sig")

    assert list(csv.reader(io.StringIO(text)))[1][0] == '\'=HYPERLINK("http://evil")'


def test_demand_attachment_download_follows_the_details_rule(
    client, client_for, enterprise, university_admin, outsider
):
    demand = DemandFactory(owner=enterprise, nda=True)
    attachment = services.demand_attachment_add(
        demand=demand, actor=enterprise.created_by, uploaded=pdf("图纸.pdf")
    )
    download = url("demands:attachment_download", attachment_id=attachment.pk)

    assert client.get(download).status_code == 404
    assert client_for(outsider).get(download).status_code == 404
    assert client_for(university_admin).get(download).status_code == 404  # NDA not accepted yet
    owner = client_for(enterprise.created_by).get(download)
    assert owner.status_code == 200
    assert b"".join(owner.streaming_content) == PDF
    assert "attachment;" in owner["Content-Disposition"]

    services.nda_accept(
        demand=demand, organization=university_admin.memberships.get().organization, actor=university_admin
    )
    assert client_for(university_admin).get(download).status_code == 200


def test_attachment_of_a_draft_is_404_for_verified_suppliers(client_for, enterprise, university_admin):
    demand = DemandFactory(owner=enterprise, draft=True)
    attachment = services.demand_attachment_add(demand=demand, actor=enterprise.created_by, uploaded=pdf())

    response = client_for(university_admin).get(
        url("demands:attachment_download", attachment_id=attachment.pk)
    )

    assert response.status_code == 404


# --- dashboard, home, organization profile ---------------------------------------------------------------------------


def test_dashboard_lists_demands_and_proposals_without_sealed_counts(client_for, enterprise, university):
    tender = DemandFactory(owner=enterprise, tender=True, title="密封招标需求")
    ProposalFactory(demand=tender, supplier=university)
    draft = DemandFactory(owner=enterprise, draft=True, title="草稿需求")

    owner_page = page(client_for(enterprise.created_by).get(url("dashboard")))
    bidder_page = page(client_for(university.created_by).get(url("dashboard")))

    assert "Your organizations' demands" in owner_page
    assert tender.title in owner_page
    assert re.search(
        r"密封招标需求.*?<td>.*?</td>\s*<td><span class=\"muted\">sealed</span></td>", owner_page, re.S
    )
    assert f"Finish the draft “{draft.title}” and submit it for review" in owner_page
    assert "Your proposals" in bidder_page
    assert tender.title in bidder_page


def test_home_shows_latest_published_demands_and_the_tile(client, enterprise):
    DemandFactory(owner=enterprise, title="已发布需求")
    DemandFactory(owner=enterprise, title="草稿需求", draft=True)

    body = page(client.get("/en/"))

    assert "已发布需求" in body
    assert "草稿需求" not in body
    assert re.search(
        r'<span class="tile-value">1</span><span class="tile-label">Published demands</span>', body
    )


def test_organization_profile_shows_the_response_rate(client, enterprise, university):
    assert '<dd class="response-rate">—' in page(client.get(url("organizations:detail", pk=enterprise.pk)))

    demand = DemandFactory(owner=enterprise, closed=True)
    answered = ProposalFactory(demand=demand, supplier=university, submitted_at=in_days(-10))
    Proposal.objects.filter(pk=answered.pk).update(owner_responded_at=in_days(-9))
    ProposalFactory(demand=demand, supplier=InstituteFactory(), submitted_at=in_days(-10))

    body = page(client.get(url("organizations:detail", pk=enterprise.pk)))
    assert '<dd class="response-rate">50%' in body
    assert demand.title in body


def test_nav_links_to_demands(client):
    assert f'href="{url("demands:list")}"' in page(client.get("/en/"))


def test_member_of_owner_and_another_org_sees_own_demand_as_owner(client_for, enterprise, university):
    # A user in both organizations manages the demand and is never offered a bid for it from the owner side.
    user = MembershipFactory(organization=enterprise).user
    MembershipFactory(organization=university, user=user)
    demand = DemandFactory(owner=enterprise)

    body = page(client_for(user).get(url("demands:detail", pk=demand.pk)))

    assert "Manage this demand" in body
    assert f'<input type="hidden" name="organization" value="{university.pk}"' in body
    assert f'name="organization" value="{enterprise.pk}"' not in body
