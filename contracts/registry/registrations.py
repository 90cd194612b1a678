"""Import of registered contracts from CSV (SPEC §9.2): ``registrations_import``.

Rules
-----
- **Columns** (``REGISTRATION_COLUMNS``): ``registered_on`` is ``YYYY-MM-DD``; amounts are yuan with at most two
  decimals; codes as in SPEC §2 (``field`` one of the 11 national fields or one of their sub-fields such as
  ``advanced_manufacturing.moulds_plastics``; regions any GB/T 2260 code of the reference table, city or
  province); ``title``, ``seller_name`` and ``buyer_name`` may be empty. Cells are stripped of surrounding spaces.
- **Every row is imported or reported** with its line number and every reason it was refused, joined by "; ":
  a wrong number of cells, bytes that are not UTF-8, a NUL character, an empty or too long ``registration_no``,
  a ``registration_no`` already seen earlier in the file (the later lines are refused, the first one stands),
  a ``registration_no`` that belongs to a contract registered on this platform (an import never overwrites the
  platform's own records), a ``registered_on`` that is not a date or is in the future, unknown codes, amounts
  that are not plain decimals, negative, with more than two decimals or too large, a technology amount above
  the total, texts longer than their columns.
- **Idempotent on ``registration_no``.** A new number creates a record; a known one whose values differ is
  updated (its ``imported_at`` and ``updated_at`` move); a known one with the same values is not written at all,
  so importing a file again changes nothing.
- **One transaction per file.** Every valid row of the file is applied or none is: a crash, a lost connection
  or ``strict`` with an invalid row leaves the database as it was, and a file is never half applied (a registry
  reconciles per file). A year's file holds its transaction for about a minute.
- **Strict.** ``strict=True`` reads the whole file, reports every invalid row and imports nothing if there is one.

Speed: a million rows is a normal national year
-----------------------------------------------
The file is read once, as a stream. Each row is checked in Python against code sets loaded once per file, on a
fast path that only answers "valid or not"; a row that fails it goes through ``_diagnose``, which applies the
same rules slowly and says why (or accepts it after all: padded cells, dates outside the precomputed range).

On PostgreSQL the valid rows are streamed by ``COPY`` into a temporary staging table while the file is still
being read (the server parses them on the second core), and then, under a transaction-level advisory lock that
makes imports of overlapping files apply one after the other instead of deadlocking on each other's rows::

    UPDATE contracts_registration r SET … FROM staging s
     WHERE r.registration_no = s.registration_no AND r.source = 'imported'
       AND (r.…) IS DISTINCT FROM (s.…)
    INSERT INTO contracts_registration … SELECT … FROM staging s
     WHERE NOT EXISTS (SELECT FROM contracts_registration e WHERE e.registration_no = s.registration_no)

Two hash joins, and no row is written unless it is new or changed; each statement's written rows are then
added to the annual report's summary by its triggers (migration 0004: one more pass over those rows, none for an
unchanged file). The single-statement form,
``INSERT … SELECT … ON CONFLICT (registration_no) DO UPDATE … WHERE (changed)``, gives the same result, but
its speculative insertion costs every new row an extra index probe and WAL record: on a million new rows it
took 29.5 s where these two statements take 21.3 s (medians, docs/performance.md). The advisory lock gives what ``ON CONFLICT``
would have given against another import; a registration created on the platform in the meantime with the same
number (they are numbered apart) would make the import fail on the unique constraint, and it can be run again.

Other databases (SQLite in development and in the fast tests) get the same result from batches of
``BATCH_SIZE``: the batch's existing rows are read and compared in Python, and the new and changed ones written
by one ``bulk_create(update_conflicts=True)``.
"""

