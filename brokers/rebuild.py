"""The full rebuild of the matches, in chunks that any number of Celery workers share (SPEC §6).

``rebuild_start`` creates a run and queues its text chunks; each chunk task does its work once (a chunk already
done is skipped) and then calls ``rebuild_advance``, which — under a lock on the run row, so that exactly one
worker does it — moves the run to the next phase when the last chunk of the current one is done and queues the
next chunks. Nothing waits for anything: with eager Celery (the embedded setup) the whole run completes inside
``rebuild_start``; with workers, ``rebuild_matches`` polls the run until it is finished.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from brokers import matching
from brokers.models import (
    DemandMatch,
    ExpertMatch,
    ListingMatch,
    RebuildChunk,
    RebuildRun,
    SupplierMatch,
)
from demands.models import Demand
from listings.models import Listing, ListingStatus

DEFAULT_CHUNK_SIZE = 500


def _published_ids(kind: str) -> list[int]:
    if kind == "demand":
        qs = Demand.objects.filter(status__in=matching.MATCHABLE_DEMAND_STATUSES)
    else:
        qs = Listing.objects.filter(status=ListingStatus.PUBLISHED)
    return list(qs.order_by("pk").values_list("pk", flat=True))


# Checking texts costs a few hundredths of a millisecond a record, against tens of milliseconds of a task's
# own cost: the texts phase takes chunks this many times larger.
TEXT_CHUNK_FACTOR = 4


# The matches phase queues the first demand chunk, then this many listing chunks, then the rest: while one
# worker builds the listings' corpus for its demand chunk (40 s at 200,000 listings), the others match
# listings, and by the time they reach a demand chunk the corpus waits for them in a file
# (``matching._load_shared``) instead of being built by each.
LISTING_LEAD = 40


def _create_chunks(run: RebuildRun, phase: str, size: int) -> list[RebuildChunk]:
    if phase == RebuildRun.Phase.TEXTS:
        size *= TEXT_CHUNK_FACTOR
    by_kind = {}
    for kind in ("demand", "listing"):
        ids = _published_ids(kind)
        by_kind[kind] = [
            RebuildChunk(run=run, phase=phase, kind=kind, number=number, ids=ids[start : start + size])
            for number, start in enumerate(range(0, len(ids), size))
        ]
    demands, listings = by_kind["demand"], by_kind["listing"]
    if phase == RebuildRun.Phase.MATCHES:
        chunks = demands[:1] + listings[:LISTING_LEAD] + demands[1:] + listings[LISTING_LEAD:]
    else:
        chunks = demands + listings
    return RebuildChunk.objects.bulk_create(chunks)


def _queue(chunk_ids: list[int]) -> None:
    from brokers import tasks

    for chunk_id in chunk_ids:
        tasks.rebuild_chunk_task.delay_on_commit(chunk_id)


def rebuild_start(*, chunk_size: int = DEFAULT_CHUNK_SIZE) -> RebuildRun:
    with transaction.atomic():
        run = RebuildRun.objects.create(chunk_size=chunk_size)
        chunks = _create_chunks(run, RebuildRun.Phase.TEXTS, chunk_size)
        if chunks:
            _queue([c.pk for c in chunks])
        else:
            transaction.on_commit(lambda: rebuild_advance(run.pk))
    run.refresh_from_db()
    return run


def rebuild_resume(run: RebuildRun) -> RebuildRun:
    """Queue again the undone chunks of an unfinished run (their workers died, or the broker lost them)."""
    with transaction.atomic():
        pending = list(run.chunks.filter(phase=run.phase, done_at__isnull=True).values_list("pk", flat=True))
        if pending:
            _queue(pending)
        else:
            transaction.on_commit(lambda: rebuild_advance(run.pk))
    run.refresh_from_db()
    return run


def rebuild_start_or_resume(
    *, chunk_size: int = DEFAULT_CHUNK_SIZE, new: bool = False
) -> tuple[RebuildRun, bool]:
    """Resume the unfinished run if there is one (unless ``new``), else start one; ``(run, resumed)``.

    Two callers at once — the nightly beat and an operator's command — queue on the lock of the newest run's
    row, so the second resumes the first's run instead of computing everything a second time."""
    with transaction.atomic():
        RebuildRun.objects.select_for_update().order_by("-pk").first()
        run = None if new else rebuild_unfinished()
        if run is None:
            return rebuild_start(chunk_size=chunk_size), False
        return rebuild_resume(run), True


