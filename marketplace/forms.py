"""Website forms: they check shape and types; the services decide the rules."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import CredentialDocument, Membership, Region, TechnologyField
from marketplace.taxonomy import OrganizationType
from marketplace.validators import validate_credit_code


class SignupForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=40,
        regex=r"^[\w.@+-]+$",
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    email = forms.EmailField(label=_("E-mail address"))
    full_name = forms.CharField(label=_("Full name"), max_length=80, required=False)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords do not match."))
        return data


class LoginForm(auth_forms.AuthenticationForm):
    username = auth_forms.UsernameField(
        label=_("Username or e-mail"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class QueuedPasswordResetForm(auth_forms.PasswordResetForm):
    """Sends the reset link through the e-mail task after commit instead of inside the request."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from django.conf import settings
        from django.template import loader

        from marketplace.services.notifications import email_send

        context = {**context, "site_url": settings.SITE_URL}
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_send(subject=subject, body=body, recipients=[to_email])


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=80, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("A new address has to be verified again.")
    )


def region_choices():
    """Provinces with their cities under them, for a <select>."""
    provinces = {}
    for region in Region.objects.select_related("parent").order_by("code"):
        if region.parent_id is None:
            provinces.setdefault(region.code, [region, []])[0] = region
        else:
            provinces.setdefault(region.parent_id, [None, []])[1].append(region)
    choices = [("", "---------")]
    for province, cities in provinces.values():
        options = [(province.code, province.name)] + [(c.code, f"　{c.name}") for c in cities]
        choices.append((province.name, options))
    return choices


def field_choices():
    return [
        (f.code, f.name if f.parent_id is None else f"　{f.name}")
        for f in TechnologyField.objects.order_by("sort_order", "code")
    ]


class OrganizationProfileForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"))
    fields = forms.MultipleChoiceField(
        label=_("Technology fields"), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    short_name = forms.CharField(label=_("Short name"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    description = forms.CharField(
        label=_("Profile"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=60, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_choices()
        self.fields["fields"].choices = field_choices()


class OrganizationCreateForm(OrganizationProfileForm):
    name = forms.CharField(label=_("Registered name"), max_length=120)
    org_type = forms.ChoiceField(label=_("Organization type"), choices=OrganizationType.choices)
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=24,
        required=False,
        help_text=_(
            "18 characters (GB 32100). Required for enterprises, research institutes and intermediaries."
        ),
    )

    field_order = ["name", "org_type", "credit_code", "region", "fields"]

    def clean_credit_code(self):
        value = self.cleaned_data["credit_code"].strip()
        return validate_credit_code(value) if value else ""


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document type"), choices=CredentialDocument.Kind.choices)
    file = forms.FileField(label=_("File (PDF, JPEG or PNG)"))


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class JoinRequestForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the administrators"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResubmitForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the reviewers"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
