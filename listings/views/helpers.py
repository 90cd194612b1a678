"""Shared pieces of the listings website views: who acts for which organization, where to go back to."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from listings import selectors
from listings.models import Listing
from marketplace import selectors as core_selectors
from marketplace.exceptions import ApplicationError
from marketplace.models import Organization
from marketplace.permissions import can_act_as_verified


def error_message(exc: ValidationError | ApplicationError) -> str:
    if isinstance(exc, ApplicationError):
        return str(exc.message)
    return " ".join(exc.messages)


def flash_form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def detail_url(listing_or_pk, anchor: str = "") -> str:
    pk = listing_or_pk.pk if isinstance(listing_or_pk, Listing) else listing_or_pk
    return reverse("listings:detail", kwargs={"pk": pk}) + (f"#{anchor}" if anchor else "")


def login_first(request, next_url: str):
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    return None


def member_organizations(user) -> list[Organization]:
    return [m.organization for m in core_selectors.user_memberships(user=user).order_by("organization__name")]


def buyer_organizations(user, *, exclude_owner_id: int | None) -> list[Organization]:
    """Verified organizations the user may act for as a buyer or bidder (never the listing's owner)."""
    if not user.is_authenticated:
        return []
    return list(
        core_selectors.user_verified_organizations(user=user).exclude(pk=exclude_owner_id).order_by("name")
    )


def can_manage(user, listing: Listing) -> bool:
    """Members of the owner organization and the staff: what ``listings.services`` accept as the owner side."""
    return user.is_authenticated and (user.is_staff or selectors.listing_is_owner(user=user, listing=listing))


def can_see_attachments(user, listing: Listing, *, manages: bool | None = None) -> bool:
    """The listing's text is public (it is an offer); its attachments — drawings, test reports, the claims
    in full — are for the owner side and for members of verified organizations, the platform's buyers."""
    if manages if manages is not None else can_manage(user, listing):
        return True
    return can_act_as_verified(user)


def listing_for_owner(request, pk) -> Listing:
    """A listing the user manages; 404 for anyone else (its existence is not revealed to outsiders)."""
    listing = selectors.listing_get_for_user(user=request.user, pk=pk)
    if not can_manage(request.user, listing):
        raise Http404
    return listing
