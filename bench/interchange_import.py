#!/usr/bin/env python
"""Benchmark of the record interchange import (SPEC §9.1) on PostgreSQL: N listings from one JSON Lines file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_interchange_bench \\
        .venv/bin/python bench/interchange_import.py --rows 200000

What it does:
1. creates the database named by DATABASE_URL if it is missing and applies the migrations; it refuses any
   database whose name does not contain "bench" (its own default is ``techmarket_interchange_bench``, apart
   from the other benchmarks' database, so a run never disturbs theirs);
2. writes ``--rows`` listings (default 200,000) to ``bench/results/interchange-listings-<rows>-<seed>.jsonl``
   unless the file is there: a seeded generator, Chinese titles and summaries built from each sub-field's
   vocabulary ("一种锂电池极片涂布厚度在线检测方法", "基于深度学习的注塑件外观缺陷检测系统" …), 2,000 owners
   (universities, institutes, enterprises; each created by the import), 20 cities, every listing type and
   maturity, one to three transfer modes, 35 % negotiable prices;
3. removes the listings and organizations of a previous run (``bench-ix-`` refs), then times three imports
   of ``marketplace.interchange.interchange_import`` through the real code, settings ``bench.settings``
   (DEBUG off): **create** (empty: every line a new listing and 2,000 new organizations), **unchanged** (the
   same file again) and **update** (the file with 10 % of the prices changed);
4. prints lines per second per pass and writes ``bench/results/interchange_import-<time>.json``.

The matching engine's work that ``brokers.hooks.records_changed`` queues after each batch is counted, not run:
in production it goes to a Celery worker, so it is not part of the import's time.

Target: 200,000 listings in ≤ 2 minutes on the 2-core machine (create pass).
"""

import argparse
import json
import os
import platform
import random
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import common  # bench/common.py (this directory is the script's first import path)

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/techmarket_interchange_bench"
RESULTS_DIR = BASE_DIR / "bench" / "results"
REF_PREFIX = "bench-ix-"


# --- environment ---------------------------------------------------------------------------------------------


def configure_environment() -> str:
    return common.configure_environment(DEFAULT_DATABASE_URL)


ensure_database = common.ensure_database


# --- realistic data ------------------------------------------------------------------------------------------