import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from contracts.models import (
    PARTY_NAME_MAX_LENGTH,
    REGISTRATION_NO_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Registration,
    RegistrationSource,
)
from contracts.registry.files import (
    AMOUNT,
    SURROGATE,
    CsvFile,
    ImportReport,
    Rejects,
    amount_problem,
    has_nul,
    integer_digits,
    is_blank,
    too_long,
    undecodable,
    unknown_code,
    wrong_width,
)
from marketplace.models import Region, TechnologyField, province_code
from marketplace.taxonomy import BuyerType, ContractType, Objective, PlanLevel, SellerType

REGISTRATION_COLUMNS = (
    "registration_no",
    "registered_on",
    "contract_type",
    "title",
    "seller_name",
    "seller_type",
    "seller_region",
    "buyer_name",
    "buyer_type",
    "buyer_region",
    "total_amount",
    "technology_amount",
    "field",
    "objective",
    "plan_level",
)
# The columns an import writes, in the order a valid row is yielded (and staged) in.
FIELDS = (
    "registration_no",
    "registered_on",
    "contract_type",
    "title",
    "seller_name",
    "seller_type",
    "seller_region_id",
    "seller_province_id",
    "buyer_name",
    "buyer_type",
    "buyer_region_id",
    "buyer_province_id",
    "total_amount",
    "technology_amount",
    "field_id",
    "sub_field_id",
    "objective",
    "plan_level",
)
# What decides whether a known number changed: everything but the number.
COMPARED_FIELDS = FIELDS[1:]
AMOUNT_INTEGER_DIGITS = 14  # DecimalField(max_digits=16, decimal_places=2)

# Batches of the portable path: 2,000 numbers keep the IN (…) list of the look-up and the INSERT within SQLite's
# limits and a batch's objects a few MB.
BATCH_SIZE = 2000
# Rows per read() of the COPY stream: ~250 KB of CSV, so that psycopg2's per-call cost vanishes.
COPY_CHUNK_ROWS = 1000
PROGRESS_EVERY = 100_000
# Dates of the fast path: the last 50 years as ISO strings (a set look-up instead of parsing each date).
FAST_DATE_YEARS = 50
ADVISORY_LOCK_KEY = "contracts.registration_import"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class _Codes:
    """The code lists a row is checked against, loaded once per file."""

    contract_types: frozenset[str]
    seller_types: frozenset[str]
    buyer_types: frozenset[str]
    objectives: frozenset[str]
    plan_levels: frozenset[str]
    provinces: dict[str, str]  # region code -> its province's code
    fields: dict[str, tuple[str, str | None]]  # field or sub-field code -> (field, sub-field or null)
    platform_numbers: frozenset[str]
    today: date
    recent_dates: frozenset[str]  # ISO dates of the last FAST_DATE_YEARS years up to today

    @classmethod
    def load(cls, *, null: str | None) -> "_Codes":
        """``null`` stands for "no sub-field" in the rows yielded: None, or COPY's ``\\N``."""
        fields: dict[str, tuple[str, str | None]] = {}
        for code, parent in TechnologyField.objects.values_list("code", "parent_id"):
            fields[code] = (code, null) if parent is None else (parent, code)
        today = timezone.localdate()
        first = today - timedelta(days=365 * FAST_DATE_YEARS)
        return cls(
            contract_types=frozenset(ContractType.values),
            seller_types=frozenset(SellerType.values),
            buyer_types=frozenset(BuyerType.values),
            objectives=frozenset(Objective.values),
            plan_levels=frozenset(PlanLevel.values),
            provinces={code: province_code(code) for code in Region.objects.values_list("code", flat=True)},
            fields=fields,
            platform_numbers=frozenset(
                Registration.objects.filter(source=RegistrationSource.PLATFORM).values_list(
                    "registration_no", flat=True
                )
            ),
            today=today,
            recent_dates=frozenset(
                (first + timedelta(days=offset)).isoformat() for offset in range((today - first).days + 1)
            ),
        )


