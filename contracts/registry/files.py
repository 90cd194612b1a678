"""What the CSV imports share: reading a UTF-8 CSV file with a header, the report, the rejects file, messages.

The file
--------
UTF-8 (a byte-order mark is ignored), comma-separated, quoted as spreadsheets write it, a header row naming the
expected columns in any order, each once and no other. Line numbers are the file's physical lines (the header
is line 1); a row whose quoted cell spans several lines is reported at its first line. A row whose cells are all
empty (a spreadsheet's trailing rows) is not a record and is skipped. Bytes that are not UTF-8 refuse only the
rows they are in: the decoder keeps them as lone surrogates (``surrogateescape``), which no valid text
contains, and counts them, so that rows are searched for them only once the file has shown one.
"""

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.utils.translation import gettext, ngettext

from marketplace.exceptions import ApplicationError

# The rejects file: these two columns, then the row as read under the file's own header.
REJECTS_HEADER_START = ("line", "reason")
SURROGATE = re.compile("[\udc80-\udcff]")

# Bumped by the decoder for every undecodable byte sequence, in any import; an import compares it before and
# after to know whether its own file had one (another thread's bump only costs it a few extra searches).
_undecodable = [0]
_surrogateescape = codecs.lookup_error("surrogateescape")


def _count_undecodable(error: UnicodeDecodeError):
    _undecodable[0] += 1
    return _surrogateescape(error)


UNDECODABLE_HANDLER = "contracts.registry.undecodable"
codecs.register_error(UNDECODABLE_HANDLER, _count_undecodable)


class ImportFileError(ApplicationError):
    """The file as a whole cannot be imported (empty, not CSV, wrong header); nothing was imported."""


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # False when ``strict`` refused the file: nothing was written, and created/updated/unchanged are 0.
    applied: bool = True
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Seconds spent in each phase (for the benchmark and the logs).
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return gettext(
            "created %(created)d, updated %(updated)d, unchanged %(unchanged)d, rejected %(rejected)d"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


class CsvFile:
    """A CSV file given as a binary stream, its header checked against ``columns``.

    ``records()`` yields (line, cells) for every record after the header. ``order`` maps the expected columns to
    the file's (None when the file has them in the expected order). ``close()`` lets go of the stream without
    closing it (the caller opened it).
    """

    def __init__(self, stream: IO[bytes], columns: tuple[str, ...]):
        self.columns = columns
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors=UNDECODABLE_HANDLER, newline="")
        self._lines = iter(self._text)
        self._undecodable_before = _undecodable[0]
        self.line = 0  # the last physical line read
        header = next(self.records(), None)
        if header is None:
            raise ImportFileError(gettext("The file is empty: a header row is expected."), code="empty")
        self.header = header[1]
        self.order = self._check_header(self.header, columns)

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(first line, cells) of each record, blank lines included (as one empty cell).

        A line without a quote character is split on commas, which is what the csv module would make of it, at
        a fraction of the cost; a line with one is handed, with the lines after it, to a csv reader for exactly
        one record (a quoted cell may hold commas, doubled quotes and line breaks).
        """
        lines = self._lines
        try:
            for text in lines:
                first = self.line + 1
                if '"' in text:
                    reader = csv.reader(itertools.chain((text,), lines))
                    cells = next(reader)
                    self.line += reader.line_num
                else:
                    self.line = first
                    cells = text.rstrip("\r\n").split(",")
                yield first, cells
        except csv.Error as exc:
            raise ImportFileError(
                gettext("The file is not valid CSV at line %(line)d (%(error)s); nothing was imported.")
                % {"line": self.line + 1, "error": exc},
                code="malformed",
            ) from None

    def close(self) -> None:
        # Detach: the wrapper would close the caller's stream when collected.
        self._text.detach()

    def undecodable_seen(self) -> bool:
        return _undecodable[0] != self._undecodable_before

    @staticmethod
    def _check_header(header: list[str], columns: tuple[str, ...]) -> list[int] | None:
        names = [sanitized(name.strip()) for name in header]
        if names == [""]:
            names = []
        problems = []
        missing = [name for name in columns if name not in names]
        unknown = [name for name in names if name not in columns]
        repeated = sorted({name for name in names if name in columns and names.count(name) > 1})
        if missing:
            problems.append(gettext("missing columns: %(names)s") % {"names": ", ".join(missing)})
        if unknown:
            problems.append(gettext("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
        if repeated:
            problems.append(gettext("repeated columns: %(names)s") % {"names": ", ".join(repeated)})
        if problems:
            raise ImportFileError(
                gettext("The header row is not valid (%(problems)s). Expected the columns: %(columns)s.")
                % {"problems": "; ".join(problems), "columns": ", ".join(columns)},
                code="header",
            )
        order = [names.index(name) for name in columns]
        return None if order == list(range(len(columns))) else order


def sanitized(text: str) -> str:
    """``text`` with undecodable bytes shown as U+FFFD, fit for messages and the rejects file."""
    if SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class Rejects:
    """Collects the refused rows: the report's (line, reason) list and, when asked, the rejects CSV file."""

    def __init__(self, report: ImportReport, stream: IO[str] | None, header: list[str]):
        self.report = report
        self._writer = None
        if stream is not None:
            self._writer = csv.writer(stream, lineterminator="\n")
            self._writer.writerow([*REJECTS_HEADER_START, *map(sanitized, header)])

    def add(self, line: int, reasons: list[str], cells: list[str]) -> None:
        reason = "; ".join(reasons)
        self.report.rejected += 1
        self.report.errors.append((line, reason))
        if self._writer is not None:
            self._writer.writerow([line, reason, *map(sanitized, cells)])


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


