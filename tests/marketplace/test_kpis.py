"""Platform KPIs (SPEC §8, seed 000): what counts and when, the rates, the breakdowns by month, field, province,
city and specialised sub-market, the snapshots and their task, the API, the public page and its downloads, the
admin."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from demands.models import Demand, DemandStatus, Proposal, ProposalStatus
from listings.models import Deal, Listing
from marketplace import kpis
from marketplace.models import PlatformKpiSnapshot, SubMarket
from marketplace.tasks import platform_kpis_task
from tests.factories import DemandFactory, InstituteFactory, ProposalFactory, get_field
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day):
    return datetime(year, month, day, 12, tzinfo=SHANGHAI)


def demand(published, *, field="advanced_manufacturing", sub=None, region="330100", **kwargs):
    return DemandFactory(
        published_at=published,
        field_code=field,
        sub_field_code=sub,
        region_code=region,
        **kwargs,
    )


def listing(owner, published, *, field="advanced_manufacturing", sub=None, region="330100"):
    made = make_listing(owner, field=field, region=region)
    Listing.objects.filter(pk=made.pk).update(
        published_at=published, sub_field=get_field(sub) if sub else None
    )
    return made


@pytest.fixture
def market(enterprise, university):
    """Two years of a small market (see each line); the figures the tests expect follow from it by hand."""
    institute = InstituteFactory()
    # 2025-11, Shaoxing textiles: contracted on 2026-01-05 at the awarded 200,000; a second bid not selected.
    d1 = demand(
        at(2025, 11, 10),
        sub="advanced_manufacturing.textiles",
        region="330600",
        owner=enterprise,
        status=DemandStatus.CONTRACTED,
        contracted_at=at(2026, 1, 5),
    )
    ProposalFactory(
        demand=d1,
        supplier=university,
        status=ProposalStatus.AWARDED,
        price=Decimal("200000"),
        submitted_at=at(2025, 11, 12),
    )
    ProposalFactory(
        demand=d1,
        supplier=institute,
        status=ProposalStatus.REJECTED,
        rejection_reason="price",
        submitted_at=at(2025, 11, 13),
    )
    # 2025-11, Hangzhou: published, nobody answered.
    demand(at(2025, 11, 20), owner=enterprise)
    # 2026-01, Zhejiang (province level), new materials: a challenge solved; its winner named no price.
    d3 = demand(
        at(2026, 1, 15),
        field="new_materials",
        sub="new_materials.metals",
        region="330000",
        owner=enterprise,
        challenge=True,
        status=DemandStatus.SOLVED,
        contracted_at=at(2026, 2, 1),
    )
    ProposalFactory(
        demand=d3,
        supplier=university,
        status=ProposalStatus.AWARDED,
        price=None,
        submitted_at=at(2026, 1, 20),
    )
    # 2026-02, Hangzhou: a sealed tender still open, with a bid nobody may count yet.
    d4 = demand(at(2026, 2, 3), owner=enterprise, tender=True)
    ProposalFactory(demand=d4, supplier=university, submitted_at=at(2026, 2, 4))
    # 2026-01, Shanghai, electronic information: a closed tender, one bid kept and one withdrawn.
    d5 = demand(
        at(2026, 1, 20),
        field="electronic_information",
        region="310000",
        owner=enterprise,
        tender=True,
        status=DemandStatus.CLOSED,
        closed_at=at(2026, 2, 1),
    )
    ProposalFactory(demand=d5, supplier=university, submitted_at=at(2026, 1, 25))
    ProposalFactory(
        demand=d5, supplier=institute, status=ProposalStatus.WITHDRAWN, submitted_at=at(2026, 1, 26)
    )
    # A draft: never posted.
    demand(None, owner=enterprise, draft=True)
    # 2026-02, Shanghai: its only proposal was withdrawn.
    d7 = demand(at(2026, 2, 10), field="electronic_information", region="310000", owner=enterprise)
    ProposalFactory(
        demand=d7, supplier=university, status=ProposalStatus.WITHDRAWN, submitted_at=at(2026, 2, 11)
    )

    listing(university, at(2025, 12, 1), sub="advanced_manufacturing.textiles", region="330600")
    l2 = listing(university, at(2026, 1, 10), field="new_materials", region="330700")
    make_listing(university, status=Listing.Status.DRAFT)
    l4 = listing(university, at(2026, 2, 5), field="electronic_information", region="310000")
    Deal.objects.create(
        listing=l2,
        buyer=enterprise,
        price=Decimal("360000"),
        via=Deal.Via.AUCTION,
        concluded_at=at(2026, 2, 20),
    )
    # Sold elsewhere and imported with the listing: not this platform's contract.
    Deal.objects.create(
        listing=l4,
        buyer=enterprise,
        price=Decimal("100000"),
        via=Deal.Via.IMPORTED,
        concluded_at=at(2026, 2, 21),
    )

    SubMarket.objects.create(
        slug="shaoxing-textiles", name_zh="绍兴纺织", name_en="Shaoxing textiles", region_id="330600"
    )
    SubMarket.objects.get(slug="shaoxing-textiles").fields.set([get_field("advanced_manufacturing.textiles")])
    materials = SubMarket.objects.create(slug="zhejiang-materials", name_zh="浙江新材料", region_id="330000")
    materials.fields.set([get_field("new_materials")])
    SubMarket.objects.create(slug="hangzhou", name_zh="杭州综合", name_en="Hangzhou", region_id="330100")
    SubMarket.objects.create(slug="closed", name_zh="已停办", region_id="330100", is_active=False)
    return {"d4": d4, "university": university, "institute": institute}


def figures(demands, listings, proposals, contracts, amount, solution, response, ratio):
    return {
        "demands": demands,
        "listings": listings,
        "proposals": proposals,
        "contracts": contracts,
        "contract_amount": amount,
        "solution_rate": solution,
        "response_rate": response,
        "supply_demand_ratio": ratio,
    }


def by_code(rows):
    return {row["code"]: {k: v for k, v in row.items() if k not in ("code", "label")} for row in rows}


# --- what counts ---------------------------------------------------------------------------------------------


def test_totals_of_all_time(market):
    report = kpis.compute()[kpis.ALL]

    # 6 posted (not the draft); solved: the contracted and the solved demand (2/6); answered: 3 of the 5 that can
    # be judged (the open tender cannot); proposals: 2 + 1 + 1 (not the withdrawn, not the open tender's bid);
    # contracts: the award of 200,000, the challenge award of 50,000, the auction of 360,000 (not the import).
    assert report["totals"] == figures(6, 3, 4, 3, "610000.00", 33.33, 60.0, 0.5)


def test_months_fill_the_gaps_and_count_each_record_in_its_own_month(market):
    months = kpis.compute()[kpis.ALL]["by_month"]

    assert [m["code"] for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert by_code(months) == {
        "2025-11": figures(2, 0, 2, 0, "0.00", 50.0, 50.0, 0.0),
        "2025-12": figures(0, 1, 0, 0, "0.00", None, None, None),
        # The November demand's contract counts in January, when it was signed.
        "2026-01": figures(2, 1, 2, 1, "200000.00", 50.0, 100.0, 0.5),
        "2026-02": figures(2, 1, 0, 2, "410000.00", 0.0, 0.0, 0.5),
    }


def test_each_year_is_a_scope_with_its_twelve_months(market):
    reports = kpis.compute()

    assert sorted(reports) == ["2025", "2026", "all"]
    assert reports["2025"]["totals"] == figures(2, 1, 2, 0, "0.00", 50.0, 50.0, 0.5)
    assert reports["2026"]["totals"] == figures(4, 2, 2, 3, "610000.00", 25.0, 66.67, 0.5)
    assert [m["code"] for m in reports["2025"]["by_month"]] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert reports["2025"]["by_month"][0] == {
        "code": "2025-01",
        **figures(0, 0, 0, 0, "0.00", None, None, None),
    }


def test_by_field_largest_first_with_the_supply_demand_ratio(market):
    rows = kpis.compute()[kpis.ALL]["by_field"]

    assert [r["code"] for r in rows] == ["advanced_manufacturing", "electronic_information", "new_materials"]
    assert by_code(rows) == {
        "advanced_manufacturing": figures(3, 1, 2, 1, "200000.00", 33.33, 50.0, 0.33),
        "electronic_information": figures(2, 1, 1, 0, "0.00", 0.0, 50.0, 0.5),
        "new_materials": figures(1, 1, 1, 2, "410000.00", 100.0, 100.0, 1.0),
    }


def test_cities_roll_up_to_provinces_and_province_level_records_have_no_city(market):
    report = kpis.compute()[kpis.ALL]

    assert by_code(report["by_province"]) == {
        "330000": figures(4, 2, 3, 3, "610000.00", 50.0, 66.67, 0.5),
        "310000": figures(2, 1, 1, 0, "0.00", 0.0, 50.0, 0.5),
    }
    # Shanghai is a province-level municipality and 330000 a province: neither is a city.
    assert [r["code"] for r in report["by_city"]] == ["330100", "330600", "330700"]
    assert by_code(report["by_city"]) == {
        "330100": figures(2, 0, 0, 0, "0.00", 0.0, 0.0, 0.0),
        "330600": figures(1, 1, 2, 1, "200000.00", 100.0, 100.0, 1.0),
        "330700": figures(0, 1, 0, 1, "360000.00", None, None, None),
    }


def test_sub_markets_count_their_region_and_fields(market):
    rows = kpis.compute()[kpis.ALL]["by_sub_market"]

    # The inactive one is left out; "hangzhou" has no fields, so every field of Hangzhou counts.
    assert [r["code"] for r in rows] == ["hangzhou", "shaoxing-textiles", "zhejiang-materials"]
    assert by_code(rows) == {
        "hangzhou": figures(2, 0, 0, 0, "0.00", 0.0, 0.0, 0.0),
        # Its field is a sub-field: the Shaoxing demand and listing of textiles.
        "shaoxing-textiles": figures(1, 1, 2, 1, "200000.00", 100.0, 100.0, 1.0),
        # A province-level sub-market takes its cities too (the Jinhua listing and its auction).
        "zhejiang-materials": figures(1, 1, 1, 2, "410000.00", 100.0, 100.0, 1.0),
    }


def test_an_open_sealed_tender_reveals_nothing_about_its_bids(market):
    before = kpis.compute()
    ProposalFactory(demand=market["d4"], supplier=market["institute"], submitted_at=at(2026, 2, 5))

    assert kpis.compute() == before


def test_once_a_tender_closes_its_bids_and_its_response_count(market):
    Demand.objects.filter(pk=market["d4"].pk).update(status=DemandStatus.CLOSED, closed_at=at(2026, 2, 17))

    totals = kpis.compute()[kpis.ALL]["totals"]

    assert (totals["proposals"], totals["response_rate"]) == (5, 66.67)  # 4 of 6 answered


def test_an_empty_market_has_no_scope_and_an_empty_all_time_report():
    assert kpis.compute() == {}
    assert kpis.snapshot_get() == {
        "scope": "all",
        "totals": figures(0, 0, 0, 0, "0.00", None, None, None),
        "by_month": [],
        "by_field": [],
        "by_province": [],
        "by_city": [],
        "by_sub_market": [],
    }
    assert kpis.snapshot_get("2026") is None


# --- snapshots and the task ----------------------------------------------------------------------------------


def test_the_task_stores_every_scope_and_a_rerun_stores_the_same(market):
    assert platform_kpis_task.delay().get() == ["2025", "2026", "all"]
    first = {s.scope: s.data for s in PlatformKpiSnapshot.objects.all()}

    assert platform_kpis_task.delay().get() == ["2025", "2026", "all"]

    assert {s.scope: s.data for s in PlatformKpiSnapshot.objects.all()} == first
    assert first["all"] == kpis.compute()["all"]


def test_a_scope_without_records_any_more_is_dropped(market):
    kpis.snapshot_refresh()
    Deal.objects.all().delete()
    Proposal.objects.filter(demand__published_at__year=2025).delete()
    Demand.objects.filter(published_at__year=2025).delete()
    Listing.objects.filter(published_at__year=2025).delete()

    assert kpis.snapshot_refresh() == ["2026", "all"]
    assert sorted(PlatformKpiSnapshot.objects.values_list("scope", flat=True)) == ["2026", "all"]


def test_the_page_is_served_from_the_snapshot_until_the_next_refresh(market, client):
    kpis.snapshot_refresh()
    demand(at(2026, 3, 1))

    assert client.get(reverse("statistics:platform")).context["totals"]["demands"] == 6
    kpis.snapshot_refresh()
    assert client.get(reverse("statistics:platform")).context["totals"]["demands"] == 7


def test_beat_refreshes_the_figures_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-platform-kpis"]
    assert (entry["task"], entry["schedule"]) == ("marketplace.tasks.platform_kpis_task", 3600)


def test_a_scope_must_be_all_or_a_year_in_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlatformKpiSnapshot.objects.create(scope="20x6", data={}, computed_at=at(2026, 1, 1), seconds=0)
    assert not PlatformKpiSnapshot.objects.exists()


# --- API -----------------------------------------------------------------------------------------------------


def test_api_is_public_with_labels_in_the_requested_language(market, api_client):
    response = api_client.get("/api/v1/statistics/platform/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "all"
    assert body["totals"] == figures(6, 3, 4, 3, "610000.00", 33.33, 60.0, 0.5)
    assert [(r["code"], r["label"]) for r in body["by_field"]] == [
        ("advanced_manufacturing", "先进制造"),
        ("electronic_information", "电子信息"),
        ("new_materials", "新材料及其应用"),
    ]
    assert [r["label"] for r in body["by_city"]] == ["浙江省杭州市", "浙江省绍兴市", "浙江省金华市"]
    assert [r["label"] for r in body["by_sub_market"]] == ["杭州综合", "绍兴纺织", "浙江新材料"]

    english = api_client.get("/api/v1/statistics/platform/?year=2025", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["scope"] == "2025"
    assert english["totals"] == figures(2, 1, 2, 0, "0.00", 50.0, 50.0, 0.5)
    assert [r["label"] for r in english["by_field"]] == ["Advanced manufacturing"]
    # Equal demands: more listings first.
    assert [r["label"] for r in english["by_sub_market"]] == ["Shaoxing textiles", "Hangzhou"]


def test_api_refuses_a_malformed_year_and_has_nothing_for_a_year_without_records(market, api_client):
    bad = api_client.get("/api/v1/statistics/platform/?year=20x5", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    assert "four digits" in str(bad.json())
    assert api_client.get("/api/v1/statistics/platform/?year=1999").status_code == 404


# --- the page and the downloads ------------------------------------------------------------------------------


def test_public_page_shows_tiles_trend_and_tables(market, client):
    with translation.override("zh-hans"):
        response = client.get(reverse("statistics:platform"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    context = response.context
    assert context["scope"] == "all"
    assert context["years"] == ["2026", "2025"]
    assert context["totals"]["amount_wan"] == Decimal("61.00")
    assert [s["key"] for s in context["sections"]] == ["by_field", "by_province", "by_city", "by_sub_market"]
    fields = context["sections"][0]["rows"]
    assert [(r["label"], r["demand_bar"], r["listing_bar"]) for r in fields] == [
        ("先进制造", 100.0, 100 / 3),
        ("电子信息", 200 / 3, 100 / 3),
        ("新材料及其应用", 100 / 3, 100 / 3),
    ]
    # 12 bars: demands, listings and contracts of 4 months; the tallest is 2 (160 px).
    bars = context["trend"]["bars"]
    assert len(bars) == 12
    assert [(b["month"], b["series"], b["height"]) for b in bars if b["height"] == 160] == [
        ("2025-11", "demands", 160),
        ("2026-01", "demands", 160),
        ("2026-02", "demands", 160),
        ("2026-02", "contracts", 160),
    ]
    assert [(label["x"], label["text"]) for label in context["trend"]["labels"]] == [
        (90.0, "2025-11"),
        (270.0, "2025-12"),
        (450.0, "2026-01"),
        (630.0, "2026-02"),
    ]
    html = response.content.decode()
    assert "浙江省绍兴市" in html
    assert "绍兴纺织" in html
    assert 'class="num low-supply">0.33<' in html  # advanced manufacturing: fewer listings than demands


def test_page_of_a_year_and_404_for_a_year_without_records_or_malformed(market, client):
    assert client.get(reverse("statistics:platform") + "?year=2025").context["totals"]["demands"] == 2
    assert client.get(reverse("statistics:platform") + "?year=1999").status_code == 404
    assert client.get(reverse("statistics:platform") + "?year=abcd").status_code == 404


def test_csv_download(market, client):
    response = client.get(reverse("statistics:platform_download", args=["csv"]) + "?year=2026")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="platform-figures-2026.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffsection,demands,")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == ["totals", "4", "2", "2", "3", "610000.00", "25.0", "66.67", "0.5"]
    assert ["by_month", "2026-03", "2026-03", "0", "0", "0", "0", "0.00", "", "", ""] in rows
    assert [
        "by_sub_market",
        "zhejiang-materials",
        "浙江新材料",
        "1",
        "1",
        "1",
        "2",
        "410000.00",
        "100.0",
        "100.0",
        "1.0",
    ] in rows


def test_xlsx_download_has_a_sheet_per_table_and_amounts_as_numbers(market, client):
    response = client.get(reverse("statistics:platform_download", args=["xlsx"]))

    assert response["Content-Disposition"] == 'attachment; filename="platform-figures-all.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["totals", "by_month", "by_field", "by_province", "by_city", "by_sub_market"]
    assert [c.value for c in book["totals"][2]] == [6, 3, 4, 3, Decimal("610000.00"), 33.33, 60.0, 0.5]
    assert book["by_field"].max_row == 4


def test_annual_report_page_links_to_the_platform_figures(client, db):
    from contracts import statistics

    statistics.snapshot_refresh(2025)
    html = client.get(reverse("statistics:annual", args=[2025])).content.decode()
    assert reverse("statistics:platform") in html


# --- admin ---------------------------------------------------------------------------------------------------


def test_staff_define_sub_markets_and_recompute_the_figures(
    market, staff_user, client_for, django_capture_on_commit_callbacks
):
    client = client_for(staff_user)
    assert client.get(reverse("admin:marketplace_submarket_changelist")).status_code == 200
    response = client.post(
        reverse("admin:marketplace_submarket_add"),
        {
            "slug": "jinhua-magnetic",
            "name_zh": "东阳磁性材料",
            "name_en": "Dongyang magnetic materials",
            "region": "330700",
            "fields": ["new_materials"],
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    kpis.snapshot_refresh()
    snapshot = PlatformKpiSnapshot.objects.get(scope="all")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:marketplace_platformkpisnapshot_changelist"),
            {"action": "recompute", "_selected_action": [snapshot.pk]},
        )

    assert response.status_code == 302
    rows = PlatformKpiSnapshot.objects.get(scope="all").data["by_sub_market"]
    assert {r["code"]: r["listings"] for r in rows}["jinhua-magnetic"] == 1


def test_members_of_the_public_cannot_use_the_figures_admin(market, verified_member, client_for):
    kpis.snapshot_refresh()
    client = client_for(verified_member)
    for name in (
        "admin:marketplace_submarket_changelist",
        "admin:marketplace_platformkpisnapshot_changelist",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert client.post(reverse("admin:marketplace_submarket_add"), {"slug": "x"}).status_code == 302
    assert SubMarket.objects.count() == 4


def test_home_tiles_show_the_stored_contracts_and_solution_rate(market, client):
    kpis.snapshot_refresh()
    Deal.objects.create(
        listing=Listing.objects.filter(published_at__isnull=False).first(),
        buyer=market["institute"],
        price=Decimal("1000"),
        via=Deal.Via.NEGOTIATION,
        concluded_at=at(2026, 3, 1),
    )

    tiles = client.get("/en/").context["demand_tiles"]

    # Read from the stored figures: the new deal shows after the next refresh.
    assert [(str(t["label"]), t["value"]) for t in tiles][2:] == [
        ("Contracts signed", 3),
        ("Solution rate", "33.33%"),
    ]
    kpis.snapshot_refresh()
    assert client.get("/en/").context["demand_tiles"][2]["value"] == 4


def test_home_of_an_empty_market_shows_a_dash_for_the_solution_rate(client, db):
    tiles = client.get("/en/").context["demand_tiles"]

    assert [(str(t["label"]), t["value"]) for t in tiles][2:] == [
        ("Contracts signed", 0),
        ("Solution rate", "—"),
    ]


def test_a_long_trend_labels_every_third_month_of_thirty():
    from marketplace.views.statistics import _trend

    months = [
        {"code": f"{2024 + i // 12}-{i % 12 + 1:02d}", "demands": i, "listings": 0, "contracts": 0}
        for i in range(30)
    ]

    trend = _trend(months)

    assert [label["text"] for label in trend["labels"]] == [months[i]["code"] for i in range(0, 30, 3)]
    assert len(trend["bars"]) == 90
    assert max(bar["height"] for bar in trend["bars"]) == 160  # the 29 demands of the last month
    assert trend["bars"][-3]["x"] + trend["bars"][-1]["width"] * 3 <= trend["width"]
