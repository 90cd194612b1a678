"""``manage.py export_interchange --kind demand|listing [--since DATE] FILE.jsonl``: export (SPEC §9.1).

Public records only, never confidential details; ordered by id and streamed. ``--since`` keeps the records
updated on or after that day. ``-`` writes to standard output. Rules in ``marketplace.interchange``.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from marketplace.interchange import KINDS, interchange_export


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since must be an ISO date (YYYY-MM-DD), not {value!r}") from None


class Command(BaseCommand):
    help = "Export public demands or listings as a JSON Lines interchange file (SPEC §9.1)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--since", help="only records updated on or after this date (YYYY-MM-DD)")
        parser.add_argument("file", help="output file, or - for standard output")

    def handle(self, *args, kind, since, file, **options):
        since_day = _day(since) if since else None
        if file == "-":
            count = interchange_export(self.stdout, kind=kind, since=since_day)
        else:
            try:
                with open(file, "w", encoding="utf-8") as out:
                    count = interchange_export(out, kind=kind, since=since_day)
            except OSError as exc:
                raise CommandError(f"cannot write {file}: {exc.strerror}") from None
        self.stderr.write(f"exported {count} {kind}s")