def _diagnose(cells: list[str], line: int, first_line: int, codes: _Codes) -> list[str] | tuple:
    """The reasons a row (cells in ``REGISTRATION_COLUMNS`` order) is refused, or its values when it is valid.

    The reference statement of the rules; the fast path of ``_valid_rows`` is a shortcut that accepts only rows
    this function accepts, and sends every other row here.
    """
    problems = []
    if any(SURROGATE.search(cell) for cell in cells):
        problems.append(undecodable())
    (
        number,
        registered_on,
        contract_type,
        title,
        seller_name,
        seller_type,
        seller_region,
        buyer_name,
        buyer_type,
        buyer_region,
        total_amount,
        technology_amount,
        field_code,
        objective,
        plan_level,
    ) = (cell.strip() for cell in cells)

    if not number:
        problems.append(gettext("registration_no is empty"))
    elif len(number) > REGISTRATION_NO_MAX_LENGTH:
        problems.append(too_long("registration_no", REGISTRATION_NO_MAX_LENGTH))
    else:
        if first_line != line:
            problems.append(
                gettext("registration_no %(number)s already appears on line %(line)d")
                % {"number": number, "line": first_line}
            )
        if number in codes.platform_numbers:
            problems.append(
                gettext("registration_no %(number)s is a contract registered on this platform")
                % {"number": number}
            )
    for column, text in (
        ("registration_no", number),
        ("title", title),
        ("seller_name", seller_name),
        ("buyer_name", buyer_name),
    ):
        if "\x00" in text:
            problems.append(has_nul(column))

    if len(registered_on) != 10 or registered_on[4] != "-" or registered_on[7] != "-":
        problems.append(
            gettext("registered_on must be a date YYYY-MM-DD, not %(value)r") % {"value": registered_on}
        )
    else:
        try:
            day = date.fromisoformat(registered_on)
        except ValueError:
            problems.append(
                gettext("registered_on is not a valid date: %(value)s") % {"value": registered_on}
            )
        else:
            if day > codes.today:
                problems.append(
                    gettext("registered_on %(value)s is in the future") % {"value": registered_on}
                )

    if contract_type not in codes.contract_types:
        problems.append(unknown_code("contract_type", contract_type))
    if seller_type not in codes.seller_types:
        problems.append(unknown_code("seller_type", seller_type))
    seller_province = codes.provinces.get(seller_region)
    if seller_province is None:
        problems.append(unknown_code("seller_region", seller_region))
    if buyer_type not in codes.buyer_types:
        problems.append(unknown_code("buyer_type", buyer_type))
    buyer_province = codes.provinces.get(buyer_region)
    if buyer_province is None:
        problems.append(unknown_code("buyer_region", buyer_region))
    field_pair = codes.fields.get(field_code)
    if field_pair is None:
        problems.append(unknown_code("field", field_code))
    if objective not in codes.objectives:
        problems.append(unknown_code("objective", objective))
    if plan_level not in codes.plan_levels:
        problems.append(unknown_code("plan_level", plan_level))

    total_problem = amount_problem("total_amount", total_amount, AMOUNT_INTEGER_DIGITS)
    technology_problem = amount_problem("technology_amount", technology_amount, AMOUNT_INTEGER_DIGITS)
    if total_problem or technology_problem:
        problems.extend(problem for problem in (total_problem, technology_problem) if problem)
    elif Decimal(technology_amount) > Decimal(total_amount):
        problems.append(
            gettext("technology_amount %(technology)s is above total_amount %(total)s")
            % {"technology": technology_amount, "total": total_amount}
        )

    if len(title) > TITLE_MAX_LENGTH:
        problems.append(too_long("title", TITLE_MAX_LENGTH))
    if len(seller_name) > PARTY_NAME_MAX_LENGTH:
        problems.append(too_long("seller_name", PARTY_NAME_MAX_LENGTH))
    if len(buyer_name) > PARTY_NAME_MAX_LENGTH:
        problems.append(too_long("buyer_name", PARTY_NAME_MAX_LENGTH))

    if problems:
        return problems
    return (
        number,
        registered_on,
        contract_type,
        title,
        seller_name,
        seller_type,
        seller_region,
        seller_province,
        buyer_name,
        buyer_type,
        buyer_region,
        buyer_province,
        total_amount,
        technology_amount,
        field_pair[0],
        field_pair[1],
        objective,
        plan_level,
    )


