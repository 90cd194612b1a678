"""The matching engine at market scale (SPEC §6): 200,000 listings and 60,000 demands on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_matching_bench \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/matching_scale.py --load

1. ``--load`` (or an empty database): replaces the benchmark's records with ``--listings`` published listings,
   ``--demands`` published demands and ``--experts`` vetted experts of realistic text (bench/matching_data.py).
2. **Full rebuild with ``--workers`` Celery workers** (default 2, each ``--pool solo``: one process doing the
   work, so its peak memory is the worker's): this process starts the workers on Redis, calls
   ``rebuild_start`` exactly as ``manage.py rebuild_matches`` does, and polls the run until it is finished;
   the workers share its chunks. Measured: the wall time of each phase (segmenting texts, matching), the rows
   written, and each worker's peak resident memory (VmHWM). Run twice: **cold** (no segmented text, no
   matches: everything computed and written) then **nightly** (texts and matches stored: everything computed,
   nothing re-segmented, only changed rows written).
3. **Matching one new demand, warm**: in this process, the corpora built once (their build time and this
   process's peak memory reported), then each demand of bench/matching_eval is created as a new published
   demand and ``match_demand`` run on it — segmentation, ranking of listings, suppliers and experts,
   explanations and the upserts of its rows; p50/p95 over ``--passes`` passes (the ranking alone reported
   too). The demands are deleted afterwards.

Writes ``bench/results/matching_scale-<time>.json``. Needs REDIS_URL (the workers' broker; a database number of
its own, which the benchmark purges).
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common  # bench/common.py (this directory is the script's first import path)

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/techmarket_matching_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def peak_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_workers(count: int) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        workers.append(
            subprocess.Popen(
                [
                    str(BASE_DIR / ".venv" / "bin" / "celery"),
                    "--quiet",
                    "-A",
                    "marketplace",
                    "worker",
                    "--pool",
                    "solo",
                    "--hostname",
                    f"bench{n}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=BASE_DIR,
                env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "False"},
            )
        )
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> list[float]:
    peaks = []
    for worker in workers:
        peaks.append(peak_mb(worker.pid) if worker.poll() is None else float("nan"))
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
    return peaks


def forget_everything() -> None:
    """No segmented text, no match: the state of a first rebuild."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE brokers_demandtext, brokers_listingtext, brokers_listingmatch, brokers_suppliermatch, "
            "brokers_expertmatch, brokers_demandmatch, brokers_rebuildrun CASCADE"
        )
        cursor.execute("UPDATE brokers_expert SET terms = '', text_hash = ''")


def rebuild(workers: int, chunk_size: int) -> dict:
    """One full rebuild shared by ``workers`` fresh worker processes, timed by phase."""
    from brokers import rebuild as rebuilding
    from brokers.models import DemandMatch, ExpertMatch, ListingMatch, SupplierMatch
    from marketplace.celery import app

    app.control.purge()
    processes = start_workers(workers)
    time.sleep(3)  # the workers connect before the first chunks are queued
    counts_before = [m.objects.count() for m in (ListingMatch, SupplierMatch, ExpertMatch, DemandMatch)]
    started = time.perf_counter()
    run = rebuilding.rebuild_start(chunk_size=chunk_size)
    phases, phase = {}, run.phase
    try:
        while True:
            time.sleep(0.5)
            run.refresh_from_db()
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a worker died")
            if run.phase != phase:
                phases[phase] = round(time.perf_counter() - started - sum(phases.values()), 1)
                phase = run.phase
            if run.finished_at is not None:
                break
    finally:
        elapsed = time.perf_counter() - started
        peaks = stop_workers(processes)
    counts = [m.objects.count() for m in (ListingMatch, SupplierMatch, ExpertMatch, DemandMatch)]
    return {
        "seconds": round(elapsed, 1),
        "phases_s": phases,
        "chunks": run.chunks.count(),
        "worker_peak_mb": [round(p) for p in peaks],
        "rows_before": sum(counts_before),
        "rows_after": sum(counts),
        "rows": dict(zip(("listing", "supplier", "expert", "demand"), counts, strict=True)),
    }


