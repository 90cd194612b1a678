#!/usr/bin/env python
"""Quality of demand → listing matching, measured on the labelled set in ``bench/matching_eval/``.

    .venv/bin/python bench/matching_quality.py                      # baseline (+ engine when available)
    .venv/bin/python bench/matching_quality.py --rankers baseline,engine

What it does:
1. loads every ``demands_*.jsonl``, ``listings_*.jsonl`` and ``qrels_*.tsv`` of ``bench/matching_eval/`` (parts
   a, b … are picked up by name), validates them (unique refs, known codes, qrels naming existing records, at
   least ``MIN_POSITIVES`` judged pairs per demand) and prints the size of the set;
2. ranks the listings for every demand with each requested ranker. A ranker is a function
   ``rank(demands, listings, k) -> {demand external_ref: [listing external_ref, …]}`` registered in
   ``RANKERS``: ``baseline`` is BM25 over jieba tokens; ``engine`` is the platform's own engine, set up
   lazily through Django (see ``rank_engine``);
3. scores each ranking: nDCG@10 (graded, gain 2^grade − 1, log2 discount, ideal from all judged pairs of the
   demand) and recall@20 (share of the pairs with grade ≥ 1 found in the top 20), their means overall, by field
   of the demand and by part; and recall@20 over the "hard" pairs only — demand and listing share no jieba
   token of two or more characters apart from stopwords and numbers;
4. prints the rankers side by side and writes ``bench/results/matching_quality-<time>.json``.

Needs only jieba and rank_bm25 for the baseline (no Django, no database).
"""

import argparse
import json
import logging
import math
import os
import platform
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EVAL_DIR = BASE_DIR / "bench" / "matching_eval"
RESULTS_DIR = BASE_DIR / "bench" / "results"

NDCG_AT = 10
RECALL_AT = 20
MIN_POSITIVES = 3

# --- reference codes (the same values as marketplace.taxonomy; repeated so that no Django is needed) ---------

FIELDS = {
    "electronic_information": "电子信息",
    "advanced_manufacturing": "先进制造",
    "aerospace": "航空航天",
    "modern_transport": "现代交通",
    "biomedicine": "生物、医药和医疗器械",
    "new_materials": "新材料及其应用",
    "new_energy": "新能源与高效节能",
    "environment": "环境保护与资源综合利用",
    "nuclear": "核应用技术",
    "agriculture": "农业",
    "urban_social": "城市建设与社会发展",
}
OWNER_TYPES = {"enterprise", "university", "research_institute", "intermediary", "government", "other"}
COOPERATION_MODES = {"development", "transfer", "license", "consulting", "service", "joint"}
LISTING_TYPES = {
    "invention_patent",
    "utility_model",
    "design_patent",
    "software",
    "know_how",
    "new_variety",
    "integrated_circuit_layout",
    "other",
}
MATURITIES = {"lab", "pilot", "small_batch", "industrialised"}
TRANSFER_MODES = {"transfer", "exclusive_license", "non_exclusive_license", "equity", "joint_development"}
GRADES = {0, 1, 2, 3}

