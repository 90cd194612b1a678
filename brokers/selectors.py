"""Broker reads used by other apps. The broker registry and pipeline arrive with the brokers capability."""


def broker_is_assigned_to_demand(*, user, demand) -> bool:
    """True when ``user`` is the vetted broker working this demand (SPEC §6). No brokers exist yet."""
    return False
