"""The annual report (SPEC §8, §9.3): the yearbook's tables rebuilt from registrations, ranks, growth, rounding,
snapshots, the command, the API."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation
from openpyxl import load_workbook

from contracts import statistics
from contracts.models import AnnualReport, GdpFigure, Registration
from contracts.tasks import annual_report_task

pytestmark = pytest.mark.django_db

# Seed 004, table 2: contracts and amounts (亿元) by type, 2004 and 2005.
TABLE_2 = {
    "development": ((66480, "508.96"), (75977, "569.73")),
    "transfer": ((23204, "294.73"), (27328, "360.02")),
    "consulting": ((56204, "83.82"), (48463, "95.03")),
    "service": ((118750, "446.85"), (113242, "526.58")),
}


def insert(
    year: int, contract_type: str, count: int, amount_yuan: int, *, prefix: str = "", **columns
) -> None:
    """``count`` registrations of ``year`` whose amounts (whole yuan) add up to ``amount_yuan``, in one
    INSERT … SELECT over a recursive counter (hundreds of thousands of rows in a second or two)."""
    values = {
        "seller_type": "university",
        "seller_region_id": "330100",
        "seller_province_id": "330000",
        "buyer_type": "enterprise",
        "buyer_region_id": "310000",
        "buyer_province_id": "310000",
        "field_id": "advanced_manufacturing",
        "objective": "industry",
        "plan_level": "none",
        **columns,
    }
    now = timezone.now()
    base, extra = divmod(amount_yuan, count)
    names = ", ".join(values)
    placeholders = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s)
            INSERT INTO contracts_registration (created_at, updated_at, registration_no, registered_on,
                contract_type, title, seller_name, buyer_name, total_amount, technology_amount, source,
                imported_at, {names})
            SELECT %s, %s, %s || CAST(i AS VARCHAR(12)), %s, %s, '', '', '',
                %s + CASE WHEN i <= %s THEN 1 ELSE 0 END, %s + CASE WHEN i <= %s THEN 1 ELSE 0 END,
                'imported', %s, {placeholders}
            FROM n
            """,
            [count, now, now, f"{prefix}{year}{contract_type}-", f"{year}-06-30", contract_type]
            + [base, extra, base, extra, now]
            + list(values.values()),
        )


def yuan(yi: str) -> int:
    return int(Decimal(yi) * 100_000_000)


@pytest.fixture
def yearbook_2004_2005():
    for contract_type, ((n2004, a2004), (n2005, a2005)) in TABLE_2.items():
        insert(2004, contract_type, n2004, yuan(a2004))
        insert(2005, contract_type, n2005, yuan(a2005))


def test_table_2_and_the_averages_of_table_1_of_the_2005_yearbook_are_rebuilt(yearbook_2004_2005):
    report, previous = statistics.compute(2005), statistics.compute(2004)

    rows = {row["code"]: row for row in report["by_contract_type"]}
    before = {row["code"]: row for row in previous["by_contract_type"]}
    printed = {code: statistics.yearbook_row(rows[code], before[code]) for code in TABLE_2}
    # Table 2 as printed: 2005 contracts, amounts (亿元), growths on 2004 (%).
    assert {code: (r["count"], str(r["amount_yi"]), str(r["count_growth_pct"]), str(r["amount_growth_pct"]))
            for code, r in printed.items()} == {
        "development": (75977, "569.73", "14.28", "11.94"),
        "transfer": (27328, "360.02", "17.77", "22.15"),
        "consulting": (48463, "95.03", "-13.77", "13.37"),
        "service": (113242, "526.58", "-4.63", "17.84"),
    }  # fmt: skip
    # Table 1 as printed: average per contract (万元) in 2004 and 2005, and its growth (%).
    assert {code: (str(statistics.yearbook_row(before[code], None)["avg_wan"]), str(r["avg_wan"]),
                   str(r["avg_growth_pct"])) for code, r in printed.items()} == {
        "development": ("76.56", "74.99", "-2.05"),
        "transfer": ("127.02", "131.74", "3.72"),
        "consulting": ("14.91", "19.61", "31.52"),
        "service": ("37.63", "46.50", "23.57"),
    }  # fmt: skip
    # The JSON itself rounds half-up (SPEC §9.3), where the yearbook cut 14.2855 % to 14.28.
    assert rows["development"]["count_growth_pct"] == 14.29
    assert rows["development"]["amount_growth_pct"] == 11.94
    assert rows["development"]["avg_amount"] == "749871.67"
    assert report["totals"]["count"] == 75977 + 27328 + 48463 + 113242
    assert report["totals"]["amount"] == "155136000000.00"
    assert [row["code"] for row in report["by_contract_type"]] == [
        "development",
        "transfer",
        "consulting",
        "service",
    ]
    assert rows["development"]["amount_share_pct"] == 36.72  # 569.73 / 1551.36


