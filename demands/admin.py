"""Django admin of the demands app: the review queue (信息审核) of new and edited demands (SPEC §4).

Every change goes through ``demands.services``: reviewers publish or reject demands (``demand_review``) and
approve or reject pending edits (``demand_revision_review``) with bulk actions whose intermediate page lists
what will be refused and asks for the reason (mandatory for a rejection; the owner sees it). Each object is
decided in its own transaction, so one refusal never undoes the others, and every refusal is reported.

The change pages are read-only. There is no service for staff edits of a demand's content, and editing the
mode, deadline, owner or NDA here would let anyone with admin access open sealed bids early or expose the
confidential details; owners edit their demands, reviewers decide on the edits.

Proposals, NDA acceptances and questions are read-only lists. While a tender is sealed the admin shows
"sealed" instead of a bid's approach, price, duration, team and attachments — the staff must not see a bid
before the owner does — and never offers those fields for search, filtering or ordering.
"""

import difflib
from datetime import datetime
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from demands import services
from demands.models import (
    Demand,
    DemandAttachment,
    DemandRevision,
    DemandStatus,
    NdaAcceptance,
    Proposal,
    ProposalReceipt,
    Question,
)
from marketplace.admin import ProvinceListFilter, ReadOnlyAdminMixin
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Region, TechnologyField

SEALED = _("sealed until the deadline")


def _local(value):
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