def _valid_rows(
    source: CsvFile,
    codes: _Codes,
    rejects: Rejects,
    report: ImportReport,
    *,
    progress: ProgressCallback | None,
    progress_every: int,
) -> Iterator[tuple]:
    """Yield each valid row as the tuple of ``FIELDS`` (strings, as COPY takes them); refuse the others.

    The hot loop of the import, hence the locals and the single chained condition: a valid row costs a few
    set and dict look-ups, two regular-expression matches and no object besides its tuple.
    """
    order, width = source.order, len(REGISTRATION_COLUMNS)
    undecodable_seen = source.undecodable_seen
    seen_setdefault = {}.setdefault
    contract_types, seller_types, buyer_types = codes.contract_types, codes.seller_types, codes.buyer_types
    objectives, plan_levels, recent_dates = codes.objectives, codes.plan_levels, codes.recent_dates
    provinces_get, fields_get = codes.provinces.get, codes.fields.get
    platform_numbers = codes.platform_numbers
    amount_match = AMOUNT.fullmatch
    max_number, max_title, max_name = REGISTRATION_NO_MAX_LENGTH, TITLE_MAX_LENGTH, PARTY_NAME_MAX_LENGTH
    max_digits = AMOUNT_INTEGER_DIGITS
    rows = 0
    for line, cells in source.records():
        if len(cells) != width:
            if is_blank(cells):
                continue
            rows += 1
            reasons = [wrong_width(len(cells), width)]
            if any(SURROGATE.search(cell) for cell in cells):
                reasons.insert(0, undecodable())
            rejects.add(line, reasons, cells)
            continue
        if order is not None:
            cells = [cells[index] for index in order]
        (
            number,
            registered_on,
            contract_type,
            title,
            seller_name,
            seller_type,
            seller_region,
            buyer_name,
            buyer_type,
            buyer_region,
            total_amount,
            technology_amount,
            field_code,
            objective,
            plan_level,
        ) = cells
        number = number.strip()
        if not number and is_blank(cells):
            continue
        rows += 1
        if progress is not None and rows % progress_every == 0:
            progress(rows, report.rejected)
        first_line = seen_setdefault(number, line) if number else line
        seller_province = provinces_get(seller_region)
        buyer_province = provinces_get(buyer_region)
        field_pair = fields_get(field_code)
        title, seller_name, buyer_name = title.strip(), seller_name.strip(), buyer_name.strip()
        if (
            number
            and first_line == line
            and len(number) <= max_number
            and number not in platform_numbers
            and registered_on in recent_dates
            and contract_type in contract_types
            and seller_type in seller_types
            and buyer_type in buyer_types
            and objective in objectives
            and plan_level in plan_levels
            and seller_province is not None
            and buyer_province is not None
            and field_pair is not None
            and amount_match(total_amount) is not None
            and amount_match(technology_amount) is not None
            and (len(total_amount) <= max_digits or integer_digits(total_amount) <= max_digits)
            and (len(technology_amount) <= max_digits or integer_digits(technology_amount) <= max_digits)
            and (technology_amount == total_amount or Decimal(technology_amount) <= Decimal(total_amount))
            and len(title) <= max_title
            and len(seller_name) <= max_name
            and len(buyer_name) <= max_name
            and "\x00" not in title
            and "\x00" not in seller_name
            and "\x00" not in buyer_name
            and "\x00" not in number
            and not (undecodable_seen() and SURROGATE.search(title + seller_name + buyer_name + number))
        ):
            yield (
                number,
                registered_on,
                contract_type,
                title,
                seller_name,
                seller_type,
                seller_region,
                seller_province,
                buyer_name,
                buyer_type,
                buyer_region,
                buyer_province,
                total_amount,
                technology_amount,
                field_pair[0],
                field_pair[1],
                objective,
                plan_level,
            )
            continue
        outcome = _diagnose(cells, line, first_line, codes)
        if isinstance(outcome, list):
            rejects.add(line, outcome, cells)
        else:
            yield outcome
    report.rows = rows


