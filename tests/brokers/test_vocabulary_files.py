"""Format checks for the matching vocabulary in brokers/data (plain Python, no Django, no jieba).

The three files are read by the matching engine: ``domain_terms.txt`` (user dictionary for jieba/rjieba),
``related_terms.txt`` (synonym and problem→approach groups) and ``stopwords.txt``. Each checker returns a list of
error messages naming the file line, so a malformed line is reported precisely.
"""

import re
from collections import Counter
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "brokers" / "data"

FIELDS = (
    "electronic_information",
    "advanced_manufacturing",
    "aerospace",
    "modern_transport",
    "biomedicine",
    "new_materials",
    "new_energy",
    "environment",
    "nuclear",
    "agriculture",
    "urban_social",
)

# Characters jieba keeps together in one block (its default ``re_han``): a term made of anything else would be cut
# apart before the dictionary is consulted, so it could never match as a unit.
TERM_RE = re.compile(r"^[\u4e00-\u9fd5A-Za-z0-9+#&._%\-]+$")
CONCEPT_ID_RE = re.compile(r"^[a-z0-9_]+$")
MIN_TERM_CHARS, MAX_TERM_CHARS = 2, 16
MIN_GROUP_TERMS, MAX_GROUP_TERMS = 3, 20


def _section_field(line):
    """``# new_energy — batteries`` → ``new_energy``; ``None`` when the comment names no field."""
    words = line[1:].split()
    return words[0] if words and words[0] in FIELDS else None


def _check_term(term, where, errors):
    if not TERM_RE.match(term):
        errors.append(f"{where}: term {term!r} has characters jieba would split on")
    elif not MIN_TERM_CHARS <= len(term) <= MAX_TERM_CHARS:
        errors.append(f"{where}: term {term!r} is not {MIN_TERM_CHARS}–{MAX_TERM_CHARS} characters long")


def parse_domain_terms(text, name="domain_terms.txt"):
    """Return ``({term: field}, errors)``; lines are ``term`` or ``term freq``, ``# field …`` starts a section."""
    terms, errors, field = {}, [], None
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{name}:{number}"
        if not line.strip():
            continue
        if line.startswith("#"):
            field = _section_field(line)
            if field is None:
                errors.append(f"{where}: section comment does not start with a field code: {line!r}")
            continue
        if field is None:
            errors.append(f"{where}: term before any '# field' section")
        parts = line.split(" ")
        if len(parts) > 2 or line != line.strip() or "\t" in line:
            errors.append(f"{where}: expected 'term' or 'term freq', got {line!r}")
            continue
        if len(parts) == 2 and not (parts[1].isdigit() and int(parts[1]) > 0):
            errors.append(f"{where}: frequency {parts[1]!r} is not a positive integer")
            continue
        term = parts[0]
        _check_term(term, where, errors)
        if term in terms:
            errors.append(f"{where}: duplicate term {term!r}")
            continue
        terms[term] = field
    return terms, errors


def parse_related_terms(text, name="related_terms.txt"):
    """Return ``({concept_id: (kind, [terms], field)}, errors)``; lines are ``id<TAB>syn|rel<TAB>t1 t2 …``."""
    groups, errors, field = {}, [], None
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{name}:{number}"
        if not line.strip():
            continue
        if line.startswith("#"):
            field = _section_field(line)
            if field is None:
                errors.append(f"{where}: section comment does not start with a field code: {line!r}")
            continue
        if field is None:
            errors.append(f"{where}: group before any '# field' section")
        columns = line.split("\t")
        if len(columns) != 3:
            errors.append(f"{where}: expected 3 tab-separated columns, got {len(columns)}")
            continue
        concept_id, kind, joined = columns
        if not CONCEPT_ID_RE.match(concept_id):
            errors.append(f"{where}: concept id {concept_id!r} is not lower_snake_case")
        if kind not in ("syn", "rel"):
            errors.append(f"{where}: kind {kind!r} is neither 'syn' nor 'rel'")
        terms = joined.split(" ")
        if "" in terms:
            errors.append(f"{where}: empty term (doubled, leading or trailing space)")
            terms = [term for term in terms if term]
        for term in terms:
            _check_term(term, where, errors)
        duplicated = sorted(term for term, count in Counter(terms).items() if count > 1)
        if duplicated:
            errors.append(f"{where}: term repeated within the group: {', '.join(duplicated)}")
        if not MIN_GROUP_TERMS <= len(set(terms)) <= MAX_GROUP_TERMS:
            errors.append(f"{where}: {len(set(terms))} terms, expected {MIN_GROUP_TERMS}–{MAX_GROUP_TERMS}")
        if concept_id in groups:
            errors.append(f"{where}: duplicate concept id {concept_id!r}")
            continue
        groups[concept_id] = (kind, terms, field)
    return groups, errors


def parse_stopwords(text, name="stopwords.txt"):
    """Return ``(set of words, errors)``; one word per line, no comments."""
    words, errors = set(), []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{name}:{number}"
        if not line or line != line.strip() or " " in line or "\t" in line or line.startswith("#"):
            errors.append(f"{where}: expected one word, got {line!r}")
            continue
        if line in words:
            errors.append(f"{where}: duplicate stopword {line!r}")
        words.add(line)
    return words, errors


def _read(name):
    return (DATA_DIR / name).read_text(encoding="utf-8")


