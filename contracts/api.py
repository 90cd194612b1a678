"""The statistics API (SPEC §9.3): the annual report, public like the yearbook it reproduces."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from contracts import statistics


class AnnualReportView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Annual report of registered technology contracts",
        description="Totals, breakdowns, provinces with ranks and flows, as SPEC §9.3; labels in the request's "
        "language. Served from the stored report (computed on first request).",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, year: int):
        try:
            snapshot = statistics.snapshot_get(year)
        except ValueError:
            raise NotFound from None
        return Response(statistics.with_labels(snapshot.data))
