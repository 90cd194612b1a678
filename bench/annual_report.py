"""The annual report over a national year of registrations (SPEC §8, §9.3), against one plain scan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_registry_bench .venv/bin/python bench/annual_report.py

Uses the registrations ``bench/registration_import.py`` leaves in its database (1,000,000 of 2005). Times, in
the same run and alternating, ``--runs`` times each: the baseline ``SELECT count(*), sum(total_amount)`` over the
year's rows, and ``contracts.statistics.compute(year)`` — the whole report: the one ``GROUPING SETS`` statement
over the year and the year before, then the rows, shares, growths, ranks and flows in Python. Prints medians and
their ratio (target: the report ≤ 3× the scan).
"""

import argparse
import json
import statistics as stats
import time
from datetime import date

import common  # bench/common.py


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2005)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    common.configure_environment("postgres://postgres@127.0.0.1:5432/techmarket_registry_bench")
    import django

    django.setup()
    from django.db import connection

    from contracts import statistics

    def scan():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(total_amount) FROM contracts_registration "
                "WHERE registered_on >= %s AND registered_on < %s",
                [date(args.year, 1, 1), date(args.year + 1, 1, 1)],
            )
            return cursor.fetchone()

    with connection.cursor() as cursor:
        # Production's autovacuum would have analysed the freshly imported table; this machine runs without it.
        cursor.execute("ANALYZE contracts_registration")
    rows = scan()[0]
    scan()  # warm the cache for both
    statistics.compute(args.year)
    scans, reports = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        scan()
        scans.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = statistics.compute(args.year)
        reports.append(time.perf_counter() - started)
    assert report["totals"]["count"] == rows
    result = {
        "year": args.year,
        "rows": rows,
        "scan_s": [round(s, 3) for s in scans],
        "report_s": [round(s, 3) for s in reports],
        "scan_median_s": round(stats.median(scans), 3),
        "report_median_s": round(stats.median(reports), 3),
        "ratio": round(stats.median(reports) / stats.median(scans), 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
