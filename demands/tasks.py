from celery import shared_task
from django.db import OperationalError

from demands import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def demand_close_due_task() -> int:
    """Beat, every minute. Each close is a guarded UPDATE, so overlapping runs on several workers close once."""
    return services.demand_close_due()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def demand_expire_stale_task() -> int:
    return services.demand_expire_stale()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def proposal_remind_unanswered_task() -> int:
    return services.proposal_remind_unanswered()
