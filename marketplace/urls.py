from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from listings.urls import publicity_verify_urlpatterns
from marketplace.views import accounts, core, organizations

account_patterns = (
    [
        path("signup/", accounts.signup, name="signup"),
        path("login/", accounts.LoginView.as_view(), name="login"),
        path("logout/", accounts.LogoutView.as_view(), name="logout"),
        path("verify/<uidb64>/<token>/", accounts.verify_email, name="verify_email"),
        path("verify/resend/", accounts.resend_verification, name="resend_verification"),
        path("profile/", accounts.profile, name="profile"),
        path("password/change/", accounts.PasswordChangeView.as_view(), name="password_change"),
        path("password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
        path("password/reset/sent/", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path(
            "password/reset/<uidb64>/<token>/",
            accounts.PasswordResetConfirmView.as_view(),
            name="password_reset_confirm",
        ),
        path(
            "password/reset/done/",
            accounts.PasswordResetCompleteView.as_view(),
            name="password_reset_complete",
        ),
    ],
    "accounts",
)

organization_patterns = (
    [
        path("", organizations.organization_list, name="list"),
        path("new/", organizations.organization_create, name="create"),
        path("<int:pk>/", organizations.organization_detail, name="detail"),
        path("<int:pk>/edit/", organizations.organization_edit, name="edit"),
        path("<int:pk>/documents/", organizations.document_upload, name="documents"),
        path("documents/<int:document_id>/", organizations.document_download, name="document_download"),
        path("<int:pk>/resubmit/", organizations.organization_resubmit, name="resubmit"),
        path("<int:pk>/join/", organizations.join_request, name="join"),
        path("<int:pk>/members/", organizations.members, name="members"),
        path("<int:pk>/members/<int:membership_id>/", organizations.member_change, name="member_change"),
        path(
            "join-requests/<int:request_id>/", organizations.join_request_decide, name="join_request_decide"
        ),
        path("invitations/<str:token>/", organizations.invitation, name="invitation"),
        path(
            "invitations/<int:invitation_id>/revoke/",
            organizations.invitation_revoke,
            name="invitation_revoke",
        ),
    ],
    "organizations",
)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("marketplace.api.urls")),
    path("healthz/", core.healthz, name="healthz"),
]

urlpatterns += i18n_patterns(
    path("", core.home, name="home"),
    path("dashboard/", core.dashboard, name="dashboard"),
    path("notifications/", core.notifications, name="notifications"),
    path("accounts/", include(account_patterns)),
    path("organizations/", include(organization_patterns)),
    path("demands/", include(("demands.urls", "demands"))),
    path("listings/", include(("listings.urls", "listings"))),
    path("statistics/", include("contracts.urls")),
    path("subscriptions/", include(("brokers.urls", "subscriptions"))),
    path("verify/publicity/", include(publicity_verify_urlpatterns)),
    path("admin/", admin.site.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    prefix_default_language=False,
)

handler403 = "marketplace.views.core.permission_denied"
handler404 = "marketplace.views.core.page_not_found"
handler500 = "marketplace.views.core.server_error"
