"""The API's URLs, included by the project as ``path("api/", include("marketplace.api.urls"))``.

    /api/v1/…       the REST API (one router for every app)
    /api/schema/    OpenAPI 3 schema
    /api/docs/      Swagger UI, /api/redoc/ ReDoc — both served from drf-spectacular-sidecar, no CDN

Other apps add their viewsets here, on the same ``router`` (cookiecutter-django's ``api_router.py``), so the
API root and the schema list everything in one place:

    from demands.api import DemandViewSet
    router.register("demands", DemandViewSet, basename="demand")
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from brokers.api import SubscriptionViewSet
from contracts.api import AnnualReportView
from demands.api import DemandViewSet, ProposalViewSet, QuestionViewSet
from listings.api import AuctionViewSet, ListingViewSet, PublicityViewSet, PublicListingViewSet
from marketplace.api import views

app_name = "api"

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("join-requests", views.JoinRequestViewSet, basename="join-request")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("taxonomies/fields", views.TechnologyFieldViewSet, basename="technology-field")
router.register("taxonomies/regions", views.RegionViewSet, basename="region")
router.register("taxonomies/code-lists", views.CodeListViewSet, basename="code-list")
router.register("demands", DemandViewSet, basename="demand")
router.register("proposals", ProposalViewSet, basename="proposal")
router.register("questions", QuestionViewSet, basename="question")
router.register("listings", ListingViewSet, basename="listing")
router.register("public-listings", PublicListingViewSet, basename="public-listing")
router.register("auctions", AuctionViewSet, basename="auction")
router.register("publicity", PublicityViewSet, basename="publicity")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("v1/auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/statistics/annual/<int:year>/", AnnualReportView.as_view(), name="statistics-annual"),
    path("v1/statistics/platform/", views.PlatformKpiView.as_view(), name="statistics-platform"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.OfflineSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", views.OfflineRedocView.as_view(url_name="api:schema"), name="redoc"),
]
