"""The registration summary on PostgreSQL (migration 0004): after every kind of write its rows are exactly the
sums the report's own grouping of the registrations gives, the report read from it is the same report, a
difference is found and repaired, and concurrent writers lose nothing and do not deadlock."""

import io
import json
import threading
from datetime import date
from decimal import Decimal

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from contracts import statistics
from contracts.models import AnnualReport, Registration, RegistrationSummary
from contracts.statistics import Cell, SummaryDifference
from contracts.tasks import annual_report_task
from tests.contracts.conftest import csv_bytes, import_csv, row
from tests.contracts.test_annual_report import insert
from tests.integration.conftest import TIMEOUT, Racer, sessions_waiting_for_a_lock, wait_until
from tests.integration.markers import requires_postgres
from tests.integration.test_registrations_postgres import _connection_parameters

pytestmark = [pytest.mark.integration, requires_postgres]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def summary_rows(year: int | None = None) -> list[tuple]:
    rows = RegistrationSummary.objects.order_by("year", "dimension", "code", "code_to")
    if year is not None:
        rows = rows.filter(year=year)
    return list(
        rows.values_list("id", "year", "dimension", "code", "code_to", "count", "amount", "technology_amount")
    )


def assert_summary_is_exact(*years: int) -> None:
    """The summary of each year (and the year before) is the report's grouping of the registrations, and the
    whole table holds no other year."""
    for year in years:
        summary = statistics._aggregate_summary(year)
        assert summary == statistics._aggregate_grouping_sets(year)
        assert statistics.summary_check(year) == []
    stored = set(RegistrationSummary.objects.values_list("year", flat=True))
    counted = {day.year for day in Registration.objects.values_list("registered_on", flat=True)}
    assert stored == counted


def spread() -> None:
    """Registrations over types, provinces, flows and two years (2004 and 2005)."""
    insert(2005, "development", 30, 1_000_001)
    insert(2005, "service", 7, 70_000, prefix="a", seller_region_id="320100", seller_province_id="320000")
    insert(2005, "transfer", 3, 9_999, prefix="b", buyer_region_id="110000", buyer_province_id="110000",
           objective="health", plan_level="national", field_id="biomedicine", buyer_type="government")  # fmt: skip
    insert(2004, "development", 11, 123_456, prefix="c")
    insert(2004, "consulting", 5, 500, prefix="d", seller_type="research_institute")


def service_count(report: dict) -> int:
    return next(r["count"] for r in report["by_contract_type"] if r["code"] == "service")


def update(sql: str, *params) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE contracts_registration SET {sql}", params)  # noqa: S608 (the tests' constants)
        return cursor.rowcount


@pytest.mark.django_db
def test_the_migration_fills_nothing_on_an_empty_table_and_inserts_are_summed():
    assert summary_rows() == []

    spread()

    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["totals", 2005, None] == Cell(40, Decimal("1080000.00"), Decimal("1080000.00"))
    assert summary["totals", 2004, None] == Cell(16, Decimal("123956.00"), Decimal("123956.00"))
    assert summary["by_contract_type", 2005, "transfer"] == Cell(3, Decimal("9999.00"), Decimal("9999.00"))
    assert summary["by_seller_type", 2004, "research_institute"].count == 5
    assert summary["by_field", 2005, "biomedicine"].count == 3
    assert summary["by_seller_region", 2005, "320000"] == Cell(7, Decimal("70000.00"), Decimal("70000.00"))
    assert summary["flows", 2005, ("330000", "110000")].count == 3
    assert summary["flows", 2005, ("320000", "310000")].count == 7
    # 2005: 1 totals row, 3 types, 1 seller type, 2 buyer types, 2 objectives, 2 fields, 2 plan levels,
    # 2 seller provinces, 2 buyer provinces, 3 flows.
    assert len(summary_rows(2005)) == 20
    assert ("by_contract_type", 2005, "consulting") not in summary


