"""SPEC §2 reference data, loaded by migration 0002."""

import pytest
from django.utils import translation

from marketplace.models import Classification, Region, TechnologyField
from marketplace.taxonomy import CODE_LISTS, ContractType

pytestmark = pytest.mark.django_db


def test_every_province_level_division_and_prefecture_city():
    assert Region.objects.filter(level="province").count() == 34  # incl. 710000, 810000, 820000
    assert Region.objects.filter(level="prefecture").count() == 333
    assert Region.objects.get(code="990000").name_zh == "境外/其他"
    zhejiang = Region.objects.get(code="330000")
    assert sorted(zhejiang.children.values_list("code", flat=True)) == [
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
    for code in ("710000", "810000", "820000"):
        assert Region.objects.filter(code=code, level="province").exists()


def test_city_rolls_up_to_its_province():
    ningbo = Region.objects.get(code="330200")
    assert ningbo.parent_id == "330000"
    assert ningbo.province_code == "330000"


def test_region_names_follow_the_language():
    hangzhou = Region.objects.select_related("parent").get(code="330100")
    with translation.override("zh-hans"):
        assert hangzhou.name == "杭州市"
        assert hangzhou.full_name == "浙江省杭州市"
    with translation.override("en"):
        assert hangzhou.name == "Hangzhou"
        assert hangzhou.full_name == "Hangzhou, Zhejiang"


def test_the_eleven_technology_fields():
    top = list(TechnologyField.objects.filter(parent=None).values_list("code", flat=True))
    assert top == [
        "electronic_information",
        "advanced_manufacturing",
        "aerospace",
        "modern_transport",
        "biomedicine",
        "new_materials",
        "new_energy",
        "environment",
        "nuclear",
        "agriculture",
        "urban_social",
    ]
    assert TechnologyField.objects.get(code="biomedicine").name_zh == "生物、医药和医疗器械"
    assert TechnologyField.objects.get(code="advanced_manufacturing.machinery_hardware").name_zh == "机械五金"


def test_code_lists_are_in_the_database_with_both_languages():
    for scheme, choices in CODE_LISTS.items():
        assert (
            list(Classification.objects.filter(scheme=scheme).values_list("code", flat=True))
            == choices.values
        )
    row = Classification.objects.get(scheme="objective", code="social_development")
    assert (row.name_zh, row.name_en) == ("社会发展和经济服务", "Social development and economic services")
    assert Classification.objects.filter(scheme="contract_type").count() == 4
    assert Classification.objects.filter(scheme="buyer_type").count() == 7


def test_choice_labels_are_bilingual():
    with translation.override("zh-hans"):
        assert str(ContractType.TRANSFER.label) == "技术转让"
    with translation.override("en"):
        assert str(ContractType.TRANSFER.label) == "Technology transfer"


def test_loading_again_changes_nothing():
    from django.apps import apps

    from marketplace.reference_data import load_reference_data

    before = (Region.objects.count(), TechnologyField.objects.count(), Classification.objects.count())
    load_reference_data(apps)
    assert (Region.objects.count(), TechnologyField.objects.count(), Classification.objects.count()) == before
