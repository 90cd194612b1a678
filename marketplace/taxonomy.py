"""Reference code lists of SPEC §2: the statistical classifications and the platform's own vocabularies.

Each list is a ``TextChoices`` whose labels are bilingual (see ``marketplace.i18n``). These classes are the
single source: model fields use them as ``choices`` and in ``CheckConstraint``s, and the data migration
copies them into the ``Classification`` table that the API and the admin read.
"""

from django.db import models

from marketplace.i18n import bilingual as b


class OrganizationType(models.TextChoices):
    ENTERPRISE = "enterprise", b("企业", "Enterprise")
    UNIVERSITY = "university", b("高等院校", "University")
    RESEARCH_INSTITUTE = "research_institute", b("科研院所", "Research institute")
    INTERMEDIARY = "intermediary", b("技术中介/服务机构", "Intermediary / service agency")
    GOVERNMENT = "government", b("政府部门", "Government agency")
    OTHER = "other", b("其他", "Other")


# Types that must carry a unified social credit code (SPEC §2). Universities and government bodies mostly
# have one as well, so it is accepted (and validated) for every type, and required for these.
CREDIT_CODE_REQUIRED_TYPES = (
    OrganizationType.ENTERPRISE,
    OrganizationType.RESEARCH_INSTITUTE,
    OrganizationType.INTERMEDIARY,
)


class ContractType(models.TextChoices):
    DEVELOPMENT = "development", b("技术开发", "Technology development")
    TRANSFER = "transfer", b("技术转让", "Technology transfer")
    CONSULTING = "consulting", b("技术咨询", "Technology consulting")
    SERVICE = "service", b("技术服务", "Technology service")


class SellerType(models.TextChoices):
    ENTERPRISE = "enterprise", b("企业", "Enterprise")
    RESEARCH_INSTITUTE = "research_institute", b("科研机构", "Research institute")
    UNIVERSITY = "university", b("大专院校", "University")
    TRADE_INSTITUTION = "trade_institution", b("技术贸易机构", "Technology trade institution")
    INDIVIDUAL = "individual", b("个体经营", "Individual business")
    OTHER = "other", b("其他", "Other")


class BuyerType(models.TextChoices):
    ENTERPRISE = "enterprise", b("企业", "Enterprise")
    GOVERNMENT = "government", b("管理部门", "Government agency")
    RESEARCH_INSTITUTE = "research_institute", b("科研机构", "Research institute")
    UNIVERSITY = "university", b("大专院校", "University")
    TRADE_INSTITUTION = "trade_institution", b("技贸机构", "Technology trade institution")
    INDIVIDUAL = "individual", b("个体经营", "Individual business")
    OTHER = "other", b("其他", "Other")


class Objective(models.TextChoices):
    INDUSTRY = "industry", b("工业", "Industry")
    TRANSPORT_TELECOM = "transport_telecom", b("交通通讯", "Transport and telecommunications")
    SOCIAL_DEVELOPMENT = (
        "social_development",
        b("社会发展和经济服务", "Social development and economic services"),
    )
    ENERGY = "energy", b("能源生产、储存和分配", "Energy production, storage and distribution")
    HEALTH = "health", b("卫生事业", "Health")
    AGRICULTURE = "agriculture", b("农林渔业", "Agriculture, forestry and fishery")
    ENVIRONMENT = "environment", b("环境保护", "Environmental protection")
    KNOWLEDGE = "knowledge", b("促进知识全面发展", "General advancement of knowledge")
    EDUCATION = "education", b("教育", "Education")
    EARTH_SEA_ATMOSPHERE = "earth_sea_atmosphere", b("陆地、海洋和大气开发", "Land, sea and atmosphere")
    CIVIL_SPACE = "civil_space", b("民用宇宙空间", "Civil space")
    DEFENSE = "defense", b("国防", "Defence")
    OTHER = "other", b("其他", "Other")


class PlanLevel(models.TextChoices):
    NONE = "none", b("非计划项目", "Not in a government plan")
    NATIONAL = "national", b("国家/部门计划", "National / ministerial plan")
    PROVINCIAL = "provincial", b("省/自治区/直辖市/计划单列市计划", "Provincial plan")
    MUNICIPAL = "municipal", b("地/市/县计划", "Prefecture / city / county plan")


class ListingType(models.TextChoices):
    INVENTION_PATENT = "invention_patent", b("发明专利", "Invention patent")
    UTILITY_MODEL = "utility_model", b("实用新型", "Utility model")
    DESIGN_PATENT = "design_patent", b("外观设计", "Design patent")
    SOFTWARE = "software", b("软件著作权", "Software copyright")
    KNOW_HOW = "know_how", b("技术秘密", "Know-how")
    NEW_VARIETY = "new_variety", b("植物新品种", "New plant variety")
    INTEGRATED_CIRCUIT_LAYOUT = "integrated_circuit_layout", b("集成电路布图设计", "IC layout design")
    OTHER = "other", b("其他", "Other")


class Maturity(models.TextChoices):
    LAB = "lab", b("实验室阶段", "Laboratory")
    PILOT = "pilot", b("中试阶段", "Pilot")
    SMALL_BATCH = "small_batch", b("小批量生产", "Small-batch production")
    INDUSTRIALISED = "industrialised", b("产业化", "Industrialised")


