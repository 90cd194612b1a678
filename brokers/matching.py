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


def top_n() -> int:
    return getattr(settings, "MATCHING_TOP_N", 20)


# --- segmented texts -----------------------------------------------------------------------------------------


def refresh_demand_texts(ids, analyzer: Analyzer | None = None) -> int:
    """Segment the demands among ``ids`` whose texts changed; returns how many were (re)segmented."""
    analyzer = analyzer or default_analyzer()
    stored = dict(DemandText.objects.filter(demand_id__in=ids).values_list("demand_id", "text_hash"))
    changed = []
    for pk, title, summary, details in Demand.objects.filter(pk__in=ids).values_list(
        "pk", "title", "summary", "details"
    ):
        text_hash = analyzer.text_hash(title, summary, details)
        if stored.get(pk) != text_hash:
            changed.append(
                DemandText(
                    demand_id=pk,
                    text_hash=text_hash,
                    title_terms=" ".join(analyzer.terms(title)),
                    body_terms=" ".join(analyzer.terms(summary)),
                    detail_terms=" ".join(analyzer.terms(details)),
                )
            )
    DemandText.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["demand"],
        update_fields=["text_hash", "title_terms", "body_terms", "detail_terms", "updated_at"],
    )
    return len(changed)


def refresh_listing_texts(ids, analyzer: Analyzer | None = None) -> int:
    analyzer = analyzer or default_analyzer()
    stored = dict(ListingText.objects.filter(listing_id__in=ids).values_list("listing_id", "text_hash"))
    changed = []
    for pk, title, summary, scenarios, details in Listing.objects.filter(pk__in=ids).values_list(
        "pk", "title", "summary", "scenarios", "details"
    ):
        text_hash = analyzer.text_hash(title, summary, scenarios, details)
        if stored.get(pk) != text_hash:
            changed.append(
                ListingText(
                    listing_id=pk,
                    text_hash=text_hash,
                    title_terms=" ".join(analyzer.terms(title)),
                    body_terms=" ".join(analyzer.terms(" ".join((summary, scenarios, details)))),
                )
            )
    ListingText.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["listing"],
        update_fields=["text_hash", "title_terms", "body_terms", "updated_at"],
    )
    return len(changed)


def refresh_expert_texts(ids=None, analyzer: Analyzer | None = None) -> int:
    analyzer = analyzer or default_analyzer()
    experts = Expert.objects.all() if ids is None else Expert.objects.filter(pk__in=ids)
    changed = []
    for expert in experts.only("pk", "expertise", "achievements", "title", "text_hash"):
        text_hash = analyzer.text_hash(expert.expertise, expert.achievements)
        if expert.text_hash != text_hash:
            expert.text_hash = text_hash
            expert.terms = " ".join(analyzer.terms(f"{expert.expertise} {expert.achievements}"))
            changed.append(expert)
    Expert.objects.bulk_update(changed, ["text_hash", "terms"])
    return len(changed)


# --- corpora -------------------------------------------------------------------------------------------------

_corpora: dict[str, tuple[tuple, Corpus]] = {}


def _cached(name: str, key: tuple, build) -> Corpus:
    cached = _corpora.get(name)
    if cached is not None and cached[0] == key:
        return cached[1]
    corpus = build()
    _corpora[name] = (key, corpus)
    return corpus


def listing_corpus(analyzer: Analyzer | None = None) -> Corpus:
    """Published listings with their segmented text (listings not yet segmented are segmented first)."""
    analyzer = analyzer or default_analyzer()
    published = Listing.objects.filter(status=ListingStatus.PUBLISHED)
    missing = list(published.filter(segmented__isnull=True).values_list("pk", flat=True))
    if missing:
        refresh_listing_texts(missing, analyzer)
    key = (analyzer.version,) + tuple(
        published.aggregate(
            n=Count("pk"), changed=Max("updated_at"), segmented=Max("segmented__updated_at")
        ).values()
    )

    def build() -> Corpus:
        rows = published.values_list(
            "pk",
            "segmented__title_terms",
            "segmented__body_terms",
            "field_id",
            "sub_field_id",
            "region_id",
            "transfer_modes",
            "maturity",
            "owner_id",
        ).order_by("pk")
        records = [
            Record(
                id=pk,
                title_terms=(title or "").split(),
                body_terms=(body or "").split(),
                field=field or "",
                sub_field=sub_field or "",
                region=region or "",
                modes=frozenset(modes or ()),
                maturity=maturity or "",
                owner_id=owner_id,
            )
            for pk, title, body, field, sub_field, region, modes, maturity, owner_id in rows.iterator(
                chunk_size=5000
            )
        ]
        return Corpus(records, analyzer)

    return _cached("listings", key, build)


