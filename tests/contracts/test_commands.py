"""``manage.py import_registrations`` and ``manage.py import_gdp``: output, exit status, options."""

import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from contracts.models import GdpFigure, Registration
from tests.contracts.conftest import csv_bytes, gdp_csv, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_registrations_prints_the_summary(tmp_path):
    path = tmp_path / "registrations.csv"
    path.write_bytes(csv_bytes(row(1), row(2)))

    out, err = run("import_registrations", str(path))

    assert out == "created 2, updated 0, unchanged 0, rejected 0\n"
    assert err == ""
    assert Registration.objects.count() == 2


def test_refused_rows_go_to_stderr_and_the_exit_status_is_1(tmp_path):
    path = tmp_path / "registrations.csv"
    path.write_bytes(csv_bytes(row(1), row(2, objective="x")))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as error:
        call_command("import_registrations", str(path), stdout=out, stderr=err)

    assert error.value.returncode == 1
    assert str(error.value) == "1 row was refused; the valid rows were imported"
    assert err.getvalue() == "line 3: unknown objective code 'x'\n"
    assert out.getvalue() == "created 1, updated 0, unchanged 0, rejected 1\n"
    assert Registration.objects.count() == 1


def test_strict_imports_nothing(tmp_path):
    path = tmp_path / "registrations.csv"
    path.write_bytes(csv_bytes(row(1), row(2, objective="x")))

    with pytest.raises(CommandError) as error:
        run("import_registrations", str(path), "--strict")

    assert str(error.value) == "1 row is invalid: nothing was imported (--strict)"
    assert Registration.objects.count() == 0


def test_rejects_are_written_to_the_given_file(tmp_path):
    path, rejects = tmp_path / "registrations.csv", tmp_path / "rejects.csv"
    path.write_bytes(csv_bytes(row(1), row(2, objective="x")))

    with pytest.raises(CommandError):
        run("import_registrations", str(path), "--rejects", str(rejects))

    with rejects.open(encoding="utf-8", newline="") as stream:
        lines = list(csv.reader(stream))
    assert lines == [
        ["line", "reason", *row(1)],
        ["3", "unknown objective code 'x'", *row(2, objective="x").values()],
    ]


def test_progress_goes_to_stderr(tmp_path):
    path = tmp_path / "registrations.csv"
    path.write_bytes(csv_bytes(*(row(n) for n in range(1, 5))))

    out, err = run("import_registrations", str(path), "--progress-every", "2")

    assert err == "… 2 rows read, 0 refused\n… 4 rows read, 0 refused\n"
    assert out == "created 4, updated 0, unchanged 0, rejected 0\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty: a header row is expected."),
        (b"registration_no,registered_on\r\n", "The header row is not valid (missing columns: contract_type"),
    ],
)
def test_a_file_that_cannot_be_imported_is_a_command_error(tmp_path, content, message):
    path = tmp_path / "registrations.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError) as error:
        run("import_registrations", str(path))

    assert str(error.value).startswith(message)
    assert Registration.objects.count() == 0


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError) as error:
        run("import_registrations", str(tmp_path / "missing.csv"))

    assert str(error.value).startswith("cannot read ")


def test_import_gdp(tmp_path):
    path = tmp_path / "gdp.csv"
    path.write_bytes(gdp_csv(["2005", "000000", "18232100000000"], ["2005", "330000", "1341773000000.00"]))

    out, _ = run("import_gdp", str(path))
    again, _ = run("import_gdp", str(path))

    assert out == "created 2, updated 0, unchanged 0, rejected 0\n"
    assert again == "created 0, updated 0, unchanged 2, rejected 0\n"
    assert GdpFigure.objects.get(year=2005, region="000000").gdp_yuan == Decimal("18232100000000.00")
