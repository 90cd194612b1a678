"""One error format for the whole API:

    {"error": {"code": "validation_error", "message": "…", "fields": {"credit_code": ["…"]}}}

``message`` is in the request's language (Accept-Language or ?lang), Chinese by default.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from marketplace.exceptions import ApplicationError


def _django_validation_fields(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            key: [str(m) for error in errors for m in error.messages]
            for key, errors in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "message": str(exc.message)}
        if exc.extra:
            body["details"] = exc.extra
        return Response({"error": body}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        fields = _django_validation_fields(exc)
        first = next(iter(fields.values()))[0]
        return Response(
            {"error": {"code": "validation_error", "message": first, "fields": fields}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        message = _first_message(fields) or _("Invalid input.")
        response.data = {"error": {"code": "validation_error", "message": message, "fields": fields}}
    else:
        detail = getattr(exc, "detail", "")
        code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
        response.data = {"error": {"code": code, "message": str(detail)}}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["error"]["retry_after_seconds"] = int(exc.wait)
    return response


def _first_message(value):
    if isinstance(value, dict):
        for item in value.values():
            found = _first_message(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _first_message(item)
            if found:
                return found
    elif value:
        return str(value)
    return None
