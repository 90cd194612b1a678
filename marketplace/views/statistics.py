"""The public page of the platform's figures (SPEC §8, §10): tiles, the monthly trend as a bar chart, the
breakdowns by field (with the supply/demand ratio), province, city and specialised sub-market, and downloads."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from contracts.statistics import to_wan
from marketplace import exports, kpis

CHART_HEIGHT = 160  # the tallest bar of the trend chart, in SVG units
CHART_WIDTH = 720
SERIES = ("demands", "listings", "contracts")
SECTIONS = {
    "by_field": _("By technology field"),
    "by_province": _("By province"),
    "by_city": _("By city"),
    "by_sub_market": _("By specialised sub-market"),
}


def _scope(request) -> str:
    year = request.GET.get("year", "")
    if not year:
        return kpis.ALL
    if len(year) != 4 or not year.isdigit():
        raise Http404
    return year


def _report(scope: str) -> dict:
    report = kpis.snapshot_get(scope)
    if report is None:
        raise Http404
    return kpis.with_labels(report)


def _trend(months: list[dict]) -> dict:
    """Bars of demands, listings and contracts per month, scaled to the largest count, in SVG coordinates: a
    chart CHART_WIDTH wide whatever the number of months, so that its labels keep their shape."""
    top = max((row[s] for row in months for s in SERIES), default=0)
    slot = CHART_WIDTH / max(len(months), 1)
    bar = slot * 0.8 / len(SERIES)
    bars = []
    for i, row in enumerate(months):
        for j, series in enumerate(SERIES):
            height = round(row[series] * CHART_HEIGHT / top) if top else 0
            bars.append(
                {
                    "x": round(i * slot + slot * 0.1 + j * bar, 2),
                    "y": CHART_HEIGHT - height,
                    "width": round(bar, 2),
                    "height": height,
                    "series": series,
                    "value": row[series],
                    "month": row["code"],
                }
            )
    # A label under every month, or under every n-th when there are many (at most 12 labels).
    step = max(1, -(-len(months) // 12))
    labels = [
        {"x": round(i * slot + slot / 2, 2), "text": row["code"]}
        for i, row in enumerate(months)
        if i % step == 0
    ]
    return {
        "bars": bars,
        "labels": labels,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "label_y": CHART_HEIGHT + 14,
        "full_height": CHART_HEIGHT + 18,
    }


def _with_bars(rows: list[dict]) -> list[dict]:
    top = max((max(r["demands"], r["listings"]) for r in rows), default=0)
    return [
        {
            **row,
            "amount_wan": to_wan(row["contract_amount"]),
            "demand_bar": row["demands"] * 100 / top if top else 0,
            "listing_bar": row["listings"] * 100 / top if top else 0,
        }
        for row in rows
    ]


def platform(request):
    scope = _scope(request)
    report = _report(scope)
    totals = report["totals"]
    context = {
        "scope": scope,
        "years": kpis.scopes(),
        "totals": {**totals, "amount_wan": to_wan(totals["contract_amount"])},
        "trend": _trend(report["by_month"]),
        "months": _with_bars(report["by_month"]),
        "sections": [
            {"key": table, "title": title, "rows": _with_bars(report[table])}
            for table, title in SECTIONS.items()
        ],
    }
    return render(request, "statistics/platform.html", context)


def platform_download(request, format: str):
    scope = _scope(request)
    tables = kpis.tables(_report(scope))
    name = f"platform-figures-{scope}.{format}"
    if format == "csv":
        # The BOM lets spreadsheet programs read the Chinese labels as UTF-8.
        response = HttpResponse(
            "\ufeff" + exports.tables_to_csv(tables), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            exports.tables_to_xlsx(tables, decimal_columns=("contract_amount",)),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