class ViewOnlyObjectsMixin:
    """Change pages are view-only, while the change list keeps its (permission ``change``) actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)


class DefaultQueueFilter(admin.SimpleListFilter):
    """A list filter that opens on the review queue (``default``) when the list is opened bare, but shows
    everything as soon as the reviewer searches or filters otherwise, so a search is never silently
    narrowed to the queue. Its choices carry their counts."""

    default = "pending"

    def __init__(self, request, params, model, model_admin):
        # Only a bare GET opens on the queue: an action's POST acts on exactly the rows that were ticked, so
        # one that left the queue meanwhile is reported as refused rather than silently dropped.
        self._bare = request.method == "GET" and not (set(request.GET) - {self.parameter_name})
        super().__init__(request, params, model, model_admin)

    def value(self):
        value = super().value()
        if value is None:
            return self.default if self._bare else "all"
        return value

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 5, "cols": 80}))

    def __init__(self, *args, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = reason_required
        if reason_required:
            field.help_text = _(
                "Required. The owner receives it by e-mail and on the website; it is kept in the audit log."
            )
        else:
            field.label = _("Note (optional)")
            field.help_text = _("Kept with the decision in the audit log and sent to the owner.")


class ReviewActionsMixin:
    """Bulk approve/reject through an intermediate page, like the organization decisions of the core admin."""

    review_labels: dict  # {"approve": label, "reject": label}

    def review_one(self, obj, *, actor, approve: bool, reason: str):
        raise NotImplementedError

    def review_preview(self, obj, *, approve: bool):
        """(cells, refusal or None, extra html) for the intermediate page; the service decides for real."""
        raise NotImplementedError

    review_columns: tuple = ()

    def review(self, request, queryset, *, approve: bool):
        decision = "approve" if approve else "reject"
        form = ReasonForm(request.POST if "apply" in request.POST else None, reason_required=not approve)
        if form.is_bound and form.is_valid():
            decided, refused = [], []
            for obj in queryset:
                try:
                    self.review_one(
                        obj, actor=request.user, approve=approve, reason=form.cleaned_data["reason"]
                    )
                except ApplicationError as exc:
                    refused.append(f"{obj}: {exc}")
                except ValidationError as exc:  # an edit that no longer passes the rules (a past deadline)
                    refused.append(f"{obj}: {' '.join(exc.messages)}")
                else:
                    decided.append(str(obj))
            if decided:
                self.message_user(
                    request,
                    ngettext("%(count)d decided: %(names)s.", "%(count)d decided: %(names)s.", len(decided))
                    % {"count": len(decided), "names": "; ".join(decided)},
                    messages.SUCCESS,
                )
            for message in refused:
                self.message_user(request, message, messages.ERROR)
            return None  # back to the change list

        rows = []
        for obj in queryset:
            cells, refusal, extra = self.review_preview(obj, approve=approve)
            rows.append(
                {
                    "obj": obj,
                    "url": reverse(
                        f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]
                    ),
                    "cells": cells,
                    "refusal": refusal,
                    "extra": extra,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": self.review_labels[decision],
            "opts": self.model._meta,
            "decision": decision,
            "form": form,
            "columns": self.review_columns,
            "rows": rows,
            "refused_count": sum(row["refusal"] is not None for row in rows),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/demands/decide.html", context)

    @admin.action(description=_("Approve the selected items"), permissions=["change"])
    def approve(self, request, queryset):
        return self.review(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected items (with a reason)"), permissions=["change"])
    def reject(self, request, queryset):
        return self.review(request, queryset, approve=False)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Same functions, labels naming what is decided (demands / edits).
        for name in ("approve", "reject"):
            if name in actions:
                func, action_name, _description = actions[name]
                actions[name] = (func, action_name, self.review_labels[name])
        return actions


def _audit_history(obj):
    entries = list(
        AuditLog.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))
        .select_related("actor")
        .order_by("-created_at")[:100]
    )
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
        + urlencode({"target_type": obj._meta.label_lower, "target_id": str(obj.pk)})
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


# --- demands -----------------------------------------------------------------------------------------------


class DemandQueueFilter(DefaultQueueFilter):
    title = _("review queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        counts = Demand.objects.aggregate(
            pending=Count("pk", filter=Q(status=DemandStatus.PENDING_REVIEW)),
            edits=Count("pk", filter=Q(revisions__status=DemandRevision.Status.PENDING), distinct=True),
        )
        return [
            ("pending", _("Waiting for review (%(count)d)") % {"count": counts["pending"]}),
            ("edits", _("With an edit waiting for review (%(count)d)") % {"count": counts["edits"]}),
            ("all", _("All demands")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(status=DemandStatus.PENDING_REVIEW)
        if self.value() == "edits":
            # At most one pending revision per demand (a partial unique constraint): no duplicates.
            return queryset.filter(revisions__status=DemandRevision.Status.PENDING)
        return queryset


class DemandAttachmentInline(admin.TabularInline):
    model = DemandAttachment
    fields = ("file_link", "content_type", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def file_link(self, obj):
        # The website's download view, which applies the confidentiality rule (staff may read).
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("demands:attachment_download", kwargs={"attachment_id": obj.pk}),
            obj.original_name,
        )


@admin.register(Demand)
class DemandAdmin(ReviewActionsMixin, ViewOnlyObjectsMixin, admin.ModelAdmin):
    list_display = ("title", "owner", "field", "region", "mode", "status", "deadline", "submitted_at")
    list_filter = (
        DemandQueueFilter,
        "status",
        "mode",
        ("field", admin.RelatedOnlyFieldListFilter),
        ProvinceListFilter,
    )
    search_fields = ("title", "summary", "owner__name", "external_ref")
    list_select_related = ("owner", "field", "region")
    raw_id_fields = ("owner", "created_by")
    date_hierarchy = "created_at"
    actions = ["approve", "reject"]
    review_labels = {
        "approve": _("Publish the selected demands"),
        "reject": _("Reject the selected demands"),
    }
    review_columns = (_("Demand"), _("Owner"), _("Mode"), _("Deadline"), _("Current status"))
    fieldsets = (
        (
            _("Public"),
            {
                "fields": (
                    "title",
                    "summary",
                    "owner",
                    "created_by",
                    "field",
                    "sub_field",
                    "region",
                    "cooperation_mode",
                    "budget",
                    "deadline",
                    "mode",
                    "award_amount",
                    "max_winners",
                    "contact_policy",
                    "external_ref",
                )
            },
        ),
        (_("Confidential"), {"fields": ("details", "nda_required", "nda_terms")}),
        (
            _("Review"),
            {
                "description": _("The status changes only through the actions of the demand list."),
                "fields": (
                    "status",
                    "status_reason",
                    "pending_edit",
                    "submitted_at",
                    "published_at",
                    "closed_at",
                    "awarded_at",
                    "finished_at",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
        (_("Audit history"), {"fields": ("audit_history",)}),
    )
    readonly_fields = ("budget", "pending_edit", "audit_history", "created_at", "updated_at")
    inlines = [DemandAttachmentInline]

    def get_ordering(self, request):
        # The queue is worked oldest first; the full list shows the newest first.
        if (
            not (set(request.GET) - {DemandQueueFilter.parameter_name})
            and request.GET.get(DemandQueueFilter.parameter_name, "pending") == "pending"
        ):
            return ("submitted_at", "id")
        return ("-created_at", "-id")

    @admin.display(description=_("budget"))
    def budget(self, obj):
        if obj.budget_negotiable or (obj.budget_min is None and obj.budget_max is None):
            return gettext("Negotiable")
        return f"{_yuan(obj.budget_min)} – {_yuan(obj.budget_max)}"

    @admin.display(description=_("edit waiting for review"))
    def pending_edit(self, obj):
        revision = obj.revisions.filter(status=DemandRevision.Status.PENDING).first()
        if revision is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:demands_demandrevision_change", args=[revision.pk]),
            gettext("Review the edit of %(when)s") % {"when": _local(revision.created_at)},
        )

    @admin.display(description=_("Audit history"))
    def audit_history(self, obj):
        return _audit_history(obj) if obj and obj.pk else "—"

    def review_one(self, obj, *, actor, approve, reason):
        services.demand_review(demand=obj, actor=actor, approve=approve, reason=reason)

    def review_preview(self, obj, *, approve):
        refusal = None
        if obj.status != DemandStatus.PENDING_REVIEW:
            refusal = gettext("not waiting for review")
        elif approve and obj.deadline <= timezone.now():
            refusal = gettext("the deadline has passed; the owner must set a new one")
        cells = [
            obj.title,
            obj.owner.name,
            obj.get_mode_display(),
            _local(obj.deadline),
            obj.get_status_display(),
        ]
        return cells, refusal, ""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "field", "region", "created_by")


def _yuan(amount) -> str:
    return "—" if amount is None else f"¥{amount:,.2f}"


# --- revisions: readable diff --------------------------------------------------------------------------------

TEXT_FIELDS = {"title", "summary", "details", "nda_terms"}


def _display_value(key: str, value) -> str:
    """A stored or proposed value as a reviewer reads it (codes resolved to names, money, local times)."""
    if value is None or value == "":
        return "—"
    if key in ("field", "sub_field"):
        code = value.pk if hasattr(value, "pk") else value
        row = TechnologyField.objects.filter(pk=code).first()
        return f"{row.name} ({code})" if row else str(code)
    if key == "region":
        code = value.pk if hasattr(value, "pk") else value
        row = Region.objects.filter(pk=code).select_related("parent").first()
        return f"{row.full_name} ({code})" if row else str(code)
    if key in ("budget_min", "budget_max", "award_amount"):
        return _yuan(Decimal(str(value)))
    if key == "deadline":
        moment = value if isinstance(value, datetime) else parse_datetime(str(value))
        return _local(moment) if moment else str(value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    model_field = Demand._meta.get_field(key)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _inline_diff(old: str, new: str):
    """Character-level diff (Chinese has no spaces between words): deletions struck, insertions marked."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    parts = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(old[a1:a2]))
        if op in ("delete", "replace"):
            parts.append(f'<del style="background:#fdd">{escape(old[a1:a2])}</del>')
        if op in ("insert", "replace"):
            parts.append(f'<ins style="background:#dfd">{escape(new[b1:b2])}</ins>')
    return mark_safe(f'<div style="white-space:pre-wrap">{"".join(parts)}</div>')  # every part escaped above


