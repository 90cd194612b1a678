from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from marketplace import selectors, services
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
    return render(request, "home.html", {"tiles": tiles, "latest_organizations": latest})


@login_required
def dashboard(request):
    user = request.user
    context = {
        "memberships": selectors.user_memberships(user=user),
        "invitations": selectors.user_pending_invitations(user=user),
        "notifications": Notification.objects.filter(user=user)[:5],
        "join_requests": user.join_requests.select_related("organization").order_by("-created_at")[:5],
        "can_act": selectors.user_is_verified_member(user=user),
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
