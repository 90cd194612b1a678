"""``manage.py import_registrations FILE.csv [--strict] [--rejects PATH]``: import registered contracts (SPEC §9.2).

Rules in ``contracts.registry``. Every refused row is reported on stderr as ``line N: reason``; progress goes to
stderr every ``--progress-every`` rows; the last line on stdout is the summary ``created X, updated Y, unchanged
Z, rejected W``. Exit status 1 when any row was refused (with ``--strict`` nothing was then imported) or the file
could not be read, 0 otherwise. ``-`` reads standard input.
"""

from django.core.management.base import BaseCommand

from contracts.management.commands._csv_import import run_import
from contracts.registry import PROGRESS_EVERY, registrations_import


class Command(BaseCommand):
    help = "Import registered technology contracts from a CSV file (SPEC §9.2)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row), or - for standard input")
        parser.add_argument("--strict", action="store_true", help="import nothing if any row is invalid")
        parser.add_argument(
            "--rejects",
            metavar="PATH",
            help="write the refused rows (line, reason, the row) to this CSV file",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=PROGRESS_EVERY,
            metavar="N",
            help=f"report progress on stderr every N rows (default {PROGRESS_EVERY}; 0: never)",
        )

    def handle(self, *args, file, strict, rejects, progress_every, **options):
        def progress(rows: int, rejected: int) -> None:
            self.stderr.write(f"… {rows:,} rows read, {rejected:,} refused")

        run_import(
            self,
            registrations_import,
            file=file,
            rejects=rejects,
            strict=strict,
            progress=progress if progress_every > 0 else None,
            progress_every=progress_every if progress_every > 0 else PROGRESS_EVERY,
        )
