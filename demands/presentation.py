"""How demands read on the website and in the CSV export (one wording for both)."""

from django.utils.translation import gettext as _

from demands.models import Demand


def yuan(amount) -> str:
    """¥180,000 — or ¥180,000.50 when there are fen."""
    if amount is None:
        return ""
    return f"¥{amount:,.2f}" if amount % 1 else f"¥{amount:,.0f}"


def budget_text(demand: Demand) -> str:
    if demand.budget_negotiable or (demand.budget_min is None and demand.budget_max is None):
        return _("Negotiable")
    if demand.budget_min is not None and demand.budget_max is not None:
        if demand.budget_min == demand.budget_max:
            return yuan(demand.budget_min)
        return f"{yuan(demand.budget_min)} – {yuan(demand.budget_max)}"
    if demand.budget_min is not None:
        return _("from %(amount)s") % {"amount": yuan(demand.budget_min)}
    return _("up to %(amount)s") % {"amount": yuan(demand.budget_max)}
