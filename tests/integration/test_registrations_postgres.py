"""The registered-contract import on PostgreSQL: the COPY path, its idempotency, the code triggers, and two imports
of overlapping files at the same time (SQLite takes the batched path, tested in tests/contracts)."""

from datetime import date
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from contracts.models import Registration
from contracts.registry import ImportFileError
from tests.contracts.conftest import csv_bytes, import_csv, row
from tests.integration.conftest import Racer, sessions_waiting_for_a_lock, wait_until
from tests.integration.markers import requires_postgres

pytestmark = [pytest.mark.integration, requires_postgres]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_copy_path_imports_every_column_and_escapes_texts():
    tricky = 'tab\there, back\\slash, new\nline, \\N, quote", 逗号,'
    report = import_csv(
        csv_bytes(
            row(1, title=tricky, seller_name="\\N", buyer_name=""),
            row(2, field="new_energy.energy_storage", buyer_region="990000"),
            row(3, objective="x"),
        )
    )

    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 1)
    assert report.errors == [(5, "unknown objective code 'x'")]  # row 1 spans lines 2 and 3
    first = Registration.objects.get(registration_no="2005330000001")
    assert (first.title, first.seller_name, first.buyer_name) == (tricky, "\\N", "")
    assert (first.field_id, first.sub_field_id) == ("advanced_manufacturing", None)
    assert (first.seller_province_id, first.buyer_province_id) == ("330000", "330000")
    assert (first.total_amount, first.technology_amount) == (Decimal("150000.00"), Decimal("120000.50"))
    assert first.registered_on == date(2005, 3, 1)
    second = Registration.objects.get(registration_no="2005330000002")
    assert (second.field_id, second.sub_field_id) == ("new_energy", "new_energy.energy_storage")
    assert second.buyer_province_id == "990000"


@pytest.mark.django_db
def test_copy_path_is_idempotent_and_updates_only_changed_rows():
    content = csv_bytes(row(1), row(2), row(3, total_amount="10", technology_amount="10"))
    import_csv(content)
    before = {
        r.registration_no: (r.created_at, r.updated_at, r.imported_at) for r in Registration.objects.all()
    }

    again = import_csv(content)
    changed = import_csv(
        csv_bytes(row(1), row(2, total_amount="150000.0"), row(3, technology_amount="9.99"), row(4))
    )

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    # 150000.0 is the same amount as 150000.00: not a change.
    assert (changed.created, changed.updated, changed.unchanged) == (1, 1, 2)
    after = {
        r.registration_no: (r.created_at, r.updated_at, r.imported_at) for r in Registration.objects.all()
    }
    assert after["2005330000001"] == before["2005330000001"]
    assert after["2005330000002"] == before["2005330000002"]
    assert after["2005330000003"][0] == before["2005330000003"][0]
    assert after["2005330000003"][1] > before["2005330000003"][1]
    assert Registration.objects.get(registration_no="2005330000003").technology_amount == Decimal("9.99")


@pytest.mark.django_db
def test_copy_path_strict_imports_nothing_and_two_imports_share_a_transaction():
    refused = import_csv(csv_bytes(row(1), row(2, plan_level="x")), strict=True)
    with transaction.atomic():
        first = import_csv(csv_bytes(row(1)))
        second = import_csv(csv_bytes(row(2)))

    assert (refused.applied, refused.rejected, refused.created) == (False, 1, 0)
    assert (first.created, second.created) == (1, 1)
    assert Registration.objects.count() == 2


@pytest.mark.django_db
def test_copy_path_refuses_a_malformed_file_whole_and_keeps_the_connection_usable():
    content = csv_bytes(*(row(n) for n in range(1, 2001))) + b'2005339999999,"' + b"x" * 200_000 + b"\r\n"

    with pytest.raises(ImportFileError):
        import_csv(content)

    assert Registration.objects.count() == 0
    assert import_csv(csv_bytes(row(1))).created == 1


@pytest.mark.django_db
def test_copy_path_refuses_only_the_rows_with_bytes_that_are_not_utf8():
    content = csv_bytes(row(1), row(2), row(3)).replace("浙江大学".encode(), b"\xe6\xb5\x99\xff", 1)

    report = import_csv(content)

    assert report.errors == [(2, "the row is not valid UTF-8")]
    assert Registration.objects.count() == 2


@pytest.mark.django_db
def test_the_triggers_refuse_unknown_region_and_field_codes():
    import_csv(csv_bytes(row(1)))

    for assignment in (
        "seller_region_id = '330199', seller_province_id = '330000'",
        "field_id = 'quantum'",
        "sub_field_id = 'electronic_information.software'",
    ):
        with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE contracts_registration SET {assignment}")  # noqa: S608 (constants)
        assert "unknown region or technology field" in str(error.value)

    stored = Registration.objects.get()
    assert (stored.seller_region_id, stored.field_id, stored.sub_field_id) == (
        "330100",
        "advanced_manufacturing",
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_overlapping_files_apply_one_after_the_other():
    # File A: numbers 1-60; file B: numbers 31-90 with other amounts. Both run at once.
    file_a = csv_bytes(*(row(n) for n in range(1, 61)))
    file_b = csv_bytes(*(row(n, total_amount="999.00", technology_amount="99.00") for n in range(31, 91)))
    holder = psycopg2.connect(**_connection_parameters())
    holder.autocommit = True
    with holder.cursor() as cursor:
        # Hold the importers' lock so that both are staged and waiting before either applies its rows.
        cursor.execute("SELECT pg_advisory_lock(hashtext('contracts.registration_import'))")
    racers = [Racer(lambda: import_csv(file_a), "import A"), Racer(lambda: import_csv(file_b), "import B")]
    for racer in racers:
        racer.start()
    try:
        wait_until(lambda: sessions_waiting_for_a_lock() >= 2, message="both imports to wait for the lock")
    finally:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext('contracts.registration_import'))")
        holder.close()
    reports = [racer.finish() for racer in racers]
    for racer in reports:
        assert racer.error is None, racer.error
    report_a, report_b = (racer.result for racer in reports)

    assert Registration.objects.count() == 90
    assert report_a.created + report_b.created == 90
    assert report_a.rejected == report_b.rejected == 0
    overlap = set(
        Registration.objects.filter(
            registration_no__in=[f"20053300{n:05d}" for n in range(31, 61)]
        ).values_list("total_amount", flat=True)
    )
    # The 30 shared numbers hold one file's values, all of them: the file applied last.
    assert overlap in ({Decimal("150000.00")}, {Decimal("999.00")})
    last = report_b if overlap == {Decimal("999.00")} else report_a
    first = report_a if last is report_b else report_b
    assert (first.created, first.updated) == (60, 0)
    assert (last.created, last.updated, last.unchanged) == (30, 30, 0)


def _connection_parameters() -> dict:
    database = settings.DATABASES["default"]
    return {
        "dbname": connection.settings_dict["NAME"],
        "user": database["USER"],
        "password": database["PASSWORD"],
        "host": database["HOST"],
        "port": database["PORT"] or 5432,
    }
