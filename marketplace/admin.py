"""Django admin of the core: where administrators review organizations (SPEC §3).

Status changes go only through ``services.organization_decide`` (bulk actions with a mandatory reason on an
intermediate page), so each one is guarded, audited and notified. Memberships, invitations, join requests,
notifications and the audit log are shown read-only: they change through their services on the website/API.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from marketplace import selectors
from marketplace.exceptions import ApplicationError
from marketplace.models import (
    AuditLog,
    Classification,
    CredentialDocument,
    Invitation,
    JoinRequest,
    Membership,
    Notification,
    Organization,
    PlatformKpiSnapshot,
    Region,
    SubMarket,
    TechnologyField,
    User,
)
from marketplace.services import DECISIONS, audit_log, organization_decide
from marketplace.validators import validate_credit_code

admin.site.site_header = _("Online Technology Market administration")
admin.site.site_title = _("Technology Market admin")
admin.site.index_title = _("Administration")


class ReadOnlyAdminMixin:
    """Visible to staff with the view permission; changed only through services, never here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _local(value):
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


# --- users -------------------------------------------------------------------------------------------------


class MarketplaceUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class MarketplaceUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


def timestamp_set_filter(field: str, title, parameter: str) -> type[admin.SimpleListFilter]:
    """A yes/no list filter on whether a nullable timestamp (``email_verified_at``, ``read_at``) is set."""

    class TimestampSetFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return [("yes", _("Yes")), ("no", _("No"))]

        def queryset(self, request, queryset):
            if self.value() in ("yes", "no"):
                return queryset.filter(**{f"{field}__isnull": self.value() == "no"})
            return queryset

    TimestampSetFilter.title = title
    TimestampSetFilter.parameter_name = parameter
    return TimestampSetFilter


