"""Django admin of the listings app: the review queue (信息审核) of new listings and of edits to published ones,
the resolution of objections to publicity notices, and read-only views of the trading records (SPEC §5).

Every decision goes through its service — ``listing_review``, ``listing_revision_review``,
``objection_resolve`` — from a list action with an intermediate page that asks for the reason (mandatory for a
rejection and for every objection resolution), so each one is guarded, audited and notified. Public listings,
intents, auctions, bidders, bids, deals and publicity notices are read-only here: they change through the
website, the API and the beat tasks. The maximum of a bid — and the leader's maximum — stay hidden while the
auction runs: not even the platform's staff may see (or leak) them before the close.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from listings import services
from listings.models import (
    Auction,
    AuctionBidder,
    AuctionStatus,
    Bid,
    Deal,
    Intent,
    Listing,
    ListingAttachment,
    ListingRevision,
    ListingStatus,
    Objection,
    Publicity,
    PublicListing,
)
from marketplace.exceptions import ApplicationError

OPEN_AUCTION = (AuctionStatus.SCHEDULED, AuctionStatus.RUNNING)
HIDDEN = _("hidden until the close")


class ReadOnlyAdminMixin:
    """Visible to staff with the view permission; changed only through services, never here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- decisions with a reason on an intermediate page ----------------------------------------------------------


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_("The owner receives it by e-mail and on the website; it is kept in the audit log."),
    )

    def __init__(self, *args, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if not reason_required:
            self.fields["reason"].help_text = _("Optional for an approval; kept in the audit log.")


class DecisionAdminMixin:
    """``decisions``: name → (label, reason required, sources (statuses it applies to), callable(obj, actor,
    reason)). Each object is decided on its own (each service call is its own transaction): one in the wrong
    state is refused and reported without undoing the others."""

    decisions: dict = {}
    decision_status_field = "status"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        for name, (label, _required, _sources, _call) in self.decisions.items():
            actions[name] = (self._decision_action(name), name, label)
        return actions

    def _decision_action(self, decision: str):
        def action(modeladmin, request, queryset):
            return modeladmin.decide(request, queryset, decision)

        action.__name__ = decision
        return action

    def decide(self, request, queryset, decision: str):
        label, required, sources, call = self.decisions[decision]
        form = DecisionForm(request.POST if "apply" in request.POST else None, reason_required=required)
        if form.is_bound and form.is_valid():
            decided, refused = [], []
            for obj in queryset:
                try:
                    call(obj, request.user, form.cleaned_data["reason"])
                except ApplicationError as exc:
                    refused.append(f"{obj}: {exc}")
                else:
                    decided.append(str(obj))
            if decided:
                self.message_user(
                    request,
                    ngettext("%(count)d decided: %(names)s.", "%(count)d decided: %(names)s.", len(decided))
                    % {"count": len(decided), "names": ", ".join(decided)},
                    messages.SUCCESS,
                )
            for message in refused:
                self.message_user(request, message, messages.ERROR)
            return None  # back to the change list

        objects = list(queryset)
        rows = [(obj, getattr(obj, self.decision_status_field) in sources) for obj in objects]
        context = {
            **self.admin_site.each_context(request),
            "title": label,
            "opts": self.model._meta,
            "decision": decision,
            "form": form,
            "rows": rows,
            "refused_count": sum(not applicable for _obj, applicable in rows),
            "reason_required": required,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/listings/decide.html", context)


# --- listings and their review ---------------------------------------------------------------------------------


class ListingAttachmentInline(ReadOnlyInline):
    model = ListingAttachment
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields
    show_change_link = False


class ListingRevisionInline(ReadOnlyInline):
    model = ListingRevision
    fields = ("status", "submitted_by", "created_at", "decided_by", "decided_at", "reason")
    readonly_fields = fields
    fk_name = "listing"


@admin.register(Listing)
class ListingAdmin(DecisionAdminMixin, admin.ModelAdmin):
    """The review queue: filter on "Pending review", select, approve or reject with the reason."""

    list_display = (
        "title",
        "owner",
        "listing_type",
        "field",
        "status",
        "state_funded",
        "submitted_at",
        "published_at",
    )
    list_filter = ("status", "listing_type", "maturity", "state_funded", "field")
    search_fields = ("title", "patent_number", "owner__name", "external_ref", "inventors")
    list_select_related = ("owner", "field")
    raw_id_fields = ("owner", "created_by")
    date_hierarchy = "created_at"
    ordering = ("-submitted_at", "-id")
    inlines = [ListingAttachmentInline, ListingRevisionInline]
    readonly_fields = [f.name for f in Listing._meta.fields if f.name != "id"]
    decisions = {
        "approve": (
            _("Approve (publish) the selected listings"),
            False,
            (ListingStatus.PENDING_REVIEW,),
            lambda obj, actor, reason: services.listing_review(
                listing=obj, actor=actor, approve=True, reason=reason
            ),
        ),
        "reject": (
            _("Reject the selected listings"),
            True,
            (ListingStatus.PENDING_REVIEW,),
            lambda obj, actor, reason: services.listing_review(
                listing=obj, actor=actor, approve=False, reason=reason
            ),
        ),
    }

    def has_add_permission(self, request):
        return False  # listings are drafted by their owners, on the website or through the API

    def has_delete_permission(self, request, obj=None):
        return False  # withdraw instead: deals, publicity and contracts refer to listings


@admin.register(ListingRevision)
class ListingRevisionAdmin(DecisionAdminMixin, admin.ModelAdmin):
    """Edits of published listings: the table shows each changed field, now and proposed."""

    list_display = (
        "listing",
        "status",
        "changed_fields",
        "submitted_by",
        "created_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status",)
    search_fields = ("listing__title", "listing__owner__name")
    list_select_related = ("listing", "submitted_by", "decided_by")
    ordering = ("-created_at",)
    fields = (
        "listing",
        "status",
        "submitted_by",
        "created_at",
        "changes_table",
        "decided_by",
        "decided_at",
        "reason",
    )
    readonly_fields = fields
    decisions = {
        "approve": (
            _("Approve the selected edits"),
            False,
            (ListingRevision.Status.PENDING,),
            lambda obj, actor, reason: services.listing_revision_review(
                revision=obj, actor=actor, approve=True, reason=reason
            ),
        ),
        "reject": (
            _("Reject the selected edits"),
            True,
            (ListingRevision.Status.PENDING,),
            lambda obj, actor, reason: services.listing_revision_review(
                revision=obj, actor=actor, approve=False, reason=reason
            ),
        ),
    }

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("changed fields"))
    def changed_fields(self, obj):
        return ", ".join(sorted(obj.changes))

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        listing = obj.listing
        rows = []
        for key, proposed in sorted(obj.changes.items()):
            # Foreign keys are stored in the revision as codes: compare code with code.
            attribute = f"{key}_id" if key in ("field", "sub_field", "region") else key
            rows.append((key, _display(getattr(listing, attribute, "")), _display(proposed)))
        return format_html(
            '<table class="revision-changes"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            gettext("Field"),
            gettext("Now"),
            gettext("Proposed"),
            format_html_join(
                "",
                '<tr><td><code>{}</code></td><td style="white-space:pre-line">{}</td>'
                '<td style="white-space:pre-line"><strong>{}</strong></td></tr>',
                rows,
            ),
        )


def _display(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


# --- public listing, intents, auctions (read-only) ---------------------------------------------------------------


class IntentInline(ReadOnlyInline):
    model = Intent
    fields = ("organization", "submitted_by", "message", "created_at")
    readonly_fields = fields


@admin.register(PublicListing)
class PublicListingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("listing", "status", "floor_price", "increment", "starts_at", "ends_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("listing__title", "listing__owner__name")
    list_select_related = ("listing",)
    date_hierarchy = "starts_at"
    inlines = [IntentInline]


@admin.register(Intent)
class IntentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_listing", "organization", "submitted_by", "created_at")
    search_fields = ("public_listing__listing__title", "organization__name")
    list_select_related = ("public_listing__listing", "organization", "submitted_by")


class AuctionBidderInline(ReadOnlyInline):
    model = AuctionBidder
    fields = ("paddle", "organization", "accepted_by", "terms_sha256", "created_at")
    readonly_fields = fields
    fk_name = "auction"


@admin.register(Auction)
class AuctionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "status", "reserve", "price", "leader", "bid_count", "starts_at", "ends_at")
    list_filter = ("status",)
    search_fields = ("public_listing__listing__title",)
    list_select_related = ("public_listing__listing", "leader")
    inlines = [AuctionBidderInline]

    def get_fields(self, request, obj=None):
        fields = [f.name for f in Auction._meta.fields if f.name != "id"]
        if obj is not None and obj.status in OPEN_AUCTION:
            fields.remove("leader_max")  # the leader's proxy maximum is secret until the close
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


@admin.register(AuctionBidder)
class AuctionBidderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("auction", "paddle", "organization", "accepted_by", "created_at")
    search_fields = ("organization__name", "auction__public_listing__listing__title")
    list_select_related = ("auction__public_listing__listing", "organization", "accepted_by")


@admin.register(Bid)
class BidAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bids in the order they were applied. The maximum shows only once the auction is closed."""

    list_display = (
        "auction",
        "sequence",
        "bidder",
        "maximum_shown",
        "price_after",
        "leader_after",
        "placed_at",
    )
    list_filter = ("auction__status",)
    search_fields = ("auction__public_listing__listing__title", "client_token")
    list_select_related = ("auction__public_listing__listing", "bidder", "leader_after")
    ordering = ("-placed_at", "-sequence")

    @admin.display(description=_("maximum"))
    def maximum_shown(self, obj):
        return HIDDEN if obj.auction.status in OPEN_AUCTION else obj.maximum

    def get_fields(self, request, obj=None):
        fields = [f.name for f in Bid._meta.fields if f.name != "id"]
        if obj is None or obj.auction.status in OPEN_AUCTION:
            fields[fields.index("maximum")] = "maximum_shown"
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


@admin.register(Deal)
class DealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("listing", "buyer", "price", "via", "concluded_at")
    list_filter = ("via",)
    search_fields = ("listing__title", "buyer__name", "listing__owner__name")
    list_select_related = ("listing", "buyer")
    date_hierarchy = "concluded_at"


# --- publicity and objections ------------------------------------------------------------------------------------


class ObjectionInline(ReadOnlyInline):
    model = Objection
    fields = ("text", "filed_by", "status", "resolution", "resolved_by", "created_at")
    readonly_fields = fields


@admin.register(Publicity)
class PublicityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "deal",
        "status",
        "starts_at",
        "ends_at",
        "certificate_code",
        "certified_at",
        "objection_total",
    )
    list_filter = ("status",)
    search_fields = ("deal__listing__title", "certificate_code", "deal__buyer__name")
    list_select_related = ("deal__listing",)
    inlines = [ObjectionInline]

    @admin.display(description=_("objections"))
    def objection_total(self, obj):
        return obj.objections.count()

    @admin.display(description=_("certificate"))
    def certificate_link(self, obj):
        if not obj.certificate_code:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">PDF</a>',
            reverse("listings:certificate", kwargs={"pk": obj.pk}),
        )

    def get_fields(self, request, obj=None):
        return [*(f.name for f in Publicity._meta.fields if f.name != "id"), "certificate_link"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


@admin.register(Objection)
class ObjectionAdmin(DecisionAdminMixin, admin.ModelAdmin):
    """Objections to publicity notices: uphold (the notice is cancelled) or dismiss, always with the reason."""

    list_display = (
        "short_text",
        "publicity",
        "filed_by",
        "status",
        "created_at",
        "resolved_by",
        "resolved_at",
    )
    list_filter = ("status",)
    search_fields = ("text", "publicity__deal__listing__title", "filed_by__username")
    list_select_related = ("publicity__deal__listing", "filed_by", "resolved_by")
    fields = (
        "publicity",
        "filed_by",
        "text",
        "status",
        "resolution",
        "resolved_by",
        "resolved_at",
        "created_at",
    )
    readonly_fields = fields
    decisions = {
        "uphold": (
            _("Uphold the selected objections (cancels the publicity)"),
            True,
            (Objection.Status.PENDING,),
            lambda obj, actor, reason: services.objection_resolve(
                objection=obj, actor=actor, uphold=True, resolution=reason
            ),
        ),
        "dismiss": (
            _("Dismiss the selected objections"),
            True,
            (Objection.Status.PENDING,),
            lambda obj, actor, reason: services.objection_resolve(
                objection=obj, actor=actor, uphold=False, resolution=reason
            ),
        ),
    }

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("objection"))
    def short_text(self, obj):
        return obj.text[:60]
