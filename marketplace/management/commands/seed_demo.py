"""Fill the database with a fictional but realistic demo market: ``manage.py seed_demo``.

Idempotent: everything is looked up by a natural key (username, organization name) and only what is missing is
created, so running it again changes nothing, and decisions an administrator made in the meantime are kept.
Organizations go through the real services (``organization_create``, then ``organization_decide`` by the demo
administrator with a reason), so the audit log and the notifications look like the real thing.

Every organization, person, address and credit code below is invented (the codes are generated, with the
organization's region in digits 3-8 and a valid check character). Demo addresses are @example.com and get no
e-mail: notifications created while seeding are shown on the website only.

Layout, for later additions (demands, listings, brokers, contracts): a data section of plain specs, one
``seed_<thing>`` function per kind of record, and ``Command.handle`` calling them in order inside one transaction.
"""

import logging
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from marketplace import services
from marketplace.models import Membership, Notification, Organization, User
from marketplace.taxonomy import OrganizationType

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
            silence_demo_email()
        self.print_summary(admin, admin_created, organizations)

    def print_summary(self, admin: User, admin_created: bool, organizations) -> None:
        out = self.stdout
        created = sum(1 for *_, was_created in organizations if was_created)
        out.write(
            self.style.SUCCESS(
                f"Demo data: {len(organizations)} organizations ({created} created now, "
                f"{len(organizations) - created} already there)."
            )
        )
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
