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
from functools import cache

import numpy as np
from scipy import sparse

try:  # the kernels of scipy's column slicing and sparse matrix–vector product, called directly (``_product``)
    from scipy.sparse._sparsetools import csc_matvec, csr_row_index
except ImportError:  # pragma: no cover - a scipy without them: its slicing product does the same sums
    csc_matvec = csr_row_index = None

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


class QueryWeights(dict):
    """A query's terms → weights, in the order their scores are summed (``Corpus.query_weights``), with what
    the corpora derive from them once: ``concept_words`` (concept key → the query's words of it) and
    ``columns`` (corpus → ``query_columns``)."""

    __slots__ = ("concept_words", "columns")

    def __init__(self, *args):
        super().__init__(*args)
        self.concept_words: dict[str, list[str]] = {}
        self.columns: dict = {}


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
        self.owner_by_id = {r.id: r.owner_id for r in self.records}
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
        # ``_product``'s kernels take one integer type for both (scipy gives them one; the kernels refuse two).
        self.matrix.indices = self.matrix.indices.astype(self.matrix.indptr.dtype, copy=False)
        self.terms = list(self.vocabulary)  # column → term (dicts keep insertion order, columns are in it)
        self.is_concept = np.zeros(width, dtype=bool)
        self.is_concept[words:] = True
        # Scratch array, all -1 between calls: a column's slot in a query.
        self._query_slot = np.full(width, -1, dtype=np.int32)
        self._word_concept_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # term → (concept pseudo-term, concept key, query weight) for each concept the term belongs to
        self._concept_links: dict[str, tuple[tuple[str, str, float], ...]] = {
            term: tuple((CONCEPT_PREFIX + c.key, c.key, CONCEPT_WEIGHT.get(c.kind, 0.5)) for c in concepts)
            for term, concepts in self.analyzer.concepts_of.items()
        }
        self._index_agreement()

    BLOCK = 20_000

    def __getstate__(self) -> dict:
        # A corpus saved for other processes (``matching._save_shared``): without its analyzer (a
        # dictionary the loading process has), which the loader attaches.
        return {**self.__dict__, "analyzer": None}

    def _term_counts(self, records: Iterable[Record]) -> sparse.csr_matrix:
        """The documents' word counts, built in blocks of documents: the words of a block become column
        numbers through the vocabulary (a C-level ``map``; only new words go through Python), and scipy sums
        the repeated (document, word) entries when the block turns into CSR."""
        vocabulary = self.vocabulary
        lookup = vocabulary.get
        # cols: a block's column numbers, document after document, title words first; parts: each document's
        # count of title words and of body words.
        blocks, cols, parts = [], [], array("q")
        part_weights = np.array([TITLE_WEIGHT, 1.0], dtype=np.float32)

        def number_new_words(terms) -> None:
            """Number the words of ``terms`` the vocabulary lacks, in the order they first occur."""
            new = set(terms).difference(vocabulary)  # in C, over the document's distinct words
            if len(new) > 16:
                for term in terms:
                    if term not in vocabulary:
                        vocabulary[term] = len(vocabulary)
            else:
                for term in sorted(new, key=terms.index):
                    vocabulary[term] = len(vocabulary)

        def column_numbers(terms) -> list[int]:
            found = list(map(lookup, terms))
            if None in found:
                number_new_words(terms)
                found = list(map(lookup, terms))
            return found

        def flush():
            counts = np.frombuffer(parts, dtype=np.int64).copy()  # parts is emptied below
            documents = counts.size // 2
            rows = np.repeat(np.arange(documents, dtype=np.int32), counts[0::2] + counts[1::2])
            weights = np.repeat(np.tile(part_weights, documents), counts)
            block = sparse.coo_matrix(
                (weights, (rows, np.array(cols, dtype=np.int32))), shape=(documents, len(vocabulary))
            ).tocsr()
            block.sum_duplicates()
            blocks.append(block)
            del cols[:], parts[:]

        for record in records:
            title, body = record.title_terms, record.body_terms
            cols += column_numbers(title)
            cols += column_numbers(body)
            parts.append(len(title))
            parts.append(len(body))
            # The matrix keeps the document's terms from here on (explanations read them back from its row).
            record.title_terms = record.body_terms = ()
            self.records.append(record)
            if len(parts) == 2 * self.BLOCK:
                flush()
        if parts or not blocks:
            flush()
        width = len(vocabulary)
        # Earlier blocks were built when the vocabulary was smaller: the same arrays, the final width.
        blocks = [sparse.csr_matrix((b.data, b.indices, b.indptr), shape=(b.shape[0], width)) for b in blocks]
        return sparse.vstack(blocks, format="csr", dtype=np.float32)

    def query_weights(self, query: Record) -> QueryWeights:
        """Each query word once (saturated by log of its count), each concept at its kind's weight; with the
        query's words of each concept, which its explanations show."""
        counts: Counter = Counter()
        for term in query.title_terms:
            counts[term] += TITLE_WEIGHT
        counts.update(query.body_terms)  # counted in C: a listing's body is hundreds of words
        weights = QueryWeights({term: 1.0 + math.log(tf) if tf > 1 else 1.0 for term, tf in counts.items()})
        links, ours = self._concept_links, {}
        for term in counts:
            for key, concept_key, weight in links.get(term, ()):
                # A concept's first word places it (the order of summation); its strongest kind weighs it.
                if weights.get(key, 0.0) < weight:
                    weights[key] = weight
                ours.setdefault(concept_key, set()).add(term)
        weights.concept_words = {key: sorted(terms) for key, terms in ours.items()}
        return weights

    def query_columns(self, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """The columns of the query's terms that occur in the corpus and their weights, in ``weights``' order
        (the order in which their scores are summed). Kept with the ``weights`` (never changed once made) for
        each corpus, since ranking and explaining a query both ask for them."""
        kept = getattr(weights, "columns", None)
        if kept is not None and self in kept:
            return kept[self]
        found = list(map(self.vocabulary.get, weights))
        present = [i for i, col in enumerate(found) if col is not None]
        values = list(weights.values())
        columns = (
            np.array([found[i] for i in present], dtype=np.int64),
            np.array([values[i] for i in present], dtype=np.float32),
        )
        if kept is not None:
            kept[self] = columns
        return columns

    def lexical_scores(
        self, query: Record, weights: dict[str, float] | None = None
    ) -> tuple[np.ndarray, dict[str, float]]:
        weights = weights if weights is not None else self.query_weights(query)
        scores, _ = self._scores(weights)
        return scores, weights

    def _scores(self, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Every document's lexical score for the query, feedback included, and the documents the feedback
        re-scored (see ``_feedback``)."""
        cols, values = self.query_columns(weights)
        if not cols.size:
            return np.zeros(len(self.records), dtype=np.float64), np.zeros(0, dtype=np.int64)
        return (scores := self._product(cols, values).astype(np.float64)), self._feedback(scores, cols)

    # Columns this long on average are summed one by one in place (a demand's query reads 800,000 entries of
    # the listings: copying them out first costs more than the calls saved); shorter ones are copied into one
    # small matrix and summed in one call.
    LONG_COLUMNS = 4096

    def _product(self, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``matrix[:, cols] @ values``: float32 products summed in float32 column by column in ``cols``' order,
        whichever way it is computed. The kernels scipy's slice and product would run, called directly: their
        checks and objects cost more than the sums of a listing's query (0.2 of 0.4 ms)."""
        matrix = self.matrix
        if csc_matvec is None or csr_row_index is None:
            return np.asarray(matrix[:, cols] @ values, dtype=np.float32).ravel()
        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
        cols = cols.astype(indptr.dtype, copy=False)
        starts = indptr[cols]
        lengths = indptr[cols + 1] - starts
        entries = int(lengths.sum())
        n = len(self.records)
        total = np.zeros(n, dtype=np.float32)
        if entries < self.LONG_COLUMNS * cols.size:
            span = np.zeros(cols.size + 1, dtype=indptr.dtype)
            np.cumsum(lengths, out=span[1:])
            sub_indices, sub_data = (
                np.empty(entries, dtype=indices.dtype),
                np.empty(entries, dtype=data.dtype),
            )
            csr_row_index(cols.size, cols, indptr, indices, data, sub_indices, sub_data)
            csc_matvec(n, cols.size, span, sub_indices, sub_data, values, total)
            return total
        span, weight = np.zeros(2, dtype=indptr.dtype), np.zeros(1, dtype=np.float32)
        for start, length, value in zip(starts.tolist(), lengths.tolist(), values.tolist(), strict=True):
            span[1], weight[0] = length, value
            csc_matvec(
                n, 1, span, indices[start : start + length], data[start : start + length], weight, total
            )
        return total

    # Feedback re-scores only this many of the best documents: it moves documents by a fraction of a word's
    # weight, so one ranked below the first thousand cannot reach the top that is kept.
    FEEDBACK_POOL = 1000

    def _feedback(self, scores: np.ndarray, query_cols: np.ndarray) -> np.ndarray:
        """Add the feedback terms' scores, in place, to the best documents the query itself reached (never to
        one that shares nothing with the query: it could not be explained to the reader). Returns those
        documents' positions, sorted: the first ``FEEDBACK_POOL`` by their own score, equal scores by
        position (``top_positions``)."""
        found = np.sort(top_positions(scores, self.FEEDBACK_POOL))
        if found.size == 0 or FEEDBACK_DOCS <= 0:
            return found
        # The best documents first, equal scores by position (``found`` is in position order, so its order breaks
        # ties as positions do): the few picked first, then sorted.
        values = scores[found]
        best = top_positions(values, FEEDBACK_DOCS)
        top = found[best[np.lexsort((best, -values[best]))]]
        share = (scores[top] / scores[top[0]]).astype(np.float32)
        # The mass of each word over the top documents, from their rows alone (a few hundred entries).
        indptr, indices, data = self.rows.indptr, self.rows.indices, self.rows.data
        spans = [(indptr[p], indptr[p + 1]) for p in top.tolist()]
        sub_indices = np.concatenate([indices[a:b] for a, b in spans])
        sub_data = np.concatenate([data[a:b] for a, b in spans])
        cols, inverse = np.unique(sub_indices, return_inverse=True)
        mass = np.bincount(inverse, weights=sub_data * np.repeat(share, [b - a for a, b in spans]))
        slot = self._query_slot
        slot[query_cols] = 0
        try:
            keep = ~self.is_concept[cols] & (slot[cols] < 0)  # no concept, no word of the query
        finally:
            slot[query_cols] = -1
        cols, mass = cols[keep], mass[keep]
        count = min(FEEDBACK_TERMS, int(np.count_nonzero(mass)))
        if count:
            chosen = np.lexsort((cols, -mass))[:count]  # heaviest first; equal masses by column, reproducibly
            extra, extra_weights = cols[chosen], (FEEDBACK_WEIGHT * mass[chosen] / mass[chosen].max())
            # float32 sums added in float64: only the pool's converted
            scores[found] += self._product(extra, extra_weights.astype(np.float32))[found]
        return found

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

    def agreements(self, query: Record, positions: np.ndarray) -> dict[str, np.ndarray]:
        """``agreement(query, d)`` for the documents at ``positions``, vectorised: one array per factor."""

        def same(table: dict[str, int], column: np.ndarray, value: str) -> np.ndarray:
            if not value or value not in table:
                return np.zeros(positions.size, dtype=np.float64)
            return (column[positions] == table[value]).astype(np.float64)

        same_city = same(
            self._regions, self._region, query.region if not query.region.endswith("0000") else ""
        )
        fits = [_modes_fit(query.modes, modes) for modes in self._mode_sets] + [False]
        return {
            "same_field": same(self._fields, self._field, query.field),
            "same_sub_field": same(self._sub_fields, self._sub_field, query.sub_field),
            "same_city": same_city,
            "same_province": same(self._provinces, self._province, query.province) * (1.0 - same_city),
            # -1 (no modes) picks the last False
            "mode_fits": np.array(fits, dtype=np.float64)[self._mode_set[positions]],
            "maturity_fits": (self._ready[positions] | (query.maturity in READY_MATURITY)).astype(np.float64),
            "track_record": self._track[positions],
        }

    def bonuses(self, query: Record, positions: np.ndarray) -> np.ndarray:
        """``sum(BONUS[f] * agreement(query, d)[f])`` for the documents at ``positions``, vectorised."""
        factors = self.agreements(query, positions)
        # Summed in ``agreement``'s order, so that the floating-point result is the same as its scalar sum.
        total = BONUS["same_field"] * factors["same_field"]
        for name in (
            "same_sub_field",
            "same_city",
            "same_province",
            "mode_fits",
            "maturity_fits",
            "track_record",
        ):
            total = total + BONUS[name] * factors[name]
        return total

    def rank(
        self,
        query: Record,
        *,
        limit: int,
        exclude: set[int] | None = None,
        explain: bool = True,
        weights: dict[str, float] | None = None,
    ) -> list[Match]:
        """The best ``limit`` documents for ``query``; each with its explanation unless ``explain`` is False
        (a caller that keeps only some of them explains those with ``explain_matches``). ``weights``: the
        query's ``query_weights``, when the caller has them already."""
        weights = weights if weights is not None else self.query_weights(query)
        scores, found = self._scores(weights)
        if exclude:
            for record_id in exclude:
                if record_id in self.position:
                    scores[self.position[record_id]] = 0.0
        # Bonuses never lift a document by more than their sum, so the lexical top (limit × 4) holds the final top.
        size = max(limit * 4, 50)
        # The feedback's documents come first in the order of all documents — by score, then position — since
        # their scores only grew and every other document's is at most the least of theirs at a later position:
        # the top of all documents is theirs, unless exclusions leave them too few.
        top = found[top_positions(scores[found], size)]
        if top.size < size and found.size == self.FEEDBACK_POOL:
            top = top_positions(scores, size)
        if top.size == 0:
            return []
        best = scores[top].max()
        ceiling = 1 + sum(BONUS.values())
        final = np.round((scores[top] / best) * (1 + self.bonuses(query, top)) / ceiling, 6)
        ids = self.ids[top]
        order = np.lexsort((ids, -final))[:limit]  # best first, equal scores by id
        matches = [
            Match(record_id, value)
            for record_id, value in zip(ids[order].tolist(), final[order].tolist(), strict=True)
        ]
        if explain:
            self.explain_matches(query, matches, weights)
        return matches

    def explain_matches(
        self, query: Record, matches: list[Match], weights: dict[str, float] | None = None
    ) -> list[Match]:
        """Fill the ``explanation`` of those of ``matches`` that have none; returns ``matches``.

        Each explanation gives the shared words (strongest first, ties in the query's order), the concepts that
        bridged different words and the factors. A rebuild explains millions of matches, so the rows of all the
        documents to explain are intersected with the query's columns at once, by array operations; Python
        only assembles the few words and concepts found."""
        todo = list({id(m): m for m in matches if not m.explanation}.values())  # each match once
        if not todo:
            return matches
        weights = weights if weights is not None else self.query_weights(query)
        word_cols, concept_cols, ours_by_concept = self._explain_context(query, weights)
        positions = [self.position[m.id] for m in todo]
        indptr, indices = self.rows.indptr, self.rows.indices
        spans = [(indptr[p], indptr[p + 1]) for p in positions]
        entries = np.concatenate([indices[a:b] for a, b in spans])
        owner = np.repeat(np.arange(len(todo)), [b - a for a, b in spans])
        # The query's columns numbered: its words by strength (idf, strongest first, equal idf in the query's
        # order), then its concepts in the query's order; -1 elsewhere. A document's shared words and concepts
        # then come out of one sort of (document, number).
        words, width = word_cols.size, word_cols.size + concept_cols.size
        by_strength = np.lexsort((np.arange(words), -self.idf[word_cols]))
        if self._query_slot.size != len(self.terms):
            self._query_slot = np.full(len(self.terms), -1, dtype=np.int32)
        slot = self._query_slot
        slot[word_cols[by_strength]] = np.arange(words, dtype=np.int32)
        slot[concept_cols] = np.arange(words, width, dtype=np.int32)
        try:
            at = slot[entries]
            # A bridge joins one of the query's concepts to a word of the document that the query lacks (the
            # query's own words of a concept are its side of the bridge): (document, concept, word) for each
            # such word, from the words that belong to some concept.
            concepts_indptr, concepts_indices, in_concept = self._word_concepts()
            candidate = in_concept[entries] & (at < 0)
            member, member_owner = entries[candidate], owner[candidate]
            links = concepts_indptr[member + 1] - concepts_indptr[member]
            linked = np.repeat(np.arange(member.size), links)
            offsets = np.arange(linked.size) - np.repeat(np.cumsum(links) - links, links)
            concept = concepts_indices[concepts_indptr[member[linked]] + offsets]
            bridging = slot[concept] >= 0
            bridge_words = zip(
                member_owner[linked[bridging]].tolist(),
                concept[bridging].tolist(),
                member[linked[bridging]].tolist(),
                strict=True,
            )
        finally:
            slot[word_cols] = -1
            slot[concept_cols] = -1
        members: dict[tuple[int, int], list[str]] = {}
        for doc, col, word in bridge_words:
            members.setdefault((doc, col), []).append(self.terms[word])
        hit = at >= 0
        keys = np.sort(owner[hit] * width + at[hit])
        doc, at = np.divmod(keys, width)
        is_word = at < words
        # Each document's eight strongest shared words.
        word_doc = doc[is_word]
        kept = np.arange(word_doc.size) - np.searchsorted(word_doc, word_doc) < 8
        shared_cols = word_cols[by_strength][at[is_word][kept]].tolist()
        shared_bounds = np.cumsum(np.bincount(word_doc[kept], minlength=len(todo))).tolist()
        concept_cols_of = concept_cols[at[~is_word] - words].tolist()
        concept_bounds = np.cumsum(np.bincount(doc[~is_word], minlength=len(todo))).tolist()
        factors = {
            name: values.tolist() for name, values in self.agreements(query, np.array(positions)).items()
        }
        terms, shared_from, concepts_from = self.terms, 0, 0
        for n, match in enumerate(todo):
            shared = list(map(terms.__getitem__, shared_cols[shared_from : shared_bounds[n]]))
            shared_from = shared_bounds[n]
            bridges = []
            for concept_col in concept_cols_of[concepts_from : concept_bounds[n]]:
                new = members.get((n, concept_col))
                if not new:
                    continue
                concept_key = terms[concept_col][len(CONCEPT_PREFIX) :]
                ours = ours_by_concept.get(concept_key)
                if ours:
                    new.sort()
                    bridges.append({"concept": concept_key, "query_terms": ours[:4], "match_terms": new[:4]})
                    if len(bridges) == 4:
                        break
            concepts_from = concept_bounds[n]
            match.explanation = {
                "shared_terms": shared,
                "bridges": bridges,
                "same_field": bool(factors["same_field"][n]),
                "same_sub_field": bool(factors["same_sub_field"][n]),
                "region": "same_city"
                if factors["same_city"][n]
                else "same_province"
                if factors["same_province"][n]
                else "other",
                "mode_fits": bool(factors["mode_fits"][n]),
                "maturity_fits": bool(factors["maturity_fits"][n]),
                "track_record": round(factors["track_record"][n], 3),
            }
        return matches

    def _word_concepts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column → the concept columns its word belongs to, as CSR arrays over the whole vocabulary, and
        whether it belongs to any (built on first use from the concepts' members)."""
        if self._word_concept_arrays is None:
            width = len(self.terms)
            pairs = sorted(
                (int(word), concept)
                for concept, words in self._concept_members.items()
                for word in words.tolist()
            )
            words = np.array([w for w, _ in pairs], dtype=np.int64)
            indptr = np.zeros(width + 1, dtype=np.int64)
            np.cumsum(np.bincount(words, minlength=width), out=indptr[1:])
            self._word_concept_arrays = (
                indptr,
                np.array([c for _, c in pairs], dtype=np.int64),
                np.diff(indptr) > 0,
            )
        return self._word_concept_arrays

    def _explain_context(self, query: Record, weights: dict[str, float]) -> tuple:
        """What every explanation for one query shares: the columns of its words and of its concepts (in weight
        order), and which of its words belong to each concept."""
        cols, _ = self.query_columns(weights)
        concepts = self.is_concept[cols]
        ours = getattr(weights, "concept_words", None)
        if ours is None:  # weights made by hand
            ours = self.query_weights(query).concept_words
        return cols[~concepts], cols[concepts], ours


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest positive ``scores`` (all the positive ones when fewer), equal scores at
    the boundary going to the lower positions: the set that a full sort by (score descending, position) keeps,
    found without partitioning the whole array when it is large. Unordered."""
    n = scores.size
    candidates = None
    if k > 0 and n > 32 * k:
        # A threshold from a strided sample of about 4k scores that about 2k scores reach (the 41st of the
        # sample's for 1,000 of 200,000); too few reach it: the slow way.
        step = n // (4 * k)
        sample = scores[::step]
        rank = min(sample.size, 2 * k // step + 1)
        threshold = np.partition(sample, sample.size - rank)[sample.size - rank]
        if threshold > 0:
            candidates = np.flatnonzero(scores >= threshold)
            if candidates.size < k:
                candidates = None
    if candidates is None:
        candidates = np.flatnonzero(scores > 0)
    if k <= 0:
        return candidates[:0]
    if candidates.size <= k:
        return candidates
    values = scores[candidates]
    kth = np.partition(values, candidates.size - k)[candidates.size - k]  # the k-th highest score
    above = candidates[values > kth]
    return np.concatenate([above, candidates[values == kth][: k - above.size]])


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


@cache  # a few dozen distinct pairs, asked for every candidate of every query
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
