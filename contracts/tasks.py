import logging

from celery import shared_task
from django.db import OperationalError

from contracts import services

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def import_run_execute_task(run_id: int) -> None:
    """Import an uploaded CSV file. Running it twice is harmless: a finished run is left alone."""
    services.import_run_execute(run_id=run_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def annual_report_task(year: int | None = None) -> list[int]:
    """Store the annual report of ``year``, or of every year that needs it (nightly). Idempotent: an upsert.

    The nightly run first checks each year's summary against the registrations it counts: a difference (a
    trigger disabled for a bulk load, a restore of the table without its summary) is logged as an error and
    repaired, so that the stored report is right either way (writers of registrations wait for the few
    seconds each check holds the summary's lock: 5–6 s for two national years). An on-demand refresh of one
    year trusts the summary, which the triggers keep; ``annual_report YEAR --verify`` checks one by hand.
    """
    from contracts import statistics

    years = [year] if year is not None else statistics.years_to_refresh()
    for each in years:
        if year is None:
            differences = statistics.summary_check(each, repair=True)
            if differences:
                logger.error(
                    "registration summary of %s and %s differed from the registrations in %d groups "
                    "(repaired), first: %s",
                    each,
                    each - 1,
                    len(differences),
                    differences[:5],
                )
        statistics.snapshot_refresh(each)
    return years
