"""Platform KPIs (SPEC §8, seed 000): demands and listings posted, proposals, contracts signed and their amounts,
the solution rate, the response rate and the supply/demand ratio; in total, by month, technology field, province,
city and specialised sub-market; of all time and of each year.

One grouped query per kind of record (demands, listings, proposals, contracts from awards, contracts from listing
deals) counts the records by month, field, sub-field and region — a few thousand groups for a large market — and
the breakdowns are rolled up from those groups here, so every breakdown of every scope costs the same five passes.
The result is stored as one snapshot per scope (``PlatformKpiSnapshot``) by ``platform_kpis_task`` and served from
there.

Definitions (the page and the API say them too):
- a demand or listing is *posted* in the month it was first published;
- *proposals* are the proposals sent (not withdrawn), counted in the month they were sent; bids on a sealed tender
  are left out until it closes, so that no figure reveals whether a sealed tender has bidders;
- a *contract* is an awarded proposal whose demand reached a signed contract (counted in the month of signing, at
  the proposal's price, or the challenge award when it has none), or a listing sold on the platform by auction or
  agreement (at the deal price); deals imported from other platforms are not this platform's contracts;
- the *solution rate* is the share of the demands posted that ended in a signed contract (seed 000: just over 30%);
- the *response rate* is the share of the demands posted that received at least one proposal (open sealed tenders
  are not judged);
- the *supply/demand ratio* is listings posted per demand posted: where it is low, suppliers are missing.
"""

import time
from collections import defaultdict
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from demands.models import Demand, DemandMode, DemandStatus, Proposal, ProposalStatus
from listings.models import Deal, Listing
from marketplace.models import PlatformKpiSnapshot, Region, SubMarket, TechnologyField, province_code

ALL = "all"
BREAKDOWNS = ("by_month", "by_field", "by_province", "by_city", "by_sub_market")
METRICS = (
    "demands",
    "listings",
    "proposals",
    "contracts",
    "contract_amount",
    "solution_rate",
    "response_rate",
    "supply_demand_ratio",
)
CONTRACTED = (DemandStatus.CONTRACTED, DemandStatus.SOLVED)
CENT = Decimal("0.01")


@dataclass
class Cell:
    demands: int = 0
    solved: int = 0  # demands posted that ended in a signed contract
    judged: int = 0  # demands posted whose response can be told (not an open sealed tender)
    responded: int = 0  # of those, the ones with at least one proposal
    listings: int = 0
    proposals: int = 0
    contracts: int = 0
    amount: Decimal = Decimal(0)

    def add(self, other: "Cell") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def row(self) -> dict:
        return {
            "demands": self.demands,
            "listings": self.listings,
            "proposals": self.proposals,
            "contracts": self.contracts,
            "contract_amount": str(self.amount.quantize(CENT)),
            "solution_rate": _pct(self.solved, self.demands),
            "response_rate": _pct(self.responded, self.judged),
            "supply_demand_ratio": _ratio(self.listings, self.demands),
        }


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else float((Decimal(100 * part) / whole).quantize(CENT, ROUND_HALF_UP))


def _ratio(part: int, whole: int) -> float | None:
    return None if not whole else float((Decimal(part) / whole).quantize(CENT, ROUND_HALF_UP))


# --- the five passes -----------------------------------------------------------------------------------------

# A group: (month "YYYY-MM", field code, sub-field code or None, region code).
Group = tuple[str, str, str | None, str]


def _month(value) -> str:
    return value.strftime("%Y-%m")


def _grouped(queryset, moment, field, sub_field, region, **aggregates):
    return (
        queryset.annotate(month=TruncMonth(moment))
        .values("month", field, sub_field, region)
        .annotate(**aggregates)
        .order_by()
        .values_list("month", field, sub_field, region, *aggregates)
    )


