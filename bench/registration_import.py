#!/usr/bin/env python
"""Benchmark of the registered-contract CSV import (SPEC §9.2) on PostgreSQL: a national year in one file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_registry_bench \\
        .venv/bin/python bench/registration_import.py --rows 1000000 --runs 3

What it does:
1. creates the database named by DATABASE_URL if it is missing and applies the migrations; it refuses any
   database whose name does not contain "bench" (its own default is ``techmarket_registry_bench``);
2. writes ``--rows`` registrations (default 1,000,000) to ``bench/results/registrations-<rows>-<seed>.csv``
   unless the file is there, from a seeded generator shaped on the 2005 national annual report (seed 004):
   seller provinces weighted by their technology output (table 5), buyer provinces by their absorption
   (table 8, Hong Kong/Macao/Taiwan and "other" included) with 45 % of contracts inside the seller's own
   province, contract types by their 2005 counts (table 2) with log-normal amounts whose means are the
   table-1 averages (σ = 1.6), seller and buyer types by their amount shares, objectives and plan levels by
   their counts; regions half province codes, half prefecture cities; a third of the fields given as
   sub-fields; Chinese titles and party names; rows in registration order (dates ascending, registration numbers ``2005`` + province + a sequence per
   province);
3. for each of ``--runs`` runs (default 3), after a ``CHECKPOINT``, times through
   ``contracts.registry.registrations_import`` (the command's code, settings ``bench.settings``, DEBUG off):
   **create** (the registrations table emptied: every row new), **unchanged** (the same file again: nothing
   written), **update** (the file with 10 % of the rows changed), and the **baseline**: a plain
   ``COPY … FROM STDIN (FORMAT csv, HEADER)`` of the same file into an unlogged table of the same 15 columns
   (text, date and numeric as in the file), which is what PostgreSQL alone needs to take the bytes in;
4. with ``--compare-apply``, stages the file once (by SQL, outside the import) and times, on an emptied
   registrations table, the import's two apply statements (``UPDATE`` changed + ``INSERT … WHERE NOT EXISTS``)
   against the single ``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE (changed)`` statement;
   and, with ``--compare-summary``, the two apply statements with the annual report's summary triggers
   (migration 0004) enabled and disabled, alternating: what keeping the summary costs a million new rows;
5. prints each pass (with the import's phases), the medians and the ratio of the create pass to the baseline,
   checks the counts, and writes ``bench/results/registration_import-<time>.json``.

Target: the create pass of 1,000,000 rows ≤ 60 s on the 2-core machine.
"""

import argparse
import csv
import itertools
import json
import math
import os
import platform
import random
import resource
import statistics
import sys
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import common  # bench/common.py (this directory is the script's first import path)

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/techmarket_registry_bench"
RESULTS_DIR = BASE_DIR / "bench" / "results"
REGIONS_FILE = BASE_DIR / "marketplace" / "data" / "regions.json"
TARGET_SECONDS_PER_MILLION = 60


# --- the shape of seed 004 (2005 national technology market statistics) -------------------------------------

