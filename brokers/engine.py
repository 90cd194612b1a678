"""The ranking core of the matching engine (SPEC §6), free of Django: records in, ranked matches out.

A ``Corpus`` holds the documents of one kind (listings, or demands, or experts) as a sparse matrix of BM25
term weights — words and, as pseudo-terms, the concepts of the related-term table — so that scoring one query
against 200,000 documents is a sparse matrix–vector product. The final score multiplies the lexical relevance
(relative to the best document for the query) by small bonuses for agreement on field, sub-field, region,
cooperation mode and maturity; every factor is kept for the explanation a user reads.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from brokers.text import Analyzer

# BM25: the usual constants; titles count double (a title states the subject, a summary elaborates).
K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.0
# A concept shared through the related-term table counts for less than the same word (whose query weight is
# about 1.7, a whole word being counted twice): a synonym about 0.7 of it, a problem ↔ approach relation about
# half.
CONCEPT_WEIGHT = {"syn": 1.2, "rel": 0.8}
CONCEPT_PREFIX = "§"
# Pseudo-relevance feedback: the words the best few documents share are added to the query at a low weight,
# which reaches relevant documents that use the best documents' words rather than the query's
# (bench/matching_eval: nDCG@10 +0.01 to +0.02, recall@20 +0.01).
FEEDBACK_DOCS = 5
FEEDBACK_TERMS = 20
FEEDBACK_WEIGHT = 0.3

# Multiplicative bonuses on the relative lexical score. Kept small: a third of the good matches in real
# markets cross fields (a coating from materials science for a machining wear problem).
BONUS = {
    "same_field": 0.12,
    "same_sub_field": 0.06,
    "same_city": 0.04,
    "same_province": 0.03,
    "mode_fits": 0.03,
    "maturity_fits": 0.02,
    "track_record": 0.05,
}
# Demands' cooperation modes against listings' transfer modes: which ones can serve which.
MODE_FITS = {
    "transfer": {"transfer", "exclusive_license", "non_exclusive_license"},
    "license": {"exclusive_license", "non_exclusive_license"},
    "development": {"joint_development", "equity"},
    "joint": {"joint_development", "equity"},
    "consulting": {"joint_development", "transfer", "exclusive_license", "non_exclusive_license", "equity"},
    "service": {"joint_development", "transfer", "exclusive_license", "non_exclusive_license", "equity"},
}
READY_MATURITY = {"small_batch", "industrialised"}


@dataclass
class Record:
    """What the engine knows of a demand, listing or expert."""

    id: int
    title_terms: list[str]
    body_terms: list[str]
    field: str = ""
    sub_field: str = ""
    region: str = ""  # GB/T 2260 code; the province is its first two digits
    modes: frozenset[str] = frozenset()  # demand: its cooperation mode; listing: its transfer modes
    maturity: str = ""
    owner_id: int | None = None
    track_record: float = 0.0  # 0..1: share of the owner's past proposals that were awarded, for instance

    @property
    def province(self) -> str:
        return self.region[:2] if self.region else ""


@dataclass
class Match:
    id: int
    score: float
    explanation: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict, repr=False, compare=False)


class Corpus:
    """The documents of one kind, indexed for BM25 with concept pseudo-terms."""

    def __init__(self, records: list[Record], analyzer: Analyzer):
        self.analyzer = analyzer
        self.records = records
        self.ids = np.array([r.id for r in records], dtype=np.int64)
        self.position = {r.id: i for i, r in enumerate(records)}
        self.vocabulary: dict[str, int] = {}
        # Built row by row straight into CSR form with 4-byte typed arrays: 200,000 listings hold ~50 million
        # (document, term) entries, which as Python ints and floats, or as 8-byte COO triplets, would take
        # several GB at the peak of the build.
        indptr, cols, tfs = array("q", [0]), array("i"), array("f")
        lengths = np.zeros(len(records), dtype=np.float32)
        vocabulary = self.vocabulary
        for i, record in enumerate(records):
            counts = self.weighted_counts(record)
            # The matrix keeps the document's terms from here on (explanations read them back from its row).
            record.title_terms = record.body_terms = ()
            lengths[i] = sum(v for k, v in counts.items() if not k.startswith(CONCEPT_PREFIX))
            for term, tf in counts.items():
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                tfs.append(tf)
            indptr.append(len(cols))
        n, width = len(records), len(vocabulary)
        indptr_a = np.frombuffer(indptr, dtype=np.int64) if n else np.zeros(1, dtype=np.int64)
        cols_a = np.frombuffer(cols, dtype=np.int32) if cols else np.zeros(0, dtype=np.int32)
        weights = np.frombuffer(tfs, dtype=np.float32).copy() if tfs else np.zeros(0, dtype=np.float32)
        del tfs
        df = np.bincount(cols_a, minlength=width).astype(np.float64)
        self.idf = np.log(1 + (max(n, 1) - df + 0.5) / (df + 0.5))
        average = float(lengths.mean()) if n else 1.0
        # BM25 in place over the nonzeros: w = idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · len / avg)).
        norm = np.repeat(K1 * (1 - B + B * lengths / max(average, 1e-9)), np.diff(indptr_a)).astype(
            np.float32
        )
        norm += weights
        weights *= K1 + 1
        weights /= norm
        del norm
        weights *= self.idf.astype(np.float32)[cols_a]
        # Documents' own terms (rows), for the feedback step and the explanations; terms' documents (columns),
        # for scoring a query.
        self.rows = sparse.csr_matrix(
            (weights, cols_a.copy(), indptr_a.astype(np.int32 if len(cols) < 2**31 else np.int64)),
            shape=(n, width),
        )
        del cols, indptr, weights, cols_a
        self.matrix = self.rows.tocsc()
        self.terms = list(vocabulary)  # column → term (dicts keep insertion order, columns are in it)
        self.is_concept = np.zeros(width, dtype=bool)
        self.is_concept[[col for term, col in vocabulary.items() if term.startswith(CONCEPT_PREFIX)]] = True

    def weighted_counts(self, record: Record) -> Counter:
        counts: Counter = Counter()
        for term in record.title_terms:
            counts[term] += TITLE_WEIGHT
        for term in record.body_terms:
            counts[term] += 1.0
        concepts: Counter = Counter()
        for term, tf in list(counts.items()):
            for concept in self.analyzer.concepts_of.get(term, ()):
                concepts[CONCEPT_PREFIX + concept.key] += tf
        counts.update(concepts)
        return counts

    def query_weights(self, query: Record) -> dict[str, float]:
        """Each query word once (saturated by log of its count), each concept at its kind's weight."""
        counts: Counter = Counter()
        for term in query.title_terms:
            counts[term] += TITLE_WEIGHT
        for term in query.body_terms:
            counts[term] += 1.0
        weights = {term: 1.0 + math.log(tf) if tf > 1 else 1.0 for term, tf in counts.items()}
        for term in counts:
            for concept in self.analyzer.concepts_of.get(term, ()):
                key = CONCEPT_PREFIX + concept.key
                weights[key] = max(weights.get(key, 0.0), CONCEPT_WEIGHT.get(concept.kind, 0.5))
        return weights

    def lexical_scores(self, query: Record) -> tuple[np.ndarray, dict[str, float]]:
        weights = self.query_weights(query)
        cols, values = [], []
        for term, weight in weights.items():
            col = self.vocabulary.get(term)
            if col is not None:
                cols.append(col)
                values.append(weight)
        if not cols:
            return np.zeros(len(self.records), dtype=np.float64), weights
        scores = np.asarray(
            self.matrix[:, cols] @ np.array(values, dtype=np.float32), dtype=np.float64
        ).ravel()
        # Feedback re-ranks the documents the query itself reached; it never brings in one that shares nothing
        # with the query, which could not be explained to the reader.
        return np.where(scores > 0, scores + self._feedback(scores, cols), 0.0), weights

    def _feedback(self, scores: np.ndarray, query_cols: list[int]) -> np.ndarray:
        found = np.flatnonzero(scores > 0)
        if FEEDBACK_DOCS <= 0 or found.size == 0:
            return 0.0
        top = found[np.argsort(-scores[found])[:FEEDBACK_DOCS]]
        share = (scores[top] / scores[top[0]]).astype(np.float32)
        mass = np.asarray(self.rows[top].T @ share).ravel()
        mass[query_cols] = 0.0
        mass[self.is_concept] = 0.0
        count = min(FEEDBACK_TERMS, int(np.count_nonzero(mass)))
        if count == 0:
            return 0.0
        extra = np.argpartition(-mass, count - 1)[:count]
        extra_weights = (FEEDBACK_WEIGHT * mass[extra] / mass[extra].max()).astype(np.float32)
        return np.asarray(self.matrix[:, extra] @ extra_weights, dtype=np.float64).ravel()

    def rank(
        self, query: Record, *, limit: int, exclude: set[int] | None = None, explain: bool = True
    ) -> list[Match]:
        """The best ``limit`` documents for ``query``; each with its explanation unless ``explain`` is False
        (a caller that keeps only some of them explains those with ``explain_match``)."""
        scores, weights = self.lexical_scores(query)
        if exclude:
            for record_id in exclude:
                if record_id in self.position:
                    scores[self.position[record_id]] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if candidates.size == 0:
            return []
        # Bonuses never lift a document by more than their sum, so the lexical top (limit × 4) holds the final top.
        pool = min(candidates.size, max(limit * 4, 50))
        top = candidates[np.argpartition(-scores[candidates], pool - 1)[:pool]]
        best = scores[top].max()
        ceiling = 1 + sum(BONUS.values())
        matches = []
        for i in top:
            record = self.records[i]
            factors = agreement(query, record)
            bonus = sum(BONUS[name] * value for name, value in factors.items())
            relative = scores[i] / best
            matches.append(
                Match(id=record.id, score=round(float(relative * (1 + bonus)) / ceiling, 6), factors=factors)
            )
        matches.sort(key=lambda m: (-m.score, m.id))
        matches = matches[:limit]
        if explain:
            for match in matches:
                self.explain_match(query, match, weights)
        return matches

    def explain_match(self, query: Record, match: Match, weights: dict[str, float] | None = None) -> Match:
        """Fill ``match.explanation`` (once)."""
        if not match.explanation:
            weights = weights if weights is not None else self.query_weights(query)
            match.explanation = self.explain(query, self.position[match.id], weights, match.factors)
        return match

    def explain(self, query: Record, position: int, weights: dict[str, float], factors: dict) -> dict:
        """The shared words (strongest first), the concepts that bridged different words, and the factors."""
        row = self.rows.indices[self.rows.indptr[position] : self.rows.indptr[position + 1]]
        document_terms = {self.terms[col] for col in row if not self.is_concept[col]}
        shared = [t for t in weights if not t.startswith(CONCEPT_PREFIX) and t in document_terms]
        shared.sort(key=lambda t: -self.idf[self.vocabulary[t]] if t in self.vocabulary else 0.0)
        query_terms = set(query.title_terms) | set(query.body_terms)
        bridges = []
        for key in weights:
            if not key.startswith(CONCEPT_PREFIX):
                continue
            concept_key = key[len(CONCEPT_PREFIX) :]
            ours = sorted(
                {t for t in query_terms for c in self.analyzer.concepts_of.get(t, ()) if c.key == concept_key}
            )
            theirs = sorted(
                {
                    t
                    for t in document_terms
                    for c in self.analyzer.concepts_of.get(t, ())
                    if c.key == concept_key
                }
            )
            new = [t for t in theirs if t not in ours]
            if ours and new:
                bridges.append({"concept": concept_key, "query_terms": ours[:4], "match_terms": new[:4]})
        return {
            "shared_terms": shared[:8],
            "bridges": bridges[:4],
            "same_field": bool(factors.get("same_field")),
            "same_sub_field": bool(factors.get("same_sub_field")),
            "region": "same_city"
            if factors.get("same_city")
            else "same_province"
            if factors.get("same_province")
            else "other",
            "mode_fits": bool(factors.get("mode_fits")),
            "maturity_fits": bool(factors.get("maturity_fits")),
            "track_record": round(float(factors.get("track_record", 0.0)), 3),
        }


def agreement(query: Record, record: Record) -> dict[str, float]:
    """0/1 factors (track record 0..1) of how well ``record`` fits ``query`` beyond the words."""
    same_city = bool(query.region and query.region == record.region and not query.region.endswith("0000"))
    factors = {
        "same_field": float(bool(query.field) and query.field == record.field),
        "same_sub_field": float(bool(query.sub_field) and query.sub_field == record.sub_field),
        "same_city": float(same_city),
        "same_province": float(not same_city and bool(query.province) and query.province == record.province),
        "mode_fits": float(_modes_fit(query.modes, record.modes)),
        "maturity_fits": float(record.maturity in READY_MATURITY or query.maturity in READY_MATURITY),
        "track_record": min(max(record.track_record, 0.0), 1.0),
    }
    return factors


def _modes_fit(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    for mode in a:
        if MODE_FITS.get(mode, set()) & b:
            return True
    for mode in b:
        if MODE_FITS.get(mode, set()) & a:
            return True
    return bool(a & b)
