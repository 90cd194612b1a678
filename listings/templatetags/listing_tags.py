"""Template helpers of the listings pages: ``{% load listing_tags %}``."""

from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from listings.presentation import asking_price_text, transfer_mode_labels
from listings.presentation import yuan as yuan_text

register = template.Library()


@register.filter
def yuan(amount) -> str:
    """An amount in yuan with thousands separators, the same in every language: ¥180,000."""
    return yuan_text(amount)


@register.filter
def asking_price(listing) -> str:
    """The asking price, or "Negotiable" (面议)."""
    return asking_price_text(listing)


@register.filter
def transfer_modes(listing) -> list[str]:
    """The labels of the listing's transfer modes, in the language of the request."""
    return transfer_mode_labels(listing.transfer_modes)


@register.filter
def yuan_str(amount) -> str:
    """``yuan`` for the decimal strings of ``auction_public_state``."""
    if amount in (None, ""):
        return ""
    return yuan_text(Decimal(str(amount)))


@register.filter
def iso_time(value) -> str:
    """An ISO 8601 timestamp (as in the auction's JSON state) as local time: 14:05:09."""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        return ""
    return timezone.localtime(parsed).strftime("%H:%M:%S")