def row_of(report, table, code):
    return next(row for row in report[table] if row["code"] == code)


def test_rows_shares_growth_null_and_omitted_categories():
    insert(2005, "development", 3, 300_000, objective="industry")
    insert(2005, "service", 1, 100_001, objective="health")
    insert(2004, "development", 2, 100_000, objective="industry")

    report = statistics.compute(2005)

    assert report["totals"] == {
        "count": 4,
        "amount": "400001.00",
        "avg_amount": "100000.25",
        "count_growth_pct": 100.0,
        "amount_growth_pct": 300.0,
        "avg_growth_pct": 100.0,
        "technology_amount": "400001.00",
        "gdp": None,
        "amount_pct_of_gdp": None,
    }
    assert report["by_contract_type"] == [
        {
            "code": "development",
            "count": 3,
            "amount": "300000.00",
            "avg_amount": "100000.00",
            "count_share_pct": 75.0,
            "amount_share_pct": 75.0,  # 74.99981 rounds half-up to 75.00
            "count_growth_pct": 50.0,
            "amount_growth_pct": 200.0,
            "avg_growth_pct": 100.0,
        },
        {
            "code": "service",
            "count": 1,
            "amount": "100001.00",
            "avg_amount": "100001.00",
            "count_share_pct": 25.0,
            "amount_share_pct": 25.0,
            "count_growth_pct": None,  # nothing in 2004 to grow from
            "amount_growth_pct": None,
            "avg_growth_pct": None,
        },
    ]
    # Categories without contracts are omitted (no transfer, no consulting; objectives only those used).
    assert [row["code"] for row in report["by_objective"]] == ["industry", "health"]


def test_provinces_are_ranked_by_amount_with_ties_by_code_and_flows_between_them():
    insert(2005, "development", 1, 500, seller_region_id="320100", seller_province_id="320000")
    insert(2005, "development", 1, 500, prefix="b", seller_region_id="110000", seller_province_id="110000")
    insert(2005, "development", 2, 900, prefix="c")  # Zhejiang sells, Shanghai buys
    insert(2004, "development", 1, 100, prefix="d", seller_region_id="320100", seller_province_id="320000")

    report = statistics.compute(2005)

    assert [(r["code"], r["rank"], r["amount"]) for r in report["by_seller_region"]] == [
        ("330000", 1, "900.00"),
        ("110000", 2, "500.00"),  # tied with 320000 on amount: the lower code first
        ("320000", 3, "500.00"),
    ]
    assert row_of(report, "by_seller_region", "320000")["amount_growth_pct"] == 400.0
    assert [(r["code"], r["rank"]) for r in report["by_buyer_region"]] == [("310000", 1)]
    assert report["flows"] == [
        {"from": "330000", "to": "310000", "count": 2, "amount": "900.00"},
        {"from": "110000", "to": "310000", "count": 1, "amount": "500.00"},
        {"from": "320000", "to": "310000", "count": 1, "amount": "500.00"},
    ]


def test_share_of_gdp_and_an_empty_year():
    insert(2005, "transfer", 2, 850_000)
    GdpFigure.objects.create(year=2005, region="000000", gdp_yuan=Decimal("100000000.00"))

    report = statistics.compute(2005)
    empty = statistics.compute(1999)

    assert report["totals"]["gdp"] == "100000000.00"
    assert report["totals"]["amount_pct_of_gdp"] == 0.85
    assert empty["totals"]["count"] == 0
    assert empty["totals"]["avg_amount"] is None
    assert empty["totals"]["count_growth_pct"] is None
    assert all(empty[table] == [] for table in statistics.DIMENSIONS)
    assert empty["flows"] == []


