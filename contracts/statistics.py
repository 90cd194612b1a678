"""The annual report of registered technology contracts (SPEC §8, §9.3), after the national statistical annual
report (seed 004): totals, averages and growth on the previous year, by contract type, seller type, buyer type,
socio-economic objective, technology field and plan level, share of GDP, provinces as sellers (技术输出) and as
buyers (吸纳技术) with ranks, and the flows between provinces.

``aggregate`` gives the two years' counts and sums of every table. On PostgreSQL it reads them from the
summary the database keeps at every write (``RegistrationSummary``, migration 0004): a few thousand rows instead
of a national year's million registrations. ``aggregate_reference`` computes the same from the registrations
themselves, in one ``GROUP BY year, GROUPING SETS (…)`` statement (one scan of the ``registered_on`` range
feeding every table's hash aggregate); ``summary_check`` compares the two (the nightly task and
``annual_report YEAR --verify``) and repairs the summary. Elsewhere (SQLite) the report groups the registrations:
one ``GROUP BY`` of every grouping column together, rolled up in Python. ``compute`` turns the sums into the
report's numbers with exact decimals, rounded half-up as the yearbook prints them. The report is stored as a
snapshot (``AnnualReport``) by a Celery task and served from it; labels are added when it is served, in the
reader's language.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from contracts.models import (
    FIRST_YEAR,
    LAST_YEAR,
    NATIONAL_REGION_CODE,
    AnnualReport,
    GdpFigure,
    Registration,
    RegistrationSummary,
    SummaryDimension,
)
from marketplace import exports
from marketplace.taxonomy import BuyerType, ContractType, Objective, PlanLevel, SellerType

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# The transaction-level advisory lock every writer of the summary holds (its triggers, its rebuild).
SUMMARY_LOCK_KEY = "contracts.registration_summary"

# Report key → the registration's column it groups on, in the order the yearbook prints the tables.
DIMENSIONS: dict[str, str] = {
    "by_contract_type": "contract_type",
    "by_seller_type": "seller_type",
    "by_buyer_type": "buyer_type",
    "by_objective": "objective",
    "by_field": "field_id",
    "by_plan_level": "plan_level",
    "by_seller_region": "seller_province_id",
    "by_buyer_region": "buyer_province_id",
}
FLOW_COLUMNS = ("seller_province_id", "buyer_province_id")
CODE_LISTS = {
    "by_contract_type": ContractType,
    "by_seller_type": SellerType,
    "by_buyer_type": BuyerType,
    "by_objective": Objective,
    "by_plan_level": PlanLevel,
}
RANKED = ("by_seller_region", "by_buyer_region")


@dataclass
class Cell:
    count: int = 0
    amount: Decimal = Decimal(0)
    technology_amount: Decimal = Decimal(0)


# (table, year, key) → Cell; table is a DIMENSIONS key, "totals" (key None) or "flows" (key (from, to)).
Sums = dict[tuple[str, int, object], Cell]


def aggregate(year: int) -> Sums:
    """The counts and sums of ``year`` and the year before, for every table of the report."""
    if connection.vendor == "postgresql":
        return _aggregate_summary(year)
    return _aggregate_per_table(year)


def aggregate_reference(year: int) -> Sums:
    """The same as ``aggregate``, always computed from the registrations themselves: what the summary must be."""
    if connection.vendor == "postgresql":
        return _aggregate_grouping_sets(year)
    return _aggregate_per_table(year)


def _aggregate_summary(year: int) -> Sums:
    rows = (
        RegistrationSummary.objects.filter(year__in=(year - 1, year))
        .order_by()
        .values_list("year", "dimension", "code", "code_to", "count", "amount", "technology_amount")
    )
    sums: Sums = {}
    for row_year, dimension, code, code_to, n, amount, technology in rows:
        if dimension == SummaryDimension.TOTALS:
            key = None
        elif dimension == SummaryDimension.FLOWS:
            key = (code, code_to)
        else:
            key = code
        sums[dimension, row_year, key] = Cell(n, amount, technology)
    return sums


@dataclass(frozen=True)
class SummaryDifference:
    """A group whose summary row (``summary``) differs from its registrations' sums (``registrations``); None
    where one side has no such group."""

    table: str
    year: int
    key: object
    summary: Cell | None
    registrations: Cell | None


def summary_check(year: int, *, repair: bool = False) -> list[SummaryDifference]:
    """Compare the summary of ``year`` and the year before with the registrations (``aggregate_reference``);
    with ``repair``, recompute the years that differ. Returns the differences found (empty: it agrees).

    Runs under the summary's lock, so that no write commits between the two readings (each write's trigger
    waits for it, and its transaction cannot commit before its trigger ran): a difference is never a race.
    Nothing to check on SQLite, where the report does not read the summary.
    """
    if connection.vendor != "postgresql":
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SUMMARY_LOCK_KEY])
        summary = _aggregate_summary(year)
        reference = _aggregate_grouping_sets(year)
        differences = [
            SummaryDifference(key[0], key[1], key[2], summary.get(key), reference.get(key))
            for key in sorted(summary.keys() | reference.keys(), key=_difference_order)
            if summary.get(key) != reference.get(key)
        ]
        if repair:
            for each in sorted({difference.year for difference in differences}):
                cursor.execute("SELECT contracts_registration_summary_rebuild(%s, %s)", [each, each])
    return differences


def _difference_order(key: tuple) -> tuple:
    table, year, code = key
    return (year, table, "" if code is None else str(code))


def _year_rows(year: int):
    return Registration.objects.filter(
        registered_on__gte=date(year - 1, 1, 1), registered_on__lt=date(year + 1, 1, 1)
    )


def _aggregate_per_table(year: int) -> Sums:
    """One ``GROUP BY`` of every grouping column together, rolled up here into each table: one scan, and few
    groups (the code lists are short), on databases without ``GROUPING SETS``."""
    columns = list(dict.fromkeys([*DIMENSIONS.values(), *FLOW_COLUMNS]))
    rows = (
        _year_rows(year)
        .annotate(year=ExtractYear("registered_on"))
        .values("year", *columns)
        .annotate(n=Count("pk"), amount=Sum("total_amount"), technology=Sum("technology_amount"))
        .order_by()
    )
    sums: Sums = {}

    def add(key, n, amount, technology):
        cell = sums.setdefault(key, Cell())
        cell.count += n
        cell.amount += amount
        cell.technology_amount += technology

    for row in rows:
        n, amount, technology = row["n"], _decimal(row["amount"]), _decimal(row["technology"])
        y = row["year"]
        add(("totals", y, None), n, amount, technology)
        for table, column in DIMENSIONS.items():
            add((table, y, row[column]), n, amount, technology)
        add(("flows", y, tuple(row[c] for c in FLOW_COLUMNS)), n, amount, technology)
    return sums


def _aggregate_grouping_sets(year: int) -> Sums:
    columns = list(dict.fromkeys([*DIMENSIONS.values(), *FLOW_COLUMNS]))
    sets = ["()", *(f"({c})" for c in DIMENSIONS.values()), f"({', '.join(FLOW_COLUMNS)})"]
    table = Registration._meta.db_table
    sql = f"""
        SELECT current, {", ".join(columns)}, GROUPING({", ".join(columns)}) AS g,
               count(*), sum(total_amount), sum(technology_amount)
        FROM (SELECT registered_on >= %s AS current, {", ".join(columns)}, total_amount, technology_amount
              FROM {table} WHERE registered_on >= %s AND registered_on < %s) AS rows
        GROUP BY current, GROUPING SETS ({", ".join(sets)})
    """  # noqa: S608 — only this module's column names are interpolated
    # GROUPING(...) has a bit per column, the first column the highest: 0 = grouped by it.
    full = (1 << len(columns)) - 1
    grouped_by = {full: "totals"}
    for name, column in DIMENSIONS.items():
        grouped_by[full & ~(1 << (len(columns) - 1 - columns.index(column)))] = name
    flow_bits = full
    for column in FLOW_COLUMNS:
        flow_bits &= ~(1 << (len(columns) - 1 - columns.index(column)))
    grouped_by[flow_bits] = "flows"
    sums: Sums = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Every set in one hash aggregate over one scan: the few hundred groups fit in memory, and without
        # room the planner sorts a million rows for the province sets. JIT compilation costs more than it
        # saves on a statement this short (2.3 s of 8.7 s, measured).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [date(year, 1, 1), date(year - 1, 1, 1), date(year + 1, 1, 1)])
        for current, *values, g, n, amount, technology in cursor.fetchall():
            y = year if current else year - 1
            name = grouped_by[g]
            row = dict(zip(columns, values, strict=True))
            if name == "totals":
                key = None
            elif name == "flows":
                key = tuple(row[c] for c in FLOW_COLUMNS)
            else:
                key = row[DIMENSIONS[name]]
            sums[name, y, key] = Cell(n, _decimal(amount), _decimal(technology))
    return sums


def _decimal(value) -> Decimal:
    # SQLite returns sums of whole yuan as int and of cents as float; the str() keeps the printed digits.
    return Decimal(0) if value is None else value if isinstance(value, Decimal) else Decimal(str(value))


# --- the numbers ---------------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _percent(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _share(part, whole) -> float | None:
    return _percent(Decimal(part) * HUNDRED / Decimal(whole)) if whole else None


def _growth(current, previous) -> float | None:
    """Percent change; null when the previous year has nothing to compare with."""
    if not previous:
        return None
    return _percent((Decimal(current) - Decimal(previous)) * HUNDRED / Decimal(previous))


def _average(cell: Cell | None) -> Decimal | None:
    return cell.amount / cell.count if cell and cell.count else None


def _row(cell: Cell, previous: Cell | None, totals: Cell | None) -> dict:
    average, previous_average = _average(cell), _average(previous)
    row = {
        "count": cell.count,
        "amount": _money(cell.amount),
        "avg_amount": _money(average) if average is not None else None,
    }
    if totals is not None:
        row["count_share_pct"] = _share(cell.count, totals.count)
        row["amount_share_pct"] = _share(cell.amount, totals.amount)
    row["count_growth_pct"] = _growth(cell.count, previous.count if previous else 0)
    row["amount_growth_pct"] = _growth(cell.amount, previous.amount if previous else 0)
    row["avg_growth_pct"] = _growth(average, previous_average) if average is not None else None
    return row


def compute(year: int, sums: Sums | None = None) -> dict:
    """The report of ``year`` as SPEC §9.3 gives it, without labels (``with_labels`` adds them)."""
    sums = aggregate(year) if sums is None else sums
    totals = sums.get(("totals", year, None), Cell())
    previous_totals = sums.get(("totals", year - 1, None))
    gdp = (
        GdpFigure.objects.filter(year=year, region=NATIONAL_REGION_CODE)
        .values_list("gdp_yuan", flat=True)
        .first()
    )
    report = {
        "year": year,
        "totals": {
            **_row(totals, previous_totals, None),
            "technology_amount": _money(totals.technology_amount),
            "gdp": _money(gdp) if gdp is not None else None,
            "amount_pct_of_gdp": _share(totals.amount, gdp) if gdp else None,
        },
    }
    by_table = defaultdict(dict)
    for (table, row_year, key), cell in sums.items():
        if row_year == year and table in DIMENSIONS and key is not None and cell.count:
            by_table[table][key] = cell
    for table in DIMENSIONS:
        rows = [
            {"code": key, **_row(cell, sums.get((table, year - 1, key)), totals)}
            for key, cell in by_table[table].items()
        ]
        if table in CODE_LISTS:
            order = {code: n for n, code in enumerate(CODE_LISTS[table].values)}
            rows.sort(key=lambda r: order.get(r["code"], len(order)))
        elif table in RANKED:
            # 1-based by amount, descending; equal amounts by region code (SPEC §9.3).
            rows.sort(key=lambda r: (-Decimal(r["amount"]), r["code"]))
            for rank, row in enumerate(rows, start=1):
                row["rank"] = rank
        else:
            rows.sort(key=lambda r: r["code"])
        report[table] = rows
    flows = [
        {"from": key[0], "to": key[1], "count": cell.count, "amount": _money(cell.amount)}
        for (table, row_year, key), cell in sums.items()
        if table == "flows" and row_year == year and cell.count
    ]
    flows.sort(key=lambda f: (-Decimal(f["amount"]), f["from"], f["to"]))
    report["flows"] = flows
    return report


# --- labels --------------------------------------------------------------------------------------------------


def with_labels(report: dict) -> dict:
    """The report with each row's ``label`` (after its ``code``) in the active language."""
    from marketplace.models import Region, TechnologyField

    regions = {r.code: r.name for r in Region.objects.filter(parent__isnull=True)}
    fields = {f.code: f.name for f in TechnologyField.objects.filter(parent__isnull=True)}
    labelled = {"year": report["year"], "totals": report["totals"]}
    for table in DIMENSIONS:
        if table in CODE_LISTS:
            names = {code: str(label) for code, label in CODE_LISTS[table].choices}
        elif table == "by_field":
            names = fields
        else:
            names = regions
        labelled[table] = [
            {
                "code": row["code"],
                "label": names.get(row["code"], row["code"]),
                **{k: v for k, v in row.items() if k != "code"},
            }
            for row in report.get(table, [])
        ]
    labelled["flows"] = report.get("flows", [])
    return labelled


