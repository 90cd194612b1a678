"""Django admin of the registration statistics: registrations, GDP figures and the CSV imports behind them.

Registrations are read-only here: they come from imports (and, later, from contracts registered on the
platform), and an import is the way to correct one. Registration officers (staff holding the add and change
permissions of the records, ``services.import_permitted``) upload a CSV file from the list page; a small file
is imported within the request and its report shown, a large one is queued to Celery and its report appears on
the import's page once done. The rejected rows are downloaded through a permission-checked view, never from
``/media/``.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contracts import services
from contracts.models import (
    NATIONAL_REGION_CODE,
    AnnualReport,
    GdpFigure,
    ImportKind,
    ImportRun,
    Registration,
)
from contracts.registry import GDP_COLUMNS, REGISTRATION_COLUMNS
from marketplace.exceptions import ApplicationError
from marketplace.models import Region


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma-separated, with a header row."))
    strict = forms.BooleanField(
        label=_("Strict"), required=False, help_text=_("Import nothing if any row is invalid.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith((".csv", ".txt")):
            raise ValidationError(_("Upload a .csv file."))
        return upload


class ImportUploadMixin:
    """An "Import CSV" page on the list of a model filled by imports of ``import_kind``."""

    import_kind: str
    import_columns: tuple[str, ...]

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name=f"{opts.app_label}_{opts.model_name}_import",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": services.import_permitted(user=request.user, kind=self.import_kind),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not services.import_permitted(user=request.user, kind=self.import_kind):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.import_run_create(
                    kind=self.import_kind,
                    upload=form.cleaned_data["file"],
                    strict=form.cleaned_data["strict"],
                    uploaded_by=request.user,
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                if run.is_finished:
                    messages.info(request, gettext("Import finished: %(summary)s") % {"summary": run.message})
                else:
                    messages.info(
                        request,
                        gettext(
                            "The file is being imported in the background; this page shows its report when done."
                        ),
                    )
                return redirect("admin:contracts_importrun_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import %(things)s from CSV") % {"things": self.model._meta.verbose_name_plural},
            "opts": self.model._meta,
            "form": form,
            "columns": self.import_columns,
            "inline_limit_kb": settings.IMPORT_INLINE_MAX_BYTES // 1024,
        }
        return TemplateResponse(request, "admin/contracts/import.html", context)


class RegisteredYearFilter(admin.SimpleListFilter):
    title = _("year registered")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        # The bounds come from the registered_on index; every year in between is offered.
        bounds = Registration.objects.aggregate(first=Min("registered_on"), last=Max("registered_on"))
        if bounds["first"] is None:
            return []
        return [(str(year), str(year)) for year in range(bounds["last"].year, bounds["first"].year - 1, -1)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(registered_on__year=int(value))
        return queryset


def _province_filter(field: str, title) -> type[admin.SimpleListFilter]:
    class ProvinceFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            provinces = Region.objects.filter(parent__isnull=True).order_by("code")
            return [(region.code, f"{region.code} {region.name}") for region in provinces]

        def queryset(self, request, queryset):
            if value := self.value():
                return queryset.filter(**{f"{field}_id": value})
            return queryset

    ProvinceFilter.title = title
    return ProvinceFilter


@admin.register(Registration)
class RegistrationAdmin(ImportUploadMixin, admin.ModelAdmin):
    import_kind = ImportKind.REGISTRATIONS
    import_columns = REGISTRATION_COLUMNS
    change_list_template = "admin/contracts/import_change_list.html"
    list_display = (
        "registration_no",
        "registered_on",
        "contract_type",
        "title",
        "seller_name",
        "seller_province",
        "buyer_province",
        "total_amount",
        "technology_amount",
        "source",
    )
    list_filter = (
        RegisteredYearFilter,
        "contract_type",
        _province_filter("seller_province", _("seller province")),
        _province_filter("buyer_province", _("buyer province")),
        "source",
    )
    list_select_related = ("seller_province", "buyer_province")
    # Exact: the unique index answers it; a LIKE would scan a national table.
    search_fields = ("=registration_no",)
    search_help_text = _("Search by registration number (exact).")
    # A million rows a year: no count of the whole table under the filtered count.
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = (
        "registration_no",
        "registered_on",
        "contract_type",
        "title",
        "seller_name",
        "seller_type",
        "seller_region",
        "seller_province",
        "buyer_name",
        "buyer_type",
        "buyer_region",
        "buyer_province",
        "total_amount",
        "technology_amount",
        "field",
        "sub_field",
        "objective",
        "plan_level",
        "source",
        "imported_at",
        "platform_contract_id",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewable (with the view or change permission), never edited here: an import corrects a registration.
        return False


class GdpFigureForm(forms.ModelForm):
    class Meta:
        model = GdpFigure
        fields = ("year", "region", "gdp_yuan")

    def clean_region(self):
        region = self.cleaned_data["region"].strip()
        if (
            region != NATIONAL_REGION_CODE
            and not Region.objects.filter(code=region, level=Region.Level.PROVINCE).exists()
        ):
            raise ValidationError(_("Enter the code of a province-level division, or 000000 for the nation."))
        return region


@admin.register(GdpFigure)
class GdpFigureAdmin(ImportUploadMixin, admin.ModelAdmin):
    import_kind = ImportKind.GDP
    import_columns = GDP_COLUMNS
    change_list_template = "admin/contracts/import_change_list.html"
    form = GdpFigureForm
    list_display = ("year", "region", "region_name", "gdp_yuan", "updated_at")
    list_filter = ("year",)
    search_fields = ("=region", "=year")
    ordering = ("-year", "region")

    @admin.display(description=_("region name"))
    def region_name(self, figure):
        if figure.region == NATIONAL_REGION_CODE:
            return gettext("National total")
        region = Region.objects.filter(code=figure.region).first()
        return region.name if region else "—"


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """The imports and their reports; visible to those who may import that kind of records."""

    change_form_template = "admin/contracts/importrun/change_form.html"
    list_display = (
        "created_at",
        "kind",
        "source_name",
        "status",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "uploaded_by",
    )
    list_filter = ("kind", "status")
    list_select_related = ("uploaded_by",)
    fields = (
        "kind",
        "source_name",
        "size",
        "strict",
        "status",
        "message",
        "uploaded_by",
        "created_at",
        "started_at",
        "finished_at",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "rejects_link",
    )
    readonly_fields = fields

    def _kinds(self, request) -> list[str]:
        return [kind for kind in ImportKind.values if services.import_permitted(user=request.user, kind=kind)]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind__in=self._kinds(request))

    def has_module_permission(self, request):
        return bool(self._kinds(request))

    def has_view_permission(self, request, obj=None):
        kinds = self._kinds(request)
        return obj.kind in kinds if obj is not None else bool(kinds)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:run_id>/rejects/",
                self.admin_site.admin_view(self.rejects_view),
                name="contracts_importrun_rejects",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("rejected rows"))
    def rejects_link(self, run):
        if not run.rejects_file:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:contracts_importrun_rejects", args=[run.pk]),
            gettext("Download the rejected rows (CSV, with line and reason)"),
        )

    def rejects_view(self, request, run_id: int):
        run = get_object_or_404(ImportRun, pk=run_id)
        if not services.import_permitted(user=request.user, kind=run.kind):
            raise PermissionDenied
        if not run.rejects_file:
            raise Http404
        name = f"{run.source_name.rsplit('.', 1)[0]}-rejects.csv"
        return FileResponse(
            run.rejects_file.open("rb"), as_attachment=True, filename=name, content_type="text/csv"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "import_errors": run.errors if run else [], "run": run}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AnnualReport)
class AnnualReportAdmin(admin.ModelAdmin):
    """Stored annual reports; staff recompute one on demand (the nightly job refreshes them anyway)."""

    list_display = ["year", "registrations", "computed_at", "seconds"]
    readonly_fields = ["year", "registrations", "computed_at", "seconds", "data"]
    actions = ["recompute"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Recompute the selected reports (in the background)"))
    def recompute(self, request, queryset):
        from contracts.tasks import annual_report_task

        years = list(queryset.values_list("year", flat=True))
        for year in years:
            transaction.on_commit(lambda year=year: annual_report_task.delay(year))
        self.message_user(
            request, gettext("%(count)d report(s) queued for recomputation.") % {"count": len(years)}
        )
