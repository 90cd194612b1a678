"""The verification workflow of SPEC §3: every decision, its guard, its audit entry and its e-mail."""

import pytest
from django.core import mail
from django.db import transaction

from marketplace import services
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Notification, Organization

pytestmark = pytest.mark.django_db

S = Organization.Status


def decide(org, decision, actor, reason="Documents checked against the registry."):
    return services.organization_decide(organization=org, decision=decision, actor=actor, reason=reason)


@pytest.mark.parametrize(
    ("start", "decision", "end"),
    [
        (S.PENDING, "approve", S.VERIFIED),
        (S.PENDING, "reject", S.REJECTED),
        (S.NEEDS_DOCUMENTS, "reject", S.REJECTED),
        (S.PENDING, "request_documents", S.NEEDS_DOCUMENTS),
        (S.VERIFIED, "suspend", S.SUSPENDED),
        (S.SUSPENDED, "reinstate", S.VERIFIED),
    ],
)
def test_each_decision_moves_the_state_and_is_audited(
    pending_org, pending_admin, staff_user, start, decision, end, django_capture_on_commit_callbacks
):
    Organization.objects.filter(pk=pending_org.pk).update(status=start)
    pending_org.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        org = decide(pending_org, decision, staff_user, reason="Because of the registry check.")

    org.refresh_from_db()
    assert org.status == end
    assert org.status_reason == "Because of the registry check."
    entry = AuditLog.objects.get(action=f"organization.{decision}")
    assert entry.actor == staff_user
    assert entry.target_id == str(org.pk)
    assert entry.reason == "Because of the registry check."
    assert entry.data == {"from": start, "to": end}
    # The applicant is told on the website and by e-mail.
    notice = Notification.objects.get(user=pending_admin)
    assert notice.url == f"/organizations/{org.pk}/"
    assert "Because of the registry check." in notice.body
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [pending_admin.email]
    assert "Because of the registry check." in mail.outbox[0].body


def test_approve_sets_verified_at(pending_org, staff_user):
    org = decide(pending_org, "approve", staff_user)
    assert org.verified_at is not None
    assert org.is_verified


@pytest.mark.parametrize(
    ("start", "decision"),
    [
        (S.VERIFIED, "approve"),
        (S.REJECTED, "approve"),
        (S.SUSPENDED, "suspend"),
        (S.PENDING, "suspend"),
        (S.PENDING, "reinstate"),
        (S.VERIFIED, "request_documents"),
        (S.REJECTED, "reject"),
    ],
)
def test_decision_in_the_wrong_state_changes_nothing(pending_org, staff_user, start, decision):
    Organization.objects.filter(pk=pending_org.pk).update(status=start, status_reason="old")
    pending_org.refresh_from_db()

    with pytest.raises(ApplicationError) as exc:
        decide(pending_org, decision, staff_user)

    assert exc.value.code == "bad_state"
    pending_org.refresh_from_db()
    assert pending_org.status == start
    assert pending_org.status_reason == "old"
    assert (
        AuditLog.objects.filter(action__startswith="organization.")
        .exclude(action="organization.register")
        .count()
        == 0
    )
    assert Notification.objects.count() == 0


def test_second_approval_is_refused(pending_org, staff_user):
    decide(pending_org, "approve", staff_user)
    with pytest.raises(ApplicationError):
        decide(pending_org, "approve", staff_user)
    assert AuditLog.objects.filter(action="organization.approve").count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(pending_org, staff_user, reason):
    with pytest.raises(ApplicationError) as exc:
        decide(pending_org, "reject", staff_user, reason=reason)
    assert exc.value.code == "reason_required"
    pending_org.refresh_from_db()
    assert pending_org.status == S.PENDING


def test_only_staff_decide(pending_org, enterprise_admin):
    with pytest.raises(ApplicationError) as exc:
        decide(pending_org, "approve", enterprise_admin)
    assert exc.value.code == "not_staff"
    pending_org.refresh_from_db()
    assert pending_org.status == S.PENDING


def test_unknown_decision_is_refused(pending_org, staff_user):
    with pytest.raises(ApplicationError) as exc:
        decide(pending_org, "promote", staff_user)
    assert exc.value.code == "bad_decision"


def test_email_is_sent_only_after_commit(
    pending_org, pending_admin, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decide(pending_org, "approve", staff_user)
    # Queued for after commit, not sent inside the transaction.
    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_no_email_when_the_transaction_rolls_back(
    pending_org, staff_user, django_capture_on_commit_callbacks
):
    def approve_then_fail():
        with transaction.atomic():
            decide(pending_org, "approve", staff_user)
            raise RuntimeError("a later step of the same request failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        approve_then_fail()

    assert callbacks == []
    assert mail.outbox == []
    pending_org.refresh_from_db()
    assert pending_org.status == S.PENDING
    assert not AuditLog.objects.filter(action="organization.approve").exists()
    assert Notification.objects.count() == 0


def test_email_task_twice_sends_once(
    pending_org, pending_admin, staff_user, django_capture_on_commit_callbacks
):
    from marketplace.tasks import notification_email_task

    with django_capture_on_commit_callbacks(execute=True):
        decide(pending_org, "approve", staff_user)
    notice = Notification.objects.get(user=pending_admin)

    notification_email_task(notice.pk)
    notification_email_task(notice.pk)

    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.emailed_at is not None


def test_every_admin_of_the_organization_is_told(
    pending_org, pending_admin, unverified_member, staff_user, django_capture_on_commit_callbacks
):
    # unverified_member is a plain member of pending_org: plain members are not the applicant's contacts.
    with django_capture_on_commit_callbacks(execute=True):
        decide(pending_org, "request_documents", staff_user)
    assert list(Notification.objects.values_list("user", flat=True)) == [pending_admin.pk]


def test_resubmit_after_request_for_documents(pending_org, pending_admin, staff_user):
    decide(pending_org, "request_documents", staff_user)

    org = services.organization_resubmit(
        organization=pending_org, actor=pending_admin, note="Licence uploaded"
    )

    assert org.status == S.PENDING
    entry = AuditLog.objects.get(action="organization.resubmit")
    assert entry.actor == pending_admin
    assert entry.reason == "Licence uploaded"


def test_resubmit_of_a_verified_organization_is_refused(enterprise, enterprise_admin):
    with pytest.raises(ApplicationError):
        services.organization_resubmit(organization=enterprise, actor=enterprise_admin)
    enterprise.refresh_from_db()
    assert enterprise.status == S.VERIFIED
