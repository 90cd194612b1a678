"""``manage.py annual_report YEAR [--format json|csv|xlsx] [--output FILE] [--refresh]`` (SPEC §9.3).

Prints the stored report of YEAR (computing and storing it first when there is none, or with ``--refresh``),
labels in the active language (``LANGUAGE_CODE``; ``--language en`` for English). JSON and CSV go to stdout
unless ``--output``; XLSX needs ``--output``.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from contracts import statistics


class Command(BaseCommand):
    help = "Print or export the annual report of registered technology contracts (SPEC §9.3)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
        parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
        parser.add_argument("--refresh", action="store_true", help="recompute the stored report first")
        parser.add_argument("--language", default=None, help="labels' language, e.g. zh-hans or en")

    def handle(self, *args, year, format, output, refresh, language, **options):
        if not statistics.is_report_year(year):
            raise CommandError(f"year out of range: {year}")
        if format == "xlsx" and not output:
            raise CommandError("--format xlsx needs --output FILE")
        snapshot = statistics.snapshot_refresh(year) if refresh else statistics.snapshot_get(year)
        with translation.override(language or translation.get_language()):
            report = statistics.with_labels(snapshot.data)
        if format == "xlsx":
            with open(output, "wb") as out:
                out.write(statistics.to_xlsx(report))
            return
        text = (
            json.dumps(report, ensure_ascii=False, indent=2) + "\n"
            if format == "json"
            else statistics.to_csv(report)
        )
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                out.write(text)
        else:
            self.stdout.write(text, ending="")
