"""The demands admin: the review queue (信息审核) with publish/reject actions and a mandatory rejection reason,
pending edits with their diff, and read-only proposals that stay sealed for the staff too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from demands import services
from demands.models import Demand, DemandRevision
from marketplace.models import AuditLog
from tests.factories import DemandFactory, ProposalFactory

pytestmark = pytest.mark.django_db

DEMANDS = "admin:demands_demand_changelist"
REVISIONS = "admin:demands_demandrevision_changelist"


def in_chinese(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def staff_client(client_for, staff_user):
    return client_for(staff_user)


def act(client, changelist, action, objects, reason=None):
    data = {"action": action, "_selected_action": [o.pk for o in objects]}
    if reason is not None:
        data.update(apply="1", reason=reason)
    return client.post(reverse(changelist), data)


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# --- access and the queue ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["enterprise_admin", "outsider"])
def test_non_staff_cannot_reach_the_demand_admin(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))

    for name in [DEMANDS, REVISIONS, "admin:demands_proposal_changelist"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_list_opens_on_the_review_queue_oldest_first(staff_client, enterprise):
    newer = DemandFactory(owner=enterprise, pending_review=True, title="新提交的需求")
    older = DemandFactory(
        owner=enterprise,
        pending_review=True,
        title="早提交的需求",
        submitted_at=timezone.now() - timedelta(days=3),
    )
    published = DemandFactory(owner=enterprise, title="已发布的需求")

    response = staff_client.get(reverse(DEMANDS))

    assert response.status_code == 200
    assert [d.pk for d in response.context["cl"].result_list] == [older.pk, newer.pk]
    html = response.content.decode()
    assert "(2)" in html  # the queue's count in the filter
    everything = staff_client.get(reverse(DEMANDS), {"queue": "all"})
    assert {d.pk for d in everything.context["cl"].result_list} == {older.pk, newer.pk, published.pk}
    # A search is not narrowed to the queue.
    searched = staff_client.get(reverse(DEMANDS), {"q": "已发布"})
    assert [d.pk for d in searched.context["cl"].result_list] == [published.pk]


def test_search_by_external_ref_and_owner_name(staff_client, enterprise):
    wanted = DemandFactory(owner=enterprise, external_ref="ZJ-2024-77")
    DemandFactory()

    by_ref = staff_client.get(reverse(DEMANDS), {"q": "ZJ-2024-77"})
    by_owner = staff_client.get(reverse(DEMANDS), {"q": enterprise.name})

    assert [d.pk for d in by_ref.context["cl"].result_list] == [wanted.pk]
    assert [d.pk for d in by_owner.context["cl"].result_list] == [wanted.pk]


def test_the_change_page_is_read_only(staff_client, enterprise):
    demand = DemandFactory(owner=enterprise, pending_review=True)
    url = reverse("admin:demands_demand_change", args=[demand.pk])

    page = staff_client.get(url)
    posted = staff_client.post(url, {"title": "改掉", "status": "published"})

    assert page.status_code == 200
    assert demand.details in page.content.decode()  # staff may read the details
    assert 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    demand.refresh_from_db()
    assert demand.status == "pending_review"
    assert demand.title != "改掉"


# --- publish and reject --------------------------------------------------------------------------------------


def test_an_action_first_shows_the_intermediate_page(staff_client, enterprise):
    first = DemandFactory(owner=enterprise, pending_review=True)
    second = DemandFactory(owner=enterprise, pending_review=True)

    response = act(staff_client, DEMANDS, "reject", [first, second])

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/demands/decide.html"
    html = response.content.decode()
    assert first.title in html
    assert second.title in html
    assert html.count('name="_selected_action"') == 2
    assert 'name="reason"' in html
    assert Demand.objects.filter(status="pending_review").count() == 2


def test_publish_without_a_note_publishes_and_tells_the_owner(
    staff_client, staff_user, enterprise, enterprise_admin, django_capture_on_commit_callbacks
):
    first = DemandFactory(owner=enterprise, pending_review=True)
    second = DemandFactory(owner=enterprise, pending_review=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff_client, DEMANDS, "approve", [first, second], reason="")

    assert response.status_code == 302
    for demand in (first, second):
        demand.refresh_from_db()
        assert demand.status == "published"
        assert demand.published_at is not None
    assert AuditLog.objects.filter(action="demand.publish", actor=staff_user).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [enterprise_admin.email] * 2
    ((level, text),) = messages_of(response)
    assert level == "success"
    assert first.title in text
    assert second.title in text


def test_refusals_are_reported_and_do_not_undo_the_others(staff_client, enterprise):
    waiting = DemandFactory(owner=enterprise, pending_review=True)
    expired_deadline = DemandFactory(
        owner=enterprise, pending_review=True, deadline=timezone.now() - timedelta(hours=1)
    )
    already_published = DemandFactory(owner=enterprise)

    preview = act(staff_client, DEMANDS, "approve", [waiting, expired_deadline, already_published])
    assert preview.context["refused_count"] == 2

    response = act(
        staff_client, DEMANDS, "approve", [waiting, expired_deadline, already_published], reason=""
    )

    waiting.refresh_from_db()
    expired_deadline.refresh_from_db()
    assert waiting.status == "published"
    assert expired_deadline.status == "pending_review"
    levels = [level for level, _text in messages_of(response)]
    assert levels.count("success") == 1
    assert levels.count("error") == 2
    errors = " ".join(text for level, text in messages_of(response) if level == "error")
    assert expired_deadline.title in errors
    assert already_published.title in errors


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_changes_nothing(staff_client, enterprise, reason):
    demand = DemandFactory(owner=enterprise, pending_review=True)

    response = act(staff_client, DEMANDS, "reject", [demand], reason=reason)

    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    demand.refresh_from_db()
    assert demand.status == "pending_review"
    assert not AuditLog.objects.filter(action="demand.reject").exists()


def test_reject_with_a_reason_reaches_the_owner(
    staff_client, enterprise, enterprise_admin, django_capture_on_commit_callbacks
):
    demand = DemandFactory(owner=enterprise, pending_review=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff_client, DEMANDS, "reject", [demand], reason="预算与描述不符，请核实。")

    assert response.status_code == 302
    demand.refresh_from_db()
    assert (demand.status, demand.status_reason) == ("rejected", "预算与描述不符，请核实。")
    (message,) = mail.outbox
    assert message.to == [enterprise_admin.email]
    assert "预算与描述不符，请核实。" in message.body
    assert AuditLog.objects.get(action="demand.reject").reason == "预算与描述不符，请核实。"


# --- pending edits -------------------------------------------------------------------------------------------


@pytest.fixture
def edited(enterprise, enterprise_admin):
    demand = DemandFactory(owner=enterprise, title="原标题：注塑件银纹问题", budget_max="300000.00")
    revision = services.demand_update(
        demand=demand,
        actor=enterprise_admin,
        title="新标题：注塑件银纹与气泡问题",
        budget_max="350000",
        region="330200",
    )
    assert isinstance(revision, DemandRevision)
    return demand, revision


def test_the_edit_page_shows_the_changes_against_the_public_version(staff_client, edited):
    demand, revision = edited

    response = staff_client.get(reverse("admin:demands_demandrevision_change", args=[revision.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "原标题：注塑件银纹问题" in html  # the current public version
    assert "<ins" in html
    assert "与气泡" in html
    assert "¥300,000.00" in html
    assert "¥350,000.00" in html
    assert "(330100)" in html
    assert "(330200)" in html


def test_the_revision_queue_lists_pending_edits_with_their_fields(staff_client, edited):
    _demand, revision = edited

    response = staff_client.get(reverse(REVISIONS))

    assert [r.pk for r in response.context["cl"].result_list] == [revision.pk]


def test_approving_an_edit_applies_it_and_the_public_version_stayed_until_then(
    staff_client, api_client, edited, django_capture_on_commit_callbacks
):
    demand, revision = edited
    api_url = f"/api/v1/demands/{demand.pk}/"
    assert api_client.get(api_url).json()["title"] == "原标题：注塑件银纹问题"
    assert api_client.get(f"/demands/{demand.pk}/").content.decode().count("新标题") == 0

    preview = act(staff_client, REVISIONS, "approve", [revision])
    assert "原标题：注塑件银纹问题" in preview.content.decode()  # the diff on the intermediate page
    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff_client, REVISIONS, "approve", [revision], reason="")

    assert response.status_code == 302
    revision.refresh_from_db()
    demand.refresh_from_db()
    assert revision.status == "approved"
    assert (demand.title, str(demand.budget_max), demand.region_id) == (
        "新标题：注塑件银纹与气泡问题",
        "350000.00",
        "330200",
    )
    assert api_client.get(api_url).json()["title"] == "新标题：注塑件银纹与气泡问题"
    assert len(mail.outbox) == 1


def test_rejecting_an_edit_needs_a_reason_and_keeps_the_public_version(staff_client, edited):
    demand, revision = edited

    refused = act(staff_client, REVISIONS, "reject", [revision], reason="")
    assert refused.status_code == 200
    revision.refresh_from_db()
    assert revision.status == "pending"

    response = act(staff_client, REVISIONS, "reject", [revision], reason="标题与内容不一致")

    assert response.status_code == 302
    revision.refresh_from_db()
    demand.refresh_from_db()
    assert (revision.status, revision.reason) == ("rejected", "标题与内容不一致")
    assert demand.title == "原标题：注塑件银纹问题"


def test_an_edit_of_a_demand_no_longer_published_is_refused(staff_client, edited):
    demand, revision = edited
    Demand.objects.filter(pk=demand.pk).update(status="closed")

    response = act(staff_client, REVISIONS, "approve", [revision], reason="")

    revision.refresh_from_db()
    assert revision.status == "pending"
    ((level, _text),) = messages_of(response)
    assert level == "error"


# --- proposals stay sealed -----------------------------------------------------------------------------------

APPROACH = "密封方案标记-APPROACH-7f3a"
TEAM = "密封团队标记-TEAM-7f3a"


@pytest.fixture
def sealed_bid(enterprise):
    tender = DemandFactory(owner=enterprise, tender=True)
    return ProposalFactory(demand=tender, approach=APPROACH, team=TEAM, price=Decimal("123456.78"))


def test_a_sealed_bid_shows_no_content_to_the_staff(staff_client, sealed_bid):
    pages = [
        staff_client.get(reverse("admin:demands_proposal_changelist")),
        staff_client.get(reverse("admin:demands_proposal_change", args=[sealed_bid.pk])),
        staff_client.get(reverse("admin:demands_proposal_changelist"), {"q": "APPROACH-7f3a"}),
    ]

    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert APPROACH not in html
        assert TEAM not in html
        assert "123,456.78" not in html
        assert "123456.78" not in html
        assert sealed_bid.nonce not in html
    assert in_chinese("sealed until the deadline") in pages[1].content.decode()
    # Searching the sealed text finds nothing: the search never looks into bids.
    assert list(pages[2].context["cl"].result_list) == []


def test_after_the_close_the_staff_reads_the_bid(staff_client, sealed_bid):
    Demand.objects.filter(pk=sealed_bid.demand_id).update(status="closed", closed_at=timezone.now())

    html = staff_client.get(reverse("admin:demands_proposal_change", args=[sealed_bid.pk])).content.decode()

    assert APPROACH in html
    assert TEAM in html
    assert "123,456.78" in html
    assert sealed_bid.nonce not in html


@pytest.mark.parametrize(
    "name", ["admin:demands_ndaacceptance_changelist", "admin:demands_question_changelist"]
)
def test_read_only_lists_open(staff_client, name):
    response = staff_client.get(reverse(name))

    assert response.status_code == 200
    assert response.context["has_add_permission"] is False
