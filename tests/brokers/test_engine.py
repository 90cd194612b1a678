"""The ranking core: segmentation with a domain dictionary, concept bridging, agreement factors, explanations."""

import numpy as np
import pytest

from brokers import engine
from brokers.engine import (
    BONUS,
    FEEDBACK_DOCS,
    FEEDBACK_TERMS,
    FEEDBACK_WEIGHT,
    Corpus,
    Record,
    top_positions,
)
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


def plain_terms(analyzer, text):
    """``Analyzer.terms`` by its definition: each chunk's precise words twice, then the search mode's extra
    pieces (its words less the precise ones, in the order first found), each kept by ``_keep``."""
    import unicodedata
    from collections import Counter

    from brokers.text import _WORD

    precise, search = analyzer._precise, analyzer._search
    terms = []
    for chunk in _WORD.findall(unicodedata.normalize("NFKC", text or "").lower()):
        if chunk[0].isascii():
            pieces = [chunk]
        else:
            whole = precise(chunk)
            extra = Counter(search(chunk))
            extra.subtract(whole)
            pieces = whole + whole + [w for w, n in extra.items() for _ in range(max(n, 0))]
        terms += [p.strip() for p in pieces if analyzer._keep(p.strip())]
    return terms


@pytest.mark.parametrize("remembered", [1_000_000, 3])
def test_terms_are_their_definitions_however_many_pieces_are_remembered(analyzer, monkeypatch, remembered):
    monkeypatch.setattr(analyzer, "JUDGED_AT_MOST", remembered)
    analyzer._judged.clear()
    texts = [
        "我司模具需要随形冷却，模温机设定60℃；ＣＯＤ 120mg/L",
        "注塑机注塑工艺参数优化，银纹气泡缩痕；一种方法 PLC c++ 4.5 x a b",
        "中华人民共和国自行车行业的注塑机和模温机，注塑机再注塑机",
        "",
        "   ",
    ]
    for _ in range(2):  # the second time from what the first remembered (or forgot)
        for text in texts:
            assert analyzer.terms(text) == plain_terms(analyzer, text)
    assert len(analyzer._judged) <= max(remembered, 1)
    blob = "data:image/png;base64," + "ab+c/" * 2000  # one ASCII chunk of 10,000 characters
    assert analyzer.terms(blob) == plain_terms(analyzer, blob)
    assert all(len(piece) <= analyzer.JUDGED_LONGEST for piece in analyzer._judged)  # judged, not remembered
    assert analyzer.terms(texts[2]).count("注塑机") == 6  # a whole word counts twice, each of 3 times


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


# --- the fast paths give what the plain computation gives --------------------------------------------------


def full_sort_top(scores, k):
    """The plain definition: sort every positive score (descending, equal scores by position), keep k."""
    positive = np.flatnonzero(scores > 0)
    return positive[np.lexsort((positive, -scores[positive]))][:k]


@pytest.mark.parametrize(("n", "k"), [(50, 5), (1000, 10), (40_000, 100), (200_000, 1000)])
def test_top_positions_keeps_the_set_a_full_sort_keeps_ties_included(n, k):
    rng = np.random.default_rng(n)
    for trial in range(6):
        # Few distinct values (many ties at the boundary), zeros, and sometimes fewer positives than k.
        scores = rng.integers(0, [5, 50, 1000, 3][trial % 4], size=n).astype(np.float64)
        if trial == 5:
            scores[rng.random(n) < 0.999] = 0.0
        got = top_positions(scores, k)
        assert sorted(got.tolist()) == sorted(full_sort_top(scores, k).tolist())
    assert top_positions(np.zeros(n), k).size == 0
    assert top_positions(np.ones(n), 0).size == 0


WORDS = [
    "注塑", "模具", "银纹", "气泡", "缩痕", "随形冷却", "模温机", "干燥", "工艺参数优化", "响应面法", "废水",
    "化学需氧量", "cod", "印染", "臭氧", "催化", "氧化", "脱色", "冷却", "周期", "水路", "外壳", "浇口", "保压",
]  # fmt: skip


def random_corpus(analyzer, rng, size):
    records = []
    for n in range(size):
        pick = lambda count: [WORDS[i] for i in rng.integers(0, len(WORDS), size=count)]  # noqa: E731
        records.append(
            Record(
                id=1000 + n,
                title_terms=pick(int(rng.integers(1, 4))),
                body_terms=pick(int(rng.integers(0, 12))),
                field=["advanced_manufacturing", "environment", ""][n % 3],
                region=["330100", "330200", "440300"][n % 3],
                modes=frozenset([["transfer", "joint_development"][n % 2]]),
                maturity=["lab", "industrialised"][n % 2],
            )
        )
    return records


def test_query_products_are_the_sparse_products_floats(analyzer, monkeypatch):
    rng = np.random.default_rng(5)
    corpus = Corpus(random_corpus(analyzer, rng, 3000), analyzer)
    # Each of the product's ways: columns copied out (short), column by column (long), scipy's own product
    # (a scipy without the kernels).
    ways = {
        "copied": (10**9, engine.csr_row_index),
        "by column": (0, engine.csr_row_index),
        "scipy": (0, None),
    }
    for long_columns, kernel in ways.values():
        monkeypatch.setattr(Corpus, "LONG_COLUMNS", long_columns)
        monkeypatch.setattr(engine, "csr_row_index", kernel)
        for _ in range(30):
            cols = rng.choice(len(corpus.terms), size=int(rng.integers(1, len(corpus.terms))), replace=False)
            values = (rng.random(cols.size) * 3).astype(np.float32)
            plain = np.asarray(corpus.matrix[:, cols] @ values, dtype=np.float32).ravel()
            got = corpus._product(cols, values)
            assert got.dtype == np.float32
            assert got.tolist() == plain.tolist()


