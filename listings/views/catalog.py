"""Website views of the listings themselves (SPEC §5, §10): the market list, the listing page, the owner's forms
and the "my listings, intents and auctions" page.

What a visitor sees: a listing is an offer, so its text (summary, details, type, patent number, field,
maturity, scenarios, transfer modes, price, inventors) is public once it is published; its attachments are
for members of verified organizations and the owner side (``helpers.can_see_attachments``). Drafts, listings
in review, rejected and withdrawn ones are seen by the owner's members and the staff only (404 otherwise,
``listings.selectors.listing_get_for_user``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from listings import selectors, services
from listings.filters import ListingFilter
from listings.forms import (
    PUBLIC_STATUS_CHOICES,
    AttachmentForm,
    ConcludeForm,
    IntentForm,
    ListingForm,
    PublicListingOpenForm,
    RelistForm,
    WithdrawForm,
)
from listings.models import (
    ACTIVE_PUBLIC_LISTING,
    AuctionBidder,
    Intent,
    Listing,
    ListingAttachment,
    ListingRevision,
    Publicity,
    PublicListing,
)
from listings.views.helpers import (
    buyer_organizations,
    can_manage,
    can_see_attachments,
    detail_url,
    error_message,
    flash_form_errors,
    listing_for_owner,
    member_organizations,
)
from marketplace.exceptions import ApplicationError
from marketplace.forms import field_choices
from marketplace.models import Membership, Region
from marketplace.taxonomy import ListingType, Maturity, TransferMode
from marketplace.views.helpers import form_apply_error

S = Listing.Status
PL = PublicListing.Status
PAGE_SIZE = 20
EDITABLE = (S.DRAFT, S.PENDING_REVIEW, S.REJECTED, S.PUBLISHED)
WITHDRAWABLE = (S.DRAFT, S.PENDING_REVIEW, S.PUBLISHED, S.REJECTED)


# --- public list ----------------------------------------------------------------------------------------------


def listing_list(request):
    params = request.GET.copy()
    params.pop("page", None)
    filterset = ListingFilter(params, queryset=selectors.listing_list_public())
    qs = filterset.qs.select_related("region__parent").order_by("-published_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filter_errors": filterset.errors,
        "values": {key: request.GET.get(key, "") for key in ListingFilter.base_filters},
        "field_choices": field_choices(),
        "provinces": Region.objects.filter(parent__isnull=True).order_by("code"),
        "listing_types": ListingType.choices,
        "maturities": Maturity.choices,
        "transfer_modes": TransferMode.choices,
        "statuses": PUBLIC_STATUS_CHOICES,
    }
    return render(request, "listings/list.html", context)


# --- detail ---------------------------------------------------------------------------------------------------


def detail_context(request, listing: Listing, **forms) -> dict:
    """Everything the listing page shows to this user; ``forms`` carries bound forms back after an error."""
    user = request.user
    manages = can_manage(user, listing)
    public = selectors.public_listing_current(listing=listing)
    auction = selectors.auction_for_listing(listing=listing)
    context = {
        "listing": listing,
        "can_manage": manages,
        "public": public,
        "auction": auction,
        "can_see_attachments": can_see_attachments(user, listing, manages=manages),
        "comparables": selectors.comparable_deals(listing=listing),
        "now": timezone.now(),
    }
    if context["can_see_attachments"]:
        context["attachments"] = list(listing.attachments.all())

    if public is not None:
        now = context["now"]
        intent_open = public.status == PL.OPEN and public.starts_at <= now < public.ends_at
        context["intent_open"] = intent_open
        context["intent_count"] = public.intents.count()
        buyers = buyer_organizations(user, exclude_owner_id=listing.owner_id)
        own_intents = list(
            Intent.objects.filter(public_listing=public, organization__in=buyers).select_related(
                "organization"
            )
        )
        context["own_intents"] = own_intents
        filed = {intent.organization_id for intent in own_intents}
        intent_orgs = [org for org in buyers if org.pk not in filed]
        if intent_open and intent_orgs:
            context["intent_form"] = forms.get("intent_form") or IntentForm(organizations=intent_orgs)
        context["intent_login"] = intent_open and not user.is_authenticated
        context["intent_needs_verified"] = (
            intent_open and user.is_authenticated and not buyers and not manages
        )

    if manages:
        intents = list(public.intents.select_related("organization")) if public is not None else []
        context["intents"] = intents
        context["pending_revision"] = listing.revisions.filter(status=ListingRevision.Status.PENDING).first()
        context["last_revision"] = listing.revisions.exclude(status=ListingRevision.Status.SUPERSEDED).first()
        context["owner_verified"] = listing.owner.is_verified
        context["can_edit"] = listing.status in EDITABLE
        context["can_submit"] = listing.status in (S.DRAFT, S.REJECTED)
        in_trade = public is not None and public.status in (PL.NEGOTIATION, PL.AUCTION)
        context["can_withdraw"] = listing.status in WITHDRAWABLE and not in_trade
        context["withdraw_form"] = forms.get("withdraw_form") or WithdrawForm()
        if context["can_edit"]:
            context["attachment_form"] = forms.get("attachment_form") or AttachmentForm()
        if listing.status == S.PUBLISHED and public is None:
            context["open_form"] = forms.get("open_form") or PublicListingOpenForm(
                initial={"floor_price": listing.asking_price, "days": 20}
            )
        if public is not None and public.status == PL.AWAITING_OWNER:
            context["relist_form"] = forms.get("relist_form") or RelistForm()
        context["can_withdraw_public"] = public is not None and public.status in (PL.OPEN, PL.AWAITING_OWNER)
        if public is not None and public.status == PL.NEGOTIATION and intents:
            context["conclude_form"] = forms.get("conclude_form") or ConcludeForm(
                buyers=[intent.organization for intent in intents]
            )
        if listing.status == S.TRANSFERRED:
            context["deals"] = list(listing.deals.select_related("buyer"))
    if listing.status == S.TRANSFERRED and listing.state_funded:
        context["publicity"] = Publicity.objects.filter(deal__listing=listing).order_by("-starts_at").first()
    return context


def listing_detail(request, pk):
    listing = selectors.listing_get_for_user(user=request.user, pk=pk)
    return render(request, "listings/detail.html", detail_context(request, listing))


# --- the owner's forms --------------------------------------------------------------------------------------------


def _add_attachments(request, listing: Listing, files) -> bool:
    ok = True
    for uploaded in files:
        try:
            services.listing_attachment_add(listing=listing, actor=request.user, uploaded=uploaded)
        except (ValidationError, ApplicationError) as exc:
            ok = False
            messages.error(request, f"{uploaded.name}: {error_message(exc)}")
    return ok


def _submit_for_review(request, listing: Listing) -> None:
    try:
        services.listing_submit(listing=listing, actor=request.user)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, error_message(exc))
        messages.info(request, _("The listing is saved as a draft."))
    else:
        messages.success(
            request, _("The listing is sent to review. It appears on the market once a reviewer approves it.")
        )


@login_required
def listing_create(request):
    organizations = member_organizations(request.user)
    if not organizations:
        messages.warning(request, _("Register your organization (or join one) before listing a technology."))
        return redirect("organizations:create")
    form = ListingForm(
        request.POST or None,
        request.FILES or None,
        organizations=organizations,
        initial={"region": organizations[0].region_id, "transfer_modes": [TransferMode.TRANSFER]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            listing = services.listing_create(
                owner=form.cleaned_data["organization"], actor=request.user, **form.listing_data()
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            _add_attachments(request, listing, form.cleaned_data["attachments"])
            if request.POST.get("action") == "submit":
                _submit_for_review(request, listing)
            else:
                messages.success(request, _("The draft is saved. Submit it for review when it is ready."))
            return redirect(detail_url(listing))
    context = {
        "form": form,
        "title": _("List a technology"),
        "unverified": [org for org in organizations if not org.is_verified],
        "can_submit": True,
    }
    return render(request, "listings/form.html", context)


def _edit_initial(listing: Listing, revision: ListingRevision | None) -> dict:
    initial = {key: getattr(listing, key) for key in services.catalog.EDITABLE_FIELDS}
    initial.update(field=listing.field_id, sub_field=listing.sub_field_id or "", region=listing.region_id)
    if revision is not None:
        # Build on the edit that waits for review, so a second edit does not silently drop the first.
        initial.update({key: value for key, value in revision.changes.items() if key in initial})
        initial["sub_field"] = initial.get("sub_field") or ""
    return initial


@login_required
def listing_edit(request, pk):
    listing = listing_for_owner(request, pk)
    if listing.status not in EDITABLE:
        messages.error(
            request,
            _("A listing that is %(status)s can no longer be edited.")
            % {"status": listing.get_status_display()},
        )
        return redirect(detail_url(listing))
    revision = listing.revisions.filter(status=ListingRevision.Status.PENDING).first()
    form = ListingForm(request.POST or None, request.FILES or None, initial=_edit_initial(listing, revision))
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["attachments"]
        result = None
        try:
            result = services.listing_update(listing=listing, actor=request.user, **form.listing_data())
        except ApplicationError as exc:
            if not (exc.code == "no_changes" and files):
                form_apply_error(form, exc)
        except ValidationError as exc:
            form_apply_error(form, exc)
        if not form.errors:
            _add_attachments(request, listing, files)
            if isinstance(result, ListingRevision):
                messages.success(
                    request,
                    _(
                        "Your edit is waiting for review; the public version stays visible until it is approved."
                    ),
                )
            elif result is None:
                messages.success(request, _("The attachments have been added."))
            elif request.POST.get("action") == "submit" and result.status in (S.DRAFT, S.REJECTED):
                _submit_for_review(request, result)
            else:
                messages.success(request, _("The listing has been saved."))
            return redirect(detail_url(listing))
    context = {
        "form": form,
        "listing": listing,
        "title": _("Edit “%(title)s”") % {"title": listing.title},
        "pending_revision": revision,
        "unverified": [] if listing.owner.is_verified else [listing.owner],
        "can_submit": listing.status in (S.DRAFT, S.REJECTED),
    }
    return render(request, "listings/form.html", context)


@login_required
@require_POST
def listing_attachments(request, pk):
    listing = listing_for_owner(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        if _add_attachments(request, listing, form.cleaned_data["files"]):
            messages.success(request, _("The attachments have been added."))
    else:
        flash_form_errors(request, form)
    return redirect(detail_url(listing, "attachments"))


def attachment_download(request, attachment_id):
    """Members of verified organizations and the owner side; 404 for everyone else (never a /media/ URL)."""
    attachment = get_object_or_404(ListingAttachment, pk=attachment_id)
    listing = selectors.listing_get_for_user(user=request.user, pk=attachment.listing_id)
    if not can_see_attachments(request.user, listing):
        raise Http404
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def listing_submit(request, pk):
    listing = listing_for_owner(request, pk)
    _submit_for_review(request, listing)
    return redirect(detail_url(listing))


@login_required
@require_POST
def listing_withdraw(request, pk):
    listing = listing_for_owner(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.listing_withdraw(listing=listing, actor=request.user, reason=reason)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The listing has been withdrawn."))
    return redirect(detail_url(listing))


# --- my listings, intents and auctions ---------------------------------------------------------------------------


@login_required
def listing_mine(request):
    """The owner's and the buyer's dashboard: the user's organizations' listings with their current public
    listing, the intents they filed, and the auctions they joined — by their own paddle ("you lead"/"outbid")."""
    org_ids = list(Membership.objects.filter(user=request.user).values_list("organization_id", flat=True))
    active = PublicListing.objects.filter(status__in=ACTIVE_PUBLIC_LISTING).annotate(
        intent_total=Count("intents")
    )
    listings = (
        Listing.objects.filter(owner_id__in=org_ids)
        .select_related("owner", "field")
        .prefetch_related(Prefetch("public_listings", queryset=active, to_attr="active_public"))
        .order_by("-updated_at", "-id")
    )
    intents = (
        Intent.objects.filter(organization_id__in=org_ids)
        .select_related("organization", "public_listing", "public_listing__listing")
        .order_by("-created_at")
    )
    bidders = list(
        AuctionBidder.objects.filter(organization_id__in=org_ids)
        .select_related("organization", "auction", "auction__leader", "auction__public_listing__listing")
        .annotate(bid_total=Count("bids"))
        .order_by("-auction__ends_at")
    )
    for bidder in bidders:
        auction = bidder.auction
        bidder.leading = auction.leader_id == bidder.pk
        bidder.outbid = bool(auction.leader_id) and not bidder.leading and bidder.bid_total > 0
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    for listing in page:
        listing.current_public = listing.active_public[0] if listing.active_public else None
    context = {
        "page": page,
        "intents": intents[:50],
        "bidders": bidders[:50],
        "has_organization": bool(org_ids),
    }
    return render(request, "listings/mine.html", context)
