#!/usr/bin/env python
"""Benchmark of bidding on one auction lot through the API: 50 concurrent bidders against gunicorn + PostgreSQL.

    .venv/bin/python bench/auction_bids.py                      # 3 runs of the default gunicorn config
    .venv/bin/python bench/auction_bids.py --configs 2x1,4x1,8x1,2x4,4x2 --runs 1 --duration 20   # survey

What it does (issue 4: "sustained accepted bids per second on one lot with 50 concurrent bidders through the
API and p99 bid latency; target ≥ 200 bids/s and p99 ≤ 200 ms"):

1. drops and creates a dedicated PostgreSQL database (default ``techmarket_bench_auction``; it refuses any name
   without ``bench_auction``, since it drops it), applies the migrations, and seeds one verified owner
   university, 50 verified bidder enterprises each with one member and an API token;
2. starts ``gunicorn marketplace.wsgi`` on 127.0.0.1 for each ``--configs`` entry (``WxT``: W workers, T threads;
   T > 1 means the gthread worker, as does a ``g`` suffix: ``3x1g``) with DEBUG off, a generated secret key, persistent connections
   (``CONN_MAX_AGE``), the Redis cache (DRF's throttle lives there) and the API throttles raised so that no
   request is refused for its rate (the default 600/minute per user would not be reached either, but a raised
   rate keeps the benchmark independent of it);
3. per run: a fresh lot (a published listing, its public listing in status ``auction`` and a running auction),
   which the 50 bidders join through ``POST /api/v1/auctions/{id}/join/``; then, each phase with its own lot:
   - baselines through the same client and server: ``GET /healthz/`` (Django with one ``SELECT 1``: the fixed
     cost of a request) and ``GET /api/v1/me/`` with the token (DRF, token authentication, the throttle,
     two queries: the fixed cost of an authenticated API call), 50 clients back to back;
   - ``saturate``: the 50 bidders bid back to back (closed loop, no think time): the most accepted bids/s;
   - ``softclose``: the same on a lot ending inside the extension window, so every accepted bid moves the end;
   - ``paced``: the 50 bidders together offer ``--rate`` bids/s (default 200, the target), each on its own
     schedule; latency is counted from the scheduled send (no coordinated omission): p99 at the target load;
   - ``feedback`` (only when asked, ``--phases``): the naive bidder that bids the minimum it read in its own
     previous response plus 0–2 increments, to show how many bids a stale view gets refused;
   after each bid phase the database is checked against the responses: as many bids as 201 answers, the same
   ids, sequences 1..N without gaps, the price never falling, the auction row equal to the last bid, and every
   bid replayed through ``listings.auction_engine.place_bid`` giving the stored price, leader and end;
4. once, in this process: ``services.auction_bid`` called directly, sequentially, on one connection (the
   service without HTTP, Django's request cycle or concurrency);
5. prints per phase the medians over the runs, the ratios to the baselines and the CPU each part of the
   machine used per request, and writes everything to ``bench/results/auction_bids-<time>.json``.

Bidding plan (``clock``): a bidder's maximum is the reserve plus ``--rate-increments`` increments per second
since the phase began, so bids reach the auction's row lock in nearly ascending order, as in a lively auction
where every bidder tops what it last saw; a bid is refused only when two bids made later overtook it (the
proxy rule then leaves its maximum below the price). Each bid carries a fresh ``client_token``; a request whose
keep-alive connection the server had closed is retried once with the same token (the API is idempotent on it).

The load goes to 127.0.0.1 only, and is bounded in time (``--warmup`` + ``--duration`` per phase) and in count
(``--max-requests`` per phase). The machine is shared: the report gives the CPU used by others during each
phase.
"""

import argparse
import http.client
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/techmarket_bench_auction"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
HOST = "127.0.0.1"
BIDDERS = 50
RESERVE = Decimal("500000.00")
INCREMENT = Decimal("1000.00")
EXTENSION_MINUTES = 5
TICK = os.sysconf("SC_CLK_TCK")


# --- environment ---------------------------------------------------------------------------------------------