def latency(passes: int) -> dict:
    from django.utils import timezone

    from brokers import matching
    from brokers.text import default_analyzer
    from demands.models import Demand
    from marketplace.models import Organization, Region, TechnologyField

    analyzer = default_analyzer()
    started = time.perf_counter()
    listings = matching.listing_corpus(analyzer)
    listing_build_s = time.perf_counter() - started
    experts = matching.expert_corpus(analyzer)
    queries = []
    for path in sorted((BASE_DIR / "bench" / "matching_eval").glob("demands_*.jsonl")):
        queries += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    owner = Organization.objects.filter(name__startswith="基准", org_type="enterprise").first()
    fields = {f.code: f for f in TechnologyField.objects.filter(parent__isnull=True)}
    regions = {r.code: r for r in Region.objects.all()}
    full, ranking = [], []
    now = timezone.now()
    try:
        for _ in range(passes):
            for q in queries:
                demand = Demand.objects.create(
                    owner=owner,
                    created_by_id=owner.created_by_id,
                    title=q["title"],
                    summary=q["description"],
                    details="",
                    field=fields[q["field"]],
                    region=regions.get(str(q["region"])) or regions["330100"],
                    cooperation_mode=q.get("cooperation_mode") or "development",
                    deadline=now + timedelta(days=30),
                    status="published",
                    published_at=now,
                    external_ref=f"bench-mx-new-{len(full)}",
                )
                t0 = time.perf_counter()
                matching.match_demand(demand, listings=listings, experts=experts)
                full.append((time.perf_counter() - t0) * 1000)
                query = matching.demand_query(demand, with_details=True)
                t0 = time.perf_counter()
                listings.rank(query, limit=matching.top_n())
                ranking.append((time.perf_counter() - t0) * 1000)
    finally:
        Demand.objects.filter(external_ref__startswith="bench-mx-new-").delete()
    return {
        "listing_corpus_build_s": round(listing_build_s, 1),
        "documents": len(listings.records),
        "vocabulary": len(listings.vocabulary),
        "nonzeros": int(listings.matrix.nnz),
        "process_peak_mb": round(peak_mb()),
        "new_demands_matched": len(full),
        "match_demand_ms_p50": round(statistics.median(full), 1),
        "match_demand_ms_p95": round(percentile(full, 95), 1),
        "rank_listings_ms_p50": round(statistics.median(ranking), 1),
        "rank_listings_ms_p95": round(percentile(ranking, 95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true", help="(re)generate the records first")
    parser.add_argument("--listings", type=int, default=200_000)
    parser.add_argument("--demands", type=int, default=60_000)
    parser.add_argument("--experts", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument(
        "--rebuilds",
        default="cold,nightly",
        help="which rebuilds to time, in order: cold (forgets texts and matches first), nightly; '' for none",
    )
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    url = common.configure_environment(DEFAULT_DATABASE_URL, CELERY_TASK_ALWAYS_EAGER="False")
    common.ensure_database(url)
    import django

    django.setup()
    import matching_data
    from django.core.management import call_command

    from listings.models import Listing

    call_command("migrate", verbosity=0)
    result = {"machine": f"{platform.node()} ({os.cpu_count()} cores)", "database": url}
    if args.load or not Listing.objects.exists():
        result["load"] = matching_data.load(args.listings, args.demands, args.experts)
        print(json.dumps(result["load"]), flush=True)
    for name in filter(None, args.rebuilds.split(",")):
        if name == "cold":
            forget_everything()
        elif name != "nightly":
            parser.error(f"unknown rebuild {name!r}")
        result[f"rebuild_{name}"] = rebuild(args.workers, args.chunk_size)
        print(name, json.dumps(result[f"rebuild_{name}"]), flush=True)
    result["latency"] = latency(args.passes)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (RESULTS_DIR / f"matching_scale-{stamp}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
