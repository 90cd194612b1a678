"""Realistic market-scale texts for the matching benchmarks: N listings and M demands whose wording has the
vocabulary, the lengths and the long tail of a real market, loaded into a benchmark database.

The generator starts from the hand-written records of ``bench/matching_eval`` (594 listings, 72 demands, plant
and academic language over the 11 fields) and the domain vocabulary's topic sections
(``brokers/data/domain_terms.txt``, 6,244 terms in ~30 topics). Each generated record takes a written record of
its field as a skeleton and:

- swaps about half of its domain terms for other terms of the same topic (注塑模具 → 热流道; 银纹 → 缩痕), so
  that texts stay coherent but the corpus uses the whole vocabulary, not 600 texts repeated;
- adds sentences of other records of the same field (mutated the same way), and for listings application
  scenarios and technical details, for demands confidential details (parameters, equipment, materials);
- adds the long tail every real corpus has: model numbers and grades (QX-2350, GH4169, 6061-T6), product and
  company names the segmenter has never seen, figures with units.

The result (200,000 listings, 60,000 demands) has ~200,000 distinct terms and documents of 300–700 characters —
the size and shape the engine's memory and speed depend on — where the earlier template generator had 724 terms.
The evaluation set's own records are not loaded: the benchmark's queries come from it.
"""

from __future__ import annotations

import json
import random
import re
import string
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EVAL_DIR = BASE_DIR / "bench" / "matching_eval"
TERMS_FILE = BASE_DIR / "brokers" / "data" / "domain_terms.txt"
SEED = 20261202

CITIES = [
    "330100", "330200", "330300", "330400", "330500", "330600", "330700", "331000", "310000", "320100",
    "320500", "340100", "110000", "440300", "420100", "510100", "610100", "370200", "350200", "430100",
]  # fmt: skip
SUPPLIER_SUFFIXES = [
    ("university", ["理工大学", "科技大学", "工业大学", "农林大学", "师范大学", "医科大学"]),
    (
        "research_institute",
        ["先进技术研究院", "工业技术研究院", "材料研究所", "智能制造研究院", "农业科学院"],
    ),
    ("enterprise", ["科技有限公司", "新材料股份有限公司", "智能装备有限公司", "生物科技有限公司"]),
]
ENTERPRISE_SUFFIXES = ["精密制造有限公司", "机械有限公司", "化工有限公司", "电子科技有限公司", "食品有限公司",
                       "纺织印染有限公司", "汽车部件有限公司", "新能源科技有限公司", "环保工程有限公司", "农业开发有限公司"]  # fmt: skip
# Syllables of names nobody's dictionary holds: brands, products, places, people.
NAME_CHARS = "华瑞腾宏泰鑫恒达晟通凯博源丰润嘉盛隆远航信科创新锐驰联永昌钧浩铭昊澜峰睿祥翔耀"
SCENARIO_TEMPLATES = [
    "可应用于{a}、{b}和{c}等场景。",
    "适用于{a}、{b}等行业的{c}生产线。",
    "主要面向{a}和{b}领域，也可推广到{c}。",
]
DETAIL_TEMPLATES = [
    "关键指标：{a}≤{n1}{unit}，{b}提升{p}%，已在{name}的{model}型设备上连续运行{m}个月。",
    "采用{a}与{b}相结合的方案，核心部件选用{grade}，样机型号{model}。",
    "经{name}检测中心测试，{a}达到{n1}{unit}，{b}优于行业标准{p}%。",
    "配套{a}软件及{b}工艺包，提供{m}个月技术指导，可在{name}现场中试。",
    "已申请发明专利{k}项，其中{a}相关{j}项；{b}部分形成企业标准Q/{model}。",
]
DEMAND_DETAIL_TEMPLATES = [
    "现用设备为{name}{model}型，材料{grade}，{a}目前为{n1}{unit}，希望降到{n2}{unit}以下。",
    "年产量约{m}万件，{a}不良率{p}%，试过调整{b}但效果不稳定。",
    "现场条件：{a}工段，环境温度{n1}℃，要求不改动{b}主体结构，改造预算{m}万元以内。",
    "客户{name}要求{a}满足{grade}标准，{b}需通过第三方检测，交付周期{m}个月。",
]
UNITS = ["mm", "μm", "MPa", "℃", "%", "kW", "h", "mg/L", "dB", "kg"]
GRADES = ["GH4169", "TC4", "6061-T6", "SUS304", "Q345B", "PA66-GF30", "PC/ABS", "H13", "7075", "Cr12MoV",
          "LiFePO4", "NCM811", "PEEK", "PPS", "SiC", "GaN", "Al2O3", "ZrO2", "PVDF", "EPDM"]  # fmt: skip
ENGINEERED_PREFIXES = ["一种", "基于", "新型", "高效", "智能"]


# --- sources -------------------------------------------------------------------------------------------------


