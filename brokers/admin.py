"""Django admin of the matching engine: the expert registry (vetting), users' subscriptions (pause, resume),
and read-only views of what the engine computed (matches, rebuild runs) for the platform's staff to inspect."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from brokers import services
from brokers.models import DemandMatch, Expert, ListingMatch, RebuildRun, Subscription
from marketplace.exceptions import ApplicationError


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "organization", "field", "region", "status", "updated_at"]
    list_filter = ["status", "field"]
    search_fields = ["name", "expertise", "organization__name"]
    autocomplete_fields = ["organization", "user"]
    readonly_fields = ["created_at", "updated_at"]
    exclude = ["text_hash", "terms"]
    actions = ["vet", "suspend"]

    @admin.action(description=_("Vet the selected experts"))
    def vet(self, request, queryset):
        self._set_status(request, queryset, Expert.Status.VETTED)

    @admin.action(description=_("Suspend the selected experts"))
    def suspend(self, request, queryset):
        self._set_status(request, queryset, Expert.Status.SUSPENDED)

    def _set_status(self, request, queryset, status):
        changed = queryset.exclude(status=status).update(status=status)
        self.message_user(
            request,
            ngettext("%(count)d expert changed.", "%(count)d experts changed.", changed) % {"count": changed},
            messages.SUCCESS,
        )


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Users write their subscriptions (website, API) through ``brokers.services``; staff look at them, pause
    or resume them (through the same services) and may delete them, but do not edit their criteria."""

    list_display = ["user", "name", "kind", "keywords", "is_active", "updated_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["user__username", "user__email", "keywords"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    actions = ["pause", "resume"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Pause the selected subscriptions"), permissions=["view"])
    def pause(self, request, queryset):
        self._apply(request, queryset.filter(is_active=True), services.subscription_pause)

    @admin.action(description=_("Resume the selected subscriptions"), permissions=["view"])
    def resume(self, request, queryset):
        self._apply(request, queryset.filter(is_active=False), services.subscription_resume)

    def _apply(self, request, queryset, change):
        changed = 0
        for subscription in queryset:
            try:
                change(subscription=subscription)
            except ApplicationError:  # changed meanwhile by its user
                continue
            changed += 1
        self.message_user(
            request,
            ngettext("%(count)d subscription changed.", "%(count)d subscriptions changed.", changed)
            % {"count": changed},
            messages.SUCCESS,
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ListingMatch)
class ListingMatchAdmin(ReadOnlyAdmin):
    list_display = ["demand", "rank", "listing", "score", "computed_at"]
    search_fields = ["demand__title", "listing__title"]
    list_select_related = ["demand", "listing"]


@admin.register(DemandMatch)
class DemandMatchAdmin(ReadOnlyAdmin):
    list_display = ["listing", "rank", "demand", "score", "computed_at"]
    search_fields = ["demand__title", "listing__title"]
    list_select_related = ["demand", "listing"]


@admin.register(RebuildRun)
class RebuildRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "phase", "chunk_size", "started_at", "finished_at"]
