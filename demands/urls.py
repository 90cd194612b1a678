"""Website URLs of the demands app, included as namespace ``demands`` (services reverse ``demands:detail``)."""

from django.urls import path

from demands import views

urlpatterns = [
    path("", views.demand_list, name="list"),
    path("export.csv", views.demand_export_csv, name="export"),
    path("verify/", views.verify, name="verify"),
    path("new/", views.demand_create, name="create"),
    path("<int:pk>/", views.demand_detail, name="detail"),
    path("<int:pk>/edit/", views.demand_edit, name="edit"),
    path("<int:pk>/attachments/", views.demand_attachments, name="attachments"),
    path("<int:pk>/submit/", views.demand_submit, name="submit"),
    path("<int:pk>/withdraw/", views.demand_withdraw, name="withdraw"),
    path("<int:pk>/close/", views.demand_close, name="close"),
    path("<int:pk>/solved/", views.demand_mark_solved, name="solved"),
    path("<int:pk>/nda/", views.nda_accept, name="nda_accept"),
    path("<int:pk>/questions/", views.question_ask, name="question_ask"),
    path("<int:pk>/proposals/", views.proposal_submit, name="proposal_submit"),
    path("attachments/<int:attachment_id>/", views.demand_attachment_download, name="attachment_download"),
    path("questions/<int:question_id>/answer/", views.question_answer, name="question_answer"),
    path("proposals/<int:proposal_id>/edit/", views.proposal_edit, name="proposal_edit"),
    path("proposals/<int:proposal_id>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
    path("proposals/<int:proposal_id>/receipt/", views.proposal_receipt, name="receipt"),
    path("proposals/<int:proposal_id>/shortlist/", views.proposal_shortlist, name="proposal_shortlist"),
    path("proposals/<int:proposal_id>/reject/", views.proposal_reject, name="proposal_reject"),
    path("proposals/<int:proposal_id>/award/", views.proposal_award, name="proposal_award"),
    path("proposals/<int:proposal_id>/messages/", views.proposal_message, name="proposal_message"),
    path(
        "proposal-attachments/<int:attachment_id>/",
        views.proposal_attachment_download,
        name="proposal_attachment_download",
    ),
]
