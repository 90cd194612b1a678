"""Throughput of the rebuild's chunk work in one process, stage by stage: the quick measure behind the full
rebuild of ``matching_scale.py`` (which takes ten minutes and the whole machine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_matching_bench \\
    .venv/bin/python bench/matching_chunks.py --demands 1000 --listings 2000 [--profile]

Uses the records ``matching_scale.py --load`` made. Builds the listing, expert and demand corpora (timed), then
runs ``match_demands`` and ``match_listings`` exactly as a rebuild chunk does, over chunks of ``--chunk-size``
records spread evenly over the published ids (the matches stored by an earlier rebuild make this the nightly
state: everything computed, only changed rows written). Reports milliseconds per record, median of
``--repeat`` rounds; ``--profile`` prints cProfile's 25 most expensive functions of one more round of each.
Writes nothing but matches the rebuild would write anyway, and reports how many rows each round wrote.
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import common  # bench/common.py

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/techmarket_matching_bench"


def spread(ids: list[int], count: int, size: int) -> list[list[int]]:
    """``count`` ids taken in runs of ``size`` consecutive ones, the runs spread over ``ids``: chunks as a
    rebuild makes them, from all over the table."""
    runs = max(1, count // size)
    step = max(size, len(ids) // runs)
    return [ids[start : start + size] for start in range(0, runs * step, step)][:runs]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demands", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    common.configure_environment(DEFAULT_DATABASE_URL)
    import django

    django.setup()
    from brokers import matching, rebuild
    from brokers.text import default_analyzer

    analyzer = default_analyzer()
    result = {"machine": f"{os.uname().nodename} ({os.cpu_count()} cores)", "load_before": os.getloadavg()}
    built = {}
    for name, build in (
        ("listings", matching.listing_corpus),
        ("experts", matching.expert_corpus),
        ("demands", matching.demand_corpus),
    ):
        started = time.perf_counter()
        built[name] = build(analyzer)
        result[f"{name}_corpus_s"] = round(time.perf_counter() - started, 1)
    demand_chunks = spread(rebuild._published_ids("demand"), args.demands, args.chunk_size)
    listing_chunks = spread(rebuild._published_ids("listing"), args.listings, args.chunk_size)

    def demands_round():
        written = 0
        for ids in demand_chunks:
            written += sum(
                matching.match_demands(
                    matching.matchable_demands(ids), listings=built["listings"], experts=built["experts"]
                ).values()
            )
        return written

    def listings_round():
        written = 0
        for ids in listing_chunks:
            written += matching.match_listings(matching.matchable_listings(ids), demands=built["demands"])[
                "written"
            ]
        return written

    for name, work, chunks in (
        ("demand", demands_round, demand_chunks),
        ("listing", listings_round, listing_chunks),
    ):
        records = sum(len(c) for c in chunks)
        times, cpu, written = [], [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            written.append(work())
            times.append((time.perf_counter() - started) * 1000 / records)
            cpu.append((time.process_time() - started_cpu) * 1000 / records)
        result[f"{name}_ms_each"] = round(statistics.median(times), 2)
        result[f"{name}_ms_rounds"] = [round(t, 2) for t in times]
        # This process's own CPU time (without PostgreSQL's): steadier than the wall time on a busy machine.
        result[f"{name}_cpu_ms_each"] = round(statistics.median(cpu), 2)
        result[f"{name}_records"] = records
        # Rows each round wrote: 0 when the stored matches are what this code computes (a rerun, or code that
        # ranks and explains exactly as the code that stored them did).
        result[f"{name}_rows_written"] = written
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(work)
            print(f"--- {name} chunks, {records} records", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    result["load_after"] = os.getloadavg()
    # The projection of a 2-worker rebuild from these figures, as docs/performance.md makes it.
    counts = {
        "demand": len(rebuild._published_ids("demand")),
        "listing": len(rebuild._published_ids("listing")),
    }
    result["projected_2_workers_s"] = round(
        (counts["demand"] * result["demand_ms_each"] + counts["listing"] * result["listing_ms_each"]) / 2000
        + result["listings_corpus_s"]
        + result["demands_corpus_s"],
        1,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