# --- messages (SPEC: a clear reason per row) --------------------------------------------------------------


def wrong_width(count: int, expected: int) -> str:
    return ngettext(
        "expected %(expected)d cells, found %(count)d",
        "expected %(expected)d cells, found %(count)d",
        count,
    ) % {"expected": expected, "count": count}


def undecodable() -> str:
    return gettext("the row is not valid UTF-8")


def empty(column: str) -> str:
    return gettext("%(column)s is empty") % {"column": column}


def unknown_code(column: str, value: str) -> str:
    if not value:
        return empty(column)
    return gettext("unknown %(column)s code %(value)r") % {"column": column, "value": value}


def too_long(column: str, limit: int) -> str:
    return gettext("%(column)s is longer than %(limit)d characters") % {"column": column, "limit": limit}


def has_nul(column: str) -> str:
    return gettext("%(column)s contains a NUL character") % {"column": column}


AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_SIGNED_DECIMAL = re.compile(r"[+-]?[0-9]*(?:\.([0-9]*))?")


def integer_digits(value: str) -> int:
    dot = value.find(".")
    return len(value) if dot < 0 else dot


def amount_problem(column: str, value: str, integer_limit: int) -> str | None:
    """Why ``value`` is not an amount in yuan with at most two decimals, or None when it is one."""
    if not value:
        return empty(column)
    if AMOUNT.fullmatch(value):
        if integer_digits(value.lstrip("0")) > integer_limit:
            return gettext("%(column)s is too large (%(value)s)") % {"column": column, "value": value}
        return None
    match = _SIGNED_DECIMAL.fullmatch(value)
    if match is None or not any(character.isdigit() for character in value):
        return gettext("%(column)s is not an amount in yuan: %(value)r") % {"column": column, "value": value}
    if value.startswith("-"):
        return gettext("%(column)s must not be negative (%(value)s)") % {"column": column, "value": value}
    if match.group(1) is not None and len(match.group(1)) > 2:
        return gettext("%(column)s has more than two decimals (%(value)s)") % {
            "column": column,
            "value": value,
        }
    return gettext("%(column)s is not an amount in yuan: %(value)r") % {"column": column, "value": value}
