"""How other apps tell the matching engine that records changed (SPEC §6: matches are recomputed when a demand
or listing is published or edited). Callers pass primary keys; the engine queues its work after the commit."""

from django.db import transaction


def records_changed(*, kind: str, ids: list[int]) -> None:
    """``kind`` is "demand" or "listing"; ``ids`` the records published, edited or imported.

    Queued after the surrounding transaction commits, so the job sees the committed rows. Until the engine's
    incremental job is wired in (issue 5), the scheduled full rebuild picks the records up."""
    if kind not in ("demand", "listing"):
        raise ValueError(f"unknown record kind: {kind!r}")
    ids = [int(pk) for pk in ids]
    if not ids:
        return
    transaction.on_commit(lambda: _queue(kind, ids))


def _queue(kind: str, ids: list[int]) -> None:
    try:
        from brokers import tasks
    except ImportError:  # the engine's tasks arrive with the matching capability
        return
    tasks.match_records.delay(kind, ids)
