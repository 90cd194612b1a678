"""The registered-contract CSV import (SPEC §9.2) on the portable path (SQLite); PostgreSQL's COPY path is
tested in tests/integration/test_registrations_postgres.py."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from contracts.models import Registration, RegistrationSource
from contracts.registry import ImportFileError
from tests.contracts.conftest import csv_bytes, import_csv, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def numbers() -> list[str]:
    return sorted(Registration.objects.values_list("registration_no", flat=True))


def test_it_imports_every_column_and_derives_provinces_and_field():
    report = import_csv(
        csv_bytes(
            row(1),
            row(
                2,
                field="new_materials.polymers",
                seller_region="310000",
                buyer_region="990000",
                buyer_name="",
            ),
        )
    )

    assert (report.rows, report.created, report.updated, report.unchanged, report.rejected) == (2, 2, 0, 0, 0)
    assert report.errors == []
    first = Registration.objects.get(registration_no="2005330000001")
    assert first.registered_on == date(2005, 3, 1)
    assert first.contract_type == "development"
    assert (first.title, first.seller_name, first.buyer_name) == (
        "注塑件表面缺陷分析",
        "浙江大学",
        "宁波某模具有限公司",
    )
    assert (first.seller_type, first.buyer_type) == ("university", "enterprise")
    assert (first.seller_region_id, first.seller_province_id) == ("330100", "330000")
    assert (first.buyer_region_id, first.buyer_province_id) == ("330200", "330000")
    assert (first.total_amount, first.technology_amount) == (Decimal("150000.00"), Decimal("120000.50"))
    assert (first.field_id, first.sub_field_id) == ("advanced_manufacturing", None)
    assert (first.objective, first.plan_level) == ("industry", "none")
    assert first.source == RegistrationSource.IMPORTED
    assert first.imported_at is not None
    assert first.platform_contract_id is None
    second = Registration.objects.get(registration_no="2005330000002")
    assert (second.field_id, second.sub_field_id) == ("new_materials", "new_materials.polymers")
    assert (second.seller_province_id, second.buyer_province_id) == ("310000", "990000")
    assert second.buyer_name == ""


FUTURE = (timezone.localdate() + timedelta(days=1)).isoformat()

REJECTIONS = [
    ({"registration_no": ""}, "registration_no is empty"),
    ({"registration_no": "R" * 33}, "registration_no is longer than 32 characters"),
    ({"registered_on": "2005/03/01"}, "registered_on must be a date YYYY-MM-DD, not '2005/03/01'"),
    ({"registered_on": "20050301"}, "registered_on must be a date YYYY-MM-DD, not '20050301'"),
    ({"registered_on": "2005-02-30"}, "registered_on is not a valid date: 2005-02-30"),
    ({"registered_on": FUTURE}, f"registered_on {FUTURE} is in the future"),
    ({"contract_type": "licence"}, "unknown contract_type code 'licence'"),
    ({"contract_type": ""}, "contract_type is empty"),
    ({"seller_type": "government"}, "unknown seller_type code 'government'"),
    ({"seller_region": "330106"}, "unknown seller_region code '330106'"),
    ({"buyer_type": "company"}, "unknown buyer_type code 'company'"),
    ({"buyer_region": "999999"}, "unknown buyer_region code '999999'"),
    ({"field": "software"}, "unknown field code 'software'"),
    ({"objective": "military"}, "unknown objective code 'military'"),
    ({"plan_level": "county"}, "unknown plan_level code 'county'"),
    ({"total_amount": "-5.00", "technology_amount": "0"}, "total_amount must not be negative (-5.00)"),
    ({"technology_amount": "-0.01"}, "technology_amount must not be negative (-0.01)"),
    ({"total_amount": "1000.001"}, "total_amount has more than two decimals (1000.001)"),
    ({"technology_amount": "12.345"}, "technology_amount has more than two decimals (12.345)"),
    ({"total_amount": "1,000.00"}, "total_amount is not an amount in yuan: '1,000.00'"),
    ({"total_amount": "1e5"}, "total_amount is not an amount in yuan: '1e5'"),
    ({"total_amount": ""}, "total_amount is empty"),
    ({"total_amount": "100000000000000.00"}, "total_amount is too large (100000000000000.00)"),
    (
        {"total_amount": "1000.00", "technology_amount": "1000.01"},
        "technology_amount 1000.01 is above total_amount 1000.00",
    ),
    ({"title": "题" * 301}, "title is longer than 300 characters"),
    ({"seller_name": "名" * 201}, "seller_name is longer than 200 characters"),
    ({"buyer_name": "名" * 201}, "buyer_name is longer than 200 characters"),
    ({"title": "a\x00b"}, "title contains a NUL character"),
]


@pytest.mark.parametrize(("values", "reason"), REJECTIONS, ids=[reason for _values, reason in REJECTIONS])
def test_it_reports_each_invalid_row_with_its_line_and_imports_the_others(values, reason):
    report = import_csv(csv_bytes(row(1), row(2, **values), row(3)))

    assert report.errors == [(3, reason)]
    assert (report.rows, report.created, report.rejected) == (3, 2, 1)
    assert numbers() == ["2005330000001", "2005330000003"]


def test_it_lists_every_reason_of_a_row():
    report = import_csv(
        csv_bytes(row(1, registered_on="2005-13-01", seller_region="123456", total_amount="-1", field="x"))
    )

    assert report.errors == [
        (
            2,
            "registered_on is not a valid date: 2005-13-01; unknown seller_region code '123456'; "
            "unknown field code 'x'; total_amount must not be negative (-1)",
        )
    ]
    assert Registration.objects.count() == 0


def test_a_row_with_a_wrong_number_of_cells_is_reported():
    content = (
        csv_bytes(row(1))
        + b"2005330000002,2005-03-01,development\r\n"
        + csv_bytes(row(3))[len(csv_bytes()) :]
    )

    report = import_csv(content)

    assert report.errors == [(3, "expected 15 cells, found 3")]
    assert numbers() == ["2005330000001", "2005330000003"]


def test_bytes_that_are_not_utf8_refuse_only_their_row():
    good = csv_bytes(row(1), row(2), row(3))
    bad = good.replace("宁波某模具有限公司".encode(), b"\xff\xfe bad", 1)

    report = import_csv(bad)

    assert report.errors == [(2, "the row is not valid UTF-8")]
    assert numbers() == ["2005330000002", "2005330000003"]


def test_a_registration_no_repeated_in_the_file_refuses_the_later_lines():
    report = import_csv(
        csv_bytes(row(1), row(2), row(1, title="另一份"), row(3), row(1, title="第三份"), row(2))
    )

    assert report.errors == [
        (4, "registration_no 2005330000001 already appears on line 2"),
        (6, "registration_no 2005330000001 already appears on line 2"),
        (7, "registration_no 2005330000002 already appears on line 3"),
    ]
    assert (report.created, report.rejected) == (3, 3)
    assert Registration.objects.get(registration_no="2005330000001").title == "注塑件表面缺陷分析"


def test_a_contract_registered_on_the_platform_is_never_overwritten():
    Registration.objects.create(
        **{**_model_values(row(1)), "source": RegistrationSource.PLATFORM, "platform_contract_id": 42}
    )

    report = import_csv(csv_bytes(row(1, total_amount="1.00", technology_amount="1.00"), row(2)))

    assert report.errors == [(2, "registration_no 2005330000001 is a contract registered on this platform")]
    platform = Registration.objects.get(registration_no="2005330000001")
    assert (platform.source, platform.total_amount) == ("platform", Decimal("150000.00"))


def _model_values(values: dict) -> dict:
    return {
        "registration_no": values["registration_no"],
        "registered_on": date.fromisoformat(values["registered_on"]),
        "contract_type": values["contract_type"],
        "title": values["title"],
        "seller_name": values["seller_name"],
        "seller_type": values["seller_type"],
        "seller_region_id": values["seller_region"],
        "seller_province_id": values["seller_region"][:2] + "0000",
        "buyer_name": values["buyer_name"],
        "buyer_type": values["buyer_type"],
        "buyer_region_id": values["buyer_region"],
        "buyer_province_id": values["buyer_region"][:2] + "0000",
        "total_amount": Decimal(values["total_amount"]),
        "technology_amount": Decimal(values["technology_amount"]),
        "field_id": values["field"],
        "objective": values["objective"],
        "plan_level": values["plan_level"],
    }


def test_cells_are_stripped_and_columns_may_come_in_any_order():
    columns = list(reversed(list(row(1))))
    padded = {key: f" {value} " for key, value in row(1).items()}

    report = import_csv(csv_bytes(padded, row(2), columns=columns))

    assert (report.created, report.rejected) == (2, 0)
    first = Registration.objects.get(registration_no="2005330000001")
    assert (first.contract_type, first.seller_region_id, first.total_amount) == (
        "development",
        "330100",
        Decimal("150000.00"),
    )
    assert first.title == "注塑件表面缺陷分析"


def test_a_byte_order_mark_is_not_part_of_the_header():
    report = import_csv(csv_bytes(row(1), bom=True))

    assert (report.created, report.rejected) == (1, 0)


def test_line_numbers_are_physical_lines_across_quoted_line_breaks_and_blank_lines():
    content = (
        csv_bytes(row(1, title="第一行\n第二行"), row(2, contract_type="x")) + b"\r\n" + b",,,,,,,,,,,,,,\r\n"
    )
    content += csv_bytes(row(3, plan_level="y"))[len(csv_bytes()) :]

    report = import_csv(content)

    # Header line 1; row 1 spans lines 2-3; row 2 is line 4; a blank line 5 and an empty row 6 are skipped.
    assert report.errors == [(4, "unknown contract_type code 'x'"), (7, "unknown plan_level code 'y'")]
    assert Registration.objects.get().title == "第一行\n第二行"
    assert report.rows == 3


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "registration_no,registered_on",
            "missing columns: contract_type, title, seller_name, seller_type, seller_region, buyer_name, "
            "buyer_type, buyer_region, total_amount, technology_amount, field, objective, plan_level",
        ),
        (",".join([*row(1), "currency"]), "unknown columns: currency"),
        (",".join([*row(1), "title"]), "repeated columns: title"),
    ],
)
def test_a_wrong_header_refuses_the_file(header, message):
    with pytest.raises(ImportFileError) as error:
        import_csv(csv_bytes(row(1), header=header))

    assert message in str(error.value)
    assert error.value.code == "header"
    assert Registration.objects.count() == 0


def test_an_empty_file_is_refused():
    with pytest.raises(ImportFileError) as error:
        import_csv(b"")

    assert str(error.value) == "The file is empty: a header row is expected."


def test_a_file_that_is_not_csv_is_refused_whole():
    # An unterminated quote swallows the rest of the file into one cell, past the csv module's field limit.
    content = csv_bytes(row(1)) + b'2005330000002,"' + b"x" * 200_000 + b"\r\n"

    with pytest.raises(ImportFileError) as error:
        import_csv(content)

    assert error.value.code == "malformed"
    assert Registration.objects.count() == 0


def test_strict_imports_nothing_when_a_row_is_invalid_and_reports_them_all():
    report = import_csv(
        csv_bytes(row(1), row(2, contract_type="x"), row(3), row(4, objective="y")), strict=True
    )

    assert report.applied is False
    assert report.errors == [(3, "unknown contract_type code 'x'"), (5, "unknown objective code 'y'")]
    assert (report.created, report.updated, report.rejected) == (0, 0, 2)
    assert Registration.objects.count() == 0


def test_strict_imports_a_valid_file():
    report = import_csv(csv_bytes(row(1), row(2)), strict=True)

    assert report.applied is True
    assert (report.created, report.rejected) == (2, 0)


def test_importing_the_same_file_again_writes_nothing():
    content = csv_bytes(row(1), row(2), row(3, field="biomedicine.medical_devices"))
    import_csv(content)
    before = {
        r.registration_no: (r.updated_at, r.imported_at, r.created_at) for r in Registration.objects.all()
    }

    report = import_csv(content)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 3, 0)
    after = {
        r.registration_no: (r.updated_at, r.imported_at, r.created_at) for r in Registration.objects.all()
    }
    assert after == before


def test_a_changed_row_updates_its_record_and_only_it():
    import_csv(csv_bytes(row(1), row(2)))
    before = {r.registration_no: r for r in Registration.objects.all()}

    report = import_csv(
        csv_bytes(row(1), row(2, technology_amount="100000.00", plan_level="national"), row(3))
    )

    assert (report.created, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 0)
    changed = Registration.objects.get(registration_no="2005330000002")
    assert (changed.technology_amount, changed.plan_level) == (Decimal("100000.00"), "national")
    assert changed.created_at == before["2005330000002"].created_at
    assert changed.updated_at > before["2005330000002"].updated_at
    assert changed.imported_at > before["2005330000002"].imported_at
    untouched = Registration.objects.get(registration_no="2005330000001")
    assert untouched.updated_at == before["2005330000001"].updated_at


def test_the_rejects_file_holds_the_rows_as_read_with_line_and_reason():
    rejects = io.StringIO()

    import_csv(csv_bytes(row(1), row(2, seller_type="x"), row(3, total_amount="-1")), rejects=rejects)

    lines = list(csv.reader(io.StringIO(rejects.getvalue())))
    assert lines == [
        ["line", "reason", *row(1)],
        ["3", "unknown seller_type code 'x'", *row(2, seller_type="x").values()],
        ["4", "total_amount must not be negative (-1)", *row(3, total_amount="-1").values()],
    ]


def test_progress_is_reported_every_n_rows():
    calls = []

    import_csv(
        csv_bytes(row(1, objective="x"), *(row(n) for n in range(2, 8))),
        progress=lambda *counts: calls.append(counts),
        progress_every=3,
    )

    assert calls == [(3, 1), (6, 1)]
