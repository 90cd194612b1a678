"""Loads the reference taxonomies of SPEC §2 into the database; called by data migrations.

Idempotent: rows are upserted by code, so a later migration can call it again after the lists change.
"""

import json
from pathlib import Path

from django.utils import translation

REGIONS_FILE = Path(__file__).resolve().parent / "data" / "regions.json"


def load_reference_data(apps, schema_editor=None) -> None:
    from marketplace.taxonomy import CODE_LISTS, TECHNOLOGY_FIELDS

    Region = apps.get_model("marketplace", "Region")
    TechnologyField = apps.get_model("marketplace", "TechnologyField")
    Classification = apps.get_model("marketplace", "Classification")

    rows = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    # Provinces first so that every city's parent exists when it is written.
    for row in sorted(rows, key=lambda r: (r.get("parent") is not None, r["code"])):
        Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "level": row["level"],
                "parent_id": row.get("parent"),
            },
        )

    for order, (code, zh, en, children) in enumerate(TECHNOLOGY_FIELDS, start=1):
        TechnologyField.objects.update_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "parent_id": None, "sort_order": order * 100}
        )
        for sub_order, (sub, sub_zh, sub_en) in enumerate(children, start=1):
            TechnologyField.objects.update_or_create(
                code=f"{code}.{sub}",
                defaults={
                    "name_zh": sub_zh,
                    "name_en": sub_en,
                    "parent_id": code,
                    "sort_order": order * 100 + sub_order,
                },
            )

    for scheme, choices in CODE_LISTS.items():
        for order, member in enumerate(choices, start=1):
            with translation.override("zh-hans"):
                zh = str(member.label)
            with translation.override("en"):
                en = str(member.label)
            Classification.objects.update_or_create(
                scheme=scheme, code=member.value, defaults={"name_zh": zh, "name_en": en, "sort_order": order}
            )
