"""Reads of the core that views, the API and other apps share; permission scoping lives here."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from marketplace.models import (
    AuditLog,
    CredentialDocument,
    Invitation,
    JoinRequest,
    Membership,
    Notification,
    Organization,
    User,
)


def organization_list_public() -> QuerySet[Organization]:
    """The public directory: verified organizations only."""
    return (
        Organization.objects.filter(status=Organization.Status.VERIFIED)
        .select_related("region", "region__parent")
        .prefetch_related("fields")
    )


def organization_list_visible_to(*, user: User) -> QuerySet[Organization]:
    """Verified organizations, plus the user's own in any state; staff see everything."""
    qs = Organization.objects.select_related("region", "region__parent").prefetch_related("fields")
    if user.is_authenticated and user.is_staff:
        return qs
    condition = Q(status=Organization.Status.VERIFIED)
    if user.is_authenticated:
        condition |= Q(memberships__user=user)
    return qs.filter(condition).distinct()


def organization_get_for_user(*, user: User, pk) -> Organization:
    """404 (not 403) for organizations the user may not see, so their existence is not revealed."""
    try:
        return organization_list_visible_to(user=user).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def membership_get(*, user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organization=organization).first()


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization", "organization__region")


def user_verified_organizations(*, user: User) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user, status=Organization.Status.VERIFIED)


def user_is_verified_member(*, user: User, organization: Organization | None = None) -> bool:
    """True when the user acts for a verified organization (``organization`` if given, else any)."""
    if not user.is_authenticated or not user.is_active:
        return False
    qs = user_verified_organizations(user=user)
    if organization is not None:
        qs = qs.filter(pk=organization.pk)
    return qs.exists()


def user_is_organization_admin(*, user: User, organization: Organization) -> bool:
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists()


def organization_members(*, organization: Organization) -> QuerySet[Membership]:
    return organization.memberships.select_related("user").order_by("role", "created_at")


def organization_documents(*, organization: Organization) -> QuerySet[CredentialDocument]:
    return organization.documents.select_related("uploaded_by")


def organization_pending_join_requests(*, organization: Organization) -> QuerySet[JoinRequest]:
    return organization.join_requests.filter(status=JoinRequest.Status.PENDING).select_related("user")


def organization_pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return organization.invitations.filter(status=Invitation.Status.PENDING)


def organization_history(*, organization: Organization) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(
        target_type="marketplace.organization", target_id=str(organization.pk)
    ).select_related("actor")


def user_pending_invitations(*, user: User) -> QuerySet[Invitation]:
    if not user.is_authenticated or not user.is_email_verified:
        return Invitation.objects.none()
    return Invitation.objects.filter(
        email__iexact=user.email, status=Invitation.Status.PENDING
    ).select_related("organization")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def organization_counts_by_type() -> dict[str, int]:
    rows = (
        Organization.objects.filter(status=Organization.Status.VERIFIED)
        .values("org_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["org_type"]: row["n"] for row in rows}