@pytest.mark.django_db
def test_updates_move_rows_between_codes_provinces_and_years_and_change_amounts():
    spread()

    # Between codes: two transfers become consulting (2005).
    assert (
        update("contract_type = 'consulting' WHERE registration_no IN ('b2005transfer-1', 'b2005transfer-2')")
        == 2
    )
    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["by_contract_type", 2005, "transfer"] == Cell(1, Decimal("3333.00"), Decimal("3333.00"))
    assert summary["by_contract_type", 2005, "consulting"] == Cell(2, Decimal("6666.00"), Decimal("6666.00"))

    # Between provinces: the seller of every service contract moves from Jiangsu to Beijing.
    assert (
        update("seller_region_id = '110000', seller_province_id = '110000' WHERE contract_type = 'service'")
        == 7
    )
    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert ("by_seller_region", 2005, "320000") not in summary
    assert ("flows", 2005, ("320000", "310000")) not in summary
    assert summary["flows", 2005, ("110000", "310000")] == Cell(7, Decimal("70000.00"), Decimal("70000.00"))
    assert RegistrationSummary.objects.filter(code="320000").count() == 0

    # Between years: the last remaining transfer goes back to 2004, the 2004 consulting to 2005.
    assert update("registered_on = '2004-12-31' WHERE registration_no = 'b2005transfer-3'") == 1
    assert (
        update(
            "registered_on = '2005-01-01' WHERE contract_type = 'consulting' AND registered_on < '2005-01-01'"
        )
        == 5
    )
    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert ("by_contract_type", 2005, "transfer") not in summary
    assert summary["by_contract_type", 2004, "transfer"] == Cell(1, Decimal("3333.00"), Decimal("3333.00"))
    assert summary["by_contract_type", 2005, "consulting"] == Cell(7, Decimal("7166.00"), Decimal("7166.00"))
    assert summary["totals", 2005, None].count == 40 - 1 + 5
    assert summary["totals", 2004, None].count == 16 + 1 - 5

    # Amounts only: every development contract of 2005 doubles, its technology part stays.
    assert (
        update(
            "total_amount = total_amount * 2 WHERE contract_type = 'development' AND registered_on >= '2005-01-01'"
        )
        == 30
    )
    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["by_contract_type", 2005, "development"] == Cell(
        30, Decimal("2000002.00"), Decimal("1000001.00")
    )

    # A change of nothing the report counts (a title) changes no summary row, not even its version.
    before = summary_rows()
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM contracts_registrationsummary ORDER BY id")
        versions = cursor.fetchall()
    assert update("title = 'renamed'") == 56
    assert summary_rows() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM contracts_registrationsummary ORDER BY id")
        assert cursor.fetchall() == versions


@pytest.mark.django_db
def test_deletes_subtract_and_remove_emptied_groups_and_truncate_empties_it():
    spread()

    deleted, _ = Registration.objects.filter(contract_type="transfer").delete()
    assert deleted == 3
    assert_summary_is_exact(2005)
    gone = ["transfer", "biomedicine", "government", "health", "national", "110000"]
    assert not RegistrationSummary.objects.filter(code__in=gone).exists()
    assert not RegistrationSummary.objects.filter(code_to="110000").exists()
    assert statistics._aggregate_summary(2005)["totals", 2005, None] == Cell(
        37, Decimal("1070001.00"), Decimal("1070001.00")
    )

    Registration.objects.filter(registered_on__year=2004).delete()
    assert_summary_is_exact(2005)
    assert set(RegistrationSummary.objects.values_list("year", flat=True)) == {2005}

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contracts_registration")
    assert summary_rows() == []
    assert statistics.summary_check(2005) == []


@pytest.mark.django_db
def test_an_insert_on_conflict_update_counts_its_inserted_and_its_updated_rows():
    spread()
    with connection.cursor() as cursor:
        # One row new (a copy of a transfer under a new number), one existing transfer overwritten as consulting.
        cursor.execute(
            """
            INSERT INTO contracts_registration AS r (registration_no, registered_on, contract_type, title,
                seller_name, seller_type, seller_region_id, seller_province_id, buyer_name, buyer_type,
                buyer_region_id, buyer_province_id, total_amount, technology_amount, field_id, objective,
                plan_level, source, imported_at, created_at, updated_at)
            SELECT number, registered_on, kind, title, seller_name, seller_type, seller_region_id,
                   seller_province_id, buyer_name, buyer_type, buyer_region_id, buyer_province_id, total_amount,
                   technology_amount, field_id, objective, plan_level, source, imported_at, created_at, updated_at
              FROM contracts_registration,
                   (VALUES ('new-1', 'transfer'), ('b2005transfer-1', 'consulting')) AS v (number, kind)
             WHERE registration_no = 'b2005transfer-2'
            ON CONFLICT (registration_no) DO UPDATE SET contract_type = EXCLUDED.contract_type
            """
        )
        assert cursor.rowcount == 2

    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["by_contract_type", 2005, "transfer"] == Cell(3, Decimal("9999.00"), Decimal("9999.00"))
    assert summary["by_contract_type", 2005, "consulting"] == Cell(1, Decimal("3333.00"), Decimal("3333.00"))
    assert summary["totals", 2005, None].count == 41