# Table 5: technology output by province, 亿元 (Tibet had none; given a trace so that its code appears).
SELLER_PROVINCES = {
    "110000": 489.59, "120000": 50.71, "130000": 10.38, "140000": 4.80, "150000": 10.99, "210000": 86.52,
    "220000": 12.22, "230000": 14.26, "310000": 231.73, "320000": 100.83, "330000": 38.70, "340000": 14.26,
    "350000": 17.20, "360000": 11.12, "370000": 98.36, "410000": 26.37, "420000": 50.18, "430000": 41.74,
    "440000": 112.47, "450000": 9.41, "460000": 1.00, "500000": 35.71, "510000": 19.08, "520000": 1.05,
    "530000": 15.92, "540000": 0.05, "610000": 18.90, "620000": 17.27, "630000": 1.18, "640000": 1.41,
    "650000": 8.00,
}  # fmt: skip
# Table 8: technology absorbed by province, 亿元; 港澳台 14.23 split between the three, 其它 161.10 abroad/other.
BUYER_PROVINCES = {
    "110000": 246.87, "120000": 38.13, "130000": 30.18, "140000": 21.54, "150000": 30.15, "210000": 85.59,
    "220000": 13.50, "230000": 15.39, "310000": 174.64, "320000": 84.92, "330000": 58.94, "340000": 20.43,
    "350000": 25.02, "360000": 13.23, "370000": 114.37, "410000": 35.84, "420000": 39.38, "430000": 35.71,
    "440000": 121.80, "450000": 11.63, "460000": 9.33, "500000": 32.28, "510000": 23.17, "520000": 5.39,
    "530000": 29.42, "540000": 0.80, "610000": 18.95, "620000": 17.38, "630000": 2.92, "640000": 3.53,
    "650000": 15.60, "810000": 7.00, "710000": 4.23, "820000": 3.00, "990000": 161.10,
}  # fmt: skip
SAME_PROVINCE_SHARE = 0.45
# Table 2 (2005 counts) and table 1 (2005 average amount per contract, 万元).
CONTRACT_TYPES = {
    "development": (75977, 74.99),
    "transfer": (27328, 131.74),
    "consulting": (48463, 19.61),
    "service": (113242, 46.50),
}
AMOUNT_SIGMA = 1.6
# Figure 4 / figure 5: amounts by seller and buyer type, 亿元 (universities as buyers are not given: a trace).
SELLER_TYPES = {
    "enterprise": 918.96,
    "research_institute": 237.96,
    "university": 122.58,
    "trade_institution": 143.10,
    "individual": 8.92,
    "other": 119.84,
}
BUYER_TYPES = {
    "enterprise": 1171.34,
    "government": 133.75,
    "research_institute": 63.20,
    "university": 10.0,
    "trade_institution": 10.68,
    "individual": 11.26,
    "other": 161.13,
}
# Section 5: contracts by socio-economic objective (counts; "other" is the rest of the 265,010).
OBJECTIVES = {
    "industry": 70989,
    "transport_telecom": 26415,
    "social_development": 41988,
    "energy": 21905,
    "health": 19839,
    "agriculture": 19664,
    "environment": 16392,
    "knowledge": 2783,
    "education": 3301,
    "earth_sea_atmosphere": 2688,
    "civil_space": 897,
    "defense": 5836,
}
OBJECTIVES["other"] = 265010 - sum(OBJECTIVES.values())
# Table 3: contracts of government plan projects in 2005.
PLAN_LEVELS = {"national": 6537, "provincial": 7847, "municipal": 16827}
PLAN_LEVELS["none"] = 265010 - sum(PLAN_LEVELS.values())
# Seed 004 has no table by field; weights in the spirit of the later yearbooks (electronics first).
FIELDS = {
    "electronic_information": 30,
    "advanced_manufacturing": 18,
    "urban_social": 12,
    "biomedicine": 9,
    "new_energy": 8,
    "new_materials": 6,
    "environment": 6,
    "agriculture": 5,
    "modern_transport": 4,
    "aerospace": 1.5,
    "nuclear": 0.5,
}
SUB_FIELD_SHARE = 1 / 3

OBJECTS = [
    "锂电池极片", "注塑模具", "印染废水", "数控机床", "光伏组件", "智能电网", "中药提取物", "水稻新品种",
    "工业机器人", "城市供水管网", "高速铁路道岔", "集成电路封装", "生物医用材料", "污泥", "风电齿轮箱",
    "轨道交通信号", "农产品冷链", "建筑垃圾", "医疗影像设备", "北斗导航终端", "稀土永磁材料", "农业机械",
]  # fmt: skip
TECHNIQUES = [
    "涂布厚度在线检测", "随形冷却水路设计", "深度处理与回用", "热误差补偿", "高效封装工艺", "负荷预测",
    "有效成分纯化", "抗倒伏育种", "视觉引导装配", "漏损监测", "寿命评估", "可靠性测试", "表面改性",
    "资源化利用", "故障诊断", "安全评估", "温度监控", "再生骨料制备", "图像重建算法", "高精度定位",
]  # fmt: skip
TITLE_ENDINGS = {
    "development": ["技术开发", "关键技术研究", "系统研制"],
    "transfer": ["技术转让", "专利实施许可", "技术秘密转让"],
    "consulting": ["技术咨询", "可行性论证", "技术评价"],
    "service": ["技术服务", "技术培训", "检测服务"],
}
SELLER_SUFFIXES = {
    "enterprise": ["科技有限公司", "技术股份有限公司", "智能装备有限公司"],
    "research_institute": ["研究院", "研究所", "技术研究中心"],
    "university": ["大学", "理工大学", "工业大学"],
    "trade_institution": ["技术转移中心", "技术市场服务中心", "科技咨询有限公司"],
    "individual": ["技术服务部", "工作室"],
    "other": ["学会", "协会", "服务中心"],
}
BUYER_SUFFIXES = {
    "enterprise": ["有限公司", "集团股份有限公司", "制造有限公司"],
    "government": ["科学技术局", "经济和信息化局", "环境保护局"],
    "research_institute": ["研究院", "研究所"],
    "university": ["大学", "学院"],
    "trade_institution": ["技术交易所", "技术转移中心"],
    "individual": ["经营部", "农场"],
    "other": ["协会", "医院", "学校"],
}
NAME_WORDS = ["华", "中", "新", "恒", "科", "创", "东", "远", "嘉", "瑞", "泰", "康", "宏", "达", "信", "安"]


