"""THE permission matrix of SPEC §4: who sees a demand's confidential details and the bids, on every surface.

Two demands are built through the services, exactly as users would: an open call that requires an NDA, and a
sealed tender (also under NDA) before its deadline. Unique marker strings are placed in the confidential
details, in an attachment's name, and in each bid's approach and attachment name. For every persona and every
surface — website pages, API JSON, CSV exports, the admin and the e-mails the flows sent — each marker must
appear exactly where the rule allows it, and nowhere else. The sealed tender's bid count must be absent for
everybody (the owner included) until the close; each bidder sees only its own bid.

Personas: anonymous; outsider (verified e-mail, no organization); supplier without NDA (member of a verified
organization that did not accept the NDA); NDA reader (accepted, did not bid); supplier with NDA (accepted and
bid "A"); other bidder (a second verified supplier, accepted and bid "B"); owner; staff.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from demands import selectors, services
from demands.models import Demand, Proposal
from tests.factories import InstituteFactory, UniversityFactory

pytestmark = pytest.mark.django_db

DETAILS = "DETAILS-MARKER-c41f"
ATTACHMENT = "ATTACHMENT-MARKER-9b2e"
APPROACH = {"a": "APPROACH-A-MARKER-51d0", "b": "APPROACH-B-MARKER-e7a3"}
BID_FILE = {"a": "BIDFILE-A-MARKER-0c88", "b": "BIDFILE-B-MARKER-6d14"}

PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)

PERSONAS = [
    "anonymous",
    "outsider",
    "supplier_without_nda",
    "nda_reader",
    "supplier_with_nda",
    "other_bidder",
    "owner",
    "staff",
]
KINDS = ["open_nda", "sealed_tender"]
DETAIL_READERS = {"nda_reader", "supplier_with_nda", "other_bidder", "owner", "staff"}
BIDDER = {"a": "supplier_with_nda", "b": "other_bidder"}


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.pdf", PDF, content_type="application/pdf")


@dataclass
class World:
    demand: Demand
    users: dict
    bids: dict
    mail_by_step: dict = field(default_factory=dict)


@pytest.fixture
def build(
    enterprise,
    enterprise_admin,
    university,
    university_admin,
    outsider,
    staff_user,
    django_capture_on_commit_callbacks,
):
    """``build(kind)``: the demand, its NDA acceptances, two bids and a question, all through the services.

    Each step runs its on-commit callbacks (the e-mails), and the mails it sent are kept by step.
    """

    def run(kind: str) -> World:
        org_a, org_b, org_reader = InstituteFactory(), UniversityFactory(), UniversityFactory()
        users = {
            "anonymous": None,
            "outsider": outsider,
            "supplier_without_nda": university_admin,
            "nda_reader": org_reader.created_by,
            "supplier_with_nda": org_a.created_by,
            "other_bidder": org_b.created_by,
            "owner": enterprise_admin,
            "staff": staff_user,
        }
        mail.outbox.clear()
        by_step = {}

        def step(name, function):
            start = len(mail.outbox)
            with django_capture_on_commit_callbacks(execute=True):
                result = function()
            by_step[name] = mail.outbox[start:]
            return result

        def post():
            demand = services.demand_create(
                owner=enterprise,
                actor=enterprise_admin,
                title="精密注塑件翘曲变形控制",
                summary="薄壁PC外壳注塑后翘曲超差，希望改进工艺与模具冷却设计。",
                details=f"模具冷却水路图纸与工艺窗口数据：{DETAILS}",
                field="advanced_manufacturing",
                region="330100",
                deadline=timezone.now() + timedelta(days=14),
                cooperation_mode="development",
                mode="tender" if kind == "sealed_tender" else "open",
                nda_required=True,
                nda_terms="接收方对需求方披露的图纸和数据负有保密义务，保密期限三年。",
            )
            services.demand_attachment_add(demand=demand, actor=enterprise_admin, uploaded=pdf(ATTACHMENT))
            services.demand_submit(demand=demand, actor=enterprise_admin)
            return services.demand_review(demand=demand, actor=staff_user, approve=True)

        demand = step("publish", post)

        def ndas():
            for organization in (org_a, org_b, org_reader):
                services.nda_accept(demand=demand, organization=organization, actor=organization.created_by)

        step("nda", ndas)

        def bids():
            result = {}
            for key, organization in (("a", org_a), ("b", org_b)):
                proposal, _receipt = services.proposal_submit(
                    demand=demand,
                    supplier=organization,
                    actor=organization.created_by,
                    approach=f"模流分析与随形冷却水路优化方案：{APPROACH[key]}",
                    duration_days=90,
                    price="200000",
                    team="教授1名、工程师3名",
                    attachments=[pdf(BID_FILE[key])],
                )
                result[key] = proposal
            return result

        proposals = step("bids", bids)

        def questions():
            question = services.question_ask(
                demand=demand, organization=university, actor=university_admin, text="样件是否可以寄送？"
            )
            services.question_answer(question=question, actor=enterprise_admin, answer="可以，请联系平台。")

        step("questions", questions)
        demand.refresh_from_db()
        assert demand.status == "published"
        assert demand.is_sealed is (kind == "sealed_tender")
        return World(demand=demand, users=users, bids=proposals, mail_by_step=by_step)

    return run


def client_of(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


def surfaces(world: World) -> dict[str, str]:
    """Every URL on which a demand or its bids could show, by surface name."""
    pk = world.demand.pk
    a, b = world.bids["a"].pk, world.bids["b"].pk
    return {
        "web_list": "/demands/",
        "web_detail": f"/demands/{pk}/",
        "web_export": "/demands/export.csv",
        "api_list": "/api/v1/demands/",
        "api_detail": f"/api/v1/demands/{pk}/",
        "api_attachments": f"/api/v1/demands/{pk}/attachments/",
        "api_questions": f"/api/v1/demands/{pk}/questions/",
        "api_all_questions": "/api/v1/questions/",
        "api_demand_proposals": f"/api/v1/demands/{pk}/proposals/",
        "api_proposals": "/api/v1/proposals/",
        "api_proposal_a": f"/api/v1/proposals/{a}/",
        "api_proposal_b": f"/api/v1/proposals/{b}/",
        "api_commitments": f"/api/v1/demands/{pk}/commitments/",
        "api_export": "/api/v1/demands/export/",
        "admin_demand": reverse("admin:demands_demand_change", args=[pk]),
        "admin_proposals": reverse("admin:demands_proposal_changelist"),
        "admin_proposal_a": reverse("admin:demands_proposal_change", args=[a]),
        "admin_proposal_b": reverse("admin:demands_proposal_change", args=[b]),
    }


def allowed(marker: str, persona: str, surface: str, *, sealed: bool) -> bool:
    """Where each marker may show: the rule of SPEC §4, surface by surface."""
    if surface.startswith("admin_") and persona != "staff":
        return False  # the admin is for the staff only; everybody else is sent to its login page
    if marker in ("details", "attachment"):
        showing = {"web_detail", "api_detail", "admin_demand"}
        if marker == "attachment":
            showing.add("api_attachments")
        return persona in DETAIL_READERS and surface in showing
    key = marker[-1]  # "approach_a", "bid_file_b"
    readers = {BIDDER[key]} if sealed else {BIDDER[key], "owner", "staff"}
    showing = {
        "web_detail",
        "api_demand_proposals",
        "api_proposals",
        f"api_proposal_{key}",
        f"admin_proposal_{key}",
    }
    return persona in readers and surface in showing


def markers() -> dict[str, str]:
    return {
        "details": DETAILS,
        "attachment": ATTACHMENT,
        "approach_a": APPROACH["a"],
        "approach_b": APPROACH["b"],
        "bid_file_a": BID_FILE["a"],
        "bid_file_b": BID_FILE["b"],
    }


# --- the matrix ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_marker_shows_exactly_where_the_rule_allows(build, kind, persona):
    world = build(kind)
    client = client_of(world.users[persona])
    sealed = kind == "sealed_tender"

    wrong = []
    for surface, url in surfaces(world).items():
        response = client.get(url)
        assert response.status_code in (200, 302, 401, 403, 404), (surface, response.status_code)
        body = body_of(response)
        for marker, text in markers().items():
            expected = allowed(marker, persona, surface, sealed=sealed)
            if (text in body) != expected:
                wrong.append(
                    f"{surface}: {marker} {'missing' if expected else 'LEAKED'} ({response.status_code})"
                )

    assert wrong == []


@pytest.mark.parametrize("kind", KINDS)
def test_no_marker_reaches_any_email(build, kind):
    world = build(kind)

    sent = [message for messages in world.mail_by_step.values() for message in messages]
    assert sent, "the flows send e-mails (publication, question, answer…)"
    for message in sent:
        text = "\n".join([message.subject, message.body, *(alt[0] for alt in message.alternatives)])
        for marker, value in markers().items():
            assert value not in text, (marker, message.to, message.subject)


def test_the_arrival_of_a_sealed_bid_is_not_mailed_to_anyone(build, enterprise_admin):
    sealed = build("sealed_tender")

    assert sealed.mail_by_step["bids"] == []


def test_the_arrival_of_an_open_bid_is_mailed_to_the_owner(build, enterprise_admin):
    world = build("open_nda")

    assert [m.to for m in world.mail_by_step["bids"]] == [[enterprise_admin.email]] * 2


# --- the bid count -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_sealed_bid_count_is_absent_for_everybody(build, persona):
    world = build("sealed_tender")
    client = client_of(world.users[persona])
    pk = world.demand.pk

    assert client.get(f"/api/v1/demands/{pk}/").json()["proposal_count"] is None
    listed = client.get(f"/api/v1/demands/{pk}/proposals/").json()
    assert (listed["sealed"], listed["count"]) == (True, None)
    own = {"supplier_with_nda": [world.bids["a"].pk], "other_bidder": [world.bids["b"].pk]}
    assert [p["id"] for p in listed["results"]] == own.get(persona, [])
    for row in client.get("/api/v1/demands/").json()["results"]:
        assert "proposal_count" not in row
    page = client.get(f"/demands/{pk}/")
    assert page.context["proposal_count"] is None
    commitments = client.get(f"/api/v1/demands/{pk}/commitments/")
    if commitments.status_code == 200:  # the owner, the staff, the bidders: nothing is published yet
        assert commitments.json() == {"published": False, "results": []}
    else:
        assert commitments.status_code in (401, 403)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_open_bid_count_is_for_the_owner_and_staff(build, persona):
    world = build("open_nda")
    client = client_of(world.users[persona])

    count = client.get(f"/api/v1/demands/{world.demand.pk}/").json()["proposal_count"]

    assert count == (2 if persona in ("owner", "staff") else None)


# --- one rule everywhere -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_api_proposal_list_agrees_with_the_selector(build, kind):
    world = build(kind)

    for persona, user in world.users.items():
        if user is None:
            continue
        per_demand = set(
            selectors.proposal_list_for_demand(user=user, demand=world.demand).values_list("pk", flat=True)
        )
        across = set(selectors.proposal_list_visible_to(user=user).values_list("pk", flat=True))
        assert across == per_demand, persona
        assert selectors.demand_can_see_details(user=user, demand=world.demand) is (
            persona in DETAIL_READERS
        ), persona


def test_after_the_deadline_the_tender_opens_to_its_owner(build, enterprise_admin):
    world = build("sealed_tender")
    Demand.objects.filter(pk=world.demand.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert services.demand_close(demand=world.demand)
    client = client_of(enterprise_admin)

    body = body_of(client.get(f"/api/v1/demands/{world.demand.pk}/proposals/"))

    assert APPROACH["a"] in body
    assert APPROACH["b"] in body
    assert client.get(f"/api/v1/demands/{world.demand.pk}/").json()["proposal_count"] == 2
    assert Proposal.objects.filter(demand=world.demand).count() == 2


# --- the sealed-bid rule at its edges: withdrawal before the close, and an early close by the owner -----------


def test_withdrawing_a_sealed_tender_keeps_its_bids_sealed(build, enterprise_admin):
    world = build("sealed_tender")
    services.demand_withdraw(demand=world.demand, actor=enterprise_admin)

    body = body_of(client_of(enterprise_admin).get(f"/api/v1/demands/{world.demand.pk}/proposals/"))

    assert APPROACH["a"] not in body


def test_the_owner_cannot_open_a_tender_before_its_deadline(build, enterprise_admin):
    world = build("sealed_tender")
    client = client_of(enterprise_admin)
    client.post(f"/api/v1/demands/{world.demand.pk}/close/")

    body = body_of(client.get(f"/api/v1/demands/{world.demand.pk}/proposals/"))

    assert APPROACH["a"] not in body
