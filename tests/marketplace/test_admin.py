"""The Django admin: organization decisions with a mandatory reason, read-only history and logs, access."""

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from marketplace import services
from marketplace.admin import OrganizationAdminForm
from marketplace.models import AuditLog, Notification, Organization, User
from tests.factories import (
    InvitationFactory,
    JoinRequestFactory,
    NotificationFactory,
    UniversityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:marketplace_organization_changelist"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200


@pytest.fixture
def staff_client(client_for, staff_user):
    return client_for(staff_user)


@pytest.fixture
def second_pending(db):
    return UniversityFactory(pending=True)


def decide(client, decision, organizations, reason=None, **kwargs):
    data = {"action": decision, "_selected_action": [o.pk for o in organizations]}
    if reason is not None:
        data.update(apply="1", reason=reason)
    return client.post(reverse(CHANGELIST), data, **kwargs)


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# --- access ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["enterprise_admin", "outsider"])
def test_non_staff_cannot_reach_the_admin(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))

    for url in [reverse("admin:index"), reverse(CHANGELIST)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- decisions ---------------------------------------------------------------------------------------------


def test_an_action_first_asks_for_the_reason(staff_client, pending_org, second_pending):
    response = decide(staff_client, "approve", [pending_org, second_pending])

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/marketplace/organization/decide.html"
    html = response.content.decode()
    assert pending_org.name in html
    assert second_pending.name in html
    assert 'name="reason"' in html
    assert html.count('name="_selected_action"') == 2
    assert Organization.objects.filter(status=Organization.Status.PENDING).count() == 2
    assert not AuditLog.objects.filter(action="organization.approve").exists()


def test_bulk_approve_with_a_reason_verifies_audits_and_notifies(
    staff_client, staff_user, pending_org, second_pending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(staff_client, "approve", [pending_org, second_pending], reason="营业执照核验一致")

    assert response.status_code == 302
    for organization in (pending_org, second_pending):
        organization.refresh_from_db()
        assert organization.status == Organization.Status.VERIFIED
        assert organization.status_reason == "营业执照核验一致"
        assert organization.verified_at is not None
    entries = AuditLog.objects.filter(action="organization.approve").order_by("target_id")
    assert [(e.target_id, e.actor, e.reason, e.data) for e in entries] == [
        (str(org.pk), staff_user, "营业执照核验一致", {"from": "pending", "to": "verified"})
        for org in sorted([pending_org, second_pending], key=lambda o: str(o.pk))
    ]
    admins = {pending_org.created_by, second_pending.created_by}
    assert {n.user for n in Notification.objects.all()} == admins
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in admins)
    assert all("营业执照核验一致" in m.body for m in mail.outbox)
    ((level, text),) = messages_of(response)
    assert level == "success"
    assert pending_org.name in text
    assert second_pending.name in text


@pytest.mark.parametrize("reason", ["", "   "])
def test_without_a_reason_nothing_changes(
    staff_client, pending_org, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(staff_client, "reject", [pending_org], reason=reason)

    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    pending_org.refresh_from_db()
    assert pending_org.status == Organization.Status.PENDING
    assert not AuditLog.objects.filter(action="organization.reject").exists()
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_decision_invalid_for_the_state_is_reported_and_changes_nothing(
    staff_client, pending_org, enterprise, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            staff_client, "suspend", [pending_org, enterprise], reason="违反平台规则", follow=True
        )

    assert response.status_code == 200
    pending_org.refresh_from_db()
    enterprise.refresh_from_db()
    assert pending_org.status == Organization.Status.PENDING
    assert enterprise.status == Organization.Status.SUSPENDED
    reported = dict((m.level_tag, str(m)) for m in response.context["messages"])
    assert set(reported) == {"success", "error"}
    assert enterprise.name in reported["success"]
    assert pending_org.name in reported["error"]
    assert pending_org.name not in reported["success"]
    assert list(
        AuditLog.objects.filter(action="organization.suspend").values_list("target_id", flat=True)
    ) == [str(enterprise.pk)]
    assert [m.to for m in mail.outbox] == [[enterprise.created_by.email]]


def test_the_refusal_is_reported_in_english_on_the_english_admin(staff_client, pending_org):
    with translation.override("en"):
        url = reverse(CHANGELIST)
    assert url.startswith("/en/")

    response = staff_client.post(
        url,
        {"action": "suspend", "_selected_action": [pending_org.pk], "apply": "1", "reason": "rules"},
        follow=True,
    )

    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [
        ("error", f"{pending_org.name} is “Pending review”; this decision is not possible in that state.")
    ]
    pending_org.refresh_from_db()
    assert pending_org.status == Organization.Status.PENDING


def test_the_intermediate_page_warns_about_organizations_it_does_not_apply_to(staff_client, pending_org):
    response = decide(staff_client, "reinstate", [pending_org])

    assert response.status_code == 200
    assert response.context["refused_count"] == 1


@pytest.mark.parametrize(
    ("decision", "fixture", "target"),
    [
        ("reject", "pending_org", Organization.Status.REJECTED),
        ("request_documents", "pending_org", Organization.Status.NEEDS_DOCUMENTS),
        ("suspend", "enterprise", Organization.Status.SUSPENDED),
    ],
)
def test_every_decision_is_available_as_an_action(request, staff_client, decision, fixture, target):
    organization = request.getfixturevalue(fixture)

    decide(staff_client, decision, [organization], reason="理由")

    organization.refresh_from_db()
    assert organization.status == target


def test_reinstate_action(staff_client, enterprise, staff_user):
    services.organization_decide(organization=enterprise, decision="suspend", actor=staff_user, reason="暂停")

    decide(staff_client, "reinstate", [enterprise], reason="整改完成")

    enterprise.refresh_from_db()
    assert enterprise.status == Organization.Status.VERIFIED


# --- the organization change page -------------------------------------------------------------------------


def test_change_page_shows_the_audit_history_documents_and_members(staff_client, staff_user, pending_org):
    services.credential_document_add(
        organization=pending_org,
        actor=pending_org.created_by,
        kind="business_license",
        uploaded=SimpleUploadedFile("营业执照.png", PNG),
    )
    services.organization_decide(
        organization=pending_org, decision="request_documents", actor=staff_user, reason="请补充盖章授权书"
    )

    response = staff_client.get(reverse("admin:marketplace_organization_change", args=[pending_org.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "organization.request_documents" in html
    assert "请补充盖章授权书" in html
    assert "organization.document_add" in html
    document = pending_org.documents.get()
    assert reverse("organizations:document_download", kwargs={"document_id": document.pk}) in html
    assert "营业执照.png" in html
    assert str(pending_org.created_by) in html
    # Status fields are shown, not editable.
    assert 'name="status"' not in html
    assert 'name="status_reason"' not in html


def test_staff_download_the_document_from_the_admin_link(staff_client, pending_org):
    document = services.credential_document_add(
        organization=pending_org,
        actor=pending_org.created_by,
        kind="business_license",
        uploaded=SimpleUploadedFile("licence.png", PNG),
    )

    response = staff_client.get(
        reverse("organizations:document_download", kwargs={"document_id": document.pk})
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_organizations_cannot_be_added_or_deleted_in_the_admin(staff_client, enterprise):
    assert staff_client.get(reverse("admin:marketplace_organization_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:marketplace_organization_delete", args=[enterprise.pk])).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("code", "valid"),
    [("91330100MA27XL0E2G", True), ("91330100MA27XL0E2H", False), ("91330100MA27XL0E2", False)],
)
def test_admin_form_validates_the_credit_code(enterprise, code, valid):
    data = {
        "name": enterprise.name,
        "short_name": "",
        "org_type": enterprise.org_type,
        "credit_code": code,
        "region": enterprise.region_id,
        "address": "",
        "website": "",
        "description": "",
        "fields": [],
        "contact_name": "",
        "contact_email": "",
        "contact_phone": "",
    }

    form = OrganizationAdminForm(data=data, instance=enterprise)

    assert form.is_valid() is valid
    if not valid:
        assert list(form.errors) == ["credit_code"]


def test_province_filter_includes_cities(staff_client, enterprise, pending_org):
    # enterprise is in 杭州 (330100), pending_org in 嘉兴 (330400); neither in Shanghai.
    zhejiang = staff_client.get(reverse(CHANGELIST), {"province": "330000"})
    shanghai = staff_client.get(reverse(CHANGELIST), {"province": "310000"})

    assert {o.pk for o in zhejiang.context["cl"].result_list} == {enterprise.pk, pending_org.pk}
    assert list(shanghai.context["cl"].result_list) == []


# --- audit log and the other models -----------------------------------------------------------------------


def test_audit_log_is_read_only(staff_client, staff_user, pending_org):
    services.organization_decide(
        organization=pending_org, decision="approve", actor=staff_user, reason="核验一致"
    )
    entry = AuditLog.objects.get(action="organization.approve")

    assert staff_client.get(reverse("admin:marketplace_auditlog_add")).status_code == 403
    assert staff_client.get(reverse("admin:marketplace_auditlog_delete", args=[entry.pk])).status_code == 403
    change = staff_client.get(reverse("admin:marketplace_auditlog_change", args=[entry.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    staff_client.post(reverse("admin:marketplace_auditlog_change", args=[entry.pk]), {"reason": "改写"})
    entry.refresh_from_db()
    assert entry.reason == "核验一致"


def test_audit_log_filters_by_action_and_target(staff_client, staff_user, pending_org, enterprise):
    services.organization_decide(organization=pending_org, decision="approve", actor=staff_user, reason="a")
    services.organization_decide(organization=enterprise, decision="suspend", actor=staff_user, reason="b")

    by_action = staff_client.get(
        reverse("admin:marketplace_auditlog_changelist"), {"action": "organization.suspend"}
    )
    by_target = staff_client.get(
        reverse("admin:marketplace_auditlog_changelist"),
        {"target_type": "marketplace.organization", "target_id": str(pending_org.pk)},
    )

    assert [e.target_id for e in by_action.context["cl"].result_list] == [str(enterprise.pk)]
    assert {e.action for e in by_target.context["cl"].result_list} == {"organization.approve"}


@pytest.mark.parametrize(
    "model",
    [
        "user",
        "organization",
        "membership",
        "invitation",
        "joinrequest",
        "credentialdocument",
        "notification",
        "auditlog",
        "region",
        "technologyfield",
        "classification",
    ],
)
def test_every_core_model_has_a_searchable_changelist(staff_client, enterprise, model):
    InvitationFactory(organization=enterprise)
    JoinRequestFactory(organization=enterprise)
    NotificationFactory()

    listed = staff_client.get(reverse(f"admin:marketplace_{model}_changelist"))
    searched = staff_client.get(reverse(f"admin:marketplace_{model}_changelist"), {"q": "浙江"})

    assert listed.status_code == 200
    assert searched.status_code == 200


def test_staff_add_a_user_with_the_extra_fields(staff_client):
    response = staff_client.post(
        reverse("admin:marketplace_user_add"),
        {
            "username": "reviewer2",
            "email": "reviewer2@example.com",
            "usable_password": "true",
            "password1": "Kettle-9-Harbour",
            "password2": "Kettle-9-Harbour",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="reviewer2")
    assert user.email == "reviewer2@example.com"
    change = staff_client.get(reverse("admin:marketplace_user_change", args=[user.pk]))
    html = change.content.decode()
    assert 'name="full_name"' in html
    assert 'name="phone"' in html
    assert 'name="email_verified_at_0"' in html


def test_user_list_filters_by_verified_email(staff_client, staff_user):
    unverified = UserFactory(unverified=True)

    response = staff_client.get(reverse("admin:marketplace_user_changelist"), {"email_verified": "no"})

    assert [u.pk for u in response.context["cl"].result_list] == [unverified.pk]


@pytest.mark.parametrize(("value", "expected"), [("yes", {"verified-one"}), ("no", {"unverified-one"})])
def test_user_changelist_filters_on_email_verification(client, staff_user, value, expected):
    from tests.factories import UserFactory

    UserFactory(username="verified-one")
    UserFactory(username="unverified-one", unverified=True)
    client.force_login(staff_user)
    response = client.get("/admin/marketplace/user/", {"email_verified": value, "q": "-one"})
    assert response.status_code == 200
    shown = {user.username for user in response.context["cl"].result_list}
    assert shown == expected
