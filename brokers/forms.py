"""Website forms of the brokers app: they check shape and choices; ``brokers.services`` decides the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from brokers.models import Subscription
from marketplace.forms import region_choices
from marketplace.models import TechnologyField


def field_group_choices():
    """Each field heading a group of its sub-fields: choosing the field covers all of them."""
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for field in TechnologyField.objects.order_by("sort_order", "code"):
        if field.parent_id is None:
            names[field.code] = field.name
            groups.setdefault(field.code, []).insert(0, (field.code, field.name))
        else:
            groups.setdefault(field.parent_id, []).append((field.code, f"　{field.name}"))
    return [(names.get(code, code), options) for code, options in groups.items()]


class SubscriptionForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=60,
        required=False,
        help_text=_("Optional: helps you tell your subscriptions apart."),
    )
    kind = forms.ChoiceField(
        label=_("Send me"),
        choices=Subscription.Kind.choices,
        initial=Subscription.Kind.BOTH,
        widget=forms.RadioSelect,
    )
    field_codes = forms.MultipleChoiceField(
        label=_("Technology fields"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("A field covers all its sub-fields. Hold Ctrl (⌘ on a Mac) to choose several, or none."),
    )
    region_codes = forms.MultipleChoiceField(
        label=_("Regions"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("A province covers all its cities. Hold Ctrl (⌘ on a Mac) to choose several, or none."),
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        # Generous: the service counts and measures the keywords and says precisely what is wrong.
        max_length=500,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_codes"].choices = field_group_choices()
        # Provinces with their cities under them; without the empty choice of a single <select>.
        self.fields["region_codes"].choices = [c for c in region_choices() if c[0]]
        self.fields["keywords"].help_text = _(
            "Up to %(count)d keywords separated by spaces or commas, each at most %(length)d characters. "
            "A record fits when its title or summary contains any of them."
        ) % {"count": Subscription.MAX_KEYWORDS, "length": Subscription.KEYWORD_MAX_LENGTH}
