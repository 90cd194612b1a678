"""The one rule for what only verified organizations may do, for the website and the API alike.

Publishing demands or listings, bidding, expressing intent, signing contracts and seeing other organizations'
contact details require acting for a verified organization (SPEC §3). Staff pass as well.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from marketplace import selectors

NOT_VERIFIED_MESSAGE = _(
    "Only members of a verified organization can do this. Register your organization or wait for its verification."
)


def can_act_as_verified(user, organization=None) -> bool:
    if user.is_authenticated and user.is_active and user.is_staff:
        return True
    return selectors.user_is_verified_member(user=user, organization=organization)


def verified_organization_required(view):
    """Website views: anonymous users go to the login page, others without a verified organization get a 403."""
    from django.contrib.auth.views import redirect_to_login

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_act_as_verified(request.user):
            raise PermissionDenied(NOT_VERIFIED_MESSAGE)
        return view(request, *args, **kwargs)

    return wrapper


class IsVerifiedOrganizationMember(permissions.BasePermission):
    message = NOT_VERIFIED_MESSAGE

    def has_permission(self, request, view):
        return can_act_as_verified(request.user)


class IsOrganizationAdminOrReadOnly(permissions.BasePermission):
    """Object permission for ``Organization``: its admins (and staff) may change it."""

    message = _("Only an administrator of this organization can do this.")

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.is_staff or selectors.user_is_organization_admin(
            user=request.user, organization=obj
        )