def groups() -> dict[Group, Cell]:
    """Every record counted once in the group of its month, field, sub-field and region."""
    cells: dict[Group, Cell] = defaultdict(Cell)
    open_tender = Q(mode=DemandMode.TENDER, closed_at__isnull=True)
    proposed = Proposal.objects.filter(demand=OuterRef("pk")).exclude(status=ProposalStatus.WITHDRAWN)
    demands = Demand.objects.filter(published_at__isnull=False).annotate(proposed=Exists(proposed))
    for month, field, sub, region, n, solved, judged, responded in _grouped(
        demands,
        "published_at",
        "field_id",
        "sub_field_id",
        "region_id",
        n=Count("pk"),
        solved=Count("pk", filter=Q(status__in=CONTRACTED)),
        judged=Count("pk", filter=~open_tender),
        responded=Count("pk", filter=~open_tender & Q(proposed=True)),
    ):
        cell = cells[_month(month), field, sub, region]
        cell.demands += n
        cell.solved += solved
        cell.judged += judged
        cell.responded += responded

    listings = Listing.objects.filter(published_at__isnull=False)
    for month, field, sub, region, n in _grouped(
        listings, "published_at", "field_id", "sub_field_id", "region_id", n=Count("pk")
    ):
        cells[_month(month), field, sub, region].listings += n

    proposals = Proposal.objects.exclude(status=ProposalStatus.WITHDRAWN).exclude(
        demand__mode=DemandMode.TENDER, demand__closed_at__isnull=True
    )
    for month, field, sub, region, n in _grouped(
        proposals,
        "submitted_at",
        "demand__field_id",
        "demand__sub_field_id",
        "demand__region_id",
        n=Count("pk"),
    ):
        cells[_month(month), field, sub, region].proposals += n

    money = DecimalField(max_digits=18, decimal_places=2)
    awarded = Proposal.objects.filter(status=ProposalStatus.AWARDED, demand__status__in=CONTRACTED).annotate(
        signed_at=Coalesce("demand__contracted_at", "decided_at", "submitted_at"),
        value=Coalesce(F("price"), F("demand__award_amount"), Value(Decimal(0)), output_field=money),
    )
    deals = Deal.objects.exclude(via=Deal.Via.IMPORTED)
    for queryset, moment, prefix, value in (
        (awarded, "signed_at", "demand__", "value"),
        (deals, "concluded_at", "listing__", "price"),
    ):
        for month, field, sub, region, n, amount in _grouped(
            queryset,
            moment,
            f"{prefix}field_id",
            f"{prefix}sub_field_id",
            f"{prefix}region_id",
            n=Count("pk"),
            amount=Sum(value, output_field=money),
        ):
            cell = cells[_month(month), field, sub, region]
            cell.contracts += n
            cell.amount += Decimal(amount or 0)
    return cells


# --- roll-ups ------------------------------------------------------------------------------------------------


def _is_city(region: str) -> bool:
    return not region.endswith("0000")


def _sub_market_rules() -> list[tuple[str, str, frozenset[str]]]:
    return [
        (m.slug, m.region_id, frozenset(f.code for f in m.fields.all()))
        for m in SubMarket.objects.filter(is_active=True).prefetch_related("fields")
    ]


def _in_sub_market(rule, field: str, sub: str | None, region: str) -> bool:
    _, market_region, market_fields = rule
    if market_region.endswith("0000"):
        in_region = province_code(region) == market_region
    else:
        in_region = region == market_region
    return in_region and (not market_fields or field in market_fields or sub in market_fields)


def roll_up(cells: dict[Group, Cell], rules=None) -> dict[str, dict]:
    """The figures of every scope: ``"all"`` and each year with any record, keyed by scope."""
    rules = _sub_market_rules() if rules is None else rules
    scopes: dict[str, dict[str, dict[str, Cell]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Cell))
    )
    for (month, field, sub, region), cell in cells.items():
        keys = [
            ("totals", ""),
            ("by_month", month),
            ("by_field", field),
            ("by_province", province_code(region)),
        ]
        if _is_city(region):
            keys.append(("by_city", region))
        keys += [("by_sub_market", rule[0]) for rule in rules if _in_sub_market(rule, field, sub, region)]
        for scope in (ALL, month[:4]):
            for table, key in keys:
                scopes[scope][table][key].add(cell)
    return {scope: _report(scope, tables) for scope, tables in scopes.items()}


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _report(scope: str, tables: dict[str, dict[str, Cell]]) -> dict:
    report = {"scope": scope, "totals": tables["totals"][""].row()}
    by_month = tables["by_month"]
    # Months without any record are shown as zeros: a trend has no holes.
    first, last = (f"{scope}-01", f"{scope}-12") if scope != ALL else (min(by_month), max(by_month))
    report["by_month"] = [{"code": m, **by_month.get(m, Cell()).row()} for m in _months(first, last)]
    for table in BREAKDOWNS[1:]:
        # Largest first: by demands posted (the market is demand-led), then listings, then code.
        ordered = sorted(
            tables[table].items(), key=lambda item: (-item[1].demands, -item[1].listings, item[0])
        )
        report[table] = [{"code": code, **cell.row()} for code, cell in ordered]
    return report


