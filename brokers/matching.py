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

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q

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

MATCHABLE_DEMAND_STATUSES = (DemandStatus.PUBLISHED,)
# Incremental matching updates the other side's lists for batches up to this size (see ``match_changed``).
PROPAGATE_AT_MOST = 50


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


def _cached(name: str, key: tuple, build) -> Corpus:
    cached = _corpora.get(name)
    if cached is not None and cached[0] == key:
        return cached[1]
    corpus = build()
    _corpora[name] = (key, corpus)
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


def _published_corpus(name: str, published, refresh, columns: tuple, to_record, analyzer: Analyzer) -> Corpus:
    """The corpus of ``published`` records (segmenting those never segmented), rebuilt when they changed."""
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
        return Corpus([to_record(*row) for row in rows.order_by("pk").iterator(chunk_size=5000)], analyzer)

    return _cached(name, key, build)


def listing_corpus(analyzer: Analyzer | None = None) -> Corpus:
    """Published listings with their segmented text."""
    return _published_corpus(
        "listings",
        Listing.objects.filter(status=ListingStatus.PUBLISHED),
        refresh_listing_texts,
        ("field_id", "sub_field_id", "region_id", "transfer_modes", "maturity", "owner_id"),
        lambda *row: _record(*row[:6], modes=frozenset(row[6] or ()), maturity=row[7] or "", owner_id=row[8]),
        analyzer or default_analyzer(),
    )


def demand_corpus(analyzer: Analyzer | None = None) -> Corpus:
    """Published demands, public text only (title and summary): what suppliers may read."""
    return _published_corpus(
        "demands",
        Demand.objects.filter(status__in=MATCHABLE_DEMAND_STATUSES),
        refresh_demand_texts,
        ("field_id", "sub_field_id", "region_id", "cooperation_mode", "owner_id"),
        lambda *row: _record(*row[:6], modes=frozenset([row[6]]) if row[6] else frozenset(), owner_id=row[7]),
        analyzer or default_analyzer(),
    )


def expert_corpus(analyzer: Analyzer | None = None) -> Corpus:
    analyzer = analyzer or default_analyzer()
    vetted = Expert.objects.filter(status=Expert.Status.VETTED)
    # Experts are few: checking every one's hash is cheap, and catches an edit of the expertise in the admin.
    refresh_expert_texts(list(vetted.values_list("pk", flat=True)), analyzer)
    key = (analyzer.version,) + tuple(vetted.aggregate(n=Count("pk"), changed=Max("updated_at")).values())

    def build() -> Corpus:
        rows = vetted.values_list("pk", "terms", "field_id", "sub_field_id", "region_id").order_by("pk")
        return Corpus([_record(pk, "", terms, *rest) for pk, terms, *rest in rows], analyzer)

    return _cached("experts", key, build)


# --- queries -------------------------------------------------------------------------------------------------


def demand_query(demand: Demand, *, with_details: bool) -> Record:
    text = DemandText.objects.filter(demand=demand).first()
    if text is None or text.text_hash != default_analyzer().text_hash(
        demand.title, demand.summary, demand.details
    ):
        refresh_demand_texts([demand.pk])
        text = DemandText.objects.get(demand=demand)
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


