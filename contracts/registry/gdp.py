"""Import of GDP figures from CSV (SPEC §9.3): ``gdp_import``.

Columns ``year, region, gdp_yuan``: a year from 1949 to 2100, the code of a province-level division or ``000000``
for the national total, and the GDP in yuan (above zero, at most two decimals). The rules of the registration
import hold: every row imported or reported with its line and reasons (a (year, region) already seen earlier in
the file refuses the later lines), idempotent on (year, region) (an unchanged figure is not written), ``strict``
imports nothing if any row is invalid, one transaction. A file holds a few hundred rows: it is read whole and
written with plain queries.
"""

import time
from decimal import Decimal
from typing import IO

from django.db import transaction
from django.utils.translation import gettext

from contracts.models import NATIONAL_REGION_CODE, GdpFigure
from contracts.registry.files import (
    SURROGATE,
    CsvFile,
    ImportReport,
    Rejects,
    amount_problem,
    is_blank,
    undecodable,
    wrong_width,
)
from marketplace.models import Region

GDP_COLUMNS = ("year", "region", "gdp_yuan")
GDP_INTEGER_DIGITS = 16  # DecimalField(max_digits=18, decimal_places=2)
FIRST_YEAR, LAST_YEAR = 1949, 2100


def _gdp_problems(cells: list[str], regions: set[str]) -> tuple[list[str], tuple[int, str, Decimal] | None]:
    problems = [undecodable()] if any(SURROGATE.search(cell) for cell in cells) else []
    year_text, region, gdp = (cell.strip() for cell in cells)
    year = int(year_text) if year_text.isascii() and year_text.isdigit() else None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(
            gettext("year must be a year from %(first)d to %(last)d, not %(value)r")
            % {"first": FIRST_YEAR, "last": LAST_YEAR, "value": year_text}
        )
    if region not in regions:
        problems.append(
            gettext(
                "region must be the code of a province-level division or 000000 (national), not %(value)r"
            )
            % {"value": region}
        )
    if problem := amount_problem("gdp_yuan", gdp, GDP_INTEGER_DIGITS):
        problems.append(problem)
    elif Decimal(gdp) == 0:
        problems.append(gettext("gdp_yuan must be above zero"))
    if problems:
        return problems, None
    return problems, (year, region, Decimal(gdp))


def gdp_import(stream: IO[bytes], *, strict: bool = False, rejects: IO[str] | None = None) -> ImportReport:
    """Import a GDP CSV file read from ``stream`` (binary). Same contract as ``registrations_import``."""
    source = CsvFile(stream, GDP_COLUMNS)
    started = time.perf_counter()
    try:
        report = ImportReport()
        refused = Rejects(report, rejects, source.header)
        regions = set(Region.objects.filter(level=Region.Level.PROVINCE).values_list("code", flat=True))
        regions.add(NATIONAL_REGION_CODE)
        first_lines: dict[tuple[int, str], int] = {}
        figures: dict[tuple[int, str], Decimal] = {}
        for line, cells in source.records():
            if is_blank(cells):
                continue
            report.rows += 1
            if len(cells) != len(GDP_COLUMNS):
                refused.add(line, [wrong_width(len(cells), len(GDP_COLUMNS))], cells)
                continue
            if source.order is not None:
                cells = [cells[index] for index in source.order]
            problems, figure = _gdp_problems(cells, regions)
            if figure is not None:
                year, region, gdp = figure
                first = first_lines.setdefault((year, region), line)
                if first != line:
                    problems.append(
                        gettext("year %(year)d and region %(region)s already appear on line %(line)d")
                        % {"year": year, "region": region, "line": first}
                    )
                else:
                    figures[(year, region)] = gdp
            if problems:
                refused.add(line, problems, cells)
    finally:
        source.close()

    if strict and report.rejected:
        report.applied = False
        return report
    with transaction.atomic():
        # Locked: a concurrent upload of the same years waits, and the counts below stay true.
        existing = {
            (figure.year, figure.region): figure
            for figure in GdpFigure.objects.select_for_update().filter(year__in={year for year, _ in figures})
        }
        new = []
        for key, gdp in figures.items():
            figure = existing.get(key)
            if figure is None:
                new.append(GdpFigure(year=key[0], region=key[1], gdp_yuan=gdp))
            elif figure.gdp_yuan != gdp:
                figure.gdp_yuan = gdp
                figure.save(update_fields=["gdp_yuan", "updated_at"])
                report.updated += 1
            else:
                report.unchanged += 1
        # A figure added by another upload since the read above is overwritten rather than a failure.
        GdpFigure.objects.bulk_create(
            new,
            update_conflicts=True,
            unique_fields=["year", "region"],
            update_fields=["gdp_yuan", "updated_at"],
        )
        report.created = len(new)
    report.timings["total"] = time.perf_counter() - started
    return report