# --- snapshots -----------------------------------------------------------------------------------------------


def compute() -> dict[str, dict]:
    return roll_up(groups())


def snapshot_refresh() -> list[str]:
    """Compute every scope and store it (upserts: running it twice stores the same); returns the scopes."""
    started = time.perf_counter()
    reports = compute()
    seconds = round(time.perf_counter() - started, 3)
    now = timezone.now()
    with transaction.atomic():
        for scope, data in reports.items():
            PlatformKpiSnapshot.objects.update_or_create(
                scope=scope, defaults={"data": data, "computed_at": now, "seconds": seconds}
            )
        # A scope whose records are all gone (e.g. a year of test data deleted) is not shown stale.
        PlatformKpiSnapshot.objects.exclude(scope__in=list(reports)).delete()
    return sorted(reports)


def snapshot_get(scope: str = ALL) -> dict | None:
    """The stored figures of ``scope``; computed now when nothing is stored yet; None for a year without records."""
    snapshot = PlatformKpiSnapshot.objects.filter(scope=scope).first()
    if snapshot is None and not PlatformKpiSnapshot.objects.exists():
        snapshot_refresh()
        snapshot = PlatformKpiSnapshot.objects.filter(scope=scope).first()
    if snapshot is None and scope == ALL:  # a market without any record yet
        return {"scope": ALL, "totals": Cell().row(), **{table: [] for table in BREAKDOWNS}}
    return snapshot.data if snapshot else None


def totals_get() -> dict:
    """The all-time totals alone (the home page's tiles): read from the snapshot without loading its tables."""
    totals = PlatformKpiSnapshot.objects.filter(scope=ALL).values_list("data__totals", flat=True).first()
    return totals if totals is not None else snapshot_get(ALL)["totals"]


def scopes() -> list[str]:
    """The stored years, newest first."""
    return sorted(
        PlatformKpiSnapshot.objects.exclude(scope=ALL).values_list("scope", flat=True), reverse=True
    )


def with_labels(report: dict) -> dict:
    """The figures with each row's ``label`` in the active language (fields, provinces, cities, sub-markets)."""
    regions = {r.code: r for r in Region.objects.select_related("parent")}
    names = {
        "by_month": {},
        "by_field": {f.code: f.name for f in TechnologyField.objects.filter(parent__isnull=True)},
        "by_province": {code: r.name for code, r in regions.items() if r.parent_id is None},
        "by_city": {code: r.full_name for code, r in regions.items() if r.parent_id is not None},
        "by_sub_market": {m.slug: m.name for m in SubMarket.objects.all()},
    }
    labelled = {"scope": report["scope"], "totals": report["totals"]}
    for table in BREAKDOWNS:
        labelled[table] = [
            {"code": row["code"], "label": names[table].get(row["code"], row["code"]), **_metrics(row)}
            for row in report[table]
        ]
    return labelled


def _metrics(row: dict) -> dict:
    return {metric: row[metric] for metric in METRICS}


# --- exports -------------------------------------------------------------------------------------------------


def tables(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The figures as (name, columns, rows) tables, as the CSV and XLSX downloads write them."""
    out = [("totals", list(METRICS), [[report["totals"][m] for m in METRICS]])]
    for table in BREAKDOWNS:
        columns = ["code", "label", *METRICS]
        out.append((table, columns, [[row.get(c) for c in columns] for row in report[table]]))
    return out
