"""GDP figures by year and province (SPEC §9.3 ``import_gdp``)."""

from decimal import Decimal

import pytest
from django.utils import translation

from contracts.models import GdpFigure
from contracts.registry import ImportFileError
from tests.contracts.conftest import gdp_csv, import_gdp_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def figures() -> dict:
    return {(f.year, f.region): f.gdp_yuan for f in GdpFigure.objects.all()}


def test_it_imports_national_and_provincial_figures():
    report = import_gdp_csv(
        gdp_csv(["2005", "000000", "18232100000000"], ["2005", "110000", "688614000000.50"])
    )

    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 0)
    assert figures() == {
        (2005, "000000"): Decimal("18232100000000"),
        (2005, "110000"): Decimal("688614000000.50"),
    }


def test_it_updates_a_changed_figure_and_leaves_the_same_ones_alone():
    import_gdp_csv(gdp_csv(["2005", "000000", "100"], ["2005", "110000", "10"]))
    unchanged = GdpFigure.objects.get(region="110000")

    report = import_gdp_csv(
        gdp_csv(["2005", "000000", "200"], ["2005", "110000", "10.00"], ["2004", "000000", "90"])
    )

    assert (report.created, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 0)
    assert figures() == {
        (2005, "000000"): Decimal("200"),
        (2005, "110000"): Decimal("10"),
        (2004, "000000"): Decimal("90"),
    }
    assert GdpFigure.objects.get(region="110000").updated_at == unchanged.updated_at


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["1900", "000000", "1"], "year must be a year from 1949 to 2100, not '1900'"),
        (["二〇〇五", "000000", "1"], "year must be a year from 1949 to 2100, not '二〇〇五'"),
        (
            ["2005", "330100", "1"],
            "region must be the code of a province-level division or 000000 (national), not '330100'",
        ),
        (
            ["2005", "990000", "1"],
            "region must be the code of a province-level division or 000000 (national), not '990000'",
        ),
        (["2005", "110000", "-1"], "gdp_yuan must not be negative (-1)"),
        (["2005", "110000", "0"], "gdp_yuan must be above zero"),
        (["2005", "110000", "1.005"], "gdp_yuan has more than two decimals (1.005)"),
        (["2005", "110000"], "expected 3 cells, found 2"),
        (["2005", "000000", "5"], "year 2005 and region 000000 already appear on line 2"),
    ],
)
def test_each_invalid_row_is_reported_with_its_line(cells, reason):
    report = import_gdp_csv(gdp_csv(["2005", "000000", "100"], cells, ["2005", "120000", "7"]))

    assert report.errors == [(3, reason)]
    assert figures() == {(2005, "000000"): Decimal("100"), (2005, "120000"): Decimal("7")}


def test_strict_imports_nothing_when_a_row_is_invalid():
    report = import_gdp_csv(gdp_csv(["2005", "000000", "100"], ["2005", "xx", "1"]), strict=True)

    assert report.applied is False
    assert report.rejected == 1
    assert GdpFigure.objects.count() == 0


def test_a_wrong_header_refuses_the_file():
    with pytest.raises(ImportFileError):
        import_gdp_csv(b"year,province,gdp\r\n2005,110000,1\r\n")

    assert GdpFigure.objects.count() == 0
