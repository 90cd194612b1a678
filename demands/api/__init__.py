"""The demands API (SPEC §4, §9.4): serializers in ``serializers``, viewsets in ``views``.

The viewsets are registered on the one router of ``marketplace.api.urls``.
"""

from demands.api.views import DemandViewSet, ProposalViewSet, QuestionViewSet

__all__ = ["DemandViewSet", "ProposalViewSet", "QuestionViewSet"]
