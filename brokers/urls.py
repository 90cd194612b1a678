"""Website URLs of a user's subscriptions, included at /subscriptions/ as namespace ``subscriptions``."""

from django.urls import path

from brokers import views

urlpatterns = [
    path("", views.subscription_list, name="list"),
    path("new/", views.subscription_create, name="create"),
    path("<int:pk>/edit/", views.subscription_edit, name="edit"),
    path("<int:pk>/delete/", views.subscription_delete, name="delete"),
    path("<int:pk>/pause/", views.subscription_pause, name="pause"),
    path("<int:pk>/resume/", views.subscription_resume, name="resume"),
]
