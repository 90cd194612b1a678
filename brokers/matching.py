"""The matching engine on the platform's records (SPEC §6): segmented texts kept fresh, corpora built from them,
matches computed and stored idempotently.

- ``refresh_demand_texts`` / ``refresh_listing_texts`` segment only records whose text (or the vocabulary)
  changed since their stored ``text_hash``: a rebuild never re-segments unchanged text.
- ``listing_corpus`` / ``demand_corpus`` are built once per process and reused until the published records or
  their texts change (a cheap aggregate query tells).
- ``match_demand`` ranks listings, supplier organizations and experts for one demand; ``match_listing`` ranks
  published demands for one listing (from their public text only: suppliers see these). Both upsert on the
  unique pair and delete what fell out, writing only rows whose score, rank or explanation changed — so a
  rerun changes nothing.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import marshal
import os
import pickle
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count, Max, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from brokers import engine
from brokers.engine import Corpus, Match, Record
from brokers.models import (
    DemandMatch,
    DemandText,
    Expert,
    ExpertMatch,
    ListingMatch,
    ListingText,
    SupplierMatch,
)
from brokers.text import Analyzer, default_analyzer
from demands.models import Demand, DemandStatus, Proposal, ProposalStatus
from listings.models import Listing, ListingStatus

logger = logging.getLogger(__name__)

MATCHABLE_DEMAND_STATUSES = (DemandStatus.PUBLISHED,)
# The columns matching reads of a demand or listing: ``matchable_demands`` / ``matchable_listings`` load only
# these (not the keyword-search text and the rest of a long row).
DEMAND_COLUMNS = (
    "status",
    "title",
    "summary",
    "details",
    "field",
    "sub_field",
    "region",
    "cooperation_mode",
    "owner",
)
LISTING_COLUMNS = (
    "status", "title", "summary", "scenarios", "details", "field", "sub_field", "region", "transfer_modes", "maturity",
    "owner",
)  # fmt: skip


TEXT_COLUMNS = ("title", "summary", "scenarios", "details")


def matchable_demands(ids, *, with_texts: bool = True):
    """``with_texts`` False: without the raw texts, for a caller that checked them moments ago (a rebuild's
    texts phase): matching then takes the stored terms as they are (``_current_texts``)."""
    columns = DEMAND_COLUMNS if with_texts else [c for c in DEMAND_COLUMNS if c not in TEXT_COLUMNS]
    return Demand.objects.filter(pk__in=ids).only(*columns).order_by()


def matchable_listings(ids, *, with_texts: bool = True):
    columns = LISTING_COLUMNS if with_texts else [c for c in LISTING_COLUMNS if c not in TEXT_COLUMNS]
    return Listing.objects.filter(pk__in=ids).only(*columns).order_by()


# Fewer changed rows than this are written by one multi-row INSERT: a COPY's staging costs more round trips
# than it saves (a new demand's 60 rows), a rebuild chunk's thousands of rows go through COPY.
COPY_AT_LEAST = 500
# Incremental matching updates the other side's lists for batches up to this size (see ``match_changed``).
PROPAGATE_AT_MOST = 50


@contextmanager
def derived_writes():
    """A transaction for the engine's own rows (segmented texts, matches): derived data that the next match
    or rebuild recomputes. On PostgreSQL it commits without waiting for the WAL flush — a crash loses at most
    the last moments' recomputation, never a user's record — which takes a fsync (~10 ms here) off every
    incremental match. Nested uses join the outer transaction."""
    outermost = not connection.in_atomic_block
    # No savepoint when nested: a failed write of derived rows fails the whole batch, which is retried whole.
    with transaction.atomic(savepoint=outermost):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def top_n() -> int:
    return getattr(settings, "MATCHING_TOP_N", 20)


# --- segmented texts -----------------------------------------------------------------------------------------


def refresh_demand_texts(ids, analyzer: Analyzer | None = None) -> int:
    """Segment the demands among ``ids`` whose texts changed; returns how many were (re)segmented."""
    rows = Demand.objects.filter(pk__in=ids).values_list("pk", "title", "summary", "details")
    return _refresh_texts(
        DemandText,
        "demand",
        rows,
        lambda cut, title, summary, details: {
            "title_terms": cut(title),
            "body_terms": cut(summary),
            "detail_terms": cut(details),
        },
        analyzer,
    )


def refresh_listing_texts(ids, analyzer: Analyzer | None = None) -> int:
    rows = Listing.objects.filter(pk__in=ids).values_list("pk", "title", "summary", "scenarios", "details")
    return _refresh_texts(
        ListingText,
        "listing",
        rows,
        lambda cut, title, *body: {"title_terms": cut(title), "body_terms": cut(" ".join(body))},
        analyzer,
    )


def _refresh_texts(model, owner: str, rows, terms_of, analyzer: Analyzer | None) -> int:
    """Upsert ``model`` rows (one per ``owner`` record) for the records whose texts' hash changed."""
    analyzer = analyzer or default_analyzer()
    rows = list(rows)
    stored = dict(
        model.objects.filter(**{f"{owner}_id__in": [row[0] for row in rows]}).values_list(
            f"{owner}_id", "text_hash"
        )
    )

    def cut(text: str) -> str:
        return " ".join(analyzer.terms(text))

    changed, fields = [], []
    for pk, *texts in rows:
        text_hash = analyzer.text_hash(*texts)
        if stored.get(pk) != text_hash:
            terms = terms_of(cut, *texts)
            fields = list(terms)
            changed.append(model(**{f"{owner}_id": pk}, text_hash=text_hash, **terms))
    if changed:
        with derived_writes():
            model.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=[owner],
                update_fields=["text_hash", *fields, "updated_at"],
            )
    return len(changed)


