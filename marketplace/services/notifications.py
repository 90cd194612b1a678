from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from marketplace.models import Notification


def bilingual_text(render) -> str:
    """Render ``render()`` in Chinese and in English and join the two, Chinese first.

    Platform e-mail goes to people whose language we do not know; every message carries both.
    """
    with translation.override("zh-hans"):
        zh = str(render())
    with translation.override("en"):
        en = str(render())
    return zh if zh == en else f"{zh}\n\n———\n\n{en}"


def bilingual_subject(render) -> str:
    with translation.override("zh-hans"):
        zh = str(render())
    with translation.override("en"):
        en = str(render())
    return zh if zh == en else f"{zh} / {en}"


def notification_create(
    *, user, subject: str, body: str, url: str = "", send_email: bool = True
) -> Notification:
    """Tell one user something, on the website and by e-mail after the surrounding transaction commits."""
    from marketplace import tasks

    notification = Notification.objects.create(
        user=user, subject=subject[:200], body=body, url=url, send_email=send_email
    )
    if send_email:
        tasks.notification_email_task.delay_on_commit(notification.pk)
    return notification


def notification_send_email(*, notification: Notification) -> bool:
    """Send the e-mail of a notification exactly once; returns False when it was already sent or not wanted.

    The conditional UPDATE is the claim: of two workers running this for one notification only one sends.
    """
    if not notification.send_email or not notification.user.email:
        return False
    claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if claimed != 1:
        return False
    body = notification.body
    if notification.url:
        link = (
            notification.url if notification.url.startswith("http") else settings.SITE_URL + notification.url
        )
        body = f"{body}\n\n{link}"
    try:
        send_mail(
            subject=settings.EMAIL_SUBJECT_PREFIX + notification.subject,
            message=body,
            from_email=None,
            recipient_list=[notification.user.email],
        )
    except Exception:
        # Release the claim so the retry (or the backlog task) sends it; then let the error surface.
        Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
        raise
    return True


def notification_mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def email_send(*, subject: str, body: str, recipients: list[str]) -> None:
    """Queue a transactional e-mail (account mail that is not a notification) for after commit."""
    from marketplace import tasks

    transaction.on_commit(lambda: tasks.email_send_task.delay(subject, body, recipients))
