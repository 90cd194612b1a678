from celery import shared_task
from django.db import OperationalError

from listings import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def public_listing_decide_due_task() -> int:
    """Beat. Each decision locks its public listing and is guarded on its status: reruns decide nothing twice."""
    return services.public_listing_decide_due()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def auction_close_due_task() -> int:
    return services.auction_close_due()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def publicity_certify_due_task() -> int:
    return services.publicity_certify_due()
