"""The public statistics pages (SPEC §8, §10): the annual report as the yearbook prints it, with bars for the
breakdowns and provinces, the flows between provinces, the trend over the stored years, and downloads."""

from collections import defaultdict
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contracts import statistics
from contracts.models import AnnualReport

TABLE_TITLES = {
    "by_contract_type": _("By contract type"),
    "by_seller_type": _("By seller type"),
    "by_buyer_type": _("By buyer type"),
    "by_objective": _("By socio-economic objective"),
    "by_field": _("By technology field"),
    "by_plan_level": _("By plan level"),
    "by_seller_region": _("Provinces as sellers (technology output)"),
    "by_buyer_region": _("Provinces as buyers (technology absorbed)"),
}
_yi, _wan = statistics.to_yi, statistics.to_wan


FLOW_MATRIX_SIZE = 8  # provinces on each side of the flow matrix; the rest are summed as "others"


def _flow_matrix(flows: list[dict], labels: dict[str, str]) -> dict:
    """The flows between the provinces that sell and buy the most, as a matrix shaded by amount (rows: where
    the technology comes from; columns: where it goes), with every other province summed in one row and column."""
    sold, bought = defaultdict(Decimal), defaultdict(Decimal)
    for f in flows:
        sold[f["from"]] += Decimal(f["amount"])
        bought[f["to"]] += Decimal(f["amount"])

    def top(totals):
        return [code for code, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:FLOW_MATRIX_SIZE]]

    sellers, buyers = top(sold), top(bought)
    others = "others"
    cells = defaultdict(Decimal)
    for f in flows:
        row = f["from"] if f["from"] in sellers else others
        column = f["to"] if f["to"] in buyers else others
        cells[row, column] += Decimal(f["amount"])
    rows_keys = sellers + ([others] if len(sold) > len(sellers) else [])
    column_keys = buyers + ([others] if len(bought) > len(buyers) else [])
    peak = max(cells.values(), default=Decimal(0))

    def label(code):
        return gettext("Other provinces") if code == others else labels.get(code, code)

    return {
        "columns": [label(code) for code in column_keys],
        "rows": [
            {
                "label": label(row),
                "cells": [
                    {
                        "amount_yi": _yi(str(cells[row, column])),
                        "shade": round(float(cells[row, column] / peak), 3) if peak else 0.0,
                    }
                    for column in column_keys
                ],
            }
            for row in rows_keys
        ],
    }


def _snapshot(year: int) -> dict:
    try:
        return statistics.with_labels(statistics.snapshot_get(year).data)
    except ValueError:
        raise Http404 from None


def statistics_index(request):
    """The latest stored year, or the previous calendar year when none is stored yet."""
    latest = AnnualReport.objects.order_by("-year").values_list("year", flat=True).first()
    return redirect("statistics:annual", year=latest or timezone.localdate().year - 1)


def annual(request, year: int):
    report = _snapshot(year)
    sections = []
    for table, title in TABLE_TITLES.items():
        rows = report[table]
        top = max((Decimal(r["amount"]) for r in rows), default=Decimal(0))
        sections.append(
            {
                "key": table,
                "title": title,
                "ranked": table in statistics.RANKED,
                "rows": [
                    {
                        **row,
                        "amount_yi": _yi(row["amount"]),
                        "avg_wan": _wan(row["avg_amount"]),
                        "bar": float(Decimal(row["amount"]) * 100 / top) if top else 0.0,
                    }
                    for row in rows
                ],
            }
        )
    regions = {r["code"]: r["label"] for r in report["by_seller_region"] + report["by_buyer_region"]}
    flows = [
        {**f, "from_label": regions.get(f["from"], f["from"]), "to_label": regions.get(f["to"], f["to"]),
         "amount_yi": _yi(f["amount"])}
        for f in report["flows"][:30]
    ]  # fmt: skip
    matrix = _flow_matrix(report["flows"], regions)
    trend = [
        {"year": y, "count": data["totals"]["count"], "amount_yi": _yi(data["totals"]["amount"])}
        for y, data in AnnualReport.objects.order_by("year").values_list("year", "data")
    ]
    top_trend = max((t["amount_yi"] for t in trend), default=Decimal(0))
    for t in trend:
        t["bar"] = float(t["amount_yi"] * 100 / top_trend) if top_trend else 0.0
    totals = report["totals"]
    context = {
        "year": year,
        "totals": {
            **totals,
            "amount_yi": _yi(totals["amount"]),
            "technology_yi": _yi(totals["technology_amount"]),
            "avg_wan": _wan(totals["avg_amount"]),
        },
        "sections": sections,
        "flows": flows,
        "flow_matrix": matrix,
        "trend": trend,
        "years": list(AnnualReport.objects.order_by("-year").values_list("year", flat=True)),
    }
    return render(request, "contracts/statistics.html", context)


def annual_download(request, year: str, format: str):
    year = int(year)
    report = _snapshot(year)
    if format == "csv":
        response = HttpResponse(
            "\ufeff" + statistics.to_csv(report), content_type="text/csv; charset=utf-8"
        )  # the BOM lets spreadsheet programs read the Chinese labels as UTF-8
    else:
        response = HttpResponse(
            statistics.to_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="annual-report-{year}.{format}"'
    return response