@pytest.mark.django_db
def test_a_csv_import_is_summed_and_a_reimport_of_the_same_file_changes_no_summary_row():
    spread()
    content = csv_bytes(
        row(1),
        row(
            2,
            registered_on="2004-11-30",
            contract_type="service",
            total_amount="10.00",
            technology_amount="0",
        ),
        row(3, seller_region="440300", buyer_region="990000", field="new_energy.energy_storage"),
        row(4, plan_level="x"),  # refused: counted nowhere
    )

    report = import_csv(content)

    assert (report.created, report.rejected) == (3, 1)
    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["totals", 2005, None] == Cell(42, Decimal("1380000.00"), Decimal("1320001.00"))
    assert summary["flows", 2005, ("440000", "990000")] == Cell(1, Decimal("150000.00"), Decimal("120000.50"))
    assert summary["by_field", 2005, "new_energy"].count == 1
    assert summary["by_contract_type", 2004, "service"] == Cell(1, Decimal("10.00"), Decimal("0.00"))
    imported = summary_rows()

    again = import_csv(content)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert summary_rows() == imported  # the same rows, ids and values

    changed = import_csv(
        csv_bytes(
            row(1, total_amount="150001.00"),
            row(2),  # from 2004 back to the defaults: 2005, development, 150,000.00
            row(3, seller_region="440300", buyer_region="990000", field="new_energy.energy_storage"),
        )
    )

    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 1)
    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["totals", 2005, None] == Cell(43, Decimal("1530001.00"), Decimal("1440001.50"))
    assert ("by_contract_type", 2004, "service") not in summary


@pytest.mark.django_db
def test_the_report_read_from_the_summary_is_the_report_of_the_registrations():
    spread()
    insert(2005, "transfer", 4, 4_000, prefix="e", seller_region_id="110000", seller_province_id="110000")

    from_summary = statistics.with_labels(statistics.compute(2005))
    from_registrations = statistics.with_labels(
        statistics.compute(2005, statistics._aggregate_grouping_sets(2005))
    )

    assert json.dumps(from_summary, ensure_ascii=False) == json.dumps(from_registrations, ensure_ascii=False)
    assert from_summary["totals"]["count"] == 44
    assert [r["code"] for r in from_summary["by_seller_region"]] == ["330000", "320000", "110000"]
    out = io.StringIO()
    call_command("annual_report", "2005", "--refresh", "--format", "json", "--language", "en", stdout=out)
    assert json.loads(out.getvalue()) == json.loads(json.dumps(from_registrations, ensure_ascii=False))


@pytest.mark.django_db
def test_a_summary_that_differs_is_reported_then_repaired_and_the_report_reads_the_summary():
    spread()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contracts_registrationsummary SET count = count + 1 "
            "WHERE year = 2005 AND dimension = 'by_contract_type' AND code = 'service'"
        )
        cursor.execute(
            "DELETE FROM contracts_registrationsummary WHERE year = 2004 AND dimension = 'by_field'"
        )
        cursor.execute(
            "INSERT INTO contracts_registrationsummary (year, dimension, code, code_to, count, amount, "
            "technology_amount) VALUES (2005, 'flows', '650000', '650000', 1, 5, 5)"
        )
    # The report reads the summary: the change shows.
    assert service_count(statistics.compute(2005)) == 8

    def cell(count, amount):
        return Cell(count, Decimal(amount), Decimal(amount))

    assert statistics.summary_check(2005) == [
        SummaryDifference("by_field", 2004, "advanced_manufacturing", None, cell(16, "123956.00")),
        SummaryDifference("by_contract_type", 2005, "service", cell(8, "70000.00"), cell(7, "70000.00")),
        SummaryDifference("flows", 2005, ("650000", "650000"), cell(1, "5.00"), None),
    ]
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("annual_report", "2005", "--verify", "--language", "en", stdout=out, stderr=err)
    assert str(error.value) == (
        "The summary of 2005 and 2004 differs from the registrations in 3 groups (--repair recomputes it)."
    )
    assert err.getvalue().splitlines() == [
        "2004 by_field advanced_manufacturing: summary none, "
        "registrations 16, 123956.00 yuan (technology 123956.00 yuan)",
        "2005 by_contract_type service: summary 8, 70000.00 yuan (technology 70000.00 yuan), "
        "registrations 7, 70000.00 yuan (technology 70000.00 yuan)",
        "2005 flows 650000→650000: summary 1, 5.00 yuan (technology 5.00 yuan), registrations none",
    ]
    assert out.getvalue() == ""

    out = io.StringIO()
    call_command(
        "annual_report", "2005", "--verify", "--repair", "--language", "en", stdout=out, stderr=io.StringIO()
    )

    assert out.getvalue() == "The summary of 2005 and 2004 differed in 3 groups; repaired.\n"
    assert_summary_is_exact(2005)
    assert service_count(statistics.compute(2005)) == 7
    out = io.StringIO()
    call_command("annual_report", "2005", "--verify", "--language", "en", stdout=out)
    assert out.getvalue() == "The summary of 2005 and 2004 agrees with the registrations.\n"


