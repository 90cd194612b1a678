"""The admin of registrations and GDP figures: the CSV upload of registration officers and its report."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from contracts.models import GdpFigure, ImportRun, ImportStatus, Registration
from contracts.tasks import import_run_execute_task
from marketplace.models import AuditLog
from tests.contracts.conftest import csv_bytes, gdp_csv, import_csv, row

pytestmark = pytest.mark.django_db


def import_url() -> str:
    return reverse("admin:contracts_registration_import")


def gdp_import_url() -> str:
    return reverse("admin:contracts_gdpfigure_import")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload(client, content: bytes, *, url=None, name="registrations.csv", strict=False):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if strict:
        data["strict"] = "on"
    return client.post(url or import_url(), data)


# --- who may upload -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = upload(client, csv_bytes(row(1)))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert Registration.objects.count() == 0


def test_users_who_are_not_staff_are_sent_to_the_login_whatever_their_permissions(
    client_for, non_staff_with_permissions
):
    response = upload(client_for(non_staff_with_permissions), csv_bytes(row(1)))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert (Registration.objects.count(), ImportRun.objects.count()) == (0, 0)


@pytest.mark.parametrize("persona", ["staff_viewer", "staff_add_only"])
def test_staff_without_the_add_and_change_permissions_are_refused(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))

    assert client.get(import_url()).status_code == 403
    assert upload(client, csv_bytes(row(1))).status_code == 403
    assert (Registration.objects.count(), ImportRun.objects.count()) == (0, 0)


def test_staff_without_the_permissions_see_no_import_button_nor_imports(client_for, staff_viewer):
    client = client_for(staff_viewer)

    page = client.get(reverse("admin:contracts_registration_changelist"))

    assert page.status_code == 200
    assert import_url() not in page.content.decode()
    assert client.get(reverse("admin:contracts_importrun_changelist")).status_code == 403


def test_a_gdp_officer_is_not_a_registration_officer(client_for, officer):
    officer.user_permissions.remove(*officer.user_permissions.filter(codename="change_registration"))

    assert client_for(officer).get(import_url()).status_code == 403
    assert client_for(officer).get(gdp_import_url()).status_code == 200


# --- the upload and its report --------------------------------------------------------------------------------


def test_an_officer_imports_a_small_file_at_once_and_sees_the_report(client_for, officer):
    client = client_for(officer)
    assert import_url() in client.get(reverse("admin:contracts_registration_changelist")).content.decode()

    response = upload(client, csv_bytes(row(1), row(2, objective="x"), row(3)))

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:contracts_importrun_change", args=[run.pk])
    assert (run.status, run.kind, run.source_name, run.uploaded_by) == (
        ImportStatus.DONE,
        "registrations",
        "registrations.csv",
        officer,
    )
    assert (run.created, run.updated, run.unchanged, run.rejected) == (2, 0, 0, 1)
    assert run.errors == [[3, "unknown objective code 'x'"]]
    assert run.started_at is not None
    assert run.finished_at is not None
    assert Registration.objects.count() == 2
    report = client.get(response["Location"]).content.decode()
    assert "unknown objective code &#x27;x&#x27;" in report
    assert reverse("admin:contracts_importrun_rejects", args=[run.pk]) in report
    assert 'class="errornote"' not in report  # the rejected rows are not the form's errors
    actions = list(
        AuditLog.objects.filter(target_type="contracts.importrun").values_list("action", flat=True)
    )
    assert sorted(actions) == ["import.finish", "import.upload"]


def test_the_reasons_are_in_the_language_of_the_upload_page(client_for, officer):
    with translation.override("zh-hans"):
        upload(client_for(officer), csv_bytes(row(1), row(2, objective="x")))

    assert ImportRun.objects.get().errors == [[3, "objective 代码 'x' 不存在"]]


def test_the_rejected_rows_download_with_a_byte_order_mark(client_for, officer, staff_viewer):
    upload(client_for(officer), csv_bytes(row(1), row(2, objective="x")))
    run = ImportRun.objects.get()
    url = reverse("admin:contracts_importrun_rejects", args=[run.pk])

    response = client_for(officer).get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="registrations-rejects.csv"'
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeffline,reason,registration_no,")
    assert "3,unknown objective code 'x',2005330000002," in content
    assert client_for(staff_viewer).get(url).status_code == 403


def test_a_large_file_is_imported_by_a_task_after_the_commit(
    client_for, officer, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 100

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client_for(officer), csv_bytes(row(1), row(2)))

    run = ImportRun.objects.get()
    assert run.status == ImportStatus.QUEUED
    assert Registration.objects.count() == 0
    assert len(callbacks) == 1

    callbacks[0]()

    run.refresh_from_db()
    assert (run.status, run.created, run.rejected) == (ImportStatus.DONE, 2, 0)
    assert Registration.objects.count() == 2


def test_the_import_task_run_twice_imports_once(officer, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_INLINE_MAX_BYTES = 100
    from contracts.services import import_run_create

    with django_capture_on_commit_callbacks(execute=True):
        run = import_run_create(
            kind="registrations",
            upload=SimpleUploadedFile("r.csv", csv_bytes(row(1), row(2))),
            strict=False,
            uploaded_by=officer,
        )
    before = {r.registration_no: r.updated_at for r in Registration.objects.all()}

    import_run_execute_task(run.pk)
    import_run_execute_task(run.pk)

    run.refresh_from_db()
    assert (run.status, run.created, run.updated, run.unchanged) == (ImportStatus.DONE, 2, 0, 0)
    assert {r.registration_no: r.updated_at for r in Registration.objects.all()} == before


def test_a_strict_upload_with_an_invalid_row_imports_nothing(client_for, officer):
    upload(client_for(officer), csv_bytes(row(1), row(2, objective="x")), strict=True)

    run = ImportRun.objects.get()
    assert (run.status, run.rejected, run.created) == (ImportStatus.REFUSED, 1, 0)
    assert Registration.objects.count() == 0


def test_a_file_with_a_wrong_header_is_refused_with_its_reason(client_for, officer):
    upload(client_for(officer), b"number,date\r\n1,2005-01-01\r\n")

    run = ImportRun.objects.get()
    assert run.status == ImportStatus.REFUSED
    assert run.message.startswith("The header row is not valid (missing columns: registration_no")
    assert Registration.objects.count() == 0


@pytest.mark.parametrize(("name", "content"), [("registrations.xlsx", b"PK\x03\x04"), ("empty.csv", b"")])
def test_a_file_that_is_not_a_csv_is_refused_by_the_form(client_for, officer, name, content):
    response = upload(client_for(officer), content, name=name)

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert ImportRun.objects.count() == 0


def test_an_officer_uploads_gdp_figures(client_for, officer):
    upload(
        client_for(officer),
        gdp_csv(["2005", "000000", "18232100000000"]),
        url=gdp_import_url(),
        name="gdp.csv",
    )

    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.created) == ("gdp", ImportStatus.DONE, 1)
    assert GdpFigure.objects.get().gdp_yuan == Decimal("18232100000000")


# --- the registration list ------------------------------------------------------------------------------------


def test_the_registration_list_filters_by_year_type_and_province_and_finds_a_number(client_for, staff_viewer):
    import_csv(
        csv_bytes(
            row(1),
            row(2, registered_on="2006-05-01", contract_type="service"),
            row(3, seller_region="110000", registered_on="2006-07-01"),
        )
    )
    client = client_for(staff_viewer)
    url = reverse("admin:contracts_registration_changelist")

    def listed(query: str) -> list[str]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200
        return sorted(r.registration_no for r in response.context["cl"].result_list)

    assert listed("year=2006") == ["2005330000002", "2005330000003"]
    assert listed("year=2006&contract_type__exact=service") == ["2005330000002"]
    assert listed("seller_province=110000") == ["2005330000003"]
    assert listed("q=2005330000001") == ["2005330000001"]
    detail = client.get(
        reverse("admin:contracts_registration_change", args=[Registration.objects.first().pk])
    )
    assert detail.status_code == 200
