"""Fixtures of the matching tests: a small market of listings and one demand, and fresh per-process corpora."""

import pytest

from brokers import matching
from listings.models import Listing
from tests.factories import DemandFactory, InstituteFactory, UniversityFactory
from tests.listings.builders import make_listing


@pytest.fixture(autouse=True)
def fresh_corpora(settings, tmp_path):
    settings.MATCHING_CORPUS_DIR = str(tmp_path / "corpora")  # a rebuild's shared corpora: this test's own
    matching._corpora.clear()
    matching._snapshots.clear()
    yield
    matching._corpora.clear()
    matching._snapshots.clear()


@pytest.fixture
def market(enterprise):
    university, institute = UniversityFactory(), InstituteFactory()
    cooling = make_listing(
        university, title="一种注塑模具随形冷却水路的设计方法", summary="随形冷却水路，成型周期缩短20%。"
    )
    drying = make_listing(
        institute, title="注塑原料除湿干燥工艺", summary="降低含水率，消除注塑件银纹与气泡。"
    )
    dyeing = make_listing(
        institute, title="印染废水臭氧催化氧化深度处理", summary="难降解有机废水脱色。", field="environment"
    )
    draft = make_listing(university, title="注塑件银纹在线检测", status=Listing.Status.DRAFT)
    demand = DemandFactory(
        owner=enterprise,
        title="注塑件表面银纹与气泡缺陷分析",
        summary="PC/ABS外壳注塑件浇口附近出现银纹和气泡。",
        details="海天注塑机，原料干燥4小时。",
    )
    return {
        "demand": demand,
        "cooling": cooling,
        "drying": drying,
        "dyeing": dyeing,
        "draft": draft,
        "university": university,
        "institute": institute,
    }
