"""Website URLs of the listings app, included as namespace ``listings`` (services reverse ``listings:detail``).

The public verification of publicity certificates lives outside this namespace, at ``/verify/publicity/``
(``publicity_verify_urlpatterns``, included by ``marketplace/urls.py``), so printed certificates carry a short,
stable address.
"""

from django.urls import path

from listings import views

urlpatterns = [
    path("", views.listing_list, name="list"),
    path("new/", views.listing_create, name="create"),
    path("mine/", views.listing_mine, name="mine"),
    path("<int:pk>/", views.listing_detail, name="detail"),
    path("<int:pk>/edit/", views.listing_edit, name="edit"),
    path("<int:pk>/attachments/", views.listing_attachments, name="attachments"),
    path("<int:pk>/submit/", views.listing_submit, name="submit"),
    path("<int:pk>/withdraw/", views.listing_withdraw, name="withdraw"),
    path("<int:pk>/public-listing/", views.public_listing_open, name="public_listing_open"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("public-listings/<int:public_listing_id>/intent/", views.intent_file, name="intent"),
    path("public-listings/<int:public_listing_id>/relist/", views.public_listing_relist, name="relist"),
    path(
        "public-listings/<int:public_listing_id>/withdraw/",
        views.public_listing_withdraw,
        name="public_listing_withdraw",
    ),
    path("public-listings/<int:public_listing_id>/conclude/", views.negotiation_conclude, name="conclude"),
    path("auctions/<int:pk>/", views.auction_detail, name="auction"),
    path("auctions/<int:pk>/state/", views.auction_state, name="auction_state"),
    path("auctions/<int:pk>/join/", views.auction_join, name="auction_join"),
    path("auctions/<int:pk>/bid/", views.auction_bid, name="auction_bid"),
    path("publicity/", views.publicity_list, name="publicity"),
    path("publicity/<int:pk>/objection/", views.objection_file, name="objection"),
    path("publicity/<int:pk>/certificate.pdf", views.certificate_download, name="certificate"),
]

publicity_verify_urlpatterns = [
    path("", views.publicity_verify, name="publicity_verify"),
    path("<str:code>/", views.publicity_verify, name="publicity_verify_code"),
]
