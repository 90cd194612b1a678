"""Every write of the core goes through one of these functions (see STYLE §2.2)."""

from marketplace.services.accounts import (
    user_send_verification_email,
    user_signup,
    user_update_profile,
    user_verify_email,
)
from marketplace.services.audit import audit_log
from marketplace.services.notifications import (
    email_send,
    notification_create,
    notification_mark_read,
    notification_send_email,
)
from marketplace.services.organizations import (
    credential_document_add,
    invitation_accept,
    invitation_create,
    invitation_expire_stale,
    invitation_revoke,
    join_request_create,
    join_request_decide,
    membership_remove,
    membership_set_role,
    organization_create,
    organization_resubmit,
    organization_update,
)
from marketplace.services.verification import DECISIONS, organization_decide

__all__ = [
    "DECISIONS",
    "audit_log",
    "credential_document_add",
    "email_send",
    "invitation_accept",
    "invitation_create",
    "invitation_expire_stale",
    "invitation_revoke",
    "join_request_create",
    "join_request_decide",
    "membership_remove",
    "membership_set_role",
    "notification_create",
    "notification_mark_read",
    "notification_send_email",
    "organization_create",
    "organization_decide",
    "organization_resubmit",
    "organization_update",
    "user_send_verification_email",
    "user_signup",
    "user_update_profile",
    "user_verify_email",
]
