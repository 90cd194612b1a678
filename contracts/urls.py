from django.urls import path, re_path

from contracts import views

app_name = "statistics"

urlpatterns = [
    path("", views.statistics_index, name="index"),
    path("annual/<int:year>/", views.annual, name="annual"),
    re_path(
        r"^annual/(?P<year>[0-9]{4})\.(?P<format>csv|xlsx)$", views.annual_download, name="annual_download"
    ),
]
