"""Demo listings for ``manage.py seed_demo``: ``seed_listings(stdout=None)``.

Idempotent: each demo listing is keyed by its ``external_ref`` ("demo-listing-…"); a listing that is already
there is left alone, with everything that hangs off it (public listing, intents, auction, deal, publicity), so
running it again changes nothing and what users did in the meantime is kept. Everything goes through the real
services — create, submit, review by the demo administrator, public listing, intents, the end-of-period
decision, admission to the auction, bids, negotiation, deals, publicity, certification — so audit entries,
notifications, paddles and certificate codes are the real thing.

The past is reproduced by passing ``now=`` to the services that take it (a listing period that ended
yesterday, a deal concluded two months ago). The one running auction is the exception: the decision schedules
an auction ``AUCTION_LEAD_HOURS`` ahead for ``AUCTION_DURATION_HOURS``; for the demo its end is pushed three
days out so that visitors find it running (a direct update, commented below, of a row no bid has touched yet).

Needs the demo organizations of ``seed_demo`` (and its administrator); without them it reports and does nothing.
Every organization, person, patent number and price below is invented.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from listings import services
from listings.models import Auction, Deal, Listing, PublicListing
from marketplace.management.commands.seed_demo import ADMIN_USERNAME, silence_demo_email
from marketplace.models import Organization, User

REVIEW_REASON = "成果信息真实完整，权属清晰，准予发布。（演示数据）"

QTUT = "钱塘理工大学"
YJEU = "甬江工程大学"
OJST = "瓯江科技学院"
YZFT = "越州纺织服装学院"
WZAFU = "婺州农林大学"
ZDAMI = "浙东先进制造技术研究院"
QINGXI = "湖州清溪环境工程技术研究院"
ZHIGAN = "杭州智感物联网研究院"
HECHENG = "嘉兴禾城新材料研究院"
HENGTUO = "杭州恒拓精密模具有限公司"
RUIFENG = "台州瑞丰塑模科技有限公司"
BIYUAN = "湖州碧源化工有限公司"
ANLAN = "温州安澜电气有限公司"
HEFENG = "嘉兴禾丰食品有限公司"
HAINA = "宁波海纳纺织机械有限公司"

# What the demo does with a listing after it is published.
PUBLISHED = "published"  # on the market, not publicly listed
OPEN = "open"  # publicly listed, period running, with ``intents``
AUCTION = "auction"  # two intents → a running auction with bids
PUBLICITY = "publicity"  # state-funded, sold in negotiation today → publicity in its period
CERTIFIED = "certified"  # state-funded, sold in negotiation long ago → publicity certified
SOLD = "sold"  # sold in negotiation ``sold_days_ago`` → a comparable price
PENDING = "pending_review"  # submitted, waiting for the reviewers


@dataclass(frozen=True)
class ListingSpec:
    ref: str  # "demo-listing-<ref>"
    owner: str
    title: str
    summary: str
    listing_type: str
    field: str
    sub_field: str
    maturity: str
    transfer_modes: tuple[str, ...]
    asking_price: int | None
    details: str = ""
    patent_number: str = ""
    scenarios: str = ""
    inventors: str = ""
    state_funded: bool = False
    stage: str = PUBLISHED
    floor_price: int | None = None
    increment: int = 10_000
    intents: tuple[str, ...] = ()  # buyers filing intents (their administrators act)
    price: int | None = None  # the agreed price of a deal
    sold_days_ago: int = 0
    bids: tuple[tuple[str, int], ...] = field(default=())  # (bidder, maximum), in order


LISTINGS: tuple[ListingSpec, ...] = (
    ListingSpec(
        ref="laser-cladding-mould-repair",
        owner=ZDAMI,
        title="基于激光熔覆的注塑模具型腔表面强化与修复技术",
        summary=(
            "采用同轴送粉激光熔覆在P20、H13模具钢型腔表面制备钴基/镍基合金强化层，熔覆层硬度HRC52–58，"
            "与基体冶金结合；可对磨损、崩角型腔进行局部修复，修复后模具寿命提升1.5倍以上。"
        ),
        details="已在3家汽车内饰件模具企业完成中试验证，累计修复模具40余套；提供工艺参数包与操作培训。",
        listing_type="invention_patent",
        patent_number="ZL202110358214.6",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.moulds_plastics",
        maturity="small_batch",
        transfer_modes=("transfer", "exclusive_license"),
        asking_price=900_000,
        scenarios="汽车内饰件、家电外壳注塑模具的型腔强化与磨损修复；压铸模具热裂纹修复。",
        inventors="韩志刚、周伟、林晓",
        stage=AUCTION,
        floor_price=800_000,
        increment=20_000,
        intents=(HENGTUO, RUIFENG),
        bids=((HENGTUO, 800_000), (RUIFENG, 860_000), (HENGTUO, 900_000), (RUIFENG, 940_000)),
    ),
    ListingSpec(
        ref="arc-fault-detection",
        owner=OJST,
        title="基于小波特征的低压配电电弧故障检测方法",
        summary=(
            "提取回路电流高频小波能量与过零点畸变特征，以轻量级分类模型识别串联电弧故障，"
            "识别准确率98.6%，误动率低于0.1%，可嵌入塑壳断路器与智能配电终端的MCU。"
        ),
        listing_type="invention_patent",
        patent_number="ZL202010987123.4",
        field="electronic_information",
        sub_field="electronic_information.smart_control",
        maturity="pilot",
        transfer_modes=("exclusive_license", "non_exclusive_license"),
        asking_price=None,
        scenarios="住宅与商业建筑配电箱、光伏直流侧电弧保护、电动自行车充电场所。",
        inventors="叶方舟、郑晓明",
        state_funded=True,
        stage=PUBLICITY,
        floor_price=300_000,
        intents=(ANLAN,),
        price=360_000,
    ),
    ListingSpec(
        ref="anti-retrogradation-enzyme",
        owner=WZAFU,
        title="速冻米制品抗回生复合酶制剂及其制备方法",
        summary=(
            "以麦芽糖淀粉酶与转葡糖苷酶复配，延缓速冻粽子、汤圆等米制品冻藏中的淀粉回生，"
            "冻藏6个月后硬度增幅降低45%，不改变口味与配料表，添加量0.05%。"
        ),
        listing_type="invention_patent",
        patent_number="ZL201911234567.8",
        field="agriculture",
        sub_field="agriculture.food_processing",
        maturity="industrialised",
        transfer_modes=("transfer", "exclusive_license"),
        asking_price=350_000,
        inventors="朱良才、吴敏",
        state_funded=True,
        stage=CERTIFIED,
        floor_price=300_000,
        intents=(HEFENG,),
        price=320_000,
        sold_days_ago=40,
    ),
    ListingSpec(
        ref="vocs-rco-unit",
        owner=QINGXI,
        title="VOCs蓄热式催化燃烧一体化装置",
        summary=(
            "三室蓄热式催化燃烧（RCO），起燃温度280℃，热回收效率≥95%，非甲烷总烃去除率≥98%；"
            "模块化撬装，适用于风量5000–30000m³/h的涂料、化工、印刷废气。"
        ),
        listing_type="utility_model",
        patent_number="ZL202220456789.1",
        field="environment",
        sub_field="environment.air_pollution",
        maturity="industrialised",
        transfer_modes=("transfer", "equity"),
        asking_price=600_000,
        inventors="潘红梅、沈建",
        stage=OPEN,
        floor_price=550_000,
        intents=(BIYUAN,),
    ),
    ListingSpec(
        ref="mould-vacuum-heat-treatment",
        owner=ZDAMI,
        title="注塑模具镶件真空热处理变形控制方法",
        summary="通过分段预热与高压气淬参数优化，将大型模具镶件热处理变形控制在0.05mm以内。",
        listing_type="invention_patent",
        patent_number="ZL201910876543.2",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.moulds_plastics",
        maturity="industrialised",
        transfer_modes=("transfer",),
        asking_price=450_000,
        inventors="韩志刚、许峰",
        stage=SOLD,
        floor_price=400_000,
        intents=(RUIFENG,),
        price=420_000,
        sold_days_ago=60,
    ),
    ListingSpec(
        ref="laser-texturing-demoulding",
        owner=QTUT,
        title="模具型腔激光织构化脱模技术",
        summary="皮秒激光在型腔表面加工微织构，降低脱模力30%，减少顶白与拉伤，适用于深腔薄壁注塑件。",
        listing_type="invention_patent",
        patent_number="ZL202010123456.7",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.moulds_plastics",
        maturity="pilot",
        transfer_modes=("transfer", "exclusive_license"),
        asking_price=600_000,
        inventors="赵明远、孙磊",
        stage=SOLD,
        floor_price=500_000,
        intents=(HENGTUO,),
        price=560_000,
        sold_days_ago=120,
    ),
    ListingSpec(
        ref="breaker-contact-temperature",
        owner=OJST,
        title="断路器触头温升在线监测方法",
        summary="利用无源无线测温与温升模型在线评估断路器触头接触状态，提前预警接触不良。",
        listing_type="invention_patent",
        patent_number="ZL201810654321.0",
        field="electronic_information",
        sub_field="electronic_information.smart_control",
        maturity="small_batch",
        transfer_modes=("non_exclusive_license",),
        asking_price=280_000,
        inventors="叶方舟、陈浩",
        stage=SOLD,
        floor_price=250_000,
        intents=(ANLAN,),
        price=260_000,
        sold_days_ago=90,
    ),
    ListingSpec(
        ref="low-light-image-enhancement",
        owner=QTUT,
        title="工业相机低照度图像增强算法软件V2.0",
        summary="面向边缘视觉芯片的低照度降噪与增强算法，1080p@30fps实时运行，信噪比提升6dB。",
        listing_type="software",
        patent_number="2022SR0876543",
        field="electronic_information",
        sub_field="electronic_information.software",
        maturity="pilot",
        transfer_modes=("non_exclusive_license", "joint_development"),
        asking_price=300_000,
        scenarios="工业检测相机、车载摄像头、安防监控。",
        inventors="赵明远、钱程",
    ),
    ListingSpec(
        ref="aluminium-knuckle-topology",
        owner=YJEU,
        title="铝合金转向节轻量化拓扑优化与锻造工艺",
        summary="基于拓扑优化与锻造流线仿真的6082铝合金转向节设计方法，减重28%，台架疲劳寿命满足主机厂要求。",
        listing_type="invention_patent",
        patent_number="ZL202110567890.3",
        field="modern_transport",
        sub_field="modern_transport.automotive",
        maturity="small_batch",
        transfer_modes=("transfer", "exclusive_license"),
        asking_price=1_200_000,
        inventors="马晓东、杨帆、李强",
        state_funded=True,
    ),
    ListingSpec(
        ref="low-liquor-dyeing",
        owner=YZFT,
        title="涤纶织物小浴比气流染色工艺",
        summary="浴比1:4的气流染色工艺包（升温曲线、助剂配方、染料选型），节水45%、节汽30%，色牢度4–5级。",
        listing_type="know_how",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.textiles",
        maturity="industrialised",
        transfer_modes=("non_exclusive_license",),
        asking_price=450_000,
        inventors="沈佳怡、王磊",
    ),
    ListingSpec(
        ref="warp-break-vision",
        owner=ZHIGAN,
        title="一种基于边缘计算的经编机断纱视觉检测方法",
        summary="线阵相机与边缘计算盒实时检测经编机断纱，响应时间小于50ms，漏检率低于0.5%，可联动停机。",
        listing_type="invention_patent",
        patent_number="ZL202111098765.5",
        field="electronic_information",
        sub_field="electronic_information.smart_control",
        maturity="pilot",
        transfer_modes=("non_exclusive_license", "joint_development"),
        asking_price=280_000,
        inventors="刘思远、张宁",
        stage=OPEN,
        floor_price=250_000,
        intents=(HAINA,),
    ),
    ListingSpec(
        ref="ceramic-coated-separator",
        owner=HECHENG,
        title="锂电池陶瓷涂覆隔膜及其制备方法",
        summary="勃姆石/PVDF复合涂层隔膜，150℃热收缩率小于2%，涂层厚度2μm，适用于动力与储能电池。",
        listing_type="invention_patent",
        patent_number="ZL202210345678.9",
        field="new_energy",
        sub_field="new_energy.energy_storage",
        maturity="pilot",
        transfer_modes=("transfer", "equity"),
        asking_price=1_500_000,
        inventors="陆振华、顾晨",
    ),
    ListingSpec(
        ref="eva-midsole",
        owner=QTUT,
        title="高回弹轻量化EVA发泡鞋底材料",
        summary="EVA/POE/石墨烯复合超临界发泡，密度0.12g/cm³，回弹率65%，适用于运动鞋与休闲鞋中底。",
        listing_type="invention_patent",
        patent_number="ZL202210987654.1",
        field="new_materials",
        sub_field="new_materials.polymers",
        maturity="pilot",
        transfer_modes=("transfer", "exclusive_license"),
        asking_price=400_000,
        inventors="赵明远、黄蕾",
        stage=PENDING,
    ),
    ListingSpec(
        ref="bayberry-storage",
        owner=WZAFU,
        title="杨梅采后气调保鲜技术",
        summary="预冷＋气调包装＋低温物流的杨梅保鲜工艺，货架期由3天延长到12天，腐烂率低于5%。",
        listing_type="know_how",
        field="agriculture",
        sub_field="agriculture.food_processing",
        maturity="industrialised",
        transfer_modes=("non_exclusive_license",),
        asking_price=120_000,
        inventors="朱良才、方园",
    ),
)


def demo_ref(spec: ListingSpec) -> str:
    return f"demo-listing-{spec.ref}"


def _admin_of(organization: Organization) -> User:
    return organization.created_by


def _create_published(spec: ListingSpec, owner: Organization, reviewer: User, *, published_at) -> Listing:
    actor = _admin_of(owner)
    listing = services.listing_create(
        owner=owner,
        actor=actor,
        title=spec.title,
        summary=spec.summary,
        details=spec.details,
        listing_type=spec.listing_type,
        patent_number=spec.patent_number,
        field=spec.field,
        sub_field=spec.sub_field or None,
        maturity=spec.maturity,
        scenarios=spec.scenarios,
        transfer_modes=list(spec.transfer_modes),
        asking_price=spec.asking_price,
        price_negotiable=spec.asking_price is None,
        inventors=spec.inventors,
        state_funded=spec.state_funded,
    )
    # The interchange reference is not an editable field of the services: it keys the demo row.
    Listing.objects.filter(pk=listing.pk).update(external_ref=demo_ref(spec))
    services.listing_submit(listing=listing, actor=actor)
    if spec.stage == PENDING:
        return listing
    services.listing_review(listing=listing, actor=reviewer, approve=True, reason=REVIEW_REASON)
    # Backdate the publication so the market list shows the demo in a plausible order.
    Listing.objects.filter(pk=listing.pk).update(published_at=published_at)
    listing.refresh_from_db()
    return listing


def _public_listing(spec, listing, organizations, *, opened_at, days) -> PublicListing:
    public = services.public_listing_open(
        listing=listing,
        actor=_admin_of(listing.owner),
        floor_price=spec.floor_price,
        increment=spec.increment,
        days=days,
        now=opened_at,
    )
    for n, buyer_name in enumerate(spec.intents):
        buyer = organizations[buyer_name]
        services.intent_file(
            public_listing=public,
            organization=buyer,
            actor=_admin_of(buyer),
            message="我司对该成果有明确的产业化需求，希望进一步洽谈。（演示数据）",
            now=opened_at + timedelta(days=1, hours=n),
        )
    return public


def _seed_one(spec: ListingSpec, organizations: dict, reviewer: User, now) -> Listing:
    owner = organizations[spec.owner]
    # Published a while before anything else happened to it, the demo listings a few days apart.
    published_at = now - timedelta(days=60 + spec.sold_days_ago + 3 * LISTINGS.index(spec))
    listing = _create_published(spec, owner, reviewer, published_at=published_at)
    if spec.stage in (PUBLISHED, PENDING):
        return listing

    if spec.stage == OPEN:
        _public_listing(spec, listing, organizations, opened_at=now - timedelta(days=5), days=20)
        return listing

    if spec.stage == AUCTION:
        # Decide so that the auction (scheduled AUCTION_LEAD_HOURS after the decision) started 30 minutes ago.
        decided_at = now - timedelta(hours=settings.AUCTION_LEAD_HOURS, minutes=30)
        public = _public_listing(
            spec, listing, organizations, opened_at=decided_at - timedelta(days=20, seconds=1), days=20
        )
        services.public_listing_decide(public_listing=public, now=decided_at)
        auction = Auction.objects.get(public_listing=public)
        # Demo only: keep the lot running for three days so visitors find a live auction. Nothing has bid yet,
        # and scheduled_end and ends_at move together (the "never earlier" constraint holds).
        end = now + timedelta(days=3)
        Auction.objects.filter(pk=auction.pk, bid_count=0).update(scheduled_end=end, ends_at=end)
        auction.refresh_from_db()
        for buyer_name in spec.intents:
            buyer = organizations[buyer_name]
            services.auction_join(auction=auction, organization=buyer, actor=_admin_of(buyer))
        for n, (buyer_name, maximum) in enumerate(spec.bids):
            buyer = organizations[buyer_name]
            services.auction_bid(
                auction=auction,
                organization=buyer,
                actor=_admin_of(buyer),
                maximum=Decimal(maximum),
                client_token=f"demo-{spec.ref}-{n}",
                now=now - timedelta(minutes=25 - n * 5),
            )
        return listing

    # Negotiation with the only buyer, then the deal: today (publicity in its period) or in the past.
    concluded_at = now - timedelta(days=spec.sold_days_ago)
    opened_at = concluded_at - timedelta(days=25)
    public = _public_listing(spec, listing, organizations, opened_at=opened_at, days=20)
    services.public_listing_decide(public_listing=public, now=opened_at + timedelta(days=20, seconds=1))
    buyer = organizations[spec.intents[0]]
    if spec.sold_days_ago == 0:
        services.negotiation_conclude(
            public_listing=public, actor=_admin_of(listing.owner), buyer=buyer, price=spec.price
        )
    else:
        # ``negotiation_conclude`` is dated now; a deal of the past goes through the hand-over it calls,
        # ``deal_record`` (documented to run inside the caller's transaction), with its date.
        with transaction.atomic():
            locked = PublicListing.objects.select_for_update().get(pk=public.pk)
            services.deal_record(
                listing=listing,
                buyer=buyer,
                price=Decimal(spec.price),
                via=Deal.Via.NEGOTIATION,
                public_listing=locked,
                actor=_admin_of(listing.owner),
                now=concluded_at,
            )
    if spec.stage == CERTIFIED:
        deal = listing.deals.get()
        services.publicity_certify(publicity=deal.publicity, now=now)
    return listing


def seed_listings(stdout=None) -> list[tuple[ListingSpec, Listing | None, bool]]:
    """Create the demo listings that are missing. Returns ``(spec, listing or None, created)`` per spec."""
    names = {spec.owner for spec in LISTINGS} | {name for spec in LISTINGS for name in spec.intents}
    organizations = {
        org.name: org
        for org in Organization.objects.filter(
            name__in=names, status=Organization.Status.VERIFIED
        ).select_related("created_by")
    }
    reviewer = User.objects.filter(username=ADMIN_USERNAME, is_staff=True).first()
    missing = sorted(names - set(organizations))
    if reviewer is None or missing:
        if stdout is not None:
            stdout.write(
                "Demo listings skipped: run seed_demo first (missing: "
                + ", ".join(missing or [f"administrator {ADMIN_USERNAME}"])
                + ")."
            )
        return [(spec, None, False) for spec in LISTINGS]

    now = timezone.now()
    results = []
    with transaction.atomic():
        existing = {
            listing.external_ref: listing
            for listing in Listing.objects.filter(external_ref__in=[demo_ref(spec) for spec in LISTINGS])
        }
        for spec in LISTINGS:
            listing = existing.get(demo_ref(spec))
            if listing is not None:
                results.append((spec, listing, False))
                continue
            results.append((spec, _seed_one(spec, organizations, reviewer, now), True))
        silence_demo_email()
    if stdout is not None:
        created = sum(1 for *_, was_created in results if was_created)
        stdout.write(
            f"Demo listings: {len(results)} ({created} created now, {len(results) - created} already there); "
            "one running auction, one publicity notice in its period, one certified."
        )
    return results
