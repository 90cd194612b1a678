from celery import shared_task
from django.db import OperationalError

from brokers import matching


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def match_records(kind: str, ids: list[int]) -> int:
    """Incremental matching after a demand or listing was published, edited or imported (queued after commit
    by ``brokers.hooks.records_changed``). Upserts on unique pairs: delivered twice, it writes once."""
    return matching.match_changed(kind=kind, ids=ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def rebuild_chunk_task(chunk_id: int) -> bool:
    """One chunk of a full rebuild; a chunk already done (delivered twice) is skipped."""
    from brokers.rebuild import rebuild_chunk

    return rebuild_chunk(chunk_id)


@shared_task
def rebuild_matches_task() -> int:
    """Beat, nightly: resume an unfinished rebuild (a worker died during it) or start a new one."""
    from brokers.rebuild import rebuild_start_or_resume

    return rebuild_start_or_resume()[0].pk


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def digest_send_due_task() -> int:
    """Beat, daily: yesterday's subscription digests, each user's at most once."""
    from brokers.digest import digest_send_due

    return digest_send_due()
