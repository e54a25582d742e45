"""Per-query top-k selection with faiss' C++ heaps, kept in trec_eval's tie order.

Why faiss: numpy has no streaming top-k, and selecting with ``argpartition`` and masks costs several passes
over every score block in one thread (about 40 % of an exact search's time beside a multithreaded GEMM).
faiss' ``float_minheap_array_t`` keeps the k largest (score, id) pairs per query in one pass, in parallel over
queries (OpenMP): the same selection ``IndexFlatIP`` uses.

Why the order is still trec_eval's (score high first, then document id in *descending* string order): the
heap takes a newcomer only when it beats the k-th score *strictly*, and among equal scores it evicts the
smallest id first. Fed with ids = tie ranks (a document's position in ascending id order) in *descending*
rank order, a document that ties with the k-th score arrives after every tied document of larger rank, so
refusing it is trec_eval's choice, and evicting the smallest rank is too. The set kept is then exactly
trec_eval's top-k; ``result`` sorts it by (score, rank). Because the heaps keep the k best of whatever they are
offered (in that order), a block may be offered only its candidates (``add_filtered``): each query's scores at
or above a threshold that k of them reach, found from group maxima in a few vectorised passes. Callers
(``study.search.streaming``, ``study.search.flat``) feed documents in that order; ``tests/test_streaming.py``
checks heavy ties against a full sort.
"""

from __future__ import annotations

import faiss
import numpy as np

from study.search.ranking import key_ranks, key_scores, score_keys

FILTER_FROM = 8  # add_filtered pre-selects candidates in blocks of at least this many times k documents
FILTER_GROUPS_PER_K = 4  # ... from the maxima of this many times k groups of scores per query


class TopKHeap:
    """The k best (score, rank) pairs per query so far; documents must arrive in descending rank order."""

    def __init__(self, n_queries: int, k: int) -> None:
        self.k = k
        self.n_queries = n_queries
        # empty heaps, as faiss' heapify() leaves them, filled here: its OpenMP start costs milliseconds
        self.values = np.full((n_queries, k), -np.inf, dtype=np.float32)
        self.ranks = np.full((n_queries, k), -1, dtype=np.int64)
        heaps = faiss.float_minheap_array_t()  # a min-heap of the k largest values (faiss' keep_max)
        heaps.k, heaps.nh = k, n_queries
        heaps.val, heaps.ids = faiss.swig_ptr(self.values), faiss.swig_ptr(self.ranks)
        self._heaps = heaps

    def add(self, scores: np.ndarray, ranks: np.ndarray) -> None:
        """Offer every document of a block: ``scores`` (queries × documents, C-contiguous float32) of documents
        with ``ranks`` (one per column, descending, all below the ranks offered before)."""
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        ranks = np.ascontiguousarray(ranks, dtype=np.int64)
        self._heaps.addn_with_ids(scores.shape[1], faiss.swig_ptr(scores), faiss.swig_ptr(ranks), 0, 0,
                                  self.n_queries)

    def add_filtered(self, scores: np.ndarray, ranks: np.ndarray, spare_bytes: int) -> None:
        """``add``, offering the heaps only each query's documents that score at least a threshold no document
        below which can be kept: the same heaps, in a fraction of the time (the heaps see every document of a
        block; here they see about 1.2 k per query).

        The threshold of a query is the k-th largest of the maxima of ``FILTER_GROUPS_PER_K`` · k disjoint
        groups of its scores (so at least k documents of the block score at least that much), raised to the
        k-th best score already kept. A document below it cannot be among the k best, and the heaps keep the k
        best of whatever they are offered in descending rank order (the module's note): offering the others in
        the same order leaves exactly the same pairs. Falls back to ``add`` when the block is small (under
        ``FILTER_FROM`` · k documents) or the candidates would need more than ``spare_bytes`` (e.g. heavy
        ties: every tied score is a candidate)."""
        n_q, n = scores.shape
        groups = FILTER_GROUPS_PER_K * self.k
        per_group = n // groups if groups else 0
        if n < FILTER_FROM * self.k or per_group < 2 or n_q == 0 or 8 * n_q * groups + n_q * n > spare_bytes:
            self.add(scores, ranks)
            return
        maxima = scores[:, : groups * per_group].reshape(n_q, per_group, groups).max(axis=1)
        threshold = np.partition(maxima, groups - self.k, axis=1)[:, groups - self.k]
        del maxima
        if not np.isfinite(threshold).all():  # NaN or inf scores: no filtering
            self.add(scores, ranks)
            return
        np.maximum(threshold, self.values.min(axis=1), out=threshold)  # -inf while a heap is not full
        chosen = scores >= threshold[:, None]
        total = int(np.count_nonzero(chosen))
        if n_q * n + 48 * total > spare_bytes:
            del chosen
            self.add(scores, ranks)
            return
        flat = np.flatnonzero(chosen)  # query by query, documents in block (descending rank) order
        del chosen
        rows = flat // n
        cols = flat - rows * n
        del flat
        counts = np.bincount(rows, minlength=n_q)
        width = int(counts.max())
        if 48 * total + 12 * n_q * width > spare_bytes:  # one query with many tied candidates
            del rows, cols
            self.add(scores, ranks)
            return
        slots = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        values = np.full((n_q, width), -np.inf, dtype=np.float32)  # -inf: never enters a heap (strictly greater)
        values[rows, slots] = scores[rows, cols]
        kept_ranks = np.full((n_q, width), -1, dtype=np.int64)
        kept_ranks[rows, slots] = np.asarray(ranks)[cols]
        del rows, cols, slots
        self.add_candidates(values, kept_ranks)

    def add_rows(self, rows: slice, scores: np.ndarray, ranks: np.ndarray) -> None:
        """``add`` for the queries ``rows`` only (``scores`` has one row per query of the slice)."""
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        ranks = np.ascontiguousarray(ranks, dtype=np.int64)
        start, stop, _ = rows.indices(self.n_queries)
        self._heaps.addn_with_ids(scores.shape[1], faiss.swig_ptr(scores), faiss.swig_ptr(ranks), 0, start,
                                  stop - start)

    def add_candidates(self, scores: np.ndarray, ranks: np.ndarray) -> None:
        """Offer per-query candidates of a block: ``scores`` and ``ranks`` both (queries × c), each row's
        ranks descending and all below the ranks offered before."""
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        ranks = np.ascontiguousarray(ranks, dtype=np.int64)
        self._heaps.addn_with_ids(scores.shape[1], faiss.swig_ptr(scores), faiss.swig_ptr(ranks),
                                  scores.shape[1], 0, self.n_queries)

    def result(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores) per query in trec_eval order; ``order[rank]`` = document index."""
        keys = np.sort(score_keys(self.values, self.ranks), axis=1)[:, ::-1]
        return order[key_ranks(keys)], key_scores(keys).copy()
