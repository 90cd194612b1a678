from celery import shared_task
from django.core.mail import send_mail
from django.db import OperationalError

from marketplace import services
from marketplace.models import Notification

# SMTP failures are transient more often than not; retry them with backoff.
TRANSIENT = (OperationalError, OSError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def notification_email_task(notification_id: int) -> None:
    if notification := Notification.objects.select_related("user").filter(pk=notification_id).first():
        services.notification_send_email(notification=notification)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def email_send_task(subject: str, body: str, recipients: list[str]) -> None:
    send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)


@shared_task
def notification_email_backlog_task() -> int:
    """Catch notifications whose e-mail task was lost (broker down at commit time). Claims make reruns safe."""
    # 500 per run keeps one run well inside the time limit even with a slow SMTP relay.
    ids = list(
        Notification.objects.filter(send_email=True, emailed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        notification_email_task.delay(pk)
    return len(ids)


@shared_task
def invitation_expire_stale_task() -> int:
    return services.invitation_expire_stale()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def platform_kpis_task() -> list[str]:
    """Recompute and store the platform's figures of every scope. Idempotent: upserts of the same figures."""
    from marketplace import kpis

    return kpis.snapshot_refresh()
