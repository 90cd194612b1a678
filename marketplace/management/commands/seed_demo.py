"""Fill the database with a fictional but realistic demo market: ``manage.py seed_demo``.

Idempotent: everything is looked up by a natural key (username, organization name, owner and demand title) and
only what is missing is created, so running it again changes nothing, and decisions an administrator made in the
meantime are kept. Organizations go through the real services (``organization_create``, then
``organization_decide`` by the demo administrator with a reason), and so do demands (create, submit, review by
the demo administrator, proposals with their receipts, close, shortlist, award), so the audit log, the
commitments and the notifications look like the real thing.

Every organization, person, address and credit code below is invented (the codes are generated, with the
organization's region in digits 3-8 and a valid check character). Demo addresses are @example.com and get no
e-mail: notifications created while seeding are shown on the website only.

Layout, for later additions (listings, brokers, contracts): a data section of plain specs, one
``seed_<thing>`` function per kind of record, and ``Command.handle`` calling them in order inside one transaction.
"""

import logging
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from demands import services as demand_services
from demands.models import Demand, Proposal
from marketplace import services
from marketplace.exceptions import ApplicationError
from marketplace.models import Membership, Notification, Organization, SubMarket, User
from marketplace.taxonomy import OrganizationType

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "techmarket-admin"
DEMO_PASSWORD = "techmarket-demo"
DEMO_EMAIL_DOMAIN = "example.com"

APPROVE_REASON = "营业执照（或事业单位法人证书）与统一社会信用代码核验一致，准予认证。（演示数据）"
REQUEST_DOCUMENTS_REASON = "请上传加盖公章的营业执照副本扫描件及法定代表人授权书。（演示数据）"

VERIFIED = Organization.Status.VERIFIED
PENDING = Organization.Status.PENDING
NEEDS_DOCUMENTS = Organization.Status.NEEDS_DOCUMENTS

ENTERPRISE = OrganizationType.ENTERPRISE
UNIVERSITY = OrganizationType.UNIVERSITY
INSTITUTE = OrganizationType.RESEARCH_INSTITUTE
INTERMEDIARY = OrganizationType.INTERMEDIARY


# --- credit codes -----------------------------------------------------------------------------------------

# GB 11714 organization code (characters 9-17 of a credit code): 8 body characters and a check character.
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Characters 1-2 of a credit code (GB 32100): registration authority and entity category.
CREDIT_CODE_PREFIX = {
    OrganizationType.ENTERPRISE: "91",  # market regulator: company
    OrganizationType.INTERMEDIARY: "91",
    OrganizationType.UNIVERSITY: "12",  # establishment authority: public institution
    OrganizationType.RESEARCH_INSTITUTE: "12",
    OrganizationType.GOVERNMENT: "11",  # establishment authority: government body
    OrganizationType.OTHER: "52",  # civil affairs: private non-enterprise unit
}


