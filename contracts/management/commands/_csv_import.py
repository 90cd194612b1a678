"""What ``import_registrations`` and ``import_gdp`` share: opening the files, printing the report, the exit status."""

import sys
from contextlib import ExitStack

from django.core.management.base import CommandError
from django.utils.translation import ngettext

from contracts.registry import ImportFileError


def run_import(command, importer, *, file: str, rejects: str | None, strict: bool, **options) -> None:
    """Run ``importer(stream, strict=…, rejects=…, **options)`` on ``file`` and report like SPEC §9.2 asks."""
    with ExitStack() as stack:
        if file == "-":
            stream = sys.stdin.buffer
        else:
            try:
                # Binary: the importer decodes line by line, so that a bad byte refuses its row, not the file.
                stream = stack.enter_context(open(file, "rb"))  # noqa: SIM115
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        rejects_stream = None
        if rejects:
            try:
                rejects_stream = stack.enter_context(open(rejects, "w", encoding="utf-8", newline=""))  # noqa: SIM115
            except OSError as exc:
                raise CommandError(f"cannot write {rejects}: {exc.strerror}") from None
        try:
            report = importer(stream, strict=strict, rejects=rejects_stream, **options)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
    for line, reason in report.errors:
        command.stderr.write(f"line {line}: {reason}")
    command.stdout.write(report.summary())
    if not report.applied:
        raise CommandError(
            ngettext(
                "%(count)d row is invalid: nothing was imported (--strict)",
                "%(count)d rows are invalid: nothing was imported (--strict)",
                report.rejected,
            )
            % {"count": report.rejected},
            returncode=1,
        )
    if report.rejected:
        # From the shell: "CommandError: …" on stderr and exit status 1; call_command raises it.
        raise CommandError(
            ngettext(
                "%(count)d row was refused; the valid rows were imported",
                "%(count)d rows were refused; the valid rows were imported",
                report.rejected,
            )
            % {"count": report.rejected},
            returncode=1,
        )