# --- snapshots -----------------------------------------------------------------------------------------------


def snapshot_refresh(year: int) -> AnnualReport:
    """Compute ``year``'s report and store it (an upsert on the year: running it twice stores the same)."""
    started = time.perf_counter()
    report = compute(year)
    snapshot, _ = AnnualReport.objects.update_or_create(
        year=year,
        defaults={
            "data": report,
            "registrations": report["totals"]["count"],
            "computed_at": timezone.now(),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
    return snapshot


def is_report_year(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def snapshot_get(year: int) -> AnnualReport:
    """The stored report of ``year``, computed now if there is none yet. Raises ``ValueError`` for a year
    outside the statistical range (callers answer 404 or a usage error)."""
    if not is_report_year(year):
        raise ValueError(f"no statistical year {year}")
    return AnnualReport.objects.filter(year=year).first() or snapshot_refresh(year)


def years_to_refresh(today: date | None = None) -> list[int]:
    """The current and the previous year (late registrations still change it), and every year already stored
    whose registrations changed since its snapshot: rows written since (``updated_at``), or deleted — seen as a
    year whose count is no longer the snapshot's — in the year or the year before (its growths compare with it)."""
    today = today or timezone.localdate()
    years = {today.year, today.year - 1}
    counts = _counts_by_year()
    stored = dict(AnnualReport.objects.values_list("year", "registrations"))
    for snapshot in AnnualReport.objects.only("year", "computed_at"):
        if Registration.objects.filter(
            registered_on__year__in=(snapshot.year, snapshot.year - 1), updated_at__gt=snapshot.computed_at
        ).exists():
            years.add(snapshot.year)
        if counts.get(snapshot.year, 0) != stored[snapshot.year]:
            years.add(snapshot.year)
            if snapshot.year + 1 in stored:
                years.add(snapshot.year + 1)
    return sorted(years)


def _counts_by_year() -> dict[int, int]:
    """Registrations per year: from the summary's totals on PostgreSQL, by one grouped count elsewhere."""
    if connection.vendor == "postgresql":
        return dict(
            RegistrationSummary.objects.filter(dimension=SummaryDimension.TOTALS).values_list("year", "count")
        )
    return dict(
        Registration.objects.annotate(year=ExtractYear("registered_on"))
        .values("year")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("year", "n")
    )


# --- exports -------------------------------------------------------------------------------------------------

ROW_COLUMNS = [
    "code", "label", "count", "amount", "avg_amount", "count_share_pct", "amount_share_pct",
    "count_growth_pct", "amount_growth_pct", "avg_growth_pct", "rank",
]  # fmt: skip
TOTAL_COLUMNS = [
    "count", "amount", "technology_amount", "avg_amount", "count_growth_pct", "amount_growth_pct",
    "avg_growth_pct", "gdp", "amount_pct_of_gdp",
]  # fmt: skip
FLOW_COLUMNS_OUT = ["from", "to", "count", "amount"]


def tables(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The labelled report as (name, header, rows) tables: the totals, each breakdown, the flows."""
    out = [("totals", TOTAL_COLUMNS, [[report["totals"].get(c) for c in TOTAL_COLUMNS]])]
    for table in DIMENSIONS:
        columns = ROW_COLUMNS if table in RANKED else ROW_COLUMNS[:-1]
        out.append((table, columns, [[row.get(c) for c in columns] for row in report[table]]))
    out.append(("flows", FLOW_COLUMNS_OUT, [[f[c] for c in FLOW_COLUMNS_OUT] for f in report["flows"]]))
    return out


def to_csv(report: dict) -> str:
    """One CSV of every table, each row led by its table's name (``section``); empty cells for nulls."""
    return exports.tables_to_csv(tables(report))


def to_xlsx(report: dict) -> bytes:
    """A workbook with one sheet per table; amounts as numbers (yuan), percentages as numbers."""
    return exports.tables_to_xlsx(
        tables(report), decimal_columns=("amount", "avg_amount", "technology_amount", "gdp")
    )


# --- the yearbook's presentation -----------------------------------------------------------------------------

YI = Decimal(100_000_000)  # 亿元
WAN = Decimal(10_000)  # 万元


def yearbook_row(row: dict, previous: dict | None) -> dict:
    """One row as the national yearbook prints it (seed 004, tables 1 and 2): amounts in 亿元 and averages in
    万元 to two decimals (half-up); growths of counts and amounts cut, not rounded, to two decimals (its
    +14.28 % for 75,977 contracts after 66,480 is 14.2855 %); the growth of the average computed from the
    printed (万元) averages, then rounded (its +31.52 % for consulting)."""
    average = to_wan(row["avg_amount"])
    previous_average = to_wan(previous["avg_amount"]) if previous else None
    return {
        "count": row["count"],
        "amount_yi": to_yi(row["amount"]),
        "avg_wan": average,
        "count_growth_pct": _cut(row["count"], previous["count"] if previous else None),
        "amount_growth_pct": _cut(Decimal(row["amount"]), Decimal(previous["amount"]) if previous else None),
        "avg_growth_pct": (
            ((average - previous_average) * HUNDRED / previous_average).quantize(CENT, rounding=ROUND_HALF_UP)
            if average is not None and previous_average
            else None
        ),
    }


def to_yi(value: str | None) -> Decimal | None:
    """Yuan (a decimal string) in 亿元, two decimals half-up, as the yearbook prints amounts."""
    return None if value is None else (Decimal(value) / YI).quantize(CENT, rounding=ROUND_HALF_UP)


def to_wan(value: str | None) -> Decimal | None:
    """Yuan in 万元, two decimals half-up, as the yearbook prints averages."""
    return None if value is None else (Decimal(value) / WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def _cut(current, previous) -> Decimal | None:
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * HUNDRED / Decimal(previous)).quantize(
        CENT, rounding=ROUND_DOWN
    )
