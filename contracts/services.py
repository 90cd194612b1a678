"""Contract drafting. Until the contracts capability exists, the hand-over from an award is a no-op hook."""


def contract_draft_from_award(*, proposal, actor):
    """Start a draft contract pre-filled from the demand and the awarded proposal (SPEC §4, §7).

    Called inside the award's transaction. Returns the draft, or None while contracts are not built.
    """
    return None


def contract_draft_from_deal(*, deal, actor=None):
    """Start a draft transfer contract from a concluded listing deal (auction or negotiation). No-op for now."""
    return None