def reference_rank(corpus, query, limit, exclude=()):
    """``Corpus.rank`` written the plain way: products over every column, full sorts, no shortcut."""
    weights = corpus.query_weights(query)
    cols, values = corpus.query_columns(weights)
    scores = np.asarray(corpus.matrix[:, cols] @ values, dtype=np.float64).ravel()
    found = full_sort_top(scores, corpus.FEEDBACK_POOL)
    if found.size == 0:
        return []
    top = found[:FEEDBACK_DOCS]
    share = (scores[top] / scores[top[0]]).astype(np.float32)
    rows = corpus.rows[top]
    words, inverse = np.unique(rows.indices, return_inverse=True)
    mass = np.bincount(inverse, weights=rows.data * np.repeat(share, np.diff(rows.indptr)))
    keep = ~corpus.is_concept[words] & ~np.isin(words, cols)
    words, mass = words[keep], mass[keep]
    if words.size:
        chosen = np.lexsort((words, -mass))[:FEEDBACK_TERMS]
        extra_weights = (FEEDBACK_WEIGHT * mass[chosen] / mass[chosen].max()).astype(np.float32)
        added = np.asarray(corpus.matrix[:, words[chosen]] @ extra_weights, dtype=np.float32).ravel()
        scores[found] += added[found].astype(np.float64)
    for record_id in exclude:
        scores[corpus.position[record_id]] = 0.0
    pool = full_sort_top(scores, max(limit * 4, 50))
    final = np.round(
        scores[pool] / scores[pool].max() * (1 + corpus.bonuses(query, pool)) / (1 + sum(BONUS.values())), 6
    )
    ids = corpus.ids[pool]
    order = np.lexsort((ids, -final))[:limit]
    return list(zip(ids[order].tolist(), final[order].tolist(), strict=True))


def test_ranking_with_its_shortcuts_gives_the_plain_computations_ranking(analyzer, monkeypatch):
    rng = np.random.default_rng(7)
    corpus = Corpus(random_corpus(analyzer, rng, 3000), analyzer)
    queries = random_corpus(analyzer, rng, 60)
    shortcuts = 0
    # A small feedback pool: the pool's top decides most rankings; each way of computing the products.
    for pool, long_columns, kernel in (
        (1000, 4096, engine.csr_row_index),
        (60, 10**9, engine.csr_row_index),
        (12, 4096, None),
        (60, 0, engine.csr_row_index),
    ):
        monkeypatch.setattr(Corpus, "FEEDBACK_POOL", pool)
        monkeypatch.setattr(Corpus, "LONG_COLUMNS", long_columns)
        monkeypatch.setattr(engine, "csr_row_index", kernel)
        for query in queries:
            for limit in (3, 20):
                got = [(m.id, m.score) for m in corpus.rank(query, limit=limit, explain=False)]
                assert got == reference_rank(corpus, query, limit)
                assert len(got) == limit
            # Excluding the best 55 leaves a pool of 60 too few: the ranking falls back to all documents.
            exclude = {m.id for m in corpus.rank(query, limit=55, explain=False)}
            got = [(m.id, m.score) for m in corpus.rank(query, limit=20, explain=False, exclude=exclude)]
            assert got == reference_rank(corpus, query, 20, exclude)
            assert len(got) == 20
            assert not exclude & {record_id for record_id, _ in got}
            shortcuts += corpus._scores(corpus.query_weights(query))[1].size == pool
    assert shortcuts > 0  # the pool's shortcut was taken, not only the full selection


def reference_explanation(corpus, query, position):
    """One document's explanation the plain way: its words and concepts against the query's, by sets."""
    weights = corpus.query_weights(query)
    row = set(corpus.rows.indices[corpus.rows.indptr[position] : corpus.rows.indptr[position + 1]].tolist())
    words = [t for t in weights if not t.startswith("§") and corpus.vocabulary.get(t) in row]
    shared = sorted(words, key=lambda t: -corpus.idf[corpus.vocabulary[t]])  # stable: query order on ties
    query_terms = set(query.title_terms) | set(query.body_terms)
    bridges = []
    for term in weights:
        col = corpus.vocabulary.get(term)
        if not term.startswith("§") or col not in row:
            continue
        key = term[1:]
        ours = sorted(t for t in query_terms if key in {c.key for c in analyzer_concepts(corpus, t)})
        theirs = sorted(corpus.terms[c] for c in corpus._concept_members[col].tolist() if c in row)
        new = [t for t in theirs if t not in ours]
        if ours and new and len(bridges) < 4:
            bridges.append({"concept": key, "query_terms": ours[:4], "match_terms": new[:4]})
    return shared, bridges


def analyzer_concepts(corpus, term):
    return corpus.analyzer.concepts_of.get(term, ())


def test_explanations_computed_together_are_each_documents_own(analyzer):
    rng = np.random.default_rng(11)
    corpus = Corpus(random_corpus(analyzer, rng, 400), analyzer)
    bridged = cut = 0
    queries = random_corpus(analyzer, rng, 30)
    for query in queries[:10]:  # long queries, which share more than eight words with some documents
        query.body_terms = [WORDS[i] for i in rng.integers(0, len(WORDS), size=60)]
    for query in queries:
        matches = corpus.rank(query, limit=15)
        assert matches
        for match in matches:
            shared, bridges = reference_explanation(corpus, query, corpus.position[match.id])
            assert match.explanation["shared_terms"] == shared[:8]  # the eight strongest
            assert match.explanation["bridges"] == bridges
            bridged += bool(bridges)
            cut += len(shared) > 8
    assert bridged > 0
    assert cut > 0  # documents sharing more than eight words were explained too
