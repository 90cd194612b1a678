"""The listings API: serializers in ``serializers.py``, viewsets in ``views.py`` (registered on the one router of
``marketplace/api/urls.py``)."""

from listings.api.views import AuctionViewSet, ListingViewSet, PublicityViewSet, PublicListingViewSet

__all__ = ["AuctionViewSet", "ListingViewSet", "PublicListingViewSet", "PublicityViewSet"]
