"""Contract drafting, and the CSV imports registration officers upload in the admin.

Until contract drafting exists, the hand-over from an award is a no-op hook.
"""

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts import registry, tasks
from contracts.models import ImportKind, ImportRun, ImportStatus
from marketplace.exceptions import ApplicationError
from marketplace.services import audit_log


def contract_draft_from_award(*, proposal, actor):
    """Start a draft contract pre-filled from the demand and the awarded proposal (SPEC §4, §7).

    Called inside the award's transaction. Returns the draft, or None while contracts are not built.
    """
    return None


def contract_draft_from_deal(*, deal, actor=None):
    """Start a draft transfer contract from a concluded listing deal (auction or negotiation). No-op for now."""
    return None


# --- CSV imports uploaded in the admin (SPEC §7 "Bulk import of registrations", §8 GDP) -----------------------

IMPORTERS = {
    ImportKind.REGISTRATIONS: registry.registrations_import,
    ImportKind.GDP: registry.gdp_import,
}
IMPORT_PERMISSIONS = {
    ImportKind.REGISTRATIONS: ("contracts.add_registration", "contracts.change_registration"),
    ImportKind.GDP: ("contracts.add_gdpfigure", "contracts.change_gdpfigure"),
}
# The errors kept on the run for its report page; the rejects file has all of them.
IMPORT_ERRORS_SHOWN = 1000


def import_permitted(*, user, kind: str) -> bool:
    """Registration officers: active staff holding both the add and the change permission of the records."""
    return bool(user.is_active and user.is_staff and user.has_perms(IMPORT_PERMISSIONS[kind]))


def import_run_create(*, kind: str, upload: UploadedFile, strict: bool, uploaded_by) -> ImportRun:
    """Store an uploaded CSV file and import it: at once when it is small, by a Celery task otherwise.

    Returns the run; a run imported at once is already finished (its report filled in). A queued one is picked
    up after this transaction commits.
    """
    if not import_permitted(user=uploaded_by, kind=kind):
        raise PermissionDenied(_("You may not import these records."))
    if upload.size == 0:
        raise ApplicationError(_("The file is empty."), code="empty")
    if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ApplicationError(
            _("The file is larger than %(limit)d MB.") % {"limit": settings.IMPORT_MAX_UPLOAD_BYTES // 2**20},
            code="too_large",
        )
    inline = upload.size <= settings.IMPORT_INLINE_MAX_BYTES
    with transaction.atomic():
        run = ImportRun(
            kind=kind,
            source_name=Path(upload.name or "upload.csv").name[:255],
            size=upload.size,
            strict=strict,
            uploaded_by=uploaded_by,
        )
        run.file.save(f"{run.uuid.hex}.csv", upload, save=False)
        run.save()
        audit_log(
            actor=uploaded_by, action="import.upload", target=run, data={"kind": kind, "size": upload.size}
        )
        if not inline:
            tasks.import_run_execute_task.delay_on_commit(run.pk)
    if inline:
        run = import_run_execute(run_id=run.pk)
    return run


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Import the file of a run and store its report. Idempotent: a finished run is left as it is.

    The run is claimed (queued → running, committed, so that the admin shows it), then imported inside a
    transaction holding its row lock: a second delivery of the task waits, then finds it finished. A run left
    running by a worker that died is imported again by the redelivered task (the import is all or nothing).
    """
    ImportRun.objects.filter(pk=run_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    try:
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
            if run is None or run.is_finished:
                return run
            _import_run_apply(run)
    except OperationalError:
        raise  # transient: the task retries, and the run is still running
    except Exception as exc:
        ImportRun.objects.filter(pk=run_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED, message=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    return run


def _import_run_apply(run: ImportRun) -> None:
    # Spooled: the rejects of a bad million-row file stay on disk, not in memory.
    with tempfile.SpooledTemporaryFile(
        max_size=8 * 2**20, mode="w+", encoding="utf-8", newline=""
    ) as rejects:
        try:
            with run.file.open("rb") as stream:
                report = IMPORTERS[run.kind](stream, strict=run.strict, rejects=rejects)
        except registry.ImportFileError as exc:
            run.status = ImportStatus.REFUSED
            run.message = str(exc)
        else:
            run.status = ImportStatus.DONE if report.applied else ImportStatus.REFUSED
            run.created, run.updated = report.created, report.updated
            run.unchanged, run.rejected = report.unchanged, report.rejected
            run.errors = [[line, reason] for line, reason in report.errors[:IMPORT_ERRORS_SHOWN]]
            run.message = report.summary()
            if report.rejected:
                rejects.seek(0)
                # With a byte-order mark: the spreadsheets registration officers open it with need one for UTF-8.
                content = "\ufeff" + rejects.read()
                run.rejects_file.save(
                    f"{run.uuid.hex}-rejects.csv", ContentFile(content.encode("utf-8")), save=False
                )
    run.finished_at = timezone.now()
    run.save()
    audit_log(
        actor=run.uploaded_by,
        action="import.finish",
        target=run,
        reason=run.message[:500],
        data={
            "status": run.status,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "rejected": run.rejected,
        },
    )
