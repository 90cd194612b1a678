"""The annual report over a national year of registrations (SPEC §8, §9.3), against one plain scan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_registry_bench .venv/bin/python bench/annual_report.py

Uses the registrations ``bench/registration_import.py`` leaves in its database (1,000,000 of 2005). Times, in
the same run and alternating, ``--runs`` times each:

- **scan**: the baseline ``SELECT count(*), sum(total_amount)`` over the year's rows;
- **report**: ``contracts.statistics.compute(year)``, the whole report as the nightly task and the API compute
  it: the two years' sums read from the registration summary the triggers keep (migration 0004), then the
  rows, shares, growths, ranks and flows in Python;
- **reference**: the same report from ``aggregate_reference`` (one ``GROUPING SETS`` statement over the
  registrations of the year and the year before: how the report was computed before the summary), and
  checks that both give the same report.

Prints medians and the ratios to the scan (target: the report ≤ 3× the scan). With ``--previous-year`` the
previous year is populated first, if it has no registrations yet, with a copy of the year's rows dated a year
earlier (numbers prefixed ``P``), so that the growths have something to compare with and the reference reads
two million rows; the copy stays (``registration_import.py`` empties the table when it starts).
"""

import argparse
import json
import statistics as stats
import time
from datetime import date

import common  # bench/common.py


def populate_previous_year(year: int) -> int:
    """Copy ``year``'s registrations to ``year - 1`` unless it has some; return the previous year's rows."""
    from django.db import connection, transaction

    from contracts.registry.registrations import FIELDS

    bounds = [date(year - 1, 1, 1), date(year, 1, 1)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM contracts_registration WHERE registered_on >= %s AND registered_on < %s",
            bounds,
        )
        if cursor.fetchone()[0] == 0:
            copied = [name for name in FIELDS if name not in ("registration_no", "registered_on")]
            columns = ", ".join(copied)
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(
                f"""
                INSERT INTO contracts_registration (registration_no, registered_on, {columns}, source,
                    imported_at, created_at, updated_at)
                SELECT 'P' || registration_no, registered_on - interval '1 year', {columns}, source,
                    imported_at, created_at, updated_at
                  FROM contracts_registration WHERE registered_on >= %s AND registered_on < %s
                """,  # noqa: S608 — the import's own column names
                [date(year, 1, 1), date(year + 1, 1, 1)],
            )
        cursor.execute(
            "SELECT count(*) FROM contracts_registration WHERE registered_on >= %s AND registered_on < %s",
            bounds,
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2005)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--previous-year", action="store_true", help="first copy the year's rows to the year before, if empty"
    )
    args = parser.parse_args()
    common.configure_environment("postgres://postgres@127.0.0.1:5432/techmarket_registry_bench")
    import django

    django.setup()
    from django.db import connection

    from contracts import statistics
    from contracts.models import RegistrationSummary

    def scan():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(total_amount) FROM contracts_registration "
                "WHERE registered_on >= %s AND registered_on < %s",
                [date(args.year, 1, 1), date(args.year + 1, 1, 1)],
            )
            return cursor.fetchone()

    previous_rows = None
    if args.previous_year:
        started = time.perf_counter()
        previous_rows = populate_previous_year(args.year)
        print(f"previous year: {previous_rows:,} rows ({time.perf_counter() - started:.1f} s)")
    with connection.cursor() as cursor:
        # Production's autovacuum would have analysed the freshly imported table; this machine runs without it.
        cursor.execute("ANALYZE contracts_registration")
        cursor.execute("ANALYZE contracts_registrationsummary")
    rows = scan()[0]
    scan()  # warm the cache for all three
    statistics.compute(args.year)
    statistics.compute(args.year, statistics.aggregate_reference(args.year))
    scans, reports, references = [], [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        scan()
        scans.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = statistics.compute(args.year)
        reports.append(time.perf_counter() - started)
        started = time.perf_counter()
        reference = statistics.compute(args.year, statistics.aggregate_reference(args.year))
        references.append(time.perf_counter() - started)
        assert report == reference, "the report read from the summary differs from the registrations' report"
    assert report["totals"]["count"] == rows
    scan_median = stats.median(scans)
    result = {
        "year": args.year,
        "rows": rows,
        "previous_year_rows": previous_rows,
        "scan_s": [round(s, 3) for s in scans],
        "report_s": [round(s, 4) for s in reports],
        "reference_s": [round(s, 3) for s in references],
        "scan_median_s": round(scan_median, 3),
        "report_median_s": round(stats.median(reports), 4),
        "reference_median_s": round(stats.median(references), 3),
        "ratio": round(stats.median(reports) / scan_median, 3),
        "reference_ratio": round(stats.median(references) / scan_median, 2),
        "summary_rows": RegistrationSummary.objects.count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