class _StrictRefusal(Exception):
    """Raised inside the import's transaction to roll it back when ``strict`` meets an invalid row."""


# COPY's text format: tab-separated, \N for NULL, backslash escapes. Only the free texts can hold a character
# that needs one (codes, dates and amounts were checked), so only they are searched.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_NULL = "\\N"
_FREE_TEXT = (0, 3, 4, 8)  # registration_no, title, seller_name, buyer_name in FIELDS


class _CopySource:
    """A file-like object for psycopg2's ``copy_expert``: each ``read`` validates the next rows of the file.

    Rows are joined by hand rather than by ``csv.writer``, which took four times as long on Chinese text.
    """

    def __init__(self, rows: Iterator[tuple]):
        self._rows = rows
        # What stopped the reading; psycopg2 would turn an exception raised in read() into a QueryCanceled.
        self.error: Exception | None = None

    def read(self, size: int = -1) -> str:
        lines = []
        try:
            for row in itertools.islice(self._rows, COPY_CHUNK_ROWS):
                if _COPY_SPECIAL.search(row[0] + row[3] + row[4] + row[8]):
                    row = list(row)
                    for index in _FREE_TEXT:
                        row[index] = row[index].translate(_COPY_ESCAPES)
                lines.append("\t".join(row))
        except Exception as exc:
            self.error = exc
            return ""
        if not lines:
            return ""
        lines.append("")
        return "\n".join(lines)


_STAGING_TABLE = "registration_staging"
STAGING_COLUMNS = """
    registration_no text, registered_on date, contract_type text, title text, seller_name text,
    seller_type text, seller_region_id text, seller_province_id text, buyer_name text, buyer_type text,
    buyer_region_id text, buyer_province_id text, total_amount numeric, technology_amount numeric,
    field_id text, sub_field_id text, objective text, plan_level text
"""


def apply_statements(staging: str) -> tuple[str, str]:
    """The UPDATE of the changed rows and the INSERT of the new ones from ``staging`` (parameters ``source``,
    ``now``); the benchmark times them against the single-statement ``ON CONFLICT`` form."""
    table = Registration._meta.db_table
    staged = ", ".join(f"s.{name}" for name in COMPARED_FIELDS)
    current = ", ".join(f"r.{name}" for name in COMPARED_FIELDS)
    assignments = ", ".join(f"{name} = s.{name}" for name in COMPARED_FIELDS)
    update = f"""
        UPDATE {table} r SET {assignments}, imported_at = %(now)s, updated_at = %(now)s
          FROM {staging} s
         WHERE r.registration_no = s.registration_no AND r.source = %(source)s
           AND ({current}) IS DISTINCT FROM ({staged})
    """
    insert = f"""
        INSERT INTO {table} ({", ".join(FIELDS)}, source, imported_at, created_at, updated_at)
        SELECT s.registration_no, {staged}, %(source)s, %(now)s, %(now)s, %(now)s
          FROM {staging} s
         WHERE NOT EXISTS (SELECT FROM {table} e WHERE e.registration_no = s.registration_no)
    """
    return update, insert


