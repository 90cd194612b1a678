"""Website forms of the listings app: they check shape and types; ``listings.services`` decides the rules."""

import uuid

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from listings.models import ListingStatus
from listings.selectors import PUBLIC_STATUSES
from listings.services.auctions import BIDDING_TERMS
from marketplace.forms import region_choices
from marketplace.models import TechnologyField
from marketplace.taxonomy import ListingType, Maturity, TransferMode
from marketplace.validators import ALLOWED_ATTACHMENT_TYPES, inspect_document

AMOUNT = {"min_value": 0, "max_digits": 14, "decimal_places": 2}


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
        # Type and size are checked before anything is written, so a bad file leaves no half-saved listing.
        for uploaded in files:
            inspect_document(
                uploaded, allowed=ALLOWED_ATTACHMENT_TYPES, limit=settings.DEMAND_ATTACHMENT_MAX_BYTES
            )
        return files


def attachment_help() -> str:
    return _("PDF, JPEG, PNG, Word, Excel, PowerPoint or ZIP; up to %(mb)d MB each.") % {
        "mb": settings.DEMAND_ATTACHMENT_MAX_BYTES // (1024 * 1024)
    }


def top_field_choices():
    return [("", "---------")] + [
        (f.code, f.name)
        for f in TechnologyField.objects.filter(parent__isnull=True).order_by("sort_order", "code")
    ]


def sub_field_choices():
    """Sub-fields grouped under their field, for a <select> with optgroups."""
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for f in TechnologyField.objects.order_by("sort_order", "code"):
        if f.parent_id is None:
            names[f.code] = f.name
            groups.setdefault(f.code, [])
        else:
            groups.setdefault(f.parent_id, []).append((f.code, f.name))
    return [("", _("(none)"))] + [
        (names.get(code, code), options) for code, options in groups.items() if options
    ]


class OrganizationChoiceMixin:
    """The organization the user acts for: a hidden field with one choice, a select with several."""

    organization_label = _("On behalf of")

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        organizations = list(organizations)
        field = forms.ChoiceField(
            label=self.organization_label, choices=[(str(org.pk), org.name) for org in organizations]
        )
        if len(organizations) == 1:
            field.widget = forms.HiddenInput()
            field.initial = str(organizations[0].pk)
        self.fields = {"organization": field, **self.fields}
        self.organizations = {str(org.pk): org for org in organizations}

    def clean_organization(self):
        return self.organizations[self.cleaned_data["organization"]]


# --- the listing itself -----------------------------------------------------------------------------------------


class ListingForm(forms.Form):
    organization = forms.ChoiceField(label=_("Offered by"))
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the technology does and what it is good for; everyone sees it."),
    )
    details = forms.CharField(
        label=_("Technical details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Performance figures, the state of the IP, what a buyer receives. Public: keep secrets for the "
            "attachments, which only verified organizations can open."
        ),
    )
    listing_type = forms.ChoiceField(label=_("Type"), choices=ListingType.choices)
    patent_number = forms.CharField(
        label=_("Patent or registration number"),
        max_length=64,
        required=False,
        help_text=_("E.g. ZL202110123456.7 or 2023SR0123456."),
    )
    field = forms.ChoiceField(label=_("Technology field"))
    sub_field = forms.ChoiceField(label=_("Sub-field"), required=False)
    region = forms.ChoiceField(label=_("Region"))
    maturity = forms.ChoiceField(label=_("Maturity"), choices=Maturity.choices)
    scenarios = forms.CharField(
        label=_("Application scenarios"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    transfer_modes = forms.MultipleChoiceField(
        label=_("Transfer modes"), choices=TransferMode.choices, widget=forms.CheckboxSelectMultiple
    )
    asking_price = forms.DecimalField(
        label=_("Asking price (yuan)"),
        required=False,
        help_text=_("Leave empty, or tick “negotiable”, to discuss the price (面议)."),
        **AMOUNT,
    )
    price_negotiable = forms.BooleanField(label=_("Price negotiable"), required=False)
    inventors = forms.CharField(
        label=_("Inventors"), max_length=300, required=False, help_text=_("Names, separated by commas.")
    )
    state_funded = forms.BooleanField(
        label=_("State-funded result (职务成果 / 财政资助)"),
        required=False,
        help_text=_("A state-funded result transferred at an agreed price is published for objections."),
    )
    attachments = MultipleFileField(label=_("Attachments (verified organizations only)"))

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

    def listing_data(self) -> dict:
        """The editable fields for ``listing_create``/``listing_update``."""
        data = {
            key: value
            for key, value in self.cleaned_data.items()
            if key not in ("organization", "attachments")
        }
        data["sub_field"] = data.get("sub_field") or None
        return data


class AttachmentForm(forms.Form):
    files = MultipleFileField(label=_("Add attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].required = True
        self.fields["files"].help_text = attachment_help()


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- public listing (挂牌), intents, negotiation ------------------------------------------------------------------


class PublicListingOpenForm(forms.Form):
    floor_price = forms.DecimalField(
        label=_("Floor price (yuan)"),
        help_text=_("The lowest price you accept; the reserve of the auction if several buyers come."),
        **AMOUNT,
    )
    increment = forms.DecimalField(
        label=_("Auction increment (yuan)"), help_text=_("The minimum raise between two bids."), **AMOUNT
    )
    days = forms.IntegerField(label=_("Listing period (days)"), min_value=1, max_value=365, initial=20)


class RelistForm(forms.Form):
    days = forms.IntegerField(label=_("New listing period (days)"), min_value=1, max_value=365, initial=20)
    floor_price = forms.DecimalField(
        label=_("New floor price (yuan)"),
        required=False,
        help_text=_("Leave empty to keep the current floor price."),
        **AMOUNT,
    )


class IntentForm(OrganizationChoiceMixin, forms.Form):
    message = forms.CharField(
        label=_("Message to the owner (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConcludeForm(forms.Form):
    buyer = forms.ChoiceField(label=_("Buyer"))
    price = forms.DecimalField(label=_("Agreed price (yuan)"), **AMOUNT)

    def __init__(self, *args, buyers=(), **kwargs):
        super().__init__(*args, **kwargs)
        buyers = list(buyers)
        self.buyers = {str(org.pk): org for org in buyers}
        self.fields["buyer"].choices = [(str(org.pk), org.name) for org in buyers]

    def clean_buyer(self):
        return self.buyers[self.cleaned_data["buyer"]]


# --- auctions --------------------------------------------------------------------------------------------------


class AuctionJoinForm(OrganizationChoiceMixin, forms.Form):
    organization_label = _("Bid for")
    accept = forms.BooleanField(label=BIDDING_TERMS)


class BidForm(forms.Form):
    """A maximum (proxy bid). ``client_token`` is new at every render, so a double submit of one rendered form
    is recognised by the service and placed once."""

    organization = forms.IntegerField(widget=forms.HiddenInput())
    maximum = forms.DecimalField(
        label=_("Your maximum (yuan)"),
        help_text=_(
            "The platform bids for you, one increment at a time, up to this amount. Nobody else sees it."
        ),
        **AMOUNT,
    )
    client_token = forms.CharField(max_length=64, widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("client_token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


# --- publicity -------------------------------------------------------------------------------------------------


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "State the facts (ownership, inventors, price) and how to reach you; the platform reviews it."
        ),
    )


class CertificateVerifyForm(forms.Form):
    code = forms.CharField(label=_("Certificate code"), max_length=32)


# Statuses offered in the public list's filter: only those a public listing can be in.
PUBLIC_STATUS_CHOICES = [(value, label) for value, label in ListingStatus.choices if value in PUBLIC_STATUSES]
