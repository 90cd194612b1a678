"""Website forms of the demands app: they check shape and types; ``demands.services`` decides the rules."""

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from demands.models import PUBLIC_STATUSES, Demand, RejectionReason
from marketplace.forms import region_choices
from marketplace.models import TechnologyField
from marketplace.taxonomy import CooperationMode
from marketplace.validators import ALLOWED_ATTACHMENT_TYPES, inspect_document

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when nothing was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        # Check type and size before anything is written, so a bad file never leaves half a demand behind.
        for uploaded in files:
            inspect_document(
                uploaded, allowed=ALLOWED_ATTACHMENT_TYPES, limit=settings.DEMAND_ATTACHMENT_MAX_BYTES
            )
        return files


ATTACHMENT_HELP = _("PDF, JPEG, PNG, Word, Excel, PowerPoint or ZIP; up to %(mb)d MB each.")


def attachment_help():
    return ATTACHMENT_HELP % {"mb": settings.DEMAND_ATTACHMENT_MAX_BYTES // (1024 * 1024)}


def top_field_choices():
    return [("", "---------")] + [
        (f.code, f.name)
        for f in TechnologyField.objects.filter(parent__isnull=True).order_by("sort_order", "code")
    ]


def sub_field_choices():
    """Sub-fields grouped under their field, for a <select> with optgroups."""
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for f in TechnologyField.objects.select_related("parent").order_by("sort_order", "code"):
        if f.parent_id is None:
            names[f.code] = f.name
            groups.setdefault(f.code, [])
        else:
            groups.setdefault(f.parent_id, []).append((f.code, f.name))
    return [("", _("(none)"))] + [
        (names.get(code, code), options) for code, options in groups.items() if options
    ]


class SupplierChoiceMixin:
    """Adds the organization a supplier acts for: a hidden field with one choice, a select with several."""

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        organizations = list(organizations)
        field = forms.ChoiceField(
            label=_("On behalf of"), choices=[(str(org.pk), org.name) for org in organizations]
        )
        if len(organizations) == 1:
            field.widget = forms.HiddenInput()
            field.initial = str(organizations[0].pk)
        self.fields = {"organization": field, **self.fields}
        self.organizations = {str(org.pk): org for org in organizations}

    def clean_organization(self):
        return self.organizations[self.cleaned_data["organization"]]


class DemandForm(forms.Form):
    organization = forms.ChoiceField(label=_("Posted by"))
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Public summary"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Everyone sees the summary. Keep company secrets for the confidential details."),
    )
    details = forms.CharField(
        label=_("Confidential details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Shown only to your organization, the platform, the assigned broker and verified suppliers "
            "(who must accept your NDA when you require one)."
        ),
    )
    field = forms.ChoiceField(label=_("Technology field"))
    sub_field = forms.ChoiceField(label=_("Sub-field"), required=False)
    region = forms.ChoiceField(label=_("Region"))
    budget_min = forms.DecimalField(
        label=_("Budget from (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    budget_max = forms.DecimalField(
        label=_("Budget up to (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    budget_negotiable = forms.BooleanField(label=_("Budget negotiable"), required=False)
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    cooperation_mode = forms.ChoiceField(label=_("Cooperation mode"), choices=CooperationMode.choices)
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=Demand.Mode.choices,
        help_text=_(
            "Open call: proposals and questions any time before the deadline. Sealed tender: nobody sees the "
            "bids before the deadline. Challenge: a stated award for the accepted solution(s)."
        ),
    )
    award_amount = forms.DecimalField(
        label=_("Challenge award (yuan)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Challenges only."),
    )
    max_winners = forms.IntegerField(
        label=_("Number of winners"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("Only a challenge can have several winners."),
    )
    nda_required = forms.BooleanField(
        label=_("Suppliers must accept an NDA to read the details"), required=False
    )
    nda_terms = forms.CharField(
        label=_("NDA terms"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    contact_policy = forms.ChoiceField(label=_("Contact details"), choices=Demand.ContactPolicy.choices)
    attachments = MultipleFileField(label=_("Attachments (confidential)"))

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()
        organizations = list(organizations)
        self.organizations = {str(org.pk): org for org in organizations}
        self.fields["organization"].choices = [(str(org.pk), org.name) for org in organizations]
        if not organizations:
            del self.fields["organization"]
        self.fields["field"].choices = top_field_choices()
        self.fields["sub_field"].choices = sub_field_choices()
        self.fields["region"].choices = region_choices()

    def clean_organization(self):
        return self.organizations[self.cleaned_data["organization"]]

    def demand_data(self) -> dict:
        """The editable fields for ``demand_create``/``demand_update``."""
        data = {
            key: value
            for key, value in self.cleaned_data.items()
            if key not in ("organization", "attachments")
        }
        data["sub_field"] = data.get("sub_field") or None
        return data


class DemandAttachmentForm(forms.Form):
    files = MultipleFileField(label=_("Add attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].required = True
        self.fields["files"].help_text = attachment_help()


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NdaAcceptForm(SupplierChoiceMixin, forms.Form):
    accept = forms.BooleanField(label=_("I have read the NDA terms and accept them for my organization"))


class QuestionForm(SupplierChoiceMixin, forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Questions and answers are public; your organization's name is not shown."),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ProposalForm(forms.Form):
    approach = forms.CharField(label=_("Technical approach"), widget=forms.Textarea(attrs={"rows": 8}))
    price = forms.DecimalField(
        label=_("Price (yuan)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Leave empty to discuss the price."),
    )
    duration_days = forms.IntegerField(label=_("Duration (days)"), min_value=1, max_value=3650)
    team = forms.CharField(label=_("Team"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()

    def bid_data(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("approach", "price", "duration_days", "team")}


class ProposalSubmitForm(SupplierChoiceMixin, ProposalForm):
    pass


class ProposalEditForm(ProposalForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _(
            "Choosing files replaces the current attachments; leave empty to keep them."
        )


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RejectionReason.choices)
    note = forms.CharField(
        label=_("Feedback to the bidder"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


HEX64 = re.compile(r"^[0-9a-f]{64}$")


class VerifyForm(forms.Form):
    content = forms.CharField(
        label=_("Revealed content"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_("The exact text from your receipt page, starting with { and ending with }."),
    )
    commitment = forms.CharField(
        label=_("Commitment (SHA-256)"),
        max_length=80,
        help_text=_("64 hexadecimal characters, as published at the close."),
    )

    def clean_commitment(self):
        value = self.cleaned_data["commitment"].strip().lower()
        if not HEX64.match(value):
            raise forms.ValidationError(_("A commitment has 64 hexadecimal characters (0-9, a-f)."))
        return value


# Statuses offered in the public list's filter: only those a public demand can be in.
PUBLIC_STATUS_CHOICES = [(value, label) for value, label in Demand.Status.choices if value in PUBLIC_STATUSES]