def refresh_expert_texts(ids=None, analyzer: Analyzer | None = None) -> int:
    analyzer = analyzer or default_analyzer()
    experts = Expert.objects.all() if ids is None else Expert.objects.filter(pk__in=ids)
    changed = []
    for expert in experts.only("pk", "expertise", "achievements", "text_hash"):
        text_hash = analyzer.text_hash(expert.expertise, expert.achievements)
        if expert.text_hash != text_hash:
            expert.text_hash = text_hash
            expert.terms = " ".join(analyzer.terms(f"{expert.expertise} {expert.achievements}"))
            changed.append(expert)
    Expert.objects.bulk_update(changed, ["text_hash", "terms"])
    return len(changed)


# --- corpora -------------------------------------------------------------------------------------------------
# Each function checks (two queries) whether the records changed since the process built its corpus. Callers
# that match many records — a task, a rebuild chunk — get the corpora once and pass them on.

_corpora: dict[str, tuple[tuple, Corpus]] = {}
# name → the rebuild run whose chunks this process's corpus serves: see ``_published_corpus``.
_snapshots: dict[str, object] = {}


def _cached(name: str, key: tuple, build) -> Corpus:
    cached = _corpora.get(name)
    if cached is not None and cached[0] == key:
        return cached[1]
    return _keep(name, key, build())


def _keep(name: str, key: tuple, corpus: Corpus) -> Corpus:
    _corpora[name] = (key, corpus)
    # The corpus's records and vocabulary are millions of long-lived objects: out of the collector's sight, a
    # chunk's many short-lived matches and explanations no longer make every full collection walk them
    # (a rebuild chunk 20 % faster). Garbage first, so that none is frozen with them.
    gc.collect()
    gc.freeze()
    return corpus


def _record(pk, title, body, field, sub_field, region, **extra) -> Record:
    return Record(
        id=pk,
        title_terms=(title or "").split(),
        body_terms=(body or "").split(),
        field=field or "",
        sub_field=sub_field or "",
        region=region or "",
        **extra,
    )


def _published_corpus(
    name: str, published, refresh, columns: tuple, to_record, analyzer: Analyzer, snapshot=None
) -> Corpus:
    """The corpus of ``published`` records (segmenting those never segmented), rebuilt when they changed.

    ``snapshot`` (a rebuild run's id): the chunks of one run all rank against the corpus this process built
    for the run's first chunk, without the two checking queries, which over 200,000 records cost more than
    a chunk's ranking. Records published meanwhile are matched by their own incremental task."""
    if snapshot is not None and _snapshots.get(name) == snapshot and name in _corpora:
        return _corpora[name][1]
    if snapshot is not None and (shared := _load_shared(name, snapshot, analyzer)) is not None:
        _snapshots[name] = snapshot
        return _keep(name, *shared)
    missing = list(published.filter(segmented__isnull=True).values_list("pk", flat=True))
    if missing:
        refresh(missing, analyzer)
    key = (analyzer.version,) + tuple(
        published.aggregate(
            n=Count("pk"), changed=Max("updated_at"), segmented=Max("segmented__updated_at")
        ).values()
    )

    def build() -> Corpus:
        rows = published.values_list("pk", "segmented__title_terms", "segmented__body_terms", *columns)
        return Corpus((to_record(*row) for row in rows.order_by("pk").iterator(chunk_size=2000)), analyzer)

    corpus = _cached(name, key, build)
    if snapshot is not None:
        _snapshots[name] = snapshot
        _save_shared(name, snapshot, key, corpus)
    return corpus


