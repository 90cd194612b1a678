from django.urls import path, re_path

from contracts import views
from marketplace.views import statistics as platform_views

app_name = "statistics"

urlpatterns = [
    path("", views.statistics_index, name="index"),
    path("annual/<int:year>/", views.annual, name="annual"),
    re_path(
        r"^annual/(?P<year>[0-9]{4})\.(?P<format>csv|xlsx)$", views.annual_download, name="annual_download"
    ),
    path("platform/", platform_views.platform, name="platform"),
    re_path(r"^platform\.(?P<format>csv|xlsx)$", platform_views.platform_download, name="platform_download"),
]