# --- the shipped files --------------------------------------------------------------------------------------


def test_domain_terms_are_well_formed_and_cover_every_field():
    terms, errors = parse_domain_terms(_read("domain_terms.txt"))

    assert errors == []
    assert len(terms) >= 3000
    per_field = Counter(terms.values())
    assert set(per_field) == set(FIELDS)
    assert min(per_field.values()) >= 100, per_field


def test_related_terms_are_well_formed_and_cover_every_field():
    groups, errors = parse_related_terms(_read("related_terms.txt"))

    assert errors == []
    assert len(groups) >= 400
    per_field = Counter(field for _kind, _terms, field in groups.values())
    assert set(per_field) == set(FIELDS)
    assert min(per_field.values()) >= 10, per_field
    kinds = Counter(kind for kind, _terms, _field in groups.values())
    assert kinds["syn"] >= 100, kinds
    assert kinds["rel"] >= 300, kinds


def test_stopwords_are_well_formed():
    words, errors = parse_stopwords(_read("stopwords.txt"))

    assert errors == []
    assert 300 <= len(words) <= 700
    # Function words and market boilerplate are in; domain words are not.
    assert {"我们", "我司", "公司", "本发明", "公开了", "一种", "及其"} <= words
    assert {"方法", "装置", "系统", "技术", "合作", "需求", "希望", "解决"} <= words
    assert not {"能耗", "故障诊断", "废水", "检测", "缺陷", "控制"} & words
    assert not {"数据", "增强", "软件", "维修", "机构", "本体"} & words


def test_no_stopword_is_a_domain_term_or_a_related_term():
    words, _ = parse_stopwords(_read("stopwords.txt"))
    domain_terms, _ = parse_domain_terms(_read("domain_terms.txt"))
    groups, _ = parse_related_terms(_read("related_terms.txt"))
    related = {term for _kind, terms, _field in groups.values() for term in terms}

    assert sorted(words & set(domain_terms)) == []
    assert sorted(words & related) == []


def test_brief_examples_are_bridged():
    """A few plant words reach the academic approach through one group (spot checks of the table's purpose)."""
    groups, _ = parse_related_terms(_read("related_terms.txt"))

    def together(*terms):
        return any(set(terms) <= set(group_terms) for _kind, group_terms, _field in groups.values())

    assert together("银纹", "料花")
    assert together("银纹", "工艺参数优化", "模流分析")
    assert together("异响", "故障诊断", "振动信号")
    assert together("印染废水", "高级氧化", "芬顿")
    assert together("SOC", "荷电状态")
    assert together("连作障碍", "生防菌剂")
    assert together("渗滤液", "DTRO")
    assert not together("银纹", "芬顿")


# --- the checkers themselves (negative cases) ---------------------------------------------------------------


def test_domain_terms_checker_reports_bad_lines_by_number():
    text = "# advanced_manufacturing — moulds\n银纹 2000\n银纹\n缩痕 x\n一 \n毛刺 1 2\n# other\n模温机\n"

    terms, errors = parse_domain_terms(text, "t.txt")

    assert terms == {"银纹": "advanced_manufacturing", "模温机": None}
    assert errors == [
        "t.txt:3: duplicate term '银纹'",
        "t.txt:4: frequency 'x' is not a positive integer",
        "t.txt:5: expected 'term' or 'term freq', got '一 '",
        "t.txt:6: expected 'term' or 'term freq', got '毛刺 1 2'",
        "t.txt:7: section comment does not start with a field code: '# other'",
        "t.txt:8: term before any '# field' section",
    ]


def test_related_terms_checker_reports_bad_lines_by_number():
    text = (
        "# environment — water\n"
        "cod\tsyn\tCOD 化学需氧量 CODcr\n"
        "cod\tsyn\tCOD 化学需氧量 CODcr\n"
        "bod\tsame\tBOD 生化需氧量 BOD5\n"
        "tn\trel\t总氮  脱氮 反硝化\n"
        "tp\trel\t总磷 除磷\n"
        "ss syn 悬浮物 SS 固体悬浮物\n"
        "Bad-Id\trel\t臭氧 臭氧 芬顿 γ射线\n"
    )

    groups, errors = parse_related_terms(text, "r.txt")

    assert sorted(groups) == ["Bad-Id", "bod", "cod", "tn", "tp"]
    assert errors == [
        "r.txt:3: duplicate concept id 'cod'",
        "r.txt:4: kind 'same' is neither 'syn' nor 'rel'",
        "r.txt:5: empty term (doubled, leading or trailing space)",
        "r.txt:6: 2 terms, expected 3–20",
        "r.txt:7: expected 3 tab-separated columns, got 1",
        "r.txt:8: concept id 'Bad-Id' is not lower_snake_case",
        "r.txt:8: term 'γ射线' has characters jieba would split on",
        "r.txt:8: term repeated within the group: 臭氧",
    ]


def test_stopwords_checker_reports_bad_lines_by_number():
    words, errors = parse_stopwords("我们\n公司\n我们\n\n# note\n一 种\n", "s.txt")

    assert words == {"我们", "公司"}
    assert errors == [
        "s.txt:3: duplicate stopword '我们'",
        "s.txt:4: expected one word, got ''",
        "s.txt:5: expected one word, got '# note'",
        "s.txt:6: expected one word, got '一 种'",
    ]