@pytest.mark.django_db
def test_the_repair_recomputes_only_the_years_that_differ():
    spread()
    insert(2003, "service", 2, 20, prefix="f")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contracts_registrationsummary SET amount = amount + 1 WHERE year = 2005")
    untouched = summary_rows(2004) + summary_rows(2003)

    differences = statistics.summary_check(2005, repair=True)

    assert {d.year for d in differences} == {2005}
    assert len(differences) == len(summary_rows(2005)) == 20
    assert summary_rows(2004) + summary_rows(2003) == untouched  # same ids: not rewritten
    assert_summary_is_exact(2005, 2004)


@pytest.mark.django_db
def test_the_nightly_task_logs_and_repairs_a_summary_that_differs(caplog):
    year = timezone.localdate().year
    insert(year, "development", 3, 300)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contracts_registrationsummary SET count = 99 WHERE dimension = 'totals'")

    assert annual_report_task() == [year - 1, year]

    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "contracts.tasks"]
    assert len(errors) == 1
    assert (
        errors[0]
        .getMessage()
        .startswith(
            f"registration summary of {year} and {year - 1} differed from the registrations in 1 groups (repaired)"
        )
    )
    assert AnnualReport.objects.get(year=year).data["totals"]["count"] == 3
    assert statistics.summary_check(year) == []


# --- concurrent writers -------------------------------------------------------------------------------------


def _hold_summary_lock():
    holder = psycopg2.connect(**_connection_parameters())
    holder.autocommit = True
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [statistics.SUMMARY_LOCK_KEY])
    return holder


def _release(holder) -> None:
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [statistics.SUMMARY_LOCK_KEY])
    holder.close()


def _platform_registration(number: str) -> Registration:
    return Registration.objects.create(
        registration_no=number,
        registered_on=date(2005, 5, 5),
        contract_type="development",
        seller_type="university",
        seller_region_id="330100",
        seller_province_id="330000",
        buyer_type="enterprise",
        buyer_region_id="310000",
        buyer_province_id="310000",
        total_amount=Decimal("1000.00"),
        technology_amount=Decimal("500.00"),
        field_id="advanced_manufacturing",
        objective="industry",
        plan_level="none",
        source=Registration.Source.PLATFORM,
        platform_contract_id=int(number[-3:]),
    )


@pytest.mark.django_db(transaction=True)
def test_two_imports_and_a_platform_registration_at_once_lose_no_update():
    file_a = csv_bytes(*(row(n) for n in range(1, 41)))
    file_b = csv_bytes(*(row(n, total_amount="10.00", technology_amount="1.00") for n in range(41, 61)))
    holder = _hold_summary_lock()
    racers = [
        Racer(lambda: import_csv(file_a), "import A"),
        Racer(lambda: import_csv(file_b), "import B"),
        Racer(lambda: _platform_registration("P2005-001"), "platform"),
    ]
    for racer in racers:
        racer.start()
    try:
        # One import and the platform wait for the summary; the other import waits for the first.
        wait_until(lambda: sessions_waiting_for_a_lock() >= 3, message="every writer to wait")
    finally:
        _release(holder)
    for racer in racers:
        racer.finish()
        assert racer.error is None, racer.error

    assert Registration.objects.count() == 61
    assert_summary_is_exact(2005)
    assert statistics._aggregate_summary(2005)["totals", 2005, None] == Cell(
        61, Decimal("6001200.00"), Decimal("4800540.00")
    )


@pytest.mark.django_db(transaction=True)
def test_transactions_writing_two_years_in_opposite_orders_do_not_deadlock():
    # Summary rows locked one by one would deadlock here: the first holds 2004's rows and wants 2005's, the
    # second holds 2005's and wants 2004's. The summary's one lock makes the second wait at its first write.
    first_wrote, second_waits = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            insert(2004, "development", 2, 200, prefix="g")
            first_wrote.set()
            assert second_waits.wait(TIMEOUT)
            insert(2005, "development", 3, 300, prefix="g")

    def second():
        assert first_wrote.wait(TIMEOUT)
        with transaction.atomic():
            insert(2005, "service", 5, 500, prefix="h")
            insert(2004, "service", 7, 700, prefix="h")

    racers = [Racer(first, "first"), Racer(second, "second")]
    for racer in racers:
        racer.start()
    try:
        # Watched from here: a transaction sees pg_stat_activity as it was at its first look.
        wait_until(lambda: sessions_waiting_for_a_lock() >= 1, message="the second to wait")
    finally:
        second_waits.set()
    for racer in racers:
        racer.finish()
        assert racer.error is None, racer.error

    assert_summary_is_exact(2005)
    summary = statistics._aggregate_summary(2005)
    assert summary["totals", 2005, None] == Cell(8, Decimal("800.00"), Decimal("800.00"))
    assert summary["totals", 2004, None] == Cell(9, Decimal("900.00"), Decimal("900.00"))
