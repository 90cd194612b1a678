"""The ranking core: segmentation with a domain dictionary, concept bridging, agreement factors, explanations."""

import pytest

from brokers.engine import Corpus, Record
from brokers.text import Analyzer


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    data = tmp_path_factory.mktemp("vocabulary")
    (data / "domain_terms.txt").write_text("# 先进制造\n随形冷却 2000\n模温机\n", encoding="utf-8")
    (data / "related_terms.txt").write_text(
        "injection_defects\trel\t银纹 气泡 缩痕 注塑缺陷 工艺参数优化 响应面法\ncod\tsyn\tcod 化学需氧量\n",
        encoding="utf-8",
    )
    (data / "stopwords.txt").write_text("我司\n一种\n方法\n", encoding="utf-8")
    return Analyzer(data_dir=data)


def record(analyzer, id, title, body="", **kwargs):
    return Record(id=id, title_terms=analyzer.terms(title), body_terms=analyzer.terms(body), **kwargs)


def test_domain_terms_stay_whole_and_stop_words_and_numbers_go(analyzer):
    terms = analyzer.terms("我司模具需要随形冷却，模温机设定60℃；ＣＯＤ 120mg/L")

    assert "随形冷却" in terms
    assert "模温机" in terms
    assert "我司" not in terms
    assert "60" not in terms
    assert "cod" in terms  # full-width letters normalised and lower-cased


def test_a_concept_bridges_plant_words_to_academic_words(analyzer):
    corpus = Corpus(
        [
            record(analyzer, 1, "基于响应面法的注塑工艺参数优化方法", "以正交试验确定料筒温度与保压时间。"),
            record(analyzer, 2, "一种医用注射器的装配线", "提高注射器装配效率。"),
            record(analyzer, 3, "印染废水化学需氧量快速测定", "在线检测。"),
        ],
        analyzer,
    )
    query = record(analyzer, 10, "外壳表面银纹、气泡，返工多", "浇口附近有银纹。")

    matches = corpus.rank(query, limit=5)

    assert [m.id for m in matches] == [1]
    bridges = matches[0].explanation["bridges"]
    assert bridges == [
        {
            "concept": "injection_defects",
            "query_terms": ["气泡", "银纹"],
            "match_terms": ["响应面法", "工艺参数优化"],
        }
    ]


def test_field_region_and_mode_agreement_break_a_lexical_tie_and_are_explained(analyzer):
    twin = "一种注塑模具随形冷却水路"
    corpus = Corpus(
        [
            record(analyzer, 1, twin, field="new_materials", region="440300", modes=frozenset({"transfer"})),
            record(
                analyzer,
                2,
                twin,
                field="advanced_manufacturing",
                region="330100",
                modes=frozenset({"joint_development"}),
            ),
        ],
        analyzer,
    )
    query = record(
        analyzer,
        10,
        "模具随形冷却改造",
        field="advanced_manufacturing",
        region="330200",
        modes=frozenset({"development"}),
    )

    first, second = corpus.rank(query, limit=5)

    assert (first.id, second.id) == (2, 1)
    assert first.score > second.score
    assert first.explanation["same_field"] is True
    assert first.explanation["region"] == "same_province"
    assert first.explanation["mode_fits"] is True
    assert second.explanation["same_field"] is False
    assert second.explanation["region"] == "other"
    assert (
        first.explanation["shared_terms"][:2] == ["随形冷却", "模具"]
        or "随形冷却" in first.explanation["shared_terms"]
    )


def test_nothing_shared_means_no_match_and_excluded_records_are_left_out(analyzer):
    corpus = Corpus([record(analyzer, 1, "随形冷却模具"), record(analyzer, 2, "印染废水处理")], analyzer)

    assert corpus.rank(record(analyzer, 10, "大棚番茄死苗"), limit=5) == []
    assert [m.id for m in corpus.rank(record(analyzer, 11, "随形冷却"), limit=5, exclude={1})] == []


def test_text_hash_changes_with_the_text_and_with_the_vocabulary(analyzer, tmp_path):
    same = analyzer.text_hash("标题", "摘要")
    assert analyzer.text_hash("标题", "摘要") == same
    assert analyzer.text_hash("标题", "摘要。") != same
    for name in ("domain_terms.txt", "related_terms.txt", "stopwords.txt"):
        (tmp_path / name).write_text((analyzer.data_dir / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "stopwords.txt").write_text("我司\n", encoding="utf-8")
    assert Analyzer(data_dir=tmp_path).text_hash("标题", "摘要") != same
