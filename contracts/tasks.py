from celery import shared_task
from django.db import OperationalError

from contracts import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def import_run_execute_task(run_id: int) -> None:
    """Import an uploaded CSV file. Running it twice is harmless: a finished run is left alone."""
    services.import_run_execute(run_id=run_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def annual_report_task(year: int | None = None) -> list[int]:
    """Store the annual report of ``year``, or of every year that needs it (nightly). Idempotent: an upsert."""
    from contracts import statistics

    years = [year] if year is not None else statistics.years_to_refresh()
    for each in years:
        statistics.snapshot_refresh(each)
    return years
