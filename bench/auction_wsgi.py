"""The project's WSGI application as ``bench/auction_bids.py --instrument`` and ``--variant lean`` serve it.

Served as ``gunicorn bench.auction_wsgi:application``. Changes no file of the project. With
``BENCH_AUCTION_VARIANT=lean`` it first installs the prototype of ``bench/auction_lean.py`` (in memory, in the
worker). With ``BENCH_AUCTION_TRACE_DIR`` set it wraps the application and, for every request, records in the
worker process (one JSON line per request, in that directory):

- ``total``: the application's time for the request (from the WSGI call to the response built), ms;
- ``cpu``: the CPU time of the serving thread over the same span (``time.thread_time``), ms;
- ``sql`` and ``n``: the time spent in, and the number of, SQL statements (``connection.execute_wrapper``);
- for a bid, ``wait``: the ``SELECT … FOR UPDATE`` of the auction row, from sending it to its answer (the round
  trip plus the wait for the row lock), and ``hold``: from that answer to the end of the ``COMMIT`` (the time
  the row stays locked: every other bid on the lot waits for it), of which ``hold_sql`` in SQL statements and
  ``commit`` in the commit itself (the WAL flush), or ``rollback`` for a refused bid.

Timestamps are ``time.perf_counter()`` (CLOCK_MONOTONIC, the same in every process of the machine), so the
benchmark can keep the requests of its measured window.
"""

import json
import os
import threading
import time

from django.db import connection
from django.db.backends.base import base as db_base

from marketplace.wsgi import application as project_application

if os.environ.get("BENCH_AUCTION_VARIANT") == "lean":
    from bench.auction_lean import install

    install()

TRACING = bool(os.environ.get("BENCH_AUCTION_TRACE_DIR"))

_local = threading.local()
_files: dict[int, object] = {}
_files_lock = threading.Lock()


def _out():
    pid = os.getpid()
    f = _files.get(pid)
    if f is None:
        with _files_lock:
            f = _files.get(pid)
            if f is None:
                directory = os.environ["BENCH_AUCTION_TRACE_DIR"]
                os.makedirs(directory, exist_ok=True)
                f = open(os.path.join(directory, f"{pid}.jsonl"), "a", buffering=1)  # noqa: SIM115
                _files[pid] = f
    return f


def _timed(original, outcome):
    def wrapper(self):
        trace = getattr(_local, "trace", None)
        started = time.perf_counter()
        try:
            return original(self)
        finally:
            if trace is not None:
                trace["end"] = (started, time.perf_counter(), outcome)

    return wrapper


# The end of the transaction that holds the auction row: a commit (accepted bid) or a rollback (refused bid).
db_base.BaseDatabaseWrapper._commit = _timed(db_base.BaseDatabaseWrapper._commit, "commit")
db_base.BaseDatabaseWrapper._rollback = _timed(db_base.BaseDatabaseWrapper._rollback, "rollback")


def _timed_execute(execute, sql, params, many, context):
    trace = _local.trace
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        ended = time.perf_counter()
        trace["queries"].append((started, ended, "FOR UPDATE" in sql))


def application(environ, start_response):
    if not TRACING:
        return project_application(environ, start_response)
    trace = {"queries": [], "end": None}
    _local.trace = trace
    started, cpu_started = time.perf_counter(), time.thread_time()
    try:
        with connection.execute_wrapper(_timed_execute):
            response = project_application(environ, start_response)
    finally:
        ended, cpu_ended = time.perf_counter(), time.thread_time()
        _local.trace = None
        queries = trace["queries"]
        record = {
            "path": environ.get("PATH_INFO", ""),
            "method": environ.get("REQUEST_METHOD", ""),
            "t0": started,
            "t1": ended,
            "total": (ended - started) * 1000,
            "cpu": (cpu_ended - cpu_started) * 1000,
            "sql": sum(e - s for s, e, _ in queries) * 1000,
            "n": len(queries),
        }
        locking = [q for q in queries if q[2]]
        if locking and trace["end"]:
            lock_start, locked_at, _ = locking[0]
            end_start, end_end, outcome = trace["end"]
            record["wait"] = (locked_at - lock_start) * 1000
            record["hold"] = (end_end - locked_at) * 1000
            record["hold_sql"] = sum(e - s for s, e, _ in queries if s >= locked_at) * 1000
            record[outcome] = (end_end - end_start) * 1000
        _out().write(json.dumps(record) + "\n")
    return response