COMMON_KEYS = ("kind", "external_ref", "title", "field", "region", "owner_name", "owner_type")
DEMAND_KEYS = ("description", "budget_yuan", "cooperation_mode", "deadline")
LISTING_KEYS = ("summary", "listing_type", "maturity", "asking_price_yuan", "transfer_modes")
TEXT_LENGTH = (80, 300)  # characters of description / summary
REGION_RE = re.compile(r"^[1-9]\d{5}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Words of two or more characters that every text of a technology market uses; sharing them says nothing about
# relevance. Used only to define the "hard" pairs, never by the baseline.
STOPWORDS = frozenset(
    [
        "一种",
        "一个",
        "一些",
        "一起",
        "一次",
        "一下",
        "一直",
        "以及",
        "以上",
        "以下",
        "以内",
        "以后",
        "以前",
        "之间",
        "之后",
        "之前",
        "其中",
        "其他",
        "其它",
        "及其",
        "或者",
        "并且",
        "而且",
        "但是",
        "因为",
        "所以",
        "如果",
        "由于",
        "通过",
        "采用",
        "利用",
        "使用",
        "基于",
        "根据",
        "进行",
        "实现",
        "提供",
        "具有",
        "能够",
        "可以",
        "可能",
        "需要",
        "希望",
        "目前",
        "现在",
        "已经",
        "没有",
        "不同",
        "相关",
        "主要",
        "包括",
        "用于",
        "适用",
        "适用于",
        "应用",
        "方法",
        "技术",
        "装置",
        "系统",
        "设备",
        "工艺",
        "及其",
        "制备",
        "制备方法",
        "本发明",
        "发明",
        "公开",
        "实用新型",
        "本实用新型",
        "外观设计",
        "本技术",
        "本系统",
        "本软件",
        "本产品",
        "本团队",
        "本中心",
        "本机构",
        "本布图",
        "设计",
        "结构",
        "组成",
        "问题",
        "方案",
        "效果",
        "要求",
        "情况",
        "方面",
        "部分",
        "过程",
        "提高",
        "降低",
        "减少",
        "增加",
        "解决",
        "改善",
        "改进",
        "优化",
        "控制",
        "检测",
        "分析",
        "研究",
        "开发",
        "合作",
        "服务",
        "支持",
        "提升",
        "我们",
        "我司",
        "我厂",
        "公司",
        "企业",
        "工厂",
        "车间",
        "客户",
        "用户",
        "产品",
        "生产",
        "团队",
        "单位",
        "高校",
        "专家",
        "左右",
        "大概",
        "多少",
        "什么",
        "怎么",
        "这些",
        "那些",
        "这个",
        "那个",
        "还有",
        "还是",
        "就是",
        "只能",
        "只是",
        "不能",
        "不要",
        "不会",
        "比较",
        "非常",
        "特别",
        "明显",
        "经常",
        "全部",
        "整体",
        "成套",
        "实时",
        "在线",
        "自动",
        "快速",
        "有效",
        "显著",
        "良好",
        "较高",
        "较低",
        "可靠",
        "稳定",
        "同时",
        "然后",
        "之类",
        "等等",
        "达到",
        "满足",
        "保证",
        "获得",
        "得到",
        "形成",
        "建立",
        "相比",
        "传统",
        "现有",
        "新型",
        "一体化",
        "能力",
        "作用",
        "性能",
        "质量",
        "成本",
        "效率",
        "时间",
        "周期",
        "方式",
        "领域",
        "场景",
        "环境",
        "条件",
        "作业",
        "行业",
        "国内",
        "国外",
        "材料",
        "表面",
        "处理",
        "参数",
        "温度",
        "零件",
        "部件",
        "加工",
        "尺寸",
        "精度",
        "状态",
        "数据",
        "模型",
        "信号",
        "测试",
        "试验",
        "工作",
        "人工",
        "工序",
        "批次",
        "批量",
        "小时",
        "寿命",
        "等级",
        "标准",
        "内部",
        "外部",
        "一致性",
        "配套",
        "合格",
        "不良",
        "安装",
        "操作",
        "结果",
        "程度",
        "类型",
        "部位",
        "位置",
        "区域",
        "大量",
        "较大",
        "较小",
        "各种",
        "多种",
        "进一步",
        "工业",
        "行业",
        "材质",
        "工件",
        "设计方法",
        "有限公司",
        "大学",
        "学院",
    ]
)

Ranker = Callable[[list[dict], list[dict], int], dict[str, list[str]]]


class DataError(Exception):
    """The evaluation files are inconsistent; the message lists every problem found."""


class EngineUnavailable(Exception):
    """The platform's matching engine cannot be run (not written yet, or Django cannot be set up)."""


# --- loading and validation ----------------------------------------------------------------------------------


def part_of(path: Path) -> str:
    """``demands_a.jsonl`` → ``a``."""
    return path.stem.split("_", 1)[1] if "_" in path.stem else path.stem


def _read_jsonl(path: Path, problems: list[str]) -> list[dict]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{number}: not JSON ({exc})")
                continue
            if not isinstance(record, dict):
                problems.append(f"{path.name}:{number}: not a JSON object")
                continue
            record["_part"] = part_of(path)
            record["_where"] = f"{path.name}:{number}"
            records.append(record)
    return records


def _check_record(record: dict, kind: str, problems: list[str]) -> None:
    where = record["_where"]
    expected = COMMON_KEYS + (DEMAND_KEYS if kind == "demand" else LISTING_KEYS)
    missing = [key for key in expected if key not in record]
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
        return
    if record["kind"] != kind:
        problems.append(f"{where}: kind {record['kind']!r}, expected {kind!r}")
    for key in ("external_ref", "title", "owner_name"):
        if not isinstance(record[key], str) or not record[key].strip():
            problems.append(f"{where}: {key} must be a non-empty string")
    field = record["field"]
    if not isinstance(field, str) or field.split(".", 1)[0] not in FIELDS:
        problems.append(f"{where}: unknown field {field!r}")
    if not isinstance(record["region"], str) or not REGION_RE.match(record["region"]):
        problems.append(f"{where}: region {record['region']!r} is not a six-digit GB/T 2260 code")
    if record["owner_type"] not in OWNER_TYPES:
        problems.append(f"{where}: unknown owner_type {record['owner_type']!r}")
    text_key = "description" if kind == "demand" else "summary"
    text = record[text_key]
    if not isinstance(text, str) or not TEXT_LENGTH[0] <= len(text.strip()) <= TEXT_LENGTH[1]:
        length = len(text.strip()) if isinstance(text, str) else "no"
        problems.append(
            f"{where}: {text_key} has {length} characters, expected {TEXT_LENGTH[0]}–{TEXT_LENGTH[1]}"
        )
    if kind == "demand":
        if record["cooperation_mode"] not in COOPERATION_MODES:
            problems.append(f"{where}: unknown cooperation_mode {record['cooperation_mode']!r}")
        _check_amount(record, "budget_yuan", problems)
        deadline = record["deadline"]
        if deadline is not None and (not isinstance(deadline, str) or not DATE_RE.match(deadline)):
            problems.append(f"{where}: deadline {deadline!r} is not an ISO date or null")
    else:
        if record["listing_type"] not in LISTING_TYPES:
            problems.append(f"{where}: unknown listing_type {record['listing_type']!r}")
        if record["maturity"] not in MATURITIES:
            problems.append(f"{where}: unknown maturity {record['maturity']!r}")
        _check_amount(record, "asking_price_yuan", problems)
        modes = record["transfer_modes"]
        if not isinstance(modes, list) or not modes or not set(modes) <= TRANSFER_MODES:
            problems.append(
                f"{where}: transfer_modes {modes!r} must be a non-empty list of {sorted(TRANSFER_MODES)}"
            )


def _check_amount(record: dict, key: str, problems: list[str]) -> None:
    value = record[key]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        problems.append(f"{record['_where']}: {key} {value!r} must be a non-negative integer or null")


def load_eval_set(eval_dir: Path = EVAL_DIR) -> tuple[list[dict], list[dict], dict[str, dict[str, int]]]:
    """Demands, listings and qrels (demand ref → {listing ref: grade ≥ 1}) of every part; DataError otherwise."""
    problems: list[str] = []
    demand_files = sorted(eval_dir.glob("demands_*.jsonl"))
    listing_files = sorted(eval_dir.glob("listings_*.jsonl"))
    qrels_files = sorted(eval_dir.glob("qrels_*.tsv"))
    if not demand_files or not listing_files or not qrels_files:
        raise DataError(f"{eval_dir}: needs demands_*.jsonl, listings_*.jsonl and qrels_*.tsv files")

    demands = [record for path in demand_files for record in _read_jsonl(path, problems)]
    listings = [record for path in listing_files for record in _read_jsonl(path, problems)]
    for record in demands:
        _check_record(record, "demand", problems)
    for record in listings:
        _check_record(record, "listing", problems)

    seen: dict[str, str] = {}
    for record in demands + listings:
        ref = record.get("external_ref")
        if not isinstance(ref, str):
            continue
        if ref in seen:
            problems.append(f"{record['_where']}: external_ref {ref!r} already used at {seen[ref]}")
        seen[ref] = record["_where"]
    demand_refs = {record.get("external_ref") for record in demands}
    listing_refs = {record.get("external_ref") for record in listings}

    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for path in qrels_files:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split("\t")
            if header != ["demand_ref", "listing_ref", "grade"]:
                problems.append(
                    f"{path.name}:1: header must be demand_ref<TAB>listing_ref<TAB>grade, not {header}"
                )
            for number, line in enumerate(handle, 2):
                if not line.strip():
                    continue
                cells = line.rstrip("\n").split("\t")
                where = f"{path.name}:{number}"
                if len(cells) != 3:
                    problems.append(f"{where}: expected 3 tab-separated cells, found {len(cells)}")
                    continue
                demand_ref, listing_ref, grade_text = cells
                try:
                    grade = int(grade_text)
                except ValueError:
                    grade = -1
                if grade not in GRADES:
                    problems.append(f"{where}: grade {grade_text!r} is not one of 0, 1, 2, 3")
                    continue
                if demand_ref not in demand_refs:
                    problems.append(f"{where}: demand_ref {demand_ref!r} names no demand")
                if listing_ref not in listing_refs:
                    problems.append(f"{where}: listing_ref {listing_ref!r} names no listing")
                if listing_ref in qrels.get(demand_ref, {}):
                    problems.append(f"{where}: pair {demand_ref} / {listing_ref} judged twice")
                if grade > 0:
                    qrels[demand_ref][listing_ref] = grade
                else:
                    qrels[demand_ref].setdefault(listing_ref, 0)
    qrels = {ref: {lref: g for lref, g in judged.items() if g > 0} for ref, judged in qrels.items()}

    for record in demands:
        ref = record.get("external_ref")
        positives = len(qrels.get(ref, {}))
        if positives < MIN_POSITIVES:
            problems.append(
                f"{record['_where']}: demand {ref} has {positives} positive pairs, needs {MIN_POSITIVES}"
            )

    if problems:
        raise DataError(f"{len(problems)} problem(s) in {eval_dir}:\n  " + "\n  ".join(problems))
    return demands, listings, {ref: judged for ref, judged in qrels.items() if judged}


# --- tokens --------------------------------------------------------------------------------------------------

_jieba = None


def tokenize(text: str) -> list[str]:
    """jieba.lcut with the default dictionary, lower-cased, without whitespace/punctuation-only tokens."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return [
        token for token in (t.strip().lower() for t in _jieba.lcut(text)) if any(c.isalnum() for c in token)
    ]


def demand_text(demand: dict) -> str:
    return f"{demand['title']}\n{demand['description']}"


def listing_text(listing: dict) -> str:
    return f"{listing['title']}\n{listing['summary']}"


def content_tokens(text: str) -> set[str]:
    """Tokens that could show lexical overlap: two or more characters, not a stopword, not a number."""
    return {
        token
        for token in tokenize(text)
        if len(token) >= 2 and token not in STOPWORDS and not token.replace(".", "").isdigit()
    }


# --- rankers -------------------------------------------------------------------------------------------------


def rank_baseline(demands: list[dict], listings: list[dict], k: int) -> dict[str, list[str]]:
    """BM25Okapi over the listings' title + summary, each demand's title + description as the query."""
    from rank_bm25 import BM25Okapi

    corpus = [tokenize(listing_text(listing)) for listing in listings]
    bm25 = BM25Okapi(corpus)
    refs = [listing["external_ref"] for listing in listings]
    rankings = {}
    for demand in demands:
        scores = bm25.get_scores(tokenize(demand_text(demand)))
        order = sorted(range(len(refs)), key=lambda i: (-scores[i], i))
        rankings[demand["external_ref"]] = [refs[i] for i in order[:k]]
    return rankings


# ============================================================================================================
# ENGINE RANKER — the platform's matching core (brokers.text + brokers.engine) on the same records. The
# platform builds the same ``Record``s from its database rows (brokers/matching.py); ranking needs no Django.
# ============================================================================================================


def engine_records(items: list[dict], text_key: str, analyzer) -> list:
    from brokers.engine import Record

    records = []
    for number, item in enumerate(items):
        modes = item.get("transfer_modes") or (
            [item["cooperation_mode"]] if item.get("cooperation_mode") else []
        )
        records.append(
            Record(
                id=number,
                title_terms=analyzer.terms(item.get("title", "")),
                body_terms=analyzer.terms(item.get(text_key, "")),
                field=item.get("field", ""),
                region=str(item.get("region", "")),
                modes=frozenset(modes),
                maturity=item.get("maturity", ""),
            )
        )
    return records


def rank_engine(demands: list[dict], listings: list[dict], k: int) -> dict[str, list[str]]:
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    try:
        from brokers.engine import Corpus
        from brokers.text import Analyzer
    except ImportError as exc:
        raise EngineUnavailable(f"engine not available: {exc}") from exc
    analyzer = Analyzer(segmenter=os.environ.get("MATCHING_SEGMENTER", "rjieba"))
    corpus = Corpus(engine_records(listings, "summary", analyzer), analyzer)
    queries = engine_records(demands, "description", analyzer)
    rankings = {}
    for demand, query in zip(demands, queries, strict=True):
        rankings[demand["external_ref"]] = [
            listings[m.id]["external_ref"] for m in corpus.rank(query, limit=k)
        ]
    return rankings


RANKERS: dict[str, Ranker] = {
    "baseline": rank_baseline,
    "engine": rank_engine,  # registered lazily: nothing of Django is imported until it is called
}


# --- metrics -------------------------------------------------------------------------------------------------


def ndcg(ranked: list[str], judged: dict[str, int], at: int = NDCG_AT) -> float:
    gain = sum((2 ** judged.get(ref, 0) - 1) / math.log2(i + 2) for i, ref in enumerate(ranked[:at]))
    ideal_grades = sorted(judged.values(), reverse=True)[:at]
    ideal = sum((2**grade - 1) / math.log2(i + 2) for i, grade in enumerate(ideal_grades))
    return gain / ideal if ideal else 0.0


def recall(ranked: list[str], judged: dict[str, int], at: int = RECALL_AT) -> float:
    top = set(ranked[:at])
    return sum(1 for ref in judged if ref in top) / len(judged) if judged else 0.0


def hard_pairs(
    demands: list[dict], listings: list[dict], qrels: dict[str, dict[str, int]]
) -> set[tuple[str, str]]:
    """Judged pairs whose texts share no content token (see ``content_tokens``)."""
    demand_tokens = {d["external_ref"]: content_tokens(demand_text(d)) for d in demands}
    listing_tokens = {item["external_ref"]: content_tokens(listing_text(item)) for item in listings}
    return {
        (dref, lref)
        for dref, judged in qrels.items()
        for lref in judged
        if not demand_tokens[dref] & listing_tokens[lref]
    }


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(
    rankings: dict[str, list[str]],
    demands: list[dict],
    qrels: dict[str, dict[str, int]],
    hard: set[tuple[str, str]],
) -> dict:
    per_demand = []
    for demand in demands:
        ref = demand["external_ref"]
        ranked = rankings.get(ref, [])
        judged = qrels[ref]
        per_demand.append(
            {
                "demand": ref,
                "part": demand["_part"],
                "field": demand["field"].split(".", 1)[0],
                "ndcg@10": ndcg(ranked, judged),
                "recall@20": recall(ranked, judged),
                "found@20": sorted(lref for lref in judged if lref in set(ranked[:RECALL_AT])),
                "top10": ranked[:NDCG_AT],
            }
        )

    def summary(rows: list[dict]) -> dict:
        return {
            "demands": len(rows),
            "ndcg@10": mean([row["ndcg@10"] for row in rows]),
            "recall@20": mean([row["recall@20"] for row in rows]),
        }

    by_field: dict[str, list[dict]] = defaultdict(list)
    by_part: dict[str, list[dict]] = defaultdict(list)
    for row in per_demand:
        by_field[row["field"]].append(row)
        by_part[row["part"]].append(row)

    found = {(row["demand"], lref) for row in per_demand for lref in row["found@20"]}
    all_pairs = {(dref, lref) for dref, judged in qrels.items() for lref in judged}
    easy = all_pairs - hard
    return {
        "overall": summary(per_demand),
        "hard": {
            "pairs": len(hard),
            "recall@20": len(hard & found) / len(hard) if hard else None,
        },
        "not_hard": {
            "pairs": len(easy),
            "recall@20": len(easy & found) / len(easy) if easy else None,
        },
        "by_field": {field: summary(rows) for field, rows in sorted(by_field.items())},
        "by_part": {part: summary(rows) for part, rows in sorted(by_part.items())},
        "per_demand": per_demand,
    }


# --- report --------------------------------------------------------------------------------------------------


def print_table(results: dict[str, dict]) -> None:
    names = list(results)
    width = 12

    def line(label: str, values: list[str]) -> None:
        print(f"  {label:<44}" + "".join(f"{value:>{width}}" for value in values))

    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    print()
    line("", names)
    first = results[names[0]]
    line(
        f"nDCG@10, mean of {first['overall']['demands']} demands",
        [fmt(r["overall"]["ndcg@10"]) for r in results.values()],
    )
    line("recall@20, mean", [fmt(r["overall"]["recall@20"]) for r in results.values()])
    line(
        f"recall@20, hard pairs ({first['hard']['pairs']})",
        [fmt(r["hard"]["recall@20"]) for r in results.values()],
    )
    line(
        f"recall@20, other pairs ({first['not_hard']['pairs']})",
        [fmt(r["not_hard"]["recall@20"]) for r in results.values()],
    )
    print("\n  by field of the demand (nDCG@10 / recall@20)")
    for field, row in first["by_field"].items():
        line(
            f"  {field} ({row['demands']})",
            [
                f"{r['by_field'][field]['ndcg@10']:.2f}/{r['by_field'][field]['recall@20']:.2f}"
                for r in results.values()
            ],
        )
    print("\n  by part (nDCG@10 / recall@20)")
    for part, row in first["by_part"].items():
        line(
            f"  part {part} ({row['demands']})",
            [
                f"{r['by_part'][part]['ndcg@10']:.2f}/{r['by_part'][part]['recall@20']:.2f}"
                for r in results.values()
            ],
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rankers",
        help=f"comma-separated names among {', '.join(RANKERS)} (default: baseline, plus engine if available)",
    )
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR, help="directory of the labelled set")
    parser.add_argument("--no-write", action="store_true", help="print only; write no JSON result")
    args = parser.parse_args(argv)

    try:
        demands, listings, qrels = load_eval_set(args.eval_dir)
    except DataError as exc:
        print(f"matching_quality: {exc}", file=sys.stderr)
        return 2

    grades = defaultdict(int)
    for judged in qrels.values():
        for grade in judged.values():
            grades[grade] += 1
    parts = sorted({record["_part"] for record in demands + listings})
    print(
        f"evaluation set ({', '.join('part ' + p for p in parts)}): {len(demands)} demands, {len(listings)} listings, "
        f"{sum(grades.values())} judged pairs (grade 3: {grades[3]}, 2: {grades[2]}, 1: {grades[1]})"
    )
    for part in parts:
        print(
            f"  part {part}: {sum(1 for d in demands if d['_part'] == part)} demands, "
            f"{sum(1 for item in listings if item['_part'] == part)} listings"
        )

    if args.rankers:
        names = [name.strip() for name in args.rankers.split(",") if name.strip()]
        unknown = [name for name in names if name not in RANKERS]
        if unknown:
            print(
                f"matching_quality: unknown ranker(s) {', '.join(unknown)}; known: {', '.join(RANKERS)}",
                file=sys.stderr,
            )
            return 2
        explicit = True
    else:
        names = ["baseline", "engine"]
        explicit = False

    hard = hard_pairs(demands, listings, qrels)
    k = max(NDCG_AT, RECALL_AT)
    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    for name in names:
        started = time.perf_counter()
        try:
            rankings = RANKERS[name](demands, listings, k)
        except EngineUnavailable as exc:
            if explicit:
                print(f"matching_quality: {name}: {exc}", file=sys.stderr)
                return 3
            print(f"  ({name} skipped: {exc})")
            continue
        timings[name] = time.perf_counter() - started
        results[name] = evaluate(rankings, demands, qrels, hard)
        print(f"  {name}: ranked {len(demands)} demands in {timings[name]:.2f} s")

    print_table(results)

    if not args.no_write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"matching_quality-{stamp}.json"
        payload = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "set": {
                "dir": str(args.eval_dir),
                "parts": parts,
                "demands": len(demands),
                "listings": len(listings),
                "judged_pairs": {str(grade): count for grade, count in sorted(grades.items())},
                "hard_pairs": sorted(f"{d}\t{item}" for d, item in hard),
            },
            "metrics": {"ndcg_at": NDCG_AT, "recall_at": RECALL_AT},
            "seconds": timings,
            "rankers": results,
        }
        out.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"written {out.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
