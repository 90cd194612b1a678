"""``manage.py annual_report YEAR [--format json|csv|xlsx] [--output FILE] [--refresh]`` (SPEC §9.3).

Prints the stored report of YEAR (computing and storing it first when there is none, or with ``--refresh``),
labels in the active language (``LANGUAGE_CODE``; ``--language en`` for English). JSON and CSV go to stdout
unless ``--output``; XLSX needs ``--output``.

``annual_report YEAR --verify [--repair]`` prints no report: it compares the summary the report reads on
PostgreSQL with the registrations of YEAR and the year before, and says so. Each difference goes to stderr and
the command fails (exit status 1), so that a monitoring job notices; with ``--repair`` the differing years are
recomputed from the registrations, and the command succeeds after saying what it repaired.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext, ngettext

from contracts import statistics


class Command(BaseCommand):
    help = "Print or export the annual report of registered technology contracts (SPEC §9.3)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
        parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
        parser.add_argument("--refresh", action="store_true", help="recompute the stored report first")
        parser.add_argument("--language", default=None, help="labels' language, e.g. zh-hans or en")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="compare the report's summary with the registrations of YEAR and YEAR-1 instead of printing",
        )
        parser.add_argument("--repair", action="store_true", help="with --verify: recompute what differs")

    def handle(self, *args, year, format, output, refresh, language, verify, repair, **options):
        if not statistics.is_report_year(year):
            raise CommandError(f"year out of range: {year}")
        if repair and not verify:
            raise CommandError("--repair needs --verify")
        if verify:
            with translation.override(language or translation.get_language()):
                self._verify(year, repair=repair)
            return
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

    def _verify(self, year: int, *, repair: bool) -> None:
        differences = statistics.summary_check(year, repair=repair)
        years = {"year": year, "previous": year - 1}
        if not differences:
            self.stdout.write(
                gettext("The summary of %(year)d and %(previous)d agrees with the registrations.") % years
            )
            return
        for difference in differences:
            self.stderr.write(
                gettext("%(year)d %(table)s %(key)s: summary %(summary)s, registrations %(registrations)s")
                % {
                    "year": difference.year,
                    "table": difference.table,
                    "key": _key_text(difference.key),
                    "summary": _cell_text(difference.summary),
                    "registrations": _cell_text(difference.registrations),
                }
            )
        counts = {**years, "count": len(differences)}
        if repair:
            self.stdout.write(
                ngettext(
                    "The summary of %(year)d and %(previous)d differed in %(count)d group; repaired.",
                    "The summary of %(year)d and %(previous)d differed in %(count)d groups; repaired.",
                    len(differences),
                )
                % counts
            )
            return
        raise CommandError(
            ngettext(
                "The summary of %(year)d and %(previous)d differs from the registrations in %(count)d group "
                "(--repair recomputes it).",
                "The summary of %(year)d and %(previous)d differs from the registrations in %(count)d groups "
                "(--repair recomputes it).",
                len(differences),
            )
            % counts
        )


def _key_text(key) -> str:
    if key is None:
        return "-"
    return "→".join(key) if isinstance(key, tuple) else str(key)


def _cell_text(cell) -> str:
    if cell is None:
        return gettext("none")
    return gettext("%(count)d, %(amount)s yuan (technology %(technology)s yuan)") % {
        "count": cell.count,
        "amount": cell.amount,
        "technology": cell.technology_amount,
    }