def listing_query(listing: Listing) -> Record:
    text = ListingText.objects.filter(listing=listing).first()
    if text is None:
        refresh_listing_texts([listing.pk])
        text = ListingText.objects.get(listing=listing)
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

    ``listings`` and ``experts``: the corpora, when the caller matches many demands with the same ones."""
    if demand.status not in MATCHABLE_DEMAND_STATUSES:
        for model, target in (
            (ListingMatch, "listing_id"),
            (SupplierMatch, "organization_id"),
            (ExpertMatch, "expert_id"),
        ):
            _store(model, {"demand": demand}, target, [])
        return {"listings": 0, "suppliers": 0, "experts": 0}
    query = demand_query(demand, with_details=True)
    corpus = listings or listing_corpus()
    # A supplier is ranked by its listings: more candidates than the listing top N, so that organizations
    # whose several listings each fit partly are seen.
    found = [
        m
        for m in corpus.rank(query, limit=max(top_n() * 5, 100))
        if corpus.records[corpus.position[m.id]].owner_id != demand.owner_id
    ]
    written = _store(ListingMatch, {"demand": demand}, "listing_id", found[: top_n()])
    suppliers = rank_suppliers(demand, corpus, found)
    written_suppliers = _store(SupplierMatch, {"demand": demand}, "organization_id", suppliers[: top_n()])
    ranked_experts = (experts or expert_corpus()).rank(query, limit=top_n())
    written_experts = _store(ExpertMatch, {"demand": demand}, "expert_id", ranked_experts)
    return {
        "listings": written["written"],
        "suppliers": written_suppliers["written"],
        "experts": written_experts["written"],
    }


def match_listing(listing: Listing, *, demands: Corpus | None = None) -> dict[str, int]:
    """Rank published demands (public text) for a published listing and store them; clears them otherwise."""
    if listing.status != ListingStatus.PUBLISHED:
        return _store(DemandMatch, {"listing": listing}, "demand_id", [])
    corpus = demands or demand_corpus()
    matches = [
        m
        for m in corpus.rank(listing_query(listing), limit=top_n() + 5)
        if corpus.records[corpus.position[m.id]].owner_id != listing.owner_id
    ]
    return _store(DemandMatch, {"listing": listing}, "demand_id", matches[: top_n()])


def match_changed(*, kind: str, ids: list[int]) -> int:
    """Incremental matching of records published, edited or imported: their own matches, and the lists of the
    records on the other side they fit — a new listing enters the matches of the demands it serves, a new
    demand the recommendations of the listings that fit it — without waiting for the nightly rebuild.

    A large batch (an interchange import sends 2,000 records at a time) gets its own matches only: updating
    the other side for each would recompute up to 20 records per record, and the nightly rebuild does that
    for all at once."""
    if kind == "demand":
        refresh_demand_texts(ids)
        records, others = Demand.objects.filter(pk__in=ids), Listing.objects.none()
    elif kind == "listing":
        refresh_listing_texts(ids)
        records, others = Listing.objects.filter(pk__in=ids), Demand.objects.none()
    else:
        raise ValueError(f"unknown record kind: {kind!r}")
    listings, demands, experts = listing_corpus(), demand_corpus(), expert_corpus()
    propagate = len(ids) <= PROPAGATE_AT_MOST
    for record in records:
        if kind == "demand":
            match_demand(record, listings=listings, experts=experts)
            if propagate:
                others |= Listing.objects.filter(demand_matches__demand=record)
        else:
            match_listing(record, demands=demands)
            if propagate:
                others |= Demand.objects.filter(
                    pk__in=DemandMatch.objects.filter(listing=record).values("demand_id")
                )
    for other in others.distinct():
        if kind == "demand":
            match_listing(other, demands=demands)
        else:
            match_demand(other, listings=listings, experts=experts)
    return len(ids)


def rank_suppliers(demand: Demand, corpus: Corpus, listing_matches: list[Match]) -> list[Match]:
    """Organizations by their best listing plus a share of their next ones, and their record of awards."""
    by_owner: dict[int, list[Match]] = defaultdict(list)
    for match in listing_matches:
        owner_id = corpus.records[corpus.position[match.id]].owner_id
        if owner_id is not None and owner_id != demand.owner_id:
            by_owner[owner_id].append(match)
    awards = dict(
        Proposal.objects.filter(supplier_id__in=by_owner, demand__field_id=demand.field_id)
        .values("supplier_id")
        .annotate(n=Count("pk", filter=Q(status=ProposalStatus.AWARDED)))
        .values_list("supplier_id", "n")
    )
    ranked = []
    for owner_id, matches in by_owner.items():
        matches.sort(key=lambda m: -m.score)
        score = matches[0].score + 0.25 * sum(m.score for m in matches[1:4])
        award_count = awards.get(owner_id, 0)
        score *= 1 + 0.05 * min(award_count, 4)
        ranked.append(
            Match(
                id=owner_id,
                score=round(score, 6),
                explanation={
                    "listings": [m.id for m in matches[:3]],
                    "shared_terms": matches[0].explanation.get("shared_terms", [])[:6],
                    "bridges": matches[0].explanation.get("bridges", [])[:2],
                    "same_field": matches[0].explanation.get("same_field", False),
                    "region": matches[0].explanation.get("region", "other"),
                    "awards_in_field": award_count,
                },
            )
        )
    ranked.sort(key=lambda m: (-m.score, m.id))
    return ranked


def _store(model, owner: dict, target: str, matches: list[Match]) -> dict[str, int]:
    """Upsert ``matches`` as rows of ``model`` for ``owner`` (e.g. {"demand": d}); delete the others. Rows
    whose score, rank and explanation are unchanged are not written, so a rerun writes nothing."""
    wanted = {m.id: (round(m.score, 6), rank, m.explanation) for rank, m in enumerate(matches, start=1)}
    with transaction.atomic():
        existing = {
            row[0]: row[1:]
            for row in model.objects.filter(**owner).values_list(target, "score", "rank", "explanation")
        }
        stale = set(existing) - set(wanted)
        if stale:
            model.objects.filter(**owner, **{f"{target}__in": stale}).delete()
        changed = [
            model(**owner, **{target: key}, score=score, rank=rank, explanation=explanation)
            for key, (score, rank, explanation) in wanted.items()
            if existing.get(key) != (score, rank, explanation)
        ]
        model.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=[*owner.keys(), target.removesuffix("_id")],
            update_fields=["score", "rank", "explanation", "computed_at"],
        )
    return {"written": len(changed), "deleted": len(stale)}
