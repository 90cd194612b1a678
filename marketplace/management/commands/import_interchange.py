"""``manage.py import_interchange FILE.jsonl [--publish]``: import demands and listings (SPEC §9.1).

Rules in ``marketplace.interchange``. Every invalid line is reported on stderr as ``line N: reason``; the last
line is the summary ``created X, updated Y, unchanged Z, rejected W``. Exit status 1 when any line was
rejected (the valid lines are imported all the same), 0 otherwise. ``-`` reads standard input.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from marketplace.interchange import interchange_import


class Command(BaseCommand):
    help = "Import demands and listings from a JSON Lines interchange file (SPEC §9.1)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON Lines file, or - for standard input")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="publish the imported records (they were reviewed on the platform they came from)",
        )

    def handle(self, *args, file, publish, **options):
        if file == "-":
            report = interchange_import(sys.stdin, publish=publish, source="stdin")
        else:
            try:
                # utf-8-sig: a byte-order mark (some Windows tools write one) is not part of the first line.
                stream = open(file, encoding="utf-8-sig")  # noqa: SIM115 (closed below, streamed line by line)
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror}") from None
            with stream:
                report = interchange_import(stream, publish=publish, source=file)
        # Sorted: a line refused while its batch was written is found after later lines' parse errors.
        for line, reason in sorted(report.errors):
            self.stderr.write(f"line {line}: {reason}")
        summary = report.summary()
        if report.revisions:
            summary += f" ({report.revisions} of the updates await review as revisions)"
        if report.organizations_created:
            summary += f"; {report.organizations_created} organizations created, pending verification"
        self.stdout.write(summary)
        if report.rejected:
            # From the shell: "CommandError: …" on stderr and exit status 1; call_command raises it.
            raise CommandError(
                f"{report.rejected} line(s) rejected; the valid lines were imported", returncode=1
            )
