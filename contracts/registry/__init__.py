"""Bulk import of registered contracts (SPEC §9.2) and of GDP figures (SPEC §9.3).

``manage.py import_registrations``, ``manage.py import_gdp``, the admin's upload pages and their Celery task all
call ``registrations_import`` / ``gdp_import``. The rules are in ``contracts.registry.registrations`` (which
explains how a million rows load in well under a minute) and ``contracts.registry.gdp``; what both share (reading
the file, the report, the rejects file) in ``contracts.registry.files``.
"""

from contracts.registry.files import REJECTS_HEADER_START, ImportFileError, ImportReport
from contracts.registry.gdp import GDP_COLUMNS, gdp_import
from contracts.registry.registrations import PROGRESS_EVERY, REGISTRATION_COLUMNS, registrations_import

__all__ = [
    "GDP_COLUMNS",
    "PROGRESS_EVERY",
    "REGISTRATION_COLUMNS",
    "REJECTS_HEADER_START",
    "ImportFileError",
    "ImportReport",
    "gdp_import",
    "registrations_import",
]