# --- environment ---------------------------------------------------------------------------------------------


def configure_environment() -> str:
    return common.configure_environment(DEFAULT_DATABASE_URL)


# --- the data ------------------------------------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        regions = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
        self.names = {row["code"]: row["name_zh"] for row in regions}
        self.cities: dict[str, list[str]] = {}
        for row in regions:
            if row.get("parent"):
                self.cities.setdefault(row["parent"], []).append(row["code"])
        from marketplace.taxonomy import TECHNOLOGY_FIELDS

        self.sub_fields = {
            code: [f"{code}.{sub}" for sub, _zh, _en in children]
            for code, _zh, _en, children in TECHNOLOGY_FIELDS
        }
        self.sequence: dict[str, int] = {}
        self._tables: dict[int, tuple[list[str], list[float]]] = {}

    def pick(self, weights: dict) -> str:
        table = self._tables.get(id(weights))
        if table is None:
            values = [float(v[0] if isinstance(v, tuple) else v) for v in weights.values()]
            table = self._tables[id(weights)] = (list(weights), list(itertools.accumulate(values)))
        return self.rng.choices(table[0], cum_weights=table[1])[0]

    def region(self, province: str) -> str:
        cities = self.cities.get(province)
        if cities and self.rng.random() < 0.5:
            return self.rng.choice(cities)
        return province

    def party(self, region: str, kind: str, suffixes: dict) -> str:
        rng = self.rng
        place = self.names[region].removesuffix("市").removesuffix("省")[:4]
        return f"{place}{rng.choice(NAME_WORDS)}{rng.choice(NAME_WORDS)}{rng.choice(suffixes[kind])}"

    def amount(self, contract_type: str) -> tuple[str, str]:
        rng = self.rng
        mean_yuan = CONTRACT_TYPES[contract_type][1] * 10_000
        mu = math.log(mean_yuan) - AMOUNT_SIGMA**2 / 2
        total_cents = max(100, int(rng.lognormvariate(mu, AMOUNT_SIGMA) * 100))
        if rng.random() < 0.3:  # whole yuan, as many registries write them
            total_cents -= total_cents % 100
        technology_cents = int(total_cents * rng.uniform(0.5, 1.0))
        return _yuan(total_cents, whole=total_cents % 100 == 0), _yuan(technology_cents)

    def row(self, registered_on: date) -> list[str]:
        rng = self.rng
        seller_province = self.pick(SELLER_PROVINCES)
        buyer_province = seller_province if rng.random() < SAME_PROVINCE_SHARE else self.pick(BUYER_PROVINCES)
        seller_region, buyer_region = self.region(seller_province), self.region(buyer_province)
        contract_type = self.pick(CONTRACT_TYPES)
        seller_type, buyer_type = self.pick(SELLER_TYPES), self.pick(BUYER_TYPES)
        field = self.pick(FIELDS)
        if rng.random() < SUB_FIELD_SHARE:
            field = rng.choice(self.sub_fields[field])
        sequence = self.sequence[seller_province] = self.sequence.get(seller_province, 0) + 1
        title = f"{rng.choice(OBJECTS)}{rng.choice(TECHNIQUES)}{rng.choice(TITLE_ENDINGS[contract_type])}"
        if rng.random() < 0.01:
            title += ', "二期"'  # an ASCII comma and quotes: the CSV must quote this cell
        total, technology = self.amount(contract_type)
        return [
            f"2005{seller_province[:2]}{sequence:06d}",
            registered_on.isoformat(),
            contract_type,
            title,
            self.party(seller_region, seller_type, SELLER_SUFFIXES),
            seller_type,
            seller_region,
            "" if rng.random() < 0.02 else self.party(buyer_region, buyer_type, BUYER_SUFFIXES),
            buyer_type,
            buyer_region,
            total,
            technology,
            field,
            self.pick(OBJECTIVES),
            self.pick(PLAN_LEVELS),
        ]


