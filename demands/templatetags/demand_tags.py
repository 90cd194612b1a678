"""Template helpers of the demands website pages: ``{% load demand_tags %}``."""

from django import template

from demands.presentation import budget_text
from demands.presentation import yuan as yuan_text

register = template.Library()


@register.filter
def budget(demand) -> str:
    """The budget in one phrase: "Negotiable" (面议), "¥50,000 – ¥200,000", "from ¥50,000", "up to ¥80,000"."""
    return budget_text(demand)


@register.filter
def yuan(amount) -> str:
    """An amount in yuan with thousands separators, the same in every language: ¥180,000."""
    return yuan_text(amount)
