#!/usr/bin/env python
"""Benchmark of the public demand list (SPEC §4, §10) on PostgreSQL with a realistic 100,000-demand market.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_bench .venv/bin/python bench/demand_list.py

What it does:
1. creates the database named by DATABASE_URL if it is missing and applies the migrations; it refuses any
   database whose name does not contain "bench", so it never fills a development or test database;
2. generates ``--rows`` demands (default 100,000) unless that many are there already (``--regenerate`` starts
   over): Chinese titles and summaries from the vocabulary of Zhejiang's industries, spread over the 11 fields
   and their sub-fields, Zhejiang cities (60 %) and other provinces, budgets, deadlines and modes, ~80 %
   published; bulk_create in batches, the keyword indexes rebuilt once at the end; then VACUUM ANALYZE;
3. requests the list pages through ``django.test.Client`` against the real URLs, views, filters, paginators
   and serializers (production settings: DEBUG off, persistent connections; API throttling lifted), with
   ``--warmup`` unmeasured requests and then ``--requests`` measured ones per case;
4. prints p50/p95/p99 per case next to baselines measured in the same run (``SELECT count(*)`` on the table,
   and ``/healthz/`` through the same client: the fixed cost of a request), the SQL queries of one request
   with their share of the time, and writes everything to ``bench/results/demand_list-<time>.json``.

``--explain`` also prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL of the filtered and deep-page cases.
Target (docs/performance.md): p95 ≤ 100 ms for every list case.
"""

import argparse
import json
import math
import os
import platform
import random
import statistics
import time
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import common  # bench/common.py (this directory is the script's first import path)

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/techmarket_bench"
RESULTS_DIR = BASE_DIR / "bench" / "results"

# The filters of the measured list: a field, a province (rolls up its cities) and a keyword. The keyword has
# four characters: pg_trgm needs three or more to use the index (see the 2-character case below).
FILTERS = {"field": "advanced_manufacturing", "region": "330000", "q": "视觉检测"}
SHORT_KEYWORD_FILTERS = {**FILTERS, "q": "注塑"}
DEEP_PAGE = 200


# --- environment ---------------------------------------------------------------------------------------------


def configure_environment() -> str:
    # The anonymous API throttle (120/minute) would answer 429 after two seconds of benchmark.
    return common.configure_environment(
        DEFAULT_DATABASE_URL, API_THROTTLE_ANON="100000000/minute", API_THROTTLE_USER="100000000/minute"
    )


ensure_database = common.ensure_database


# --- realistic data ------------------------------------------------------------------------------------------

