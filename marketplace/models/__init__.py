from marketplace.models.accounts import User
from marketplace.models.activity import AuditLog, Notification
from marketplace.models.base import TimeStampedModel
from marketplace.models.organizations import (
    CredentialDocument,
    Invitation,
    JoinRequest,
    Membership,
    Organization,
)
from marketplace.models.reference import Classification, Region, TechnologyField, province_code
from marketplace.models.statistics import PlatformKpiSnapshot, SubMarket

__all__ = [
    "AuditLog",
    "Classification",
    "CredentialDocument",
    "Invitation",
    "JoinRequest",
    "Membership",
    "Notification",
    "Organization",
    "PlatformKpiSnapshot",
    "Region",
    "SubMarket",
    "TechnologyField",
    "TimeStampedModel",
    "User",
    "province_code",
]
