from django.db import models

from marketplace.models import AuditLog


def audit_log(
    *, actor, action: str, target: models.Model, reason: str = "", data: dict | None = None
) -> AuditLog:
    """Record a decision. Call inside the transaction of the change it describes, so both land or neither."""
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        reason=reason,
        data=data or {},
    )
