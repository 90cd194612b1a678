"""How other apps tell the matching engine that records changed (SPEC §6: matches are recomputed when a demand
or listing is published or edited). Callers pass primary keys; the engine queues its work after the commit."""


def records_changed(*, kind: str, ids: list[int]) -> None:
    """``kind`` is "demand" or "listing"; ``ids`` the records published, edited or imported.

    Queued after the surrounding transaction commits, so the job sees the committed rows."""
    if kind not in ("demand", "listing"):
        raise ValueError(f"unknown record kind: {kind!r}")
    ids = [int(pk) for pk in ids]
    if not ids:
        return
    from brokers import tasks  # here: the services that call this hook are imported by the tasks' modules

    tasks.match_records.delay_on_commit(kind, ids)