def organization_code(serial: int) -> str:
    """A GB 11714 organization code in the "MA" series of newly registered entities, derived from ``serial``."""
    body = f"MA{serial % 1_000_000:06d}"
    total = sum(_ORG_CODE_VALUES.index(c) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(*, region_code: str, serial: int, org_type: str = OrganizationType.ENTERPRISE) -> str:
    """A valid unified social credit code: prefix, region code (digits 3-8), organization code, check character."""
    first17 = CREDIT_CODE_PREFIX[OrganizationType(org_type)] + region_code + organization_code(serial)
    return first17 + uscc.calc_check_digit(first17)


def demo_credit_code(spec: "OrgSpec") -> str:
    # Derived from the name, not from the position in the list, so inserting an organization later never
    # hands an existing organization's code to a new one.
    return make_credit_code(
        region_code=spec.region, serial=zlib.crc32(spec.name.encode()), org_type=spec.org_type
    )


# --- data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonSpec:
    username: str
    full_name: str
    title: str = ""


@dataclass(frozen=True)
class OrgSpec:
    name: str
    short_name: str
    org_type: str
    region: str  # GB/T 2260 city code
    fields: tuple[str, ...]
    admin: PersonSpec
    description: str
    address: str
    phone: str
    status: str = VERIFIED
    members: tuple[PersonSpec, ...] = field(default=())


ORGANIZATIONS: tuple[OrgSpec, ...] = (
    # Enterprises: the demand side, across Zhejiang's manufacturing clusters.
    OrgSpec(
        name="杭州恒拓精密模具有限公司",
        short_name="恒拓模具",
        org_type=ENTERPRISE,
        region="330100",
        fields=("advanced_manufacturing.moulds_plastics", "new_materials.polymers"),
        admin=PersonSpec("hengtuo", "陈建华", "总经理"),
        description=(
            "专业从事汽车内饰件、家电外壳注塑模具的设计与制造，拥有大型精密注塑机四十余台，年产模具三百余套。"
            "正在寻求随形冷却水路与模温智能控制方面的技术合作。"
        ),
        address="杭州市钱塘区示范路 88 号",
        phone="0571-86120088",
        members=(PersonSpec("hengtuo-rd", "李卫东", "研发部经理"),),
    ),
    OrgSpec(
        name="台州瑞丰塑模科技有限公司",
        short_name="瑞丰塑模",
        org_type=ENTERPRISE,
        region="331000",
        fields=("advanced_manufacturing.moulds_plastics", "advanced_manufacturing.equipment"),
        admin=PersonSpec("ruifeng", "林志强", "技术副总"),
        description="主营塑料周转箱、汽车保险杠模具及注塑成型，希望引进模具寿命预测与表面强化技术。",
        address="台州市经济开发区塑模路 16 号",
        phone="0576-88231616",
    ),
    OrgSpec(
        name="绍兴锦程印染有限公司",
        short_name="锦程印染",
        org_type=ENTERPRISE,
        region="330600",
        fields=("advanced_manufacturing.textiles", "environment.water_treatment"),
        admin=PersonSpec("jincheng", "沈国良", "厂长"),
        description="年印染加工化纤面料一亿米，重点攻关印染废水深度处理回用与低浴比节能染色工艺。",
        address="绍兴市柯东工业园纺织大道 210 号",
        phone="0575-84561210",
    ),
    OrgSpec(
        name="宁波锐驰汽车零部件有限公司",
        short_name="锐驰汽配",
        org_type=ENTERPRISE,
        region="330200",
        fields=("modern_transport.automotive", "advanced_manufacturing.machinery_hardware"),
        admin=PersonSpec("ruichi", "周海峰", "技术总监"),
        description="为整车厂配套生产转向节、控制臂等底盘铝合金锻件，需求轻量化结构优化与在线质量检测方案。",
        address="宁波市北仑区港城路 55 号",
        phone="0574-86875055",
    ),
    OrgSpec(
        name="杭州芯瞳微电子有限公司",
        short_name="芯瞳微电子",
        org_type=ENTERPRISE,
        region="330100",
        fields=("electronic_information.microelectronics", "electronic_information.smart_control"),
        admin=PersonSpec("xintong", "吴晓琳", "首席技术官"),
        description="专注工业图像传感器与边缘视觉芯片设计，寻求低照度成像算法与车规级可靠性测试合作。",
        address="杭州市滨江区创智街 9 号 12 楼",
        phone="0571-87659009",
    ),
    OrgSpec(
        name="嘉兴禾丰食品有限公司",
        short_name="禾丰食品",
        org_type=ENTERPRISE,
        region="330400",
        fields=("advanced_manufacturing.light_industry_food", "agriculture.food_processing"),
        admin=PersonSpec("hefeng", "钱玉芳", "品控经理"),
        description="生产速冻粽子、米制品等传统食品，希望解决速冻米制品回生老化问题并延长货架期。",
        address="嘉兴市南湖区禾丰路 31 号",
        phone="0573-82203131",
    ),
    OrgSpec(
        name="湖州碧源化工有限公司",
        short_name="碧源化工",
        org_type=ENTERPRISE,
        region="330500",
        fields=("advanced_manufacturing.chemical_engineering", "environment.air_pollution"),
        admin=PersonSpec("biyuan", "姚建明", "安环部长"),
        description="生产水性涂料助剂与精细化学品，攻关挥发性有机物（VOCs）高效催化燃烧与溶剂回收。",
        address="湖州市吴兴区化工园区清源路 7 号",
        phone="0572-26110707",
    ),
    OrgSpec(
        name="温州安澜电气有限公司",
        short_name="安澜电气",
        org_type=ENTERPRISE,
        region="330300",
        fields=("electronic_information.smart_control", "new_energy.energy_saving"),
        admin=PersonSpec("anlan", "郑立新", "研发中心主任"),
        description="生产塑壳断路器与智能配电终端，需求电弧故障检测算法及物联网远程运维平台。",
        address="温州市乐清经济开发区电器路 128 号",
        phone="0577-61880128",
    ),
    OrgSpec(
        name="金华博锐五金工具有限公司",
        short_name="博锐五金",
        org_type=ENTERPRISE,
        region="330700",
        fields=("advanced_manufacturing.machinery_hardware", "new_materials.metals"),
        admin=PersonSpec("borui", "胡永康", "董事长"),
        description="生产电动工具齿轮箱与园林工具，寻求粉末冶金齿轮降噪与刀具涂层技术。",
        address="金华市婺城区工业园五金路 66 号",
        phone="0579-82366066",
    ),
    OrgSpec(
        name="宁波海纳纺织机械有限公司",
        short_name="海纳纺机",
        org_type=ENTERPRISE,
        region="330200",
        fields=("advanced_manufacturing.equipment", "advanced_manufacturing.textiles"),
        admin=PersonSpec("haina", "孙海波", "总工程师"),
        description="制造高速经编机与配套电子送经系统，希望合作开发断纱视觉检测与设备远程诊断。",
        address="宁波市鄞州区机电园区纺机路 19 号",
        phone="0574-88190019",
    ),
    OrgSpec(
        name="嘉兴光合新能源科技有限公司",
        short_name="光合新能源",
        org_type=ENTERPRISE,
        region="330400",
        fields=("new_energy.solar_wind", "new_energy.energy_storage"),
        admin=PersonSpec("guanghe", "徐振宇", "总经理"),
        description="从事分布式光伏电站运维与工商业储能系统集成，需求组件热斑智能识别技术。",
        address="嘉兴市秀洲区光伏产业园阳光路 3 号",
        phone="0573-83330003",
        status=PENDING,
    ),
    OrgSpec(
        name="台州润泽药业有限公司",
        short_name="润泽药业",
        org_type=ENTERPRISE,
        region="331000",
        fields=("biomedicine.pharmaceuticals", "advanced_manufacturing.chemical_engineering"),
        admin=PersonSpec("runze", "蒋文华", "质量受权人"),
        description="生产心血管类原料药及中间体，计划开展连续流合成工艺改造与晶型研究。",
        address="台州市椒江区医化园区海泽路 21 号",
        phone="0576-88692021",
        status=NEEDS_DOCUMENTS,
    ),
    OrgSpec(
        name="温州步云鞋业有限公司",
        short_name="步云鞋业",
        org_type=ENTERPRISE,
        region="330300",
        fields=("new_materials.polymers", "advanced_manufacturing.light_industry_food"),
        admin=PersonSpec("buyun", "黄小燕", "开发部主管"),
        description="生产休闲鞋与运动鞋，寻求轻量化高回弹鞋底材料及环保胶黏剂替代方案。",
        address="温州市鹿城区鞋都大道 300 号",
        phone="0577-88653300",
        status=PENDING,
    ),
    # Universities: the supply side of technology and proposals.
    OrgSpec(
        name="钱塘理工大学",
        short_name="钱塘理工",
        org_type=UNIVERSITY,
        region="330100",
        fields=("electronic_information", "advanced_manufacturing", "new_materials"),
        admin=PersonSpec("qtut", "赵明远", "技术转移中心主任"),
        description="以工为主、多学科协调发展的省属高校，设有智能制造、材料与化工、信息工程等学院，技术转移中心对接企业需求。",
        address="杭州市钱塘区学林街 1 号",
        phone="0571-86919001",
    ),
    OrgSpec(
        name="甬江工程大学",
        short_name="甬江工大",
        org_type=UNIVERSITY,
        region="330200",
        fields=("modern_transport", "advanced_manufacturing.equipment", "modern_transport.shipbuilding"),
        admin=PersonSpec("yjeu", "马晓东", "科学技术研究院副院长"),
        description="在汽车轻量化、港口机械与船舶工程方向有长期积累，与宁波制造企业共建多个联合研发中心。",
        address="宁波市江北区甬江大道 818 号",
        phone="0574-87600818",
    ),
    OrgSpec(
        name="瓯江科技学院",
        short_name="瓯江科院",
        org_type=UNIVERSITY,
        region="330300",
        fields=("electronic_information.smart_control", "new_energy.energy_saving"),
        admin=PersonSpec("ojst", "叶方舟", "产学研合作处处长"),
        description="应用型本科院校，电气工程与智能控制学科服务温州电气产业集群。",
        address="温州市瓯海区高教园东路 5 号",
        phone="0577-86680005",
    ),
    OrgSpec(
        name="越州纺织服装学院",
        short_name="越州纺院",
        org_type=UNIVERSITY,
        region="330600",
        fields=("advanced_manufacturing.textiles", "new_materials.composites", "environment.water_treatment"),
        admin=PersonSpec("yzft", "沈佳怡", "科研处副处长"),
        description="以纺织工程、染整技术与服装设计见长，建有印染清洁生产工程技术中心。",
        address="绍兴市越城区镜湖大道 66 号",
        phone="0575-88346066",
    ),
    OrgSpec(
        name="婺州农林大学",
        short_name="婺州农林",
        org_type=UNIVERSITY,
        region="330700",
        fields=("agriculture", "agriculture.food_processing", "biomedicine.biotechnology"),
        admin=PersonSpec("wzafu", "朱良才", "成果转化办公室主任"),
        description="农林特色高校，在果蔬采后保鲜、食品发酵与生物育种方面拥有多项授权发明专利。",
        address="金华市金东区农林路 99 号",
        phone="0579-82280099",
    ),
    # Research institutes.
    OrgSpec(
        name="浙东先进制造技术研究院",
        short_name="浙东制造院",
        org_type=INSTITUTE,
        region="330200",
        fields=(
            "advanced_manufacturing.equipment",
            "advanced_manufacturing.moulds_plastics",
            "new_materials.metals",
        ),
        admin=PersonSpec("zdami", "韩志刚", "院长助理"),
        description="市校共建的新型研发机构，聚焦精密成形、增材制造与工业机器人应用，提供中试与检测服务。",
        address="宁波市高新区创新路 600 号",
        phone="0574-87910600",
    ),
    OrgSpec(
        name="湖州清溪环境工程技术研究院",
        short_name="清溪环境院",
        org_type=INSTITUTE,
        region="330500",
        fields=("environment.air_pollution", "environment.water_treatment", "environment.solid_waste"),
        admin=PersonSpec("qingxi", "潘红梅", "副院长"),
        description="从事工业废气治理、污水处理与固废资源化技术研发及工程化推广。",
        address="湖州市南浔区科创园清溪路 12 号",
        phone="0572-30120012",
    ),
    OrgSpec(
        name="杭州智感物联网研究院",
        short_name="智感研究院",
        org_type=INSTITUTE,
        region="330100",
        fields=(
            "electronic_information.smart_control",
            "electronic_information.software",
            "urban_social.public_safety",
        ),
        admin=PersonSpec("zhigan", "刘思远", "技术总监"),
        description="专注工业物联网、边缘计算与机器视觉，为制造企业提供数字化改造方案。",
        address="杭州市西湖区云谷路 18 号",
        phone="0571-85021818",
    ),
    OrgSpec(
        name="嘉兴禾城新材料研究院",
        short_name="禾城新材料院",
        org_type=INSTITUTE,
        region="330400",
        fields=("new_materials.composites", "new_materials.polymers", "new_energy.energy_storage"),
        admin=PersonSpec("hecheng", "陆振华", "主任"),
        description="研究碳纤维复合材料、功能高分子与电池隔膜材料，建有材料中试线。",
        address="嘉兴市经济技术开发区材料路 28 号",
        phone="0573-82588028",
    ),
    # Intermediaries: technology transfer and IP services, home of the brokers.
    OrgSpec(
        name="杭州启明技术转移服务有限公司",
        short_name="启明技转",
        org_type=INTERMEDIARY,
        region="330100",
        fields=("electronic_information", "advanced_manufacturing", "biomedicine"),
        admin=PersonSpec("qiming", "王丽娟", "总经理"),
        description="提供技术需求挖掘、成果评估、技术经纪与合同登记代理服务，拥有持证技术经纪人二十余名。",
        address="杭州市上城区钱江路 1366 号",
        phone="0571-87201366",
    ),
    OrgSpec(
        name="宁波甬创知识产权运营有限公司",
        short_name="甬创知产",
        org_type=INTERMEDIARY,
        region="330200",
        fields=("advanced_manufacturing", "modern_transport"),
        admin=PersonSpec("yongchuang", "杨帆", "运营总监"),
        description="专利导航、专利许可与转让运营，服务宁波汽车零部件与模具产业。",
        address="宁波市海曙区中山西路 188 号",
        phone="0574-87380188",
    ),
    OrgSpec(
        name="温州瓯越科技成果转化服务有限公司",
        short_name="瓯越转化",
        org_type=INTERMEDIARY,
        region="330300",
        fields=("electronic_information.smart_control", "new_materials"),
        admin=PersonSpec("ouyue", "章海燕", "负责人"),
        description="面向温州电气、鞋革产业的科技成果转化与技术经纪服务。",
        address="温州市鹿城区府前街 20 号",
        phone="0577-88220020",
        status=PENDING,
    ),
)


# Demands (SPEC §4) of the verified demo enterprises, with proposals from the demo universities and institutes.
# Each goes through the real services (create → submit → review → proposals → close → award), so receipts,
# commitments, audit entries and notifications are the real thing. ``status`` is how far the demo takes it.
DEMAND_DRAFT = "draft"
DEMAND_PENDING_REVIEW = "pending_review"
DEMAND_PUBLISHED = "published"
DEMAND_CLOSED = "closed"
DEMAND_AWARDED = "awarded"
DEMAND_REVIEW_REASON = "需求描述真实、具体，预算与周期合理，准予发布。（演示数据）"


@dataclass(frozen=True)
class ProposalSpec:
    supplier: str  # organization name; its administrator submits
    approach: str
    price: int | None
    duration_days: int
    team: str = ""


@dataclass(frozen=True)
class DemandSpec:
    owner: str  # organization name; its administrator drafts and manages the demand
    title: str  # with the owner, the natural key of a demo demand
    summary: str
    field: str
    region: str
    deadline_days: int
    cooperation_mode: str
    details: str = ""
    sub_field: str = ""
    budget_min: int | None = None
    budget_max: int | None = None
    budget_negotiable: bool = False
    mode: str = "open"
    nda_terms: str = ""  # set: an NDA is required, and suppliers accept it before bidding
    award_amount: int | None = None
    max_winners: int = 1
    contact_policy: str = "platform"
    status: str = DEMAND_PUBLISHED
    proposals: tuple[ProposalSpec, ...] = ()
    shortlist: tuple[str, ...] = ()  # suppliers shortlisted after the close
    award: str = ""  # the supplier awarded (status awarded)


QTUT = "钱塘理工大学"
YJEU = "甬江工程大学"
OJST = "瓯江科技学院"
YZFT = "越州纺织服装学院"
WZAFU = "婺州农林大学"
ZDAMI = "浙东先进制造技术研究院"
QINGXI = "湖州清溪环境工程技术研究院"
ZHIGAN = "杭州智感物联网研究院"
HECHENG = "嘉兴禾城新材料研究院"

DEMANDS: tuple[DemandSpec, ...] = (
    DemandSpec(
        owner="杭州恒拓精密模具有限公司",
        title="注塑件表面银纹与气泡缺陷分析",
        summary=(
            "我司为家电企业配套生产PC/ABS外壳注塑件，近期在浇口附近批量出现银纹和气泡，不良率约3%。"
            "希望合作方分析成因（原料含水、熔体温度、排气设计、剪切过热等），提出工艺与模具改进方案，"
            "并在我司产线上完成验证，不良率降至0.5%以下。"
        ),
        details=(
            "注塑机：海天MA2500/1000；模温60℃；料筒温度245–265℃；原料除湿干燥80℃×4小时。"
            "可提供不良样件、近三个月的工艺记录与模具图纸（签订合作协议后）。"
        ),
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.moulds_plastics",
        region="330100",
        budget_min=200_000,
        budget_max=500_000,
        deadline_days=45,
        cooperation_mode="development",
        contact_policy="after_proposal",
        proposals=(
            ProposalSpec(
                QTUT,
                "以Moldflow模流分析定位剪切过热与困气区域，结合正交试验优化干燥露点、料筒温度梯度与多段注射速度；"
                "在浇口附近增设0.02mm排气槽，并对样件做红外光谱与含水率检测确认成因。",
                320_000,
                90,
                "材料成型及控制工程系：教授1名、副教授2名、博士研究生3名",
            ),
            ProposalSpec(
                ZDAMI,
                "派驻工程师到现场采集工艺数据，用我院精密成形中试线复现缺陷；提供真空排气模具改造方案，"
                "并为产线加装料筒与模温的在线监测，形成工艺窗口卡控。",
                280_000,
                75,
                "精密成形研究所：高级工程师2名、工程师3名",
            ),
        ),
    ),
    DemandSpec(
        owner="杭州恒拓精密模具有限公司",
        title="随形冷却水路模具镶件的金属3D打印与寿命验证",
        summary=(
            "汽车内饰件模具的深腔部位冷却不均，成型周期长达48秒。拟采用随形冷却水路镶件（金属增材制造），"
            "目标将周期缩短20%，镶件寿命不低于30万模次。寻求设计、打印与热处理的一体化方案。"
        ),
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.moulds_plastics",
        region="330100",
        budget_min=300_000,
        budget_max=800_000,
        deadline_days=60,
        cooperation_mode="joint",
        status=DEMAND_PENDING_REVIEW,
    ),
    DemandSpec(
        owner="绍兴锦程印染有限公司",
        title="印染废水深度处理与回用",
        summary=(
            "公司日排印染废水约3000吨，经现有生化处理后COD约120mg/L、色度60倍。计划新建深度处理与回用系统，"
            "要求出水回用于前处理和水洗工序，回用率不低于60%，吨水运行成本不高于3.5元。"
            "本项目采用招标方式，投标内容在截止前密封。"
        ),
        details="现有工艺：调节池→水解酸化→接触氧化→混凝沉淀；可提供一年的进出水水质监测数据。",
        field="environment",
        sub_field="environment.water_treatment",
        region="330600",
        budget_min=1_500_000,
        budget_max=3_000_000,
        deadline_days=30,
        cooperation_mode="development",
        mode="tender",
        proposals=(
            ProposalSpec(
                QINGXI,
                "臭氧催化氧化＋曝气生物滤池＋超滤/反渗透双膜法，浓水经高级氧化后达标排放；"
                "提供中试装置现场运行一个月，回用率65%，吨水运行成本约3.1元。",
                2_600_000,
                240,
                "水处理工程中心：教授级高工1名、工程师6名",
            ),
            ProposalSpec(
                YZFT,
                "分质分流：前处理高浓废水单独预处理，染色漂洗水经混凝—臭氧—纳滤回用；"
                "结合低浴比染色工艺改造从源头减少排水量。",
                1_900_000,
                300,
                "印染清洁生产工程技术中心：教授2名、讲师3名",
            ),
        ),
    ),
    DemandSpec(
        owner="绍兴锦程印染有限公司",
        title="涤纶织物低浴比节能染色工艺开发",
        summary=(
            "现有溢流染色机浴比1:10，蒸汽和水耗高。希望开发1:5以下低浴比染色工艺及配套助剂方案，"
            "保证匀染性与色牢度（耐洗≥4级），综合能耗下降25%。"
        ),
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.textiles",
        region="330600",
        budget_min=300_000,
        budget_max=600_000,
        deadline_days=40,
        cooperation_mode="development",
        status=DEMAND_CLOSED,
        proposals=(
            ProposalSpec(
                YZFT,
                "采用气流染色与小浴比专用分散染料组合，建立升温曲线与助剂用量模型；在贵司两台染色机上中试。",
                450_000,
                150,
                "染整技术研究所：教授1名、副教授1名、实验员2名",
            ),
            ProposalSpec(
                QTUT,
                "基于染色动力学仿真优化升温与循环参数，开发在线浓度监测，实现染色终点自动判断。",
                520_000,
                180,
                "化学工程学院：教授1名、博士后1名、研究生4名",
            ),
        ),
        shortlist=(YZFT,),
    ),
    DemandSpec(
        owner="杭州芯瞳微电子有限公司",
        title="锂电池极片涂布厚度在线检测算法挑战",
        summary=(
            "面向锂电池极片涂布产线，征集基于我司线阵图像传感器的涂布厚度（面密度）在线检测算法："
            "幅宽600mm、走带速度30m/min，检测精度±1.5μm，实时输出横向厚度分布。"
            "评审通过的前两名方案各获奖金，知识产权在奖金支付后转让给我司。"
        ),
        field="new_energy",
        sub_field="new_energy.energy_storage",
        region="330100",
        budget_negotiable=True,
        deadline_days=50,
        cooperation_mode="transfer",
        mode="challenge",
        award_amount=200_000,
        max_winners=2,
        proposals=(
            ProposalSpec(
                ZHIGAN,
                "透射式β射线数据作标定基准，训练轻量级回归网络从线阵灰度推算面密度；边缘端推理延迟<5ms。",
                None,
                60,
                "机器视觉团队：算法工程师4名",
            ),
            ProposalSpec(
                HECHENG,
                "结合极片材料光学模型的物理约束反演算法，辅以卡尔曼滤波抑制振动噪声；已在隔膜产线验证类似方法。",
                None,
                75,
                "功能膜材料课题组：研究员1名、工程师2名",
            ),
            ProposalSpec(
                QTUT,
                "多光谱融合的厚度估计方法，配套自动标定流程；可在我校电池中试线上先行验证。",
                None,
                90,
                "光电检测实验室：教授1名、研究生3名",
            ),
        ),
    ),
    DemandSpec(
        owner="湖州碧源化工有限公司",
        title="水性涂料助剂车间VOCs高效催化燃烧治理",
        summary=(
            "助剂合成与灌装车间废气风量约20000m³/h，含醇醚类与少量含硫有机物，现有活性炭吸附难以稳定达标。"
            "寻求催化燃烧（或吸附浓缩＋催化燃烧）整体方案，非甲烷总烃排放浓度≤30mg/m³。"
        ),
        details=(
            "废气组分检测报告（第三方，2026年9月）：非甲烷总烃峰值850mg/m³，含二甲基硫约5mg/m³，"
            "间歇排放，夜间停产。车间平面图与现有治理设施参数见附件。"
        ),
        field="environment",
        sub_field="environment.air_pollution",
        region="330500",
        budget_min=800_000,
        budget_max=1_500_000,
        deadline_days=35,
        cooperation_mode="service",
        nda_terms=(
            "接收方对需求方披露的工艺配方、废气组分检测数据及车间布置图负有保密义务，仅用于本需求的方案编制，"
            "保密期限三年；未经书面同意不得向任何第三方披露。"
        ),
        proposals=(
            ProposalSpec(
                QINGXI,
                "沸石转轮吸附浓缩＋蓄热式催化燃烧（RCO），前置抗硫预处理层；提供三个月运行保障与在线监测联网。",
                1_280_000,
                120,
                "废气治理研究室：教授级高工1名、工程师4名",
            ),
        ),
    ),
    DemandSpec(
        owner="湖州碧源化工有限公司",
        title="精细化工母液溶剂回收与副产物资源化",
        summary="助剂生产母液中含乙二醇丁醚等溶剂约15%，希望开发精馏回收与副产盐资源化工艺，回收溶剂纯度≥99%。",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.chemical_engineering",
        region="330500",
        budget_min=400_000,
        budget_max=900_000,
        deadline_days=60,
        cooperation_mode="development",
        status=DEMAND_DRAFT,
    ),
    DemandSpec(
        owner="宁波锐驰汽车零部件有限公司",
        title="铝合金转向节轻量化结构优化与疲劳验证",
        summary=(
            "为新能源车型开发锻造铝合金转向节，要求在满足强度与刚度的前提下减重15%，"
            "并完成台架疲劳试验（100万次）验证。需提供拓扑优化、锻造工艺仿真与试验方案。"
        ),
        field="modern_transport",
        sub_field="modern_transport.automotive",
        region="330200",
        budget_min=400_000,
        budget_max=800_000,
        deadline_days=30,
        cooperation_mode="development",
        status=DEMAND_AWARDED,
        proposals=(
            ProposalSpec(
                YJEU,
                "拓扑优化＋形貌优化确定轻量化构型，锻造全流程仿真控制折叠与充不满；依托我校车辆工程实验室完成台架疲劳试验。",
                680_000,
                180,
                "汽车轻量化团队：教授1名、副教授2名、工程师2名",
            ),
            ProposalSpec(
                ZDAMI,
                "基于增材制造快速试制样件缩短验证周期，结合数字图像相关法测量应变场。",
                620_000,
                150,
                "增材制造研究所：研究员1名、工程师3名",
            ),
        ),
        award=YJEU,
    ),
    DemandSpec(
        owner="台州瑞丰塑模科技有限公司",
        title="汽车保险杠模具寿命预测与表面强化",
        summary=(
            "大型保险杠模具型腔在20万模次后出现拉伤与腐蚀，需停机抛光。希望建立基于工况数据的模具寿命预测模型，"
            "并提出型腔表面强化（PVD涂层或激光熔覆）方案，目标寿命提升50%。"
        ),
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.moulds_plastics",
        region="331000",
        budget_min=300_000,
        budget_max=600_000,
        deadline_days=40,
        cooperation_mode="development",
        proposals=(
            ProposalSpec(
                ZDAMI,
                "采集注塑机与模温机数据建立磨损退化模型；型腔采用CrAlN多层PVD涂层并做摩擦磨损对比试验。",
                480_000,
                120,
                "表面工程研究室：研究员1名、工程师2名",
            ),
        ),
    ),
    DemandSpec(
        owner="嘉兴禾丰食品有限公司",
        title="速冻米制品回生老化控制与货架期延长",
        summary=(
            "速冻粽子、年糕在冻藏3个月后出现回生发硬、口感下降。希望通过原料配比、复配酶制剂或工艺改进延缓淀粉回生，"
            "货架期内质构指标（硬度）变化不超过20%。"
        ),
        field="agriculture",
        sub_field="agriculture.food_processing",
        region="330400",
        budget_min=150_000,
        budget_max=300_000,
        deadline_days=45,
        cooperation_mode="development",
        proposals=(
            ProposalSpec(
                WZAFU,
                "筛选复配麦芽糖淀粉酶与亲水胶体，结合速冻曲线优化；用差示扫描量热法与质构仪跟踪回生进程。",
                260_000,
                150,
                "食品科学与工程学院：教授1名、讲师2名、研究生2名",
            ),
        ),
    ),
    DemandSpec(
        owner="嘉兴禾丰食品有限公司",
        title="速冻粽子包装密封性在线检测",
        summary="真空包装速冻粽子偶发漏气导致冻伤投诉，需要可集成到包装线（60袋/分钟）的密封性在线检测与剔除装置。",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.light_industry_food",
        region="330400",
        budget_negotiable=True,
        deadline_days=55,
        cooperation_mode="service",
    ),
    DemandSpec(
        owner="温州安澜电气有限公司",
        title="塑壳断路器电弧故障检测算法",
        summary=(
            "开发可嵌入塑壳断路器的电弧故障检测（AFDD）算法，满足GB/T 31143要求，"
            "对串联电弧识别率≥99%，对电机、开关电源等负载的误动作率≤0.1%，运行于Cortex-M4级MCU。"
        ),
        field="electronic_information",
        sub_field="electronic_information.smart_control",
        region="330300",
        budget_min=500_000,
        budget_max=1_000_000,
        deadline_days=50,
        cooperation_mode="development",
        proposals=(
            ProposalSpec(
                OJST,
                "高频电流特征＋小波包能量熵提取电弧特征，轻量化决策树部署于MCU；依托我院电器检测平台完成标准试验。",
                760_000,
                210,
                "电气与电子工程学院：教授1名、副教授2名",
            ),
        ),
    ),
    DemandSpec(
        owner="金华博锐五金工具有限公司",
        title="粉末冶金齿轮降噪与电动工具齿轮箱NVH优化",
        summary="角磨机齿轮箱噪声达92dB(A)，希望通过齿形修形、粉末冶金齿轮致密化与润滑优化降低5dB(A)以上。",
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.machinery_hardware",
        region="330700",
        budget_min=200_000,
        budget_max=400_000,
        deadline_days=35,
        cooperation_mode="consulting",
    ),
    DemandSpec(
        owner="宁波海纳纺织机械有限公司",
        title="高速经编机断纱视觉检测系统",
        summary=(
            "高速经编机转速2500rpm，断纱后停机不及时造成布面疵点。需要基于工业相机的断纱视觉检测系统，"
            "检出率≥99.5%，响应时间≤50ms，可通过PLC联动停机。"
        ),
        field="advanced_manufacturing",
        sub_field="advanced_manufacturing.equipment",
        region="330200",
        budget_min=300_000,
        budget_max=700_000,
        deadline_days=45,
        cooperation_mode="development",
        proposals=(
            ProposalSpec(
                ZHIGAN,
                "线阵相机＋频闪光源沿梳栉方向成像，边缘计算盒运行轻量化检测网络，经Profinet与PLC联动停机。",
                560_000,
                120,
                "工业视觉团队：高级工程师2名、算法工程师3名",
            ),
        ),
    ),
    DemandSpec(
        owner="嘉兴光合新能源科技有限公司",
        title="分布式光伏组件热斑智能识别",
        summary="运维的分布式光伏电站约300MW，希望用无人机红外巡检与图像识别自动定位热斑组件，识别准确率≥95%。",
        field="new_energy",
        sub_field="new_energy.solar_wind",
        region="330400",
        budget_min=200_000,
        budget_max=500_000,
        deadline_days=60,
        cooperation_mode="development",
        status=DEMAND_DRAFT,  # the organization is still waiting for verification: it may draft, not publish
    ),
)


# --- seeding functions ------------------------------------------------------------------------------------


def ensure_demo_admin(*, password: str = ADMIN_PASSWORD) -> tuple[User, bool]:
    """The platform administrator who reviews organizations. An existing account keeps its password."""
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        admin = User.objects.create_superuser(
            username=ADMIN_USERNAME,
            email=f"{ADMIN_USERNAME}@{DEMO_EMAIL_DOMAIN}",
            password=password,
            full_name="平台管理员",
            email_verified_at=timezone.now(),
        )
        return admin, True
    if not (admin.is_staff and admin.is_active):
        raise CommandError(
            f"A user named {ADMIN_USERNAME!r} exists but is not an active staff member; "
            "refusing to promote an ordinary account. Rename it or make it staff first."
        )
    return admin, False


def ensure_person(person: PersonSpec) -> tuple[User, bool]:
    user = User.objects.filter(username=person.username).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(
        username=person.username,
        email=f"{person.username}@{DEMO_EMAIL_DOMAIN}",
        password=DEMO_PASSWORD,
        full_name=person.full_name,
        email_verified_at=timezone.now(),
    )
    return user, True


def ensure_organization(spec: OrgSpec, *, reviewer: User) -> tuple[Organization, bool]:
    """Register the organization through the real service, then let the reviewer decide as the spec says."""
    admin, _ = ensure_person(spec.admin)
    organization = Organization.objects.filter(name=spec.name).first()
    created = organization is None
    if created:
        organization = services.organization_create(
            user=admin,
            name=spec.name,
            org_type=spec.org_type,
            region_code=spec.region,
            credit_code=demo_credit_code(spec),
            field_codes=list(spec.fields),
            short_name=spec.short_name,
            description=spec.description,
            address=spec.address,
            contact_name=spec.admin.full_name,
            contact_email=admin.email,
            contact_phone=spec.phone,
        )
        if spec.status == VERIFIED:
            services.organization_decide(
                organization=organization, decision="approve", actor=reviewer, reason=APPROVE_REASON
            )
        elif spec.status == NEEDS_DOCUMENTS:
            services.organization_decide(
                organization=organization,
                decision="request_documents",
                actor=reviewer,
                reason=REQUEST_DOCUMENTS_REASON,
            )
    for person in spec.members:
        member, _ = ensure_person(person)
        Membership.objects.get_or_create(
            user=member,
            organization=organization,
            defaults={"role": Membership.Role.MEMBER, "title": person.title},
        )
    Membership.objects.filter(user=admin, organization=organization, title="").update(title=spec.admin.title)
    return organization, created


def seed_organizations(*, reviewer: User) -> list[tuple[OrgSpec, Organization, bool]]:
    return [(spec, *ensure_organization(spec, reviewer=reviewer)) for spec in ORGANIZATIONS]


def _admin_of(organization_name: str) -> User:
    spec = next(spec for spec in ORGANIZATIONS if spec.name == organization_name)
    return User.objects.get(username=spec.admin.username)


def _demand_fields(spec: DemandSpec) -> dict:
    return {
        "title": spec.title,
        "summary": spec.summary,
        "details": spec.details,
        "field": spec.field,
        "sub_field": spec.sub_field,
        "region": spec.region,
        "budget_min": spec.budget_min,
        "budget_max": spec.budget_max,
        "budget_negotiable": spec.budget_negotiable,
        "deadline": timezone.now() + timedelta(days=spec.deadline_days),
        "cooperation_mode": spec.cooperation_mode,
        "mode": spec.mode,
        "nda_required": bool(spec.nda_terms),
        "nda_terms": spec.nda_terms,
        "award_amount": spec.award_amount,
        "max_winners": spec.max_winners,
        "contact_policy": spec.contact_policy,
    }


def ensure_demand(spec: DemandSpec, *, reviewer: User) -> tuple[Demand, bool]:
    """Create the demand if missing, then take it through the services as far as ``spec.status`` says.

    Each step runs only from the state before it, so a rerun does nothing, and a decision made since (a reviewer
    rejected it, the owner withdrew it, the deadline job closed it) is kept rather than overridden.
    """
    owner = Organization.objects.get(name=spec.owner)
    owner_admin = _admin_of(spec.owner)
    target = spec.status
    demand = Demand.objects.filter(owner=owner, title=spec.title).first()
    created = demand is None
    if created:
        demand = demand_services.demand_create(owner=owner, actor=owner_admin, **_demand_fields(spec))
    if target != DEMAND_DRAFT and demand.status == Demand.Status.DRAFT:
        demand = demand_services.demand_submit(demand=demand, actor=owner_admin)
    if target not in (DEMAND_DRAFT, DEMAND_PENDING_REVIEW) and demand.status == Demand.Status.PENDING_REVIEW:
        demand = demand_services.demand_review(
            demand=demand, actor=reviewer, approve=True, reason=DEMAND_REVIEW_REASON
        )
    if demand.accepts_proposals:
        for proposal_spec in spec.proposals:
            supplier = Organization.objects.get(name=proposal_spec.supplier)
            if Proposal.objects.filter(demand=demand, supplier=supplier).exists():
                continue
            bidder = _admin_of(proposal_spec.supplier)
            if demand.nda_required:
                demand_services.nda_accept(demand=demand, organization=supplier, actor=bidder)
            demand_services.proposal_submit(
                demand=demand,
                supplier=supplier,
                actor=bidder,
                approach=proposal_spec.approach,
                price=proposal_spec.price,
                duration_days=proposal_spec.duration_days,
                team=proposal_spec.team,
            )
    if target in (DEMAND_CLOSED, DEMAND_AWARDED) and demand.status == Demand.Status.PUBLISHED:
        # Closed early by its owner: the demo shows the evaluation without waiting for the deadline.
        demand_services.demand_close(demand=demand, actor=owner_admin)
        demand.refresh_from_db()
    if demand.status == Demand.Status.CLOSED:
        for name in spec.shortlist:
            proposal = Proposal.objects.get(demand=demand, supplier__name=name)
            if proposal.status == Proposal.Status.SUBMITTED:
                demand_services.proposal_shortlist(proposal=proposal, actor=owner_admin)
        if target == DEMAND_AWARDED:
            winner = Proposal.objects.get(demand=demand, supplier__name=spec.award)
            demand_services.proposal_award(proposal=winner, actor=owner_admin)
            demand.refresh_from_db()
    return demand, created


def seed_demands(*, reviewer: User) -> list[tuple[DemandSpec, Demand | None, bool]]:
    """The demo demands, skipping (with ``None``) those a decision made since prevents, e.g. a suspended owner."""
    seeded = []
    for spec in DEMANDS:
        try:
            with transaction.atomic():
                seeded.append((spec, *ensure_demand(spec, reviewer=reviewer)))
        except (ApplicationError, ObjectDoesNotExist) as exc:
            logger.warning("seed_demo: demand %r skipped: %s", spec.title, exc)
            seeded.append((spec, None, False))
    return seeded


# Specialised sub-markets of the Zhejiang kind (seed 000): an industry cluster of one city, or a province's field.
SUB_MARKETS = [
    (
        "shaoxing-textiles",
        "绍兴纺织专业技术市场",
        "Shaoxing textiles",
        "330600",
        ["advanced_manufacturing.textiles"],
    ),
    (
        "ningbo-moulds-plastics",
        "宁波模具塑料专业技术市场",
        "Ningbo moulds and plastics",
        "330200",
        ["advanced_manufacturing.moulds_plastics", "new_materials.polymers"],
    ),
    (
        "jinhua-magnetic",
        "东阳磁性材料专业技术市场",
        "Dongyang magnetic materials",
        "330700",
        ["new_materials"],
    ),
    (
        "zhejiang-environment",
        "浙江环保专业技术市场",
        "Zhejiang environmental protection",
        "330000",
        ["environment"],
    ),
]


def seed_sub_markets() -> None:
    """Created once; an administrator's later edits (name, fields, closing one) are kept on a rerun."""
    for slug, name_zh, name_en, region, fields in SUB_MARKETS:
        market, created = SubMarket.objects.get_or_create(
            slug=slug, defaults={"name_zh": name_zh, "name_en": name_en, "region_id": region}
        )
        if created:
            market.fields.set(fields)


def demo_usernames() -> list[str]:
    names = [ADMIN_USERNAME]
    for spec in ORGANIZATIONS:
        names += [spec.admin.username, *(p.username for p in spec.members)]
    return names


def silence_demo_email() -> int:
    """Demo people live at example.com: keep their notifications on the website and out of the mail queue.

    Runs inside the seeding transaction, before the e-mail tasks queued on commit load the notifications.
    """
    return Notification.objects.filter(
        user__username__in=demo_usernames(), send_email=True, emailed_at__isnull=True
    ).update(send_email=False)


@contextmanager
def quiet_task_logs():
    """Eager Celery logs one INFO line per task (and kombu a warning about memory://); the summary matters here."""
    loggers = [logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Create (or complete) the fictional demo market: administrator, organizations and their users."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off. The demo accounts have published passwords: never on a live site.",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like a real deployment, and the demo accounts have published passwords. "
                "Pass --force to seed anyway."
            )
        with quiet_task_logs(), transaction.atomic():
            admin, admin_created = ensure_demo_admin()
            organizations = seed_organizations(reviewer=admin)
            demands = seed_demands(reviewer=admin)
            # Imported here: listings.demo builds on this module's demo organizations and helpers.
            from listings.demo import seed_listings

            seed_listings(stdout=self.stdout)
            from brokers.demo import seed_experts

            seed_experts()
            seed_sub_markets()
            from contracts.demo import DEMO_YEARS, seed_registrations

            seed_registrations()
            silence_demo_email()
        # After the commit: the matching engine reads committed rows (with eager Celery the rebuild is done
        # when this returns; with workers they compute it).
        from brokers.rebuild import rebuild_start

        rebuild_start()
        from marketplace.tasks import platform_kpis_task

        platform_kpis_task.delay()
        from contracts.tasks import annual_report_task

        for year in DEMO_YEARS:
            annual_report_task.delay(year)
        self.print_summary(admin, admin_created, organizations, demands)

    def print_summary(self, admin: User, admin_created: bool, organizations, demands) -> None:
        out = self.stdout
        created = sum(1 for *_, was_created in organizations if was_created)
        out.write(
            self.style.SUCCESS(
                f"Demo data: {len(organizations)} organizations ({created} created now, "
                f"{len(organizations) - created} already there)."
            )
        )
        present = [demand for _, demand, _ in demands if demand is not None]
        demands_created = sum(1 for *_, was_created in demands if was_created)
        statuses = ", ".join(
            f"{count} {status}"
            for status, count in sorted(Counter(demand.status for demand in present).items())
        )
        out.write(
            self.style.SUCCESS(
                f"Demo demands: {len(present)} ({demands_created} created now; {statuses}), "
                f"{Proposal.objects.filter(demand__in=present).count()} proposals."
            )
        )
        if len(present) < len(demands):
            out.write(f"{len(demands) - len(present)} demo demand(s) skipped: see the warnings above.")
        out.write("")
        out.write(f"{'login':<12} {'status':<16} organization")
        for spec, organization, _ in organizations:
            out.write(
                f"{spec.admin.username:<12} {organization.status:<16} {organization.name} "
                f"({organization.get_org_type_display()}, {organization.region.name_zh})"
            )
            for person in spec.members:
                out.write(f"{person.username:<12} {'member':<16} {organization.name}")
        out.write("")
        out.write(f"Every demo organization user above signs in with the password: {DEMO_PASSWORD}")
        if admin_created:
            out.write(
                self.style.SUCCESS(
                    f"Administrator (Django admin at /admin/): username {ADMIN_USERNAME}  password {ADMIN_PASSWORD}"
                )
            )
        else:
            out.write(
                f"Administrator (Django admin at /admin/): username {ADMIN_USERNAME} "
                f"(existing account, password unchanged; seed_demo gives a new one {ADMIN_PASSWORD})"
            )