def _yuan(cents: int, *, whole: bool = False) -> str:
    return str(cents // 100) if whole else f"{cents // 100}.{cents % 100:02d}"


def generate(path: Path, rows: int, seed: int) -> None:
    from contracts.registry import REGISTRATION_COLUMNS  # the header the import expects (SPEC §9.2)

    generator = Generator(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(REGISTRATION_COLUMNS)
        # A registry exports in registration order: dates ascending, each province's numbers following them.
        days = sorted(generator.rng.randrange(365) for _ in range(rows))
        start = date(2005, 1, 1)
        for day in days:
            writer.writerow(generator.row(start + timedelta(days=day)))


def write_updated(source: Path, target: Path, seed: int) -> int:
    """``source`` with 10 % of the rows changed (technology amount lowered or plan level moved)."""
    rng = random.Random(seed + 1)
    changed = 0
    with (
        source.open(encoding="utf-8", newline="") as lines,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader, writer = csv.reader(lines), csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            if rng.random() < 0.1:
                technology = row[11]
                if float(technology) >= 1:
                    row[11] = f"{float(technology) - 1:.2f}"
                else:
                    row[14] = "national" if row[14] != "national" else "none"
                changed += 1
            writer.writerow(row)
    return changed


# --- the measurement -----------------------------------------------------------------------------------------

BASELINE_TABLE = "bench_registration_copy"
BASELINE_COLUMNS = """
    registration_no text, registered_on date, contract_type text, title text, seller_name text, seller_type text,
    seller_region text, buyer_name text, buyer_type text, buyer_region text, total_amount numeric,
    technology_amount numeric, field text, objective text, plan_level text
"""


def checkpoint() -> None:
    from django.db import connection

    # Each pass starts with no dirty pages left by the previous one, so passes do not pay for each other.
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def empty_registrations() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contracts_registration")


def timed_import(path: Path) -> dict:
    from contracts.registry import registrations_import

    checkpoint()
    started = time.perf_counter()
    with path.open("rb") as stream:
        report = registrations_import(stream)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "rows_per_second": round(report.rows / seconds),
        "phases": {name: round(value, 2) for name, value in report.timings.items()},
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }


def timed_copy(path: Path) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
        cursor.execute(f"CREATE UNLOGGED TABLE {BASELINE_TABLE} ({BASELINE_COLUMNS})")
    checkpoint()
    started = time.perf_counter()
    with connection.cursor() as cursor, path.open("rb") as stream:
        cursor.copy_expert(
            f"COPY {BASELINE_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)", stream, size=1 << 16
        )
        cursor.execute(f"SELECT count(*) FROM {BASELINE_TABLE}")
        rows = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {BASELINE_TABLE}")
    return {"seconds": round(seconds, 2), "rows_per_second": round(rows / seconds), "rows": rows}


STAGE_TABLE = "bench_registration_stage"


def stage_for_comparison(path: Path) -> None:
    """The file as the import's staging table holds it (provinces and sub-fields derived), for the apply test."""
    from django.db import connection

    from contracts.registry.registrations import STAGING_COLUMNS

    with connection.cursor() as cursor, path.open("rb") as stream:
        cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}, {STAGE_TABLE}")
        cursor.execute(f"CREATE UNLOGGED TABLE {BASELINE_TABLE} ({BASELINE_COLUMNS})")
        cursor.copy_expert(
            f"COPY {BASELINE_TABLE} FROM STDIN WITH "
            "(FORMAT csv, HEADER true, FORCE_NOT_NULL (title, seller_name, buyer_name))",
            stream,
            size=1 << 16,
        )
        cursor.execute(f"CREATE UNLOGGED TABLE {STAGE_TABLE} ({STAGING_COLUMNS})")
        cursor.execute(
            f"""
            INSERT INTO {STAGE_TABLE}
            SELECT registration_no, registered_on, contract_type, title, seller_name, seller_type, seller_region,
                   left(seller_region, 2) || '0000', buyer_name, buyer_type, buyer_region,
                   left(buyer_region, 2) || '0000', total_amount, technology_amount, split_part(field, '.', 1),
                   CASE WHEN strpos(field, '.') > 0 THEN field END, objective, plan_level
              FROM {BASELINE_TABLE}
            """
        )
        cursor.execute(f"DROP TABLE {BASELINE_TABLE}")
        cursor.execute(f"ANALYZE {STAGE_TABLE}")


def on_conflict_statement(staging: str) -> str:
    """The single-statement alternative: the unchanged rows filtered by a LEFT JOIN, the rest upserted."""
    from contracts.registry.registrations import COMPARED_FIELDS, FIELDS

    staged = ", ".join(f"s.{name}" for name in COMPARED_FIELDS)
    existing = ", ".join(f"e.{name}" for name in COMPARED_FIELDS)
    current = ", ".join(f"r.{name}" for name in COMPARED_FIELDS)
    excluded = ", ".join(f"EXCLUDED.{name}" for name in COMPARED_FIELDS)
    assignments = ", ".join(
        f"{name} = EXCLUDED.{name}" for name in (*COMPARED_FIELDS, "imported_at", "updated_at")
    )
    return f"""
        WITH written AS (
            INSERT INTO contracts_registration AS r ({", ".join(FIELDS)}, source, imported_at, created_at, updated_at)
            SELECT s.registration_no, {staged}, %(source)s, %(now)s, %(now)s, %(now)s
              FROM {staging} s LEFT JOIN contracts_registration e ON e.registration_no = s.registration_no
             WHERE e.id IS NULL OR (e.source = %(source)s AND ({existing}) IS DISTINCT FROM ({staged}))
            ON CONFLICT (registration_no) DO UPDATE SET {assignments}
             WHERE r.source = %(source)s AND ({current}) IS DISTINCT FROM ({excluded})
            RETURNING (r.xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
    """


SUMMARY_TRIGGERS = ("insert", "update", "delete", "truncate")


def timed_apply(variant: str) -> dict:
    """Apply the staged file to an empty registrations table with one variant, in one transaction; variant
    ``without_summary`` is ``update_and_insert`` with the summary's triggers disabled (in that transaction)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from contracts.registry.registrations import apply_statements

    empty_registrations()
    checkpoint()
    parameters = {"source": "imported", "now": timezone.now()}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        if variant == "without_summary":
            for event in SUMMARY_TRIGGERS:
                cursor.execute(
                    f"ALTER TABLE contracts_registration DISABLE TRIGGER contracts_registration_summary_{event}"
                )
        if variant in ("update_and_insert", "without_summary"):
            update, insert = apply_statements(STAGE_TABLE)
            cursor.execute(update, parameters)
            cursor.execute(insert, parameters)
            created = cursor.rowcount
        else:
            cursor.execute(on_conflict_statement(STAGE_TABLE), parameters)
            created = cursor.fetchone()[0]
        seconds = time.perf_counter() - started
        if variant == "without_summary":
            # The summary is now wrong: empty the registrations (and it) before the triggers come back.
            cursor.execute("TRUNCATE contracts_registration, contracts_registrationsummary")
            for event in SUMMARY_TRIGGERS:
                cursor.execute(
                    f"ALTER TABLE contracts_registration ENABLE TRIGGER contracts_registration_summary_{event}"
                )
    return {"seconds": round(seconds, 2), "created": created}


def table_size() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_table_size('contracts_registration')), "
            "pg_size_pretty(pg_indexes_size('contracts_registration'))"
        )
        table, indexes = cursor.fetchone()
    return {"table": table, "indexes": indexes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the file (default 1,000,000)")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of every pass (default 3); medians reported"
    )
    parser.add_argument("--seed", type=int, default=20051231)
    parser.add_argument(
        "--compare-apply",
        action="store_true",
        help="also time the two apply statements against the single INSERT … ON CONFLICT on the staged file",
    )
    parser.add_argument(
        "--compare-summary",
        action="store_true",
        help="also time the two apply statements with the annual report's summary triggers disabled",
    )
    parser.add_argument(
        "--apply-only", action="store_true", help="skip the import passes: only the --compare-* timings"
    )
    parser.add_argument("--note", default="", help="what is special about this run, kept with the results")
    args = parser.parse_args()

    url = configure_environment()
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    common.ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"registrations-{args.rows}-{args.seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows, args.seed)
        print(f"generated {path.relative_to(BASE_DIR)} in {time.perf_counter() - started:.1f} s")
    updated_path = RESULTS_DIR / f"registrations-{args.rows}-{args.seed}-updated.csv"
    changed = write_updated(path, updated_path, args.seed)
    megabytes = path.stat().st_size / 1e6
    print(f"file: {args.rows:,} rows, {megabytes:.0f} MB; update file: {changed:,} rows changed")

    runs = []
    for run in range(1, 0 if args.apply_only else args.runs + 1):
        empty_registrations()
        passes = {
            "create": timed_import(path),
            "unchanged": timed_import(path),
            "update": timed_import(updated_path),
            "copy_baseline": timed_copy(path),
        }
        passes["ratio_create_to_copy"] = round(
            passes["create"]["seconds"] / passes["copy_baseline"]["seconds"], 2
        )
        runs.append(passes)
        print(
            f"run {run}: create {passes['create']['seconds']:.2f} s, unchanged {passes['unchanged']['seconds']:.2f} s, "
            f"update {passes['update']['seconds']:.2f} s, COPY {passes['copy_baseline']['seconds']:.2f} s, "
            f"create/COPY {passes['ratio_create_to_copy']:.2f}; create phases {passes['create']['phases']}"
        )
        checks = {
            "create": passes["create"]["created"] == args.rows and passes["create"]["rejected"] == 0,
            "unchanged": passes["unchanged"]["unchanged"] == args.rows
            and passes["unchanged"]["updated"] == 0,
            "update": passes["update"]["updated"] == changed and passes["update"]["created"] == 0,
            "copy": passes["copy_baseline"]["rows"] == args.rows,
        }
        passes["checks"] = checks
        if not all(checks.values()):
            print(f"  checks failed: {checks}; {passes}")

    apply_runs = []
    # Without the summary first: the last variant leaves its rows (and a right summary) for annual_report.py.
    compared = (
        (["without_summary"] if args.compare_summary else [])
        + ["update_and_insert"]
        + (["on_conflict"] if args.compare_apply else [])
    )
    if len(compared) > 1:
        stage_for_comparison(path)
        for run in range(1, args.runs + 1):
            variants = {variant: timed_apply(variant) for variant in compared}
            apply_runs.append(variants)
            print(
                f"apply run {run}: "
                + ", ".join(f"{name} {result['seconds']:.2f} s" for name, result in variants.items())
            )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {STAGE_TABLE}")

    medians = {
        name: statistics.median(run[name]["seconds"] for run in runs)
        for name in (("create", "unchanged", "update", "copy_baseline") if runs else ())
    }
    if runs:
        medians["ratio_create_to_copy"] = round(medians["create"] / medians["copy_baseline"], 2)
    for variant in compared if apply_runs else ():
        medians[f"apply_{variant}"] = statistics.median(run[variant]["seconds"] for run in apply_runs)
    target = TARGET_SECONDS_PER_MILLION * args.rows / 1_000_000
    target_met = medians["create"] <= target if runs else None
    print(
        "median: "
        + ", ".join(
            f"{name} {value:.2f}{'' if name.startswith('ratio') else ' s'}" for name, value in medians.items()
        )
        + (f"; create ≤ {target:.0f} s: {target_met}" if runs else "")
    )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the importing process: {peak_rss_mb:.0f} MB; table after the runs: {table_size()}")

    summary = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "rows": args.rows,
        "file_megabytes": round(megabytes, 1),
        "seed": args.seed,
        "note": args.note,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "postgresql": connection.cursor().connection.server_version,
        "runs": runs,
        "apply_runs": apply_runs,
        "medians": medians,
        "target_met": target_met,
        "peak_rss_mb": round(peak_rss_mb),
        "table_size": table_size(),
    }
    out = RESULTS_DIR / f"registration_import-{summary['measured_at'].replace(':', '')}.json"
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"written {out.relative_to(BASE_DIR)}")
    if not all(all(run["checks"].values()) for run in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
