"""Validation shared by the market's records (demands and listings): texts, amounts, the technology field
with its sub-field, the region, and the lower-cased text the keyword search scans."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from marketplace.models import Region, TechnologyField


def strip_texts(data: dict, keys) -> None:
    for key in keys:
        if data.get(key) is not None:
            data[key] = str(data[key]).strip()


def resolve_classification(data: dict, errors: dict, instance=None) -> None:
    """Turn ``field``/``sub_field``/``region`` codes in ``data`` into rows and check that they fit together."""
    for key, model, message in (
        ("field", TechnologyField, _("Unknown technology field “%(value)s”.")),
        ("sub_field", TechnologyField, _("Unknown technology sub-field “%(value)s”.")),
        ("region", Region, _("Unknown region code “%(value)s”. Use a GB/T 2260 province or city code.")),
    ):
        value = data.get(key)
        if value is None or isinstance(value, model):
            continue
        row = model.objects.filter(pk=str(value).strip()).first()
        if row is None and (key != "sub_field" or value):
            errors[key] = message % {"value": value}
        data[key] = row
    field = data.get("field", instance.field if instance else None)
    sub_field = data.get("sub_field", instance.sub_field if instance else None)
    if field is not None and field.parent_id is not None:
        errors["field"] = _("Choose one of the 11 technology fields here; its sub-field goes below.")
    if sub_field is not None and field is not None and sub_field.parent_id != field.code:
        errors["sub_field"] = _("This sub-field does not belong to the chosen technology field.")


def clean_amounts(data: dict, keys, errors: dict) -> None:
    """Amounts in yuan with two decimals, never negative; an empty value becomes None."""
    for key in keys:
        if key not in data:
            continue
        if data[key] in (None, ""):
            data[key] = None
            continue
        try:
            data[key] = Decimal(str(data[key])).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors[key] = _("Enter an amount in yuan.")
            continue
        if data[key] < 0:
            errors[key] = _("An amount cannot be negative.")


def jsonable(value):
    """A field value as stored in a revision's JSON (rows by primary key, decimals and dates as strings)."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        # One instant, one text: the same deadline entered in Shanghai time or in UTC is not a change.
        return value.astimezone(UTC).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def search_text(record, *extra: str) -> str:
    """Lower-cased title, summary, extra texts and both languages' field names: what keyword search scans."""
    parts = [record.title, record.summary, *extra, record.field.name_zh, record.field.name_en]
    if record.sub_field_id:
        parts += [record.sub_field.name_zh, record.sub_field.name_en]
    return " ".join(p for p in parts if p).lower()