# Sub-field → (objects, techniques). A title combines them in one of the patterns below.
VOCABULARY = {
    "advanced_manufacturing.moulds_plastics": (
        ["注塑模具", "热流道系统", "薄壁注塑件", "汽车保险杠模具", "精密冲压模具"],
        ["随形冷却水路设计", "翘曲变形控制", "模温智能控制", "熔接痕消除", "外观缺陷视觉检测"],
    ),
    "advanced_manufacturing.machinery_hardware": (
        ["精密轴承", "粉末冶金齿轮", "电动工具齿轮箱", "不锈钢紧固件", "五金锁具"],
        ["降噪优化", "表面强化处理", "疲劳寿命预测", "精密磨削", "无铬钝化"],
    ),
    "advanced_manufacturing.equipment": (
        ["数控机床", "工业机器人", "伺服压机", "自动化装配线", "激光切割机"],
        ["热误差补偿", "振动抑制", "远程故障诊断", "数字孪生建模", "柔性上下料"],
    ),
    "advanced_manufacturing.textiles": (
        ["涤纶长丝", "经编面料", "无纺布", "功能性纺织品", "印染废水"],
        ["低浴比染色", "色差在线检测", "抗菌整理", "断纱视觉检测", "深度处理与回用"],
    ),
    "advanced_manufacturing.chemical_engineering": (
        ["医药中间体", "水性涂料", "有机硅单体", "阻燃剂", "精细化学品"],
        ["连续流合成", "溶剂回收", "催化加氢", "结晶工艺优化", "副产物资源化"],
    ),
    "electronic_information.software": (
        ["MES系统", "质量追溯平台", "供应链协同平台", "工业APP", "设备管理系统"],
        ["排产优化算法", "数据中台", "低代码配置", "知识图谱", "多租户架构"],
    ),
    "electronic_information.smart_control": (
        ["智能配电终端", "工业物联网网关", "楼宇控制器", "PLC控制系统", "边缘计算盒"],
        ["电弧故障检测", "预测性维护", "边缘推理", "远程运维", "低功耗组网"],
    ),
    "electronic_information.microelectronics": (
        ["功率半导体模块", "MEMS压力传感器", "图像传感器", "射频前端芯片"],
        ["封装散热", "良率分析", "车规级可靠性", "低噪声设计"],
    ),
    "modern_transport.automotive": (
        ["新能源汽车电驱壳体", "铝合金转向节", "汽车线束", "制动卡钳", "底盘控制臂"],
        ["轻量化结构优化", "压铸气孔控制", "焊接变形控制", "在线质量检测", "NVH优化"],
    ),
    "biomedicine.medical_devices": (
        ["骨科植入物", "一次性内窥镜", "血糖监测仪", "康复外骨骼", "医用导管"],
        ["表面涂层", "精密成型", "无线传输", "生物相容性改进", "运动意图识别"],
    ),
    "biomedicine.pharmaceuticals": (
        ["中药提取物", "缓释制剂", "抗体药物", "原料药", "中药配方颗粒"],
        ["纯化工艺", "质量标准提升", "晶型控制", "指纹图谱", "绿色合成"],
    ),
    "new_materials.polymers": (
        ["生物基塑料", "改性聚丙烯", "高回弹鞋底材料", "功能高分子薄膜", "环保胶黏剂"],
        ["低气味配方", "耐候性改进", "可降解改性", "增韧增强", "连续化制备"],
    ),
    "new_materials.composites": (
        ["碳纤维复合材料", "玻纤增强材料", "陶瓷基复合材料", "电池隔膜"],
        ["界面改性", "低成本制备", "孔隙率控制", "快速固化"],
    ),
    "new_energy.energy_storage": (
        ["锂电池极片", "钠离子电池", "储能变流器", "动力电池模组", "固态电解质"],
        ["涂布厚度在线检测", "热失控预警", "电池管理", "一致性分选", "界面稳定化"],
    ),
    "new_energy.solar_wind": (
        ["光伏组件", "风电叶片", "光伏逆变器", "钙钛矿电池"],
        ["热斑识别", "无人机巡检", "发电量预测", "封装稳定性"],
    ),
    "environment.water_treatment": (
        ["工业废水", "畜禽养殖废水", "农村生活污水", "垃圾渗滤液"],
        ["高级氧化", "膜生物反应器", "脱氮除磷", "零排放工艺"],
    ),
    "environment.solid_waste": (
        ["建筑垃圾", "废旧锂电池", "餐厨垃圾", "工业污泥"],
        ["资源化利用", "有价金属回收", "厌氧发酵", "低温干化"],
    ),
    "agriculture.crop_breeding": (
        ["水稻", "茶树", "杨梅", "设施蔬菜", "食用菌"],
        ["分子标记育种", "病虫害绿色防控", "水肥一体化", "品质提升栽培"],
    ),
    "agriculture.food_processing": (
        ["茶饮料", "果蔬干制品", "速冻米面制品", "发酵食品"],
        ["保鲜加工", "风味保持", "杀菌工艺", "副产物综合利用"],
    ),
    "urban_social.construction": (
        ["装配式建筑构件", "既有建筑", "城市地下管网", "桥梁结构"],
        ["健康监测", "节能改造", "渗漏检测", "快速修复"],
    ),
}
PATTERNS = [
    "一种{obj}的{tech}方法",
    "基于{tech}的{obj}{system}",
    "{obj}{tech}技术",
    "{obj}{tech}装置及其使用方法",
    "高性能{obj}及其{tech}工艺",
]
SYSTEMS = ["系统", "装置", "平台", "设备"]
BENEFITS = [
    "生产效率提高30%以上",
    "能耗降低约20%",
    "产品合格率由92%提升至99%",
    "成本降低15%",
    "检测时间由数小时缩短到数分钟",
    "使用寿命延长一倍",
]
STAGES = ["已完成实验室验证", "已完成中试", "已在两家企业小批量应用", "已实现产业化", "已申请发明专利"]
CITIES = {
    "330100": "杭州",
    "330200": "宁波",
    "330300": "温州",
    "330400": "嘉兴",
    "330500": "湖州",
    "330600": "绍兴",
    "330700": "金华",
    "331000": "台州",
    "310000": "上海",
    "320100": "南京",
    "320500": "苏州",
    "340100": "合肥",
    "110000": "北京",
    "440300": "深圳",
    "420100": "武汉",
    "510100": "成都",
    "610100": "西安",
    "370200": "青岛",
    "350200": "厦门",
    "430100": "长沙",
}
OWNER_KINDS = [
    ("university", ["理工大学", "科技大学", "工业大学", "农林大学", "师范大学"]),
    ("research_institute", ["先进技术研究院", "工业技术研究院", "材料研究所", "智能制造研究院"]),
    ("enterprise", ["科技有限公司", "新材料股份有限公司", "智能装备有限公司", "生物科技有限公司"]),
]
ROOTS = [
    "东华",
    "新源",
    "恒达",
    "中科",
    "华创",
    "瑞丰",
    "博远",
    "天工",
    "明德",
    "海润",
    "宏图",
    "启明",
    "远航",
]
LISTING_TYPES = [
    ("invention_patent", 50),
    ("utility_model", 20),
    ("software", 10),
    ("know_how", 8),
    ("design_patent", 4),
    ("new_variety", 3),
    ("integrated_circuit_layout", 2),
    ("other", 3),
]
MATURITIES = [("lab", 30), ("pilot", 35), ("small_batch", 20), ("industrialised", 15)]
TRANSFER_MODES = ["transfer", "exclusive_license", "non_exclusive_license", "equity", "joint_development"]


