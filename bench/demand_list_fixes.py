#!/usr/bin/env python
"""Measures candidate fixes of the demand list's SQL on the benchmark database (see bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_bench .venv/bin/python bench/demand_list_fixes.py

Run bench/demand_list.py first (it creates and fills the database). This script changes no code: it times the
queries the list issues today (count + page, built with the real selector and filter), then the same pages
with each candidate, creating the candidate indexes in the benchmark database only and dropping them at the
end (``--keep`` leaves them for a rerun of demand_list.py). Every figure is the median and p95 of
``--repeat`` executions after warm-up, SQL only (no HTTP, no serialization).

Candidates:
  index      B-tree (published_at DESC, id DESC) WHERE status IN (the public statuses): the list's ORDER BY
             walks it and stops after the page, instead of joining and sorting every public demand. A signed-in
             member's API list adds "OR owner_id IN (…)", which a partial index cannot serve: the plain
             index (same columns, no WHERE) is measured for that query;
  narrow     the list selects the columns the cards show, not details/search_text/NDA terms (.defer);
  ids-first  deep pages: fetch the page's ids with OFFSET over the narrow index, then the 20 rows by id;
  bigrams    2-character keywords (注塑, 模具, 废水…) cannot use the trigram index; a GIN index over the
             character bigrams of search_text serves them.
"""

import argparse
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demand_list as bench  # noqa: E402

DEFER = ("details", "search_text", "nda_terms", "status_reason", "owner__description", "owner__address")
CANDIDATE_INDEX = "bench_demand_public_recent_idx"
PLAIN_INDEX = "bench_demand_recent_idx"
BIGRAM_INDEX = "bench_demand_bigram_idx"


def timed(call, repeat: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50": statistics.median(timings), "p95": bench.percentile(timings, 95)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="leave the candidate indexes in the database")
    args = parser.parse_args()
    bench.configure_environment()
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.db import connection

    from demands.filters import DemandFilter
    from demands.models import PUBLIC_STATUSES
    from demands.selectors import demand_list_public, demand_list_visible_to
    from marketplace.models import User

    member = bench.signed_in_member()
    statuses = ", ".join(f"'{status}'" for status in PUBLIC_STATUSES)

    def member_page1():
        qs = demand_list_visible_to(user=User.objects.get(pk=member.pk)).order_by("-published_at", "-id")
        return list(qs[:20])

    def listing(params: dict):
        return DemandFilter(params, queryset=demand_list_public()).qs.order_by("-published_at", "-id")

    public_count = listing({}).count()
    last_offset = (math.ceil(public_count / 20) - 1) * 20
    pages = {
        "unfiltered p1": ({}, 0),
        "unfiltered p200": ({}, 199 * 20),
        "unfiltered last": ({}, last_offset),
        "field+province+keyword p1": (bench.FILTERS, 0),
        "field+province+2-char keyword p1": (bench.SHORT_KEYWORD_FILTERS, 0),
    }

    def page_current(params, offset):
        return lambda: list(listing(params)[offset : offset + 20])

    def page_narrow(params, offset):
        return lambda: list(listing(params).defer(*DEFER)[offset : offset + 20])

    def page_ids_first(params, offset):
        def call():
            ids = list(listing(params).values_list("pk", flat=True)[offset : offset + 20])
            rows = demand_list_public().defer(*DEFER).in_bulk(ids)
            return [rows[pk] for pk in ids]

        return call

    def count(params):
        return lambda: listing(params).count()

    def execute(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    rows = []
    load_before = os.getloadavg()[0]

    def record(variant: str, label: str, call) -> None:
        figures = timed(call, args.repeat)
        rows.append((variant, label, figures))
        print(
            f"{variant:<28} {label:<36} p50 {figures['p50']:7.1f}  p95 {figures['p95']:7.1f} ms", flush=True
        )

    for index in (CANDIDATE_INDEX, PLAIN_INDEX, BIGRAM_INDEX):
        execute(f"DROP INDEX IF EXISTS {index}")
    execute("VACUUM ANALYZE demands_demand")  # sets the visibility map, as autovacuum does in production
    for label, (params, offset) in pages.items():
        record("today: count", label, count(params))
        record("today: page", label, page_current(params, offset))
        record("narrow: page", label, page_narrow(params, offset))
    record("today: page", "signed-in member (API), p1", member_page1)

    execute(f"CREATE INDEX {PLAIN_INDEX} ON demands_demand (published_at DESC, id DESC)")
    execute("VACUUM ANALYZE demands_demand")
    record("plain index: page", "signed-in member (API), p1", member_page1)
    record("plain index: page", "unfiltered p1", page_current({}, 0))
    execute(f"DROP INDEX {PLAIN_INDEX}")

    execute(
        f"CREATE INDEX {CANDIDATE_INDEX} ON demands_demand (published_at DESC, id DESC) "
        f"WHERE status IN ({statuses})"
    )
    execute("VACUUM ANALYZE demands_demand")
    for label, (params, offset) in pages.items():
        record("index: count", label, count(params))
        record("index: page", label, page_current(params, offset))
        record("index+narrow: page", label, page_narrow(params, offset))
        if offset:
            record("index+ids-first: page", label, page_ids_first(params, offset))

    # Bigrams of the lower-cased text; the LIKE stays as the exact check (a bigram match is necessary, not
    # sufficient, for terms longer than two characters).
    execute(
        "CREATE OR REPLACE FUNCTION bench_bigrams(text) RETURNS text[] IMMUTABLE PARALLEL SAFE LANGUAGE sql AS "
        "$$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}') "
        "FROM generate_series(1, char_length($1) - 1) AS i $$"
    )
    started = time.perf_counter()
    execute(f"CREATE INDEX {BIGRAM_INDEX} ON demands_demand USING gin (bench_bigrams(search_text))")
    print(f"bigram index built in {time.perf_counter() - started:.1f} s")
    execute("ANALYZE demands_demand")
    params = bench.SHORT_KEYWORD_FILTERS

    def with_bigrams(qs):
        return qs.extra(where=["bench_bigrams(search_text) @> %s"], params=[[params["q"]]])

    record(
        "bigrams: count", "field+province+2-char keyword p1", lambda: with_bigrams(listing(params)).count()
    )
    record(
        "bigrams+narrow: page",
        "field+province+2-char keyword p1",
        lambda: list(with_bigrams(listing(params)).defer(*DEFER)[:20]),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size(%s)), pg_size_pretty(pg_relation_size(%s)), "
            "pg_size_pretty(pg_relation_size('demand_search_trgm_idx'))",
            [CANDIDATE_INDEX, BIGRAM_INDEX],
        )
        sizes = cursor.fetchone()
    print(f"index sizes: recent {sizes[0]}, bigram {sizes[1]}, trigram (today) {sizes[2]}")
    if not args.keep:
        for index in (CANDIDATE_INDEX, BIGRAM_INDEX):
            execute(f"DROP INDEX IF EXISTS {index}")
        execute("DROP FUNCTION IF EXISTS bench_bigrams(text)")

    print(
        f"\n{public_count:,} public demands; SQL only, {args.repeat} runs each after 3 warm-up runs; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print("| variant | page | p50 ms | p95 ms |")
    print("| --- | --- | ---: | ---: |")
    for variant, label, figures in rows:
        print(f"| {variant} | {label} | {figures['p50']:.1f} | {figures['p95']:.1f} |")


if __name__ == "__main__":
    main()