EmailVerifiedListFilter = timestamp_set_filter("email_verified_at", _("e-mail verified"), "email_verified")
ReadListFilter = timestamp_set_filter("read_at", _("read"), "read")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = MarketplaceUserChangeForm
    add_form = MarketplaceUserCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "email", "email_verified_at", "phone")}),
        *BaseUserAdmin.fieldsets[2:],  # permissions, important dates
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = (
        "username",
        "email",
        "full_name",
        "email_verified",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = (EmailVerifiedListFilter, "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "email", "full_name", "phone")
    ordering = ("-date_joined",)

    @admin.display(description=_("e-mail verified"), boolean=True, ordering="email_verified_at")
    def email_verified(self, obj):
        return obj.is_email_verified


# --- organizations -----------------------------------------------------------------------------------------


class ProvinceListFilter(admin.SimpleListFilter):
    """A province also selects the organizations registered in its cities."""

    title = _("province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        return [(region.code, region.name) for region in Region.objects.filter(parent__isnull=True)]

    def queryset(self, request, queryset):
        if value := self.value():
            return queryset.filter(Q(region_id=value) | Q(region__parent_id=value))
        return queryset


def _document_link(document):
    # The website's download view: never a public /media/ URL, members of the organization and staff only.
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>',
        reverse("organizations:document_download", kwargs={"document_id": document.pk}),
        document.original_name,
    )


class CredentialDocumentInline(admin.TabularInline):
    model = CredentialDocument
    fields = ("kind", "file_link", "content_type", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def file_link(self, obj):
        return _document_link(obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "title", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrganizationAdminForm(forms.ModelForm):
    # Declared to pick the scheme Django 6 will assume (and to silence the Django 5 deprecation warning).
    website = forms.URLField(
        label=Organization._meta.get_field("website").verbose_name,
        max_length=200,
        required=False,
        assume_scheme="https",
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "short_name",
            "org_type",
            "credit_code",
            "region",
            "address",
            "website",
            "description",
            "fields",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]

    def clean_credit_code(self):
        code = (self.cleaned_data.get("credit_code") or "").strip()
        if not code:
            return None  # NULL, not "": the unique constraint allows many organizations without a code
        try:
            return validate_credit_code(code)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_(
            "Required. The applicant receives it by e-mail and on the website; it is kept in the audit log."
        ),
    )


DECISION_LABELS = {
    "approve": _("Approve (verify) the selected organizations"),
    "reject": _("Reject the selected organizations"),
    "request_documents": _("Request more documents from the selected organizations"),
    "suspend": _("Suspend the selected organizations"),
    "reinstate": _("Reinstate the selected organizations"),
}


def _decision_action(decision: str):
    def action(modeladmin, request, queryset):
        return modeladmin.decide(request, queryset, decision)

    action.__name__ = decision  # the name posted by the action form
    return admin.action(description=DECISION_LABELS[decision], permissions=["change"])(action)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ("name", "org_type", "credit_code", "region", "status", "created_at", "verified_at")
    list_filter = ("status", "org_type", ProvinceListFilter)
    search_fields = ("name", "short_name", "credit_code", "contact_email")
    list_select_related = ("region",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    filter_horizontal = ("fields",)
    readonly_fields = (
        "status",
        "status_reason",
        "status_changed_at",
        "verified_at",
        "imported_at",
        "created_by",
        "created_at",
        "updated_at",
        "audit_history",
    )
    fieldsets = (
        (_("Identity"), {"fields": ("name", "short_name", "org_type", "credit_code", "region")}),
        (_("Profile"), {"fields": ("address", "website", "description", "fields")}),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        (
            _("Verification"),
            {
                "description": _("The status changes only through the actions of the organization list."),
                "fields": (
                    "status",
                    "status_reason",
                    "status_changed_at",
                    "verified_at",
                    "imported_at",
                    "created_by",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
        (_("Audit history"), {"fields": ("audit_history",)}),
    )
    inlines = [CredentialDocumentInline, MembershipInline]
    actions = [_decision_action(decision) for decision in DECISIONS]

    def has_add_permission(self, request):
        # Organizations register themselves (website or API) so that the registrant becomes their admin.
        return False

    def has_delete_permission(self, request, obj=None):
        # Reject or suspend instead: contracts, demands and the audit log refer to organizations.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The admin's change view runs in a transaction, so the edit and its audit entry land together.
        audit_log(
            actor=request.user,
            action="organization.admin_edit",
            target=obj,
            data={"fields": sorted(form.changed_data)},
        )

    @admin.display(description=_("Audit history"))
    def audit_history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        entries = list(selectors.organization_history(organization=obj)[:100])
        if not entries:
            return gettext("No entries yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            ((_local(e.created_at), e.action, e.actor or "—", e.reason or "") for e in entries),
        )
        link = (
            reverse("admin:marketplace_auditlog_changelist")
            + "?"
            + urlencode({"target_type": "marketplace.organization", "target_id": str(obj.pk)})
        )
        return format_html(
            '<table class="audit-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            gettext("When"),
            gettext("Action"),
            gettext("By"),
            gettext("Reason"),
            rows,
            link,
            gettext("Open in the audit log"),
        )

    def decide(self, request, queryset, decision: str):
        """Ask for the reason on an intermediate page, then decide each organization on its own.

        Each decision is its own transaction (inside ``organization_decide``): one organization in the wrong
        state is refused and reported without undoing the others.
        """
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            decided, refused = [], []
            for organization in queryset:
                try:
                    organization_decide(
                        organization=organization,
                        decision=decision,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as exc:
                    refused.append(str(exc))
                else:
                    decided.append(organization.name)
            if decided:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d organization decided: %(names)s.",
                        "%(count)d organizations decided: %(names)s.",
                        len(decided),
                    )
                    % {"count": len(decided), "names": ", ".join(decided)},
                    messages.SUCCESS,
                )
            for message in refused:
                self.message_user(request, message, messages.ERROR)
            return None  # back to the change list

        rule = DECISIONS[decision]
        organizations = list(queryset.select_related("region"))
        context = {
            **self.admin_site.each_context(request),
            "title": DECISION_LABELS[decision],
            "opts": self.model._meta,
            "decision": decision,
            "form": form,
            "rows": [(org, org.status in rule.sources) for org in organizations],
            "refused_count": sum(org.status not in rule.sources for org in organizations),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/marketplace/organization/decide.html", context)


@admin.register(CredentialDocument)
class CredentialDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("organization", "kind", "file_link", "content_type", "size", "uploaded_by", "created_at")
    list_filter = ("kind", "content_type")
    search_fields = ("organization__name", "original_name", "sha256")
    list_select_related = ("organization", "uploaded_by")
    exclude = ("file",)
    readonly_fields = ("file_link",)

    @admin.display(description=_("file"))
    def file_link(self, obj):
        return _document_link(obj)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "organization", "role", "title", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "user__full_name", "organization__name")
    list_select_related = ("user", "organization")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("email", "organization", "role", "status", "invited_by", "expires_at", "created_at")
    list_filter = ("status", "role")
    search_fields = ("email", "organization__name")
    list_select_related = ("organization", "invited_by")
    exclude = ("token",)  # the secret of the e-mailed link


@admin.register(JoinRequest)
class JoinRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "organization", "status", "decided_by", "decided_at", "created_at")
    list_filter = ("status",)
    search_fields = ("user__username", "user__email", "organization__name")
    list_select_related = ("user", "organization", "decided_by")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "user", "created_at", "read_at", "send_email", "emailed_at")
    list_filter = (ReadListFilter, "send_email", ("emailed_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "user__username", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only: nobody adds, edits or deletes entries here."""

    list_display = ("created_at", "action", "actor", "target_type", "target_repr", "short_reason")
    list_filter = ("action", "target_type")
    search_fields = ("target_repr", "target_id", "reason", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"

    @admin.display(description=_("reason"))
    def short_reason(self, obj):
        return Truncator(obj.reason).chars(80)


# --- reference data (loaded by migrations from marketplace.taxonomy / regions.json; edited in code) --------


@admin.register(Region)
class RegionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("parent",)
    list_per_page = 100


@admin.register(TechnologyField)
class TechnologyFieldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "parent", "sort_order")
    list_filter = (("parent", admin.EmptyFieldListFilter),)
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("parent",)
    list_per_page = 100


@admin.register(Classification)
class ClassificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("scheme", "code", "name_zh", "name_en", "sort_order")
    list_filter = ("scheme",)
    search_fields = ("scheme", "code", "name_zh", "name_en")
    list_per_page = 100


# --- platform statistics -------------------------------------------------------------------------------------


@admin.register(SubMarket)
class SubMarketAdmin(admin.ModelAdmin):
    """Specialised sub-markets: their records are those of their region and fields, so the figures of a new one
    include its history from the next recomputation on."""

    list_display = ("slug", "name_zh", "name_en", "region", "is_active")
    list_filter = ("is_active",)
    search_fields = ("slug", "name_zh", "name_en")
    list_select_related = ("region",)
    autocomplete_fields = ("region", "operator")
    filter_horizontal = ("fields",)


@admin.register(PlatformKpiSnapshot)
class PlatformKpiSnapshotAdmin(admin.ModelAdmin):
    """Stored platform figures; staff recompute them on demand (the hourly job refreshes them anyway)."""

    list_display = ("scope", "computed_at", "seconds")
    readonly_fields = ("scope", "computed_at", "seconds", "data")
    actions = ["recompute"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Recompute the platform figures (in the background)"))
    def recompute(self, request, queryset):
        from django.db import transaction

        from marketplace.tasks import platform_kpis_task

        transaction.on_commit(platform_kpis_task.delay)
        self.message_user(request, gettext("The platform figures are being recomputed."))
