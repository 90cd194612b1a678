"""Demo registrations for ``manage.py seed_demo``: two years of a registry, so that the annual report, its charts
and downloads have something to show on a fresh ``make run``.

The rows are generated, not real: a fixed seed makes them the same on every machine, and the import is the real
one (``registrations_import``), so a rerun finds every registration number already there and changes nothing.
The mix follows the national report's proportions (seed 004): technology services and development make most
contracts, transfers are fewer but larger; Beijing, Shanghai, Jiangsu, Zhejiang and Guangdong sell most.
"""

import csv
import io
import random
from datetime import date, timedelta

from contracts.registry.registrations import registrations_import
from marketplace.taxonomy import TECHNOLOGY_FIELDS

DEMO_YEARS = {2024: 1_800, 2025: 2_000}  # registrations per year
SEED = 2005

CONTRACT_TYPES = [
    ("development", 76, 75),
    ("transfer", 27, 132),
    ("consulting", 48, 20),
    ("service", 113, 47),
]
# (code, weight) — sellers are mostly enterprises and universities, buyers mostly enterprises.
SELLER_TYPES = [("enterprise", 55), ("university", 18), ("research_institute", 17), ("trade_institution", 6),
                ("individual", 2), ("other", 2)]  # fmt: skip
BUYER_TYPES = [("enterprise", 78), ("government", 6), ("research_institute", 5), ("university", 4),
               ("trade_institution", 3), ("individual", 2), ("other", 2)]  # fmt: skip
OBJECTIVES = [("industry", 46), ("transport_telecom", 14), ("energy", 8), ("health", 7), ("agriculture", 6),
              ("environment", 6), ("knowledge", 4), ("education", 2), ("earth_sea_atmosphere", 2),
              ("civil_space", 1), ("defense", 1), ("other", 3)]  # fmt: skip
PLAN_LEVELS = [("none", 82), ("national", 6), ("provincial", 7), ("municipal", 5)]
# Cities (or province-level municipalities) and how much they trade.
REGIONS = [("110000", 30), ("310000", 16), ("320100", 7), ("320500", 6), ("330100", 9), ("330200", 4),
           ("440100", 6), ("440300", 8), ("420100", 5), ("510100", 4), ("610100", 4), ("370100", 3),
           ("120000", 3), ("500000", 2), ("340100", 3), ("430100", 2), ("210100", 2), ("350200", 2)]  # fmt: skip
FIELDS = [code for code, *_ in TECHNOLOGY_FIELDS]
FIELD_WEIGHTS = [30, 22, 3, 6, 9, 8, 7, 6, 1, 6, 2][: len(FIELDS)]
TITLES = {
    "development": "{}项目技术开发合同",
    "transfer": "{}专利权转让合同",
    "consulting": "{}可行性论证技术咨询合同",
    "service": "{}工艺改进技术服务合同",
}
COLUMNS = [
    "registration_no", "registered_on", "contract_type", "title", "seller_name", "seller_type", "seller_region",
    "buyer_name", "buyer_type", "buyer_region", "total_amount", "technology_amount", "field", "objective",
    "plan_level",
]  # fmt: skip


def _pick(rng: random.Random, weighted: list[tuple]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def demo_csv() -> bytes:
    """The demo file: the same bytes on every run."""
    rng = random.Random(SEED)
    field_names = {code: name for code, name, *_ in TECHNOLOGY_FIELDS}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    sequence: dict[tuple[int, str], int] = {}
    for year, count in DEMO_YEARS.items():
        days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        for _ in range(count):
            kind, median = rng.choices(
                [(code, median) for code, _, median in CONTRACT_TYPES],
                weights=[w for _, w, _ in CONTRACT_TYPES],
            )[0]
            seller_region, buyer_region = _pick(rng, REGIONS), _pick(rng, REGIONS)
            province = seller_region[:2]
            sequence[year, province] = sequence.get((year, province), 0) + 1
            # Log-normal amounts around the type's median (in 万元), with the long tail of a real registry.
            total = round(rng.lognormvariate(0, 1.1) * median * 10_000, 2)
            technology = round(total * rng.uniform(0.55, 1.0), 2)
            field = rng.choices(FIELDS, weights=FIELD_WEIGHTS)[0]
            writer.writerow(
                [
                    f"{year}{province}{sequence[year, province]:06d}",
                    (date(year, 1, 1) + timedelta(days=rng.randrange(days))).isoformat(),
                    kind,
                    TITLES[kind].format(field_names[field]),
                    "",
                    _pick(rng, SELLER_TYPES),
                    seller_region,
                    "",
                    _pick(rng, BUYER_TYPES),
                    buyer_region,
                    f"{total:.2f}",
                    f"{technology:.2f}",
                    field,
                    _pick(rng, OBJECTIVES),
                    _pick(rng, PLAN_LEVELS),
                ]
            )
    return buffer.getvalue().encode()


def seed_registrations() -> int:
    """Import the demo registrations; returns how many were created (0 on a rerun)."""
    report = registrations_import(io.BytesIO(demo_csv()), strict=True)
    if report.rejected:  # the generator and the import's rules disagree: a bug to see, not to hide
        raise ValueError(f"demo registrations refused: {report.errors[:3]}")
    return report.created