def _weighted(rng: random.Random, pairs):
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def make_owners(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(name, type, region) of ``count`` distinct organizations."""
    owners, seen = [], set()
    while len(owners) < count:
        region = rng.choice(list(CITIES))
        org_type, suffixes = rng.choice(OWNER_KINDS)
        name = f"{CITIES[region]}{rng.choice(ROOTS)}{rng.choice(suffixes)}"
        if name in seen:
            name = f"{CITIES[region]}{rng.choice(ROOTS)}{len(owners):04d}{rng.choice(suffixes)}"
            if name in seen:
                continue
        seen.add(name)
        owners.append((name, org_type, region))
    return owners


def make_listing(rng: random.Random, number: int, owners) -> dict:
    sub_field = rng.choice(list(VOCABULARY))
    objects, techniques = VOCABULARY[sub_field]
    obj, tech = rng.choice(objects), rng.choice(techniques)
    title = rng.choice(PATTERNS).format(obj=obj, tech=tech, system=rng.choice(SYSTEMS))
    name, org_type, region = owners[rng.randrange(len(owners))]
    summary = (
        f"本成果针对{obj}在{tech}方面的难题，提出了一套完整的技术方案，{rng.choice(BENEFITS)}。"
        f"{rng.choice(STAGES)}，可根据受让方需求提供技术培训和现场指导。"
    )
    return {
        "kind": "listing",
        "external_ref": f"{REF_PREFIX}{number:07d}",
        "title": title,
        "field": sub_field if rng.random() < 0.7 else sub_field.split(".")[0],
        "region": region,
        "owner_name": name,
        "owner_type": org_type,
        "summary": summary,
        "listing_type": _weighted(rng, LISTING_TYPES),
        "maturity": _weighted(rng, MATURITIES),
        "asking_price_yuan": None if rng.random() < 0.35 else rng.randrange(50, 5000) * 1000,
        "transfer_modes": rng.sample(TRANSFER_MODES, rng.randint(1, 3)),
    }


def generate(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    owners = make_owners(rng, 2000)
    with path.open("w", encoding="utf-8") as out:
        for number in range(rows):
            out.write(json.dumps(make_listing(rng, number, owners), ensure_ascii=False) + "\n")


def write_updated(source: Path, target: Path, seed: int) -> int:
    """``source`` with 10 % of the prices changed; returns the number of changed lines."""
    rng = random.Random(seed + 1)
    changed = 0
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for line in lines:
            if rng.random() < 0.1:
                row = json.loads(line)
                row["asking_price_yuan"] = (row["asking_price_yuan"] or 0) + 1000
                line = json.dumps(row, ensure_ascii=False) + "\n"
                changed += 1
            out.write(line)
    return changed


# --- the measurement -----------------------------------------------------------------------------------------


def clean() -> None:
    from django.db import connection

    # Plain SQL: the ORM would first load 200,000 ids to collect the cascades. The only rows that refer to the
    # benchmark's listings are the matching engine's (bench/matching_scale.py runs on this database too).
    with connection.cursor() as cursor:
        ours = "SELECT id FROM listings_listing WHERE external_ref LIKE %s"
        for table in ("brokers_listingtext", "brokers_listingmatch", "brokers_demandmatch"):
            cursor.execute(f"DELETE FROM {table} WHERE listing_id IN ({ours})", [REF_PREFIX + "%"])
        cursor.execute("DELETE FROM listings_listing WHERE external_ref LIKE %s", [REF_PREFIX + "%"])
        cursor.execute(
            "DELETE FROM marketplace_organization o WHERE o.imported_at IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM listings_listing l WHERE l.owner_id = o.id) "
            "AND NOT EXISTS (SELECT 1 FROM demands_demand d WHERE d.owner_id = o.id)"
        )
        cursor.execute("VACUUM ANALYZE listings_listing")


def timed_import(path: Path, *, batch_size: int, queued: list) -> dict:
    from marketplace.interchange import interchange_import

    queued.clear()
    started = time.perf_counter()
    with path.open(encoding="utf-8") as lines:
        report = interchange_import(lines, publish=True, source=path.name, batch_size=batch_size)
    seconds = time.perf_counter() - started
    lines_total = report.created + report.updated + report.unchanged + report.rejected
    return {
        "seconds": round(seconds, 2),
        "lines_per_second": round(lines_total / seconds),
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "organizations_created": report.organizations_created,
        "ids_queued_for_matching": sum(len(ids) for _kind, ids in queued),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="listings in the file (default 200,000)")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="lines per transaction (default: the module's)"
    )
    parser.add_argument("--note", default="", help="what is special about this run, kept with the results")
    args = parser.parse_args()

    url = configure_environment()
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    from brokers import tasks
    from marketplace import interchange
    from marketplace.models import Region

    call_command("migrate", verbosity=0)
    missing = set(CITIES) - set(Region.objects.filter(code__in=CITIES).values_list("code", flat=True))
    if missing:
        sys.exit(f"bench: region codes missing from the reference data: {sorted(missing)}")
    batch_size = args.batch_size or interchange.BATCH_SIZE

    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"interchange-listings-{args.rows}-{args.seed}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows, args.seed)
        print(f"generated {path.relative_to(BASE_DIR)} in {time.perf_counter() - started:.1f} s")
    updated_path = RESULTS_DIR / f"interchange-listings-{args.rows}-{args.seed}-updated.jsonl"
    changed = write_updated(path, updated_path, args.seed)

    queued: list = []
    # Counted, not run (see the docstring): the engine's job is a worker's, not the import's.
    tasks.match_records.delay = lambda kind, ids: queued.append((kind, ids))
    clean()
    passes = {}
    for label, source in (("create", path), ("unchanged", path), ("update", updated_path)):
        passes[label] = timed_import(source, batch_size=batch_size, queued=queued)
        result = passes[label]
        print(
            f"{label:>9}: {result['seconds']:7.2f} s  {result['lines_per_second']:>7,} lines/s  "
            f"created {result['created']:,}, updated {result['updated']:,}, unchanged {result['unchanged']:,}, "
            f"rejected {result['rejected']:,}; organizations {result['organizations_created']:,}"
        )
    expected_update = {"created": 0, "updated": changed, "unchanged": args.rows - changed, "rejected": 0}
    checks = {
        "create": passes["create"]["created"] == args.rows and passes["create"]["rejected"] == 0,
        "unchanged": passes["unchanged"]["unchanged"] == args.rows,
        "update": all(passes["update"][key] == value for key, value in expected_update.items()),
    }
    target_met = passes["create"]["seconds"] <= 120 * args.rows / 200_000
    print(f"checks: {checks}; create pass within the 200,000-in-2-minutes rate: {target_met}")

    from django.db import connection

    summary = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "batch_size": batch_size,
        "seed": args.seed,
        "note": args.note,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "postgresql": connection.cursor().connection.server_version,
        "passes": passes,
        "checks": checks,
        "target_met": target_met,
    }
    out = RESULTS_DIR / f"interchange_import-{summary['measured_at'].replace(':', '')}.json"
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"written {out.relative_to(BASE_DIR)}")
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