def revision_diff_rows(revision: DemandRevision) -> list[tuple]:
    """(label, current public value, proposed value) for every changed field; a changed text shows the
    proposed version with the deletions struck and the insertions marked."""
    demand = revision.demand
    rows = []
    for key, proposed in revision.changes.items():
        label = Demand._meta.get_field(key).verbose_name
        current = getattr(demand, key)
        if key in TEXT_FIELDS:
            rows.append((label, _pre(current or "—"), _inline_diff(current or "", proposed or "")))
        else:
            rows.append((label, _display_value(key, current), _display_value(key, proposed)))
    return rows


def revision_diff_table(revision: DemandRevision):
    body = format_html_join(
        "", '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>', revision_diff_rows(revision)
    )
    return format_html(
        '<table class="revision-diff"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        gettext("Field"),
        gettext("Current public version"),
        gettext("Proposed"),
        body,
    )


def _pre(value):
    return format_html('<div style="white-space:pre-wrap">{}</div>', value)


class RevisionQueueFilter(DefaultQueueFilter):
    title = _("review queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        pending = DemandRevision.objects.filter(status=DemandRevision.Status.PENDING).count()
        return [
            ("pending", _("Waiting for review (%(count)d)") % {"count": pending}),
            ("all", _("All edits")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(status=DemandRevision.Status.PENDING)
        return queryset


@admin.register(DemandRevision)
class DemandRevisionAdmin(ReviewActionsMixin, ViewOnlyObjectsMixin, admin.ModelAdmin):
    list_display = ("demand", "owner", "changed_fields", "status", "submitted_by", "created_at", "decided_at")
    list_filter = (RevisionQueueFilter, "status")
    search_fields = ("demand__title", "demand__owner__name", "demand__external_ref")
    list_select_related = ("demand", "demand__owner", "submitted_by")
    actions = ["approve", "reject"]
    review_labels = {
        "approve": _("Approve the selected edits (publish the changes)"),
        "reject": _("Reject the selected edits"),
    }
    review_columns = (_("Demand"), _("Owner"), _("Changed"), _("Submitted"), _("Current status"))
    fields = (
        "demand",
        "owner",
        "status",
        "submitted_by",
        "created_at",
        "diff",
        "decided_by",
        "decided_at",
        "reason",
    )
    readonly_fields = fields

    def get_ordering(self, request):
        return ("created_at", "id")

    @admin.display(description=_("owner"))
    def owner(self, obj):
        return obj.demand.owner

    @admin.display(description=_("changed fields"))
    def changed_fields(self, obj):
        return ", ".join(str(Demand._meta.get_field(key).verbose_name) for key in obj.changes)

    @admin.display(description=_("changes against the current public version"))
    def diff(self, obj):
        return revision_diff_table(obj)

    def review_one(self, obj, *, actor, approve, reason):
        services.demand_revision_review(revision=obj, actor=actor, approve=approve, reason=reason)

    def review_preview(self, obj, *, approve):
        refusal = None
        if obj.status != DemandRevision.Status.PENDING:
            refusal = gettext("not waiting for review")
        elif approve and obj.demand.status != DemandStatus.PUBLISHED:
            refusal = gettext("the demand is no longer published")
        cells = [
            obj.demand.title,
            obj.demand.owner.name,
            self.changed_fields(obj),
            _local(obj.created_at),
            obj.get_status_display(),
        ]
        return cells, refusal, revision_diff_table(obj)


# --- proposals, NDA acceptances, questions (read-only) -------------------------------------------------------


class ProposalReceiptInline(admin.TabularInline):
    model = ProposalReceipt
    fields = ("version", "commitment", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _sealed_or(getter, description):
    @admin.display(description=description)
    def display(self, obj):
        if obj.demand.is_sealed:
            return SEALED
        return getter(obj)

    return display


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only. The bid's content is replaced by "sealed" while its tender is sealed; the nonce never shows."""

    list_display = ("__str__", "demand", "supplier", "status", "version", "price_shown", "submitted_at")
    list_filter = ("status", "demand__mode")
    # Only names: searching the approach or team would reveal sealed content through the hits.
    search_fields = ("demand__title", "supplier__name")
    list_select_related = ("demand", "supplier")
    fields = (
        "demand",
        "supplier",
        "submitted_by",
        "status",
        "version",
        "commitment",
        "submitted_at",
        "approach_shown",
        "price_shown",
        "duration_shown",
        "team_shown",
        "attachments_shown",
        "decided_at",
        "rejection_reason",
        "rejection_note",
        "owner_responded_at",
        "reminder_sent_at",
    )
    readonly_fields = fields
    inlines = [ProposalReceiptInline]

    approach_shown = _sealed_or(lambda p: _pre(p.approach), _("technical approach"))
    price_shown = _sealed_or(
        lambda p: gettext("Negotiable") if p.price is None else _yuan(p.price), _("price (yuan)")
    )
    duration_shown = _sealed_or(lambda p: p.duration_days, _("duration (days)"))
    team_shown = _sealed_or(lambda p: _pre(p.team or "—"), _("team"))
    attachments_shown = _sealed_or(
        lambda p: ", ".join(f"{a.original_name} ({a.sha256[:12]}…)" for a in p.attachments.all()) or "—",
        _("attachments"),
    )


@admin.register(NdaAcceptance)
class NdaAcceptanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("demand", "organization", "accepted_by", "terms_sha256", "created_at")
    search_fields = ("demand__title", "organization__name", "accepted_by__username")
    list_select_related = ("demand", "organization", "accepted_by")
    date_hierarchy = "created_at"


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "demand", "organization", "asked_by", "answered", "created_at")
    list_filter = (("answered_at", admin.EmptyFieldListFilter),)
    search_fields = ("text", "answer", "demand__title", "organization__name")
    list_select_related = ("demand", "organization", "asked_by")
    date_hierarchy = "created_at"

    @admin.display(description=_("answered"), boolean=True, ordering="answered_at")
    def answered(self, obj):
        return obj.answered_at is not None
