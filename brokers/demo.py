"""Demo experts (fictional people of the demo universities and institutes), and the demo's first rebuild of the
matches, for ``manage.py seed_demo``."""

from brokers.models import Expert
from marketplace.models import Organization, Region, TechnologyField

EXPERTS = [
    (
        "陈立舟",
        "教授",
        "钱塘理工大学",
        "advanced_manufacturing",
        "330100",
        "注塑成型工艺与模具设计；模流分析；注塑件银纹、气泡、缩痕等外观缺陷诊断与工艺参数优化；随形冷却模具。",
    ),
    (
        "周静怡",
        "研究员",
        "浙东先进制造技术研究院",
        "advanced_manufacturing",
        "330200",
        "机床主轴与滚动轴承状态监测、振动信号分析与故障诊断；剩余寿命预测；设备数据采集与边缘计算。",
    ),
    (
        "王海峰",
        "高级工程师",
        "湖州清溪环境工程技术研究院",
        "environment",
        "330500",
        "印染、电镀等工业废水深度处理；臭氧催化氧化、芬顿等高级氧化工艺；中水回用与污泥减量。",
    ),
    (
        "林晓雯",
        "副教授",
        "婺州农林大学",
        "agriculture",
        "330700",
        "设施蔬菜连作障碍与土传病害生物防治；生防菌剂；土壤调理与水肥一体化。",
    ),
    (
        "赵明远",
        "副研究员",
        "瓯江科技学院",
        "electronic_information",
        "330300",
        "工业机器视觉检测；表面缺陷深度学习识别；PLC与MES系统集成；工业物联网网关。",
    ),
]


def seed_experts() -> int:
    """Create the demo experts that are missing (vetted). Returns how many were created."""
    created = 0
    for name, title, organization, field, region, expertise in EXPERTS:
        _, was_created = Expert.objects.get_or_create(
            name=name,
            defaults={
                "title": title,
                "organization": Organization.objects.filter(name=organization).first(),
                "field": TechnologyField.objects.get(code=field),
                "region": Region.objects.get(code=region),
                "expertise": expertise,
                "status": Expert.Status.VETTED,
            },
        )
        created += was_created
    return created
