"""Website views of public listing (挂牌): the owner puts a listing up, verified buyers express intent, the owner
relists or withdraws after a period without intent, and records the agreement reached in negotiation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from listings import selectors, services
from listings.forms import ConcludeForm, IntentForm, PublicListingOpenForm, RelistForm
from listings.models import PublicListing
from listings.views.catalog import detail_context
from listings.views.helpers import buyer_organizations, can_manage, detail_url, listing_for_owner, login_first
from marketplace.exceptions import ApplicationError
from marketplace.views.helpers import form_apply_error


def _public_listing(request, public_listing_id) -> PublicListing:
    """A public listing of a listing the user may see; 404 otherwise."""
    public = get_object_or_404(PublicListing.objects.select_related("listing"), pk=public_listing_id)
    public.listing = selectors.listing_get_for_user(user=request.user, pk=public.listing_id)
    return public


def _owned_public_listing(request, public_listing_id) -> PublicListing:
    public = _public_listing(request, public_listing_id)
    if not can_manage(request.user, public.listing):
        raise Http404
    return public


def _rerender(request, listing, **forms):
    return render(request, "listings/detail.html", detail_context(request, listing, **forms), status=400)


@login_required
@require_POST
def public_listing_open(request, pk):
    listing = listing_for_owner(request, pk)
    form = PublicListingOpenForm(request.POST)
    if form.is_valid():
        try:
            services.public_listing_open(listing=listing, actor=request.user, **form.cleaned_data)
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(
                request,
                _("The technology is publicly listed. Verified buyers can now express their intent."),
            )
            return redirect(detail_url(listing, "public-listing"))
    return _rerender(request, listing, open_form=form)


@require_POST
def intent_file(request, public_listing_id):
    public = _public_listing(request, public_listing_id)
    if response := login_first(request, detail_url(public.listing)):
        return response
    form = IntentForm(
        request.POST,
        organizations=buyer_organizations(request.user, exclude_owner_id=public.listing.owner_id),
    )
    if form.is_valid():
        try:
            services.intent_file(
                public_listing=public,
                organization=form.cleaned_data["organization"],
                actor=request.user,
                message=form.cleaned_data["message"],
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Your intent is filed. When the listing period ends you negotiate with the owner, or, if "
                    "several buyers are interested, bid in an online auction."
                ),
            )
            return redirect(detail_url(public.listing, "public-listing"))
    return _rerender(request, public.listing, intent_form=form)


@login_required
@require_POST
def public_listing_relist(request, public_listing_id):
    public = _owned_public_listing(request, public_listing_id)
    form = RelistForm(request.POST)
    if form.is_valid():
        try:
            services.public_listing_relist(
                public_listing=public,
                actor=request.user,
                days=form.cleaned_data["days"],
                floor_price=form.cleaned_data["floor_price"],
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("The technology is listed again."))
            return redirect(detail_url(public.listing, "public-listing"))
    return _rerender(request, public.listing, relist_form=form)


@login_required
@require_POST
def public_listing_withdraw(request, public_listing_id):
    public = _owned_public_listing(request, public_listing_id)
    try:
        services.public_listing_withdraw(public_listing=public, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The public listing has been withdrawn; the listing stays on the market.")
        )
    return redirect(detail_url(public.listing, "public-listing"))


@login_required
@require_POST
def negotiation_conclude(request, public_listing_id):
    public = _owned_public_listing(request, public_listing_id)
    buyers = [intent.organization for intent in public.intents.select_related("organization")]
    form = ConcludeForm(request.POST, buyers=buyers)
    if form.is_valid():
        try:
            services.negotiation_conclude(
                public_listing=public,
                actor=request.user,
                buyer=form.cleaned_data["buyer"],
                price=form.cleaned_data["price"],
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("The deal is recorded. A draft contract follows."))
            return redirect(detail_url(public.listing))
    return _rerender(request, public.listing, conclude_form=form)
