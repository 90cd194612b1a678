"""``manage.py import_gdp FILE.csv [--strict] [--rejects PATH]``: import GDP figures (SPEC §9.3).

Columns ``year, region, gdp_yuan``; region ``000000`` is the national total. Same report and exit status as
``import_registrations``; idempotent on (year, region).
"""

from django.core.management.base import BaseCommand

from contracts.management.commands._csv_import import run_import
from contracts.registry import gdp_import


class Command(BaseCommand):
    help = "Import GDP figures by year and province from a CSV file (SPEC §9.3)."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="CSV file (UTF-8, header row year,region,gdp_yuan), or - for standard input"
        )
        parser.add_argument("--strict", action="store_true", help="import nothing if any row is invalid")
        parser.add_argument(
            "--rejects",
            metavar="PATH",
            help="write the refused rows (line, reason, the row) to this CSV file",
        )

    def handle(self, *args, file, strict, rejects, **options):
        run_import(self, gdp_import, file=file, rejects=rejects, strict=strict)
