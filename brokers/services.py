"""Writes of the brokers app: users' subscriptions to new demands and listings (SPEC §6).

A subscription names what its user wants in the daily digest (``brokers.digest``): a kind of record, and any
of technology fields, regions and keywords — at least one of the three, or it would bring every new record.
The website and the API both call these functions, so they refuse the same input with the same messages
(Chinese or English, the request's language).
"""

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brokers.models import Subscription
from marketplace.exceptions import ApplicationError
from marketplace.models import Region, TechnologyField

MAX_SUBSCRIPTIONS_PER_USER = 20

# Users type keywords the way they type lists: spaces, ASCII or full-width commas, the enumeration comma 、
# or semicolons.
KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；]+")

EDITABLE = ("name", "kind", "field_codes", "region_codes", "keywords", "is_active")


def subscription_defaults() -> dict:
    """The values of a new subscription (fresh lists every call: they end up on model instances)."""
    return {
        "name": "",
        "kind": Subscription.Kind.BOTH,
        "field_codes": [],
        "region_codes": [],
        "keywords": "",
        "is_active": True,
    }


NON_FIELD = "non_field_errors"


def keywords_normalise(value: str) -> str:
    """Distinct keywords (the first spelling of each, compared without case) joined by one space.

    Raises ``ValidationError`` when a keyword is too long or there are too many."""
    if not isinstance(value, str):
        raise ValidationError({"keywords": _("Give the keywords as text.")})
    keywords, seen = [], set()
    for keyword in KEYWORD_SEPARATORS.split(value):
        if keyword and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            keywords.append(keyword)
    too_long = [k for k in keywords if len(k) > Subscription.KEYWORD_MAX_LENGTH]
    if too_long:
        raise ValidationError(
            {
                "keywords": _("A keyword can have at most %(max)d characters: “%(keyword)s” is too long.")
                % {"max": Subscription.KEYWORD_MAX_LENGTH, "keyword": too_long[0]}
            }
        )
    if len(keywords) > Subscription.MAX_KEYWORDS:
        raise ValidationError(
            {
                "keywords": _("Give at most %(max)d keywords (you gave %(count)d).")
                % {"max": Subscription.MAX_KEYWORDS, "count": len(keywords)}
            }
        )
    return " ".join(keywords)


def _codes(value, key: str, known_codes) -> list[str]:
    """Distinct codes in the order given; every one must exist (``known_codes(codes)`` returns those that do)."""
    if not isinstance(value, list | tuple) or not all(isinstance(code, str) for code in value):
        raise ValidationError({key: _("Give a list of codes.")})
    codes = list(dict.fromkeys(code.strip() for code in value if code.strip()))
    known = known_codes(codes) if codes else set()
    unknown = [code for code in codes if code not in known]
    if unknown:
        message = (
            _("Unknown technology field: %(codes)s.")
            if key == "field_codes"
            else _("Unknown region: %(codes)s.")
        )
        raise ValidationError({key: message % {"codes": "、".join(unknown)}})
    return codes


def _known_fields(codes) -> set[str]:
    return set(TechnologyField.objects.filter(code__in=codes).values_list("code", flat=True))


def _known_regions(codes) -> set[str]:
    return set(Region.objects.filter(code__in=codes).values_list("code", flat=True))