class TransferMode(models.TextChoices):
    TRANSFER = "transfer", b("转让", "Assignment")
    EXCLUSIVE_LICENSE = "exclusive_license", b("独占许可", "Exclusive licence")
    NON_EXCLUSIVE_LICENSE = "non_exclusive_license", b("普通许可", "Non-exclusive licence")
    EQUITY = "equity", b("作价入股", "Equity contribution")
    JOINT_DEVELOPMENT = "joint_development", b("合作开发", "Joint development")


class CooperationMode(models.TextChoices):
    DEVELOPMENT = "development", b("委托开发", "Commissioned development")
    TRANSFER = "transfer", b("技术转让", "Technology transfer")
    LICENSE = "license", b("技术许可", "Licence")
    CONSULTING = "consulting", b("技术咨询", "Consulting")
    SERVICE = "service", b("技术服务", "Technical service")
    JOINT = "joint", b("合作研发", "Joint R&D")


CODE_LISTS: dict[str, type[models.TextChoices]] = {
    "organization_type": OrganizationType,
    "contract_type": ContractType,
    "seller_type": SellerType,
    "buyer_type": BuyerType,
    "objective": Objective,
    "plan_level": PlanLevel,
    "listing_type": ListingType,
    "maturity": Maturity,
    "transfer_mode": TransferMode,
    "cooperation_mode": CooperationMode,
}


# The 11 technology fields of the national statistics, with the sub-fields a regional market uses to route
# problems (the Zhejiang market's industry categories). Codes of sub-fields are "<field>.<sub>".
TECHNOLOGY_FIELDS: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "electronic_information",
        "电子信息",
        "Electronic information",
        [
            ("computer_network", "计算机及网络", "Computers and networks"),
            ("software", "软件与信息服务", "Software and information services"),
            ("communication", "通信技术", "Communications"),
            ("microelectronics", "微电子与集成电路", "Microelectronics and integrated circuits"),
            ("smart_control", "智能控制与物联网", "Intelligent control and IoT"),
        ],
    ),
    (
        "advanced_manufacturing",
        "先进制造",
        "Advanced manufacturing",
        [
            ("machinery_hardware", "机械五金", "Machinery and hardware"),
            ("equipment", "装备制造", "Equipment manufacturing"),
            ("moulds_plastics", "模具与塑料加工", "Moulds and plastics processing"),
            ("textiles", "纺织", "Textiles"),
            ("light_industry_food", "轻工食品", "Light industry and food"),
            ("chemical_engineering", "化工", "Chemical engineering"),
        ],
    ),
    (
        "aerospace",
        "航空航天",
        "Aerospace",
        [
            ("aircraft", "航空器及部件", "Aircraft and components"),
            ("satellite_applications", "卫星应用", "Satellite applications"),
        ],
    ),
    (
        "modern_transport",
        "现代交通",
        "Modern transport",
        [
            ("automotive", "汽车及零部件", "Automotive and parts"),
            ("rail_transit", "轨道交通", "Rail transit"),
            ("shipbuilding", "船舶与海洋工程", "Shipbuilding and marine engineering"),
        ],
    ),
    (
        "biomedicine",
        "生物、医药和医疗器械",
        "Biology, medicine and medical devices",
        [
            ("pharmaceuticals", "化学药与中药", "Pharmaceuticals and traditional medicine"),
            ("biotechnology", "生物技术", "Biotechnology"),
            ("medical_devices", "医疗器械", "Medical devices"),
        ],
    ),
    (
        "new_materials",
        "新材料及其应用",
        "New materials and their applications",
        [
            ("polymers", "高分子材料", "Polymers"),
            ("metals", "金属材料", "Metallic materials"),
            ("inorganic", "无机非金属材料", "Inorganic non-metallic materials"),
            ("composites", "复合材料", "Composites"),
        ],
    ),
    (
        "new_energy",
        "新能源与高效节能",
        "New energy and energy efficiency",
        [
            ("solar_wind", "太阳能与风能", "Solar and wind"),
            ("energy_storage", "储能与电池", "Energy storage and batteries"),
            ("energy_saving", "工业节能", "Industrial energy saving"),
        ],
    ),
    (
        "environment",
        "环境保护与资源综合利用",
        "Environmental protection and resource utilisation",
        [
            ("water_treatment", "水污染治理", "Water treatment"),
            ("air_pollution", "大气污染防治", "Air pollution control"),
            ("solid_waste", "固废处理与资源化", "Solid waste and recycling"),
        ],
    ),
    (
        "nuclear",
        "核应用技术",
        "Nuclear applications",
        [
            ("nuclear_power", "核能", "Nuclear power"),
            ("radiation", "辐射技术应用", "Radiation technology"),
        ],
    ),
    (
        "agriculture",
        "农业",
        "Agriculture",
        [
            ("crop_breeding", "种植与育种", "Crops and breeding"),
            ("animal_husbandry", "畜牧水产", "Animal husbandry and aquaculture"),
            ("agricultural_machinery", "农业机械", "Agricultural machinery"),
            ("food_processing", "农产品加工", "Agricultural product processing"),
        ],
    ),
    (
        "urban_social",
        "城市建设与社会发展",
        "Urban construction and social development",
        [
            ("construction", "建筑工程", "Construction engineering"),
            ("public_safety", "公共安全", "Public safety"),
            ("culture_education", "文化教育", "Culture and education"),
        ],
    ),
]