def read_topics() -> tuple[dict[str, list[list[str]]], dict[str, list[str]]]:
    """(field → its topics' term lists, term → its topic's terms) from the vocabulary's sections."""
    topics: dict[str, list[list[str]]] = defaultdict(list)
    current: list[str] | None = None
    for raw in TERMS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            field = line.lstrip("# ").split(" ")[0]
            if re.fullmatch(r"[a-z_]+", field):
                current = []
                topics[field].append(current)
            continue
        if line and current is not None:
            current.append(line.split()[0])
    topic_of = {term: topic for field_topics in topics.values() for topic in field_topics for term in topic}
    return dict(topics), topic_of


def read_eval(kind: str) -> dict[str, list[dict]]:
    by_field: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(EVAL_DIR.glob(f"{kind}s_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            by_field[record["field"]].append(record)
    return dict(by_field)


class Writer:
    """Mutates the written records into new ones (see the module's description)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.topics, self.topic_of = read_topics()
        self.longest = max(len(t) for t in self.topic_of)
        self.listings = read_eval("listing")
        self.demands = read_eval("demand")
        self.fields = sorted(set(self.listings) | set(self.demands))

    def mutate(self, text: str, rate: float = 0.5) -> str:
        """Swap domain terms (longest match first: 注塑模具 as a whole, not 注塑 + 模具) at ``rate``."""
        out, i, n = [], 0, len(text)
        while i < n:
            for size in range(min(self.longest, n - i), 1, -1):
                term = text[i : i + size]
                if term in self.topic_of:
                    out.append(self.rng.choice(self.topic_of[term]) if self.rng.random() < rate else term)
                    i += size
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def sentences(self, text: str) -> list[str]:
        return [s + "。" for s in re.split(r"[。；;]", text) if len(s) > 6]

    def field_terms(self, field: str, count: int) -> list[str]:
        topic = self.rng.choice(self.topics.get(field) or self.topics["advanced_manufacturing"])
        return [self.rng.choice(topic) for _ in range(count)]

    def name(self) -> str:
        return "".join(self.rng.choice(NAME_CHARS) for _ in range(self.rng.choice((2, 3))))

    def model(self) -> str:
        letters = "".join(self.rng.choice(string.ascii_uppercase) for _ in range(self.rng.choice((2, 3))))
        return f"{letters}-{self.rng.randint(10, 9999)}"

    def fill(self, template: str, field: str) -> str:
        a, b, c = self.field_terms(field, 3)
        r = self.rng
        return template.format(
            a=a, b=b, c=c, name=self.name(), model=self.model(), grade=r.choice(GRADES),
            n1=r.randint(1, 500), n2=r.randint(1, 50), unit=r.choice(UNITS), p=r.randint(2, 60),
            m=r.randint(2, 36), k=r.randint(1, 12), j=r.randint(1, 5),
        )  # fmt: skip

    def listing(self, field: str) -> dict:
        base = self.rng.choice(self.listings[field])
        others = self.listings[field]
        title = self.mutate(base["title"])
        if self.rng.random() < 0.2:
            title = self.rng.choice(ENGINEERED_PREFIXES) + title
        summary = self.mutate(base["summary"]) + self.mutate(
            self.rng.choice(self.sentences(self.rng.choice(others)["summary"]) or [""])
        )
        details = "".join(
            self.mutate(self.rng.choice(self.sentences(self.rng.choice(others)["summary"]) or [""]), 0.7)
            for _ in range(self.rng.randint(1, 3))
        ) + "".join(
            self.fill(self.rng.choice(DETAIL_TEMPLATES), field) for _ in range(self.rng.randint(1, 3))
        )
        return {
            "title": title[:200],
            "summary": summary,
            "scenarios": self.fill(self.rng.choice(SCENARIO_TEMPLATES), field),
            "details": details,
            "listing_type": base["listing_type"],
            "maturity": base["maturity"],
            "transfer_modes": base["transfer_modes"],
        }

    def demand(self, field: str) -> dict:
        base = self.rng.choice(self.demands[field])
        others = self.demands[field]
        summary = self.mutate(base["description"])
        if self.rng.random() < 0.5:
            summary += self.mutate(self.rng.choice(self.sentences(self.rng.choice(others)["description"])))
        details = "".join(
            self.fill(self.rng.choice(DEMAND_DETAIL_TEMPLATES), field) for _ in range(self.rng.randint(1, 3))
        )
        return {
            "title": self.mutate(base["title"])[:200],
            "summary": summary,
            "details": details,
            "cooperation_mode": base.get("cooperation_mode") or "development",
        }


# --- loading -------------------------------------------------------------------------------------------------

LISTING_REF = "bench-mx-l"
DEMAND_REF = "bench-mx-d"


def load(listings: int, demands: int, experts: int, seed: int = SEED) -> dict:
    """Replace the benchmark's records with ``listings`` published listings, ``demands`` published demands and
    ``experts`` vetted experts; returns counts and seconds."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from brokers.models import Expert
    from demands.models import Demand
    from listings.models import Listing
    from marketplace.management.commands.seed_demo import make_credit_code
    from marketplace.models import Organization, Region, TechnologyField, User
    from marketplace.taxonomy import OrganizationType

    started = time.perf_counter()
    rng = random.Random(seed)
    writer = Writer(rng)
    now = timezone.now()
    regions = {r.code: r for r in Region.objects.filter(code__in=CITIES)}
    fields = {f.code: f for f in TechnologyField.objects.filter(parent__isnull=True)}
    listing_fields = [f for f in writer.fields if f in writer.listings]
    demand_fields = [f for f in writer.fields if f in writer.demands]
    with connection.cursor() as cursor:
        # TRUNCATE … CASCADE: the ORM would load every id first to collect the cascades.
        cursor.execute(
            "TRUNCATE listings_listing, demands_demand, brokers_expert, brokers_rebuildrun CASCADE"
        )
    with transaction.atomic():
        Organization.objects.filter(name__startswith="基准").delete()
        user, _ = User.objects.get_or_create(
            username="bench-matching", defaults={"email": "bench-matching@example.com", "password": "!"}
        )
        user.password = make_password(None)
        user.save(update_fields=["password"])
        organizations = []
        for n in range(5000):
            region = rng.choice(CITIES)
            if n < 2000:
                org_type, suffixes = rng.choice(SUPPLIER_SUFFIXES)
                name = f"基准{writer.name()}{n:04d}{rng.choice(suffixes)}"
            else:
                org_type, name = (
                    OrganizationType.ENTERPRISE,
                    f"基准{writer.name()}{n:04d}{rng.choice(ENTERPRISE_SUFFIXES)}",
                )
            organizations.append(
                Organization(
                    name=name,
                    org_type=org_type,
                    credit_code=make_credit_code(region_code=region, serial=700_000 + n, org_type=org_type),
                    region=regions[region],
                    status=Organization.Status.VERIFIED,
                    verified_at=now,
                    created_by=user,
                )
            )
        organizations = Organization.objects.bulk_create(organizations)
        suppliers, enterprises = organizations[:2000], organizations[2000:]

        batch = []
        for n in range(listings):
            field = rng.choice(listing_fields)
            text = writer.listing(field)
            batch.append(
                Listing(
                    owner=rng.choice(suppliers),
                    created_by=user,
                    field=fields[field],
                    region=regions[rng.choice(CITIES)],
                    status="published",
                    published_at=now - timedelta(days=rng.uniform(0, 365)),
                    submitted_at=now - timedelta(days=rng.uniform(366, 400)),
                    asking_price=None if rng.random() < 0.35 else Decimal(rng.randrange(50, 5000) * 1000),
                    price_negotiable=rng.random() < 0.35,
                    external_ref=f"{LISTING_REF}{n:07d}",
                    search_text="",  # the keyword search is not what this benchmark measures
                    **text,
                )
            )
            if len(batch) == 2000:
                Listing.objects.bulk_create(batch)
                batch.clear()
        Listing.objects.bulk_create(batch)
        batch = []
        for n in range(demands):
            field = rng.choice(demand_fields)
            text = writer.demand(field)
            published_at = now - timedelta(days=rng.uniform(0, 90))
            batch.append(
                Demand(
                    owner=rng.choice(enterprises),
                    created_by=user,
                    field=fields[field],
                    region=regions[rng.choice(CITIES)],
                    status="published",
                    published_at=published_at,
                    submitted_at=published_at - timedelta(days=1),
                    deadline=now + timedelta(days=rng.uniform(10, 120)),
                    budget_max=Decimal(rng.choice([5, 10, 20, 50, 100, 200]) * 10_000),
                    external_ref=f"{DEMAND_REF}{n:07d}",
                    search_text="",
                    **text,
                )
            )
            if len(batch) == 2000:
                Demand.objects.bulk_create(batch)
                batch.clear()
        Demand.objects.bulk_create(batch)
        Expert.objects.bulk_create(
            Expert(
                name=f"{rng.choice('王李张刘陈杨赵黄周吴')}{writer.name()}",
                organization=rng.choice(suppliers),
                title=rng.choice(["教授", "研究员", "高级工程师", "副教授"]),
                field=fields[(field := rng.choice(listing_fields))],
                region=regions[rng.choice(CITIES)],
                expertise="、".join(writer.field_terms(field, 6)),
                achievements=writer.mutate(writer.listing(field)["summary"]),
                status=Expert.Status.VETTED,
            )
            for _ in range(experts)
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # this machine's PostgreSQL runs without autovacuum
    return {
        "listings": listings,
        "demands": demands,
        "experts": experts,
        "load_s": round(time.perf_counter() - started, 1),
    }