def subscription_clean(data: dict, *, instance: Subscription | None = None) -> dict:
    """Validate and normalise the given values; those not given are the instance's (or the defaults).

    Returns the complete set of editable values. Raises ``ValidationError`` with errors by field, and under
    ``non_field_errors`` when no field, region or keyword is left. Every error of the input is reported at
    once, so that a form shows them all."""
    unexpected = set(data) - set(EDITABLE)
    if unexpected:
        raise TypeError(f"not editable: {', '.join(sorted(unexpected))}")
    current = {key: getattr(instance, key) for key in EDITABLE} if instance else subscription_defaults()
    cleaned, errors = {}, {}
    steps = {
        "name": _clean_name,
        "kind": _clean_kind,
        "field_codes": lambda value: _codes(value, "field_codes", _known_fields),
        "region_codes": lambda value: _codes(value, "region_codes", _known_regions),
        "keywords": keywords_normalise,
        "is_active": _clean_is_active,
    }
    for key, value in data.items():
        try:
            cleaned[key] = steps[key](value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    result = {**current, **cleaned}
    if not (result["field_codes"] or result["region_codes"] or result["keywords"]):
        raise ValidationError({NON_FIELD: _("Choose at least one technology field, region or keyword.")})
    return result


def _clean_name(value) -> str:
    if not isinstance(value, str):
        raise ValidationError({"name": _("Give the name as text.")})
    value = value.strip()
    if len(value) > 60:
        raise ValidationError({"name": _("A name can have at most 60 characters.")})
    return value


def _clean_kind(value) -> str:
    if value not in Subscription.Kind.values:
        raise ValidationError({"kind": _("Choose demands, listings or both.")})
    return value


def _clean_is_active(value) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({"is_active": _("Give true or false.")})
    return value


def _name_taken_error() -> ValidationError:
    return ValidationError({"name": _("You already have a subscription with this name.")})


def _check_name_free(*, user, name: str, exclude_pk=None) -> None:
    if name and Subscription.objects.filter(user=user, name=name).exclude(pk=exclude_pk).exists():
        raise _name_taken_error()


def _save(subscription: Subscription) -> None:
    """Save inside the caller's transaction; a name taken meanwhile by a concurrent request (the unique
    constraint) becomes the same field error as when it was taken before."""
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as exc:
        # PostgreSQL names the constraint; SQLite names the columns.
        if any(marker in str(exc) for marker in ("subscription_unique_name_per_user", "subscription.name")):
            raise _name_taken_error() from exc
        raise


def subscription_create(*, user, **data) -> Subscription:
    """A new subscription of ``user``. Accepts the keys of ``EDITABLE``; see ``subscription_clean``.

    Refused with ``ApplicationError`` (code ``too_many_subscriptions``) once the user has
    ``MAX_SUBSCRIPTIONS_PER_USER``, paused ones included (resuming must not pass the cap)."""
    values = subscription_clean(data)
    with transaction.atomic():
        # The user's row serialises concurrent creations, so that two requests cannot both take the last place.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if Subscription.objects.filter(user=user).count() >= MAX_SUBSCRIPTIONS_PER_USER:
            raise ApplicationError(
                _(
                    "You can have at most %(max)d subscriptions. Delete one you no longer need, or widen an "
                    "existing one."
                )
                % {"max": MAX_SUBSCRIPTIONS_PER_USER},
                code="too_many_subscriptions",
            )
        _check_name_free(user=user, name=values["name"])
        subscription = Subscription(user=user, **values)
        _save(subscription)
    return subscription


def subscription_update(*, subscription: Subscription, **changes) -> Subscription:
    """Change the given values (keys of ``EDITABLE``); the others stay. The caller has checked that the acting
    user owns the subscription (``brokers.selectors.subscription_get_for_user``)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        values = subscription_clean(changes, instance=subscription)
        _check_name_free(user=subscription.user_id, name=values["name"], exclude_pk=subscription.pk)
        for key, value in values.items():
            setattr(subscription, key, value)
        _save(subscription)
    return subscription


def subscription_delete(*, subscription: Subscription) -> None:
    """The caller has checked ownership. Deleting a subscription already gone is not an error."""
    Subscription.objects.filter(pk=subscription.pk).delete()


def _set_active(subscription: Subscription, *, active: bool, message: str) -> Subscription:
    updated = Subscription.objects.filter(pk=subscription.pk, is_active=not active).update(
        is_active=active, updated_at=timezone.now()
    )
    if updated != 1:
        raise ApplicationError(message, code="bad_state")
    subscription.refresh_from_db()
    return subscription


def subscription_pause(*, subscription: Subscription) -> Subscription:
    """Stop the digest for this subscription and keep its criteria. Refused when already paused."""
    return _set_active(subscription, active=False, message=_("This subscription is already paused."))


def subscription_resume(*, subscription: Subscription) -> Subscription:
    """Start the digest again for a paused subscription. Refused when it is active."""
    return _set_active(subscription, active=True, message=_("This subscription is already active."))