def configure_environment(args) -> None:
    parsed = urlparse(args.database_url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench: the database must be PostgreSQL, not {parsed.scheme!r}")
    name = parsed.path.lstrip("/")
    if "bench_auction" not in name:
        sys.exit(
            f"bench: refusing database {name!r}: this script drops it; use a name containing 'bench_auction'"
        )
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + secrets.token_hex(24))
    os.environ["CONN_MAX_AGE"] = str(args.conn_max_age)
    # Raised for the benchmark (the defaults are 120/minute anonymous and 600/minute per user).
    os.environ["API_THROTTLE_ANON"] = os.environ["API_THROTTLE_USER"] = "1000000/minute"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    # Eager Celery: nothing in the bid path sends a task, but nothing must wait for a broker either.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    sys.path.insert(0, str(BASE_DIR))


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    assert "bench_auction" in name
    conn = psycopg2.connect(
        dbname="postgres",
        user=parsed.username,
        password=parsed.password,
        host=parsed.hostname,
        port=parsed.port or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


# --- data ----------------------------------------------------------------------------------------------------


def seed(bidders: int) -> dict:
    """The owner university and ``bidders`` verified enterprises, each with a member and an API token."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from marketplace.management.commands.seed_demo import make_credit_code
    from marketplace.models import Membership, Organization, Region, User
    from marketplace.taxonomy import OrganizationType

    now = timezone.now()
    region = Region.objects.get(code="330100")
    with transaction.atomic():
        owner_user = User.objects.create(
            username="bench-owner", email="bench-owner@example.com", password="!", email_verified_at=now
        )
        owner = Organization.objects.create(
            name="基准理工大学",
            org_type=OrganizationType.UNIVERSITY,
            region=region,
            status=Organization.Status.VERIFIED,
            verified_at=now,
            created_by=owner_user,
        )
        Membership.objects.create(user=owner_user, organization=owner, role=Membership.Role.ADMIN)
        rows = []
        for n in range(bidders):
            user = User.objects.create(
                username=f"bench-bidder-{n:02d}",
                email=f"bench-bidder-{n:02d}@example.com",
                password="!",
                full_name=f"竞买人{n:02d}",
                email_verified_at=now,
            )
            organization = Organization.objects.create(
                name=f"基准杭州竞买精密制造有限公司{n:02d}",
                org_type=OrganizationType.ENTERPRISE,
                credit_code=make_credit_code(region_code="330100", serial=950_000 + n),
                region=region,
                status=Organization.Status.VERIFIED,
                verified_at=now,
                created_by=user,
            )
            Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
            rows.append(
                {
                    "organization": organization.pk,
                    "user": user.pk,
                    "token": Token.objects.create(user=user).key,
                }
            )
    return {"owner": owner.pk, "bidders": rows}


def make_lot(owner_id: int, *, label: str, minutes_left: float) -> int:
    """A published listing, its public listing in status auction and a running auction; returns the auction id."""
    from django.utils import timezone

    from listings import services
    from listings.models import Auction, Listing, PublicListing
    from marketplace.models import Organization

    owner = Organization.objects.get(pk=owner_id)
    listing = services.listing_create(
        owner=owner,
        actor=owner.created_by,
        title=f"一种注塑模具随形冷却水路的设计方法（{label}）",
        summary="随形冷却水路，成型周期缩短20%。",
        details="中试数据：周期由48秒降至37秒。",
        listing_type="invention_patent",
        patent_number="ZL202110358214.6",
        field="advanced_manufacturing",
        region="330100",
        maturity="pilot",
        transfer_modes=["transfer", "exclusive_license"],
        asking_price=RESERVE,
        inventors="王建国、李晓峰",
    )
    now = timezone.now()
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.PUBLISHED, published_at=now)
    public = PublicListing.objects.create(
        listing=listing,
        floor_price=RESERVE,
        increment=INCREMENT,
        starts_at=now - timedelta(days=21),
        ends_at=now - timedelta(days=1),
        status=PublicListing.Status.AUCTION,
        decided_at=now - timedelta(hours=1),
        created_by=owner.created_by,
    )
    end = now + timedelta(minutes=minutes_left)
    auction = Auction.objects.create(
        public_listing=public,
        reserve=RESERVE,
        increment=INCREMENT,
        starts_at=now - timedelta(minutes=1),
        scheduled_end=end,
        ends_at=end,
        extension_minutes=EXTENSION_MINUTES,
        status=Auction.Status.RUNNING,
    )
    return auction.pk


# --- HTTP client ---------------------------------------------------------------------------------------------


class Client:
    """One persistent HTTP/1.1 connection (http.client reopens it when the server answered Connection: close)."""

    def __init__(self, port: int, token: str | None = None):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Token {token}"
        self.retries = 0

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (0, 1):
            reused = self.conn.sock is not None
            try:
                self.conn.request(method, path, body, self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed between two requests: retry once on a new one
                # (safe for bids: the same client_token returns the bid already placed).
                self.conn.close()
                if attempt or not reused:
                    raise
                self.retries += 1
        raise AssertionError("unreachable")

    def close(self):
        self.conn.close()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def latency_summary(values: list[float]) -> dict:
    values = sorted(values)
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else float("nan"),
    }


# --- CPU accounting ------------------------------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def _machine_cpu() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def backend_pids() -> list[int]:
    """The PostgreSQL backends serving the benchmark database (the gunicorn workers' persistent connections)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def snapshot(self, postgres: list[int]) -> dict:
        workers = _children(self.server_pid) if self.server_pid else []
        busy, total = _machine_cpu()
        usage = os.times()
        return {
            "client": usage.user + usage.system,
            "gunicorn": sum(_proc_cpu(p) for p in workers)
            + (_proc_cpu(self.server_pid) if self.server_pid else 0),
            "postgres": {p: _proc_cpu(p) for p in postgres},
            "machine_busy": busy,
            "machine_total": total,
        }

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        # Backends that ended during the window (their /proc entry gone) are left out rather than subtracted.
        both = [p for p in before["postgres"] if p in after["postgres"] and after["postgres"][p]]
        d = {k: after[k] - before[k] for k in before if k != "postgres"}
        d["postgres"] = sum(after["postgres"][p] - before["postgres"][p] for p in both)
        d["others"] = d["machine_busy"] - d["client"] - d["gunicorn"] - d["postgres"]
        return d


# --- load ----------------------------------------------------------------------------------------------------


class Phase:
    """50 client threads, one connection each, for ``warmup`` + ``duration`` seconds (or ``max_requests``)."""

    def __init__(self, args, port: int, cpu: CpuMeter):
        self.args, self.port, self.cpu = args, port, cpu

    def run(
        self, name: str, clients: list, make_request, *, pace: float | None = None, on_window=None
    ) -> dict:
        """``make_request(i, n, state) -> (method, path, body)``; ``state`` is the per-client dict the response
        handler updates. ``pace``: requests per second offered by all clients together (None: back to back)."""
        args = self.args
        barrier = threading.Barrier(len(clients) + 1)
        records: list[list] = [[] for _ in clients]
        missed = [0] * len(clients)
        errors: list[str] = []
        count = [0]
        count_lock = threading.Lock()
        timing = {}

        def worker(i: int, client: Client):
            state = {}
            rng = random.Random(i)
            barrier.wait()
            start, stop = timing["start"], timing["stop"]
            period = len(clients) / pace if pace else 0.0
            next_at = start + rng.random() * period  # spread the bidders' schedules over one period
            n = 0
            while True:
                if pace:
                    now = time.perf_counter()
                    if next_at >= stop:
                        break
                    if now > stop + args.grace:
                        # Too far behind the schedule: the bids still due count as missed, not as sent.
                        missed[i] = math.ceil((stop - next_at) / period)
                        break
                    if next_at > now:
                        time.sleep(next_at - now)
                    scheduled = next_at
                    next_at += period
                else:
                    scheduled = time.perf_counter()
                    if scheduled >= stop:
                        break
                with count_lock:
                    if count[0] >= args.max_requests:
                        break
                    count[0] += 1
                method, path, body = make_request(i, n, state, start)
                sent = time.perf_counter()
                try:
                    status, payload = client.call(method, path, body)
                except Exception as exc:  # counted, never hidden
                    errors.append(f"{type(exc).__name__}: {exc}")
                    status, payload = 0, b""
                done = time.perf_counter()
                records[i].append((scheduled, sent, done, status, payload, body))
                state["last"] = (status, payload)
                n += 1

        threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        timing["start"] = time.perf_counter() + 0.2
        timing["window"] = timing["start"] + args.warmup
        timing["stop"] = timing["window"] + args.duration
        barrier.wait()
        # CPU is metered over the measured window only.
        time.sleep(max(0.0, timing["window"] - time.perf_counter()))
        postgres = backend_pids()
        before = self.cpu.snapshot(postgres)
        finish = on_window(timing["stop"] - time.perf_counter()) if on_window else None
        time.sleep(max(0.0, timing["stop"] - time.perf_counter()))
        after = self.cpu.snapshot(postgres)
        if finish:
            finish()
        for t in threads:
            t.join(timeout=120)
        if any(t.is_alive() for t in threads):
            raise SystemExit(f"bench: {name}: client threads still running 120 s after the end")
        return {
            "records": [r for per_client in records for r in per_client],
            "errors": errors,
            "retries": sum(c.retries for c in clients),
            "window": (timing["window"], timing["stop"]),
            "cpu": CpuMeter.delta(before, after),
            "max_requests_reached": count[0] >= args.max_requests,
            "missed": sum(missed),
        }


def summarize(name: str, raw: dict, *, paced: bool = False) -> dict:
    """Figures of the measured window: requests sent in it, latencies from the send (or from the schedule)."""
    start, stop = raw["window"]
    seconds = stop - start
    # Throughput: answers received inside the window. Latency: requests due (sent, or scheduled) inside it.
    completed = [r for r in raw["records"] if start <= r[2] < stop]
    measured = [r for r in raw["records"] if start <= r[0] < stop]
    statuses = Counter(r[3] for r in measured)
    codes = Counter()
    for r in measured:
        if r[3] == 400:
            try:
                codes[json.loads(r[4])["error"]["code"]] += 1
            except (ValueError, KeyError, TypeError):
                codes["?"] += 1
    ok = [r for r in measured if r[3] in (200, 201)]
    ms = [(r[2] - (r[0] if paced else r[1])) * 1000 for r in ok]
    all_ms = [(r[2] - (r[0] if paced else r[1])) * 1000 for r in measured]
    # A bid the client never got to send on schedule has no latency: it counts as infinitely late.
    ms += [math.inf] * raw["missed"]
    all_ms += [math.inf] * raw["missed"]
    cpu = raw["cpu"]
    requests = len(measured)
    ok_completed = sum(1 for r in completed if r[3] in (200, 201))
    return {
        "phase": name,
        "seconds": seconds,
        "requests": requests,
        "requests_per_s": len(completed) / seconds,
        "ok": len(ok),
        "ok_per_s": ok_completed / seconds,
        "accepted_share": len(ok) / requests if requests else float("nan"),
        "missed_sends": raw["missed"],
        "statuses": dict(statuses),
        "refusals": dict(codes),
        "non_400_errors": sum(n for s, n in statuses.items() if s not in (200, 201, 400))
        + len(raw["errors"]),
        "error_samples": raw["errors"][:5],
        "keepalive_retries": raw["retries"],
        "latency_ok_ms": latency_summary(ms),
        "latency_all_ms": latency_summary(all_ms),
        "latency_from": "schedule" if paced else "send",
        "cpu_seconds": cpu,
        "cpu_ms_per_request": {
            k: (cpu[k] * 1000 / len(completed) if completed else float("nan"))
            for k in ("client", "gunicorn", "postgres", "others")
        },
        "machine_busy_share": cpu["machine_busy"] / cpu["machine_total"]
        if cpu["machine_total"]
        else float("nan"),
        "max_requests_reached": raw["max_requests_reached"],
    }


# --- bidding -------------------------------------------------------------------------------------------------


def clock_bids(auction_id: int, rate_increments: float):
    """Maxima that rise with the clock: reserve + rate × increments per second since the phase began."""
    path = f"/api/v1/auctions/{auction_id}/bids/"
    per_second = INCREMENT * Decimal(str(rate_increments))

    def make(i, n, state, start):
        elapsed = Decimal(f"{time.perf_counter() - start:.6f}")
        maximum = (RESERVE + INCREMENT + per_second * max(elapsed, Decimal(0))).quantize(Decimal("0.01"))
        body = json.dumps({"maximum": str(maximum), "client_token": f"c{i:02d}-{n:06d}"}).encode()
        return "POST", path, body

    return make


def feedback_bids(auction_id: int):
    """The naive bidder: the minimum read from its own previous response, plus 0–2 increments."""
    path = f"/api/v1/auctions/{auction_id}/bids/"

    def make(i, n, state, start):
        minimum = state.get("minimum", RESERVE)
        last = state.get("last")
        if last is not None:
            status, payload = last
            try:
                data = json.loads(payload)
                if status == 201:
                    base = Decimal(data["maximum"] if data["leading"] else data["price_after"])
                    minimum = base + INCREMENT
                elif status == 400 and "minimum" in data["error"].get("details", {}):
                    minimum = Decimal(data["error"]["details"]["minimum"])
            except (ValueError, KeyError, TypeError):
                pass
        state["minimum"] = minimum
        maximum = minimum + INCREMENT * random.randint(0, 2)
        body = json.dumps({"maximum": f"{maximum:.2f}", "client_token": f"f{i:02d}-{n:06d}"}).encode()
        return "POST", path, body

    return make


def verify(auction_id: int, raw: dict) -> dict:
    """The database against the responses, and every stored bid replayed through the pure auction rules."""
    from listings.auction_engine import AuctionState, place_bid
    from listings.models import Auction, Bid

    accepted = {}
    for r in raw["records"]:
        if r[3] == 201:
            data = json.loads(r[4])
            accepted[data["id"]] = data
    auction = Auction.objects.get(pk=auction_id)
    bids = list(Bid.objects.filter(auction_id=auction_id).order_by("sequence"))
    problems = []
    if len(bids) != len(accepted):
        problems.append(f"{len(bids)} bids stored, {len(accepted)} accepted responses")
    if {b.pk for b in bids} != set(accepted):
        problems.append("the stored bid ids differ from the accepted responses' ids")
    if [b.sequence for b in bids] != list(range(1, len(bids) + 1)):
        problems.append("sequences are not 1..N without gaps")
    for b in bids:
        answer = accepted.get(b.pk)
        if answer and (answer["sequence"] != b.sequence or Decimal(answer["price_after"]) != b.price_after):
            problems.append(f"bid {b.pk}: the response and the row disagree")
            break
    prices = [b.price_after for b in bids]
    if any(later < earlier for earlier, later in zip(prices, prices[1:], strict=False)):
        problems.append("price_after falls somewhere")
    if auction.bid_count != len(bids):
        problems.append(f"auction.bid_count {auction.bid_count} != {len(bids)} bids")
    if bids and (
        auction.price != bids[-1].price_after
        or auction.leader_id != bids[-1].leader_after_id
        or auction.ends_at != bids[-1].ends_at_after
    ):
        problems.append("the auction row differs from its last bid")
    state = AuctionState(
        reserve=auction.reserve,
        increment=auction.increment,
        ends_at=auction.scheduled_end,
        extension=timedelta(minutes=auction.extension_minutes),
    )
    extensions = 0
    for b in bids:
        outcome = place_bid(state, bidder=b.bidder_id, maximum=b.maximum, at=b.placed_at)
        if not outcome.accepted or (outcome.state.price, outcome.state.leader, outcome.state.ends_at) != (
            b.price_after,
            b.leader_after_id,
            b.ends_at_after,
        ):
            problems.append(f"bid #{b.sequence} does not replay through the auction rules")
            break
        extensions += outcome.extended
        state = outcome.state
    return {
        "ok": not problems,
        "problems": problems,
        "bids": len(bids),
        "accepted_responses": len(accepted),
        "extensions": extensions,
        "final_price": str(auction.price),
        "ends_at_moved_by_s": (auction.ends_at - auction.scheduled_end).total_seconds(),
    }


def join_all(port: int, auction_id: int, bidders: list[dict]) -> None:
    for b in bidders:
        client = Client(port, b["token"])
        status, payload = client.call(
            "POST",
            f"/api/v1/auctions/{auction_id}/join/",
            json.dumps({"accept_terms": True, "organization": b["organization"]}).encode(),
        )
        client.close()
        if status != 201:
            raise SystemExit(f"bench: join answered {status}: {payload[:300]!r}")


# --- server --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(
    config: str, port: int, *, trace_dir: Path | None = None, variant: str = "current"
) -> subprocess.Popen:
    # "WxT" (T > 1: gthread), or "WxTg" for gthread even with one thread: unlike the sync worker it keeps
    # the client's connection open between requests.
    gthread = config.lower().endswith("g")
    workers, threads = (int(x) for x in config.lower().rstrip("g").split("x"))
    env = os.environ.copy()
    if trace_dir:
        env["BENCH_AUCTION_TRACE_DIR"] = str(trace_dir)
    if variant != "current":
        env["BENCH_AUCTION_VARIANT"] = variant
    command = [
        str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
        "bench.auction_wsgi:application" if trace_dir or variant != "current" else "marketplace.wsgi",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        *(["--worker-class", "gthread"] if gthread else []),
        "--bind",
        f"{HOST}:{port}",
        "--backlog",
        "2048",
        "--keep-alive",
        "30",
        "--worker-tmp-dir",
        "/dev/shm",
        "--log-level",
        "warning",
    ]
    log = open(RESULTS_DIR / f"gunicorn-{port}.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    process.command = command
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited with {process.returncode}; see {log.name}")
        try:
            client = Client(port)
            status, _ = client.call("GET", "/healthz/")
            client.close()
            if status == 200 and len(_children(process.pid)) >= workers:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit("bench: gunicorn did not answer /healthz/ within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the master stops its own workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- in-process baseline -------------------------------------------------------------------------------------


def inprocess_service(owner_id: int, bidders: list[dict], count: int) -> dict:
    """``services.auction_bid`` called directly, one bid after the other: the service's own cost."""
    from listings import services
    from listings.models import Auction
    from marketplace.models import Organization, User

    auction_id = make_lot(owner_id, label="in-process", minutes_left=24 * 60)
    auction = Auction.objects.get(pk=auction_id)
    orgs = [Organization.objects.get(pk=b["organization"]) for b in bidders]
    users = [User.objects.get(pk=b["user"]) for b in bidders]
    for org, user in zip(orgs, users, strict=True):
        services.auction_join(auction=auction, organization=org, actor=user)
    timings = []
    started = time.perf_counter()
    for n in range(count):
        k = n % len(orgs)
        t0 = time.perf_counter()
        services.auction_bid(
            auction=Auction(pk=auction_id),
            organization=Organization(pk=orgs[k].pk),
            actor=users[k],
            maximum=RESERVE + INCREMENT * 2 * (n + 1),
            client_token=f"p{n:06d}",
        )
        timings.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    return {"bids": count, "bids_per_s": count / elapsed, "latency_ms": latency_summary(timings)}


# --- orchestration -------------------------------------------------------------------------------------------


def trace_summary(trace_dir: Path, window: tuple[float, float]) -> dict:
    """What the instrumented workers (bench/auction_wsgi.py) recorded for the bids of the measured window."""
    start, stop = window
    rows = []
    for path in trace_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line being written
            if start <= row["t0"] < stop and row["path"].endswith("/bids/"):
                rows.append(row)
    if not rows:
        return {}
    out = {"requests": len(rows)}
    for key in ("total", "cpu", "sql", "n", "wait", "hold", "hold_sql", "commit", "rollback"):
        values = sorted(r[key] for r in rows if key in r)
        if values:
            out[key] = {
                "median": statistics.median(values),
                "p99": percentile(values, 99),
                "mean": statistics.fmean(values),
            }
    # The share of the window during which the auction row was locked: near 1, bids queue for the lock.
    out["row_locked_share"] = sum(r.get("hold", 0) for r in rows) / 1000 / (stop - start)
    return out


def py_spy(server_pid: int, directory: Path, label: str):
    """Sample every gunicorn worker with py-spy over the measured window (collapsed stacks, idle included)."""

    def start(seconds: float):
        directory.mkdir(parents=True, exist_ok=True)
        procs = []
        for pid in _children(server_pid):
            out = directory / f"{label}-{pid}.txt"
            command = [
                str(BASE_DIR / ".venv" / "bin" / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "--idle",
                "--output",
                str(out),
            ]
            procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def finish():
            for proc in procs:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()

        return finish

    return start


def wait_quiet(args) -> dict:
    """Wait (up to ``--quiet-timeout`` s) until the machine, with the benchmark idle, is busy below
    ``--quiet-below`` of its CPUs over 3 s: the machine is shared, and others' test runs move the figures."""
    started = time.time()
    while True:
        busy0, total0 = _machine_cpu()
        time.sleep(3)
        busy1, total1 = _machine_cpu()
        share = (busy1 - busy0) / max(1e-9, total1 - total0)
        waited = time.time() - started
        if share < args.quiet_below or waited >= args.quiet_timeout:
            return {"busy_share": share, "waited_s": round(waited, 1), "quiet": share < args.quiet_below}
        print(f"   (machine busy {share:.0%} with other work; waiting)", flush=True)


def one_run(args, port: int, cpu: CpuMeter, data: dict, run: int, *, config: str, trace_dir) -> dict:
    phase = Phase(args, port, cpu)
    results = {}
    bidders = data["bidders"]
    # Baselines first, through the same client threads and server.
    if "healthz" in args.phases:
        quiet = wait_quiet(args)
        clients = [Client(port) for _ in bidders]
        raw = phase.run("healthz", clients, lambda i, n, s, t: ("GET", "/healthz/", None))
        results["healthz"] = summarize("healthz", raw)
        results["healthz"]["before"] = quiet
        for c in clients:
            c.close()
    if "me" in args.phases:
        quiet = wait_quiet(args)
        clients = [Client(port, b["token"]) for b in bidders]
        raw = phase.run("me", clients, lambda i, n, s, t: ("GET", "/api/v1/me/", None))
        results["me"] = summarize("me", raw)
        results["me"]["before"] = quiet
        for c in clients:
            c.close()
    plans = {
        # A far end (the run never gets near it) and an end inside the extension window (every bid extends).
        "saturate": dict(minutes_left=24 * 60, pace=None, plan="clock"),
        "softclose": dict(minutes_left=EXTENSION_MINUTES / 2, pace=None, plan="clock"),
        "paced": dict(minutes_left=24 * 60, pace=args.rate, plan="clock"),
        "feedback": dict(minutes_left=24 * 60, pace=None, plan="feedback"),
    }
    for name, plan in plans.items():
        if name not in args.phases:
            continue
        auction_id = make_lot(data["owner"], label=f"run {run} {name}", minutes_left=plan["minutes_left"])
        join_all(port, auction_id, bidders)
        make = (
            clock_bids(auction_id, args.rate_increments)
            if plan["plan"] == "clock"
            else feedback_bids(auction_id)
        )
        clients = [Client(port, b["token"]) for b in bidders]
        quiet = wait_quiet(args)
        hook = None
        if args.py_spy and name in args.py_spy:
            hook = py_spy(cpu.server_pid, RESULTS_DIR / "py-spy", f"{config}-run{run + 1}-{name}")
        raw = phase.run(name, clients, make, pace=plan["pace"], on_window=hook)
        for c in clients:
            c.close()
        figures = summarize(name, raw, paced=plan["pace"] is not None)
        figures["auction"] = auction_id
        figures["before"] = quiet
        if trace_dir:
            figures["trace"] = trace_summary(trace_dir, raw["window"])
        figures["verified"] = verify(auction_id, raw)
        results[name] = figures
    return results


def print_phase(label: str, f: dict) -> None:
    lat = f["latency_ok_ms"]
    cpu = f["cpu_ms_per_request"]
    refusals = ", ".join(f"{k} {v}" for k, v in sorted(f["refusals"].items())) or "none"
    check = f.get("verified")
    print(
        f"  {label:<10} {f['ok_per_s']:7.1f} ok/s  {f['requests_per_s']:7.1f} req/s  "
        f"p50 {lat['p50']:6.1f}  p95 {lat['p95']:6.1f}  p99 {lat['p99']:6.1f} ms  "
        f"errors {f['non_400_errors']}  refused: {refusals}  "
        f"cpu ms/req client {cpu['client']:.2f} gunicorn {cpu['gunicorn']:.2f} postgres {cpu['postgres']:.2f} "
        f"others {cpu['others']:.2f}  others' CPU share {f['cpu_seconds']['others'] / f['cpu_seconds']['machine_total']:.0%}"
        + (f"  missed {f['missed_sends']}" if f["missed_sends"] else "")
        + (f"  check {'OK' if check['ok'] else 'FAILED ' + '; '.join(check['problems'])}" if check else ""),
        flush=True,
    )
    t = f.get("trace")
    if t:
        parts = [
            f"{k} {t[k]['median']:.2f}/{t[k]['p99']:.2f}"
            for k in ("total", "cpu", "sql", "wait", "hold", "hold_sql", "commit", "rollback")
            if k in t
        ]
        print(
            f"             in the worker (median/p99 ms): {', '.join(parts)}; "
            f"{t['n']['median']:.0f} statements; row locked {t['row_locked_share']:.0%} of the window",
            flush=True,
        )


def median_of(runs: list[dict], phase: str, path: tuple) -> float:
    values = []
    for r in runs:
        value = r.get(phase)
        if value is None:
            continue
        for key in path:
            value = value[key]
        values.append(value)
    return statistics.median(values) if values else float("nan")


def report(summary: dict, args) -> None:
    print()
    m = summary["machine"]
    print(
        f"{m['cpus']} CPUs, load average {m['load_average_before'][0]:.2f} before, {m['load_average_after'][0]:.2f} after"
    )
    inproc = summary.get("inprocess")
    if inproc:
        print(
            f"in-process service, sequential: {inproc['bids_per_s']:.0f} bids/s, "
            f"p50 {inproc['latency_ms']['p50']:.2f} ms, p99 {inproc['latency_ms']['p99']:.2f} ms"
        )
    print()
    print(
        "| gunicorn | phase | accepted/s | requests/s | accepted % | p50 ms | p95 ms | p99 ms | non-400 errors "
        "| ÷ healthz req/s | ÷ me req/s | client / gunicorn / postgres / others CPU ms per request |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for config, block in summary["configs"].items():
        runs = block["runs"]
        healthz = median_of(runs, "healthz", ("requests_per_s",))
        me = median_of(runs, "me", ("requests_per_s",))
        for phase in ("healthz", "me", "saturate", "softclose", "paced", "feedback"):
            if not any(phase in r for r in runs):
                continue
            ok = median_of(runs, phase, ("ok_per_s",))
            req = median_of(runs, phase, ("requests_per_s",))
            share = median_of(runs, phase, ("accepted_share",)) * 100
            p = {q: median_of(runs, phase, ("latency_ok_ms", q)) for q in ("p50", "p95", "p99")}
            errors = sum(r[phase]["non_400_errors"] for r in runs if phase in r)
            cpu = [
                median_of(runs, phase, ("cpu_ms_per_request", k))
                for k in ("client", "gunicorn", "postgres", "others")
            ]
            print(
                f"| {config} | {phase} | {ok:.0f} | {req:.0f} | {share:.0f} | {p['p50']:.1f} | {p['p95']:.1f} "
                f"| {p['p99']:.1f} | {errors} | {ok / healthz:.2f} | {ok / me:.2f} | "
                + " / ".join(f"{c:.2f}" for c in cpu)
                + " |"
            )
    print(
        f"\n(medians of {args.runs} run(s); accepted/s and latency of 200/201 answers; paced latency from the schedule)"
    )
    checks = [
        (config, i, phase, f["verified"])
        for config, block in summary["configs"].items()
        for i, r in enumerate(block["runs"])
        for phase, f in r.items()
        if "verified" in f
    ]
    failed = [c for c in checks if not c[3]["ok"]]
    print(f"database checks: {len(checks) - len(failed)} of {len(checks)} phases consistent")
    for config, i, phase, v in failed:
        print(f"  FAILED {config} run {i + 1} {phase}: {'; '.join(v['problems'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="dropped and recreated (must contain bench_auction)",
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="the cache (DRF throttle) of the server"
    )
    parser.add_argument(
        "--configs", default="4x1", help="gunicorn WORKERSxTHREADS, comma-separated (default 4x1)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per config; medians are reported (default 3)"
    )
    parser.add_argument(
        "--phases",
        default="healthz,me,saturate,softclose,paced",
        help="of healthz, me, saturate, softclose, paced, feedback (default all but feedback)",
    )
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds per phase (default 5)")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds per phase (default 30)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per phase (default 100,000)")
    parser.add_argument(
        "--rate", type=float, default=200, help="bids/s offered in the paced phase (default 200)"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=5,
        help="paced: seconds behind schedule before a client gives up (default 5)",
    )
    parser.add_argument(
        "--rate-increments", type=float, default=2000, help="clock plan: increments per second (default 2000)"
    )
    parser.add_argument(
        "--inprocess-bids", type=int, default=2000, help="bids of the in-process baseline (0: skip)"
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=0.25,
        help="machine busy share to wait for before a phase (default 0.25)",
    )
    parser.add_argument(
        "--quiet-timeout", type=float, default=300, help="longest wait for it, s (default 300)"
    )
    parser.add_argument(
        "--conn-max-age", type=int, default=600, help="CONN_MAX_AGE of the server (default 600)"
    )
    parser.add_argument(
        "--variant",
        choices=["current", "lean"],
        default="current",
        help="lean: serve the prototype of bench/auction_lean.py (the proposed bid path) instead of the project's",
    )
    parser.add_argument(
        "--instrument",
        action="store_true",
        help="serve bench.auction_wsgi (times each bid: lock wait, lock hold, SQL, commit, CPU)",
    )
    parser.add_argument(
        "--py-spy",
        default="",
        help="phases to sample with py-spy (pip install py-spy), e.g. saturate; stacks in bench/results/py-spy/",
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    args.py_spy = [p.strip() for p in args.py_spy.split(",") if p.strip()]

    configure_environment(args)
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    RESULTS_DIR.mkdir(exist_ok=True)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.time()
    call_command("migrate", verbosity=0)
    data = seed(BIDDERS)
    print(f"database ready (migrated and seeded) in {time.time() - started:.1f} s", flush=True)
    load_before = os.getloadavg()
    summary = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/auction_bids.py", *sys.argv[1:]]),
        "settings": {k: v for k, v in vars(args).items() if k not in ("database_url", "redis_url")},
        "data": {
            "bidders": BIDDERS,
            "reserve": str(RESERVE),
            "increment": str(INCREMENT),
            "extension_minutes": EXTENSION_MINUTES,
        },
        "configs": {},
    }
    try:
        for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
            port = args.port or free_port()
            trace_dir = Path(f"/dev/shm/auction-bench-{port}") if args.instrument else None
            server = start_server(config, port, trace_dir=trace_dir, variant=args.variant)
            print(
                f"gunicorn {config} on {HOST}:{port}: {' '.join(server.command[1:])}"
                + (f"  [variant {args.variant}]" if args.variant != "current" else ""),
                flush=True,
            )
            try:
                runs = []
                for run in range(args.runs):
                    print(f" run {run + 1}/{args.runs}", flush=True)
                    results = one_run(
                        args, port, CpuMeter(server.pid), data, run, config=config, trace_dir=trace_dir
                    )
                    for name, figures in results.items():
                        print_phase(name, figures)
                    runs.append(results)
                summary["configs"][config] = {"command": server.command, "runs": runs}
            finally:
                stop_server(server)
                if trace_dir:
                    shutil.rmtree(trace_dir, ignore_errors=True)
        if args.inprocess_bids:
            summary["inprocess"] = inprocess_service(data["owner"], data["bidders"], args.inprocess_bids)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server_version = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM listings_bid")
            summary["data"]["bids_in_table_at_end"] = cursor.fetchone()[0]
        summary["machine"] = {
            "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(),
            "postgres": server_version,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        }
        report(summary, args)
        path = RESULTS_DIR / f"auction_bids-{summary['measured_at'].replace(':', '')}.json"
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        print(f"\nwritten {path.relative_to(BASE_DIR)}")
    finally:
        connection.close()
        if not args.keep:
            recreate_database(args.database_url, drop_only=True)


if __name__ == "__main__":
    main()
