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
from collections.abc import Iterable
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


@dataclass(slots=True)
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


class Corpus:
    """The documents of one kind, indexed for BM25 with concept pseudo-terms."""

    def __init__(self, records: Iterable[Record], analyzer: Analyzer):
        """``records``: any iterable, consumed once — a generator keeps only one record's term lists alive at a
        time (200,000 listings' terms as Python lists of strings would take several GB)."""
        self.analyzer = analyzer
        self.records: list[Record] = []
        self.vocabulary: dict[str, int] = {}
        counts = self._term_counts(records)  # documents × words, title words counted TITLE_WEIGHT times
        n, words = counts.shape
        self.ids = np.array([r.id for r in self.records], dtype=np.int64)
        self.position = {r.id: i for i, r in enumerate(self.records)}
        lengths = np.asarray(counts.sum(axis=1), dtype=np.float32).ravel()
        # Concepts as pseudo-terms: a document's count of a concept is the sum of its counts of the concept's
        # terms — one sparse product with the (words × concepts) membership matrix.
        concept_keys = list(dict.fromkeys(c.key for c in self.analyzer.concepts))
        concept_col = {key: j for j, key in enumerate(concept_keys)}
        member_rows, member_cols = [], []
        for term, concepts in self.analyzer.concepts_of.items():
            col = self.vocabulary.get(term)
            if col is not None:
                for concept in concepts:
                    member_rows.append(col)
                    member_cols.append(concept_col[concept.key])
        membership = sparse.csr_matrix(
            (np.ones(len(member_rows), dtype=np.float32), (member_rows, member_cols)),
            shape=(words, len(concept_keys)),
        )
        concept_counts = (counts @ membership).tocsc()
        used = np.flatnonzero(np.diff(concept_counts.indptr))  # concepts that occur in some document
        concept_counts = concept_counts[:, used]
        members = membership.tocsc()
        # concept column → the columns of its words, for the explanations' bridges
        self._concept_members: dict[int, np.ndarray] = {}
        for offset, j in enumerate(used.tolist()):
            self.vocabulary[CONCEPT_PREFIX + concept_keys[j]] = words + offset
            self._concept_members[words + offset] = members.indices[members.indptr[j] : members.indptr[j + 1]]
        tf = sparse.hstack([counts, concept_counts], format="csr", dtype=np.float32)
        del counts, concept_counts
        tf.sum_duplicates()
        width = tf.shape[1]
        df = np.bincount(tf.indices, minlength=width).astype(np.float64)
        self.idf = np.log(1 + (max(n, 1) - df + 0.5) / (df + 0.5))
        average = float(lengths.mean()) if n else 1.0
        # BM25 in place over the nonzeros: w = idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · len / avg)).
        weights = tf.data
        norm = np.repeat(K1 * (1 - B + B * lengths / max(average, 1e-9)), np.diff(tf.indptr)).astype(
            np.float32
        )
        norm += weights
        weights *= K1 + 1
        weights /= norm
        del norm
        weights *= self.idf.astype(np.float32)[tf.indices]
        # Documents' own terms (rows), for the feedback step and the explanations; terms' documents (columns),
        # for scoring a query.
        self.rows = tf
        self.matrix = tf.tocsc()
        self.terms = list(self.vocabulary)  # column → term (dicts keep insertion order, columns are in it)
        self.is_concept = np.zeros(width, dtype=bool)
        self.is_concept[words:] = True
        self._index_agreement()

    BLOCK = 20_000

    def _term_counts(self, records: Iterable[Record]) -> sparse.csr_matrix:
        """The documents' word counts, built in blocks of documents: the words of a block become column
        numbers through the vocabulary (a C-level ``map``; only new words go through Python), and scipy sums
        the repeated (document, word) entries when the block turns into CSR."""
        vocabulary = self.vocabulary
        lookup = vocabulary.get
        blocks, cols, weights, lengths = [], array("i"), array("f"), array("q")
        title_weight, body_weight = array("f", [TITLE_WEIGHT]), array("f", [1.0])

        def column_numbers(terms) -> list[int]:
            found = list(map(lookup, terms))
            if None in found:
                found = [vocabulary.setdefault(term, len(vocabulary)) for term in terms]
            return found

        def flush():
            rows = np.repeat(np.arange(len(lengths), dtype=np.int32), np.frombuffer(lengths, dtype=np.int64))
            block = sparse.coo_matrix(
                (np.frombuffer(weights, dtype=np.float32), (rows, np.frombuffer(cols, dtype=np.int32))),
                shape=(len(lengths), len(vocabulary)),
            ).tocsr()
            block.sum_duplicates()
            blocks.append(block)
            del cols[:], weights[:], lengths[:]

        for record in records:
            title, body = record.title_terms, record.body_terms
            cols.extend(column_numbers(title))
            cols.extend(column_numbers(body))
            weights.extend(title_weight * len(title))
            weights.extend(body_weight * len(body))
            lengths.append(len(title) + len(body))
            # The matrix keeps the document's terms from here on (explanations read them back from its row).
            record.title_terms = record.body_terms = ()
            self.records.append(record)
            if len(lengths) == self.BLOCK:
                flush()
        if lengths or not blocks:
            flush()
        width = len(vocabulary)
        # Earlier blocks were built when the vocabulary was smaller: the same arrays, the final width.
        blocks = [sparse.csr_matrix((b.data, b.indices, b.indptr), shape=(b.shape[0], width)) for b in blocks]
        return sparse.vstack(blocks, format="csr", dtype=np.float32)

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
        self._feedback(scores, cols)
        return scores, weights

    # Feedback re-scores only this many of the best documents: it moves documents by a fraction of a word's
    # weight, so one ranked below the first thousand cannot reach the top that is kept.
    FEEDBACK_POOL = 1000

    def _feedback(self, scores: np.ndarray, query_cols: list[int]) -> None:
        """Add the feedback terms' scores, in place, to the best documents the query itself reached (never to
        one that shares nothing with the query: it could not be explained to the reader)."""
        found = np.flatnonzero(scores > 0)
        if FEEDBACK_DOCS <= 0 or found.size == 0:
            return
        if found.size > self.FEEDBACK_POOL:
            found = found[np.argpartition(-scores[found], self.FEEDBACK_POOL - 1)[: self.FEEDBACK_POOL]]
        top = found[np.argsort(-scores[found], kind="stable")[:FEEDBACK_DOCS]]
        share = (scores[top] / scores[top[0]]).astype(np.float32)
        # The mass of each word over the top documents, from their rows alone (a few hundred entries).
        sub = self.rows[top]
        cols, inverse = np.unique(sub.indices, return_inverse=True)
        mass = np.bincount(inverse, weights=sub.data * np.repeat(share, np.diff(sub.indptr)))
        keep = ~self.is_concept[cols] & ~np.isin(cols, query_cols)
        cols, mass = cols[keep], mass[keep]
        count = min(FEEDBACK_TERMS, int(np.count_nonzero(mass)))
        if count == 0:
            return
        chosen = np.lexsort((cols, -mass))[:count]  # heaviest first; equal masses by column, reproducibly
        extra, extra_weights = cols[chosen], (FEEDBACK_WEIGHT * mass[chosen] / mass[chosen].max())
        extra_weights = extra_weights.astype(np.float32)
        # The cheaper of two equal sums: down the extra terms' columns, or across the pool's rows.
        if int(np.diff(self.matrix.indptr)[extra].sum()) < found.size * (
            self.rows.nnz / max(len(self.records), 1)
        ):
            added = np.asarray(self.matrix[:, extra] @ extra_weights, dtype=np.float64).ravel()[found]
        else:
            added = np.asarray(self.rows[found][:, extra] @ extra_weights, dtype=np.float64).ravel()
        scores[found] += added

    def _index_agreement(self) -> None:
        """Per-document arrays of what ``agreement`` compares, so that a query's bonuses for its whole pool of
        candidates are a few vector operations instead of a Python call per candidate."""
        records = self.records

        def codes(values: list[str]) -> tuple[dict[str, int], np.ndarray]:
            table: dict[str, int] = {}
            return table, np.array(
                [table.setdefault(v, len(table)) if v else -1 for v in values], dtype=np.int32
            )

        self._fields, self._field = codes([r.field for r in records])
        self._sub_fields, self._sub_field = codes([r.sub_field for r in records])
        self._regions, self._region = codes([r.region for r in records])
        self._provinces, self._province = codes([r.province for r in records])
        self._mode_sets, self._mode_set = codes([r.modes for r in records])
        self._ready = np.array([r.maturity in READY_MATURITY for r in records], dtype=bool)
        self._track = np.array([min(max(r.track_record, 0.0), 1.0) for r in records], dtype=np.float64)

    def bonuses(self, query: Record, positions: np.ndarray) -> np.ndarray:
        """``sum(BONUS[f] * agreement(query, d)[f])`` for the documents at ``positions``, vectorised."""

        def same(table: dict[str, int], column: np.ndarray, value: str) -> np.ndarray:
            if not value or value not in table:
                return np.zeros(positions.size, dtype=np.float64)
            return (column[positions] == table[value]).astype(np.float64)

        same_city = same(
            self._regions, self._region, query.region if not query.region.endswith("0000") else ""
        )
        same_province = same(self._provinces, self._province, query.province) * (1.0 - same_city)
        fits = [_modes_fit(query.modes, modes) for modes in self._mode_sets] + [False]
        mode_fits = np.array(fits, dtype=np.float64)[
            self._mode_set[positions]
        ]  # -1: no modes, the last False
        ready = (self._ready[positions] | (query.maturity in READY_MATURITY)).astype(np.float64)
        # Summed in ``agreement``'s order, so that the floating-point result is the same as its scalar sum.
        total = BONUS["same_field"] * same(self._fields, self._field, query.field)
        total = total + BONUS["same_sub_field"] * same(self._sub_fields, self._sub_field, query.sub_field)
        total = total + BONUS["same_city"] * same_city
        total = total + BONUS["same_province"] * same_province
        total = total + BONUS["mode_fits"] * mode_fits
        total = total + BONUS["maturity_fits"] * ready
        return total + BONUS["track_record"] * self._track[positions]

    def rank(
        self, query: Record, *, limit: int, exclude: set[int] | None = None, explain: bool = True
    ) -> list[Match]:
        """The best ``limit`` documents for ``query``; each with its explanation unless ``explain`` is False
        (a caller that keeps only some of them explains those with ``explain_matches``)."""
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
        final = np.round((scores[top] / best) * (1 + self.bonuses(query, top)) / ceiling, 6)
        ids = self.ids[top]
        order = np.lexsort((ids, -final))[:limit]  # best first, equal scores by id
        matches = [
            Match(id=record_id, score=value)
            for record_id, value in zip(ids[order].tolist(), final[order].tolist(), strict=True)
        ]
        if explain:
            self.explain_matches(query, matches, weights)
        return matches

    def explain_matches(
        self, query: Record, matches: list[Match], weights: dict[str, float] | None = None
    ) -> list[Match]:
        """Fill the ``explanation`` of those of ``matches`` that have none; returns ``matches``."""
        todo = [m for m in matches if not m.explanation]
        if todo:
            context = self._explain_context(
                query, weights if weights is not None else self.query_weights(query)
            )
            for match in todo:
                match.explanation = self._explain(query, self.position[match.id], context)
        return matches

    def _explain_context(self, query: Record, weights: dict[str, float]) -> tuple:
        """What every explanation for one query shares: the columns of its words and of its concepts (in weight
        order), which of its words belong to each concept, and a scratch mask of the vocabulary."""
        word_cols, concept_cols = [], []
        for term in weights:
            col = self.vocabulary.get(term)
            if col is not None:
                (concept_cols if term.startswith(CONCEPT_PREFIX) else word_cols).append(col)
        ours: dict[str, set[str]] = {}
        for term in set(query.title_terms) | set(query.body_terms):
            for concept in self.analyzer.concepts_of.get(term, ()):
                ours.setdefault(concept.key, set()).add(term)
        return (
            np.array(word_cols, dtype=np.int64),
            np.array(concept_cols, dtype=np.int64),
            {key: sorted(terms) for key, terms in ours.items()},
            np.zeros(len(self.vocabulary), dtype=bool),
        )

    def _explain(self, query: Record, position: int, context: tuple) -> dict:
        """The shared words (strongest first, ties in the query's order), the concepts that bridged different
        words, and the factors. Set operations on column numbers: a rebuild explains millions of matches."""
        word_cols, concept_cols, ours_by_concept, in_document = context
        row = self.rows.indices[self.rows.indptr[position] : self.rows.indptr[position + 1]]
        in_document[row] = True
        try:
            shared = word_cols[in_document[word_cols]]
            shared = shared[np.argsort(-self.idf[shared], kind="stable")[:8]]
            bridges = []
            for col in concept_cols[in_document[concept_cols]].tolist():
                concept_key = self.terms[col][len(CONCEPT_PREFIX) :]
                ours = ours_by_concept.get(concept_key, [])
                members = self._concept_members[col]
                theirs = sorted(self.terms[c] for c in members[in_document[members]].tolist())
                new = [t for t in theirs if t not in ours]
                if ours and new:
                    bridges.append({"concept": concept_key, "query_terms": ours[:4], "match_terms": new[:4]})
                    if len(bridges) == 4:
                        break
        finally:
            in_document[row] = False
        shared = [self.terms[c] for c in shared.tolist()]
        factors = agreement(query, self.records[position])
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