# --- a rebuild's corpora shared between the worker processes of one machine ----------------------------------
# The process that builds a corpus for a rebuild run leaves it in a file; the machine's other workers load it
# in a second or two instead of building it again (the listings' corpus: 40 s). Only the run's own corpora are
# kept: saving one deletes the files of earlier runs.


def _shared_directory() -> Path:
    configured = getattr(settings, "MATCHING_CORPUS_DIR", "")
    directory = Path(configured or Path(tempfile.gettempdir()) / f"techmarket-corpora-{os.getuid()}")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Pickles are code: only a directory that this user alone can write to is trusted.
    info = directory.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise ImproperlyConfigured(f"{directory} must belong to this user and be writable by it alone")
    return directory


def _shared_prefix(name: str) -> str:
    # Runs are numbered per database: two databases on one machine (a test run's, a second site's) never
    # read each other's corpora.
    database = "".join(c if c.isalnum() else "_" for c in str(connection.settings_dict["NAME"]))
    return f"{name}-{database}-run"


def _shared_file(name: str, snapshot) -> Path:
    return _shared_directory() / f"{_shared_prefix(name)}{snapshot}.pickle"


@cache
def _engine_version() -> str:
    """The ranking code's own version: a corpus pickled by other code (a run resumed after a deploy) has other
    attributes, and is built again rather than loaded."""
    return hashlib.blake2b(Path(engine.__file__).read_bytes(), digest_size=8).hexdigest()


def _load_shared(name: str, snapshot, analyzer: Analyzer) -> tuple[tuple, Corpus] | None:
    """The run's corpus another process left, or None: none yet, another vocabulary or ranking code, or a
    file that does not load (the process then builds its own: sharing only saves time)."""
    path = _shared_file(name, snapshot)
    try:
        with path.open("rb") as file:
            code, key, corpus = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception:  # a damaged file: this process's own corpus is as good
        logger.warning("matching: cannot load the shared corpus %s", path, exc_info=True)
        path.unlink(missing_ok=True)  # the process that builds it shares it again
        return None
    if code != _engine_version() or key[0] != analyzer.version:
        path.unlink(missing_ok=True)
        return None
    corpus.analyzer = analyzer
    return key, corpus


