"""Website views of publicity (成果转化公示, SPEC §5): the public list of notices with the objection form, the
no-objection certificate as PDF, and the public verification page of a certificate code (no login needed)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from listings import selectors, services
from listings.certificates import certificate_pdf, verification_url
from listings.forms import CertificateVerifyForm, ObjectionForm
from listings.models import Objection, Publicity, PublicityStatus
from listings.views.helpers import error_message, login_first
from marketplace.exceptions import ApplicationError

RECENTLY_CERTIFIED = 20


def _list_context(request, *, objection_form=None, form_for=None) -> dict:
    now = timezone.now()
    notices = list(selectors.publicity_list_current().order_by("ends_at", "pk"))
    own = set()
    if request.user.is_authenticated:
        own = set(
            Objection.objects.filter(publicity__in=notices, filed_by=request.user).values_list(
                "publicity_id", flat=True
            )
        )
    for notice in notices:
        notice.accepts_objections = (
            notice.status == PublicityStatus.OPEN and notice.starts_at <= now < notice.ends_at
        )
        notice.objected = notice.pk in own
        if notice.accepts_objections and request.user.is_authenticated:
            bound = objection_form if form_for == notice.pk else None
            notice.objection_form = bound or ObjectionForm(auto_id=f"id_obj{notice.pk}_%s")
    certified = (
        Publicity.objects.filter(status=PublicityStatus.CERTIFIED)
        .select_related("deal", "deal__listing", "deal__listing__owner", "deal__buyer")
        .order_by("-certified_at")[:RECENTLY_CERTIFIED]
    )
    return {"notices": notices, "certified": certified, "verify_form": CertificateVerifyForm()}


def publicity_list(request):
    return render(request, "listings/publicity_list.html", _list_context(request))


@require_POST
def objection_file(request, pk):
    publicity = get_object_or_404(Publicity.objects.select_related("deal__listing"), pk=pk)
    anchor = reverse("listings:publicity") + f"#publicity-{publicity.pk}"
    if response := login_first(request, anchor):
        return response
    form = ObjectionForm(request.POST, auto_id=f"id_obj{publicity.pk}_%s")
    if form.is_valid():
        try:
            services.objection_file(publicity=publicity, actor=request.user, text=form.cleaned_data["text"])
        except (ValidationError, ApplicationError) as exc:
            form.add_error(None, error_message(exc))
        else:
            messages.success(
                request,
                _("Your objection is filed. The platform reviews it before the certificate is issued."),
            )
            return redirect(anchor)
    context = _list_context(request, objection_form=form, form_for=publicity.pk)
    return render(request, "listings/publicity_list.html", context, status=400)


def _certified(pk) -> Publicity:
    return get_object_or_404(
        Publicity.objects.select_related("deal", "deal__listing", "deal__listing__owner", "deal__buyer"),
        pk=pk,
        status=PublicityStatus.CERTIFIED,
    )


@require_GET
def certificate_download(request, pk):
    """The certificate is a public document, like the notice it closes: anyone may download and verify it."""
    publicity = _certified(pk)
    response = HttpResponse(certificate_pdf(publicity), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="publicity-certificate-{publicity.certificate_code}.pdf"'
    )
    return response


@require_GET
def publicity_verify(request, code=None):
    """``/verify/publicity/?code=…`` (the form) redirects to ``/verify/publicity/<code>/``, which shows what the
    certificate certifies — or 404 when no certificate has this code."""
    if code is None:
        form = CertificateVerifyForm(request.GET or None)
        if form.is_bound and form.is_valid():
            return redirect("publicity_verify_code", code=form.cleaned_data["code"].strip().upper())
        return render(request, "listings/verify.html", {"form": form})
    publicity = selectors.publicity_by_code(code=code)
    if publicity is None:
        raise Http404(_("No certificate has this code."))
    context = {
        "form": CertificateVerifyForm(initial={"code": publicity.certificate_code}),
        "publicity": publicity,
        "deal": publicity.deal,
        "verification_url": verification_url(publicity.certificate_code),
    }
    return render(request, "listings/verify.html", context)