# Objects and problems by sub-field: a title is an object followed by a problem ("注塑件" + "表面银纹与气泡缺陷分析").
VOCABULARY = {
    "advanced_manufacturing.moulds_plastics": (
        [
            "注塑件",
            "注塑模具",
            "汽车保险杠模具",
            "家电外壳",
            "PC/ABS注塑件",
            "薄壁注塑件",
            "热流道模具",
            "精密冲压模具",
        ],
        [
            "表面银纹与气泡缺陷分析",
            "翘曲变形控制",
            "随形冷却水路设计",
            "模具寿命预测",
            "熔接痕消除工艺",
            "缩痕与尺寸稳定性优化",
            "模温智能控制",
            "外观缺陷视觉检测",
        ],
    ),
    "advanced_manufacturing.textiles": (
        ["经编机", "化纤面料", "印染生产线", "涤纶长丝", "无纺布", "牛仔面料"],
        [
            "断纱视觉检测",
            "低浴比节能染色工艺",
            "色差在线检测",
            "印染废水深度处理与回用",
            "功能性整理工艺开发",
            "定型机废气余热回收",
        ],
    ),
    "advanced_manufacturing.machinery_hardware": (
        ["电动工具齿轮箱", "粉末冶金齿轮", "园林工具", "五金锁具", "精密轴承", "不锈钢紧固件"],
        ["降噪优化", "刀具涂层技术", "疲劳寿命测试", "精密加工工艺", "表面处理替代电镀", "尺寸在线视觉检测"],
    ),
    "advanced_manufacturing.equipment": (
        ["数控机床", "工业机器人", "自动化装配线", "PLC控制系统", "伺服压机", "高速经编机"],
        ["远程故障诊断", "视觉检测系统集成", "精度补偿算法", "数字孪生改造", "振动抑制", "柔性上下料"],
    ),
    "advanced_manufacturing.light_industry_food": (
        ["速冻米制品", "速冻粽子", "休闲食品", "鞋底材料", "竹木家具", "纸制品包装"],
        ["回生老化控制", "货架期延长", "杀菌工艺优化", "包装密封性检测", "异物视觉检测", "配方降本"],
    ),
    "advanced_manufacturing.chemical_engineering": (
        ["水性涂料助剂", "精细化学品", "医药中间体", "有机硅单体", "阻燃剂"],
        ["连续流合成工艺", "溶剂回收", "VOCs催化燃烧", "结晶工艺优化", "副产物资源化", "安全风险评估"],
    ),
    "electronic_information.microelectronics": (
        ["工业图像传感器", "边缘视觉芯片", "功率半导体模块", "MEMS压力传感器"],
        ["低照度成像算法", "车规级可靠性测试", "封装散热优化", "良率分析"],
    ),
    "electronic_information.smart_control": (
        ["智能配电终端", "塑壳断路器", "工业物联网平台", "PLC控制柜", "楼宇控制器"],
        ["电弧故障检测算法", "远程运维平台开发", "边缘计算网关", "视觉检测算法", "预测性维护"],
    ),
    "electronic_information.software": (
        ["MES系统", "ERP系统", "质量追溯系统", "供应链协同平台"],
        ["二次开发", "数据中台建设", "排产优化算法", "工业APP开发"],
    ),
    "electronic_information.communication": (
        ["5G工业网关", "光纤传感系统", "LoRa无线模块"],
        ["低时延组网", "抗干扰设计", "功耗优化"],
    ),
    "electronic_information.computer_network": (
        ["工控网络", "数据中心", "视频监控系统"],
        ["安全防护", "能耗优化", "视觉检测平台建设"],
    ),
    "modern_transport.automotive": (
        ["铝合金转向节", "底盘控制臂", "新能源汽车电驱壳体", "汽车线束", "制动卡钳"],
        ["轻量化结构优化", "在线质量检测", "压铸气孔缺陷控制", "焊接变形控制", "表面缺陷视觉检测"],
    ),
    "modern_transport.shipbuilding": (
        ["船舶焊接结构", "港口起重机", "游艇玻璃钢船体"],
        ["焊接变形控制", "防腐涂层", "疲劳评估"],
    ),
    "modern_transport.rail_transit": (["轨道车辆制动盘", "城轨受电弓"], ["磨损预测", "轻量化设计"]),
    "new_materials.polymers": (
        ["高回弹鞋底材料", "功能高分子薄膜", "生物基塑料", "改性PP材料"],
        ["性能提升与量产工艺", "环保胶黏剂替代", "耐候性改进", "低气味配方"],
    ),
    "new_materials.composites": (
        ["碳纤维复合材料", "玻纤增强材料", "电池隔膜"],
        ["界面改性", "低成本制备技术", "孔隙率控制"],
    ),
    "new_materials.metals": (
        ["高温合金", "铝合金型材", "铜合金带材"],
        ["晶粒细化", "热处理工艺优化", "表面缺陷视觉检测"],
    ),
    "new_materials.inorganic": (["特种陶瓷", "石英玻璃", "氮化硅轴承球"], ["烧结工艺", "致密度提升"]),
    "new_energy.energy_storage": (
        ["锂电池极片", "工商业储能系统", "动力电池模组", "钠离子电池"],
        ["涂布厚度在线检测", "电池管理系统优化", "热失控预警", "一致性分选"],
    ),
    "new_energy.solar_wind": (
        ["分布式光伏组件", "风电叶片", "光伏逆变器"],
        ["热斑智能识别", "运维无人机巡检", "发电量预测"],
    ),
    "new_energy.energy_saving": (
        ["余热锅炉", "空压机系统", "注塑机", "定型机"],
        ["节能改造", "能效诊断", "电机系统变频改造"],
    ),
    "environment.water_treatment": (
        ["印染废水", "电镀废水", "化工园区污水", "养殖废水"],
        ["深度处理与回用", "重金属去除", "脱氮除磷", "零排放工艺"],
    ),
    "environment.air_pollution": (
        ["VOCs废气", "喷涂废气", "恶臭气体"],
        ["高效催化燃烧", "吸附浓缩技术", "除臭技术"],
    ),
    "environment.solid_waste": (
        ["工业固废", "印染污泥", "废旧锂电池"],
        ["资源化利用", "无害化处置", "有价金属回收"],
    ),
    "biomedicine.pharmaceuticals": (
        ["心血管原料药", "中药提取物", "缓释制剂"],
        ["晶型研究", "质量标准提升", "稳定性研究"],
    ),
    "biomedicine.medical_devices": (
        ["医用导管", "体外诊断试剂", "骨科植入物"],
        ["灭菌工艺验证", "生物相容性评价", "视觉检测设备"],
    ),
    "biomedicine.biotechnology": (["酶制剂", "益生菌"], ["发酵工艺优化", "菌种改良"]),
    "aerospace.aircraft": (["航空铝合金构件", "无人机机体"], ["疲劳裂纹检测", "轻量化设计"]),
    "aerospace.satellite_applications": (
        ["卫星遥感数据", "北斗定位终端"],
        ["应用服务平台", "高精度定位算法"],
    ),
    "nuclear.radiation": (["辐照加工设备"], ["剂量均匀性优化"]),
    "nuclear.nuclear_power": (["核电阀门"], ["密封可靠性"]),
    "agriculture.food_processing": (["茶叶", "果蔬", "黄酒"], ["采后保鲜技术", "精深加工", "品质快速检测"]),
    "agriculture.crop_breeding": (["水稻", "杨梅", "铁皮石斛"], ["品种选育", "病虫害识别"]),
    "agriculture.agricultural_machinery": (["茶叶采摘机", "植保无人机"], ["智能采摘", "精准施药"]),
    "agriculture.animal_husbandry": (["生猪养殖", "水产养殖"], ["疫病监测", "尾水处理"]),
    "urban_social.construction": (["装配式建筑构件", "城市排水管网"], ["质量检测", "智能监测"]),
    "urban_social.public_safety": (["老旧小区", "危化品仓库"], ["火灾预警", "视觉检测识别"]),
    "urban_social.culture_education": (["职业院校实训基地"], ["虚拟仿真教学"]),
}
# Zhejiang's industrial structure: manufacturing first.
SUB_FIELD_WEIGHTS = {
    code: (
        6
        if code.startswith("advanced_manufacturing")
        else 3
        if code.startswith(("electronic", "new_"))
        else 1
    )
    for code in VOCABULARY
}
SUMMARY_TEMPLATES = (
    "我司{object}年产量约{volume}万件，目前存在{problem}方面的难题，影响良品率约{rate}%。"
    "希望与高校或科研院所合作，提出可在产线落地的技术方案，并完成小批量验证。",
    "针对{object}的{problem}，现有工艺已难以满足客户要求。拟投入{budget}万元开展联合攻关，"
    "要求{months}个月内完成方案设计、中试与验收。",
    "面向{object}，寻求{problem}相关的成熟技术或专利许可。企业具备中试条件，可提供现场数据与样品。",
)
ZHEJIANG = [
    "330100",
    "330200",
    "330300",
    "330400",
    "330500",
    "330600",
    "330700",
    "330800",
    "330900",
    "331000",
    "331100",
]


