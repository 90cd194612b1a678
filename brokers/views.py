"""Website pages of the brokers app: a user's subscriptions to new demands and listings (SPEC §6).

Only the owner sees or changes a subscription: everyone else gets 404 (``selectors.subscription_get_for_user``)
and anonymous visitors go to the login page. Rules are in ``brokers.services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from brokers import selectors, services
from brokers.forms import SubscriptionForm
from brokers.models import Subscription
from marketplace.exceptions import ApplicationError
from marketplace.views.helpers import form_apply_error

FORM_KEYS = ("name", "kind", "field_codes", "region_codes", "keywords")


@login_required
def subscription_list(request):
    subscriptions = selectors.subscriptions_label(list(selectors.subscriptions_of(user=request.user)))
    previews = selectors.subscription_previews(user=request.user, subscriptions=subscriptions)
    for subscription, preview in zip(subscriptions, previews, strict=True):
        subscription.preview = preview
    context = {
        "subscriptions": subscriptions,
        "days": selectors.PREVIEW_DAYS,
        "limit": services.MAX_SUBSCRIPTIONS_PER_USER,
        "at_limit": len(subscriptions) >= services.MAX_SUBSCRIPTIONS_PER_USER,
    }
    return render(request, "brokers/subscription_list.html", context)


def _preview(request, form, instance: Subscription | None = None) -> dict | None:
    """What the form's criteria would have brought in the last days; errors go on the form, nothing is saved."""
    data = {key: form.cleaned_data[key] for key in FORM_KEYS}
    try:
        values = services.subscription_clean(data, instance=instance)
    except ValidationError as exc:
        form_apply_error(form, exc)
        return None
    unsaved = Subscription(user=request.user, **values)
    return selectors.subscription_previews(user=request.user, subscriptions=[unsaved])[0]


def _form_page(request, form, *, subscription=None, preview=None):
    context = {
        "form": form,
        "subscription": subscription,
        "preview": preview,
        "days": selectors.PREVIEW_DAYS,
        "title": _("Edit the subscription") if subscription else _("New subscription"),
    }
    return render(request, "brokers/subscription_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_create(request):
    form = SubscriptionForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "preview":
            preview = _preview(request, form)
        else:
            try:
                services.subscription_create(
                    user=request.user, **{key: form.cleaned_data[key] for key in FORM_KEYS}
                )
            except (ValidationError, ApplicationError) as exc:
                form_apply_error(form, exc)
            else:
                messages.success(
                    request,
                    _("The subscription is saved: new records that fit it come in your daily digest."),
                )
                return redirect("subscriptions:list")
    return _form_page(request, form, preview=preview)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_edit(request, pk):
    subscription = selectors.subscription_get_for_user(user=request.user, pk=pk)
    initial = {key: getattr(subscription, key) for key in FORM_KEYS}
    form = SubscriptionForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "GET":
        preview = selectors.subscription_previews(user=request.user, subscriptions=[subscription])[0]
    elif form.is_valid():
        if request.POST.get("action") == "preview":
            preview = _preview(request, form, instance=subscription)
        else:
            try:
                services.subscription_update(
                    subscription=subscription, **{key: form.cleaned_data[key] for key in FORM_KEYS}
                )
            except (ValidationError, ApplicationError) as exc:
                form_apply_error(form, exc)
            else:
                messages.success(request, _("The subscription is saved."))
                return redirect("subscriptions:list")
    return _form_page(request, form, subscription=subscription, preview=preview)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_delete(request, pk):
    """GET asks for confirmation; only the POST of that page deletes."""
    subscription = selectors.subscriptions_label(
        [selectors.subscription_get_for_user(user=request.user, pk=pk)]
    )[0]
    if request.method == "POST":
        services.subscription_delete(subscription=subscription)
        messages.success(request, _("The subscription is deleted."))
        return redirect("subscriptions:list")
    return render(request, "brokers/subscription_confirm_delete.html", {"subscription": subscription})


def _set_active(request, pk, *, change, done: str):
    subscription = selectors.subscription_get_for_user(user=request.user, pk=pk)
    try:
        change(subscription=subscription)
    except ApplicationError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("subscriptions:list")


@login_required
@require_POST
def subscription_pause(request, pk):
    return _set_active(
        request,
        pk,
        change=services.subscription_pause,
        done=_("The subscription is paused: it keeps its criteria and sends nothing until you resume it."),
    )


@login_required
@require_POST
def subscription_resume(request, pk):
    return _set_active(
        request,
        pk,
        change=services.subscription_resume,
        done=_("The subscription is active again."),
    )
