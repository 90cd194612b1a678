from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from brokers import selectors as broker_selectors
from demands import selectors as demand_selectors
from demands.models import Demand, Proposal
from marketplace import kpis, selectors, services
from marketplace.models import Notification
from marketplace.taxonomy import OrganizationType


def home(request):
    counts = selectors.organization_counts_by_type()
    tiles = [
        {"label": OrganizationType.ENTERPRISE.label, "value": counts.get(OrganizationType.ENTERPRISE, 0)},
        {"label": OrganizationType.UNIVERSITY.label, "value": counts.get(OrganizationType.UNIVERSITY, 0)},
        {
            "label": OrganizationType.RESEARCH_INSTITUTE.label,
            "value": counts.get(OrganizationType.RESEARCH_INSTITUTE, 0),
        },
        {"label": OrganizationType.INTERMEDIARY.label, "value": counts.get(OrganizationType.INTERMEDIARY, 0)},
    ]
    latest = selectors.organization_list_public().order_by("-verified_at", "-id")[:6]
    public_demands = demand_selectors.demand_list_public()
    published = public_demands.filter(status=Demand.Status.PUBLISHED)
    figures = kpis.totals_get()
    context = {
        "tiles": tiles,
        "demand_tiles": [
            {"label": _("Published demands"), "value": published.count()},
            {
                "label": _("Problems solved"),
                "value": public_demands.filter(status=Demand.Status.SOLVED).count(),
            },
            # The stored platform figures (refreshed hourly): counting contracts here would scan them all.
            {"label": _("Contracts signed"), "value": figures["contracts"]},
            {
                "label": _("Solution rate"),
                "value": "—" if figures["solution_rate"] is None else f"{figures['solution_rate']}%",
            },
        ],
        "latest_demands": published.order_by("-published_at", "-id")[:6],
        "latest_organizations": latest,
    }
    return render(request, "home.html", context)


def _recommended_actions(*, demands, proposals, can_act: bool, has_organization: bool) -> list[dict]:
    """What the user should do next, most urgent first: from the rows the dashboard shows anyway."""
    S, P = Demand.Status, Proposal.Status
    actions = []
    for demand in demands:
        if demand.status == S.REJECTED:
            text = _("Correct “%(title)s” and submit it again") % {"title": demand.title}
        elif demand.status == S.DRAFT:
            text = _("Finish the draft “%(title)s” and submit it for review") % {"title": demand.title}
        elif demand.status == S.CLOSED and demand.proposal_total:
            text = _("Evaluate the proposals for “%(title)s”: shortlist, award or decline") % {
                "title": demand.title
            }
        else:
            continue
        actions.append({"text": text, "url": reverse("demands:detail", kwargs={"pk": demand.pk})})
    for proposal in proposals:
        if proposal.status == P.SHORTLISTED:
            text = _("Your proposal for “%(title)s” is shortlisted: answer the owner's questions") % {
                "title": proposal.demand.title
            }
        elif proposal.status == P.AWARDED:
            text = _("Your proposal for “%(title)s” won: prepare the contract") % {
                "title": proposal.demand.title
            }
        else:
            continue
        actions.append({"text": text, "url": reverse("demands:detail", kwargs={"pk": proposal.demand_id})})
    if not has_organization:
        actions.append(
            {
                "text": _("Register your organization or ask to join one"),
                "url": reverse("organizations:create"),
            }
        )
    elif can_act and not proposals and not demands:
        actions.append(
            {"text": _("Browse the open demands and send a proposal"), "url": reverse("demands:list")}
        )
    return actions


@login_required
def dashboard(request):
    user = request.user
    memberships = selectors.user_memberships(user=user)
    can_act = selectors.user_is_verified_member(user=user)
    demands = list(demand_selectors.demand_list_for_organizations(user=user)[:20])
    proposals = list(demand_selectors.proposal_list_for_supplier(user=user)[:20])
    context = {
        "memberships": memberships,
        "invitations": selectors.user_pending_invitations(user=user),
        "notifications": Notification.objects.filter(user=user)[:5],
        "join_requests": user.join_requests.select_related("organization").order_by("-created_at")[:5],
        "can_act": can_act,
        "demands": demands,
        "proposals": proposals,
        "recommended_demands": broker_selectors.recommended_demands_for_user(user=user),
        "subscriptions": broker_selectors.subscription_summary(user=user),
        "actions": _recommended_actions(
            demands=demands, proposals=proposals, can_act=can_act, has_organization=bool(memberships)
        ),
    }
    return render(request, "dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    if request.method == "POST":
        services.notification_mark_read(user=request.user)
        return redirect("notifications")
    items = Notification.objects.filter(user=request.user)[:100]
    return render(request, "notifications.html", {"items": items})


@never_cache
def healthz(request):
    """Liveness and database readiness for load balancers and compose healthchecks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception as exc:  # the probe must answer, whatever broke
        return JsonResponse({"status": "error", "detail": exc.__class__.__name__}, status=503)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else ""
    return render(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # Rendered without a request context: the failure may be in a context processor or the database.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render())