def demand_corpus(analyzer: Analyzer | None = None) -> Corpus:
    """Published demands, public text only (title and summary): what suppliers may read."""
    analyzer = analyzer or default_analyzer()
    published = Demand.objects.filter(status__in=MATCHABLE_DEMAND_STATUSES)
    missing = list(published.filter(segmented__isnull=True).values_list("pk", flat=True))
    if missing:
        refresh_demand_texts(missing, analyzer)
    key = (analyzer.version,) + tuple(
        published.aggregate(
            n=Count("pk"), changed=Max("updated_at"), segmented=Max("segmented__updated_at")
        ).values()
    )

    def build() -> Corpus:
        rows = published.values_list(
            "pk",
            "segmented__title_terms",
            "segmented__body_terms",
            "field_id",
            "sub_field_id",
            "region_id",
            "cooperation_mode",
            "owner_id",
        ).order_by("pk")
        records = [
            Record(
                id=pk,
                title_terms=(title or "").split(),
                body_terms=(body or "").split(),
                field=field or "",
                sub_field=sub_field or "",
                region=region or "",
                modes=frozenset([mode]) if mode else frozenset(),
                owner_id=owner_id,
            )
            for pk, title, body, field, sub_field, region, mode, owner_id in rows.iterator(chunk_size=5000)
        ]
        return Corpus(records, analyzer)

    return _cached("demands", key, build)


def expert_corpus(analyzer: Analyzer | None = None) -> Corpus:
    analyzer = analyzer or default_analyzer()
    vetted = Expert.objects.filter(status=Expert.Status.VETTED)
    stale = list(vetted.filter(text_hash="").values_list("pk", flat=True))
    if stale:
        refresh_expert_texts(stale, analyzer)
    key = (analyzer.version,) + tuple(vetted.aggregate(n=Count("pk"), changed=Max("updated_at")).values())

    def build() -> Corpus:
        records = [
            Record(
                id=pk,
                title_terms=[],
                body_terms=(terms or "").split(),
                field=field or "",
                sub_field=sub_field or "",
                region=region or "",
            )
            for pk, terms, field, sub_field, region in vetted.values_list(
                "pk", "terms", "field_id", "sub_field_id", "region_id"
            ).order_by("pk")
        ]
        return Corpus(records, analyzer)

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


def match_demand(demand: Demand) -> dict[str, int]:
    """Rank listings, suppliers and experts for a published demand and store them; clears them otherwise."""
    if demand.status not in MATCHABLE_DEMAND_STATUSES:
        for model, target in (
            (ListingMatch, "listing_id"),
            (SupplierMatch, "organization_id"),
            (ExpertMatch, "expert_id"),
        ):
            _store(model, {"demand": demand}, target, [])
        return {"listings": 0, "suppliers": 0, "experts": 0}
    query = demand_query(demand, with_details=True)
    corpus = listing_corpus()
    # A supplier is ranked by its listings: more candidates than the listing top N, so that organizations
    # whose several listings each fit partly are seen.
    listings = corpus.rank(query, limit=max(top_n() * 5, 100))
    own = {m.id for m in listings if corpus.records[corpus.position[m.id]].owner_id == demand.owner_id}
    listings = [m for m in listings if m.id not in own]
    written = _store(ListingMatch, {"demand": demand}, "listing_id", listings[: top_n()])
    suppliers = rank_suppliers(demand, corpus, listings)
    written_suppliers = _store(SupplierMatch, {"demand": demand}, "organization_id", suppliers[: top_n()])
    experts = expert_corpus().rank(query, limit=top_n())
    written_experts = _store(ExpertMatch, {"demand": demand}, "expert_id", experts)
    return {
        "listings": written["written"],
        "suppliers": written_suppliers["written"],
        "experts": written_experts["written"],
    }


def match_listing(listing: Listing) -> dict[str, int]:
    """Rank published demands (public text) for a published listing and store them; clears them otherwise."""
    if listing.status != ListingStatus.PUBLISHED:
        return _store(DemandMatch, {"listing": listing}, "demand_id", [])
    corpus = demand_corpus()
    matches = [
        m
        for m in corpus.rank(listing_query(listing), limit=top_n() + 5)
        if corpus.records[corpus.position[m.id]].owner_id != listing.owner_id
    ]
    return _store(DemandMatch, {"listing": listing}, "demand_id", matches[: top_n()])


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
