"""How listings read on the website, in the API and on certificates (one wording everywhere)."""

from django.utils.translation import gettext as _

from marketplace.taxonomy import TransferMode


def yuan(amount) -> str:
    """¥180,000 — or ¥180,000.50 when there are fen."""
    if amount is None:
        return ""
    return f"¥{amount:,.2f}" if amount % 1 else f"¥{amount:,.0f}"


def asking_price_text(listing) -> str:
    if listing.price_negotiable or listing.asking_price is None:
        return _("Negotiable")
    return yuan(listing.asking_price)


def transfer_mode_labels(modes) -> list[str]:
    labels = dict(TransferMode.choices)
    return [str(labels.get(mode, mode)) for mode in modes or []]