def rebuild_unfinished() -> RebuildRun | None:
    return RebuildRun.objects.filter(finished_at__isnull=True).order_by("-pk").first()


def rebuild_chunk(chunk_id: int) -> bool:
    """Do one chunk; False when it was done already (a duplicate delivery) or its run is gone."""
    chunk = RebuildChunk.objects.filter(pk=chunk_id, done_at__isnull=True).first()
    if chunk is None:
        return False
    if chunk.phase == RebuildRun.Phase.TEXTS:
        if chunk.kind == "demand":
            matching.refresh_demand_texts(chunk.ids)
        else:
            matching.refresh_listing_texts(chunk.ids)
    # The texts phase checked every text: the matches phase reads the stored terms without the texts (records
    # edited since are matched again by their own incremental task).
    elif chunk.kind == "demand":
        listings = matching.listing_corpus(snapshot=chunk.run_id)
        experts = matching.expert_corpus(snapshot=chunk.run_id)
        matching.match_demands(
            matching.matchable_demands(chunk.ids, with_texts=False),
            listings=listings,
            experts=experts,
        )
    else:
        matching.match_listings(
            matching.matchable_listings(chunk.ids, with_texts=False),
            demands=matching.demand_corpus(snapshot=chunk.run_id),
        )
    # Matches are upserts, so a chunk done twice (two deliveries at once) writes the same rows; marking it
    # done is a guarded UPDATE, so the run advances once.
    marked = RebuildChunk.objects.filter(pk=chunk_id, done_at__isnull=True).update(done_at=timezone.now())
    if marked:
        rebuild_advance(chunk.run_id)
    return bool(marked)


def rebuild_advance(run_id: int) -> None:
    with transaction.atomic():
        run = RebuildRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.finished_at is not None:
            return
        if run.chunks.filter(phase=run.phase, done_at__isnull=True).exists():
            return
        if run.phase == RebuildRun.Phase.TEXTS:
            run.phase = RebuildRun.Phase.MATCHES
            run.save(update_fields=["phase"])
            chunks = _create_chunks(run, RebuildRun.Phase.MATCHES, run.chunk_size)
            if chunks:
                _queue([c.pk for c in chunks])
                return
        prune_matches()
        run.phase = RebuildRun.Phase.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["phase", "finished_at"])
    matching.forget_shared(run_id)


def prune_matches() -> dict[str, int]:
    """Delete matches that involve records no longer on the market.

    Found through the records that left (few, and each match's foreign key is indexed) rather than by
    checking every match against the records still there: after a rebuild the match tables hold millions of
    rows, and an anti-join over them took seconds per table."""
    gone_demands = Demand.objects.exclude(status__in=matching.MATCHABLE_DEMAND_STATUSES).values("pk")
    gone_listings = Listing.objects.exclude(status=ListingStatus.PUBLISHED).values("pk")
    return {
        "listing": ListingMatch.objects.filter(demand__in=gone_demands).delete()[0]
        + ListingMatch.objects.filter(listing__in=gone_listings).delete()[0],
        "supplier": SupplierMatch.objects.filter(demand__in=gone_demands).delete()[0],
        "expert": ExpertMatch.objects.filter(demand__in=gone_demands).delete()[0],
        "demand": DemandMatch.objects.filter(listing__in=gone_listings).delete()[0]
        + DemandMatch.objects.filter(demand__in=gone_demands).delete()[0],
    }