def _postgres_load(rows: Iterator[tuple], report: ImportReport, *, strict: bool, now) -> None:
    parameters = {"source": RegistrationSource.IMPORTED.value, "now": now}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # ON COMMIT DROP removes it; inside an outer transaction an earlier import's table may still be there.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGING_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_STAGING_TABLE} ({STAGING_COLUMNS}) ON COMMIT DROP")
        source = _CopySource(rows)
        cursor.copy_expert(f"COPY {_STAGING_TABLE} ({', '.join(FIELDS)}) FROM STDIN", source)
        if source.error is not None:
            raise source.error  # the transaction rolls back, staged rows and all
        report.timings["read_and_stage"] = time.perf_counter() - started
        if strict and report.rejected:
            raise _StrictRefusal
        started = time.perf_counter()
        # The joins below hash a year's file: the memory to do it in one pass, for this transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [ADVISORY_LOCK_KEY])
        report.timings["lock_wait"] = time.perf_counter() - started
        update, insert = apply_statements(_STAGING_TABLE)
        started = time.perf_counter()
        cursor.execute(update, parameters)
        report.updated = cursor.rowcount
        report.timings["update"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(insert, parameters)
        report.created = cursor.rowcount
        report.timings["insert"] = time.perf_counter() - started


def _registration_from_values(values: tuple, now) -> Registration:
    fields = dict(zip(FIELDS, values, strict=True))
    fields["registered_on"] = date.fromisoformat(fields["registered_on"])
    fields["total_amount"] = Decimal(fields["total_amount"])
    fields["technology_amount"] = Decimal(fields["technology_amount"])
    return Registration(**fields, source=RegistrationSource.IMPORTED, imported_at=now)


def _batched_load(rows: Iterator[tuple], report: ImportReport, *, strict: bool, now) -> None:
    update_fields = [*COMPARED_FIELDS, "imported_at", "updated_at"]
    started = time.perf_counter()
    while batch := list(itertools.islice(rows, BATCH_SIZE)):
        records = [_registration_from_values(values, now) for values in batch]
        existing = {
            row[0]: row[1:]
            for row in Registration.objects.filter(
                registration_no__in=[record.registration_no for record in records]
            ).values_list("registration_no", "source", *COMPARED_FIELDS)
        }
        to_write = []
        for record in records:
            old = existing.get(record.registration_no)
            if old is None:
                report.created += 1
            elif old[0] == RegistrationSource.IMPORTED and old[1:] != tuple(
                getattr(record, name) for name in COMPARED_FIELDS
            ):
                report.updated += 1
            else:
                # The same values (or a platform record created since the codes were loaded): left alone.
                continue
            to_write.append(record)
        # Under strict, once a row is refused nothing will be kept: stop writing, keep reading to report.
        if to_write and not (strict and report.rejected):
            Registration.objects.bulk_create(
                to_write,
                update_conflicts=True,
                unique_fields=["registration_no"],
                update_fields=update_fields,
            )
    report.timings["read_and_write"] = time.perf_counter() - started
    if strict and report.rejected:
        raise _StrictRefusal


def registrations_import(
    stream: IO[bytes],
    *,
    strict: bool = False,
    rejects: IO[str] | None = None,
    progress: ProgressCallback | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> ImportReport:
    """Import a registered-contract CSV file (SPEC §9.2) read from ``stream``, a file opened in binary mode.

    Writes the refused rows to ``rejects`` when given (``line, reason`` and the row as read, after a header);
    calls ``progress(rows read, rows refused)`` every ``progress_every`` rows. Raises ``ImportFileError`` (nothing
    imported) when the file is empty, has a wrong header or is not CSV. Opens its own transaction (a savepoint
    inside an outer one).
    """
    source = CsvFile(stream, REGISTRATION_COLUMNS)
    try:
        report = ImportReport()
        on_postgres = connection.vendor == "postgresql"
        rows = _valid_rows(
            source,
            _Codes.load(null=_COPY_NULL if on_postgres else None),
            Rejects(report, rejects, source.header),
            report,
            progress=progress,
            progress_every=max(progress_every, 1),
        )
        load = _postgres_load if on_postgres else _batched_load
        try:
            with transaction.atomic():
                load(rows, report, strict=strict, now=timezone.now())
        except _StrictRefusal:
            for _ in rows:  # read on, so that every invalid row is reported
                pass
            report.applied = False
            report.created = report.updated = 0
            return report
        report.unchanged = report.rows - report.rejected - report.created - report.updated
        return report
    finally:
        source.close()
