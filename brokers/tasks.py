from celery import shared_task
from django.db import OperationalError

from brokers import matching
from demands.models import Demand
from listings.models import Listing


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def match_records(kind: str, ids: list[int]) -> int:
    """Incremental matching after a demand or listing was published, edited or imported (queued after commit
    by ``brokers.hooks.records_changed``). Upserts on unique pairs: delivered twice, it writes once."""
    if kind == "demand":
        matching.refresh_demand_texts(ids)
        records = Demand.objects.filter(pk__in=ids)
        for demand in records:
            matching.match_demand(demand)
    elif kind == "listing":
        matching.refresh_listing_texts(ids)
        records = Listing.objects.filter(pk__in=ids)
        for listing in records:
            matching.match_listing(listing)
    else:
        raise ValueError(f"unknown record kind: {kind!r}")
    return len(ids)
