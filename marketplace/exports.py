"""Tables of figures written as the downloads of the statistics pages: CSV (one file, each row led by its table's
name) and XLSX (one sheet per table)."""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

Table = tuple[str, list[str], list[list]]


def tables_to_csv(tables: Iterable[Table]) -> str:
    """Empty cells for nulls; the caller adds a BOM when spreadsheet programs must read the Chinese as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for name, columns, rows in tables:
        writer.writerow(["section", *columns])
        for row in rows:
            writer.writerow([name, *("" if v is None else v for v in row)])
    return buffer.getvalue()


def tables_to_xlsx(tables: Iterable[Table], *, decimal_columns: Iterable[str] = ()) -> bytes:
    """Amounts (``decimal_columns``, stored as strings) become numbers, so a spreadsheet can sum them."""
    from openpyxl import Workbook

    decimal_columns = set(decimal_columns)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, columns, rows in tables:
        sheet = workbook.create_sheet(title=name[:31])
        sheet.append(columns)
        for row in rows:
            sheet.append(
                [
                    Decimal(value) if value is not None and column in decimal_columns else value
                    for column, value in zip(columns, row, strict=True)
                ]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