def test_rounding_is_half_up():
    insert(2005, "development", 1, 1, prefix="a")
    insert(2005, "service", 7, 2, prefix="b")  # 8 contracts; shares 12.5 % and 87.5 %

    report = statistics.compute(2005)

    shares = {row["code"]: row["count_share_pct"] for row in report["by_contract_type"]}
    assert shares == {"development": 12.5, "service": 87.5}
    assert row_of(report, "by_contract_type", "service")["avg_amount"] == "0.29"  # 2/7 = 0.2857…
    assert row_of(report, "by_contract_type", "development")["amount_share_pct"] == 33.33  # 1/3


def test_the_snapshot_is_stored_by_the_task_served_by_the_api_and_a_rerun_changes_nothing(api_client):
    insert(2005, "development", 2, 1000)

    assert annual_report_task(2005) == [2005]
    first = AnnualReport.objects.get(year=2005)
    annual_report_task(2005)

    assert AnnualReport.objects.count() == 1
    assert AnnualReport.objects.get(year=2005).data == first.data
    response = api_client.get("/api/v1/statistics/annual/2005/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2005
    assert body["by_contract_type"][0]["code"] == "development"
    assert body["by_contract_type"][0]["label"] == "技术开发"
    assert body["by_seller_region"][0]["label"] == "浙江省"
    # Served from the snapshot: a registration added since is not counted until the next computation.
    insert(2005, "service", 1, 10, prefix="late")
    assert api_client.get("/api/v1/statistics/annual/2005/").json()["totals"]["count"] == 2
    assert api_client.get("/api/v1/statistics/annual/3000/").status_code == 404


def test_the_nightly_task_refreshes_the_recent_years_and_changed_ones():
    insert(2001, "development", 1, 100)
    statistics.snapshot_refresh(2001)
    statistics.snapshot_refresh(2002)
    Registration.objects.filter(registered_on__year=2001).update(updated_at=timezone.now())

    years = statistics.years_to_refresh(today=timezone.localdate().replace(year=2026))

    assert years == [2001, 2002, 2025, 2026]  # 2002 compares with 2001, which changed


def test_the_nightly_task_sees_deleted_registrations_by_the_years_count():
    insert(2001, "development", 2, 100)
    insert(2002, "development", 1, 100, prefix="b")
    insert(2010, "service", 1, 100, prefix="c")
    for year in (2001, 2002, 2010):
        statistics.snapshot_refresh(year)
    today = timezone.localdate().replace(year=2026)
    assert statistics.years_to_refresh(today=today) == [2025, 2026]

    Registration.objects.filter(registration_no="2001development-1").delete()  # one of 2001's two

    # 2001 lost a row, and 2002's growths compare with 2001; 2010 is untouched.
    assert statistics.years_to_refresh(today=today) == [2001, 2002, 2025, 2026]
    statistics.snapshot_refresh(2001)
    statistics.snapshot_refresh(2002)
    assert statistics.years_to_refresh(today=today) == [2025, 2026]


def test_the_command_prints_json_csv_and_writes_xlsx(tmp_path):
    insert(2005, "development", 2, 1000)
    out = io.StringIO()

    call_command("annual_report", "2005", "--format", "json", "--language", "en", stdout=out)
    report = json.loads(out.getvalue())
    out = io.StringIO()
    call_command("annual_report", "2005", "--format", "csv", stdout=out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    call_command("annual_report", "2005", "--format", "xlsx", "--output", str(tmp_path / "r.xlsx"))
    workbook = load_workbook(tmp_path / "r.xlsx")

    assert report["by_contract_type"][0]["label"] == "Technology development"
    assert lines[0] == ["section", *statistics.TOTAL_COLUMNS]
    assert lines[1][:3] == ["totals", "2", "1000.00"]
    assert lines[3][:2] == ["by_contract_type", "development"]
    assert workbook.sheetnames[:2] == ["totals", "by_contract_type"]
    assert workbook["by_contract_type"]["D2"].value == 1000
    with pytest.raises(CommandError, match="needs --output"):
        call_command("annual_report", "2005", "--format", "xlsx")


def test_the_public_page_prints_the_report_as_the_yearbook_does_and_offers_downloads(client):
    insert(2005, "development", 2, 150_000_000)  # 1.50 亿元, 7,500 万元 each
    insert(2004, "development", 1, 100_000_000, prefix="p")
    statistics.snapshot_refresh(2004)

    page = client.get("/statistics/annual/2005/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    csv_file = client.get("/statistics/annual/2005.csv")
    xlsx_file = client.get("/statistics/annual/2005.xlsx")

    assert page.status_code == 200
    html = page.content.decode()
    assert "技术开发" in html
    assert "浙江省" in html
    assert ">1.50<" in html  # 亿元
    assert ">7500.00<" in html  # 万元
    assert ">100.0<" in html  # count growth on 2004, in %
    assert [t["year"] for t in page.context["trend"]] == [2004, 2005]
    assert csv_file["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_file.content.decode("utf-8-sig").startswith("section,count,amount")
    assert load_workbook(io.BytesIO(xlsx_file.content))["totals"]["A2"].value == 2
    latest = client.get("/statistics/")
    assert (latest.status_code, latest.url) == (302, "/statistics/annual/2005/")
    assert client.get("/statistics/annual/1800/").status_code == 404
    assert client.get("/statistics/annual/1800.csv").status_code == 404
    with pytest.raises(CommandError, match="out of range"):
        call_command("annual_report", "1800")
    assert not AnnualReport.objects.filter(year=1800).exists()


def test_flow_matrix_keeps_the_largest_provinces_and_sums_the_others():
    from contracts.views import FLOW_MATRIX_SIZE, _flow_matrix

    # Ten selling provinces 110000…200000 (amounts 100…1,000 亿元) all selling to Shanghai, and Zhejiang buying
    # 50 亿元 from the largest seller.
    sellers = [f"{code}0000" for code in range(11, 21)]
    flows = [
        {"from": code, "to": "310000", "count": 1, "amount": f"{(i + 1) * 10_000_000_000}.00"}
        for i, code in enumerate(sellers)
    ]
    flows.append({"from": "200000", "to": "330000", "count": 1, "amount": "5000000000.00"})
    labels = {code: f"P{code[:2]}" for code in sellers} | {"310000": "上海市", "330000": "浙江省"}

    with translation.override("en"):
        matrix = _flow_matrix(flows, labels)

    assert FLOW_MATRIX_SIZE == 8
    assert matrix["columns"] == ["上海市", "浙江省"]  # two buyers only: no "others" column
    assert [row["label"] for row in matrix["rows"]] == [
        "P20", "P19", "P18", "P17", "P16", "P15", "P14", "P13", "Other provinces",
    ]  # fmt: skip
    first, others = matrix["rows"][0]["cells"], matrix["rows"][-1]["cells"]
    assert [(c["amount_yi"], c["shade"]) for c in first] == [
        (Decimal("1000.00"), 1.0),
        (Decimal("50.00"), 0.05),
    ]
    # P11 and P12: 100 + 200 亿元 to Shanghai.
    assert [(c["amount_yi"], c["shade"]) for c in others] == [
        (Decimal("300.00"), 0.3),
        (Decimal("0.00"), 0.0),
    ]


def test_the_public_page_shows_the_flow_matrix(client):
    insert(2005, "development", 2, 900_000_000)  # Zhejiang sells, Shanghai buys: 9 亿元
    insert(2005, "transfer", 1, 300_000_000, prefix="b", buyer_region_id="320100", buyer_province_id="320000")

    page = client.get("/statistics/annual/2005/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    matrix = page.context["flow_matrix"]
    assert matrix["columns"] == ["上海市", "江苏省"]
    assert [(r["label"], [(c["amount_yi"], c["shade"]) for c in r["cells"]]) for r in matrix["rows"]] == [
        ("浙江省", [(Decimal("9.00"), 1.0), (Decimal("3.00"), 0.333)])
    ]
    assert "rgba(63, 111, 181, 0.333)" in page.content.decode()