def generate(rows: int, seed: int = 20261123) -> None:
    """Write ``rows`` demands (plus their owners) with bulk inserts."""
    from django.db import connection, transaction
    from django.utils import timezone

    from demands.models import Demand
    from demands.services.lifecycle import _search_text
    from marketplace.management.commands.seed_demo import make_credit_code
    from marketplace.models import Organization, Region, TechnologyField, User
    from marketplace.taxonomy import CooperationMode, OrganizationType

    rng = random.Random(seed)
    now = timezone.now()
    fields = {f.code: f for f in TechnologyField.objects.all()}
    others = list(
        Region.objects.filter(parent__isnull=False).exclude(parent_id="330000").values_list("code", flat=True)
    )
    regions = {r.code: r for r in Region.objects.all()}
    started = time.perf_counter()

    with transaction.atomic():
        # TRUNCATE: deleting 100,000 rows through the ORM collects every related row first and takes minutes.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE demands_demand CASCADE")
        Organization.objects.filter(name__startswith="基准").delete()
        User.objects.filter(username__startswith="bench-").delete()
        users = User.objects.bulk_create(
            User(
                username=f"bench-{n:04d}",
                email=f"bench-{n:04d}@example.com",
                password="!",
                full_name=f"测试{n}",
            )
            for n in range(400)
        )
        owners = []
        for n, user in enumerate(users):
            region = rng.choice(ZHEJIANG) if rng.random() < 0.7 else rng.choice(others)
            owners.append(
                Organization(
                    name=f"基准{regions[region].name_zh[:2]}{n:04d}精密制造有限公司",
                    org_type=OrganizationType.ENTERPRISE,
                    credit_code=make_credit_code(region_code=region, serial=900_000 + n),
                    region=regions[region],
                    status=Organization.Status.VERIFIED,
                    verified_at=now,
                    created_by=user,
                )
            )
        owners = Organization.objects.bulk_create(owners)

        # The GIN index is rebuilt once after the load: maintaining it row by row makes the load ~3x slower.
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS demand_search_trgm_idx")
            cursor.execute("DROP INDEX IF EXISTS demand_search_bigram_idx")
        sub_codes = list(SUB_FIELD_WEIGHTS)
        weights = list(SUB_FIELD_WEIGHTS.values())
        statuses = [("published", 80), ("closed", 9), ("awarded", 3), ("contracted", 1), ("solved", 1)] + [
            ("expired", 2),
            ("draft", 1),
            ("pending_review", 1),
            ("withdrawn", 1),
            ("rejected", 1),
        ]
        status_names = [s for s, _ in statuses]
        status_weights = [w for _, w in statuses]
        batch = []
        for _ in range(rows):
            sub_code = rng.choices(sub_codes, weights)[0]
            sub_field = fields[sub_code]
            field = fields[sub_field.parent_id]
            objects, problems = VOCABULARY[sub_code]
            obj, problem = rng.choice(objects), rng.choice(problems)
            region = rng.choice(ZHEJIANG) if rng.random() < 0.6 else rng.choice(others)
            status = rng.choices(status_names, status_weights)[0]
            mode = rng.choices(["open", "tender", "challenge"], [80, 12, 8])[0]
            budget = rng.choice([5, 10, 20, 30, 50, 80, 100, 150, 200, 300, 500])
            published_at = now - timedelta(days=rng.uniform(0, 720))
            if status == "published":
                published_at = now - timedelta(days=rng.uniform(0, 90))
                deadline = now + timedelta(days=rng.uniform(1, 120))
            else:
                deadline = published_at + timedelta(days=rng.uniform(14, 90))
            demand = Demand(
                owner=rng.choice(owners),
                created_by=users[0],
                title=f"{obj}{problem}",
                summary=rng.choice(SUMMARY_TEMPLATES).format(
                    object=obj,
                    problem=problem,
                    volume=rng.randint(5, 500),
                    rate=rng.randint(1, 15),
                    budget=budget,
                    months=rng.choice([3, 6, 9, 12, 18]),
                ),
                details="工艺参数、检测数据与样品照片（保密）。",
                field=field,
                sub_field=sub_field if rng.random() < 0.85 else None,
                region=regions[region],
                budget_min=None if rng.random() < 0.2 else Decimal(budget * 10_000),
                budget_max=Decimal(budget * 10_000 * rng.choice([1.5, 2, 3])),
                budget_negotiable=rng.random() < 0.25,
                deadline=deadline,
                cooperation_mode=rng.choice(CooperationMode.values),
                mode=mode,
                nda_required=rng.random() < 0.1,
                nda_terms="保密期限三年。",
                award_amount=Decimal(max(budget, 1) * 10_000) if mode == "challenge" else None,
                status=status,
                submitted_at=published_at - timedelta(days=1),
                published_at=None if status in ("draft", "pending_review", "rejected") else published_at,
                closed_at=deadline
                if status in ("closed", "awarded", "contracted", "solved", "expired")
                else None,
            )
            demand.search_text = _search_text(demand)
            batch.append(demand)
            if len(batch) == 5000:  # ~5 MB of parameters per INSERT: large enough to amortise round trips
                Demand.objects.bulk_create(batch)
                batch.clear()
        Demand.objects.bulk_create(batch)
    # After the commit: the deferred foreign-key checks of the load forbid CREATE INDEX inside its transaction.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS demand_search_trgm_idx ON demands_demand USING gin (search_text gin_trgm_ops)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS demand_search_bigram_idx "
            "ON demands_demand USING gin (techmarket_bigrams(search_text))"
        )
        # A production database's autovacuum would have vacuumed the freshly loaded table (its visibility map
        # lets count(*) and the ids-first pages scan the index alone); this machine's PostgreSQL runs with
        # autovacuum off, so the load does it.
        cursor.execute("VACUUM ANALYZE")
    print(f"generated {rows:,} demands in {time.perf_counter() - started:.1f} s")


