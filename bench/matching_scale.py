"""The matching engine at market scale (issue 5): one new demand ranked against 200,000 listings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_interchange_bench .venv/bin/python bench/matching_scale.py

Uses the listings that ``bench/interchange_import.py`` leaves in its database (refuses a name without "bench"),
publishing them there if needed. Measures: segmenting and storing the listings' texts (``refresh_listing_texts``
in chunks, as the rebuild does), building the listing corpus (``listing_corpus``: the query of the rows, the
sparse BM25 matrix), the process's peak memory, then ``match`` latency warm — ``Corpus.rank`` for each demand of
bench/matching_eval used as a new demand (segmented first, as a new demand is), median and p95 over the
queries, repeated ``--passes`` times.
"""

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import common  # bench/common.py (this directory is the script's first import path)

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args()
    common.configure_environment("postgres://postgres@127.0.0.1:5432/techmarket_interchange_bench")
    import django

    django.setup()
    from brokers import matching
    from brokers.engine import Record
    from brokers.text import default_analyzer
    from listings.models import Listing, ListingStatus

    published = Listing.objects.filter(status=ListingStatus.PUBLISHED)
    if not published.exists():
        Listing.objects.update(status=ListingStatus.PUBLISHED)
    ids = list(published.order_by("pk").values_list("pk", flat=True))
    analyzer = default_analyzer()
    started = time.perf_counter()
    segmented = sum(
        matching.refresh_listing_texts(ids[i : i + args.chunk], analyzer)
        for i in range(0, len(ids), args.chunk)
    )
    segment_s = time.perf_counter() - started
    started = time.perf_counter()
    corpus = matching.listing_corpus(analyzer)
    build_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queries = []
    for line in (BASE_DIR / "bench" / "matching_eval").glob("demands_*.jsonl"):
        for raw in line.read_text(encoding="utf-8").splitlines():
            d = json.loads(raw)
            queries.append(
                (d["title"], d["description"], d["field"], str(d["region"]), d.get("cooperation_mode", ""))
            )
    timings = []
    for _ in range(args.passes):
        for title, description, field, region, mode in queries:
            started = time.perf_counter()
            query = Record(
                id=0,
                title_terms=analyzer.terms(title),
                body_terms=analyzer.terms(description),
                field=field,
                region=region,
                modes=frozenset([mode]) if mode else frozenset(),
            )
            corpus.rank(query, limit=20)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result = {
        "listings": len(ids),
        "segmented_now": segmented,
        "segment_and_store_s": round(segment_s, 1),
        "corpus_build_s": round(build_s, 1),
        "vocabulary": len(corpus.vocabulary),
        "nonzeros": int(corpus.matrix.nnz),
        "peak_rss_mb": round(peak_mb),
        "queries": len(timings),
        "match_ms_p50": round(statistics.median(timings), 1),
        "match_ms_p95": round(timings[int(len(timings) * 0.95) - 1], 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
