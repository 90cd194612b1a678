"""Validation of identifiers and uploads, shared by forms, serializers and services."""

import hashlib

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc


def normalize_credit_code(value: str) -> str:
    return uscc.compact(value or "")


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code (GB 32100) and return it in canonical form."""
    code = normalize_credit_code(value)
    try:
        return uscc.validate(code)
    except stdnum_exceptions.InvalidLength:
        raise ValidationError(
            _("A unified social credit code has 18 characters; %(count)d were given.") % {"count": len(code)},
            code="credit_code_length",
        ) from None
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError(
            _("The check character of this unified social credit code is wrong; please check the code."),
            code="credit_code_checksum",
        ) from None
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            _(
                "A unified social credit code has 8 digits followed by 10 digits or capital letters (not I, O, S, V, Z)."
            ),
            code="credit_code_format",
        ) from None


# Credential documents are scans or PDFs. The type is decided by the file's content, not by its name,
# so a renamed executable is refused.
ALLOWED_DOCUMENT_TYPES = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}


# Attachments of demands and proposals: drawings, reports and spreadsheets as well.
ALLOWED_ATTACHMENT_TYPES = {
    **ALLOWED_DOCUMENT_TYPES,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/zip": (".zip",),
}


def inspect_document(uploaded, *, allowed: dict | None = None, limit: int | None = None) -> dict:
    """Check an uploaded file; return its content type, size and SHA-256.

    ``allowed`` maps content types (decided from the bytes) to the file name endings accepted for them;
    default: credential documents (PDF, JPEG, PNG). Raises ``ValidationError`` for an empty, oversized or
    wrongly typed file.
    """
    allowed = allowed or ALLOWED_DOCUMENT_TYPES
    size = uploaded.size or 0
    limit = limit or settings.CREDENTIAL_MAX_UPLOAD_BYTES
    if size == 0:
        raise ValidationError(_("The file is empty."), code="file_empty")
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s; the largest accepted is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="file_too_large",
        )
    uploaded.seek(0)
    head = uploaded.read(2048)
    kind = filetype.guess(head)
    name = (uploaded.name or "").lower()
    if kind is None or kind.mime not in allowed:
        accepted = ", ".join(sorted({ext.lstrip(".").upper() for exts in allowed.values() for ext in exts}))
        if allowed is ALLOWED_DOCUMENT_TYPES:
            message = _("Only PDF, JPEG and PNG files are accepted.")
        else:
            message = _("This type of file is not accepted. Accepted: %(types)s.") % {"types": accepted}
        raise ValidationError(message, code="file_type")
    if not name.endswith(allowed[kind.mime]):
        raise ValidationError(
            _("The file name does not match its content (a %(type)s file).")
            % {"type": kind.extension.upper()},
            code="file_extension",
        )
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return {"content_type": kind.mime, "size": size, "sha256": digest.hexdigest()}