# --- measuring -----------------------------------------------------------------------------------------------


def signed_in_member():
    """A user acting for one of the benchmark's enterprises (its API list adds the organization's own demands)."""
    from marketplace.models import Membership, Organization, User

    user = User.objects.get(username="bench-0000")
    organization = Organization.objects.filter(created_by=user).first()
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": "admin"})
    return user


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def measure(call, *, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "n": requests,
        "p50": statistics.median(timings),
        "p95": percentile(timings, 95),
        "p99": percentile(timings, 99),
        "max": timings[-1],
        "mean": statistics.fmean(timings),
    }


def http_case(client, path: str, params: dict):
    url = f"{path}?{urlencode(params)}" if params else path

    def call():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {url} answered {response.status_code}")
        return response

    return url, call


def queries_of(call) -> list[dict]:
    """The SQL of one call with the time of each statement (timed here: Django's own log rounds to 1 ms)."""
    from django.db import connection

    queries = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            rendered = context["cursor"].cursor.query
            queries.append(
                {
                    "sql": rendered.decode() if isinstance(rendered, bytes) else sql,
                    "ms": (time.perf_counter() - started) * 1000,
                }
            )

    with connection.execute_wrapper(timed):
        call()
    return queries


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def run(args) -> dict:
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve

    from demands.models import Demand

    client = Client()
    member_client = Client()
    member_client.force_login(signed_in_member())
    total = Demand.objects.count()
    public = Demand.objects.filter(
        status__in=["published", "closed", "awarded", "contracted", "solved"]
    ).count()

    def count_all():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM demands_demand")
            cursor.fetchone()

    try:
        resolve("/api/v1/demands/")
        api_available = True
    except Resolver404:
        api_available = False
        print("note: /api/v1/demands/ is not routed yet; the API cases are skipped")

    def last_page(params: dict) -> int:
        response = client.get("/api/v1/demands/", {**params, "page_size": 20})
        return max(1, math.ceil(response.json()["count"] / 20))

    if api_available:
        filtered_last = last_page(FILTERS)
        filtered_count = client.get("/api/v1/demands/", FILTERS).json()["count"]
    else:
        from demands.filters import DemandFilter
        from demands.selectors import demand_list_public

        filtered_count = DemandFilter(FILTERS, queryset=demand_list_public()).qs.count()
        filtered_last = max(1, math.ceil(filtered_count / 20))
    deep_filtered = min(DEEP_PAGE, filtered_last)
    unfiltered_last = max(1, math.ceil(public / 20))

    cases = [("baseline: SELECT count(*) FROM demands_demand", None, count_all)]
    cases.append(("baseline: GET /healthz/ (request overhead)", *http_case(client, "/healthz/", {})))
    prefixes = [("website", "/demands/")] + ([("api", "/api/v1/demands/")] if api_available else [])
    for name, path in prefixes:
        cases += [
            (f"{name}: unfiltered, page 1", *http_case(client, path, {})),
            (f"{name}: field+province+keyword, page 1", *http_case(client, path, FILTERS)),
            (
                f"{name}: field+province+keyword, page {deep_filtered} (last)",
                *http_case(client, path, {**FILTERS, "page": deep_filtered}),
            ),
            (
                f"{name}: field+province+2-char keyword, page 1",
                *http_case(client, path, SHORT_KEYWORD_FILTERS),
            ),
            (
                f"{name}: unfiltered, page {min(DEEP_PAGE, unfiltered_last)}",
                *http_case(client, path, {"page": min(DEEP_PAGE, unfiltered_last)}),
            ),
            (
                f"{name}: unfiltered, page {unfiltered_last} (last)",
                *http_case(client, path, {"page": unfiltered_last}),
            ),
        ]
    if api_available:
        cases += [
            ("api, signed-in member: unfiltered, page 1", *http_case(member_client, "/api/v1/demands/", {})),
            (
                "api, signed-in member: field+province+keyword, page 1",
                *http_case(member_client, "/api/v1/demands/", FILTERS),
            ),
        ]

    load_before = os.getloadavg()
    results = []
    for label, url, call in cases:
        figures = measure(call, requests=args.requests, warmup=args.warmup)
        queries = queries_of(call) if url else []
        figures.update(
            label=label,
            url=url,
            queries=len(queries),
            sql_ms=sum(q["ms"] for q in queries),
            slowest_sql=max(queries, key=lambda q: q["ms"]) if queries else None,
        )
        if args.explain and url and ("keyword" in label or "last" in label):
            slow = sorted(queries, key=lambda q: -q["ms"])[:2]
            figures["explain"] = [{"sql": q["sql"], "plan": explain(q["sql"])} for q in slow]
        results.append(figures)
        print(
            f"{label:<62} p50 {figures['p50']:7.1f}  p95 {figures['p95']:7.1f}  p99 {figures['p99']:7.1f} ms"
            f"  ({figures['queries']} queries, {figures['sql_ms']:.1f} ms SQL)",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('demands_demand'))")
        table_size = cursor.fetchone()[0]
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": server,
            # The machine is shared: a load average above the core count means the figures carry others' work.
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "data": {
            "demands": total,
            "public": public,
            "filtered": filtered_count,
            "filters": FILTERS,
            "table_size": table_size,
        },
        "settings": {"requests": args.requests, "warmup": args.warmup, "note": args.note},
        "results": results,
    }