def _save_shared(name: str, snapshot, key: tuple, corpus: Corpus) -> None:
    """Leave the run's corpus for the other processes, unless one did; a failure (a full disk) only costs
    them the time of building their own."""
    target = _shared_file(name, snapshot)
    if target.exists():
        return
    for earlier in target.parent.glob(f"{_shared_prefix(name)}*.pickle"):
        earlier.unlink(missing_ok=True)
    # Written aside and renamed: a reader finds the whole file or none.
    aside = None
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{name}-", delete=False) as file:
            aside = Path(file.name)
            pickle.dump((_engine_version(), key, corpus), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(aside, target)
    except OSError:
        if aside is not None:
            aside.unlink(missing_ok=True)
        logger.warning("matching: cannot share the corpus %s", target, exc_info=True)


def forget_shared(snapshot) -> None:
    """Delete a finished run's shared corpora (the workers keep theirs in memory)."""
    for name in ("listings", "demands"):
        _shared_file(name, snapshot).unlink(missing_ok=True)


@cache
def _modes(text: str | None) -> frozenset[str]:
    return frozenset(json.loads(text) or ()) if text else frozenset()


def listing_corpus(analyzer: Analyzer | None = None, *, snapshot=None) -> Corpus:
    """Published listings with their segmented text."""
    return _published_corpus(
        "listings",
        Listing.objects.filter(status=ListingStatus.PUBLISHED),
        refresh_listing_texts,
        # The modes as the column's text, parsed once per distinct value: a JSON field's converter costs
        # 30 µs a row, 6 s over 200,000 listings.
        (
            "field_id",
            "sub_field_id",
            "region_id",
            Cast("transfer_modes", TextField()),
            "maturity",
            "owner_id",
        ),
        lambda *row: _record(*row[:6], modes=_modes(row[6]), maturity=row[7] or "", owner_id=row[8]),
        analyzer or default_analyzer(),
        snapshot,
    )


def demand_corpus(analyzer: Analyzer | None = None, *, snapshot=None) -> Corpus:
    """Published demands, public text only (title and summary): what suppliers may read."""
    return _published_corpus(
        "demands",
        Demand.objects.filter(status__in=MATCHABLE_DEMAND_STATUSES),
        refresh_demand_texts,
        ("field_id", "sub_field_id", "region_id", "cooperation_mode", "owner_id"),
        lambda *row: _record(*row[:6], modes=frozenset([row[6]]) if row[6] else frozenset(), owner_id=row[7]),
        analyzer or default_analyzer(),
        snapshot,
    )


def expert_corpus(analyzer: Analyzer | None = None, *, snapshot=None) -> Corpus:
    if snapshot is not None and _snapshots.get("experts") == snapshot and "experts" in _corpora:
        return _corpora["experts"][1]
    analyzer = analyzer or default_analyzer()
    vetted = Expert.objects.filter(status=Expert.Status.VETTED)
    # Experts are few: checking every one's hash is cheap, and catches an edit of the expertise in the admin.
    refresh_expert_texts(list(vetted.values_list("pk", flat=True)), analyzer)
    key = (analyzer.version,) + tuple(vetted.aggregate(n=Count("pk"), changed=Max("updated_at")).values())

    def build() -> Corpus:
        rows = vetted.values_list("pk", "terms", "field_id", "sub_field_id", "region_id").order_by("pk")
        return Corpus([_record(pk, "", terms, *rest) for pk, terms, *rest in rows], analyzer)

    corpus = _cached("experts", key, build)
    if snapshot is not None:
        _snapshots["experts"] = snapshot
    return corpus


# --- queries -------------------------------------------------------------------------------------------------


def _current_texts(model, owner: str, records: list, texts_of, refresh, analyzer: Analyzer) -> dict:
    """The stored segmented text of each of ``records``, segmenting first those whose text changed since —
    or, for records loaded without their texts (``matchable_demands(ids, with_texts=False)``, whose caller
    checked them), those never segmented."""
    stored = _texts_by_owner(model, owner, [r.pk for r in records])
    if records and "title" in records[0].get_deferred_fields():
        stale = [r.pk for r in records if r.pk not in stored]
    else:
        stale = [
            r.pk
            for r in records
            if getattr(stored.get(r.pk), "text_hash", None) != analyzer.text_hash(*texts_of(r))
        ]
    if stale:
        refresh(stale, analyzer)
        stored.update(_texts_by_owner(model, owner, stale))
    return stored


def _texts_by_owner(model, owner: str, ids: list[int]) -> dict:
    return {getattr(row, f"{owner}_id"): row for row in model.objects.filter(**{f"{owner}_id__in": ids})}


def _demand_texts(demands: list[Demand], analyzer: Analyzer) -> dict[int, DemandText]:
    return _current_texts(
        DemandText,
        "demand",
        demands,
        lambda d: (d.title, d.summary, d.details),
        refresh_demand_texts,
        analyzer,
    )


def _listing_texts(listings: list[Listing], analyzer: Analyzer) -> dict[int, ListingText]:
    return _current_texts(
        ListingText,
        "listing",
        listings,
        lambda x: (x.title, x.summary, x.scenarios, x.details),
        refresh_listing_texts,
        analyzer,
    )


def demand_query(demand: Demand, *, with_details: bool, text: DemandText | None = None) -> Record:
    text = text or _demand_texts([demand], default_analyzer())[demand.pk]
    body = text.body_terms.split() + (text.detail_terms.split() if with_details else [])
    return Record(
        id=demand.pk,
        title_terms=text.title_terms.split(),
        body_terms=body,
        field=demand.field_id or "",
        sub_field=demand.sub_field_id or "",
        region=demand.region_id or "",
        modes=frozenset([demand.cooperation_mode]) if demand.cooperation_mode else frozenset(),
        owner_id=demand.owner_id,
    )


def listing_query(listing: Listing, *, text: ListingText | None = None) -> Record:
    text = text or _listing_texts([listing], default_analyzer())[listing.pk]
    return Record(
        id=listing.pk,
        title_terms=text.title_terms.split(),
        body_terms=text.body_terms.split(),
        field=listing.field_id or "",
        sub_field=listing.sub_field_id or "",
        region=listing.region_id or "",
        modes=frozenset(listing.transfer_modes or ()),
        maturity=listing.maturity,
        owner_id=listing.owner_id,
    )


# --- computing and storing -----------------------------------------------------------------------------------


def match_demand(
    demand: Demand, *, listings: Corpus | None = None, experts: Corpus | None = None
) -> dict[str, int]:
    """Rank listings, suppliers and experts for a published demand and store them; clears them otherwise.
    Returns how many rows of each kind were written."""
    return match_demands([demand], listings=listings, experts=experts)


def match_demands(
    demands,
    *,
    listings: Corpus | None = None,
    experts: Corpus | None = None,
) -> dict[str, int]:
    """``match_demand`` for many demands at once: their texts, the suppliers' award counts and the writes are
    each one query for the whole batch (a rebuild chunk), not one per demand.

    ``listings`` and ``experts``: the corpora, when the caller matches several batches with the same ones."""
    demands = list(demands)
    live = [d for d in demands if d.status in MATCHABLE_DEMAND_STATUSES]
    found_listings: dict[int, list[Match]] = {d.pk: [] for d in demands}
    found_suppliers: dict[int, list[Match]] = {d.pk: [] for d in demands}
    found_experts: dict[int, list[Match]] = {d.pk: [] for d in demands}
    if live:
        analyzer = default_analyzer()
        corpus = listings or listing_corpus(analyzer)
        experts = experts or expert_corpus(analyzer)
        texts = _demand_texts(live, analyzer)
        candidates, owner_of = {}, corpus.owner_by_id
        for demand in live:
            query = demand_query(demand, with_details=True, text=texts[demand.pk])
            weights = corpus.query_weights(query)  # the same for every corpus: they share the analyzer
            # A supplier is ranked by its listings: more candidates than the listing top N, so that
            # organizations whose several listings each fit partly are seen.
            found = [
                m
                for m in corpus.rank(query, limit=max(top_n() * 5, 100), explain=False, weights=weights)
                if owner_of[m.id] != demand.owner_id
            ]
            found_experts[demand.pk] = experts.rank(query, limit=top_n(), weights=weights)
            candidates[demand] = (query, weights, found)
        awards = _awards_in_field(
            {owner_of[m.id] for _, _, found in candidates.values() for m in found},
            {demand.field_id for demand in candidates},
        )
        for demand, (query, weights, found) in candidates.items():
            found_listings[demand.pk] = found[: top_n()]
            # The listings explained together with the suppliers' best ones (mostly the same listings).
            found_suppliers[demand.pk] = rank_suppliers(
                demand, corpus, query, found, awards, weights, explain_also=found_listings[demand.pk]
            )
    with derived_writes():
        return {
            "listings": _store(ListingMatch, "demand", "listing_id", found_listings)["written"],
            "suppliers": _store(SupplierMatch, "demand", "organization_id", found_suppliers)["written"],
            "experts": _store(ExpertMatch, "demand", "expert_id", found_experts)["written"],
        }


def match_listing(listing: Listing, *, demands: Corpus | None = None) -> dict[str, int]:
    """Rank published demands (public text) for a published listing and store them; clears them otherwise."""
    return match_listings([listing], demands=demands)


def match_listings(listings, *, demands: Corpus | None = None) -> dict[str, int]:
    """``match_listing`` for many listings at once (one query for the texts, one transaction of writes)."""
    listings = list(listings)
    live = [x for x in listings if x.status == ListingStatus.PUBLISHED]
    found: dict[int, list[Match]] = {x.pk: [] for x in listings}
    if live:
        analyzer = default_analyzer()
        corpus = demands or demand_corpus(analyzer)
        texts = _listing_texts(live, analyzer)
        for listing in live:
            query = listing_query(listing, text=texts[listing.pk])
            weights = corpus.query_weights(query)
            kept = [
                m
                for m in corpus.rank(query, limit=top_n() + 5, explain=False, weights=weights)
                if corpus.owner_by_id[m.id] != listing.owner_id
            ]
            found[listing.pk] = corpus.explain_matches(query, kept[: top_n()], weights)
    return _store(DemandMatch, "listing", "demand_id", found)


def match_changed(*, kind: str, ids: list[int]) -> int:
    """Incremental matching of records published, edited or imported: their own matches, and the lists of the
    records on the other side they fit — a new listing enters the matches of the demands it serves, a new
    demand the recommendations of the listings that fit it — without waiting for the nightly rebuild.

    A large batch (an interchange import sends 2,000 records at a time) gets its own matches only: updating
    the other side for each would recompute up to 20 records per record, and the nightly rebuild does that
    for all at once."""
    if kind not in ("demand", "listing"):
        raise ValueError(f"unknown record kind: {kind!r}")
    listings, demands, experts = listing_corpus(), demand_corpus(), expert_corpus()
    propagate = len(ids) <= PROPAGATE_AT_MOST
    if kind == "demand":
        match_demands(matchable_demands(ids), listings=listings, experts=experts)
        if propagate:
            others = Listing.objects.filter(demand_matches__demand_id__in=ids).distinct()
            match_listings(others, demands=demands)
    else:
        match_listings(matchable_listings(ids), demands=demands)
        if propagate:
            others = Demand.objects.filter(
                pk__in=DemandMatch.objects.filter(listing_id__in=ids).values("demand_id")
            )
            match_demands(others, listings=listings, experts=experts)
    return len(ids)


def _awards_in_field(supplier_ids: set[int], field_ids: set[str]) -> dict[tuple[int, str], int]:
    """(supplier, field) → how many of the supplier's proposals on demands of that field were awarded."""
    if not supplier_ids:
        return {}
    rows = (
        Proposal.objects.filter(
            supplier_id__in=supplier_ids, demand__field_id__in=field_ids, status=ProposalStatus.AWARDED
        )
        .values("supplier_id", "demand__field_id")
        .annotate(n=Count("pk"))
        .values_list("supplier_id", "demand__field_id", "n")
    )
    return {(supplier, field): n for supplier, field, n in rows}


def rank_suppliers(
    demand: Demand,
    corpus: Corpus,
    query: Record,
    listing_matches: list[Match],
    awards: dict | None = None,
    weights: dict[str, float] | None = None,
    explain_also: list[Match] = (),
) -> list[Match]:
    """The best ``top_n()`` organizations by their best listing plus a share of their next ones, and their
    record of awards. ``explain_also``: listing matches to explain in the same pass as the suppliers' best."""
    by_owner: dict[int, list[Match]] = defaultdict(list)
    owner_of = corpus.owner_by_id
    for match in listing_matches:
        owner_id = owner_of[match.id]
        if owner_id is not None and owner_id != demand.owner_id:
            by_owner[owner_id].append(match)
    if awards is None:
        awards = _awards_in_field(set(by_owner), {demand.field_id})
    ranked = []
    for owner_id, matches in by_owner.items():
        matches.sort(key=lambda m: -m.score)
        score = matches[0].score + 0.25 * sum(m.score for m in matches[1:4])
        award_count = awards.get((owner_id, demand.field_id), 0)
        score *= 1 + 0.05 * min(award_count, 4)
        ranked.append((round(score, 6), owner_id, matches, award_count))
    ranked.sort(key=lambda row: (-row[0], row[1]))
    corpus.explain_matches(
        query, [*explain_also, *(matches[0] for _, _, matches, _ in ranked[: top_n()])], weights
    )
    suppliers = []
    for score, owner_id, matches, award_count in ranked[: top_n()]:
        best = matches[0].explanation
        suppliers.append(
            Match(
                id=owner_id,
                score=score,
                explanation={
                    "listings": [m.id for m in matches[:3]],
                    "shared_terms": best.get("shared_terms", [])[:6],
                    "bridges": best.get("bridges", [])[:2],
                    "same_field": best.get("same_field", False),
                    "region": best.get("region", "other"),
                    "awards_in_field": award_count,
                },
            )
        )
    return suppliers


def fingerprint(score: float, rank: int, explanation: dict) -> int:
    """A 64-bit hash of a match row's content as computed: the engine builds explanations in a fixed order,
    so the same match always gives the same bytes to hash. ``marshal`` format 2 (half the time of ``repr``,
    millions of rows a rebuild) writes values only: the later formats write back-references to objects seen
    twice, which would make equal contents built differently hash differently."""
    digest = hashlib.blake2b(marshal.dumps((score, rank, explanation), 2), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _store(model, owner: str, target: str, results: dict[int, list[Match]]) -> dict[str, int]:
    """Store ``results`` ({owner id: matches in rank order}) as the rows of ``model`` whose ``owner`` (e.g.
    "demand") is one of those ids: upsert on the unique pair, delete the owner's other rows. Rows whose score,
    rank and explanation are unchanged — the same fingerprint — are not written, so a rerun writes nothing.
    One transaction."""
    owner_id = f"{owner}_id"
    wanted = {}
    for key, matches in results.items():
        for rank, m in enumerate(matches, start=1):
            score = round(m.score, 6)
            wanted[key, m.id] = (score, rank, m.explanation, fingerprint(score, rank, m.explanation))
    with derived_writes():
        existing, stale = {}, []
        # No ordering: the models' default one would join the owner's table to sort by it.
        rows = (
            model.objects.filter(**{f"{owner_id}__in": list(results)})
            .order_by()
            .values_list("pk", owner_id, target, "fingerprint")
        )
        if connection.vendor == "postgresql":
            # Through the unique pair's index, whatever the table's statistics say: during a rebuild they lag
            # millions of rows behind, and the planner then reads the whole table for every chunk (1.2 s for
            # a chunk's 10,000 rows of 4,000,000, instead of milliseconds).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
            rows = list(rows)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = on")
        for pk, key, other, stored in rows:
            if (key, other) in wanted:
                existing[key, other] = stored
            else:
                stale.append(pk)
        if stale:
            model.objects.filter(pk__in=stale).delete()
        changed = [
            (key, other, *values)
            for (key, other), values in wanted.items()
            if existing.get((key, other)) != values[3]
        ]
        if connection.vendor == "postgresql" and len(changed) >= COPY_AT_LEAST:
            _copy_upsert(model, owner, target, changed)
        else:
            model.objects.bulk_create(
                [
                    model(
                        **{owner_id: key, target: other},
                        score=score,
                        rank=rank,
                        explanation=explanation,
                        fingerprint=print_,
                    )
                    for key, other, score, rank, explanation, print_ in changed
                ],
                batch_size=2000,
                update_conflicts=True,
                unique_fields=[owner, target.removesuffix("_id")],
                update_fields=["score", "rank", "explanation", "fingerprint", "computed_at"],
            )
    return {"written": len(changed), "deleted": len(stale)}


def _copy_upsert(model, owner: str, target: str, rows: list[tuple]) -> None:
    """PostgreSQL: the rows (owner id, target id, score, rank, explanation, fingerprint) upserted through
    ``COPY`` into a temporary table and one ``INSERT … ON CONFLICT`` — half the cost of a multi-row
    ``INSERT`` built by the ORM, which a first rebuild pays for millions of rows."""
    if not rows:
        return
    table = model._meta.db_table
    owner_col, target_col = (
        model._meta.get_field(name).column for name in (owner, target.removesuffix("_id"))
    )
    stage = f"{table}_stage"
    now = timezone.now().isoformat()
    lines = []
    for key, other, score, rank, explanation, print_ in rows:
        # COPY's text format: JSON has no raw tab or newline (json.dumps escapes them), only backslashes to double.
        data = json.dumps(explanation, ensure_ascii=False).replace("\\", "\\\\")
        lines.append(f"{key}\t{other}\t{score!r}\t{rank}\t{data}\t{print_}\t{now}\n")
    columns = f"{owner_col}, {target_col}, score, rank, explanation, fingerprint, computed_at"
    with connection.cursor() as cursor:
        # Kept for the session (created once per connection), emptied after each use.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({owner_col} bigint, {target_col} bigint, score float8, "
            "rank integer, explanation jsonb, fingerprint bigint, computed_at timestamptz)"
        )
        cursor.cursor.copy_expert(f"COPY {stage} ({columns}) FROM STDIN", io.StringIO("".join(lines)))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} "
            f"ON CONFLICT ({owner_col}, {target_col}) DO UPDATE SET score = EXCLUDED.score, rank = EXCLUDED.rank, "
            "explanation = EXCLUDED.explanation, fingerprint = EXCLUDED.fingerprint, "
            "computed_at = EXCLUDED.computed_at"
        )
        cursor.execute(f"DELETE FROM {stage}")  # a TRUNCATE would replace the table's file each time
