"""A real Celery worker consuming from Redis (STYLE §2.7): messages cross the broker, tasks load committed rows
by id, and a task delivered twice sends its e-mail once."""

import pytest
from django.core import mail
from django.db import transaction

from marketplace import services
from marketplace.celery import app as celery_app
from marketplace.models import Notification
from marketplace.tasks import notification_email_task
from tests.factories import EnterpriseFactory, NotificationFactory, UserFactory
from tests.integration.conftest import wait_until
from tests.integration.markers import requires_redis_broker

pytestmark = [pytest.mark.integration, requires_redis_broker, pytest.mark.django_db(transaction=True)]


def test_the_broker_answers():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)
        assert conn.transport.driver_type == "redis"


def test_worker_emails_a_committed_notification_and_a_second_run_sends_nothing(celery_worker):
    # given a committed notification whose e-mail has not gone out
    notification = NotificationFactory(user=UserFactory(email="chen@example.com"), subject="机构已通过审核")

    # when the task goes through Redis to the worker
    first = notification_email_task.delay(notification.pk)

    # then the worker sent exactly one e-mail and recorded it
    assert celery_worker.wait_for(first) == "SUCCESS"
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["chen@example.com"]
    assert "机构已通过审核" in mail.outbox[0].subject

    # when the same task is delivered again (a redelivery after a lost ack looks exactly like this)
    emailed_at = notification.emailed_at
    second = notification_email_task.delay(notification.pk)

    # then nothing more is sent
    assert celery_worker.wait_for(second) == "SUCCESS"
    notification.refresh_from_db()
    assert notification.emailed_at == emailed_at
    assert len(mail.outbox) == 1


def test_task_for_a_deleted_notification_is_a_quiet_no_op(celery_worker):
    notification = NotificationFactory()
    pk = notification.pk
    notification.delete()

    result = notification_email_task.delay(pk)

    assert celery_worker.wait_for(result) == "SUCCESS"
    assert mail.outbox == []


def test_notification_created_in_a_transaction_is_queued_after_commit(celery_worker):
    user = UserFactory(email="wu@example.com")

    with transaction.atomic():
        notification = services.notification_create(user=user, subject="新的揭榜方案", body="请查看。")
        # Nothing has reached the broker yet: the task is sent on commit.
        assert celery_worker.finished == {}

    wait_until(lambda: len(mail.outbox) == 1, message="the e-mail sent by the worker")
    celery_worker.wait_idle(1)
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert mail.outbox[0].to == ["wu@example.com"]


def test_approval_reaches_every_organization_admin_through_the_worker(celery_worker):
    # given a pending enterprise with two administrators
    first_admin, second_admin = UserFactory(), UserFactory()
    organization = EnterpriseFactory(pending=True, admins=[first_admin, second_admin], created_by=first_admin)
    staff = UserFactory(staff=True)

    # when an administrator approves it
    services.organization_decide(
        organization=organization, decision="approve", actor=staff, reason="核验一致。"
    )

    # then each organization admin gets one e-mail, sent by the worker
    wait_until(lambda: len(mail.outbox) == 2, message="two e-mails")
    celery_worker.wait_idle(2)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first_admin.email, second_admin.email])
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2