def report(summary: dict) -> None:
    baseline = summary["results"][1]["p50"]  # /healthz/: what any request through the stack costs
    print()
    machine = summary["machine"]
    print(
        f"{machine['cpus']} CPUs, load average {machine['load_average_before'][0]:.2f} before and "
        f"{machine['load_average_after'][0]:.2f} after the run"
    )
    print(
        f"{summary['data']['demands']:,} demands ({summary['data']['public']:,} public, "
        f"{summary['data']['filtered']:,} match {summary['data']['filters']}), table {summary['data']['table_size']}"
    )
    print("| case | p50 ms | p95 ms | p99 ms | p50 ÷ healthz | queries | SQL ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in summary["results"]:
        print(
            f"| {r['label']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['p50'] / baseline:.1f} "
            f"| {r['queries'] or ''} | {r['sql_ms']:.1f} |"
        )
    for r in summary["results"]:
        for item in r.get("explain", []):
            print(f"\n--- {r['label']}\n{item['sql']}\n{item['plan']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="demands to generate (default 100,000)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per case (default 200)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="unmeasured requests per case first (default 20)"
    )
    parser.add_argument("--regenerate", action="store_true", help="generate the data even if it is there")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the slow queries")
    parser.add_argument("--note", default="", help="what is special about this run, kept with the results")
    args = parser.parse_args()

    url = configure_environment()
    # whitenoise warns on every start that collectstatic has not run; the benchmark serves no static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    from demands.models import Demand

    call_command("migrate", verbosity=0)
    if args.regenerate or Demand.objects.count() != args.rows:
        generate(args.rows)
    summary = run(args)
    report(summary)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"demand_list-{summary['measured_at'].replace(':', '')}.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    print(f"\nwritten {path.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
